/* satoken SASL plugin: OAUTHBEARER (RFC 7628), server and client.
 *
 * Server: one client message, the decision, then either success or the
 * RFC's error challenge {"status":"invalid_token"}; the client answers
 * it with a lone \x01 and the exchange fails.  The mechanism decides
 * nothing itself: plugin_login() runs the common decision.
 *
 * Client: the token from SASL_CB_PASS, the authorization identity from
 * SASL_CB_USER (may be empty), the account from SASL_CB_AUTHNAME; any
 * of them through SASL_INTERACT prompts when the application has no
 * callback for it. */
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"
#include "plugin.h"

#define MECH	"OAUTHBEARER"

static const struct server_mech oauthbearer = {
	.name = MECH,
	.parse = bearer_parse_oauthbearer,
	.status = "invalid_token",
	.schemes = NULL,
	.expect_ack = 1,
};

int
oauthbearer_server_step(void *conn_context, sasl_server_params_t *sparams,
    const char *clientin, unsigned clientinlen, const char **serverout,
    unsigned *serveroutlen, sasl_out_params_t *oparams)
{
	return server_step(&oauthbearer, conn_context, sparams, clientin,
	    clientinlen, serverout, serveroutlen, oparams);
}

enum client_state {
	CLIENT_START = 0,	/* nothing sent yet */
	CLIENT_SENT,		/* the token went out; success or a challenge next */
	CLIENT_ACKED,		/* challenge answered with \x01; failure next */
};

struct client_conn {
	enum client_state state;
	struct wbuf msg;		/* what we sent; holds the token: wiped */
	sasl_interact_t *prompts;	/* ours, while the application answers */
};

int
oauthbearer_client_new(void *glob_context, sasl_client_params_t *cparams,
    void **conn_context)
{
	struct client_conn *c;

	if ((c = cparams->utils->malloc(sizeof(*c))) == NULL) {
		cparams->utils->seterror(cparams->utils->conn, 0, "out of memory");
		return SASL_NOMEM;
	}
	memset(c, 0, sizeof(*c));
	wbuf_init(&c->msg);
	*conn_context = c;
	return SASL_OK;
}

void
oauthbearer_client_dispose(void *conn_context, const sasl_utils_t *utils)
{
	struct client_conn *c = conn_context;

	if (c == NULL)
		return;
	wbuf_free(&c->msg);
	prompt_free(utils, c->prompts);
	utils->free(c);
}

/* Copies an answer into a fixed buffer: names, never the token. */
static int
copy_name(const char *v, unsigned len, char *out, size_t cap)
{
	if (len >= cap || memchr(v, '\0', len) != NULL)
		return SASL_BADPARAM;
	memcpy(out, v, len);
	out[len] = '\0';
	return SASL_OK;
}

/* The first step: gather the answers (or ask for the missing ones),
 * canonicalise the names, build the message. */
