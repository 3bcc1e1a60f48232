/* satoken SASL plugin: the server side's one state machine, shared by
 * OAUTHBEARER and XOAUTH2, which differ only in how the client's message
 * is parsed and in the error challenge (struct server_mech).
 *
 * One client message, the decision (plugin_login, over the common
 * decision), then either success or the error challenge; whatever the
 * client answers to it, the exchange fails.  A message that does not
 * parse gets no challenge: it is not the protocol. */
#include "plugin.h"

int
server_step(const struct server_mech *mech, void *conn_context,
    sasl_server_params_t *sparams, const char *clientin,
    unsigned clientinlen, const char **serverout, unsigned *serveroutlen,
    sasl_out_params_t *oparams)
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
		if (mech->parse(clientin, clientinlen, &m) != 0) {
			/* not the protocol: no challenge, just the audit line */
			r = plugin_login(sparams, mech->name, NULL, oparams);
			utils->seterror(utils->conn, 0,
			    "satoken: malformed %s message", mech->name);
			return r == SASL_OK ? SASL_BADAUTH : r;
		}
		r = plugin_login(sparams, mech->name, &m, oparams);
		if (r != SASL_BADAUTH)
			return r;
		n = bearer_error_json(mech->status, mech->schemes,
		    c->challenge, sizeof(c->challenge));
		if (n < 0)
			return SASL_BADAUTH;
		c->state = SERVER_REFUSED;
		*serverout = c->challenge;
		*serveroutlen = (unsigned)n;
		return SASL_CONTINUE;
	case SERVER_REFUSED:
		/* RFC 7628 3.2.3: whatever the client says now, it failed */
		c->state = SERVER_DONE;
		if (mech->expect_ack && !bearer_is_ack(clientin, clientinlen))
			utils->log(utils->conn, SASL_LOG_DEBUG, "satoken: "
			    "client did not answer the error challenge with %%x01");
		utils->seterror(utils->conn, 0, "satoken: authentication failed");
		return SASL_BADAUTH;
	case SERVER_DONE:
	default:
		utils->seterror(utils->conn, 0, "satoken: unexpected step");
		return SASL_BADPROT;
	}
}
