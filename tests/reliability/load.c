/* load: many clients at once against satokend, every reply checked, the
 * daemon's memory and descriptors watched (issue 8: "64 clients for
 * 60 s: no failed request, RSS and open files flat").
 *
 *   load SOCK DAEMON_PID CLIENTS SECONDS
 *
 * Run as an admin (root) against a daemon with rate_limit = 0.  Each client thread has its own connection and its
 * own service account (group "load", in the policy) and sends, for
 * SECONDS, a mix of what a site sends: token.verify of its good token
 * and of bad ones (revoked, unknown id, wrong secret), whoami,
 * account.show, token.list, token.mint followed by token.revoke of what
 * it minted, and token.create followed by account.delete.  Revoked
 * tokens stay in the store until retain_days, so the client mints on a
 * scratch account that it deletes (with its tokens) and makes again
 * every MINTS_PER_SCRATCH mints: the store stays bounded, and a growing
 * RSS means a leak, not data.
 *
 * Each second the main thread samples the daemon's VmRSS and its open
 * descriptors.  Flat means: after a warm-up (the first 20% of the
 * samples), the highest value of the last third of what is left is at
 * most the highest of the middle third plus a margin (RSS: 512 KiB or
 * 2%, whichever is more, for the allocator's and GDBM's caches settling:
 * a healthy daemon grows by tens of KiB; descriptors: 2, for a
 * connection in the middle of closing).  A leak of 32 bytes a request,
 * at the 10,000 requests/s and more reached here, grows the last third
 * by MiBs.
 *
 * Prints throughput, p50/p99 per op, the RSS and descriptor series, and
 * exits 0 only if every request got the expected reply and both series
 * are flat.  Never installed. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crc.h"
#include "drive.h"
#include "token.h"

enum op {
	OP_VERIFY_GOOD, OP_VERIFY_REVOKED, OP_VERIFY_UNKNOWN, OP_VERIFY_SECRET,
	OP_WHOAMI, OP_SHOW, OP_LIST, OP_MINT, OP_REVOKE, OP_CREATE, OP_DELETE,
	OP_ACCOUNT_CREATE, OP_N
};

static const char *op_names[OP_N] = {
	"verify(good)", "verify(revoked)", "verify(unknown)",
	"verify(secret)", "whoami",
	"account.show", "token.list", "token.mint", "token.revoke",
	"token.create", "account.delete", "account.create",
};

/* out of 100 steps; a mint step is followed by its revoke, a create by
 * its delete, so those come in pairs */
static const struct {
	enum op op;
	int weight;
} mix[] = {
	{ OP_VERIFY_GOOD, 40 }, { OP_VERIFY_REVOKED, 8 },
	{ OP_VERIFY_UNKNOWN, 4 }, { OP_VERIFY_SECRET, 4 }, { OP_WHOAMI, 10 },
	{ OP_SHOW, 12 },
	{ OP_LIST, 10 }, { OP_MINT, 8 }, { OP_CREATE, 4 },
};

#define MINTS_PER_SCRATCH	16

struct samples {
	double *v;
	size_t n, cap;
};

struct client {
	pthread_t th;
	int id, fd;
	unsigned seed;
	char account[32];
	char scratch[32];	/* where it mints; deleted and made again */
	int scratch_minted;
	char good[128], revoked[128];
	char unknown[TOKEN_LEN + 1], bad_secret[TOKEN_LEN + 1];
	struct samples lat[OP_N];
	unsigned long failed;
	char first_error[512];
};

static const char *sock_path;
static volatile int stop_now;

