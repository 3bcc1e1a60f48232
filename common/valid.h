/* satoken: the name and field rules of DESIGN.md, checked in one place. */
#ifndef SATOKEN_VALID_H
#define SATOKEN_VALID_H

#include <stddef.h>

#define SAT_NAME_MAX		64	/* account and group names */
#define SAT_TOKEN_NAME_CHARS	128	/* characters, as DESIGN counts */
#define SAT_TOKEN_NAME_MAX	(4 * SAT_TOKEN_NAME_CHARS)	/* bytes */
#define SAT_DESCRIPTION_MAX	256
#define SAT_EXTERNAL_ID_MAX	128
#define SAT_SERVICE_MAX		64
#define SAT_PRINCIPAL_MAX	128
#define SAT_DAYS_VALID_MAX	730

/* Each returns 1 when s is acceptable, else 0. */

/* Account and group names: [a-z_][a-z0-9_.-]{0,63}. */
int valid_name(const char *s);
/* Token names: 1..128 characters of valid UTF-8 with no control
 * characters, not all white space. */
int valid_token_name(const char *s);
/* 1 if s holds something besides white space (space, U+00A0). */
int valid_not_blank(const char *s);
/* 1 if the n bytes at s are strict UTF-8 (controls allowed). */
int valid_utf8(const char *s, size_t n);
/* The length (1..4) of the one strict UTF-8 character at s, of the n
 * bytes there, or 0 if they do not start with one: no overlong forms,
 * no surrogates, nothing past U+10FFFF (jansson's rules too). */
size_t valid_utf8_seq(const char *s, size_t n);
/* Free text of at most max bytes: valid UTF-8, no control characters. */
int valid_text(const char *s, size_t max);
/* PAM/SASL service names: 1..64 of [A-Za-z0-9_.-]. */
int valid_service(const char *s);

/* 1 if the n bytes at s hold a token anywhere: "sat_", 50 base62
 * characters and a checksum that matches (so a typo or a word that
 * merely starts with sat_ is not one).  A value that is not the token
 * field must not hold one: it would be stored, listed and logged. */
int valid_holds_token(const char *s, size_t n);

#endif
