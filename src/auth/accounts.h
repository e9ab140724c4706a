/* accounts.h — org units, users, the roles they hold, sessions, API tokens and login throttling,
 * stored in the database so that several sifa servers share them. Layer: auth.
 * Writes must run inside a write transaction (the group-commit writer, or the CLI's own);
 * reads run on any connection. Secrets are never stored: sessions and tokens by their BLAKE2b
 * hash, passwords as argon2id strings. */
#ifndef SIFA_AUTH_ACCOUNTS_H
#define SIFA_AUTH_ACCOUNTS_H

#include "auth/roles.h"
#include "db/db.h"

#define SIFA_NAME_MAX 64
#define SIFA_PRINCIPAL_ROLES_MAX 16

/* ---- org units: a tree; path is "/<root>/…/<code>/" so a subtree is a path prefix ----
 * Division codes (GB/T 2260 for provinces, cities and counties; the statistical division codes
 * below county level) are optional and, when present, kept consistent with the tree:
 *   - 6 digits for a city or district, 9 for a town or street, 12 for a village or community
 *     (kind "other" may have any of the three; other kinds — bureau, departments, offices,
 *     committees, firms — none): bad_division_code, division_code_not_allowed (SIFA_EINVALID);
 *   - a unit's code starts with, and is longer than, the code of its nearest ancestor that has
 *     one: division_code_mismatch (SIFA_EINVALID, details {field, org, ancestor});
 *   - no two units share one: division_code_exists (SIFA_ECONFLICT, details {field, org}).
 * Both functions check these inside the caller's transaction after writing; on an error the
 * caller must roll back (every caller runs in a transaction or a writer savepoint). */
bool sifa_org_code_valid(const char *code);
bool sifa_org_kind_valid(const char *kind);
/* The shape only: 6, 9 or 12 ASCII digits, not starting with "00". code must not be NULL. */
bool sifa_org_division_code_valid(const char *division_code);
/* division_code may be NULL or "" (none). All strings borrowed. */
int sifa_org_create(struct sifa_db *db, const char *code, const char *name, const char *kind, const char *parent,
                    const char *division_code, const char *actor, struct sifa_error *err);
/* Renames (name != NULL), moves (parent != NULL; "" makes it a root) and/or sets the division code
 * (division_code != NULL; "" clears it) of a unit; a move rewrites the paths of the whole subtree.
 * Every change is kept in org_history ("rename", "move", "division"). A move or a new code is
 * checked against the whole subtree (see above). */
int sifa_org_update(struct sifa_db *db, const char *code, const char *name, const char *parent,
                    const char *division_code, const char *actor, struct sifa_error *err);
int sifa_org_list(struct sifa_db *db, json_t **ret_list, struct sifa_error *err);
/* One line of an org-unit import file (`sifa org import`): a JSON object {code, name, kind,
 * parent?, division?} of at most SIFA_ORG_IMPORT_LINE_MAX bytes (line ending excluded), created
 * like sifa_org_create, in a savepoint of its own: a refused line writes nothing. line need not be
 * NUL-terminated. A blank line is skipped (returns 1). Errors as sifa_org_create's, plus
 * SIFA_ELIMIT "line_too_long" and SIFA_EINVALID "bad_line". Must run inside a transaction. */
#define SIFA_ORG_IMPORT_LINE_MAX 4096
int sifa_org_import_line(struct sifa_db *db, const char *line, size_t len, const char *actor, struct sifa_error *err);
int sifa_org_history(struct sifa_db *db, const char *code, json_t **ret_list, struct sifa_error *err);

/* ---- users ---- */
bool sifa_user_name_valid(const char *name);
/* roles (borrowed strings) must exist in defs. password_hash may be NULL (no password login). */
int sifa_user_create(struct sifa_db *db, const struct sifa_roles *defs, const char *name, const char *display_name,
                     const char *org, const char *const *roles, size_t nroles, const char *password_hash,
                     bool must_change_password, struct sifa_error *err);
int sifa_user_set_roles(struct sifa_db *db, const struct sifa_roles *defs, const char *name,
                        const char *const *roles, size_t nroles, struct sifa_error *err);
int sifa_user_set_password(struct sifa_db *db, const char *name, const char *password_hash, bool must_change,
                           struct sifa_error *err);
int sifa_user_set_disabled(struct sifa_db *db, const char *name, bool disabled, struct sifa_error *err);
int sifa_user_set_profile(struct sifa_db *db, const char *name, const char *display_name, const char *org,
                          struct sifa_error *err);