static int
client_start(struct client_conn *c, sasl_client_params_t *cparams,
    sasl_interact_t **prompt_need, sasl_out_params_t *oparams)
{
	const sasl_utils_t *utils = cparams->utils;
	const sasl_interact_t *answers = NULL;
	char authid[BEARER_AUTHZID_MAX + 1], authzid[BEARER_AUTHZID_MAX + 1];
	const char *v_authid = NULL, *v_authzid = NULL, *token = NULL;
	unsigned l_authid = 0, l_authzid = 0;
	unsigned long missing[3];
	size_t token_len = 0, nmissing = 0;
	int r_authid, r_authzid, r_token, r;

	if (prompt_need != NULL && *prompt_need != NULL &&
	    *prompt_need == c->prompts)
		answers = c->prompts;
	r_authzid = prompt_get_simple(utils, answers, SASL_CB_USER, &v_authzid,
	    &l_authzid);
	r_authid = prompt_get_simple(utils, answers, SASL_CB_AUTHNAME,
	    &v_authid, &l_authid);
	r_token = prompt_get_secret(utils, answers, &token, &token_len);
	/* no SASL_CB_USER at all (not even for a prompt): no authzid */
	if (r_authzid == SASL_FAIL) {
		v_authzid = "";
		l_authzid = 0;
		r_authzid = SASL_OK;
	}
	if ((r_authzid != SASL_OK && r_authzid != SASL_INTERACT) ||
	    (r_authid != SASL_OK && r_authid != SASL_INTERACT) ||
	    (r_token != SASL_OK && r_token != SASL_INTERACT)) {
		utils->seterror(utils->conn, 0, "satoken: a callback failed");
		return SASL_BADPARAM;
	}
	if (r_authzid == SASL_INTERACT)
		missing[nmissing++] = SASL_CB_USER;
	if (r_authid == SASL_INTERACT)
		missing[nmissing++] = SASL_CB_AUTHNAME;
	if (r_token == SASL_INTERACT)
		missing[nmissing++] = SASL_CB_PASS;
	if (nmissing > 0) {
		if (prompt_need == NULL) {
			utils->seterror(utils->conn, 0, "satoken: no callback or "
			    "prompt for the account, identity or token");
			return SASL_BADPARAM;
		}
		prompt_free(utils, c->prompts);
		c->prompts = NULL;
		if ((r = prompt_make(utils, missing, nmissing, &c->prompts)) !=
		    SASL_OK)
			return r;
		*prompt_need = c->prompts;
		return SASL_INTERACT;
	}

	if ((r = copy_name(v_authid, l_authid, authid, sizeof(authid))) != 0 ||
	    (r = copy_name(v_authzid, l_authzid, authzid, sizeof(authzid))) != 0) {
		utils->seterror(utils->conn, 0, "satoken: name too long");
		goto out;
	}
	/* OAUTHBEARER carries only the authzid; the account name is for
	 * libsasl2's bookkeeping, so one of the two may stand for both */
	if (authid[0] == '\0')
		memcpy(authid, authzid, sizeof(authid));
	if (authid[0] == '\0') {
		utils->seterror(utils->conn, 0, "satoken: no account name");
		r = SASL_BADPARAM;
		goto out;
	}
	if (authzid[0] != '\0') {
		if ((r = cparams->canon_user(utils->conn, authzid, 0,
		    SASL_CU_AUTHZID, oparams)) != SASL_OK ||
		    (r = cparams->canon_user(utils->conn, authid, 0,
		    SASL_CU_AUTHID, oparams)) != SASL_OK)
			goto out;
	} else if ((r = cparams->canon_user(utils->conn, authid, 0,
	    SASL_CU_AUTHID | SASL_CU_AUTHZID, oparams)) != SASL_OK)
		goto out;

	wbuf_free(&c->msg);
	if ((r = bearer_build_oauthbearer(authzid, token, token_len,
	    &c->msg)) != 0) {
		wbuf_free(&c->msg);
		utils->seterror(utils->conn, 0, r == SAT_E_NOMEM ?
		    "out of memory" : "satoken: the token or the "
		    "authorization identity cannot be sent");
		r = r == SAT_E_NOMEM ? SASL_NOMEM : SASL_BADPARAM;
		goto out;
	}
	r = SASL_OK;
out:
	/* the answers are the application's; our array of them is done */
	if (answers != NULL) {
		prompt_free(utils, c->prompts);
		c->prompts = NULL;
		*prompt_need = NULL;
	}
	return r;
}

int
oauthbearer_client_step(void *conn_context, sasl_client_params_t *cparams,
    const char *serverin, unsigned serverinlen, sasl_interact_t **prompt_need,
    const char **clientout, unsigned *clientoutlen, sasl_out_params_t *oparams)
{
	const sasl_utils_t *utils = cparams->utils;
	struct client_conn *c = conn_context;
	int r;

	*clientout = NULL;
	*clientoutlen = 0;
	switch (c->state) {
	case CLIENT_START:
		if ((r = client_start(c, cparams, prompt_need, oparams)) !=
		    SASL_OK)
			return r;
		c->state = CLIENT_SENT;
		*clientout = (const char *)c->msg.p;
		*clientoutlen = (unsigned)c->msg.len;
		/* not SASL_OK yet: the server may still send a challenge */
		return SASL_CONTINUE;
	case CLIENT_SENT:
		wbuf_free(&c->msg);	/* the token is not needed again */
		if (serverinlen == 0) {
			oparams->doneflag = 1;
			oparams->mech_ssf = 0;
			oparams->maxoutbuf = 0;
			oparams->encode = NULL;
			oparams->decode = NULL;
			oparams->param_version = 0;
			return SASL_OK;
		}
		/* RFC 7628 3.2.3: an error challenge is answered with \x01 */
		c->state = CLIENT_ACKED;
		utils->seterror(utils->conn, 0,
		    "satoken: the server refused the token");
		*clientout = "\x01";
		*clientoutlen = 1;
		return SASL_CONTINUE;
	case CLIENT_ACKED:
	default:
		utils->seterror(utils->conn, 0, "satoken: the server refused "
		    "the token");
		return SASL_BADAUTH;
	}
}
