/* canary_login: one login through a module, then wait to be looked at.
 *
 *   canary_login pam  CONFDIR SERVICE USER            < tokenfile
 *   canary_login sasl PLUGINDIR CONFDIR APPNAME ACCOUNT < tokenfile
 *
 * Reads the token with read(2) into a buffer it wipes, logs in once
 * through the real libpam (pam_start_confdir) or the real libsasl2
 * (OAUTHBEARER, plugins and config from private directories), tears the
 * handle down, prints "accepted" or "refused", then "ready" and pauses
 * until a signal.  The test then takes a core of it (gcore) and looks for
 * the token's secret: what the module held must have been wiped, and
 * this program's own copies are, so a hit is the module's.
 * Never installed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <security/pam_appl.h>

#include "mem.h"

#define TOKEN_MAX 512
/* libsasl2 takes every callback as int (*)(void) */
#define CB(f)	((int (*)(void))(void (*)(void))(f))

static char token[TOKEN_MAX];

static int
read_token(void)
{
	ssize_t n;
	size_t len = 0;

	while (len < sizeof(token) - 1 &&
	    (n = read(0, token + len, sizeof(token) - 1 - len)) > 0)
		len += (size_t)n;
	while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
		len--;
	token[len] = '\0';
	return len > 0 ? 0 : -1;
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r;
	int i;

	(void)data;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF)
			continue;
		/* libpam wipes and frees the response once it has it */
		if ((r[i].resp = strdup(token)) == NULL) {
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int
login_pam(char **av)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *h;
	int r;

	if (pam_start_confdir(av[1], av[2], &c, av[0], &h) != PAM_SUCCESS)
		return -1;
	r = pam_authenticate(h, 0);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(h, 0);
	pam_end(h, r);
	return r == PAM_SUCCESS;
}

static const char *plugin_dir, *conf_dir;

static int
get_path(void *ctx, const char **path)
{
	(void)ctx;
	*path = plugin_dir;
	return SASL_OK;
}

static int
get_conf_path(void *ctx, char **path)
{
	(void)ctx;
	*path = (char *)conf_dir;
	return SASL_OK;
}

static int
login_sasl(char **av)
{
	static sasl_callback_t cbs[] = {
		{ SASL_CB_GETPATH, CB(get_path), NULL },
		{ SASL_CB_GETCONFPATH, CB(get_conf_path), NULL },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_conn_t *conn;
	const char *out;
	unsigned outlen;
	char msg[TOKEN_MAX + 128];
	int n, r;

	plugin_dir = av[0];
	conf_dir = av[1];
	if (sasl_server_init(cbs, av[2]) != SASL_OK)
		return -1;
	if (sasl_server_new(av[2], "localhost", NULL, NULL, NULL, NULL, 0,
	    &conn) != SASL_OK)
		return -1;
	n = snprintf(msg, sizeof(msg), "n,a=%s,\001auth=Bearer %s\001\001",
	    av[3], token);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	r = sasl_server_start(conn, "OAUTHBEARER", msg, (unsigned)n, &out,
	    &outlen);
	sat_wipe(msg, sizeof(msg));
	sasl_dispose(&conn);
	sasl_server_done();
	return r == SASL_OK;
}

int
main(int argc, char **argv)
{
	sigset_t set;
	int sig, r;

	if (argc < 5 || (strcmp(argv[1], "pam") != 0 &&
	    strcmp(argv[1], "sasl") != 0) ||
	    (strcmp(argv[1], "sasl") == 0 && argc < 6)) {
		fprintf(stderr, "usage: canary_login pam CONFDIR SERVICE USER\n"
		    "       canary_login sasl PLUGINDIR CONFDIR APP ACCOUNT\n");
		return 64;
	}
	if (read_token() != 0) {
		fprintf(stderr, "canary_login: no token on stdin\n");
		return 64;
	}
	r = strcmp(argv[1], "pam") == 0 ? login_pam(argv + 2) :
	    login_sasl(argv + 2);
	sat_wipe(token, sizeof(token));
	if (r < 0) {
		fprintf(stderr, "canary_login: %s could not start\n", argv[1]);
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("%s\nready\n", r ? "accepted" : "refused");
	fflush(stdout);
	sigwait(&set, &sig);
	return 0;
}
