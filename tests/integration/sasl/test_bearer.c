/* The plugin's wire-format parsers and builders, byte by byte, without
 * libsasl2 (sasl/bearer.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bearer.h"
#include "err.h"

#define S(lit)	(lit), (sizeof(lit) - 1)

static void
assert_token(const struct bearer_msg *m, const char *want)
{
	assert_int_equal(m->token.len, strlen(want));
	assert_memory_equal(m->token.p, want, strlen(want));
}

static void
oauthbearer_minimal(void **state)
{
	struct bearer_msg m;

	assert_int_equal(bearer_parse_oauthbearer(S("n,,\x01" "auth=Bearer abc\x01\x01"), &m), 0);
	assert_token(&m, "abc");
	assert_string_equal(m.authzid, "");
}

static void
oauthbearer_full(void **state)
{
	static const char msg[] = "y,a=ci,\x01host=server.example.com\x01"
	    "port=143\x01" "auth=Bearer sat_abc-._~+/==\x01\x01";
	struct bearer_msg m;

	assert_int_equal(bearer_parse_oauthbearer(S(msg), &m), 0);
	assert_token(&m, "sat_abc-._~+/==");
	assert_string_equal(m.authzid, "ci");
}

static void
oauthbearer_scheme_and_escapes(void **state)
{
	struct bearer_msg m;

	assert_int_equal(bearer_parse_oauthbearer(
	    S("n,a=a=2Cb=3Dc,\x01" "auth=bEaReR    tok\x01\x01"), &m), 0);
	assert_string_equal(m.authzid, "a,b=c");
	assert_token(&m, "tok");
}

/* Every kind of broken message is refused, and the result left empty. */
static void
oauthbearer_malformed(void **state)
{
	static const struct { const char *msg; size_t len; } bad[] = {
		{ S("") },
		{ S("\x01") },				/* the ack is not a message */
		{ S("n,,auth=Bearer abc\x01\x01") },	/* no \x01 after gs2 */
		{ S("n,,\x01" "auth=Bearer abc\x01") },	/* no final \x01 */
		{ S("n,,\x01" "auth=Bearer abc") },	/* no \x01 at all */
		{ S("n,,\x01\x01") },			/* no auth= */
		{ S("n,,\x01host=h\x01\x01") },		/* no auth= */
		{ S("n,,\x01" "auth=Basic YWJj\x01\x01") },	/* wrong scheme */
		{ S("n,,\x01" "auth=Bearer\x01\x01") },	/* no token */
		{ S("n,,\x01" "auth=Bearer \x01\x01") },	/* empty token */
		{ S("n,,\x01" "auth=Bearerabc\x01\x01") },	/* no space */
		{ S("n,,\x01" "auth=Bearer a b\x01\x01") },	/* two words */
		{ S("n,,\x01" "auth=Bearer a=b\x01\x01") },	/* = inside */
		{ S("n,,\x01" "auth=Bearer ab\0c\x01\x01") },	/* NUL */
		{ S("n,,\x01" "auth=Bearer a\x01" "auth=Bearer b\x01\x01") },
		{ S("n,,\x01" "au1h=x\x01" "auth=Bearer a\x01\x01") },	/* key */
		{ S("n,,\x01" "=x\x01" "auth=Bearer a\x01\x01") },	/* empty key */
		{ S("n,,\x01" "host\x01" "auth=Bearer a\x01\x01") },	/* no = */
		{ S("n,,\x01" "host=a\0b\x01" "auth=Bearer a\x01\x01") },
		{ S("n,,\x01" "auth=Bearer a\x01\x01junk") },	/* trailing */
		{ S("p=tls-unique,,\x01" "auth=Bearer a\x01\x01") },	/* cb */
		{ S("F,n,,\x01" "auth=Bearer a\x01\x01") },	/* nonstd flag */
		{ S("x,,\x01" "auth=Bearer a\x01\x01") },
		{ S("n,a=,\x01" "auth=Bearer a\x01\x01") },	/* empty authzid */
		{ S("n,a=c=2Xi,\x01" "auth=Bearer a\x01\x01") },	/* bad escape */
		{ S("n,a=c\ti,\x01" "auth=Bearer a\x01\x01") },	/* control */
		{ S("n,a=c\0i,\x01" "auth=Bearer a\x01\x01") },	/* NUL */
		{ S("n,b=ci,\x01" "auth=Bearer a\x01\x01") },	/* not a= */
		{ S("n,a=\xff\xfe,\x01" "auth=Bearer a\x01\x01") },	/* UTF-8 */
		{ S("n\x01" "auth=Bearer a\x01\x01") },
	};
	struct bearer_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&m, 0xa5, sizeof(m));
		if (bearer_parse_oauthbearer(bad[i].msg, bad[i].len, &m) !=
		    SAT_E_MALFORMED)
			fail_msg("accepted bad message #%zu", i);
		assert_null(m.token.p);
		assert_int_equal(m.token.len, 0);
		assert_string_equal(m.authzid, "");
	}
	assert_int_equal(bearer_parse_oauthbearer(NULL, 5, &m), SAT_E_MALFORMED);
}

