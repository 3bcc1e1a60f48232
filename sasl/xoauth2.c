/* satoken SASL plugin: XOAUTH2, server side.
 *
 *   user=ACCOUNT \x01 auth=Bearer TOKEN \x01 \x01
 *
 * The user= is the claimed account: the decision refuses a token of
 * another account (wrong_account).  A refusal is the error challenge
 * {"status":"401","schemes":"bearer"}; whatever the client answers
 * (clients send an empty response), the exchange then fails. */
#include "plugin.h"

static const struct server_mech xoauth2 = {
	.name = "XOAUTH2",
	.parse = bearer_parse_xoauth2,
	.status = "401",
	.schemes = "bearer",
	.expect_ack = 0,
};

int
xoauth2_server_step(void *conn_context, sasl_server_params_t *sparams,
    const char *clientin, unsigned clientinlen, const char **serverout,
    unsigned *serveroutlen, sasl_out_params_t *oparams)
{
	return server_step(&xoauth2, conn_context, sparams, clientin,
	    clientinlen, serverout, serveroutlen, oparams);
}
