/* bench_mint: satokend's socket protocol as fast as a client can drive
 * it.  Requests are JSON lines; secrets read from replies go to a 0600
 * file, never to argv or the terminal.
 *
 *   bench_mint fill SOCK FROM TO PER CONNS PAIRS
 *       accounts a0000000.. (indexes FROM..TO-1, group "bench"), PER
 *       tokens each, pipelined on CONNS connections; appends each
 *       account's first token to PAIRS as "ACCOUNT TOKEN"
 *   bench_mint lat SOCK N PREFIX
 *       N token.create one after the other: "p50_us p99_us"
 *   bench_mint thr SOCK CLIENTS SECONDS PREFIX
 *       CLIENTS connections, one request in flight each: "tokens_per_s
 *       p50_us p99_us failures"
 *   bench_mint fsync DIR N
 *       4 KiB pwrite + fdatasync N times in DIR: "p50_us"
 *   bench_mint deep SOCK ACCOUNT N CONNS
 *       N token.mint into ACCOUNT (which exists), pipelined on CONNS
 *       connections; every other one with ttl 1 s, so that half of
 *       them are soon retained (expired) and half live: "requests_per_s"
 *   bench_mint mlat SOCK ACCOUNT N PREFIX
 *       N token.mint into ACCOUNT one after the other (names PREFIXi):
 *       "p50_us p99_us failures"
 *   bench_mint own SOCK CLIENTS SECONDS PREFIX
 *       CLIENTS connections, each creating account PREFIXk and then
 *       minting into it, one request in flight: "tokens_per_s p50_us
 *       p99_us failures tokens" */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stats.h"

#define WINDOW	256

static const char *sock_path;

static int
dial(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror(sock_path);
		exit(2);
	}
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			perror("write");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* A line reader over a connection. */
struct rd {
	int fd;
	char buf[1 << 16];
	size_t len, off;
};

static int
read_line(struct rd *r, char *out, size_t cap)
{
	char *nl;
	ssize_t n;
	size_t l;

	for (;;) {
		nl = memchr(r->buf + r->off, '\n', r->len - r->off);
		if (nl != NULL) {
			l = (size_t)(nl - (r->buf + r->off));
			if (l >= cap)
				l = cap - 1;
			memcpy(out, r->buf + r->off, l);
			out[l] = '\0';
			r->off = (size_t)(nl - r->buf) + 1;
			return 0;
		}
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
		if ((n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len)) <= 0)
			return -1;
		r->len += (size_t)n;
	}
}

/* Copies the "token" field of a reply into tok (empty if none). */
static void
reply_token(const char *line, char *tok, size_t cap)
{
	const char *p = strstr(line, "\"token\":\"");
	size_t n;

	tok[0] = '\0';
	if (p == NULL)
		return;
	p += 9;
	n = strcspn(p, "\"");
	if (n < cap) {
		memcpy(tok, p, n);
		tok[n] = '\0';
	}
}

static int
reply_ok(const char *line)
{
	return strstr(line, "\"ok\":true") != NULL;
}

/* fill */
struct filler {
	pthread_t th;
	long from, to, per, conns, k;
	FILE *pairs;
	size_t fails;
};
static pthread_mutex_t pairs_lock = PTHREAD_MUTEX_INITIALIZER;

static int
fill_req(const struct filler *f, size_t n, char *out, size_t cap, long *acct,
    long *tok)
{
	long per_acct = f->per + 1, idx = (long)n / per_acct;
	long a = f->from + f->k + idx * f->conns, t = (long)n % per_acct;

	*acct = a;
	*tok = t;
	if (a >= f->to)
		return -1;
	if (t == 0)
		return snprintf(out, cap, "{\"op\":\"account.create\",\"name\":"
		    "\"a%07ld\",\"groups\":[\"bench\"]}\n", a);
	return snprintf(out, cap, "{\"op\":\"token.mint\",\"account\":"
	    "\"a%07ld\",\"name\":\"t%ld\"}\n", a, t);
}

static void *
fill_main(void *p)
{
	struct filler *f = p;
	struct rd *r = calloc(1, sizeof(*r));
	char req[256], line[4096], tok[128];
	size_t sent = 0, got = 0;
	long a, t, ra, rt;
	int n, done = 0;

	r->fd = dial();
	for (;;) {
		while (!done && sent - got < WINDOW) {
			if ((n = fill_req(f, sent, req, sizeof(req), &a, &t)) < 0) {
				done = 1;
				break;
			}
			send_all(r->fd, req, (size_t)n);
			sent++;
		}
		if (got == sent)
			break;
		if (read_line(r, line, sizeof(line)) != 0) {
			fprintf(stderr, "fill: connection closed\n");
			f->fails += sent - got;
			break;
		}
		(void)fill_req(f, got, req, sizeof(req), &ra, &rt);
		got++;
		if (!reply_ok(line)) {
			if (f->fails++ < 3)
				fprintf(stderr, "fill: %s\n", line);
			continue;
		}
		if (rt == 1) {
			reply_token(line, tok, sizeof(tok));
			pthread_mutex_lock(&pairs_lock);
			fprintf(f->pairs, "a%07ld %s\n", ra, tok);
			pthread_mutex_unlock(&pairs_lock);
		}
	}
	close(r->fd);
	free(r);
	return NULL;
}