/* No proper prefix of a good message parses. */
static void
oauthbearer_truncated(void **state)
{
	static const char msg[] = "n,a=ci,\x01host=h\x01" "auth=Bearer tok\x01\x01";
	struct bearer_msg m;
	size_t n;

	for (n = 0; n < sizeof(msg) - 1; n++)
		if (bearer_parse_oauthbearer(msg, n, &m) != SAT_E_MALFORMED)
			fail_msg("prefix of %zu bytes accepted", n);
	assert_int_equal(bearer_parse_oauthbearer(S(msg), &m), 0);
}

static void
oauthbearer_oversized(void **state)
{
	static const char head[] = "n,,\x01" "auth=Bearer ";
	size_t n = BEARER_MSG_MAX + 1;
	char *msg = malloc(n);
	struct bearer_msg m;

	assert_non_null(msg);
	memcpy(msg, head, sizeof(head) - 1);
	memset(msg + sizeof(head) - 1, 'a', n - (sizeof(head) - 1) - 2);
	memcpy(msg + n - 2, "\x01\x01", 2);
	assert_int_equal(bearer_parse_oauthbearer(msg, n, &m), SAT_E_MALFORMED);
	/* the same message one byte shorter is within the limit */
	memcpy(msg + n - 3, "\x01\x01", 2);
	assert_int_equal(bearer_parse_oauthbearer(msg, n - 1, &m), 0);
	free(msg);
}

static void
ack(void **state)
{
	assert_int_equal(bearer_is_ack(S("\x01")), 1);
	assert_int_equal(bearer_is_ack(S("")), 0);
	assert_int_equal(bearer_is_ack(S("\x01\x01")), 0);
	assert_int_equal(bearer_is_ack(S("x")), 0);
	assert_int_equal(bearer_is_ack(NULL, 0), 0);
}

static void
xoauth2_ok(void **state)
{
	struct bearer_msg m;

	assert_int_equal(bearer_parse_xoauth2(
	    S("user=ci\x01" "auth=Bearer sat_tok\x01\x01"), &m), 0);
	assert_string_equal(m.authzid, "ci");
	assert_token(&m, "sat_tok");
}

static void
xoauth2_malformed(void **state)
{
	static const struct { const char *msg; size_t len; } bad[] = {
		{ S("") },
		{ S("user=ci\x01" "auth=Bearer t\x01") },
		{ S("user=ci\x01" "auth=Bearer t") },
		{ S("user=\x01" "auth=Bearer t\x01\x01") },	/* no user */
		{ S("auth=Bearer t\x01\x01") },
		{ S("user=ci\x01\x01") },
		{ S("auth=Bearer t\x01user=ci\x01\x01") },	/* order */
		{ S("user=ci\x01" "auth=Basic dA==\x01\x01") },
		{ S("user=ci\x01" "auth=Bearer t\0u\x01\x01") },
		{ S("user=c\0i\x01" "auth=Bearer t\x01\x01") },
		{ S("user=c i\x01" "auth=Bearer t\x01\x01") },
		{ S("user=ci\x01" "auth=Bearer t\x01\x01\x01") },
		{ S("user=ci\x01" "host=x\x01" "auth=Bearer t\x01\x01") },
	};
	struct bearer_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bearer_parse_xoauth2(bad[i].msg, bad[i].len, &m) !=
		    SAT_E_MALFORMED)
			fail_msg("accepted bad message #%zu", i);
		assert_null(m.token.p);
		assert_string_equal(m.authzid, "");
	}
}

