/* satoken SASL plugin: what the mechanism files share.  Nothing here is
 * exported from libsatoken.so (the version script keeps only the two
 * plug_init entry points). */
#ifndef SATOKEN_SASL_PLUGIN_H
#define SATOKEN_SASL_PLUGIN_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "bearer.h"

/* Audit ident of file/stderr audit lines written by the plugin. */
#define PLUGIN_IDENT	"satoken-sasl"

/* The SAT_E_* -> SASL mapping, once for the plugin.  0 is SASL_OK;
 * every other value refuses. */
int plugin_sasl_code(int sat_err);

/* Server connection state, the same for both server mechanisms. */
enum server_state {
	SERVER_START = 0,	/* waiting for the client's message */
	SERVER_REFUSED,		/* error challenge sent; the next step fails */
	SERVER_DONE,		/* nothing more to do */
};

struct server_conn {
	enum server_state state;
	char challenge[96];	/* the error JSON we sent, kept for libsasl2 */
};

int server_mech_new(void *glob_context, sasl_server_params_t *sparams,
    const char *challenge, unsigned challen, void **conn_context);
void server_mech_dispose(void *conn_context, const sasl_utils_t *utils);

/* One attempt's decision for a parsed message (m), or for a message that
 * did not parse (m == NULL, audited as malformed).  Loads satoken.conf
 * (the satoken_conf option, else the default path, else built-in
 * defaults), takes the address from SASL_IPREMOTEPORT, runs login_check
 * (which writes the one audit line) with the SASL service, and on an ok
 * decision canonicalises the account as authid and authzid and fills
 * oparams.
 * Returns SASL_OK (accepted), SASL_BADAUTH (refused: the caller answers
 * with its error challenge), or SASL_UNAVAIL / SASL_NOMEM / another
 * error the caller returns as it is. */
int plugin_login(sasl_server_params_t *sparams, const char *mech,
    const struct bearer_msg *m, sasl_out_params_t *oparams);

/* OAUTHBEARER, server and client (oauthbearer.c). */
/* What tells the server mechanisms apart; the state machine is one
 * (sasl/server.c). */
struct server_mech {
	const char *name;
	int (*parse)(const void *p, size_t n, struct bearer_msg *ret);
	const char *status;	/* the error challenge's "status" */
	const char *schemes;	/* its "schemes", or NULL */
	int expect_ack;		/* RFC 7628: the client answers with \x01 */
};

int server_step(const struct server_mech *mech, void *conn_context,
    sasl_server_params_t *sparams, const char *clientin,
    unsigned clientinlen, const char **serverout, unsigned *serveroutlen,
    sasl_out_params_t *oparams);

int oauthbearer_server_step(void *conn_context, sasl_server_params_t *sparams,
    const char *clientin, unsigned clientinlen, const char **serverout,
    unsigned *serveroutlen, sasl_out_params_t *oparams);
int oauthbearer_client_new(void *glob_context, sasl_client_params_t *cparams,
    void **conn_context);
int oauthbearer_client_step(void *conn_context, sasl_client_params_t *cparams,
    const char *serverin, unsigned serverinlen, sasl_interact_t **prompt_need,
    const char **clientout, unsigned *clientoutlen, sasl_out_params_t *oparams);
void oauthbearer_client_dispose(void *conn_context, const sasl_utils_t *utils);

/* Client answers (prompt.c).  Each looks first in the prompts the
 * application answered (answers, may be NULL), then asks its callback.
 * Returns SASL_OK with *ret borrowed from the application,
 * SASL_INTERACT when the application must be prompted, or the
 * callback's error. */
int prompt_get_simple(const sasl_utils_t *utils, const sasl_interact_t *answers,
    unsigned long id, const char **ret, unsigned *ret_len);
/* The token: SASL_CB_PASS.  *ret holds a secret the caller must not
 * copy except into a buffer it wipes. */
int prompt_get_secret(const sasl_utils_t *utils, const sasl_interact_t *answers,
    const char **ret, size_t *ret_len);
/* A prompt array for the n ids, terminated by SASL_CB_LIST_END,
 * allocated with utils (the caller frees it with prompt_free). */
int prompt_make(const sasl_utils_t *utils, const unsigned long *ids, size_t n,
    sasl_interact_t **ret);
void prompt_free(const sasl_utils_t *utils, sasl_interact_t *p);

/* XOAUTH2, server only (xoauth2.c). */
int xoauth2_server_step(void *conn_context, sasl_server_params_t *sparams,
    const char *clientin, unsigned clientinlen, const char **serverout,
    unsigned *serveroutlen, sasl_out_params_t *oparams);

#endif
