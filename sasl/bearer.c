#include <stdio.h>
#include <string.h>

#include "bearer.h"
#include "err.h"
#include "valid.h"

static int
is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 6750 b64token characters, '=' excepted (it may only trail) */
static int
is_b64token_char(uint8_t c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
	    c == '_' || c == '~' || c == '+' || c == '/';
}

static int
is_control(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static int
check_b64token(struct buf v)
{
	size_t body = 0;
	int padding = 0;
	uint8_t c;

	while (buf_get_u8(&v, &c) == 0) {
		if (c == '=')
			padding = 1;
		else if (!padding && is_b64token_char(c))
			body++;
		else
			return SAT_E_MALFORMED;
	}
	return body > 0 ? 0 : SAT_E_MALFORMED;
}

/* "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 7235). */
static int
parse_bearer_value(struct buf v, struct buf *ret_token)
{
	static const char scheme[] = "bearer";
	size_t i;
	uint8_t c;

	for (i = 0; i < sizeof(scheme) - 1; i++) {
		if (buf_get_u8(&v, &c) != 0)
			return SAT_E_MALFORMED;
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)scheme[i])
			return SAT_E_MALFORMED;
	}
	if (buf_expect(&v, " ", 1) != 0)
		return SAT_E_MALFORMED;
	while (buf_expect(&v, " ", 1) == 0)
		;
	if (check_b64token(v) != 0)
		return SAT_E_MALFORMED;
	*ret_token = v;
	return 0;
}

/* saslname (RFC 5801): ',' and '=' arrive as "=2C" and "=3D"; every
 * other byte stands for itself.  Control bytes and invalid UTF-8 are
 * refused here so that nothing downstream has to think about them. */