static void
xoauth2_limits(void **state)
{
	char msg[BEARER_MSG_MAX + 64];
	struct bearer_msg m;
	size_t n;

	/* a user of 256 bytes is too long, 255 is not */
	memcpy(msg, "user=", 5);
	memset(msg + 5, 'u', 256);
	memcpy(msg + 261, "\x01" "auth=Bearer t\x01\x01", 16);
	assert_int_equal(bearer_parse_xoauth2(msg, 277, &m), SAT_E_MALFORMED);
	assert_int_equal(bearer_parse_xoauth2(msg + 1, 276, &m),
	    SAT_E_MALFORMED);	/* "ser=..." */
	memmove(msg + 5, msg + 6, 271);
	assert_int_equal(bearer_parse_xoauth2(msg, 276, &m), 0);
	assert_int_equal(strlen(m.authzid), 255);
	/* oversized as a whole */
	n = sizeof(msg);
	memcpy(msg, "user=ci\x01" "auth=Bearer ", 20);
	memset(msg + 20, 'a', n - 22);
	memcpy(msg + n - 2, "\x01\x01", 2);
	assert_int_equal(bearer_parse_xoauth2(msg, n, &m), SAT_E_MALFORMED);
	/* every prefix of a good one */
	static const char good[] = "user=ci\x01" "auth=Bearer t\x01\x01";
	for (n = 0; n < sizeof(good) - 1; n++)
		assert_int_equal(bearer_parse_xoauth2(good, n, &m),
		    SAT_E_MALFORMED);
}

static void
build_round_trip(void **state)
{
	static const char tok[] = "sat_0123456789abcdefghijABCDEFGHIJ";
	struct bearer_msg m;
	struct wbuf w;

	wbuf_init(&w);
	assert_int_equal(bearer_build_oauthbearer(NULL, tok, strlen(tok), &w), 0);
	assert_int_equal(w.len, 16 + strlen(tok) + 2);
	assert_memory_equal(w.p, "n,,\x01" "auth=Bearer sat_", 20);
	assert_int_equal(bearer_parse_oauthbearer(w.p, w.len, &m), 0);
	assert_token(&m, tok);
	assert_string_equal(m.authzid, "");
	wbuf_free(&w);

	assert_int_equal(bearer_build_oauthbearer("a,b=c", tok, strlen(tok), &w), 0);
	assert_memory_equal(w.p, "n,a=a=2Cb=3Dc,\x01", 15);
	assert_int_equal(bearer_parse_oauthbearer(w.p, w.len, &m), 0);
	assert_string_equal(m.authzid, "a,b=c");
	assert_token(&m, tok);
	wbuf_free(&w);
	assert_null(w.p);
}

static void
build_refuses(void **state)
{
	struct wbuf w;

	wbuf_init(&w);
	assert_int_equal(bearer_build_oauthbearer(NULL, "", 0, &w), SAT_E_INVALID);
	assert_int_equal(bearer_build_oauthbearer(NULL, "a b", 3, &w), SAT_E_INVALID);
	assert_int_equal(bearer_build_oauthbearer(NULL, "ab\0", 3, &w), SAT_E_INVALID);
	assert_int_equal(bearer_build_oauthbearer(NULL, "a\x01", 2, &w), SAT_E_INVALID);
	assert_int_equal(bearer_build_oauthbearer("c\x01i", "abc", 3, &w), SAT_E_INVALID);
	assert_int_equal(bearer_build_oauthbearer("c\ni", "abc", 3, &w), SAT_E_INVALID);
	assert_int_equal(w.len, 0);
	wbuf_free(&w);
}

static void
error_json(void **state)
{
	char out[96];

	assert_int_equal(bearer_error_json("invalid_token", NULL, out, sizeof(out)), 26);
	assert_string_equal(out, "{\"status\":\"invalid_token\"}");
	assert_true(bearer_error_json("401", "bearer", out, sizeof(out)) > 0);
	assert_string_equal(out, "{\"status\":\"401\",\"schemes\":\"bearer\"}");
	assert_int_equal(bearer_error_json("a\"b", NULL, out, sizeof(out)), SAT_E_INVALID);
	assert_int_equal(bearer_error_json("", NULL, out, sizeof(out)), SAT_E_INVALID);
	assert_int_equal(bearer_error_json("ok", "x y", out, sizeof(out)), SAT_E_INVALID);
	assert_int_equal(bearer_error_json("invalid_token", NULL, out, 20), SAT_E_INVALID);
}

