/* satokenctl: building requests from options, sending them, and the
 * two reply shapes (one object, or a listing in pages). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "err.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"

#define PUBKEY_FILE_MAX	16384

json_t *
req_new(const char *op)
{
	return json_pack("{s:s}", "op", op);
}

int
ctl_nomem(void)
{
	return ctl_error("UNAVAILABLE", "out of memory");
}

int
req_str(json_t *req, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	return json_object_set_new(req, k, json_string(v)) == 0 ? 0 : ctl_nomem();
}

int
req_list(json_t *req, const char *k, const struct strlist *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	if (a == NULL || json_object_set_new(req, k, a) != 0)
		return ctl_nomem();
	return 0;
}

int
req_int(json_t *req, const char *k, uint64_t v)
{
	return json_object_set_new(req, k, json_integer((json_int_t)v)) == 0 ?
	    0 : ctl_nomem();
}

int
req_duration(json_t *req, const char *k, const char *opt, const char *v)
{
	uint64_t d;

	if (v == NULL)
		return 0;
	if (parse_duration(v, 0, (uint64_t)INT64_MAX / 4, &d) != 0)
		return ctl_error("VALIDATION", "--%s '%s': expected a duration "
		    "such as 45s, 15m, 1h30m, 2w3d or plain seconds", opt, v);
	return req_int(req, k, d);
}

int
req_number(json_t *req, const char *k, const char *opt, const char *v)
{
	uint64_t n;

	if (v == NULL)
		return 0;
	if (parse_u64(v, 0, 1000000000, &n) != 0)
		return ctl_error("VALIDATION", "--%s '%s': expected a number",
		    opt, v);
	return req_int(req, k, n);
}

static int
put_pubkey(json_t *req, const char *file)
{
	char *pem = NULL;
	size_t len;
	int fd, r;

	if (file == NULL)
		return 0;
	/* --public-key '' removes the key; an empty file is a mistake
	 * (/dev/null, a key not yet written), never a silent removal */
	if (file[0] == '\0')
		return req_str(req, "public_key", "");
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return ctl_error("VALIDATION", "--public-key %s: %s", file,
		    strerror(errno));
	r = fileio_slurp(fd, PUBKEY_FILE_MAX, &pem, &len);
	close(fd);
	if (r != 0)
		return ctl_error("VALIDATION", "--public-key %s: %s", file,
		    r == SAT_E_INVALID ? "larger than 16 KiB" : sat_strerror(r));
	if (len == 0) {
		free(pem);
		return ctl_error("VALIDATION", "--public-key %s: the file is "
		    "empty (--public-key '' removes a key)", file);
	}
	r = req_str(req, "public_key", pem);
	free(pem);
	return r;
}

int
req_account_opts(json_t *req, const struct opts *o)
{
	int r;

	struct strlist none;

	/* --group '' alone clears the groups */
	strlist_init(&none);
	if ((r = req_str(req, "role", o->role)) != 0 ||
	    (o->groups.n > 0 && (r = req_list(req, "groups",
	    o->groups.n == 1 && o->groups.v[0][0] == '\0' ? &none :
	    &o->groups)) != 0) ||
	    (r = req_str(req, "owner", o->owner)) != 0 ||
	    (r = req_str(req, "description", o->description)) != 0 ||
	    (r = req_number(req, "days_valid", "days-valid", o->days_valid)) ||
	    (r = put_pubkey(req, o->public_key)) != 0 ||
	    (r = req_str(req, "external_id", o->external_id)) != 0)
		return r;
	return 0;
}

int
req_mint_opts(json_t *req, const struct opts *o)
{
	int r;

	if ((r = req_duration(req, "ttl", "ttl", o->ttl)) != 0 ||
	    (o->services.n > 0 &&
	    (r = req_list(req, "services", &o->services)) != 0) ||
	    (o->froms.n > 0 && (r = req_list(req, "sources", &o->froms)) != 0))
		return r;
	return 0;
}

/* Sends req (consumed) and hands an ok reply to print (NULL: the
 * command prints nothing of it but its confirmation). */
