#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"
#include "selfpid.h"

#define AUDIT_LINE_MAX	2048
/* An audit file another user owns (pre-created in a sticky /tmp, say)
 * could be edited or truncated by them after we append: refused. */
#define AUDIT_FILE_CHECKS \
	(FILEIO_REGULAR | FILEIO_NOT_WRITABLE | FILEIO_OWNER_TRUSTED)

enum sink { SINK_SYSLOG, SINK_STDERR, SINK_FILE };

struct audit {
	enum sink sink;
	int fd;			/* SINK_FILE, SINK_SYSLOG: owned (-1: none
				   yet); SINK_STDERR: 2 */
	char ident[32];
};

/* The syslog socket: /dev/log, or for tests SATOKEN_SYSLOG_SOCKET,
 * which secure_getenv ignores in a setuid or otherwise secure process
 * (su, sudo), so nobody can point a privileged login's lines elsewhere. */
#define SYSLOG_PATH		"/dev/log"
#define SYSLOG_PATH_ENV		"SATOKEN_SYSLOG_SOCKET"
/* A syslog daemon that stops reading must not hang a login or the
 * daemon for ever: a send that waits this long fails (the line is then
 * lost, so what it records is refused). */
#define SYSLOG_SEND_TIMEOUT_MS	1000

static const char *
syslog_path(void)
{
	const char *p = secure_getenv(SYSLOG_PATH_ENV);

	return p != NULL && p[0] == '/' ? p : SYSLOG_PATH;
}

/* A datagram socket connected to the syslog socket, or -1. */
static int
syslog_connect(void)
{
	struct sockaddr_un sa;
	struct timeval tv = { SYSLOG_SEND_TIMEOUT_MS / 1000,
	    (SYSLOG_SEND_TIMEOUT_MS % 1000) * 1000 };
	const char *path = syslog_path();
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* RFC 3164 as syslog(3) writes it, "<PRI>Mmm dd hh:mm:ss ident[pid]: msg",
 * in the C locale whatever the process's.  0 on overflow. */
static size_t
syslog_msg(int pri, const char *ident, const char *line, char *out,
    size_t cap)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (localtime_r(&now, &tm) == NULL)
		return 0;
	n = snprintf(out, cap, "<%d>%s %2d %02d:%02d:%02d %s[%ld]: %s", pri,
	    mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ident, (long)self_pid(), line);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* One datagram on *fd (connected first if -1).  A syslog daemon that
 * restarted leaves the old connection refused: reconnect once.  Any
 * other failure is SAT_E_IO: the line did not go out. */
static int
syslog_send(int *fd, const char *msg, size_t n)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (*fd < 0 && (*fd = syslog_connect()) < 0)
			return SAT_E_IO;
		if (send(*fd, msg, n, MSG_NOSIGNAL) == (ssize_t)n)
			return 0;
		close(*fd);
		*fd = -1;
		if (errno != ECONNREFUSED && errno != ENOTCONN &&
		    errno != ECONNRESET && errno != EPIPE)
			break;
	}
	return SAT_E_IO;
}

static int
syslog_prio(const struct audit_event *ev)
{
	/* a canary token was used: someone holds what they should not */
	if (ev->reason != NULL && strcmp(ev->reason, "canary") == 0)
		return LOG_AUTHPRIV | LOG_ALERT;
	return LOG_AUTHPRIV | (ev->outcome != NULL &&
	    strcmp(ev->outcome, "ok") == 0 ? LOG_INFO : LOG_NOTICE);
}

/* Writes the n bytes of whole lines at p, in one write(2) when it can
 * (O_APPEND keeps it whole against other writers).  If the file takes
 * only part of them (full disk, a size limit), that part is cut off
 * again when nothing was appended after it: no partial line is left
 * for a reader to take as a record. */
