/* satokenctl: the connection to satokend, one request and its reply,
 * and the one place errors become exit codes (common/wire.c's table). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "err.h"
#include "fileio.h"
#include "mem.h"
#include "wire.h"

#define REPLY_MAX	(256 * 1024 * 1024)
#define TOKEN_FILE_MAX	4096
#define CALL_TIMEOUT_S	60

int
ctl_error(const char *code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "satokenctl: %s: ", code);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return wire_exit(code);
}

int
ctl_reply_error(struct ctl *c, json_t *reply, const char *line)
{
	const char *code = json_string_value(json_object_get(reply, "error"));
	const char *msg = json_string_value(json_object_get(reply, "message"));

	if (c->json)
		fputs(line, stdout);
	return ctl_error(code != NULL ? code : "INTERNAL", "%s",
	    msg != NULL ? msg : "(no message)");
}

/* --socket, else the config's socket key ($SATOKEN_CONF, else the
 * system file when we may read it), else the built-in default. */
static int
resolve_socket(struct ctl *c)
{
	static struct sat_config cfg;
	char err[SAT_ERRMSG_MAX];
	const char *path = getenv("SATOKEN_CONF");
	char *abs = NULL;
	int r;

	if (c->socket != NULL)
		return 0;
	if (cfg_init(&cfg) != 0)
		return ctl_error("UNAVAILABLE", "out of memory");
	if (path != NULL && path[0] != '/' &&
	    (path = abs = realpath(path, NULL)) == NULL)
		return ctl_error("UNAVAILABLE", "SATOKEN_CONF: %s",
		    strerror(errno));
	/* an admin who may not read the system file gets the defaults */
	r = path != NULL || access(SAT_CONF_DEFAULT, R_OK) == 0 ||
	    errno == ENOENT ? cfg_load(&cfg, path, err, sizeof(err)) : 0;
	free(abs);
	if (r != 0)
		return ctl_error("UNAVAILABLE", "%s", err);
	c->socket = cfg.socket;	/* lives as long as the process */
	return 0;
}

static int
read_token_file(struct ctl *c)
{
	char *text = NULL;
	size_t len = 0, a = 0;
	int fd, r;

	fd = open(c->token_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ctl_error("VALIDATION", "--token-file %s: %s",
		    c->token_file, strerror(errno));
	r = fileio_slurp(fd, TOKEN_FILE_MAX, &text, &len);
	close(fd);
	if (r != 0)
		return ctl_error("VALIDATION", "--token-file %s: %s",
		    c->token_file, r == SAT_E_INVALID ? "too large" :
		    sat_strerror(r));
	/* the token is one word: trim the newline an editor leaves */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	while (a < len && (text[a] == ' ' || text[a] == '\t'))
		a++;
	if (a == len || (c->auth_token = sat_strndup(text + a, len - a)) == NULL) {
		sat_freezero(text, len);
		return ctl_error("VALIDATION", "--token-file %s: empty",
		    c->token_file);
	}
	sat_freezero(text, len);
	return 0;
}

static int
connect_daemon(struct ctl *c)
{
	struct sockaddr_un sa;
	struct timeval tv = { CALL_TIMEOUT_S, 0 };
	int r;

	if ((r = resolve_socket(c)) != 0)
		return r;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(c->socket) >= sizeof(sa.sun_path))
		return ctl_error("VALIDATION", "socket path too long: %s",
		    c->socket);
	memcpy(sa.sun_path, c->socket, strlen(c->socket));
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		r = errno;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return ctl_error("UNAVAILABLE", "cannot connect to satokend at "
		    "%s: %s", c->socket, strerror(r));
	}
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

/* send(2) without SIGPIPE: a daemon that hung up (it ran out of memory,
 * or was stopped) must read as UNAVAILABLE, not kill us with exit 141. */