int
ctl_send(struct ctl *c, json_t *req, void (*print)(json_t *), const char *done)
{
	json_t *reply = NULL;
	const char *line;
	int r;

	if ((r = ctl_ask(c, req, &reply, &line)) != 0)
		return r;
	if (c->json)
		fputs(line, stdout);
	else {
		if (print != NULL)
			print(reply);
		if (done != NULL)
			printf("%s\n", done);
	}
	json_decref(reply);
	return 0;
}

int
ctl_send_minted(struct ctl *c, json_t *req, const struct opts *o)
{
	json_t *reply = NULL;
	const char *line, *tok, *id;
	char *js;
	int fd, r;

	if (req == NULL)
		return ctl_nomem();
	if (o->output == NULL)
		return ctl_send(c, req, print_minted, NULL);
	/* made before the request: an existing file refuses with nothing
	 * minted; O_EXCL and O_NOFOLLOW so no file or link is followed */
	fd = open(o->output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		r = ctl_error("VALIDATION", "--output %s: %s%s", o->output,
		    strerror(errno), errno == EEXIST ? " (not overwritten; "
		    "nothing minted)" : "");
		json_decref(req);
		return r;
	}
	if (fchmod(fd, 0600) != 0) {
		r = ctl_error("UNAVAILABLE", "--output %s: %s", o->output,
		    strerror(errno));
		json_decref(req);
		goto fail;
	}
	if ((r = ctl_ask(c, req, &reply, &line)) != 0)
		goto fail;
	tok = json_string_value(json_object_get(reply, "token"));
	id = json_string_value(json_object_get(reply, "id"));
	/* the token alone, no newline: ldapwhoami -y and curl read it as is */
	if (tok == NULL || fileio_write_all(fd, tok, strlen(tok)) != 0 ||
	    fsync(fd) != 0) {
		r = ctl_error("UNAVAILABLE", "--output %s: %s; token %s was "
		    "minted but not saved: revoke it", o->output,
		    tok == NULL ? "no token in the reply" : strerror(errno),
		    id != NULL ? id : "?");
		goto fail;
	}
	r = close(fd);
	fd = -1;
	if (r != 0) {
		r = ctl_error("UNAVAILABLE", "--output %s: %s; token %s was "
		    "minted but not saved: revoke it", o->output,
		    strerror(errno), id != NULL ? id : "?");
		goto fail;
	}
	(void)json_object_del(reply, "token");
	if (c->json) {
		if (json_object_set_new(reply, "output",
		    json_string(o->output)) != 0 ||
		    (js = json_dumps(reply, JSON_COMPACT)) == NULL) {
			json_decref(reply);
			return ctl_nomem();
		}
		printf("%s\n", js);
		free(js);
	} else {
		print_minted(reply);
		fprintf(stderr, "token written to %s (mode 0600, no newline)\n",
		    o->output);
	}
	json_decref(reply);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(o->output);
	json_decref(reply);
	return r;
}

/* A question on the terminal, where a person is.  Stdin and stderr must
 * both be terminals: a script (stdin a pipe or a file) or a run whose
 * messages go to a log is never asked, and a question nobody sees never
 * blocks it. */
