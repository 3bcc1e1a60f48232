/* bench: timing helpers (see stats.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
bench_pct(uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

size_t
bench_load_pairs(const char *path, char ***ret_names, char ***ret_secrets)
{
	FILE *f = fopen(path, "re");
	char line[512], *sp, **names = NULL, **secs = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(*names));
			secs = realloc(secs, cap * sizeof(*secs));
			if (names == NULL || secs == NULL)
				exit(2);
		}
		names[n] = strdup(line);
		secs[n] = strdup(sp);
		if (names[n] == NULL || secs[n] == NULL)
			exit(2);
		n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "%s: no NAME SECRET lines\n", path);
		exit(2);
	}
	*ret_names = names;
	*ret_secrets = secs;
	return n;
}

#include <pthread.h>

struct worker {
	pthread_t th;
	bench_op_fn op;
	void *arg;
	unsigned t;
	size_t iters, warm, fails;
	uint64_t *lat;
};

static void *
worker_main(void *p)
{
	struct worker *w = p;
	uint64_t t0;
	size_t i;

	for (i = 0; i < w->warm; i++)
		(void)w->op(w->arg, w->t, i + 7919 * w->t);
	for (i = 0; i < w->iters; i++) {
		t0 = bench_now_ns();
		if (w->op(w->arg, w->t, i * 31 + w->t * 104729) != 0)
			w->fails++;
		w->lat[i] = bench_now_ns() - t0;
	}
	return NULL;
}

void
bench_loop(bench_op_fn op, void *arg, unsigned nthreads, size_t iters,
    size_t warm)
{
	struct worker *w = calloc(nthreads, sizeof(*w));
	uint64_t *all = calloc(nthreads * iters, sizeof(*all));
	uint64_t t0, el;
	size_t fails = 0;
	unsigned k;

	if (w == NULL || all == NULL)
		exit(2);
	t0 = bench_now_ns();
	for (k = 0; k < nthreads; k++) {
		w[k].op = op;
		w[k].arg = arg;
		w[k].t = k;
		w[k].iters = iters;
		w[k].warm = warm;
		w[k].lat = all + k * iters;
		if (pthread_create(&w[k].th, NULL, worker_main, &w[k]) != 0)
			exit(2);
	}
	for (k = 0; k < nthreads; k++) {
		pthread_join(w[k].th, NULL);
		fails += w[k].fails;
	}
	el = bench_now_ns() - t0;
	printf("%.2f %.2f %.0f %zu\n",
	    bench_pct(all, nthreads * iters, 50) / 1000.0,
	    bench_pct(all, nthreads * iters, 99) / 1000.0,
	    (double)(nthreads * (iters + warm)) * 1e9 / (double)el, fails);
	free(all);
	free(w);
}
