/* libsatoken.so's OAUTHBEARER client against its server, both in the
 * real libsasl2: answers from callbacks and from SASL_INTERACT prompts,
 * the authzid, and the \x01 answer to the error challenge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sasl/sasl.h>

#include "harness.h"
#include "mem.h"
#include "token.h"

struct client_answers {
	int interact;		/* libldap's way: ids with no procedure */
	const char *authname;	/* NULL: no callback */
	const char *user;	/* NULL: no callback */
	const struct tok *tok;	/* NULL: no callback */
	sasl_secret_t *secret;
};

static int
cb_simple(void *context, int id, const char **result, unsigned *len)
{
	const struct client_answers *a = context;

	*result = id == SASL_CB_AUTHNAME ? a->authname : a->user;
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
cb_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
	struct client_answers *a = context;

	*psecret = a->secret;
	return SASL_OK;
}

static sasl_conn_t *
client_conn(struct client_answers *a, sasl_callback_t cbs[5])
{
	sasl_security_properties_t sp;
	sasl_conn_t *c = NULL;
	size_t n = 0;

	if (a->interact) {
		/* a callback id without a procedure asks libsasl2 for
		 * SASL_INTERACT prompts, as libldap registers them */
		cbs[n++] = (sasl_callback_t){ SASL_CB_USER, NULL, NULL };
		cbs[n++] = (sasl_callback_t){ SASL_CB_AUTHNAME, NULL, NULL };
		cbs[n++] = (sasl_callback_t){ SASL_CB_PASS, NULL, NULL };
	}
	if (a->authname != NULL)
		cbs[n++] = (sasl_callback_t){ SASL_CB_AUTHNAME, CB(cb_simple), a };
	if (a->user != NULL)
		cbs[n++] = (sasl_callback_t){ SASL_CB_USER, CB(cb_simple), a };
	if (a->tok != NULL) {
		a->secret = malloc(sizeof(sasl_secret_t) + TOKEN_LEN);
		assert_non_null(a->secret);
		a->secret->len = TOKEN_LEN;
		memcpy(a->secret->data, a->tok->s, TOKEN_LEN + 1);
		cbs[n++] = (sasl_callback_t){ SASL_CB_PASS, CB(cb_pass), a };
	}
	cbs[n] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	assert_int_equal(sasl_client_new("imap", "localhost", "127.0.0.1;4000",
	    "127.0.0.1;143", cbs, 0, &c), SASL_OK);
	memset(&sp, 0, sizeof(sp));
	sp.max_ssf = 256;
	sp.maxbufsize = 65536;
	sp.security_flags = SASL_SEC_NOANONYMOUS;	/* libldap's default */
	assert_int_equal(sasl_setprop(c, SASL_SEC_PROPS, &sp), SASL_OK);
	return c;
}

static void
client_done(struct client_answers *a)
{
	if (a->secret != NULL)
		sat_freezero(a->secret, sizeof(sasl_secret_t) + TOKEN_LEN);
	a->secret = NULL;
}

/* Client and server in one exchange, as an application drives them. */
static int
exchange(sasl_conn_t *cc, sasl_conn_t *sc, sasl_interact_t *answers_for,
    void (*answer)(sasl_interact_t *), char *first_msg, size_t cap)
{
	sasl_interact_t *prompts = NULL;
	const char *co = NULL, *so = NULL, *mech = NULL;
	unsigned col = 0, sol = 0;
	int rc, rs;

	for (;;) {
		rc = sasl_client_start(cc, "OAUTHBEARER", &prompts, &co, &col,
		    &mech);
		if (rc != SASL_INTERACT)
			break;
		assert_non_null(answer);
		answer(prompts);
	}
	if (rc != SASL_CONTINUE && rc != SASL_OK)
		return rc;
	assert_string_equal(mech, "OAUTHBEARER");
	if (first_msg != NULL)
		snprintf(first_msg, cap, "%.*s", (int)col, co);
	rs = sasl_server_start(sc, "OAUTHBEARER", co, col, &so, &sol);
	while (rs == SASL_CONTINUE) {
		rc = sasl_client_step(cc, so, sol, &prompts, &co, &col);
		if (rc != SASL_CONTINUE && rc != SASL_OK)
			return rc;
		/* the client answers the error challenge with \x01 */
		assert_int_equal(col, 1);
		assert_int_equal(co[0], 0x01);
		rs = sasl_server_step(sc, co, col, &so, &sol);
	}
	if (rs != SASL_OK)
		return rs;
	/* the server's success carries no data; the client is done */
	return sasl_client_step(cc, NULL, 0, &prompts, &co, &col);
}

