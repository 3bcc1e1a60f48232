/* satoken: the token string and its keyed digest.
 *
 *   sat_ + id (12 base62) + secret (32 base62) + checksum (6 base62)
 *
 * The checksum is CRC-32 of the first 48 characters written as 6 base62
 * digits, most significant first, alphabet 0-9A-Za-z.  The store keeps
 * only HMAC-SHA256(key, token) under the per-database key. */
#ifndef SATOKEN_TOKEN_H
#define SATOKEN_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_PREFIX		"sat_"
#define TOKEN_PREFIX_LEN	4
#define TOKEN_ID_LEN		12
#define TOKEN_SECRET_LEN	32
#define TOKEN_CRC_LEN		6
#define TOKEN_LEN		54	/* 4 + 12 + 32 + 6 */
#define TOKEN_DIGEST_LEN	32	/* HMAC-SHA256 */
#define TOKEN_KEY_LEN		32	/* per-database HMAC key */

/* Fills ret (TOKEN_LEN + 1 bytes, NUL-terminated) with a new token whose
 * id and secret come from the kernel's CSPRNG.  The caller must wipe ret
 * when done (sat_wipe).  SAT_E_CRYPTO if the kernel gives no randomness. */
int token_generate(char ret[TOKEN_LEN + 1]);

/* Strictly checks the n bytes at s: length, prefix, alphabet, checksum,
 * before anything else looks at them.  On success copies the public id
 * into ret_id (NUL-terminated).  SAT_E_MALFORMED otherwise. */
int token_parse(const char *s, size_t n, char ret_id[TOKEN_ID_LEN + 1]);

/* 1 if the n bytes at s look like an id (12 base62), else 0. */
int token_id_valid(const char *s, size_t n);

/* HMAC-SHA256 of the TOKEN_LEN bytes at token under key, on one of a
 * few contexts the process keeps keyed with the last key (token.c). */
int token_digest(const uint8_t key[TOKEN_KEY_LEN], const char *token,
    uint8_t ret[TOKEN_DIGEST_LEN]);
/* Frees the keyed contexts, so the next digest sets one up afresh
 * (tests use it to drive the cold path). */
void token_digest_reset(void);

/* Constant-time comparison of two digests: 1 equal, 0 not. */
int token_digest_equal(const uint8_t a[TOKEN_DIGEST_LEN],
    const uint8_t b[TOKEN_DIGEST_LEN]);

/* Fills a new random HMAC key. */
int token_new_key(uint8_t ret[TOKEN_KEY_LEN]);

/* The 6-character base62 checksum of the first 48 characters of s. */
void token_checksum(const char *s, char ret[TOKEN_CRC_LEN]);

#endif
