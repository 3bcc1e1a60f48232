/* satoken SASL plugin: the entry points libsasl2 calls, and the glue
 * between a parsed message and the one decision (common/login.c). */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cfgcache.h"
#include "config.h"
#include "err.h"
#include "fileio.h"
#include "login.h"
#include "mem.h"
#include "plugin.h"

#define EXPORT	__attribute__((visibility("default")))

int
plugin_sasl_code(int sat_err)
{
	switch (sat_err) {
	case 0:			return SASL_OK;
	case SAT_E_STORE:	return SASL_UNAVAIL;
	case SAT_E_NOMEM:	return SASL_NOMEM;
	default:		return SASL_BADAUTH;
	}
}

int
server_mech_new(void *glob_context, sasl_server_params_t *sparams,
    const char *challenge, unsigned challen, void **conn_context)
{
	struct server_conn *c;

	if ((c = sparams->utils->malloc(sizeof(*c))) == NULL) {
		sparams->utils->seterror(sparams->utils->conn, 0, "out of memory");
		return SASL_NOMEM;
	}
	memset(c, 0, sizeof(*c));
	*conn_context = c;
	return SASL_OK;
}

void
server_mech_dispose(void *conn_context, const sasl_utils_t *utils)
{
	if (conn_context != NULL)
		utils->free(conn_context);
}

/* satoken.conf applies to the next login after an edit, as in the PAM
 * module: servers keep the plugin loaded for months.  The parsed file
 * is kept while its identity stays the same (cfgcache.h), instead of
 * being read and parsed at every attempt. */
struct conf_arg {
	const char *path;
	int named;		/* given by satoken_conf: must exist */
	char err[SAT_ERRMSG_MAX];
};

static int
build_config(void *arg, void **ret)
{
	struct conf_arg *a = arg;
	struct sat_config *cfg;
	int r;

	if ((cfg = malloc(sizeof(*cfg))) == NULL)
		return SAT_E_NOMEM;
	if ((r = cfg_init(cfg)) != 0) {
		free(cfg);
		return r;
	}
	if ((r = cfg_load(cfg, a->named ? a->path : NULL, a->err,
	    sizeof(a->err))) != 0) {
		cfg_free(cfg);
		free(cfg);
		return r;
	}
	*ret = cfg;
	return 0;
}

static void
free_config(void *value)
{
	cfg_free(value);
	free(value);
}

static const struct cfg_cache_ops config_ops = { build_config, free_config };
static struct cfg_cache config_cache = CFG_CACHE_INIT(&config_ops);

__attribute__((destructor)) static void
config_cache_unload(void)
{
	cfg_cache_clear(&config_cache);
	audit_kept_close();
}

/* *ret is borrowed until cfg_cache_put(&config_cache, *ref). */
static int
load_config(const sasl_utils_t *utils, const char *mech,
    const struct sat_config **ret, struct cfg_entry **ref)
{
	struct conf_arg a;
	char *path = NULL;
	const char *opt = NULL;
	unsigned optlen = 0;
	void *v = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	a.path = SAT_CONF_DEFAULT;
	if (utils->getopt != NULL &&
	    utils->getopt(utils->getopt_context, mech, "satoken_conf", &opt,
	    &optlen) == SASL_OK && opt != NULL && opt[0] != '\0') {
		path = sat_strndup(opt, optlen > 0 ? strnlen(opt, optlen) :
		    strlen(opt));
		if (path == NULL)
			return SAT_E_NOMEM;
		a.path = path;
		a.named = 1;
	}
	/* the key: whether the file was named (a missing one is then an
	 * error); the path is the cache's own */
	r = cfg_cache_get(&config_cache, a.path, a.named ? "n" : "d", 1, &a,
	    &v, ref);
	if (r != 0)
		utils->log(utils->conn, SASL_LOG_ERR, "satoken: %s",
		    a.err[0] != '\0' ? a.err : sat_strerror(r));
	else
		*ret = v;
	free(path);
	return r;
}