static int
send_all(int fd, const void *p, size_t n)
{
	const char *q = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, q, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return SAT_E_IO;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one reply line into c->rbuf; returns its length (with '\n'). */
static int
read_line(struct ctl *c, size_t *ret_len)
{
	char *nl, *nb;
	ssize_t n;
	size_t ncap;

	for (;;) {
		if (c->rlen > 0 && (nl = memchr(c->rbuf, '\n', c->rlen)) != NULL) {
			*ret_len = (size_t)(nl - c->rbuf) + 1;
			return 0;
		}
		if (c->rlen + 1 >= c->rcap) {
			ncap = c->rcap ? c->rcap * 2 : 65536;
			if (ncap > REPLY_MAX)
				return ctl_error("INTERNAL", "reply too large");
			if ((nb = malloc(ncap)) == NULL)
				return ctl_error("UNAVAILABLE", "out of memory");
			if (c->rlen > 0)
				memcpy(nb, c->rbuf, c->rlen);
			sat_freezero(c->rbuf, c->rcap);
			c->rbuf = nb;
			c->rcap = ncap;
		}
		n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return ctl_error("UNAVAILABLE", "satokend did not answer "
			    "within %d s", CALL_TIMEOUT_S);
		if (n <= 0)
			return ctl_error("UNAVAILABLE", "satokend closed the "
			    "connection without an answer");
		c->rlen += (size_t)n;
	}
}

int
ctl_call(struct ctl *c, json_t *req, json_t **ret, const char **ret_line)
{
	static char *last;
	json_error_t je;
	json_t *reply;
	char *s;
	size_t n, len = 0;
	int r;

	if (c->token_file != NULL && c->auth_token == NULL &&
	    (r = read_token_file(c)) != 0)
		return r;
	if (c->fd < 0 && (r = connect_daemon(c)) != 0)
		return r;
	/* --wait: a control host then gives the change's position */
	if (c->wait_ms > 0 && json_object_get(req, "confirm") == NULL &&
	    json_object_set_new(req, "confirm", json_true()) != 0)
		return ctl_error("UNAVAILABLE", "out of memory");
	if (c->auth_token != NULL &&
	    json_object_set_new(req, "auth_token", json_string(c->auth_token)))
		return ctl_error("UNAVAILABLE", "out of memory");
	s = json_dumps(req, JSON_COMPACT);
	(void)json_object_del(req, "auth_token");
	if (s == NULL)
		return ctl_error("UNAVAILABLE", "out of memory");
	n = strlen(s);
	r = send_all(c->fd, s, n);
	if (r == 0)
		r = send_all(c->fd, "\n", 1);
	sat_freezero(s, n);
	if (r != 0)
		return ctl_error("UNAVAILABLE", "cannot send to satokend: %s",
		    strerror(errno));
	if ((r = read_line(c, &len)) != 0)
		return r;
	reply = json_loadb(c->rbuf, len, JSON_REJECT_DUPLICATES, &je);
	/* keep the raw line for --json, wiped at the next call */
	sat_free_secret_str(last);
	last = sat_strndup(c->rbuf, len);
	memmove(c->rbuf, c->rbuf + len, c->rlen - len);
	c->rlen -= len;
	sat_wipe(c->rbuf + c->rlen, len);
	if (reply == NULL || !json_is_object(reply) || last == NULL) {
		if (reply != NULL)
			json_decref(reply);
		return ctl_error("INTERNAL", "malformed reply from satokend");
	}
	*ret = reply;
	*ret_line = last;
	return 0;
}

int
ctl_ask(struct ctl *c, json_t *req, json_t **ret, const char **ret_line)
{
	json_t *reply;
	const char *line;
	int r;

	r = req != NULL ? ctl_call(c, req, &reply, &line) : ctl_nomem();
	json_decref(req);
	if (r != 0)
		return r;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		r = ctl_reply_error(c, reply, line);
		json_decref(reply);
		return r;
	}
	if (c->wait_ms > 0 && json_object_get(reply, "csn") != NULL) {
		/* the raw line is gone with the next call: --json prints
		 * the reply as it stands after the wait */
		ctl_wait_applied(c, reply);
		if ((line = ctl_wait_line(c, reply)) == NULL) {
			json_decref(reply);
			return ctl_nomem();
		}
	}
	*ret = reply;
	*ret_line = line;
	return 0;
}
