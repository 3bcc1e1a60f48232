/* bench_fair: root's latency while other local users flood satokend.
 *
 *   bench_fair SOCK REQFILE UIDS CONNS SECONDS
 *       forks one flooder per uid in UIDS (comma-separated; run as
 *       root, each child drops to its uid), each with CONNS connections
 *       keeping WINDOW requests in flight, all sending REQFILE's first
 *       line (it may hold a token: read from a file, never argv) for
 *       SECONDS; meanwhile root sends whoami one at a time, RATE_HZ a
 *       second (under the default rate_limit), and times each.  The
 *       same is done first with no flood.  Prints two lines:
 *         idle  N p50_us p99_us max_us
 *         flood N p50_us p99_us max_us answered_per_s throttled_per_s
 *       and a root whoami that is not answered ok counts as failed
 *       (printed on stderr, exit 1).  FAIR_TRACE=1 also prints each of
 *       root's requests that took over 10 ms, and when. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define WINDOW		32
#define RATE_HZ		40
#define MAX_USERS	16
#define MAX_CONNS	64

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
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			perror("send");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* One flooder: CONNS connections, WINDOW in flight on each, for secs.
 * Writes "answered throttled" to out. */
static void
flood(const char *line, size_t len, int conns, double secs, int out)
{
	static char buf[1 << 16], burst[WINDOW * 4096];
	struct pollfd p[MAX_CONNS];
	int inflight[MAX_CONNS], i, k;
	char head[MAX_CONNS][40];
	size_t hl[MAX_CONNS];
	unsigned long long answered = 0, throttled = 0;
	uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
	char res[64];
	ssize_t n, j;

	for (k = 0; k < WINDOW; k++)
		memcpy(burst + (size_t)k * len, line, len);
	for (i = 0; i < conns; i++) {
		p[i].fd = dial();
		p[i].events = POLLIN;
		inflight[i] = WINDOW;
		hl[i] = 0;
		send_all(p[i].fd, burst, WINDOW * len);
	}
	while (bench_now_ns() < end) {
		if (poll(p, (nfds_t)conns, 100) <= 0)
			continue;
		for (i = 0; i < conns; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((n = recv(p[i].fd, buf, sizeof(buf), 0)) <= 0) {
				fprintf(stderr, "bench_fair: a flooder's "
				    "connection was closed\n");
				exit(2);
			}
			for (j = 0; j < n; j++) {
				if (buf[j] != '\n') {
					if (hl[i] < sizeof(head[i]) - 1)
						head[i][hl[i]++] = buf[j];
					continue;
				}
				/* {"ok":false,"error":"THROTTLED"... */
				head[i][hl[i]] = '\0';
				answered++;
				if (strstr(head[i], "\"THROTTLED\"") != NULL)
					throttled++;
				hl[i] = 0;
				inflight[i]--;
			}
			if (inflight[i] <= WINDOW / 2) {
				k = WINDOW - inflight[i];
				send_all(p[i].fd, burst, (size_t)k * len);
				inflight[i] += k;
			}
		}
	}
	n = snprintf(res, sizeof(res), "%llu %llu\n", answered, throttled);
	(void)!write(out, res, (size_t)n);
	_exit(0);
}

/* Root's whoami, one at a time, RATE_HZ a second for secs: latencies in
 * v (cap entries); returns how many, or exits on a refusal. */
static size_t
measure(double secs, uint64_t *v, size_t cap, int *failed)
{
	static const char req[] = "{\"op\":\"whoami\"}\n";
	char buf[4096];
	uint64_t t0, start = bench_now_ns(), period = 1000000000 / RATE_HZ;
	size_t n = 0, have;
	ssize_t r;
	int fd = dial();

	while (n < cap && bench_now_ns() - start < (uint64_t)(secs * 1e9)) {
		t0 = bench_now_ns();
		send_all(fd, req, sizeof(req) - 1);
		have = 0;
		do {
			if ((r = recv(fd, buf + have, sizeof(buf) - 1 - have,
			    0)) <= 0) {
				fprintf(stderr, "bench_fair: root's connection "
				    "closed\n");
				exit(2);
			}
			have += (size_t)r;
		} while (buf[have - 1] != '\n' && have < sizeof(buf) - 1);
		v[n++] = bench_now_ns() - t0;
		if (getenv("FAIR_TRACE") != NULL && v[n - 1] > 10000000)
			fprintf(stderr, "slow %.1f ms at %.3f s\n", v[n - 1] / 1e6,
			    (t0 - start) / 1e9);
		buf[have] = '\0';
		if (strncmp(buf, "{\"ok\":true", 10) != 0) {
			if ((*failed)++ < 3)
				fprintf(stderr, "bench_fair: root: %s", buf);
		}
		while (bench_now_ns() < t0 + period)
			usleep(1000);
	}
	close(fd);
	return n;
}