int
ctl_confirm(const struct opts *o, const char *question)
{
	char ans[16];
	size_t n = 0;
	ssize_t k;
	char ch;

	if (o->yes || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return 0;
	fprintf(stderr, "%s Continue? [y/N] ", question);
	fflush(stderr);
	while ((k = read(STDIN_FILENO, &ch, 1)) == 1 ||
	    (k < 0 && errno == EINTR)) {
		if (k < 0)
			continue;
		if (ch == '\n')
			break;
		if (n + 1 < sizeof(ans))
			ans[n++] = ch;
	}
	while (n > 0 && (ans[n - 1] == '\r' || ans[n - 1] == ' '))
		n--;
	ans[n] = '\0';
	if (strcasecmp(ans, "y") == 0 || strcasecmp(ans, "yes") == 0)
		return 0;
	return ctl_error("ABORTED", "not confirmed; nothing changed (--yes "
	    "skips the question)");
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
ctl_pages(struct ctl *c, json_t *req,
    int (*page)(void *arg, json_t *reply, const char *line), void *arg,
    json_t **ret_refusal)
{
	json_t *reply = NULL;
	json_int_t wait;
	const char *line, *err, *cur;
	int r, tries = 0;

	for (;;) {
		if ((r = ctl_call(c, req, &reply, &line)) != 0)
			return r;
		if (!json_is_true(json_object_get(reply, "ok"))) {
			err = json_string_value(json_object_get(reply, "error"));
			/* the rate limit says when to come back: the leak sweep
			 * (which takes the refusals itself) waits; a listing
			 * or a backup exits THROTTLED as any request does */
			if (ret_refusal != NULL && err != NULL &&
			    strcmp(err, "THROTTLED") == 0 &&
			    ++tries < CTL_THROTTLE_TRIES) {
				wait = json_integer_value(json_object_get(reply,
				    "retry_after_ms"));
				json_decref(reply);
				sleep_ms(wait > 0 && wait < 10000 ? (long)wait : 100);
				continue;
			}
			if (ret_refusal != NULL) {
				*ret_refusal = reply;
				return 0;
			}
			r = ctl_reply_error(c, reply, line);
			break;
		}
		tries = 0;
		if ((r = page(arg, reply, line)) != 0)
			break;
		cur = json_string_value(json_object_get(reply, "cursor"));
		if (cur == NULL)
			break;
		if (json_object_set_new(req, "cursor", json_string(cur)) != 0) {
			r = ctl_nomem();
			break;
		}
		json_decref(reply);
	}
	json_decref(reply);
	return r == CTL_LAST ? 0 : r;
}

struct listing {
	struct ctl *c;
	int single, page;
	json_t *all;
	void (*print)(json_t *, int);
};

static int
list_page(void *arg, json_t *reply, const char *line)
{
	struct listing *l = arg;
	json_t *items = json_object_get(reply, "items");
	const char *cur;

	if (l->c->json && l->single)
		fputs(line, stdout);
	else if (l->c->json)
		json_array_extend(l->all, items);
	else
		l->print(items, l->page == 0);
	l->page++;
	if (!l->single)
		return 0;
	cur = json_string_value(json_object_get(reply, "cursor"));
	if (cur != NULL && !l->c->json)
		fprintf(stderr, "more: --cursor %s\n", cur);
	return CTL_LAST;
}

/* A listing: one page when --limit or --cursor is given, else every
 * page (with --json, merged into one reply). */
int
ctl_list(struct ctl *c, json_t *req, const struct opts *o,
    void (*print)(json_t *, int))
{
	struct listing l = { c, o->limit != NULL || o->cursor != NULL, 0,
	    NULL, print };
	int r = 0;

	if (req == NULL)
		return ctl_nomem();
	if ((r = req_number(req, "limit", "limit", o->limit)) != 0 ||
	    (r = req_str(req, "cursor", o->cursor)) != 0)
		goto out;
	if (!l.single && o->limit == NULL && (r = req_int(req, "limit", 1000)))
		goto out;
	if (c->json && !l.single && (l.all = json_array()) == NULL) {
		r = ctl_nomem();
		goto out;
	}
	if ((r = ctl_pages(c, req, list_page, &l, NULL)) != 0)
		goto out;
	if (l.all != NULL) {
		json_t *all = json_pack("{s:b, s:O}", "ok", 1, "items", l.all);
		char *s = all != NULL ? json_dumps(all, JSON_COMPACT) : NULL;

		if (s == NULL)
			r = ctl_nomem();
		else
			printf("%s\n", s);
		free(s);
		json_decref(all);
	}
out:
	json_decref(l.all);
	json_decref(req);
	return r;
}

/* The token to verify comes from stdin, never from argv: argv is public
 * to every local user (ps, /proc). */
int
ctl_read_secret(char *buf, size_t cap)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), echo_off = 0;
	size_t n = 0;
	ssize_t k;
	char ch;

	if (tty) {
		fputs("Token: ", stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	/* one line, byte by byte: nothing past it is consumed */
	while ((k = read(STDIN_FILENO, &ch, 1)) == 1 || (k < 0 && errno == EINTR)) {
		if (k < 0)
			continue;
		if (ch == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = ch;
	}
	if (echo_off) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	ch = 0;
	return (int)n;
}