static int
write_lines(int fd, const char *p, size_t n)
{
	size_t done = 0;
	ssize_t w;
	off_t end;
	struct stat st;

	while (done < n) {
		w = write(fd, p + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (w == 0)
			break;
		done += (size_t)w;
	}
	if (done == n)
		return 0;
	/* cut our part off again, unless another writer appended after it
	 * (cutting would take their line too); the caller refuses either way */
	if (done > 0 && (end = lseek(fd, 0, SEEK_CUR)) >= (off_t)done &&
	    fstat(fd, &st) == 0 && st.st_size == end) {
		if (ftruncate(fd, end - (off_t)done) != 0)
			return SAT_E_IO;	/* the part stays */
	}
	return SAT_E_IO;
}

static int
needs_quotes(const char *s)
{
	const unsigned char *p;

	if (*s == '\0')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '=' || *p == '"' ||
		    *p == '\\')
			return 1;
	return 0;
}

size_t
audit_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t n = 0;
	char esc[5];
	size_t el, i;
	int q;

	if (cap == 0)
		return 0;
	if (in == NULL)
		in = "";
	q = needs_quotes(in);
	if (q && n + 1 < cap)
		out[n++] = '"';
	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			el = 2;
		} else if (*p < ' ' || *p >= 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 0xf];
			el = 4;
		} else {
			esc[0] = (char)*p;
			el = 1;
		}
		/* keep room for the closing quote and the NUL */
		if (n + el + (q ? 1 : 0) + 1 > cap)
			break;
		for (i = 0; i < el; i++)
			out[n++] = esc[i];
	}
	if (q && n + 1 < cap)
		out[n++] = '"';
	out[n] = '\0';
	return n;
}

size_t
audit_format(const struct audit_event *ev, char *out, size_t cap)
{
	const struct { const char *key, *value; } f[] = {
		{ "action", ev->action }, { "outcome", ev->outcome },
		{ "reason", ev->reason }, { "principal", ev->principal },
		{ "role", ev->role },
		{ "count", ev->count },
		{ "account", ev->account },
		{ "group", ev->group }, { "token", ev->token },
		{ "name", ev->name },
		/* before rhost: fail2ban's filter takes rhost as the last
		 * field but for detail */
		{ "token_account", ev->token_account },
		{ "service", ev->service },
		{ "rhost", ev->rhost }, { "detail", ev->detail },
	};
	char val[AUDIT_LINE_MAX];
	size_t n = 0, i, kl, vl, nf = sizeof(f) / sizeof(f[0]);
	const char *key, *value;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (i = 0; i < nf + ev->nchanges; i++) {
		key = i < nf ? f[i].key : ev->changes[i - nf].key;
		value = i < nf ? f[i].value : ev->changes[i - nf].value;
		if (value == NULL || key == NULL)
			continue;
		vl = audit_escape(value, val, sizeof(val));
		kl = strlen(key);
		/* a field that does not fit is dropped whole, never cut */
		if (n + (n > 0) + kl + 1 + vl + 1 > cap)
			break;
		if (n > 0)
			out[n++] = ' ';
		memcpy(out + n, key, kl);
		n += kl;
		out[n++] = '=';
		memcpy(out + n, val, vl);
		n += vl;
		out[n] = '\0';
	}
	return n;
}

int
audit_open(const char *spec, const char *ident, struct audit **ret)
{
	struct audit *a;
	int r;

	if (spec == NULL || ident == NULL)
		return SAT_E_INVALID;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SAT_E_NOMEM;
	a->fd = -1;
	snprintf(a->ident, sizeof(a->ident), "%s", ident);
	if (strcmp(spec, "syslog") == 0) {
		/* connected at the first line: a syslog daemon that starts
		 * after us is not a reason to refuse to start */
		a->sink = SINK_SYSLOG;
	} else if (strcmp(spec, "stderr") == 0) {
		a->sink = SINK_STDERR;
		a->fd = STDERR_FILENO;
	} else if (strncmp(spec, "file:", 5) == 0) {
		a->sink = SINK_FILE;
		r = fileio_open(spec + 5, O_WRONLY | O_APPEND | O_CREAT, 0600,
		    AUDIT_FILE_CHECKS, &a->fd);
		if (r != 0) {
			free(a);
			return r;
		}
	} else {
		free(a);
		return SAT_E_CONFIG;
	}
	*ret = a;
	return 0;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->sink != SINK_STDERR && a->fd >= 0)
		close(a->fd);
	free(a);
}