static int
decode_saslname(struct buf f, char *out, size_t cap)
{
	size_t n = 0;
	uint8_t c;

	if (buf_remaining(&f) == 0)
		return SAT_E_MALFORMED;
	while (buf_get_u8(&f, &c) == 0) {
		if (c == '=') {
			if (buf_expect(&f, "2C", 2) == 0)
				c = ',';
			else if (buf_expect(&f, "3D", 2) == 0)
				c = '=';
			else
				return SAT_E_MALFORMED;
		} else if (is_control(c)) {
			return SAT_E_MALFORMED;
		}
		if (n + 1 >= cap)
			return SAT_E_MALFORMED;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return valid_text(out, cap - 1) ? 0 : SAT_E_MALFORMED;
}

/* gs2-header without the nonstandard "F," flag: OAUTHBEARER has no
 * channel binding, so "p=..." is refused; "y" only says the client
 * could have bound a channel, which changes nothing for us. */
static int
parse_gs2_header(struct buf *b, char *authzid, size_t cap)
{
	struct buf f;

	if (buf_get_until(b, ',', &f) != 0)
		return SAT_E_MALFORMED;
	if (!buf_eq_str(&f, "n") && !buf_eq_str(&f, "y"))
		return SAT_E_MALFORMED;
	if (buf_get_until(b, ',', &f) != 0)
		return SAT_E_MALFORMED;
	if (buf_remaining(&f) == 0) {
		authzid[0] = '\0';
		return 0;
	}
	if (buf_expect(&f, "a=", 2) != 0)
		return SAT_E_MALFORMED;
	return decode_saslname(f, authzid, cap);
}

/* key = 1*(ALPHA) */
static int
valid_key(struct buf k)
{
	uint8_t c;

	if (buf_remaining(&k) == 0)
		return 0;
	while (buf_get_u8(&k, &c) == 0)
		if (!is_alpha(c))
			return 0;
	return 1;
}

/* value = *(VCHAR / SP / HTAB / CR / LF) */
static int
valid_value(struct buf v)
{
	uint8_t c;

	while (buf_get_u8(&v, &c) == 0)
		if (!((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t' ||
		    c == '\r' || c == '\n'))
			return 0;
	return 1;
}

int
bearer_parse_oauthbearer(const void *p, size_t n, struct bearer_msg *ret)
{
	struct buf b, kv, key, tok;
	int have_auth = 0;

	memset(ret, 0, sizeof(*ret));
	if (p == NULL || n > BEARER_MSG_MAX)
		return SAT_E_MALFORMED;
	buf_init(&b, p, n);
	buf_init(&tok, NULL, 0);
	if (parse_gs2_header(&b, ret->authzid, sizeof(ret->authzid)) != 0 ||
	    buf_expect(&b, "\x01", 1) != 0)
		goto bad;
	/* pairs until the empty one that ends the message */
	while (buf_expect(&b, "\x01", 1) != 0) {
		if (buf_get_until(&b, 0x01, &kv) != 0 ||
		    buf_get_until(&kv, '=', &key) != 0 ||
		    !valid_key(key) || !valid_value(kv))
			goto bad;
		if (buf_eq_str(&key, "auth")) {
			/* two auth= pairs: which one would we check? */
			if (have_auth || parse_bearer_value(kv, &tok) != 0)
				goto bad;
			have_auth = 1;
		}
	}
	if (buf_expect_end(&b) != 0 || !have_auth)
		goto bad;
	ret->token = tok;
	return 0;
bad:
	memset(ret, 0, sizeof(*ret));
	return SAT_E_MALFORMED;
}

int
bearer_is_ack(const void *p, size_t n)
{
	struct buf b;

	buf_init(&b, p, n);
	return buf_expect(&b, "\x01", 1) == 0 && buf_expect_end(&b) == 0;
}

int
bearer_parse_xoauth2(const void *p, size_t n, struct bearer_msg *ret)
{
	struct buf b, user, v, tok;
	uint8_t c;

	memset(ret, 0, sizeof(*ret));
	if (p == NULL || n > BEARER_MSG_MAX)
		return SAT_E_MALFORMED;
	buf_init(&b, p, n);
	if (buf_expect(&b, "user=", 5) != 0 ||
	    buf_get_until(&b, 0x01, &user) != 0 ||
	    buf_remaining(&user) == 0 ||
	    buf_remaining(&user) > BEARER_AUTHZID_MAX ||
	    buf_expect(&b, "auth=", 5) != 0 ||
	    buf_get_until(&b, 0x01, &v) != 0 ||
	    parse_bearer_value(v, &tok) != 0 ||
	    buf_expect(&b, "\x01", 1) != 0 ||
	    buf_expect_end(&b) != 0)
		goto bad;
	/* a user name is printable ASCII without blanks */
	v = user;
	while (buf_get_u8(&v, &c) == 0)
		if (c < 0x21 || c > 0x7e)
			goto bad;
	if (buf_copy_bytes(&user, ret->authzid, buf_remaining(&user)) != 0)
		goto bad;
	ret->token = tok;
	return 0;
bad:
	memset(ret, 0, sizeof(*ret));
	return SAT_E_MALFORMED;
}

int
bearer_build_oauthbearer(const char *authzid, const char *token,
    size_t token_len, struct wbuf *out)
{
	struct buf t;
	size_t i, n;

	if (token == NULL || token_len > BEARER_TOKEN_MAX)
		return SAT_E_INVALID;
	buf_init(&t, token, token_len);
	if (check_b64token(t) != 0)
		return SAT_E_INVALID;
	n = authzid == NULL ? 0 : strlen(authzid);
	if (n > BEARER_AUTHZID_MAX)
		return SAT_E_INVALID;
	for (i = 0; i < n; i++)
		if (is_control((uint8_t)authzid[i]))
			return SAT_E_INVALID;

	wbuf_put_bytes(out, "n,", 2);
	if (n > 0) {
		wbuf_put_bytes(out, "a=", 2);
		for (i = 0; i < n; i++) {
			if (authzid[i] == ',')
				wbuf_put_bytes(out, "=2C", 3);
			else if (authzid[i] == '=')
				wbuf_put_bytes(out, "=3D", 3);
			else
				wbuf_put_u8(out, (uint8_t)authzid[i]);
		}
	}
	wbuf_put_bytes(out, ",\x01" "auth=Bearer ", 14);
	wbuf_put_bytes(out, token, token_len);
	wbuf_put_bytes(out, "\x01\x01", 2);
	return wbuf_status(out);
}

static int
json_word(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alpha((uint8_t)s[i]) && !is_digit((uint8_t)s[i]) &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

int
bearer_error_json(const char *status, const char *schemes, char *out,
    size_t cap)
{
	int n;

	if (!json_word(status) || (schemes != NULL && !json_word(schemes)))
		return SAT_E_INVALID;
	if (schemes != NULL)
		n = snprintf(out, cap, "{\"status\":\"%s\",\"schemes\":\"%s\"}",
		    status, schemes);
	else
		n = snprintf(out, cap, "{\"status\":\"%s\"}", status);
	if (n < 0 || (size_t)n >= cap)
		return SAT_E_INVALID;
	return n;
}

/* Bytes of an IPv4 or IPv6 address text, with a zone id ("fe80::1%eth0"). */
static int
is_addr_char(uint8_t c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == ':' ||
	    c == '%' || c == '_' || c == '-';
}

int
bearer_parse_ipport(const void *p, size_t n, char *out, size_t cap)
{
	struct buf b, addr, port, v;
	int has_port;
	uint8_t c;

	if (cap == 0)
		return SAT_E_INTERNAL;
	out[0] = '\0';
	buf_init(&b, p, n);
	if (buf_expect(&b, "[", 1) == 0) {
		if (buf_get_until(&b, ']', &addr) != 0)
			return SAT_E_MALFORMED;
		has_port = buf_remaining(&b) > 0;
		if (has_port && buf_expect(&b, ";", 1) != 0)
			return SAT_E_MALFORMED;
		port = b;
	} else if (buf_get_until(&b, ';', &addr) == 0) {
		has_port = 1;
		port = b;
	} else {
		addr = b;
		has_port = 0;
		buf_init(&port, NULL, 0);
	}
	if (buf_remaining(&addr) == 0 || buf_remaining(&addr) > BEARER_ADDR_MAX ||
	    buf_remaining(&addr) >= cap)
		return SAT_E_MALFORMED;
	v = addr;
	while (buf_get_u8(&v, &c) == 0)
		if (!is_addr_char(c))
			return SAT_E_MALFORMED;
	if (has_port) {
		if (buf_remaining(&port) == 0 || buf_remaining(&port) > 5)
			return SAT_E_MALFORMED;
		while (buf_get_u8(&port, &c) == 0)
			if (!is_digit(c))
				return SAT_E_MALFORMED;
	}
	n = buf_remaining(&addr);
	if (buf_copy_bytes(&addr, out, n) != 0)
		return SAT_E_MALFORMED;
	out[n] = '\0';
	return 0;
}