static void
report(const char *what, uint64_t *v, size_t n)
{
	uint64_t p50 = bench_pct(v, n, 50), p99 = bench_pct(v, n, 99);

	printf("%s %zu %.1f %.1f %.1f", what, n, p50 / 1e3, p99 / 1e3,
	    n > 0 ? v[n - 1] / 1e3 : 0.0);
}

int
main(int argc, char **argv)
{
	char line[4096], res[64], *s, *tok;
	unsigned long long answered = 0, throttled = 0, a, t;
	uid_t uids[MAX_USERS];
	pid_t pids[MAX_USERS];
	int nusers = 0, conns, pfd[2], failed = 0, i;
	size_t n, len, cap;
	uint64_t *v;
	double secs;
	FILE *f, *in;

	if (argc != 6) {
		fprintf(stderr, "usage: bench_fair SOCK REQFILE UIDS CONNS "
		    "SECONDS\n");
		return 2;
	}
	sock_path = argv[1];
	if ((f = fopen(argv[2], "re")) == NULL ||
	    fgets(line, sizeof(line), f) == NULL) {
		perror(argv[2]);
		return 2;
	}
	fclose(f);
	len = strlen(line);
	if (len == 0 || line[len - 1] != '\n') {
		fprintf(stderr, "bench_fair: %s: one line, please\n", argv[2]);
		return 2;
	}
	for (s = argv[3]; (tok = strtok(s, ",")) != NULL; s = NULL) {
		if (nusers == MAX_USERS)
			return 2;
		uids[nusers++] = (uid_t)strtoul(tok, NULL, 10);
	}
	conns = atoi(argv[4]);
	secs = atof(argv[5]);
	if (conns < 1 || conns > MAX_CONNS || secs < 2) {
		fprintf(stderr, "bench_fair: 1..%d conns, 2 s at least\n",
		    MAX_CONNS);
		return 2;
	}
	cap = (size_t)(secs * RATE_HZ) + 16;
	if ((v = calloc(cap, sizeof(*v))) == NULL || pipe(pfd) != 0)
		return 2;

	n = measure(secs / 2, v, cap, &failed);
	report("idle ", v, n);
	printf("\n");
	fflush(stdout);

	for (i = 0; i < nusers; i++) {
		if ((pids[i] = fork()) < 0)
			return 2;
		if (pids[i] == 0) {
			close(pfd[0]);
			if (setgroups(0, NULL) != 0 || setgid(uids[i]) != 0 ||
			    setuid(uids[i]) != 0) {
				perror("bench_fair: setuid");
				_exit(2);
			}
			flood(line, len, conns, secs + 1, pfd[1]);
		}
	}
	close(pfd[1]);
	usleep(500000);		/* every flooder connected and sending */
	n = measure(secs, v, cap, &failed);
	in = fdopen(pfd[0], "r");
	for (i = 0; i < nusers; i++) {
		if (in != NULL && fgets(res, sizeof(res), in) != NULL &&
		    sscanf(res, "%llu %llu", &a, &t) == 2) {
			answered += a;
			throttled += t;
		}
	}
	for (i = 0; i < nusers; i++)
		waitpid(pids[i], NULL, 0);
	report("flood", v, n);
	printf(" %.0f %.0f\n", answered / (secs + 1), throttled / (secs + 1));
	if (failed > 0)
		fprintf(stderr, "bench_fair: %d of root's requests failed\n",
		    failed);
	free(v);
	return failed > 0 ? 1 : 0;
}
