/* bench_report: what the module's last-use report costs in system
 * calls, beside the cost of any system call on this kernel.
 *
 *   bench_report USAGE_SOCKET ITERS
 *
 * Sends ITERS reports the size the module sends, over one kept socket
 * connected to USAGE_SOCKET (a running satokend's), timing separately
 * the socket cookie check (getsockopt SO_COOKIE), the send, and
 * getppid (the cheapest system call, for scale).  Prints
 * "cookie_ns send_ns getppid_ns refused", medians of 9 runs of ITERS/9
 * and the sends refused (a full queue).  The sends go 20 at a time with
 * 1 ms between, so that the daemon, draining every 10 ms, keeps the
 * queue from filling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stats.h"

#define RUNS	9
#define PACE	20	/* sends between two sleeps of 1 ms */

int
main(int argc, char **argv)
{
	static const char msg[] =
	    "satu1 AbCdEfGhIjKl 1796000000 sshd 192.0.2.10 ok";
	struct sockaddr_un sa;
	uint64_t cookie[RUNS], sent[RUNS], base[RUNS], t0, c;
	socklen_t len;
	size_t i, j, n, k, failed = 0;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path) ||
	    (n = (size_t)atol(argv[2]) / RUNS) == 0) {
		fprintf(stderr, "usage: bench_report USAGE_SOCKET ITERS\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror(argv[1]);
		return 1;
	}
	for (k = 0; k < RUNS; k++) {
		t0 = bench_now_ns();
		for (i = 0; i < n; i++) {
			len = sizeof(c);
			(void)getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len);
		}
		cookie[k] = (bench_now_ns() - t0) / n;
		sent[k] = 0;
		for (i = 0; i < n; i += PACE) {
			t0 = bench_now_ns();
			for (j = 0; j < PACE; j++)
				failed += send(fd, msg, sizeof(msg) - 1,
				    MSG_DONTWAIT | MSG_NOSIGNAL) < 0;
			sent[k] += bench_now_ns() - t0;
			usleep(1000);
		}
		sent[k] /= (n + PACE - 1) / PACE * PACE;
		t0 = bench_now_ns();
		for (i = 0; i < n; i++)
			(void)getppid();
		base[k] = (bench_now_ns() - t0) / n;
	}
	printf("%llu %llu %llu %zu\n",
	    (unsigned long long)bench_pct(cookie, RUNS, 50),
	    (unsigned long long)bench_pct(sent, RUNS, 50),
	    (unsigned long long)bench_pct(base, RUNS, 50), failed);
	close(fd);
	return 0;
}
