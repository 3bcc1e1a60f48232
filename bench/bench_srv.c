/* bench_srv: logins through a real server, spoken in its own protocol,
 * from several concurrent clients (bench/servers.sh).
 *
 *   bench_srv MODE ADDR PAIRS ITERS THREADS WARM
 *
 * ADDR is a TCP port on 127.0.0.1, or for dauth a Unix socket path.
 * PAIRS holds "NAME SECRET" lines (the secrets stay in this process).
 * MODE, each login being what a mail client does for one session:
 *   imap        connect, greeting, LOGIN name secret, LOGOUT, close
 *   imap0       connect, greeting, LOGOUT, close: the connection alone
 *   dauth       AUTH PLAIN on Dovecot's auth-client socket, one kept
 *               connection per thread (what imap-login asks the auth
 *               process, without the login and imap processes)
 *   smtp-plain  connect, greeting, EHLO, AUTH PLAIN, QUIT, close
 *   smtp-oauth  the same with AUTH OAUTHBEARER (RFC 7628, gs2 "n,,")
 *   smtp0       connect, greeting, EHLO, QUIT, close
 * Prints bench_loop's line, "p50_us p99_us ops_per_s failures"; a login
 * fails when the server's answer is not the success reply. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "stats.h"

#define MAXTHREADS 64

static const char *mode, *addr;
static char **names, **secrets;
static size_t npairs;

struct conn {
	int fd;
	size_t have, off;
	char buf[8192];
};

/* the kept auth-client connection of each thread (dauth) */
static struct conn kept[MAXTHREADS];
static unsigned kept_id[MAXTHREADS];

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 of in[0..n) into out (room for 4 * ((n + 2) / 3) + 1 bytes) */
static void
b64enc(const unsigned char *in, size_t n, char *out)
{
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
		*out++ = b64[v & 63];
	}
	if (i < n) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int
conn_open(struct conn *c)
{
	struct timeval tv = { 30, 0 };

	c->have = c->off = 0;
	if (strcmp(mode, "dauth") == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(addr) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, addr);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return -1;
		if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			goto fail;
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		sin.sin_port = htons((unsigned short)atoi(addr));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return -1;
		if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
			goto fail;
	}
	/* a server that stops answering fails the login, not the run */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return -1;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int