static int
samples_add(struct samples *s, double v)
{
	double *nv;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		if ((nv = realloc(s->v, s->cap * sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
	}
	s->v[s->n++] = v;
	return 0;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/* One request, one reply line: the parsed reply, or NULL with why. */
static json_t *
roundtrip(int fd, const char *req, char *why, size_t whylen)
{
	char buf[65536];
	size_t len = strlen(req), got = 0;
	ssize_t n;
	json_error_t je;
	json_t *rep;

	while (len > 0) {
		if ((n = send(fd, req, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "send: %s", strerror(errno));
			return NULL;
		}
		req += n;
		len -= (size_t)n;
	}
	for (;;) {
		if (got == sizeof(buf) - 1) {
			snprintf(why, whylen, "reply too long");
			return NULL;
		}
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "connection %s", n == 0 ?
			    "closed by the daemon" : strerror(errno));
			return NULL;
		}
		got += (size_t)n;
		if (buf[got - 1] == '\n')
			break;
	}
	buf[got] = '\0';
	if ((rep = json_loads(buf, 0, &je)) == NULL)
		snprintf(why, whylen, "bad JSON: %.200s", buf);
	return rep;
}

static int
is_ok(json_t *rep)
{
	return json_is_true(json_object_get(rep, "ok"));
}

static const char *
str_of(json_t *rep, const char *key)
{
	const char *s = json_string_value(json_object_get(rep, key));

	return s != NULL ? s : "";
}

static void
client_fail(struct client *c, const char *what, const char *detail)
{
	if (c->failed++ == 0)
		snprintf(c->first_error, sizeof(c->first_error), "%s: %s",
		    what, detail);
}

/* Sends req and checks the reply; 0 if it is as expected.  *ret_rep, if
 * given, gets the reply (the caller frees it). */
static int
ask(struct client *c, enum op op, const char *req, const char *want_reason,
    json_t **ret_rep)
{
	char why[300], desc[400];
	json_t *rep;
	double t0 = now_s();
	int good;

	rep = roundtrip(c->fd, req, why, sizeof(why));
	(void)samples_add(&c->lat[op], now_s() - t0);
	if (rep == NULL) {
		client_fail(c, op_names[op], why);
		/* a client whose connection is gone starts a new one */
		close(c->fd);
		c->fd = dial(sock_path);
		return -1;
	}
	good = is_ok(rep);
	if (good && op <= OP_VERIFY_SECRET)
		good = strcmp(str_of(rep, "reason"), want_reason) == 0;
	if (!good) {
		char *s = json_dumps(rep, JSON_COMPACT);

		snprintf(desc, sizeof(desc), "%.360s", s != NULL ? s : "?");
		free(s);
		client_fail(c, op_names[op], desc);
		json_decref(rep);
		return -1;
	}
	if (ret_rep != NULL)
		*ret_rep = rep;
	else
		json_decref(rep);
	return 0;
}

static void
verify_req(char *req, size_t len, const char *account, const char *tok)
{
	snprintf(req, len, "{\"op\":\"token.verify\",\"account\":\"%s\","
	    "\"token\":\"%s\"}\n", account, tok);
}

/* A copy of tok with the character at pos changed and the checksum made
 * right again: a token the store never issued that passes the format
 * check, so that the daemon does the lookup and the hash. */
static void
forge(const char *tok, size_t pos, char out[TOKEN_LEN + 1])
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz";
	uint32_t crc;
	int i;

	snprintf(out, TOKEN_LEN + 1, "%s", tok);
	out[pos] = out[pos] == 'A' ? 'B' : 'A';
	crc = crc32_ieee(0, out, TOKEN_LEN - 6);
	for (i = TOKEN_LEN - 1; i >= TOKEN_LEN - 6; i--) {
		out[i] = b62[crc % 62];
		crc /= 62;
	}
}

/* The account, its good token and a revoked one. */
static int
client_setup(struct client *c)
{
	char req[512];
	json_t *rep;

	snprintf(c->account, sizeof(c->account), "load-%d", c->id);
	snprintf(c->scratch, sizeof(c->scratch), "ls-%d", c->id);
	snprintf(req, sizeof(req), "{\"op\":\"account.create\",\"name\":"
	    "\"%s\",\"groups\":[\"load\"]}\n", c->scratch);
	if (ask(c, OP_ACCOUNT_CREATE, req, NULL, NULL) != 0)
		return -1;
	snprintf(req, sizeof(req), "{\"op\":\"token.create\",\"account\":"
	    "\"%s\",\"name\":\"good\",\"groups\":[\"load\"],\"ttl\":86400}\n",
	    c->account);
	if (ask(c, OP_CREATE, req, NULL, &rep) != 0)
		return -1;
	snprintf(c->good, sizeof(c->good), "%s", str_of(rep, "token"));
	json_decref(rep);
	if (strlen(c->good) != TOKEN_LEN) {
		client_fail(c, "token.create", "no token in the reply");
		return -1;
	}
	forge(c->good, 4, c->unknown);
	forge(c->good, 4 + TOKEN_ID_LEN + 3, c->bad_secret);
	snprintf(req, sizeof(req), "{\"op\":\"token.mint\",\"account\":\"%s\","
	    "\"name\":\"old\",\"ttl\":86400}\n", c->account);
	if (ask(c, OP_MINT, req, NULL, &rep) != 0)
		return -1;
	snprintf(c->revoked, sizeof(c->revoked), "%s", str_of(rep, "token"));
	snprintf(req, sizeof(req), "{\"op\":\"token.revoke\",\"id\":\"%s\"}\n",
	    str_of(rep, "id"));
	json_decref(rep);
	if (ask(c, OP_REVOKE, req, NULL, NULL) != 0)
		return -1;
	/* the setup is not part of the figures */
	for (int i = 0; i < OP_N; i++)
		c->lat[i].n = 0;
	return 0;
}

static enum op
pick(struct client *c)
{
	int r = rand_r(&c->seed) % 100, i;

	for (i = 0; i < (int)(sizeof(mix) / sizeof(mix[0])); i++) {
		if (r < mix[i].weight)
			return mix[i].op;
		r -= mix[i].weight;
	}
	return OP_WHOAMI;
}

static void
client_step(struct client *c, unsigned long seq)
{
	char req[512], name[64];
	json_t *rep;
	enum op op = pick(c);

	switch (op) {
	case OP_VERIFY_GOOD:
		verify_req(req, sizeof(req), c->account, c->good);
		(void)ask(c, op, req, "ok", NULL);
		break;
	case OP_VERIFY_REVOKED:
		verify_req(req, sizeof(req), c->account, c->revoked);
		(void)ask(c, op, req, "revoked", NULL);
		break;
	case OP_VERIFY_UNKNOWN:
		verify_req(req, sizeof(req), c->account, c->unknown);
		(void)ask(c, op, req, "unknown_token", NULL);
		break;
	case OP_VERIFY_SECRET:
		verify_req(req, sizeof(req), c->account, c->bad_secret);
		(void)ask(c, op, req, "bad_secret", NULL);
		break;
	case OP_WHOAMI:
		(void)ask(c, op, "{\"op\":\"whoami\"}\n", NULL, NULL);
		break;
	case OP_SHOW:
		snprintf(req, sizeof(req), "{\"op\":\"account.show\","
		    "\"name\":\"%s\"}\n", c->account);
		(void)ask(c, op, req, NULL, NULL);
		break;
	case OP_LIST:
		snprintf(req, sizeof(req), "{\"op\":\"token.list\","
		    "\"account\":\"%s\",\"limit\":20}\n", c->account);
		(void)ask(c, op, req, NULL, NULL);
		break;
	case OP_MINT:
		if (c->scratch_minted++ == MINTS_PER_SCRATCH) {
			c->scratch_minted = 1;
			snprintf(req, sizeof(req), "{\"op\":\"account.delete\","
			    "\"name\":\"%s\"}\n", c->scratch);
			(void)ask(c, OP_DELETE, req, NULL, NULL);
			snprintf(req, sizeof(req), "{\"op\":\"account.create\","
			    "\"name\":\"%s\",\"groups\":[\"load\"]}\n",
			    c->scratch);
			(void)ask(c, OP_ACCOUNT_CREATE, req, NULL, NULL);
		}
		snprintf(req, sizeof(req), "{\"op\":\"token.mint\",\"account\":"
		    "\"%s\",\"name\":\"m%lu\",\"ttl\":600}\n", c->scratch, seq);
		if (ask(c, op, req, NULL, &rep) != 0)
			break;
		snprintf(req, sizeof(req), "{\"op\":\"token.revoke\","
		    "\"id\":\"%s\"}\n", str_of(rep, "id"));
		json_decref(rep);
		(void)ask(c, OP_REVOKE, req, NULL, NULL);
		break;
	case OP_CREATE:
		snprintf(name, sizeof(name), "lc-%d-%lu", c->id, seq);
		snprintf(req, sizeof(req), "{\"op\":\"token.create\","
		    "\"account\":\"%s\",\"name\":\"t\",\"groups\":[\"load\"],"
		    "\"ttl\":600}\n", name);
		if (ask(c, op, req, NULL, NULL) != 0)
			break;
		snprintf(req, sizeof(req), "{\"op\":\"account.delete\","
		    "\"name\":\"%s\"}\n", name);
		(void)ask(c, OP_DELETE, req, NULL, NULL);
		break;
	default:
		break;
	}
}

static void *
client_run(void *arg)
{
	struct client *c = arg;
	unsigned long seq = 0;

	while (!stop_now && c->fd >= 0)
		client_step(c, seq++);
	if (c->fd < 0 && !stop_now)
		client_fail(c, "connect", strerror(errno));
	return NULL;
}

/* Flat as defined above: 1, or 0 with the figures in why. */
static int
flat(const long *v, size_t n, long margin_abs, double margin_rel,
    char *why, size_t whylen)
{
	size_t w = n / 5, third, i;
	long mid = 0, last = 0, margin;

	if (n - w < 3) {
		snprintf(why, whylen, "too few samples (%zu)", n);
		return 0;
	}
	third = (n - w) / 3;
	for (i = w + third; i < w + 2 * third; i++)
		if (v[i] > mid)
			mid = v[i];
	for (i = w + 2 * third; i < n; i++)
		if (v[i] > last)
			last = v[i];
	margin = (long)(mid * margin_rel);
	if (margin < margin_abs)
		margin = margin_abs;
	snprintf(why, whylen, "max of the middle third %ld, of the last %ld, "
	    "margin %ld", mid, last, margin);
	return last <= mid + margin;
}

static void
print_series(const char *what, const long *v, size_t n)
{
	size_t i;

	printf("%s:", what);
	for (i = 0; i < n; i++)
		printf(" %ld", v[i]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct client *cl;
	struct samples all[OP_N];
	long pid, *rss, *fds;
	unsigned long failed = 0, total = 0;
	size_t nsamp = 0, k;
	int nclients, secs, i, j, ok = 1;
	double t0, elapsed;
	char why[200];
	json_t *rep;

	if (argc != 5) {
		fprintf(stderr, "usage: load SOCK DAEMON_PID CLIENTS SECONDS\n");
		return 2;
	}
	/* line by line: a sanitizer's exit report must not eat what was
	 * printed */
	setvbuf(stdout, NULL, _IOLBF, 0);
	sock_path = argv[1];
	pid = atol(argv[2]);
	nclients = atoi(argv[3]);
	secs = atoi(argv[4]);
	if (nclients < 1 || secs < 1)
		return 2;
	cl = calloc((size_t)nclients, sizeof(*cl));
	rss = calloc((size_t)secs + 2, sizeof(*rss));
	fds = calloc((size_t)secs + 2, sizeof(*fds));
	if (cl == NULL || rss == NULL || fds == NULL)
		return 2;

	/* the group the accounts verify through; one of the clients'
	 * connections does it, so that we never hold more than CLIENTS */
	for (i = 0; i < nclients; i++) {
		cl[i].id = i;
		cl[i].seed = (unsigned)(i * 7919 + 1);
		if ((cl[i].fd = dial(sock_path)) < 0) {
			fprintf(stderr, "load: connect %s: %s\n", sock_path,
			    strerror(errno));
			return 1;
		}
	}
	if (ask(&cl[0], OP_WHOAMI, "{\"op\":\"group.create\",\"name\":"
	    "\"load\"}\n", NULL, NULL) != 0 ||
	    ask(&cl[0], OP_WHOAMI, "{\"op\":\"policy.add\",\"groups\":"
	    "[\"load\"]}\n", NULL, &rep) != 0) {
		fprintf(stderr, "load: setup: %s\n", cl[0].first_error);
		return 1;
	}
	json_decref(rep);
	for (i = 0; i < nclients; i++) {
		if (client_setup(&cl[i]) != 0) {
			fprintf(stderr, "load: setup of client %d: %s\n", i,
			    cl[i].first_error);
			return 1;
		}
	}

	t0 = now_s();
	for (i = 0; i < nclients; i++)
		if (pthread_create(&cl[i].th, NULL, client_run, &cl[i]) != 0) {
			fprintf(stderr, "load: pthread_create failed\n");
			return 1;
		}
	for (k = 0; k < (size_t)secs; k++) {
		double next = t0 + (double)(k + 1);

		while (now_s() < next)
			usleep(20000);
		rss[nsamp] = rss_kib(pid);
		fds[nsamp] = fd_count(pid);
		if (rss[nsamp] < 0 || fds[nsamp] < 0) {
			fprintf(stderr, "load: the daemon (pid %ld) is gone\n",
			    pid);
			ok = 0;
			break;
		}
		nsamp++;
	}
	stop_now = 1;
	for (i = 0; i < nclients; i++)
		pthread_join(cl[i].th, NULL);
	elapsed = now_s() - t0;

	memset(all, 0, sizeof(all));
	for (i = 0; i < nclients; i++) {
		failed += cl[i].failed;
		if (cl[i].failed > 0)
			fprintf(stderr, "load: client %d: %lu failed; first: %s\n",
			    i, cl[i].failed, cl[i].first_error);
		for (j = 0; j < OP_N; j++)
			for (k = 0; k < cl[i].lat[j].n; k++)
				(void)samples_add(&all[j], cl[i].lat[j].v[k]);
	}
	printf("%d clients, %.1f s\n", nclients, elapsed);
	for (j = 0; j < OP_N; j++) {
		if (all[j].n == 0)
			continue;
		qsort(all[j].v, all[j].n, sizeof(double), cmp_d);
		total += all[j].n;
		printf("  %-16s %8zu  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
		    op_names[j], all[j].n, pct(all[j].v, all[j].n, 0.5) * 1e3,
		    pct(all[j].v, all[j].n, 0.99) * 1e3,
		    all[j].v[all[j].n - 1] * 1e3);
	}
	printf("requests %lu, %.0f/s, failed %lu\n", total,
	    (double)total / elapsed, failed);
	print_series("rss_kib", rss, nsamp);
	print_series("fds", fds, nsamp);
	if (nsamp > 0)
		printf("rss start/middle/end %ld/%ld/%ld KiB, fds %ld/%ld/%ld\n",
		    rss[0], rss[nsamp / 2], rss[nsamp - 1], fds[0],
		    fds[nsamp / 2], fds[nsamp - 1]);
	if (failed > 0)
		ok = 0;
	if (!flat(rss, nsamp, 512, 0.02, why, sizeof(why))) {
		printf("RSS NOT FLAT: %s\n", why);
		ok = 0;
	} else {
		printf("rss flat: %s\n", why);
	}
	if (!flat(fds, nsamp, 2, 0, why, sizeof(why))) {
		printf("FDS NOT FLAT: %s\n", why);
		ok = 0;
	} else {
		printf("fds flat: %s\n", why);
	}
	for (i = 0; i < nclients; i++) {
		explicit_bzero(cl[i].good, sizeof(cl[i].good));
		explicit_bzero(cl[i].bad_secret, sizeof(cl[i].bad_secret));
		if (cl[i].fd >= 0)
			close(cl[i].fd);
		for (j = 0; j < OP_N; j++)
			free(cl[i].lat[j].v);
	}
	for (j = 0; j < OP_N; j++)
		free(all[j].v);
	free(cl);
	free(rss);
	free(fds);
	printf("%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