/* The line of a file or stderr sink, newline included; 0 on overflow. */
static size_t
file_line(const char *ident, const char *line, char *out, size_t cap)
{
	char ts[32];
	int n;

	format_time((int64_t)time(NULL), ts, sizeof(ts));
	n = snprintf(out, cap, "%s %s[%ld]: %s\n", ts, ident,
	    (long)self_pid(), line);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int
audit_emit(struct audit *a, const struct audit_event *ev)
{
	char line[AUDIT_LINE_MAX], out[AUDIT_LINE_MAX + 128];
	size_t n;

	if (a == NULL || ev == NULL)
		return SAT_E_INVALID;
	audit_format(ev, line, sizeof(line));
	if (a->sink == SINK_SYSLOG) {
		/* syslog(3) cannot say whether the line went out: our own
		 * datagram, checked */
		if ((n = syslog_msg(syslog_prio(ev), a->ident, line, out,
		    sizeof(out))) == 0)
			return SAT_E_INTERNAL;
		return syslog_send(&a->fd, out, n);
	}
	if ((n = file_line(a->ident, line, out, sizeof(out))) == 0)
		return SAT_E_INTERNAL;
	/* one write(2) per line: O_APPEND keeps concurrent writers' lines whole */
	return write_lines(a->fd, out, n);
}

#define AUDIT_BATCH_BYTES	16384

int
audit_emit_batch(struct audit *a, const struct audit_event *const *evs,
    size_t n, int *ret)
{
	char line[AUDIT_LINE_MAX], buf[AUDIT_BATCH_BYTES], prefix[128], ts[32];
	size_t i, k, first = 0, len = 0, pl, ll;
	int pn, r, worst = 0;

	if (a == NULL || (n > 0 && (evs == NULL || ret == NULL))) {
		for (i = 0; ret != NULL && i < n; i++)
			ret[i] = SAT_E_INVALID;
		return SAT_E_INVALID;
	}
	if (a->sink == SINK_SYSLOG) {
		for (i = 0; i < n; i++)
			if ((ret[i] = audit_emit(a, evs[i])) != 0 && worst == 0)
				worst = ret[i];
		return worst;
	}
	/* file_line's prefix, once: the batch is answered in one moment */
	format_time((int64_t)time(NULL), ts, sizeof(ts));
	pn = snprintf(prefix, sizeof(prefix), "%s %s[%ld]: ", ts, a->ident,
	    (long)self_pid());
	if (pn < 0 || (size_t)pn >= sizeof(prefix)) {
		for (i = 0; i < n; i++)
			ret[i] = SAT_E_INTERNAL;
		return SAT_E_INTERNAL;
	}
	pl = (size_t)pn;
	for (i = 0; i <= n; i++) {
		ll = i < n ? audit_format(evs[i], line, sizeof(line)) : 0;
		/* a full buffer, or the end: write the lines it holds */
		if (len > 0 && (i == n || len + pl + ll + 1 > sizeof(buf))) {
			r = write_lines(a->fd, buf, len);
			for (k = first; k < i; k++)
				ret[k] = r;
			if (r != 0 && worst == 0)
				worst = r;
			len = 0;
			first = i;
		}
		if (i == n)
			break;
		/* pl < 128 and ll < AUDIT_LINE_MAX: a line always fits */
		memcpy(buf + len, prefix, pl);
		memcpy(buf + len + pl, line, ll);
		buf[len + pl + ll] = '\n';
		len += pl + ll + 1;
	}
	return worst;
}

/* The modules' audit file, kept open between logins instead of opened
 * and closed around every line.  It is written only while it is still
 * the file its path names and still passes the open's checks, so a
 * rotated (renamed, replaced) or re-permissioned log is reopened, as
 * pam_faillock and syslog daemons do; and only while the descriptor
 * is still ours (same device and inode), since a program may close
 * descriptors it does not know about and reuse the number. */
static struct {
	pthread_mutex_t lock;
	int fd;			/* -1: none */
	dev_t dev;
	ino_t ino;
	char path[4096];
	int log_fd;		/* the syslog socket, -1: none */
	ino_t log_ino;
} kept = { PTHREAD_MUTEX_INITIALIZER, -1, 0, 0, "", -1, 0 };

/* With kept.lock held: one line to syslog on the kept socket, made
 * afresh when it is not ours any more (closed behind our back, the
 * number reused: never closed then, as for the file). */
static int
kept_syslog(const char *ident, const struct audit_event *ev,
    const char *line)
{
	char out[AUDIT_LINE_MAX + 128];
	struct stat st;
	size_t n;
	int r;

	if (kept.log_fd >= 0 && (fstat(kept.log_fd, &st) != 0 ||
	    !S_ISSOCK(st.st_mode) || st.st_ino != kept.log_ino))
		kept.log_fd = -1;
	if ((n = syslog_msg(syslog_prio(ev), ident, line, out,
	    sizeof(out))) == 0)
		return SAT_E_INTERNAL;
	r = syslog_send(&kept.log_fd, out, n);
	if (kept.log_fd >= 0 && fstat(kept.log_fd, &st) == 0)
		kept.log_ino = st.st_ino;
	return r;
}

static void
kept_forget(int ours)
{
	if (ours && kept.fd >= 0)
		close(kept.fd);
	kept.fd = -1;
	kept.path[0] = '\0';
}

/* With kept.lock held: 0 when kept.fd may be written for path. */
static int
kept_ready(const char *path)
{
	struct stat fst, pst;
	int r;

	if (kept.fd >= 0) {
		/* not ours any more (closed behind our back, the number
		 * reused): forget it, never close it, and refuse this line
		 * rather than guess */
		if (fstat(kept.fd, &fst) != 0) {
			kept_forget(0);
			return SAT_E_IO;
		}
		if (fst.st_dev != kept.dev || fst.st_ino != kept.ino)
			kept_forget(0);
		else if (strcmp(kept.path, path) == 0 &&
		    lstat(path, &pst) == 0 && pst.st_dev == kept.dev &&
		    pst.st_ino == kept.ino && S_ISREG(fst.st_mode) &&
		    !(fst.st_mode & (S_IWGRP | S_IWOTH)) &&
		    (fst.st_uid == 0 || fst.st_uid == geteuid()))
			return 0;
		else
			kept_forget(1);
	}
	if (strlen(path) >= sizeof(kept.path))
		return SAT_E_CONFIG;
	r = fileio_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600,
	    AUDIT_FILE_CHECKS, &kept.fd);
	if (r != 0) {
		kept.fd = -1;
		return r;
	}
	if (fstat(kept.fd, &fst) != 0) {
		kept_forget(1);
		return SAT_E_IO;
	}
	kept.dev = fst.st_dev;
	kept.ino = fst.st_ino;
	strcpy(kept.path, path);
	return 0;
}

