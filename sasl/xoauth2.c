/* satoken SASL plugin: XOAUTH2, server side.
 *
 *   user=ACCOUNT \x01 auth=Bearer TOKEN \x01 \x01
 *
 * The user= is the claimed account: the decision refuses a token of
 * another account (wrong_account).  A refusal is the error challenge
 * {"status":"401","schemes":"bearer"}; whatever the client answers
 * (clients send an empty response), the exchange then fails. */
#include "plugin.h"

#define MECH	"XOAUTH2"

int
xoauth2_server_step(void *conn_context, sasl_server_params_t *sparams,
    const char *clientin, unsigned clientinlen, const char **serverout,
    unsigned *serveroutlen, sasl_out_params_t *oparams)
{
	const sasl_utils_t *utils = sparams->utils;
	struct server_conn *c = conn_context;
	struct bearer_msg m;
	int r, n;

	*serverout = NULL;
	*serveroutlen = 0;
	switch (c->state) {
	case SERVER_START:
		c->state = SERVER_DONE;
		if (bearer_parse_xoauth2(clientin, clientinlen, &m) != 0) {
			r = plugin_login(sparams, MECH, NULL, oparams);
			utils->seterror(utils->conn, 0,
			    "satoken: malformed XOAUTH2 message");
			return r == SASL_OK ? SASL_BADAUTH : r;
		}
		r = plugin_login(sparams, MECH, &m, oparams);
		if (r != SASL_BADAUTH)
			return r;
		n = bearer_error_json("401", "bearer", c->challenge,
		    sizeof(c->challenge));
		if (n < 0)
			return SASL_BADAUTH;
		c->state = SERVER_REFUSED;
		*serverout = c->challenge;
		*serveroutlen = (unsigned)n;
		return SASL_CONTINUE;
	case SERVER_REFUSED:
		c->state = SERVER_DONE;
		utils->seterror(utils->conn, 0, "satoken: authentication failed");
		return SASL_BADAUTH;
	case SERVER_DONE:
	default:
		utils->seterror(utils->conn, 0, "satoken: unexpected step");
		return SASL_BADPROT;
	}
}
