/* fresh: an acknowledged revocation, disable or policy change refuses
 * the very next login, through both modules kept loaded and warm in
 * one process (pam_satoken.so stays mapped, the SASL plugin is loaded
 * once), many times, with no pause between the reply and the login.
 *
 *   fresh SOCK PAMDIR PLUGINDIR ROUNDS      (SATOKEN_CONF for SASL)
 *
 * Ends with "N passed, N failed"; exit 1 on any failure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <security/pam_appl.h>

static int sock = -1, passed, failed;
static const char *pamdir, *plugindir;
static char rbuf[65536];
static size_t rlen;

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One request, its reply line (the ack) in out. */
static int
req(char *out, size_t cap, const char *fmt, ...)
{
	char line[1024], *nl;
	va_list ap;
	ssize_t n;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	if (write(sock, line, (size_t)len + 1) != len + 1)
		return -1;
	while ((nl = memchr(rbuf, '\n', rlen)) == NULL) {
		if ((n = read(sock, rbuf + rlen, sizeof(rbuf) - rlen)) <= 0)
			return -1;
		rlen += (size_t)n;
	}
	len = (int)(nl - rbuf);
	snprintf(out, cap, "%.*s", len, rbuf);
	memmove(rbuf, nl + 1, rlen - (size_t)len - 1);
	rlen -= (size_t)len + 1;
	return strstr(out, "\"ok\":true") != NULL ? 0 : -1;
}

static void
field(const char *line, const char *name, char *out, size_t cap)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	out[0] = '\0';
	if ((p = strstr(line, key)) != NULL)
		snprintf(out, cap, "%.*s", (int)strcspn(p + strlen(key), "\""),
		    p + strlen(key));
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(data);
	*resp = r;
	return PAM_SUCCESS;
}

static int
pam_login(const char *user, const char *tok)
{
	struct pam_conv c = { conv, (void *)tok };
	pam_handle_t *h = NULL;
	int rc;

	if (pam_start_confdir("fresh", user, &c, pamdir, &h) != PAM_SUCCESS)
		return -1;
	rc = pam_authenticate(h, 0);
	pam_end(h, rc);
	return rc;
}

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
	if (strcmp(opt, "satoken_conf") != 0 || getenv("SATOKEN_CONF") == NULL)
		return SASL_FAIL;
	*res = getenv("SATOKEN_CONF");
	if (len != NULL)
		*len = (unsigned)strlen(*res);
	return SASL_OK;
}

typedef int (*sasl_cb_fn)(void);
static sasl_callback_t cbs[] = {
	{ SASL_CB_GETPATH, (sasl_cb_fn)(void (*)(void))cb_getpath, NULL },
	{ SASL_CB_GETOPT, (sasl_cb_fn)(void (*)(void))cb_getopt, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static int
sasl_login(const char *user, const char *tok)
{
	sasl_conn_t *c = NULL;
	const char *out;
	unsigned outlen;
	char msg[256];
	int n, rc;

	n = snprintf(msg, sizeof(msg), "n,a=%s,\001auth=Bearer %s\001\001",
	    user, tok);
	if (sasl_server_new("imap", "fresh", NULL, NULL, NULL, NULL, 0, &c) !=
	    SASL_OK)
		return -1;
	rc = sasl_server_start(c, "OAUTHBEARER", msg, (unsigned)n, &out,
	    &outlen);
	/* a refusal is the RFC 7628 error challenge: answer it, and the
	 * exchange must then fail */
	if (rc == SASL_CONTINUE)
		rc = sasl_server_step(c, "\001", 1, &out, &outlen);
	sasl_dispose(&c);
	return rc;
}

/* both modules accept (ok) or both refuse (!ok), right now */
static void
both(int ok, const char *user, const char *tok, const char *what, int i)
{
	int p = pam_login(user, tok), s = sasl_login(user, tok);

	check(ok ? p == PAM_SUCCESS : p == PAM_AUTH_ERR,
	    "round %d %s: PAM answered %d", i, what, p);
	check(ok ? s == SASL_OK : s != SASL_OK && s != SASL_CONTINUE,
	    "round %d %s: SASL answered %d", i, what, s);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	char r[4096], tok[128], id[64];
	int i, rounds;

	if (argc < 5)
		return 2;
	pamdir = argv[2];
	plugindir = argv[3];
	rounds = atoi(argv[4]);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if ((sock = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    sasl_server_init(cbs, "fresh") != SASL_OK) {
		perror("setup");
		return 2;
	}
	for (i = 0; i < rounds; i++) {
		/* a new token, and both readers warm with it */
		check(req(r, sizeof(r), "{\"op\":\"token.mint\",\"account\":"
		    "\"svc\",\"name\":\"r%d\",\"ttl\":600}", i) == 0,
		    "round %d: mint: %s", i, r);
		field(r, "token", tok, sizeof(tok));
		field(r, "id", id, sizeof(id));
		both(1, "svc", tok, "fresh token", i);
		both(1, "svc", tok, "warm view", i);

		switch (i % 3) {
		case 0:	/* revoke, then at once */
			check(req(r, sizeof(r), "{\"op\":\"token.revoke\","
			    "\"id\":\"%s\"}", id) == 0, "round %d: revoke", i);
			both(0, "svc", tok, "after revoke", i);
			break;
		case 1:	/* disable, at once; enable, at once */
			check(req(r, sizeof(r), "{\"op\":\"account.disable\","
			    "\"name\":\"svc\"}") == 0, "round %d: disable", i);
			both(0, "svc", tok, "after disable", i);
			check(req(r, sizeof(r), "{\"op\":\"account.enable\","
			    "\"name\":\"svc\"}") == 0, "round %d: enable", i);
			both(1, "svc", tok, "after enable", i);
			break;
		case 2:	/* the policy emptied, at once; restored, at once */
			check(req(r, sizeof(r), "{\"op\":\"policy.set\","
			    "\"groups\":[]}") == 0, "round %d: policy.set", i);
			both(0, "svc", tok, "after policy.set []", i);
			check(req(r, sizeof(r), "{\"op\":\"policy.add\","
			    "\"groups\":[\"fresh\"]}") == 0,
			    "round %d: policy.add", i);
			both(1, "svc", tok, "after policy.add", i);
			check(req(r, sizeof(r), "{\"op\":\"token.revoke\","
			    "\"id\":\"%s\"}", id) == 0, "round %d: revoke", i);
			break;
		}
	}
	memset(tok, 0, sizeof(tok));
	sasl_server_done();
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0;
}
