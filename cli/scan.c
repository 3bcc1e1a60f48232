/* satokenctl scan: the leak sweep.
 *
 * Finding is offline (common/scan.c: a token carries its own checksum),
 * so a pre-commit hook finds every token in what is about to be committed
 * with no daemon, store or key.  The daemon is asked only what became of
 * each token found (token.show, once per id), as the caller: a viewer may
 * see any token's metadata.  The exit code is 0 only when every token
 * found is known dead (revoked or expired); one that is active, or whose
 * state cannot be known (no daemon, not in this store), is 3: a token on
 * another host's store is no less a leak. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "err.h"
#include "mem.h"
#include "scan.h"

#define CHUNK		(1024 * 1024)

struct seen {
	char id[TOKEN_ID_LEN + 1];
	char account[72];
	char state[16];
};

struct sweep {
	struct ctl *c;
	int offline;		/* the daemon could not be reached */
	int revoke;		/* --revoke: revoke the live ones found */
	int live;		/* a token found is live or unknown */
	int failed;		/* a path could not be read */
	struct seen *seen;
	size_t nseen, capseen;
	char *chunk;		/* CHUNK bytes, one for the whole sweep */
	size_t dirty;		/* how much of it may hold a secret */
	/* the file being read */
	const char *file;
	const char *buf;	/* the chunk being scanned */
	size_t pos;		/* newlines counted up to here in buf */
	unsigned long line;
};

static struct sweep *walk_sweep;	/* nftw has no argument for us */

static int
shown(void *arg, json_t *reply, const char *line)
{
	struct seen *s = arg;
	const char *v;

	if ((v = json_string_value(json_object_get(reply, "account"))) != NULL)
		snprintf(s->account, sizeof(s->account), "%s", v);
	if ((v = json_string_value(json_object_get(reply, "status"))) != NULL)
		snprintf(s->state, sizeof(s->state), "%s", v);
	return 0;
}

/* What the daemon says of id, into s; unreachable: "unknown" from now on. */
static void
ask(struct sweep *w, struct seen *s)
{
	json_t *req, *refusal = NULL;
	const char *err;

	snprintf(s->account, sizeof(s->account), "-");
	snprintf(s->state, sizeof(s->state), "unknown");
	if (w->offline)
		return;
	if ((req = json_pack("{s:s, s:s}", "op", "token.show", "id",
	    s->id)) == NULL)
		return;
	if (ctl_pages(w->c, req, shown, s, &refusal) != 0) {
		/* ctl_call said why, once: the states stay unknown */
		w->offline = 1;
	} else if (refusal != NULL) {
		/* throttled for good, or refused: unknown, unless the
		 * daemon knows no such token */
		err = json_string_value(json_object_get(refusal, "error"));
		if (err != NULL && strcmp(err, "NOT_FOUND") == 0)
			snprintf(s->state, sizeof(s->state), "not_found");
		json_decref(refusal);
	}
	json_decref(req);
}

/* --revoke: a live token found in file is revoked as leaked, if the
 * caller may (action=token.leaked names the file).  s->state says what
 * it is after; a refusal is said on stderr and leaves it live. */
static void
revoke_leaked(struct sweep *w, struct seen *s, const char *file)
{
	json_t *req, *reply = NULL;
	const char *line, *msg;

	if (w->offline || strcmp(s->state, "active") != 0)
		return;
	if ((req = json_pack("{s:s, s:s, s:s}", "op", "token.leaked", "id",
	    s->id, "file", file)) == NULL)
		return;
	if (ctl_call(w->c, req, &reply, &line) != 0) {
		json_decref(req);
		w->offline = 1;
		return;
	}
	json_decref(req);
	if (json_is_true(json_object_get(reply, "ok"))) {
		snprintf(s->state, sizeof(s->state), "revoked");
		fprintf(stderr, "satokenctl: scan: revoked %s, leaked in %s\n",
		    s->id, file);
	} else {
		msg = json_string_value(json_object_get(reply, "message"));
		fprintf(stderr, "satokenctl: scan: cannot revoke %s: %s\n",
		    s->id, msg != NULL ? msg : "refused");
	}
	json_decref(reply);
}