/* For login: the stored hash (new, NULL when the account has no password) and state.
 * SIFA_ENOTFOUND when there is no such user. */
int sifa_user_auth_info(struct sifa_db *db, const char *name, char **ret_hash, bool *ret_disabled,
                        bool *ret_must_change, struct sifa_error *err);
int sifa_user_get(struct sifa_db *db, const char *name, json_t **ret_user, struct sifa_error *err);
int sifa_user_list(struct sifa_db *db, json_t **ret_list, struct sifa_error *err);

/* ---- the principal: who is acting, with what permissions and data scope ---- */
struct sifa_principal {
    char user[SIFA_NAME_MAX + 1];
    char display_name[128];
    char org[SIFA_NAME_MAX + 1];
    size_t nroles;
    const struct sifa_role *roles[SIFA_PRINCIPAL_ROLES_MAX]; /* borrowed from the role definitions */
    json_t *token_scopes; /* owned; NULL for sessions: an API token is limited to these permissions */
    bool via_token;
    bool must_change_password;
    char session_hash[65]; /* sessions only */
    char csrf[64];         /* sessions only */
    int64_t last_seen;     /* sessions only */
};
/* Loads user's org and roles (roles missing from defs are ignored, and logged by the caller).
 * SIFA_EDENIED "account_disabled" for a disabled account, SIFA_ENOTFOUND for none. */
int sifa_principal_load(struct sifa_db *db, const struct sifa_roles *defs, const char *user,
                        struct sifa_principal *ret, struct sifa_error *err);
void sifa_principal_release(struct sifa_principal *p);
bool sifa_principal_can(const struct sifa_principal *p, const char *permission);
bool sifa_principal_read_only(const struct sifa_principal *p);

/* ---- sessions (cookie) ---- */
struct sifa_session_limits {
    int64_t idle_seconds;     /* no request for this long ends a session */
    int64_t absolute_seconds; /* a session never lasts longer */
};
/* ret_token and ret_csrf receive new secrets (SIFA_TOKEN_TEXT bytes each). */
int sifa_session_create(struct sifa_db *db, const char *user, const char *address, const char *user_agent, int64_t now,
                        char *ret_token, char *ret_csrf, struct sifa_error *err);
/* Finds a live session by its token: SIFA_EDENIED "session_expired" when unknown, revoked, idle
 * or too old. Fills user, csrf, hash and last_seen of ret. */
int sifa_session_lookup(struct sifa_db *db, const char *token, int64_t now, const struct sifa_session_limits *limits,
                        struct sifa_principal *ret, struct sifa_error *err);
int sifa_session_touch(struct sifa_db *db, const char *session_hash, int64_t now, struct sifa_error *err);
int sifa_session_revoke(struct sifa_db *db, const char *session_hash_or_prefix, int64_t now, struct sifa_error *err);
int sifa_session_revoke_user(struct sifa_db *db, const char *user, int64_t now, struct sifa_error *err);
int sifa_session_list(struct sifa_db *db, int64_t now, const struct sifa_session_limits *limits, json_t **ret_list,
                      struct sifa_error *err);

/* ---- API tokens (Authorization: Bearer) ---- */
int sifa_api_token_create(struct sifa_db *db, const char *user, const char *name, json_t *scopes, int64_t now,
                          int64_t expires_at, char *ret_token, char ret_id[17], struct sifa_error *err);
/* Fills ret->user and ret->token_scopes (new); SIFA_EDENIED "token_invalid" when unknown, revoked
 * or expired. */
int sifa_api_token_lookup(struct sifa_db *db, const char *token, int64_t now, struct sifa_principal *ret,
                          struct sifa_error *err);
int sifa_api_token_revoke(struct sifa_db *db, const char *user_or_null, const char *id, int64_t now,
                          struct sifa_error *err);
/* Revokes every live API token of user (a password reset: whoever knew the old password may have
 * issued tokens with it). Writer connection. */
int sifa_api_token_revoke_user(struct sifa_db *db, const char *user, int64_t now, struct sifa_error *err);
int sifa_api_token_list(struct sifa_db *db, const char *user_or_null, json_t **ret_list, struct sifa_error *err);

/* ---- login throttling ---- */
int sifa_login_failures(struct sifa_db *db, const char *user, const char *address, int64_t since,
                        int64_t *ret_for_user, int64_t *ret_for_address, struct sifa_error *err);
int sifa_login_failure_add(struct sifa_db *db, const char *user, const char *address, int64_t now,
                           struct sifa_error *err);
int sifa_login_failures_clear(struct sifa_db *db, const char *user, struct sifa_error *err);

#endif
