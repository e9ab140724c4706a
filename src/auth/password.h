/* password.h — account passwords: the policy a new password must meet, argon2id hashing and
 * verification that takes the same time whether or not the account exists. Layer: auth
 * (includes base/ only). Passwords are NUL-terminated UTF-8; nothing here logs, keeps or
 * returns a password, and buffers that held one are wiped. All functions are thread-safe;
 * sifa_password_set_cost is meant to be called once before other threads start. Hashes are
 * libsodium's crypto_pwhash_str strings ("$argon2id$v=19$m=…,t=…,p=1$salt$hash"), at most
 * SIFA_PASSWORD_HASH_MAX - 1 bytes.
 *
 * Error codes: password_too_short, password_too_long, password_encoding, password_trivial,
 * password_common, password_contains_name (all SIFA_EINVALID); password_hash_failed
 * (SIFA_EINTERNAL: out of memory for argon2's work area, or libsodium failed to initialise). */
#ifndef SIFA_AUTH_PASSWORD_H
#define SIFA_AUTH_PASSWORD_H

#include "base/common.h"

#define SIFA_PASSWORD_MIN_CHARS 10  /* UTF-8 characters, not bytes */
#define SIFA_PASSWORD_MAX_BYTES 128 /* bytes; argon2 would take more, the form does not need it */
#define SIFA_PASSWORD_HASH_MAX 128  /* == crypto_pwhash_STRBYTES, checked in password.c */

/* Checks a proposed new password against the policy, in this order, and reports the first
 * failure in err (may be NULL):
 *   password_too_long       more than SIFA_PASSWORD_MAX_BYTES bytes (checked first: nothing
 *                           longer is scanned);
 *   password_too_short      fewer than SIFA_PASSWORD_MIN_CHARS characters;
 *   password_encoding       not valid UTF-8 (or contains control characters);
 *   password_trivial        one character repeated, a short unit repeated ("1212121212",
 *                           "abcabcabca"), or a run along the alphabet, the digits or a
 *                           keyboard row, forwards or backwards ("1234567890", "abcdefghij",
 *                           "qwertyuiop", "0987654321");
 *   password_common         in the list of common passwords (ASCII case-insensitive);
 *   password_contains_name  contains user_name (ASCII case-insensitive) when user_name has at
 *                           least 3 characters.
 * password must not be NULL; user_name may be NULL (no name check). Returns 0 or SIFA_EINVALID.
 * Messages never repeat the password. */
int sifa_password_check_policy(const char *password, const char *user_name, struct sifa_error *err);

/* Hashes password (NUL-terminated, at most SIFA_PASSWORD_MAX_BYTES bytes; the policy is not
 * checked here) with argon2id and a fresh random salt at the cost set by sifa_password_set_cost,
 * writing the NUL-terminated hash string to ret_hash on success. Returns 0,
 * SIFA_EINVALID (password_too_long) or SIFA_EINTERNAL (password_hash_failed). Takes about
 * 0.1 s and 64 MiB at the default cost. */
int sifa_password_hash(const char *password, char ret_hash[SIFA_PASSWORD_HASH_MAX], struct sifa_error *err);

/* Returns 0 when password matches stored_hash_or_null and SIFA_EDENIED otherwise. When
 * stored_hash_or_null is NULL (the account does not exist) or not an argon2id hash (a locked
 * account's placeholder), the password is still verified against a fixed dummy hash computed once
 * per cost setting, so the time taken does not reveal whether the account exists. password must
 * not be NULL. */
int sifa_password_verify(const char *stored_hash_or_null, const char *password);

/* True when hash was made with other parameters than the current cost (or is not a valid hash),
 * so the caller should store a new hash after the next successful login. hash must not be NULL. */
bool sifa_password_needs_rehash(const char *hash);

/* FOR TESTS ONLY. minimal = true switches hashing to crypto_pwhash_OPSLIMIT_MIN/MEMLIMIT_MIN so a
 * test suite can hash hundreds of times; false restores the default (OPSLIMIT_INTERACTIVE,
 * MEMLIMIT_INTERACTIVE). A server must never call it with true: such hashes are cheap to crack.
 * Call before other threads use this module. */
void sifa_password_set_cost(bool minimal);

/* ---- common_passwords.c ---- */

/* True when password, with ASCII letters lowercased, is in the common-password list. Passwords
 * longer than SIFA_PASSWORD_MAX_BYTES are never in it. password must not be NULL. */
bool sifa_password_is_common(const char *password);

/* The list itself (sorted, lowercase, each at least 10 bytes), borrowed and immutable; the count
 * goes to *ret_count. For tests. */
const char *const *sifa_password_common_list(size_t *ret_count);

#endif