conn_send(struct conn *c, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* the next line, without its end, into line (cap bytes); longer lines
 * are cut (the replies looked at are short) */
static int
conn_line(struct conn *c, char *line, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	for (;;) {
		if (c->off == c->have) {
			r = recv(c->fd, c->buf, sizeof(c->buf), 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			c->have = (size_t)r;
			c->off = 0;
		}
		ch = c->buf[c->off++];
		if (ch == '\n')
			break;
		if (ch != '\r' && n + 1 < cap)
			line[n++] = ch;
	}
	line[n] = '\0';
	return 0;
}

/* reads lines until one starts with prefix; fails on EOF */
static int
conn_until(struct conn *c, const char *prefix, char *line, size_t cap)
{
	size_t n = strlen(prefix);

	do {
		if (conn_line(c, line, cap) != 0)
			return -1;
	} while (strncmp(line, prefix, n) != 0);
	return 0;
}

static int
imap_login(size_t k, int with_login)
{
	struct conn *c = malloc(sizeof(*c));
	char line[1024], cmd[512];
	int n, rc = 1;

	if (c == NULL || conn_open(c) != 0)
		goto out;
	if (conn_line(c, line, sizeof(line)) != 0 || strncmp(line, "* OK", 4) != 0)
		goto out;
	if (with_login) {
		n = snprintf(cmd, sizeof(cmd), "a LOGIN \"%s\" \"%s\"\r\n",
		    names[k], secrets[k]);
		if (n < 0 || (size_t)n >= sizeof(cmd) ||
		    conn_send(c, cmd, (size_t)n) != 0 ||
		    conn_until(c, "a ", line, sizeof(line)) != 0 ||
		    strncmp(line, "a OK", 4) != 0)
			goto out;
	}
	if (conn_send(c, "b LOGOUT\r\n", 10) != 0 ||
	    conn_until(c, "b ", line, sizeof(line)) != 0 ||
	    strncmp(line, "b OK", 4) != 0)
		goto out;
	rc = 0;
out:
	if (c != NULL) {
		conn_close(c);
		explicit_bzero(c, sizeof(*c));
		free(c);
	}
	explicit_bzero(cmd, sizeof(cmd));
	return rc;
}

/* an SMTP reply: the code of its last line (after any "250-" lines) */
static int
smtp_reply(struct conn *c, char *line, size_t cap)
{
	do {
		if (conn_line(c, line, cap) != 0 || strlen(line) < 3)
			return -1;
	} while (line[3] == '-');
	return atoi(line);
}

static int
smtp_login(size_t k, const char *mech)
{
	struct conn *c = malloc(sizeof(*c));
	char line[1024], msg[512], cmd[800];
	int n, rc = 1;

	if (c == NULL || conn_open(c) != 0)
		goto out;
	if (smtp_reply(c, line, sizeof(line)) != 220 ||
	    conn_send(c, "EHLO bench.example\r\n", 20) != 0 ||
	    smtp_reply(c, line, sizeof(line)) != 250)
		goto out;
	if (mech != NULL) {
		if (strcmp(mech, "PLAIN") == 0)
			n = snprintf(msg, sizeof(msg), "%c%s%c%s", 0, names[k],
			    0, secrets[k]);
		else
			n = snprintf(msg, sizeof(msg),
			    "n,,\001auth=Bearer %s\001\001", secrets[k]);
		if (n < 0 || (size_t)n >= sizeof(msg))
			goto out;
		memcpy(cmd, "AUTH ", 5);
		strcpy(cmd + 5, mech);
		strcat(cmd, " ");
		b64enc((unsigned char *)msg, (size_t)n, cmd + strlen(cmd));
		strcat(cmd, "\r\n");
		if (conn_send(c, cmd, strlen(cmd)) != 0 ||
		    smtp_reply(c, line, sizeof(line)) != 235)
			goto out;
	}
	if (conn_send(c, "QUIT\r\n", 6) != 0 ||
	    smtp_reply(c, line, sizeof(line)) != 221)
		goto out;
	rc = 0;
out:
	if (c != NULL) {
		conn_close(c);
		explicit_bzero(c, sizeof(*c));
		free(c);
	}
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(cmd, sizeof(cmd));
	return rc;
}

/* Dovecot's auth-client protocol (version 1.2), as imap-login speaks it */
static int
dauth_login(unsigned t, size_t k)
{
	struct conn *c = &kept[t];
	char line[1024], msg[512], cmd[900];
	int n, rc = 1;

	line[0] = '\0';
	if (c->fd < 0) {
		if (conn_open(c) != 0)
			return 1;
		n = snprintf(cmd, sizeof(cmd), "VERSION\t1\t2\nCPID\t%u\n",
		    (unsigned)getpid() * 64 + t);
		if (conn_send(c, cmd, (size_t)n) != 0 ||
		    conn_until(c, "DONE", line, sizeof(line)) != 0) {
			conn_close(c);
			return 1;
		}
	}
	n = snprintf(msg, sizeof(msg), "%c%s%c%s", 0, names[k], 0, secrets[k]);
	if (n < 0 || (size_t)n >= sizeof(msg))
		goto out;
	n = snprintf(cmd, sizeof(cmd), "AUTH\t%u\tPLAIN\tservice=imap\tsecured"
	    "\tlip=127.0.0.1\trip=127.0.0.1\tresp=", ++kept_id[t]);
	b64enc((unsigned char *)msg, strlen(names[k]) + strlen(secrets[k]) + 2,
	    cmd + n);
	strcat(cmd, "\n");
	if (conn_send(c, cmd, strlen(cmd)) != 0 ||
	    conn_line(c, line, sizeof(line)) != 0)
		goto out;
	n = snprintf(msg, sizeof(msg), "OK\t%u\t", kept_id[t]);
	rc = strncmp(line, msg, (size_t)n) != 0;
out:
	if (rc != 0 && c->fd >= 0 && strncmp(line, "FAIL", 4) != 0)
		conn_close(c);
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(cmd, sizeof(cmd));
	return rc;
}

static int
one_login(void *arg, unsigned t, size_t i)
{
	size_t k = (i * 2654435761u + t) % npairs;

	if (strcmp(mode, "imap") == 0)
		return imap_login(k, 1);
	if (strcmp(mode, "imap0") == 0)
		return imap_login(k, 0);
	if (strcmp(mode, "dauth") == 0)
		return dauth_login(t, k);
	if (strcmp(mode, "smtp-plain") == 0)
		return smtp_login(k, "PLAIN");
	if (strcmp(mode, "smtp-oauth") == 0)
		return smtp_login(k, "OAUTHBEARER");
	return smtp_login(k, NULL);
}

int
main(int argc, char **argv)
{
	unsigned threads, t;

	if (argc != 7) {
		fprintf(stderr, "usage: bench_srv imap|imap0|dauth|smtp-plain|"
		    "smtp-oauth|smtp0 PORT|SOCKET PAIRS ITERS THREADS WARM\n");
		return 2;
	}
	mode = argv[1];
	addr = argv[2];
	npairs = bench_load_pairs(argv[3], &names, &secrets);
	threads = (unsigned)atoi(argv[5]);
	if (threads < 1 || threads > MAXTHREADS)
		return 2;
	for (t = 0; t < MAXTHREADS; t++)
		kept[t].fd = -1;
	bench_loop(one_login, NULL, threads, (size_t)atol(argv[4]),
	    (size_t)atol(argv[6]));
	for (t = 0; t < threads; t++)
		conn_close(&kept[t]);
	return 0;
}