static const struct seen *
lookup(struct sweep *w, const char *id)
{
	struct seen *s;
	size_t i;

	for (i = 0; i < w->nseen; i++)
		if (strcmp(w->seen[i].id, id) == 0)
			return &w->seen[i];
	if (w->nseen == w->capseen) {
		size_t cap = w->capseen ? 2 * w->capseen : 16;
		if ((s = realloc(w->seen, cap * sizeof(*s))) == NULL)
			return NULL;
		w->seen = s;
		w->capseen = cap;
	}
	s = &w->seen[w->nseen++];
	memcpy(s->id, id, sizeof(s->id));
	ask(w, s);
	if (w->revoke)
		revoke_leaked(w, s, w->file);
	return s;
}

static int
found(void *arg, size_t offset, const char id[TOKEN_ID_LEN + 1])
{
	struct sweep *w = arg;
	const struct seen *s;
	const char *p;

	for (p = w->buf + w->pos; (p = memchr(p, '\n',
	    (size_t)(w->buf + offset - p))) != NULL; p++)
		w->line++;
	w->pos = offset;
	if ((s = lookup(w, id)) == NULL)
		return SAT_E_NOMEM;
	printf("%s:%lu: %s %s %s\n", w->file, w->line, id, s->account,
	    s->state);
	if (strcmp(s->state, "revoked") != 0 && strcmp(s->state, "expired") != 0)
		w->live = 1;
	return 0;
}

/* Scans what fd reads, in chunks; what was read is wiped after each file
 * (it may hold secrets), as far as it was filled. */
static int
scan_fd(struct sweep *w, int fd, const char *name)
{
	char *buf;
	size_t carry = 0, consumed, len;
	ssize_t n;
	int r = 0;

	if (w->chunk == NULL && (w->chunk = malloc(CHUNK)) == NULL)
		return SAT_E_NOMEM;
	buf = w->chunk;
	w->file = name;
	w->line = 1;
	for (;;) {
		n = read(fd, buf + carry, CHUNK - carry);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = SAT_E_IO;
			break;
		}
		len = carry + (size_t)n;
		if (len > w->dirty)
			w->dirty = len;
		w->buf = buf;
		w->pos = 0;
		if ((r = scan_chunk(buf, len, n == 0, found, w, &consumed)) != 0)
			break;
		/* count the newlines of what is done with before moving on */
		for (const char *p = buf + w->pos; (p = memchr(p, '\n',
		    (size_t)(buf + consumed - p))) != NULL; p++)
			w->line++;
		memmove(buf, buf + consumed, len - consumed);
		carry = len - consumed;
		if (n == 0)
			break;
	}
	sat_wipe(buf, w->dirty);
	w->dirty = 0;
	return r;
}

static void
scan_path_file(struct sweep *w, const char *path)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0) {
		ctl_error("NOT_FOUND", "scan: %s: %s", path, strerror(errno));
		w->failed = 1;
	} else if (S_ISREG(st.st_mode)) {
		if ((r = scan_fd(w, fd, path)) != 0) {
			ctl_error("UNAVAILABLE", "scan: %s: %s", path,
			    sat_strerror(r));
			w->failed = 1;
		}
	}
	/* anything else (a fifo, a device) is not read: it may never end */
	if (fd >= 0)
		close(fd);
}

static int
walk_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	if (type == FTW_D && strcmp(path + f->base, ".git") == 0)
		return FTW_SKIP_SUBTREE;
	if (type == FTW_F)
		scan_path_file(walk_sweep, path);
	else if (type == FTW_DNR || type == FTW_NS) {
		ctl_error("NOT_FOUND", "scan: %s: cannot read", path);
		walk_sweep->failed = 1;
	}
	return FTW_CONTINUE;
}

int
c_scan(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	struct sweep w = { .c = c, .revoke = o->revoke };
	struct stat st;
	int i, r = 0;

	if (o->npos == 0) {
		if ((r = scan_fd(&w, STDIN_FILENO, "-")) != 0) {
			ctl_error("UNAVAILABLE", "scan: stdin: %s", sat_strerror(r));
			w.failed = 1;
		}
	}
	for (i = 0; i < o->npos; i++) {
		if (lstat(o->pos[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			walk_sweep = &w;
			if (nftw(o->pos[i], walk_one, 32,
			    FTW_PHYS | FTW_ACTIONRETVAL) != 0) {
				ctl_error("NOT_FOUND", "scan: %s: %s", o->pos[i],
				    strerror(errno));
				w.failed = 1;
			}
		} else {
			scan_path_file(&w, o->pos[i]);
		}
	}
	free(w.seen);
	free(w.chunk);	/* wiped after each file */
	fflush(stdout);
	if (w.live)
		return EXIT_PERMISSION;
	return w.failed ? EXIT_UNAVAILABLE : EXIT_OK;
}