static void
ipport(void **state)
{
	static const struct { const char *in; const char *want; } good[] = {
		{ "127.0.0.1;993", "127.0.0.1" },
		{ "[::1];993", "::1" },
		{ "::1;993", "::1" },
		{ "[2001:db8::5]", "2001:db8::5" },
		{ "10.1.2.3", "10.1.2.3" },
		{ "fe80::1%eth0;22", "fe80::1%eth0" },
		{ "::ffff:192.0.2.1;25", "::ffff:192.0.2.1" },
	};
	static const char *const bad[] = {
		"", ";22", "1.2.3.4;", "1.2.3.4;x", "1.2.3.4;123456", "[::1]x",
		"[::1", "[];1", "a b;1", "1.2.3.4;2;2", "1.2.3.4\n;2",
	};
	char out[BEARER_ADDR_MAX + 1], longaddr[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(bearer_parse_ipport(good[i].in,
		    strlen(good[i].in), out, sizeof(out)), 0);
		assert_string_equal(out, good[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bearer_parse_ipport(bad[i], strlen(bad[i]), out,
		    sizeof(out)) != SAT_E_MALFORMED)
			fail_msg("accepted '%s'", bad[i]);
		assert_string_equal(out, "");
	}
	memset(longaddr, '1', sizeof(longaddr));
	assert_int_equal(bearer_parse_ipport(longaddr, BEARER_ADDR_MAX + 1,
	    out, sizeof(out)), SAT_E_MALFORMED);
	assert_int_equal(bearer_parse_ipport(longaddr, BEARER_ADDR_MAX,
	    out, sizeof(out)), 0);
	/* a NUL inside the length the caller gave is not an address byte */
	assert_int_equal(bearer_parse_ipport("1.2.3.4\0;5", 10, out,
	    sizeof(out)), SAT_E_MALFORMED);
}

/* Random mutations of good messages (a fixed seed, so a failure repeats):
 * the parsers never read outside the input (ASan watches under
 * SANITIZE=1), and whatever they accept has its token inside the input
 * and made of b64token bytes only. */
static void
mutations(void **state)
{
	static const char *const seeds[] = {
		"n,a=ci,\x01host=h\x01port=143\x01" "auth=Bearer sat_tok==\x01\x01",
		"user=ci\x01" "auth=Bearer sat_tok\x01\x01",
		"127.0.0.1;993",
	};
	static const char alphabet[] = "\x01\x00,=;[]a:Bb =2C3D";
	static const char b64[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=";
	uint8_t buf[128];
	struct bearer_msg m;
	char addr[BEARER_ADDR_MAX + 1];
	unsigned seed = 20261123;
	size_t i, j, n, k;

	for (i = 0; i < 60000; i++) {
		const char *s0 = seeds[i % 3];

		n = strlen(s0);
		memcpy(buf, s0, n);
		for (j = 0, k = 1 + rand_r(&seed) % 4; j < k; j++) {
			size_t at = (size_t)rand_r(&seed) % n;

			switch (rand_r(&seed) % 3) {
			case 0:	/* replace a byte */
				buf[at] = (uint8_t)(rand_r(&seed) % 3 == 0 ?
				    rand_r(&seed) : alphabet[rand_r(&seed) %
				    (sizeof(alphabet) - 1)]);
				break;
			case 1:	/* cut */
				n = at;
				break;
			default:	/* duplicate a byte */
				if (n + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, n - at);
					n++;
				}
				break;
			}
			if (n == 0)
				break;
		}
		/* a heap copy of exactly n bytes: ASan sees any overread */
		uint8_t *heap = malloc(n > 0 ? n : 1);

		assert_non_null(heap);
		memcpy(heap, buf, n);
		if (bearer_parse_oauthbearer(heap, n, &m) == 0 ||
		    bearer_parse_xoauth2(heap, n, &m) == 0) {
			assert_true(m.token.p >= heap && m.token.len > 0 &&
			    m.token.p + m.token.len <= heap + n);
			for (j = 0; j < m.token.len; j++)
				assert_non_null(memchr(b64, m.token.p[j],
				    sizeof(b64) - 1));
		} else {
			assert_null(m.token.p);
		}
		if (bearer_parse_ipport(heap, n, addr, sizeof(addr)) == 0)
			assert_true(strlen(addr) > 0 && strlen(addr) <= n);
		(void)bearer_is_ack(heap, n);
		free(heap);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(oauthbearer_minimal),
		cmocka_unit_test(oauthbearer_full),
		cmocka_unit_test(oauthbearer_scheme_and_escapes),
		cmocka_unit_test(oauthbearer_malformed),
		cmocka_unit_test(oauthbearer_truncated),
		cmocka_unit_test(oauthbearer_oversized),
		cmocka_unit_test(ack),
		cmocka_unit_test(xoauth2_ok),
		cmocka_unit_test(xoauth2_malformed),
		cmocka_unit_test(xoauth2_limits),
		cmocka_unit_test(build_round_trip),
		cmocka_unit_test(build_refuses),
		cmocka_unit_test(error_json),
		cmocka_unit_test(ipport),
		cmocka_unit_test(mutations),
	};

	return cmocka_run_group_tests_name("sasl bearer formats", tests,
	    NULL, NULL);
}