int
plugin_login(sasl_server_params_t *sparams, const char *mech,
    const struct bearer_msg *m, sasl_out_params_t *oparams)
{
	const sasl_utils_t *utils = sparams->utils;
	const struct sat_config *cfg;
	struct cfg_entry *ref = NULL;
	struct login_request req;
	struct verify_result res;
	char rhost[BEARER_ADDR_MAX + 1];
	int r;

	if ((r = load_config(utils, mech, &cfg, &ref)) != 0) {
		utils->seterror(utils->conn, 0, "satoken: configuration error");
		return plugin_sasl_code(r);
	}
	memset(&req, 0, sizeof(req));
	if (m != NULL) {
		req.token = (const char *)m->token.p;
		req.token_len = m->token.len;
		req.account = m->authzid;
	} else {
		/* still one audit line per attempt: an empty token is malformed */
		req.token = "";
		req.token_len = 0;
	}
	req.service = sparams->service;
	req.ident = PLUGIN_IDENT;
	/* no address, or one we cannot read: a token scoped to networks
	 * is then refused (source_denied), every other token is not */
	if (sparams->ipremoteport != NULL &&
	    bearer_parse_ipport(sparams->ipremoteport, sparams->ipremlen,
	    rhost, sizeof(rhost)) == 0)
		req.rhost = rhost;
	else if (sparams->ipremoteport != NULL)
		utils->log(utils->conn, SASL_LOG_WARN,
		    "satoken: unreadable SASL_IPREMOTEPORT");

	r = login_check(cfg, &req, &res);
	cfg_cache_put(&config_cache, ref);
	if (r != 0) {
		utils->seterror(utils->conn, 0, "satoken: %s",
		    r == SAT_E_STORE ? "token store unavailable" :
		    "authentication failed");
		return plugin_sasl_code(r);
	}
	if (res.reason != VERIFY_OK || res.account[0] == '\0') {
		/* the reason is in the audit line; the client learns nothing
		 * about which check it failed */
		utils->seterror(utils->conn, 0, "satoken: authentication failed");
		return SASL_BADAUTH;
	}
	/* EXTERNALLY_VERIFIED: we verified the account ourselves, so
	 * libsasl2 must not refuse it for want of an auxprop entry */
	r = sparams->canon_user(utils->conn, res.account, 0,
	    SASL_CU_AUTHID | SASL_CU_AUTHZID | SASL_CU_EXTERNALLY_VERIFIED,
	    oparams);
	if (r != SASL_OK)
		return r == SASL_CONTINUE || r == SASL_INTERACT ? SASL_BADAUTH : r;
	oparams->doneflag = 1;
	oparams->mech_ssf = 0;
	oparams->maxoutbuf = 0;
	oparams->encode_context = NULL;
	oparams->encode = NULL;
	oparams->decode_context = NULL;
	oparams->decode = NULL;
	oparams->param_version = 0;
	return SASL_OK;
}

/* Both sides declare NOANONYMOUS (the token names an account) and
 * PASS_CREDENTIALS; neither claims NOPLAINTEXT, because the token
 * crosses the wire as it is: use TLS, which lifts that restriction. */
#define BEARER_SEC_FLAGS	(SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS)

static sasl_server_plug_t server_plugs[] = {
	{
		.mech_name = "OAUTHBEARER",
		.max_ssf = 0,
		.security_flags = BEARER_SEC_FLAGS,
		.features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
		.mech_new = server_mech_new,
		.mech_step = oauthbearer_server_step,
		.mech_dispose = server_mech_dispose,
	},
	{
		.mech_name = "XOAUTH2",
		.max_ssf = 0,
		.security_flags = BEARER_SEC_FLAGS,
		.features = SASL_FEAT_WANT_CLIENT_FIRST,
		.mech_new = server_mech_new,
		.mech_step = xoauth2_server_step,
		.mech_dispose = server_mech_dispose,
	},
};

static sasl_client_plug_t client_plugs[] = {
	{
		.mech_name = "OAUTHBEARER",
		.max_ssf = 0,
		.security_flags = BEARER_SEC_FLAGS,
		.features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
		.mech_new = oauthbearer_client_new,
		.mech_step = oauthbearer_client_step,
		.mech_dispose = oauthbearer_client_dispose,
	},
};

int sasl_server_plug_init(const sasl_utils_t *utils, int maxversion,
    int *out_version, sasl_server_plug_t **pluglist, int *plugcount) EXPORT;
int sasl_client_plug_init(const sasl_utils_t *utils, int maxversion,
    int *out_version, sasl_client_plug_t **pluglist, int *plugcount) EXPORT;

int
sasl_server_plug_init(const sasl_utils_t *utils, int maxversion,
    int *out_version, sasl_server_plug_t **pluglist, int *plugcount)
{
	if (maxversion < SASL_SERVER_PLUG_VERSION) {
		utils->seterror(utils->conn, 0, "satoken: libsasl2 too old");
		return SASL_BADVERS;
	}
	/* servers load plugins before they chroot (Postfix's smtpd), where
	 * the store's owner can still be looked up */
	fileio_remember_daemon_user();
	*out_version = SASL_SERVER_PLUG_VERSION;
	*pluglist = server_plugs;
	*plugcount = (int)(sizeof(server_plugs) / sizeof(server_plugs[0]));
	return SASL_OK;
}

int
sasl_client_plug_init(const sasl_utils_t *utils, int maxversion,
    int *out_version, sasl_client_plug_t **pluglist, int *plugcount)
{
	if (maxversion < SASL_CLIENT_PLUG_VERSION) {
		utils->seterror(utils->conn, 0, "satoken: libsasl2 too old");
		return SASL_BADVERS;
	}
	*out_version = SASL_CLIENT_PLUG_VERSION;
	*pluglist = client_plugs;
	*plugcount = (int)(sizeof(client_plugs) / sizeof(client_plugs[0]));
	return SASL_OK;
}
