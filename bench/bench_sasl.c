/* bench_sasl: full SASL server exchanges in a loop (sasl_server_new +
 * sasl_server_start with the initial response + sasl_dispose), one
 * libsasl2 initialised once per process as a server would.
 *
 *   bench_sasl PLUGINDIR MECH PAIRS ITERS THREADS WARM
 *
 * MECH is OAUTHBEARER (our plugin; SATOKEN_CONF names its config) or
 * PLAIN (SASLDB names the sasldb file, realm "bench").  Prints
 * "p50_us p99_us ops_per_s failures" (bench_loop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "stats.h"

static const char *plugindir, *mech;
static char **users, **secrets;
static size_t npairs;

static int
cb_getpath(void *ctx, const char **path)
{
	*path = plugindir;
	return SASL_OK;
}

static int
cb_getopt(void *ctx, const char *plugin, const char *opt, const char **res,
    unsigned *len)
{
	const char *v = NULL;

	if (strcmp(opt, "satoken_conf") == 0)
		v = getenv("SATOKEN_CONF");
	else if (strcmp(opt, "sasldb_path") == 0)
		v = getenv("SASLDB");
	else if (strcmp(opt, "pwcheck_method") == 0)
		v = "auxprop";
	else if (strcmp(opt, "auxprop_plugin") == 0)
		v = "sasldb";
	else if (strcmp(opt, "mech_list") == 0)
		v = mech;
	if (v == NULL)
		return SASL_FAIL;
	*res = v;
	if (len != NULL)
		*len = (unsigned)strlen(v);
	return SASL_OK;
}

static int
cb_log(void *ctx, int level, const char *msg)
{
	return SASL_OK;
}

typedef int (*sasl_cb_fn)(void);
static sasl_callback_t cbs[] = {
	{ SASL_CB_GETPATH, (sasl_cb_fn)(void (*)(void))cb_getpath, NULL },
	{ SASL_CB_GETOPT, (sasl_cb_fn)(void (*)(void))cb_getopt, NULL },
	{ SASL_CB_LOG, (sasl_cb_fn)(void (*)(void))cb_log, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static int
one_login(void *arg, unsigned t, size_t i)
{
	size_t k = (i * 2654435761u) % npairs;
	sasl_conn_t *c = NULL;
	const char *out;
	unsigned outlen;
	char msg[512];
	int n, rc;

	if (strcmp(mech, "PLAIN") == 0) {
		n = snprintf(msg, sizeof(msg), "%c%s%c%s", 0, users[k], 0,
		    secrets[k]);
	} else {
		n = snprintf(msg, sizeof(msg), "n,a=%s,\001auth=Bearer %s\001\001",
		    users[k], secrets[k]);
	}
	if (sasl_server_new("imap", "bench", "bench", "127.0.0.1;4000",
	    "127.0.0.1;143", NULL, 0, &c) != SASL_OK)
		return -1;
	rc = sasl_server_start(c, mech, msg, (unsigned)n, &out, &outlen);
	sasl_dispose(&c);
	return rc == SASL_OK ? 0 : -1;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 7) {
		fprintf(stderr, "usage: bench_sasl PLUGINDIR MECH PAIRS ITERS "
		    "THREADS WARM\n");
		return 2;
	}
	plugindir = argv[1];
	mech = argv[2];
	npairs = bench_load_pairs(argv[3], &users, &secrets);
	if ((rc = sasl_server_init(cbs, "bench")) != SASL_OK) {
		fprintf(stderr, "sasl_server_init: %s\n",
		    sasl_errstring(rc, NULL, NULL));
		return 2;
	}
	bench_loop(one_login, NULL, (unsigned)atoi(argv[5]),
	    (size_t)atol(argv[4]), (size_t)atol(argv[6]));
	sasl_server_done();
	return 0;
}
