#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "num.h"
#include "usage.h"

static const char magic[] = "satu1";

/* A field as sent: "-" for empty, and a value that would not parse
 * back (a space, a control byte, too long) is sent as "-" too rather
 * than dropping the report. */
static const char *
field(const char *s, size_t max)
{
	size_t i, n;

	if (s == NULL || s[0] == '\0' || (n = strlen(s)) > max)
		return "-";
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return "-";
	return s;
}

static int
reason_ok(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n >= 32)
		return 0;
	for (i = 0; i < n; i++)
		if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
			return 0;
	return 1;
}

size_t
usage_format(char *out, const char *id, int64_t at, const char *service,
    const char *rhost, const char *reason)
{
	int have_id = id != NULL && id[0] != '\0', n;

	if ((have_id && !token_id_valid(id, strlen(id))) || at <= 0 ||
	    !reason_ok(reason) || (!have_id && strcmp(reason, "ok") == 0))
		return 0;
	n = snprintf(out, USAGE_MSG_MAX, "%s %s %lld %s %s %s", magic,
	    have_id ? id : "-", (long long)at, field(service, SAT_SERVICE_MAX),
	    field(rhost, 63), reason);
	return n > 0 && n < USAGE_MSG_MAX ? (size_t)n : 0;
}

/* The socket is kept between reports, connected: a report is then a
 * getsockopt and a send, not a socket, a sendto with its path lookup
 * and a close (bench/usage.sh).  Kept across calls means the host
 * program may have closed it under us (a daemon's closefrom after fork)
 * and reused the number for a file or a connection of its own: the
 * number is written to only while its socket cookie (unique to a socket
 * for the life of the system) is still the one made here.  Never closed
 * while kept, so no other thread can send on a number being reused;
 * a thread that finds the lock taken (or a child forked while it was)
 * sends its report on a socket of its own, as before. */
static pthread_mutex_t usage_kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int fd;
	uint64_t cookie;
	char peer[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* "": none */
	char paused[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int64_t paused_until;	/* clock_ms: no report to paused before */
} usage_kept = { -1, 0, "", "", 0 };

/* A full queue means satokend is not reading (stopped, or far behind),
 * a failed connect that it is not there: the reports of the next moment
 * would be refused too, each after the kernel built it or looked the
 * path up, so they are not sent at all. */
#define USAGE_PAUSE_MS	100

static void
kept_pause(const struct sockaddr_un *sa)
{
	memcpy(usage_kept.paused, sa->sun_path, sizeof(usage_kept.paused));
	usage_kept.paused_until = clock_ms() + USAGE_PAUSE_MS;
}

static int
socket_cookie(int fd, uint64_t *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, ret, &len) == 0 &&
	    len == sizeof(*ret) ? 0 : -1;
}

static int
kept_is_ours(void)
{
	uint64_t c;

	return usage_kept.fd >= 0 && socket_cookie(usage_kept.fd, &c) == 0 &&
	    c == usage_kept.cookie;
}

