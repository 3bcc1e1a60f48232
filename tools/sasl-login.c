/* sasl-login: one SASL OAUTHBEARER login through the real libsasl2, the
 * server and the client in one process, for make demo.
 *
 *   sasl-login --plugin-dir DIR --conf-dir DIR --service SVC
 *              --account NAME [--from ADDR] < tokenfile
 *
 * libsasl2 loads the plugins of --plugin-dir only (SASL_CB_GETPATH) and
 * reads the application config "satoken-demo.conf" from --conf-dir
 * (SASL_CB_GETCONFPATH), whose satoken_conf names the store; no system
 * file is read or written.  The token is read from stdin, never argv:
 * argv is public to every local user.
 *
 * Exit: 0 accepted, 1 refused (SASL_BADAUTH), 2 any other failure
 * (store unavailable, plugin missing...), 64 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sasl/sasl.h>

#include "mem.h"

#define APPNAME		"satoken-demo"
#define TOKEN_MAX	1024
#define EXIT_REFUSED	1
#define EXIT_FAILED	2
#define EXIT_USAGE	64

/* libsasl2 stores every callback as int (*)(void) */
#define CB(f)	((int (*)(void))(void (*)(void))(f))

struct answers {
	const char *plugin_dir;
	const char *conf_dir;
	const char *account;	/* the authentication name */
	sasl_secret_t *secret;	/* owned, wiped: the token */
};

static int
cb_getpath(void *context, const char **path)
{
	const struct answers *a = context;

	*path = a->plugin_dir;
	return SASL_OK;
}

static int
cb_getconfpath(void *context, char **path)
{
	const struct answers *a = context;

	/* libsasl2 declares it char ** but never writes through it */
	*path = (char *)(uintptr_t)a->conf_dir;
	return SASL_OK;
}

/* libsasl2's own messages only with SAT_SASL_DEBUG: they are for
 * whoever debugs the plugin, not for the demo's reader. */
static int
cb_log(void *context, int level, const char *message)
{
	if (getenv("SAT_SASL_DEBUG") != NULL)
		fprintf(stderr, "sasl[%d]: %s\n", level, message);
	return SASL_OK;
}

static int
cb_simple(void *context, int id, const char **result, unsigned *len)
{
	const struct answers *a = context;

	/* the account names itself; no separate authorization identity */
	*result = id == SASL_CB_AUTHNAME ? a->account : "";
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
cb_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
	const struct answers *a = context;

	*psecret = a->secret;
	return SASL_OK;
}

/* One line of stdin, without its newline, into a sasl_secret_t. */
static int
read_token(struct answers *a)
{
	char buf[TOKEN_MAX];
	size_t n = 0;
	ssize_t k;
	char ch;

	while (n + 1 < sizeof(buf) &&
	    ((k = read(STDIN_FILENO, &ch, 1)) == 1 || (k < 0 && errno == EINTR))) {
		if (k < 0)
			continue;
		if (ch == '\n')
			break;
		buf[n++] = ch;
	}
	ch = 0;
	while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n == 0) {
		sat_wipe(buf, sizeof(buf));
		return -1;
	}
	if ((a->secret = malloc(sizeof(sasl_secret_t) + n)) == NULL) {
		sat_wipe(buf, sizeof(buf));
		return -1;
	}
	a->secret->len = (unsigned long)n;
	memcpy(a->secret->data, buf, n);
	a->secret->data[n] = '\0';
	sat_wipe(buf, sizeof(buf));
	return 0;
}

/* Postfix's and slapd's default: anonymous mechanisms are not offered. */
static int
set_secprops(sasl_conn_t *c)
{
	sasl_security_properties_t sp;

	memset(&sp, 0, sizeof(sp));
	sp.max_ssf = 256;
	sp.maxbufsize = 65536;
	sp.security_flags = SASL_SEC_NOANONYMOUS;
	return sasl_setprop(c, SASL_SEC_PROPS, &sp);
}

/* The exchange as an application drives it; prints what the server said
 * back and returns the server's final result. */