static int
do_fill(char **argv)
{
	long from = atol(argv[0]), to = atol(argv[1]), per = atol(argv[2]);
	long conns = atol(argv[3]), k;
	struct filler *f = calloc((size_t)conns, sizeof(*f));
	int fd = open(argv[4], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	FILE *pairs = fd >= 0 ? fdopen(fd, "a") : NULL;
	size_t fails = 0;

	if (pairs == NULL || f == NULL) {
		perror(argv[4]);
		return 2;
	}
	for (k = 0; k < conns; k++) {
		f[k] = (struct filler){ .from = from, .to = to, .per = per,
		    .conns = conns, .k = k, .pairs = pairs };
		pthread_create(&f[k].th, NULL, fill_main, &f[k]);
	}
	for (k = 0; k < conns; k++) {
		pthread_join(f[k].th, NULL);
		fails += f[k].fails;
	}
	fclose(pairs);
	if (fails > 0)
		fprintf(stderr, "fill: %zu requests failed\n", fails);
	return fails > 0;
}

/* lat, thr: token.create, one request in flight per connection */
struct client {
	pthread_t th;
	const char *prefix;
	const char *account;	/* mint into it; NULL: token.create */
	int own;		/* create account prefix+id, mint into it */
	unsigned id;
	uint64_t until_ns;
	size_t n, ok, fails, cap;
	uint64_t *lat;
};

static void *
client_main(void *p)
{
	struct client *c = p;
	struct rd *r = calloc(1, sizeof(*r));
	char req[256], line[4096];
	uint64_t t0;
	size_t i;
	int n;

	r->fd = dial();
	if (c->own) {
		n = snprintf(req, sizeof(req), "{\"op\":\"account.create\","
		    "\"name\":\"%s%u\",\"groups\":[\"bench\"]}\n",
		    c->prefix, c->id);
		send_all(r->fd, req, (size_t)n);
		if (read_line(r, line, sizeof(line)) != 0 || !reply_ok(line)) {
			fprintf(stderr, "own: %s\n", line);
			c->fails++;
			c->cap = 0;
		}
	}
	for (i = 0; i < c->cap; i++) {
		if (c->until_ns != 0 && bench_now_ns() >= c->until_ns)
			break;
		if (c->own)
			n = snprintf(req, sizeof(req), "{\"op\":\"token.mint\","
			    "\"account\":\"%s%u\",\"name\":\"m%zu\"}\n",
			    c->prefix, c->id, i);
		else if (c->account != NULL)
			n = snprintf(req, sizeof(req), "{\"op\":\"token.mint\","
			    "\"account\":\"%s\",\"name\":\"%s%zu\"}\n",
			    c->account, c->prefix, i);
		else
			n = snprintf(req, sizeof(req), "{\"op\":\"token.create\","
			    "\"account\":\"%s%u_%zu\",\"groups\":"
			    "[\"bench\"]}\n", c->prefix, c->id, i);
		t0 = bench_now_ns();
		send_all(r->fd, req, (size_t)n);
		if (read_line(r, line, sizeof(line)) != 0) {
			c->fails++;
			break;
		}
		c->lat[c->n++] = bench_now_ns() - t0;
		if (reply_ok(line))
			c->ok++;
		else if (c->fails++ < 3)
			fprintf(stderr, "mint: %s\n", line);
	}
	memset(line, 0, sizeof(line));
	close(r->fd);
	free(r);
	return NULL;
}

static void
run_clients(unsigned nc, size_t cap, double seconds, const char *prefix,
    const char *account, int own)
{
	struct client *c = calloc(nc, sizeof(*c));
	uint64_t *all, t0, el;
	size_t i, k, n = 0, ok = 0, fails = 0;

	t0 = bench_now_ns();
	for (k = 0; k < nc; k++) {
		c[k].prefix = prefix;
		c[k].account = account;
		c[k].own = own;
		c[k].id = (unsigned)k;
		c[k].cap = cap;
		c[k].until_ns = seconds > 0 ? t0 + (uint64_t)(seconds * 1e9) : 0;
		c[k].lat = calloc(cap, sizeof(uint64_t));
		pthread_create(&c[k].th, NULL, client_main, &c[k]);
	}
	for (k = 0; k < nc; k++)
		pthread_join(c[k].th, NULL);
	el = bench_now_ns() - t0;
	all = calloc(nc * cap, sizeof(*all));
	for (k = 0; k < nc; k++) {
		for (i = 0; i < c[k].n; i++)
			all[n++] = c[k].lat[i];
		ok += c[k].ok;
		fails += c[k].fails;
		free(c[k].lat);
	}
	if (account != NULL)
		printf("%.1f %.1f %zu\n", bench_pct(all, n, 50) / 1000.0,
		    bench_pct(all, n, 99) / 1000.0, fails);
	else if (own)
		printf("%.0f %.1f %.1f %zu %zu\n", (double)ok * 1e9 /
		    (double)el, bench_pct(all, n, 50) / 1000.0,
		    bench_pct(all, n, 99) / 1000.0, fails, ok);
	else
		printf("%.0f %.1f %.1f %zu\n", (double)ok * 1e9 / (double)el,
		    bench_pct(all, n, 50) / 1000.0,
		    bench_pct(all, n, 99) / 1000.0, fails);
	free(all);
	free(c);
}

/* deep: one account, pipelined */
struct deeper {
	pthread_t th;
	const char *account;
	long from, to;
	size_t fails;
};

static void *
deep_main(void *p)
{
	struct deeper *d = p;
	struct rd *r = calloc(1, sizeof(*r));
	char req[256], line[4096];
	long sent = d->from, got = d->from;
	int n;

	r->fd = dial();
	while (got < d->to) {
		while (sent < d->to && sent - got < WINDOW) {
			n = snprintf(req, sizeof(req), "{\"op\":\"token.mint\","
			    "\"account\":\"%s\",\"name\":\"d%ld\","
			    "\"ttl\":%d}\n", d->account, sent,
			    sent % 2 ? 3600 : 1);
			send_all(r->fd, req, (size_t)n);
			sent++;
		}
		if (read_line(r, line, sizeof(line)) != 0) {
			d->fails += (size_t)(sent - got);
			break;
		}
		got++;
		if (!reply_ok(line) && d->fails++ < 3)
			fprintf(stderr, "deep: %s\n", line);
	}
	memset(line, 0, sizeof(line));
	close(r->fd);
	free(r);
	return NULL;
}

static int
do_deep(const char *account, long n, long conns)
{
	struct deeper *d = calloc((size_t)conns, sizeof(*d));
	uint64_t t0 = bench_now_ns();
	size_t fails = 0;
	long k;

	for (k = 0; k < conns; k++) {
		d[k] = (struct deeper){ .account = account,
		    .from = n * k / conns, .to = n * (k + 1) / conns };
		pthread_create(&d[k].th, NULL, deep_main, &d[k]);
	}
	for (k = 0; k < conns; k++) {
		pthread_join(d[k].th, NULL);
		fails += d[k].fails;
	}
	printf("%.0f\n", (double)n * 1e9 / (double)(bench_now_ns() - t0));
	free(d);
	if (fails > 0)
		fprintf(stderr, "deep: %zu requests failed\n", fails);
	return fails > 0;
}

static int
do_fsync(const char *dir, long n)
{
	char path[4096], block[4096];
	uint64_t *lat = calloc((size_t)n, sizeof(*lat)), t0;
	long i;
	int fd;

	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		perror(path);
		return 2;
	}
	memset(block, 'x', sizeof(block));
	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		if (pwrite(fd, block, sizeof(block), (off_t)(i * 4096)) < 0 ||
		    fdatasync(fd) != 0) {
			perror(path);
			return 2;
		}
		lat[i] = bench_now_ns() - t0;
	}
	close(fd);
	unlink(path);
	printf("%.1f\n", bench_pct(lat, (size_t)n, 50) / 1000.0);
	free(lat);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 8 && strcmp(argv[1], "fill") == 0) {
		sock_path = argv[2];
		return do_fill(argv + 3);
	}
	if (argc >= 5 && strcmp(argv[1], "lat") == 0) {
		sock_path = argv[2];
		run_clients(1, (size_t)atol(argv[3]), 0, argv[4], NULL, 0);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "thr") == 0) {
		sock_path = argv[2];
		run_clients((unsigned)atoi(argv[3]), 300000, atof(argv[4]),
		    argv[5], NULL, 0);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "mlat") == 0) {
		sock_path = argv[2];
		run_clients(1, (size_t)atol(argv[4]), 0, argv[5], argv[3], 0);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "own") == 0) {
		sock_path = argv[2];
		/* 60 s at 30k/s across 16 clients: room for 120k each */
		run_clients((unsigned)atoi(argv[3]), 400000, atof(argv[4]),
		    argv[5], NULL, 1);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "deep") == 0) {
		sock_path = argv[2];
		return do_deep(argv[3], atol(argv[4]), atol(argv[5]));
	}
	if (argc >= 4 && strcmp(argv[1], "fsync") == 0)
		return do_fsync(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: see bench/bench_mint.c\n");
	return 2;
}