static int
dgram_socket(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

static int
kept_connect(const struct sockaddr_un *sa)
{
	if (!kept_is_ours()) {
		usage_kept.peer[0] = '\0';
		if ((usage_kept.fd = dgram_socket()) < 0)
			return -1;
		if (socket_cookie(usage_kept.fd, &usage_kept.cookie) != 0) {
			close(usage_kept.fd);
			usage_kept.fd = -1;
			return -1;
		}
	}
	if (strcmp(usage_kept.peer, sa->sun_path) == 0)
		return 0;
	usage_kept.peer[0] = '\0';
	if (connect(usage_kept.fd, (const struct sockaddr *)sa,
	    sizeof(*sa)) != 0)
		return -1;
	memcpy(usage_kept.peer, sa->sun_path, sizeof(usage_kept.peer));
	return 0;
}

/* A daemon that restarted left the old peer refused: connect again to
 * the path, once.  A full queue (EAGAIN) or no daemon loses the report. */
static void
kept_send(const struct sockaddr_un *sa, const char *msg, size_t n)
{
	if (usage_kept.paused_until != 0 &&
	    strcmp(usage_kept.paused, sa->sun_path) == 0 &&
	    clock_ms() < usage_kept.paused_until)
		return;
	usage_kept.paused_until = 0;
	if (kept_connect(sa) != 0) {
		kept_pause(sa);
		return;
	}
	if (send(usage_kept.fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		kept_pause(sa);
		return;
	}
	if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ECONNRESET)
		return;
	usage_kept.peer[0] = '\0';
	if (kept_connect(sa) == 0)
		(void)send(usage_kept.fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		kept_pause(sa);
}

void
usage_send(const char *path, const char *id, int64_t at,
    const char *service, const char *rhost, const char *reason)
{
	struct sockaddr_un sa;
	char msg[USAGE_MSG_MAX];
	size_t n;
	int fd, saved = errno;

	if (path == NULL || strlen(path) >= sizeof(sa.sun_path) ||
	    (n = usage_format(msg, id, at, service, rhost, reason)) == 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	/* non-blocking both ways: a full receive buffer is EAGAIN, not a
	 * wait; a missing socket is ENOENT/ECONNREFUSED; all are ignored */
	if (pthread_mutex_trylock(&usage_kept_lock) == 0) {
		kept_send(&sa, msg, n);
		pthread_mutex_unlock(&usage_kept_lock);
	} else if ((fd = dgram_socket()) >= 0) {
		(void)sendto(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (const struct sockaddr *)&sa, sizeof(sa));
		close(fd);
	}
	errno = saved;	/* the host program's errno is its own */
}

static int
get_word(struct buf *b, char *out, size_t cap, int last)
{
	struct buf w;

	if (last) {
		w = *b;
		b->len = 0;
	} else if (buf_get_until(b, ' ', &w) != 0) {
		return SAT_E_MALFORMED;
	}
	if (w.len == 0 || w.len >= cap)
		return SAT_E_MALFORMED;
	memcpy(out, w.p, w.len);
	out[w.len] = '\0';
	return 0;
}

int
usage_parse(const void *p, size_t n, struct usage_report *ret)
{
	struct usage_report u;
	char m[sizeof(magic)], num[24];
	struct buf b;
	uint64_t at;

	memset(&u, 0, sizeof(u));
	if (p == NULL || n == 0 || n >= USAGE_MSG_MAX)
		return SAT_E_MALFORMED;
	buf_init(&b, p, n);
	if (get_word(&b, m, sizeof(m), 0) != 0 || strcmp(m, magic) != 0 ||
	    get_word(&b, u.id, sizeof(u.id), 0) != 0 ||
	    (strcmp(u.id, "-") != 0 && !token_id_valid(u.id, strlen(u.id))) ||
	    get_word(&b, num, sizeof(num), 0) != 0 ||
	    parse_u64(num, 1, INT64_MAX / 2, &at) != 0 ||
	    get_word(&b, u.service, sizeof(u.service), 0) != 0 ||
	    get_word(&b, u.rhost, sizeof(u.rhost), 0) != 0 ||
	    get_word(&b, u.reason, sizeof(u.reason), 1) != 0 ||
	    !reason_ok(u.reason))
		return SAT_E_MALFORMED;
	if (strcmp(u.id, "-") == 0) {
		if (strcmp(u.reason, "ok") == 0)
			return SAT_E_MALFORMED;
		u.id[0] = '\0';
	}
	if (strcmp(u.service, "-") == 0)
		u.service[0] = '\0';
	else if (!valid_service(u.service))
		return SAT_E_MALFORMED;
	if (strcmp(u.rhost, "-") == 0)
		u.rhost[0] = '\0';
	else if (!valid_text(u.rhost, sizeof(u.rhost) - 1) ||
	    strchr(u.rhost, ' ') != NULL)
		return SAT_E_MALFORMED;
	u.at = (int64_t)at;
	*ret = u;
	return 0;
}