static void
client_callbacks(void **state)
{
	struct client_answers a = { 0, "ci", "", NULL, NULL };
	sasl_callback_t cbs[5];
	char first[256];
	sasl_conn_t *cc, *sc;
	struct tok t;

	MINT(&t, "ci", NULL);
	a.tok = &t;
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, first, sizeof(first)),
	    SASL_OK);
	assert_memory_equal(first, "n,,\x01" "auth=Bearer sat_", 20);
	assert_username(sc, "ci");
	assert_audit_has("outcome=ok reason=ok account=ci");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);
	sat_wipe(first, sizeof(first));
}

static void
client_authzid(void **state)
{
	struct client_answers a = { 0, "ci", "ci", NULL, NULL };
	sasl_callback_t cbs[5];
	char first[256];
	sasl_conn_t *cc, *sc;
	struct tok t;

	MINT(&t, "ci", NULL);
	a.tok = &t;
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, first, sizeof(first)),
	    SASL_OK);
	assert_memory_equal(first, "n,a=ci,\x01", 8);
	assert_username(sc, "ci");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);

	/* another account's identity: refused, the client answers \x01 */
	a.user = "ops";
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, NULL, 0), SASL_BADAUTH);
	assert_audit_has("reason=wrong_account");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);
	sat_wipe(first, sizeof(first));
}

/* A revoked token through the client: refused, the error challenge
 * answered with \x01 (checked in exchange), then failure. */
static void
client_refused(void **state)
{
	struct client_answers a = { 0, "ci", "", NULL, NULL };
	sasl_callback_t cbs[5];
	sasl_conn_t *cc, *sc;
	struct tok t;

	MINT(&t, "ci", NULL);
	SATFIX("revoke", t.id);
	a.tok = &t;
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, NULL, 0), SASL_BADAUTH);
	assert_audit_has("reason=revoked");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);
}

/* No account name at all (no authname, no authzid): the client refuses
 * before sending the token and says why. */
static void
client_no_account(void **state)
{
	struct client_answers a = { 0, "", "", NULL, NULL };
	sasl_interact_t *prompts = NULL;
	sasl_callback_t cbs[5];
	const char *co = NULL, *mech = NULL;
	unsigned col = 0;
	sasl_conn_t *cc;
	struct tok t;

	MINT(&t, "ci", NULL);
	a.tok = &t;
	cc = client_conn(&a, cbs);
	assert_int_not_equal(sasl_client_start(cc, "OAUTHBEARER", &prompts, &co,
	    &col, &mech), SASL_OK);
	if (strstr(sasl_errdetail(cc), "no account name") == NULL)
		fail_msg("error detail '%s'", sasl_errdetail(cc));
	sasl_dispose(&cc);
	client_done(&a);
}

static struct tok interact_tok;
static int interact_rounds;

/* What libldap's lutil_sasl_interact does: fill every prompt. */
static void
answer_prompts(sasl_interact_t *p)
{
	interact_rounds++;
	for (; p->id != SASL_CB_LIST_END; p++) {
		assert_non_null(p->prompt);
		switch (p->id) {
		case SASL_CB_AUTHNAME:
			p->result = "ops";
			break;
		case SASL_CB_USER:
			p->result = "";
			break;
		case SASL_CB_PASS:
			p->result = interact_tok.s;
			break;
		default:
			fail_msg("unexpected prompt %lu", p->id);
		}
		p->len = (unsigned)strlen(p->result);
	}
}

static void
client_interact(void **state)
{
	struct client_answers a = { 1, NULL, NULL, NULL, NULL };
	sasl_callback_t cbs[5];
	sasl_conn_t *cc, *sc;

	MINT(&interact_tok, "ops", NULL);
	interact_rounds = 0;
	cc = client_conn(&a, cbs);
	sc = server_conn("ldap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, answer_prompts, NULL, 0),
	    SASL_OK);
	assert_int_equal(interact_rounds, 1);
	assert_username(sc, "ops");
	assert_audit_has("outcome=ok reason=ok account=ops");
	assert_audit_has("service=ldap");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	sat_wipe(&interact_tok, sizeof(interact_tok));
}

/* Only the two entry points are exported; common/ stays inside. */

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(client_callbacks),
		cmocka_unit_test(client_authzid),
		cmocka_unit_test(client_refused),
		cmocka_unit_test(client_interact),
		cmocka_unit_test(client_no_account),
	};

	return cmocka_run_group_tests_name("sasl OAUTHBEARER client in libsasl2",
	    tests, harness_setup, harness_teardown);
}
