/* personal.h — personal data at rest and on screen: the key file, authenticated encryption of
 * field values, blind indexes for exact-match search over encrypted values, and masking for
 * roles that may not see personal data. Layer: auth (includes base/ only).
 *
 * Key file: a text file of mode 0600 (anything readable by group or others is refused), at most
 * SIFA_KEYRING_MAX_FILE bytes, one entry a line; empty lines and lines starting with '#' are
 * ignored, fields are separated by spaces or tabs, "\r\n" line ends are accepted:
 *     index <base64 of 32 bytes>      blind-index key, exactly one, never rotated
 *     audit <base64 of 32 bytes>      audit-chain MAC key, exactly one, never rotated
 *     key <id> <base64 of 32 bytes>   data keys, ids 1, 2, 3… strictly increasing; the last is
 *                                     the current key, older ones only decrypt
 * Old keys may be deleted once nothing is encrypted under them: `sifa key reencrypt` moves every
 * stored value to the current key, `sifa key retire` counts and then removes
 * (sifa_keyring_retire_file).
 * In memory the keys live in one sodium_malloc block (guard pages, mlock, read-only after loading)
 * that is wiped by sifa_keyring_free. A loaded keyring is immutable: every function taking a
 * const keyring is thread-safe.
 *
 * Encrypted text: "pd1:<id>:<base64url without padding of nonce (24 bytes) || ciphertext>", XChaCha20-
 * Poly1305 (IETF) under key <id> with the additional data "pd1:<id>", so a value cannot be moved to
 * another key id or format version unnoticed. Encryption is randomised: equal values give different
 * texts, which is why searching needs the blind index.
 *
 * Error codes: key_exists (SIFA_ECONFLICT), key_file_missing (SIFA_ENOTFOUND), key_permissions,
 * key_file_syntax (SIFA_EINVALID; details {"line": n} when a line is at fault),
 * key_file_too_large (SIFA_ELIMIT), key_file_io (SIFA_EINTERNAL), key_not_found (SIFA_ENOTFOUND),
 * key_current (SIFA_ECONFLICT), personal_too_long (SIFA_ELIMIT),
 * personal_corrupt (SIFA_EINVALID), personal_unknown_key (SIFA_ENOTFOUND), crypto_init
 * (SIFA_EINTERNAL). Messages never contain key material or personal data. */
#ifndef SIFA_AUTH_PERSONAL_H
#define SIFA_AUTH_PERSONAL_H

#include "base/common.h"

#define SIFA_KEY_BYTES 32
#define SIFA_KEYRING_MAX_FILE (64 * 1024)
#define SIFA_KEYRING_MAX_KEYS 1000
#define SIFA_PERSONAL_MAX_PLAIN (1024 * 1024) /* bytes of one value */
#define SIFA_PERSONAL_PREFIX "pd1:"
#define SIFA_BLIND_INDEX_HEX 33 /* 32 hex digits and the NUL */

struct sifa_keyring;

/* ---- key file ---- */

/* Creates a new key file at path (mode 0600, written and fsynced) with fresh random index, audit
 * and key 1 entries. Never overwrites: an existing path (even a dangling symlink) gives key_exists.
 * The parent directory must exist. Returns 0 or a negative status with err (may be NULL) filled. */
int sifa_keyring_create_file(const char *path, struct sifa_error *err);

/* Loads the key file at path into *ret (new; free with sifa_keyring_free). Refuses a file that is
 * not a regular file or is a symlink, readable or writable by group or others (key_permissions),
 * larger than SIFA_KEYRING_MAX_FILE (key_file_too_large), malformed (key_file_syntax with the
 * line number in the message and details), without exactly one index and one audit line, without
 * a key line, or with more than SIFA_KEYRING_MAX_KEYS keys. Returns 0 or a negative status. */
int sifa_keyring_load(const char *path, struct sifa_keyring **ret, struct sifa_error *err);

/* Appends a new random key with the next id to the key file, which becomes the current key for
 * processes that load the file afterwards; older keys stay. The file is replaced atomically
 * (temporary file in the same directory, fsync, rename, fsync of the directory), keeping its
 * other lines. Not safe against a concurrent rotation of the same file (an administrator's
 * command, run once). Returns the new key id (> 0) or a negative status. */
int sifa_keyring_rotate_file(const char *path, struct sifa_error *err);

/* Removes the data keys ids[0..nids) from the key file, keeping every other line as it was; the
 * file is replaced atomically as by sifa_keyring_rotate_file. Refuses (and changes nothing) when
 * an id is not in the file (key_not_found, SIFA_ENOTFOUND) or is the current key (key_current,
 * SIFA_ECONFLICT). It does not look at the data: the caller must first make sure nothing is
 * encrypted under those keys any more (sifa key retire counts the values by key id), or that data
 * is lost. Backups made before still need the old key file. Returns nids or a negative status. */
int sifa_keyring_retire_file(const char *path, const int *ids, size_t nids, struct sifa_error *err);