int
audit_emit_kept(const char *spec, const char *ident,
    const struct audit_event *ev)
{
	char line[AUDIT_LINE_MAX], out[AUDIT_LINE_MAX + 128];
	size_t n;
	int r;

	if (spec == NULL || ident == NULL || ev == NULL)
		return SAT_E_INVALID;
	if (strcmp(spec, "syslog") == 0) {
		audit_format(ev, line, sizeof(line));
		pthread_mutex_lock(&kept.lock);
		r = kept_syslog(ident, ev, line);
		pthread_mutex_unlock(&kept.lock);
		return r;
	}
	if (strncmp(spec, "file:", 5) != 0) {
		struct audit *a = NULL;

		/* stderr holds nothing to keep */
		if ((r = audit_open(spec, ident, &a)) != 0)
			return r;
		r = audit_emit(a, ev);
		audit_close(a);
		return r;
	}
	audit_format(ev, line, sizeof(line));
	if ((n = file_line(ident, line, out, sizeof(out))) == 0)
		return SAT_E_INTERNAL;
	pthread_mutex_lock(&kept.lock);
	if ((r = kept_ready(spec + 5)) == 0 &&
	    (r = write_lines(kept.fd, out, n)) != 0)
		kept_forget(1);	/* reopened at the next line */
	pthread_mutex_unlock(&kept.lock);
	return r;
}

void
audit_kept_close(void)
{
	struct stat st;

	pthread_mutex_lock(&kept.lock);
	kept_forget(1);
	if (kept.log_fd >= 0 && fstat(kept.log_fd, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_ino == kept.log_ino)
		close(kept.log_fd);
	kept.log_fd = -1;
	pthread_mutex_unlock(&kept.lock);
}
