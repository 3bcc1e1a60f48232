/* What the load drivers (load.c, idle.c) share: the clock, a
 * connection to the daemon, and watching its RSS and descriptors. */
#ifndef SATOKEN_TESTS_DRIVE_H
#define SATOKEN_TESTS_DRIVE_H

/* CLOCK_MONOTONIC in seconds. */
double now_s(void);

/* A connected SOCK_STREAM socket to the Unix socket path, or -1. */
int dial(const char *path);

/* The process's VmRSS in KiB, or -1. */
long rss_kib(long pid);

/* How many descriptors the process has open, or -1. */
long fd_count(long pid);

#endif
