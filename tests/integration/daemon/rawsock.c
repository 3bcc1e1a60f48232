/* rawsock: a test helper that talks to a Unix socket byte for byte, for
 * what satokenctl would never send (garbage, NUL bytes, 100 KB lines,
 * slow and idle clients), and hands satokend a socket the way systemd
 * does.  Never installed.
 *
 *   rawsock SOCK send           stdin to the socket, then shut the write
 *                               side; print every reply until the server
 *                               closes (or 20 s)
 *   rawsock SOCK hold SECS      stdin to the socket without shutting it;
 *                               print "closed N" when the server hangs up
 *                               (N seconds later) or "open" after SECS
 *   rawsock SOCK noread SECS    send stdin's first line over and over and
 *                               never read; print "closed N" when the
 *                               server gives up on us, or "open"
 *   rawsock SOCK flood N        open N connections at once and hold them;
 *                               print how many were refused at once
 *   rawsock SOCK pump CONNS     stdin's first line over and over on CONNS
 *                               connections, PUMP_WINDOW in flight on
 *                               each, until SIGTERM; print "pumping" once
 *                               each has had a reply, and at the end,
 *                               every reply read, "ok N throttled N
 *                               other N"
 *   rawsock SOCK activate CMD.. a listening socket at SOCK as fd 3 with
 *                               LISTEN_FDS/LISTEN_PID, NOTIFY_SOCKET set;
 *                               run CMD; print the first notification
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

static int
dial(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (sock_addr(path, &sa) != 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sends stdin while printing what arrives, as a pipelining client
 * does (one that only writes would stall a server that stops reading
 * until its replies are read); then shuts the write side. */
static int
send_stdin(int fd)
{
	char in[65536], out[65536];
	size_t len = 0, off = 0;
	int eof = 0;
	ssize_t n;
	struct pollfd p[2];

	while (!eof || off < len) {
		p[0].fd = fd;
		p[0].events = POLLIN | (off < len ? POLLOUT : 0);
		p[1].fd = off < len || eof ? -1 : 0;
		p[1].events = POLLIN;
		if (poll(p, 2, 20000) <= 0)
			return -1;
		if (p[0].revents & POLLIN) {
			n = recv(fd, out, sizeof(out), 0);
			if (n <= 0)
				return -1;	/* the server hung up: fine */
			fwrite(out, 1, (size_t)n, stdout);
		}
		if ((p[0].revents & POLLOUT) && off < len) {
			n = send(fd, in + off, len - off, MSG_NOSIGNAL);
			if (n < 0)
				return -1;
			off += (size_t)n;
		}
		if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			n = read(0, in, sizeof(in));
			if (n <= 0)
				eof = 1;
			else {
				len = (size_t)n;
				off = 0;
			}
		}
		if (p[0].revents & (POLLHUP | POLLERR) && !(p[0].revents & POLLIN))
			return -1;
	}
	fflush(stdout);
	return 0;
}

/* Prints what arrives until EOF or the deadline; returns 1 on EOF. */
static int
drain(int fd, double secs, double *ret_at)
{
	double end = now() + secs;
	char buf[65536];
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	while (now() < end) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			*ret_at = now();
			return 1;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
	return 0;
}

static int
activate(const char *path, char **cmd)
{
	struct sockaddr_un sa, na;
	char npath[200], msg[512], pidbuf[32];
	int lfd, nfd, status;
	pid_t pid;
	ssize_t n;
	struct pollfd p;

	if (sock_addr(path, &sa) != 0)
		return 2;
	unlink(path);
	snprintf(npath, sizeof(npath), "%s.notify", path);
	unlink(npath);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 16) != 0 || chmod(path, 0666) != 0)
		return 2;
	if (sock_addr(npath, &na) != 0 ||
	    (nfd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(nfd, (struct sockaddr *)&na, sizeof(na)) != 0)
		return 2;
	if ((pid = fork()) == 0) {
		/* our stdout is the caller's $(...): the daemon must not hold it */
		int null = open("/dev/null", O_WRONLY);

		if (dup2(lfd, 3) != 3 || null < 0 || dup2(null, 1) != 1)
			_exit(127);
		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
		setenv("LISTEN_PID", pidbuf, 1);
		setenv("LISTEN_FDS", "1", 1);
		setenv("NOTIFY_SOCKET", npath, 1);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(lfd);
	p.fd = nfd;
	p.events = POLLIN;
	if (poll(&p, 1, 20000) == 1 &&
	    (n = recv(nfd, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[n] = '\0';
		printf("notify %s\n", msg);
	} else {
		printf("no notification\n");
	}
	fflush(stdout);
	/* the daemon keeps running; the caller stops it by its pid */
	printf("pid %ld\n", (long)pid);
	fflush(stdout);
	if (waitpid(pid, &status, WNOHANG) == pid)
		printf("exited early\n");
	return 0;
}

#define PUMP_WINDOW	32

static volatile sig_atomic_t pump_stop;

static void
on_term(int sig)
{
	(void)sig;
	pump_stop = 1;
}

struct pumped {
	int fd;
	int inflight;
	int replied;
	char head[40];		/* the start of the reply being read */
	size_t hl;
};

/* Counts the replies in what arrived on c: by their first bytes. */
static void
pump_count(struct pumped *c, const char *p, size_t n, long *ok, long *thr,
    long *other)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (c->hl < sizeof(c->head) - 1)
				c->head[c->hl++] = p[i];
			continue;
		}
		c->head[c->hl] = '\0';
		if (strncmp(c->head, "{\"ok\":true", 10) == 0)
			(*ok)++;
		else if (strstr(c->head, "\"THROTTLED\"") != NULL)
			(*thr)++;
		else
			(*other)++;
		c->hl = 0;
		c->inflight--;
		c->replied = 1;
	}
}