/* Wipes and frees a keyring. Accepts NULL. */
void sifa_keyring_free(struct sifa_keyring *kr);

/* The audit-chain MAC key: SIFA_KEY_BYTES bytes, borrowed until sifa_keyring_free, read-only. */
const unsigned char *sifa_keyring_audit_key(const struct sifa_keyring *kr);

/* The id of the current (newest) data key. */
int sifa_keyring_current_id(const struct sifa_keyring *kr);

/* The ids of the data keys, oldest first (the last is the current key): their number, and
 * *ret_ids borrowed until sifa_keyring_free. */
size_t sifa_keyring_key_ids(const struct sifa_keyring *kr, const int **ret_ids);

/* ---- encryption of values ---- */

/* Encrypts len bytes at plain (may contain NULs; may be NULL when len is 0) under the current key
 * into *ret_text (new NUL-terminated string, free with free()). Returns 0, SIFA_ELIMIT
 * (personal_too_long: len > SIFA_PERSONAL_MAX_PLAIN) or SIFA_EINTERNAL (crypto_init). */
int sifa_personal_encrypt(const struct sifa_keyring *kr, const char *plain, size_t len, char **ret_text,
                          struct sifa_error *err);

/* Decrypts text (NUL-terminated, not NULL) made by sifa_personal_encrypt into *ret_plain (new,
 * NUL-terminated after *ret_len bytes; free with free()) and *ret_len (may be NULL). Returns 0,
 * SIFA_EINVALID (personal_corrupt: not in the format, altered, or under another key file) or
 * SIFA_ENOTFOUND (personal_unknown_key: the key id is not in this keyring). */
int sifa_personal_decrypt(const struct sifa_keyring *kr, const char *text, char **ret_plain, size_t *ret_len,
                          struct sifa_error *err);

/* True when text (may be NULL) starts like an encrypted value: "pd1:", a key id, ':'. Says nothing
 * about whether it decrypts. */
bool sifa_personal_is_encrypted(const char *text);

/* The key id of an encrypted value, or -1 when text (may be NULL) is not one. */
int sifa_personal_key_id(const char *text);

/* Decrypts text with whichever key it names and encrypts the plaintext again under the current
 * key into *ret_text (new). Errors as for sifa_personal_decrypt and sifa_personal_encrypt.
 * Returns 1 when the key changed, 0 when text already used the current key (it still gets a new
 * nonce). */
int sifa_personal_reencrypt(const struct sifa_keyring *kr, const char *text, char **ret_text, struct sifa_error *err);

/* Writes to ret_hex the blind index of a value: the lowercase hex of keyed BLAKE2b-128 over
 * scope || 0x00 || value under the index key. scope ("module.field", NUL-terminated) keeps equal
 * values in different fields from correlating. value: len bytes, may be NULL when len is 0.
 * Deterministic for one key file, so callers must normalise values first (for example upper-case
 * the X of an identity number, trim spaces) exactly as they normalise the search term. */
void sifa_personal_blind_index(const struct sifa_keyring *kr, const char *scope, const char *value, size_t len,
                               char ret_hex[SIFA_BLIND_INDEX_HEX]);

/* ---- masking for display (mask.c) ----
 * Each function reads exactly len bytes at s (need not be NUL-terminated; may be NULL when len is
 * 0), counts characters as UTF-8 (a byte that does not start a valid sequence, or a NUL byte,
 * counts as one character and is written as '?' when kept), and writes a NUL-terminated, valid
 * UTF-8 result to out. Returns the result's length in bytes (without the NUL), or SIFA_ELIMIT when
 * out_size is too small, and then out holds "" when out_size > 0. Stateless, thread-safe. */

/* 18 characters: the first 6, eight '*', the last 4 ("330282********1234"); 15 characters: the
 * first 6, five '*', the last 4; any other length: the first character and a '*' for each other
 * character. */
int sifa_mask_id_number(const char *s, size_t len, char *out, size_t out_size);

/* The first character and a '*' for each other character ("张三" → "张*", "欧阳修" → "欧**");
 * a single character becomes "*". */
int sifa_mask_name(const char *s, size_t len, char *out, size_t out_size);

/* Exactly 11 ASCII digits: the first 3, "****", the last 4 ("138****8000"); otherwise a '*' for
 * each character but the last 4 ("0571-8888 1234" → "**********1234"); 4 characters or fewer
 * become all '*'. */
int sifa_mask_phone(const char *s, size_t len, char *out, size_t out_size);

/* Addresses and free text: the first 6 characters then "***" ("浙江省宁波市海曙区…" → "浙江省宁波市***").
 * Text of 6 characters or fewer keeps only its first half (rounded down) so a short value is never
 * shown whole ("吸毒" → "吸***"; "" → ""). The "***" also hides the length. */
int sifa_mask_text(const char *s, size_t len, char *out, size_t out_size);

#endif
