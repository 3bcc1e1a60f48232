/* satoken SASL plugin: the wire formats, as pure functions over bytes.
 *
 * Nothing here knows libsasl2: each function takes the bytes a client
 * (or libsasl2) handed over and reads them through common/buf.c, so a
 * fuzzer can call them directly.  A parser either fills its result and
 * returns 0, or returns SAT_E_MALFORMED and leaves the result empty.
 *
 *   OAUTHBEARER (RFC 7628):
 *     gs2-header \x01 *(key "=" value \x01) \x01
 *     gs2-header = ("n" / "y") "," ["a=" saslname] ","
 *     the pair auth=Bearer <b64token> is required, once
 *   XOAUTH2:
 *     "user=" user \x01 "auth=Bearer " token \x01 \x01
 */
#ifndef SATOKEN_SASL_BEARER_H
#define SATOKEN_SASL_BEARER_H

#include <stddef.h>

#include "buf.h"

/* Longest client message accepted: a token is 54 bytes, so anything
 * near this size is not one of ours and is refused before parsing. */
#define BEARER_MSG_MAX		4096
/* Longest authorization identity (decoded) and XOAUTH2 user. */
#define BEARER_AUTHZID_MAX	255
/* Longest bearer token the client side will send. */
#define BEARER_TOKEN_MAX	1024
/* Longest address taken from SASL_IPREMOTEPORT (an IPv6 text with a
 * zone fits). */
#define BEARER_ADDR_MAX		63

struct bearer_msg {
	/* The bearer token: a view into the caller's message (borrowed;
	 * it holds a secret, the caller wipes its own buffer). */
	struct buf token;
	/* OAUTHBEARER: the decoded a= authzid; XOAUTH2: the user=.
	 * "" when none was sent. */
	char authzid[BEARER_AUTHZID_MAX + 1];
};

/* Parses an OAUTHBEARER initial client response (the n bytes at p). */
int bearer_parse_oauthbearer(const void *p, size_t n, struct bearer_msg *ret);

/* 1 if the n bytes at p are the lone \x01 an OAUTHBEARER client sends
 * after the server's error challenge, else 0. */
int bearer_is_ack(const void *p, size_t n);

/* Parses an XOAUTH2 client response. */
int bearer_parse_xoauth2(const void *p, size_t n, struct bearer_msg *ret);

/* Appends an OAUTHBEARER initial client response to out:
 *   "n," ["a=" authzid encoded] "," \x01 "auth=Bearer " token \x01 \x01
 * authzid may be NULL or "".  SAT_E_INVALID if the authzid holds a
 * control byte or is too long, or if the token is not a b64token;
 * SAT_E_NOMEM if out could not grow.  out holds the token: the caller
 * frees it with wbuf_free, which wipes. */
int bearer_build_oauthbearer(const char *authzid, const char *token,
    size_t token_len, struct wbuf *out);

/* Writes the error challenge {"status":"STATUS"} (with ,"schemes":"S"
 * when schemes is not NULL) into out, NUL-terminated.  Both values must
 * be 1..32 bytes of [A-Za-z0-9_-].  Returns the length, or
 * SAT_E_INVALID for a bad value or a short buffer. */
int bearer_error_json(const char *status, const char *schemes, char *out,
    size_t cap);

/* Takes the address out of a SASL_IPREMOTEPORT value: "a.b.c.d;port",
 * "[v6];port", "v6;port", or a bare address.  Writes it NUL-terminated
 * into out (cap > BEARER_ADDR_MAX).  SAT_E_MALFORMED if the address is
 * empty, too long, or holds a byte no IP address text has, or if the
 * port is not decimal. */
int bearer_parse_ipport(const void *p, size_t n, char *out, size_t cap);

#endif