static int
exchange(sasl_conn_t *cc, sasl_conn_t *sc)
{
	sasl_interact_t *prompts = NULL;
	const char *co = NULL, *so = NULL, *mech = NULL;
	unsigned col = 0, sol = 0;
	int rc, rs;

	rc = sasl_client_start(cc, "OAUTHBEARER", &prompts, &co, &col, &mech);
	if (rc != SASL_CONTINUE && rc != SASL_OK) {
		fprintf(stderr, "sasl-login: client: %s\n", sasl_errdetail(cc));
		return rc;
	}
	rs = sasl_server_start(sc, "OAUTHBEARER", co, col, &so, &sol);
	while (rs == SASL_CONTINUE) {
		/* RFC 7628: a refusal is an error challenge, answered by
		 * the client with a lone \x01 before the server fails */
		printf("server challenge: %.*s\n", (int)sol, so != NULL ? so : "");
		rc = sasl_client_step(cc, so, sol, &prompts, &co, &col);
		if (rc != SASL_CONTINUE && rc != SASL_OK)
			return rc;
		rs = sasl_server_step(sc, co, col, &so, &sol);
	}
	return rs;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: sasl-login --plugin-dir DIR --conf-dir DIR "
	    "--service SVC --account NAME\n"
	    "                  [--from ADDR] < tokenfile\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin-dir", required_argument, NULL, 'p' },
		{ "conf-dir", required_argument, NULL, 'c' },
		{ "service", required_argument, NULL, 's' },
		{ "account", required_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct answers a;
	const char *service = NULL, *from = "127.0.0.1";
	char remote[128];
	sasl_conn_t *sc = NULL, *cc = NULL;
	const char *mechs = NULL;
	const void *user = NULL;
	unsigned mlen = 0;
	int ch, r, ret = EXIT_FAILED;

	memset(&a, 0, sizeof(a));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': a.plugin_dir = optarg; break;
		case 'c': a.conf_dir = optarg; break;
		case 's': service = optarg; break;
		case 'a': a.account = optarg; break;
		case 'f': from = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || a.plugin_dir == NULL || a.conf_dir == NULL ||
	    service == NULL || a.account == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* SASL_IPREMOTEPORT is "addr;port"; the plugin scopes on addr */
	if (snprintf(remote, sizeof(remote), "%s;40000", from) >=
	    (int)sizeof(remote)) {
		fprintf(stderr, "sasl-login: --from too long\n");
		return EXIT_USAGE;
	}
	if (read_token(&a) != 0) {
		fprintf(stderr, "sasl-login: no token on stdin\n");
		return EXIT_USAGE;
	}

	{
		sasl_callback_t global[] = {
			{ SASL_CB_GETPATH, CB(cb_getpath), &a },
			{ SASL_CB_GETCONFPATH, CB(cb_getconfpath), &a },
			{ SASL_CB_LOG, CB(cb_log), &a },
			{ SASL_CB_LIST_END, NULL, NULL },
		};
		sasl_callback_t client[] = {
			{ SASL_CB_AUTHNAME, CB(cb_simple), &a },
			{ SASL_CB_USER, CB(cb_simple), &a },
			{ SASL_CB_PASS, CB(cb_pass), &a },
			{ SASL_CB_LIST_END, NULL, NULL },
		};

		if ((r = sasl_server_init(global, APPNAME)) != SASL_OK ||
		    (r = sasl_client_init(global)) != SASL_OK) {
			fprintf(stderr, "sasl-login: libsasl2 init: %s\n",
			    sasl_errstring(r, NULL, NULL));
			goto out;
		}
		if (sasl_server_new(service, "localhost", NULL,
		    "127.0.0.1;143", remote, NULL, 0, &sc) != SASL_OK ||
		    set_secprops(sc) != SASL_OK ||
		    sasl_client_new(service, "localhost", remote,
		    "127.0.0.1;143", client, 0, &cc) != SASL_OK ||
		    set_secprops(cc) != SASL_OK) {
			fprintf(stderr, "sasl-login: cannot make a connection\n");
			goto out;
		}
		if (sasl_listmech(sc, NULL, "", " ", "", &mechs, &mlen, NULL) ==
		    SASL_OK)
			printf("server offers: %.*s\n", (int)mlen, mechs);
		r = exchange(cc, sc);
	}
	if (r == SASL_OK &&
	    sasl_getprop(sc, SASL_USERNAME, &user) == SASL_OK && user != NULL) {
		printf("OAUTHBEARER: accepted, the server's user is %s\n",
		    (const char *)user);
		ret = 0;
	} else if (r == SASL_BADAUTH) {
		printf("OAUTHBEARER: refused (%s)\n", sasl_errstring(r, NULL,
		    NULL));
		ret = EXIT_REFUSED;
	} else {
		printf("OAUTHBEARER: failed (%s)\n", sasl_errstring(r, NULL,
		    NULL));
	}
out:
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	sasl_server_done();
	sasl_client_done();
	if (a.secret != NULL)
		sat_freezero(a.secret, sizeof(sasl_secret_t) + a.secret->len);
	return ret;
}
