/* bench: timing helpers shared by the harness programs. */
#ifndef SATOKEN_BENCH_STATS_H
#define SATOKEN_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);
/* Sorts v in place and returns its p-th percentile (0..100); 0 if n is 0. */
uint64_t bench_pct(uint64_t *v, size_t n, double p);
/* Reads "NAME SECRET" lines (secrets stay in this process: never argv).
 * Returns the number of pairs, arrays malloc'd; exits on error. */
size_t bench_load_pairs(const char *path, char ***ret_names,
    char ***ret_secrets);

#endif

/* One login attempt i by thread t: 0 when it gave the expected answer. */
typedef int (*bench_op_fn)(void *arg, unsigned t, size_t i);
/* Runs op iters times in each of nthreads threads (after warm calls
 * each) and prints one line: "p50_us p99_us ops_per_s failures". */
void bench_loop(bench_op_fn op, void *arg, unsigned nthreads, size_t iters,
    size_t warm);