static int
pump(const char *path, int n)
{
	char line[4096], out[PUMP_WINDOW * sizeof(line)], buf[65536];
	long ok = 0, thr = 0, other = 0;
	struct pumped *cs = NULL;
	struct pollfd *p = NULL;
	size_t len, k;
	double end = 0;
	int i, w, busy, said = 0;
	ssize_t got;

	if (fgets(line, sizeof(line), stdin) == NULL || n <= 0 ||
	    (cs = calloc((size_t)n, sizeof(*cs))) == NULL ||
	    (p = calloc((size_t)n, sizeof(*p))) == NULL) {
		free(cs);
		return 2;
	}
	len = strlen(line);
	signal(SIGTERM, on_term);
	for (i = 0; i < n; i++)
		if ((cs[i].fd = dial(path)) < 0) {
			free(p);
			free(cs);
			return 1;
		}
	for (;;) {
		if (pump_stop && end == 0)
			end = now() + 20;
		busy = 0;
		for (i = 0; i < n; i++) {
			struct pumped *c = &cs[i];

			/* topped up by half a window at a time */
			if (!pump_stop && c->fd >= 0 &&
			    c->inflight <= PUMP_WINDOW / 2) {
				w = PUMP_WINDOW - c->inflight;
				for (k = 0; k < (size_t)w; k++)
					memcpy(out + k * len, line, len);
				if (send(c->fd, out, (size_t)w * len,
				    MSG_NOSIGNAL) != (ssize_t)((size_t)w * len)) {
					close(c->fd);
					c->fd = -1;
				} else {
					c->inflight += w;
				}
			}
			p[i].fd = c->fd >= 0 && c->inflight > 0 ? c->fd : -1;
			p[i].events = POLLIN;
			busy |= p[i].fd >= 0;
		}
		if (!said) {
			for (i = 0; i < n && (cs[i].replied || cs[i].fd < 0); i++)
				;
			if (i == n) {
				printf("pumping\n");
				fflush(stdout);
				said = 1;
			}
		}
		if (!busy || (end != 0 && now() > end))
			break;
		if (poll(p, (nfds_t)n, 100) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP |
			    POLLERR)))
				continue;
			got = recv(p[i].fd, buf, sizeof(buf), 0);
			if (got <= 0) {
				close(cs[i].fd);
				cs[i].fd = -1;
				continue;
			}
			pump_count(&cs[i], buf, (size_t)got, &ok, &thr, &other);
		}
	}
	printf("ok %ld throttled %ld other %ld\n", ok, thr, other);
	fflush(stdout);
	free(p);
	free(cs);
	return 0;
}

int
main(int argc, char **argv)
{
	double t0, at = 0;
	int fd, i, n, refused = 0;
	int *fds;
	char buf[256];

	signal(SIGPIPE, SIG_IGN);
	if (argc < 3)
		return 2;
	if (strcmp(argv[2], "activate") == 0 && argc > 3)
		return activate(argv[1], argv + 3);
	if (strcmp(argv[2], "pump") == 0 && argc == 4)
		return pump(argv[1], atoi(argv[3]));
	if (strcmp(argv[2], "flood") == 0 && argc == 4) {
		n = atoi(argv[3]);
		if ((fds = calloc((size_t)n, sizeof(*fds))) == NULL)
			return 2;
		for (i = 0; i < n; i++)
			fds[i] = dial(argv[1]);
		usleep(300000);
		for (i = 0; i < n; i++) {
			struct pollfd p = { fds[i], POLLIN, 0 };

			if (fds[i] < 0 || (poll(&p, 1, 0) == 1 &&
			    recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) > 0 &&
			    strstr(buf, "too many") != NULL))
				refused++;
		}
		printf("refused %d\n", refused);
		fflush(stdout);
		return 0;
	}
	if ((fd = dial(argv[1])) < 0) {
		fprintf(stderr, "rawsock: connect %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	if (strcmp(argv[2], "noread") == 0 && argc == 4) {
		struct timeval tv = { 0, 100000 };
		char line[4096];
		size_t len;

		if (fgets(line, sizeof(line), stdin) == NULL)
			return 2;
		len = strlen(line);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		t0 = now();
		while (now() - t0 < atof(argv[3])) {
			if (send(fd, line, len, MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				printf("closed %.0f\n", now() - t0);
				return 0;
			}
		}
		printf("open\n");
		return 0;
	}
	if (strcmp(argv[2], "send") == 0) {
		send_stdin(fd);
		shutdown(fd, SHUT_WR);
		drain(fd, 20, &at);
		return 0;
	}
	if (strcmp(argv[2], "hold") == 0 && argc == 4) {
		t0 = now();
		send_stdin(fd);
		if (drain(fd, atof(argv[3]), &at))
			printf("\nclosed %.0f\n", at - t0);
		else
			printf("\nopen\n");
		return 0;
	}
	return 2;
}
