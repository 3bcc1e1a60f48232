/* rec.so: records satokend's file system calls and its replies, for the
 * crash-state checker (tests/crash/crashmodel.py), by LD_PRELOAD.
 *
 * Every call that changes what a power cut can leave in the store's
 * directory (CRASH_DIR) is logged with its data, in the order the calls
 * took effect: open (to map descriptors to files; O_CREAT and O_TRUNC
 * are read off the flags), close, write and pwrite (with the offset and
 * the bytes), copy_file_range (as a write of the bytes it copied),
 * ftruncate, fsync and fdatasync (of files and of the directory),
 * rename and unlink.  Every send on a socket (a reply to a client: the
 * acknowledgements) is logged with its bytes too.  One mutex is held
 * across each call and its record, so the log's order is the order the
 * kernel saw: the committer thread's journal writes interleave with the
 * main thread's GDBM writes and replies exactly as they happened.
 *
 * A record is one text line, "OP FD A B LEN PATH [PATH2]\n", followed
 * by LEN bytes of data; "P" comes before a process's first record of
 * the store (a trace may span several runs of the daemon).  Environment: CRASH_DIR (absolute, no spaces),
 * CRASH_TRACE (the log, opened O_APPEND).  The log holds the tokens the
 * daemon sends: it lives in the test's temp directory and goes with it.
 * Calls a library makes inside itself (glibc's fopen calling open) are
 * not seen; the store's files are opened by our code and libgdbm, whose
 * calls go through the dynamic linker. */
#undef _FORTIFY_SOURCE	/* fortify's inline open would clash */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT	__attribute__((visibility("default")))
#define MAXFD	4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char dir[1024];
static size_t dirlen;
static int logfd = -1;
static char *paths[MAXFD];	/* tracked descriptors: their path */
static int announced;		/* this process's "P" record is written */

static void
init(void)
{
	static int done;
	const char *d, *t;

	if (done)
		return;
	done = 1;
	d = getenv("CRASH_DIR");
	t = getenv("CRASH_TRACE");
	if (d == NULL || t == NULL || strlen(d) >= sizeof(dir))
		return;
	strcpy(dir, d);
	dirlen = strlen(dir);
	logfd = (int)syscall(SYS_openat, AT_FDCWD, t,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

static void
log_raw(const void *p, size_t n)
{
	const char *q = p;
	long w;

	while (n > 0) {
		w = syscall(SYS_write, logfd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			abort();	/* a lost record would make the model lie */
		q += w;
		n -= (size_t)w;
	}
}

static void
rec(char op, int fd, long long a, long long b, const void *data, size_t len,
    const char *p1, const char *p2)
{
	char line[2200];
	int n, e = errno;

	n = snprintf(line, sizeof(line), "%c %d %lld %lld %zu %s%s%s\n", op, fd,
	    a, b, len, p1 != NULL ? p1 : "-", p2 != NULL ? " " : "",
	    p2 != NULL ? p2 : "");
	if (n < 0 || n >= (int)sizeof(line))
		abort();
	log_raw(line, (size_t)n);
	if (len > 0)
		log_raw(data, len);
	errno = e;
}

/* a path inside CRASH_DIR, or the directory itself */
static int
ours(const char *p)
{
	init();
	return logfd >= 0 && p != NULL && strncmp(p, dir, dirlen) == 0 &&
	    (p[dirlen] == '\0' || p[dirlen] == '/');
}

static const char *
tracked(int fd)
{
	return fd >= 0 && fd < MAXFD ? paths[fd] : NULL;
}

static void *
real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL)
		abort();
	return f;
}

#define REAL(ret, name, ...) \
	static ret (*real_##name)(__VA_ARGS__); \
	if (real_##name == NULL) \
		real_##name = (ret (*)(__VA_ARGS__))real(#name)

static int
do_open(const char *name, int dirfd, const char *p, int flags, mode_t mode)
{
	int fd;

	if (!ours(p)) {
		if (strcmp(name, "openat") == 0 || strcmp(name, "openat64") == 0) {
			REAL(int, openat, int, const char *, int, ...);
			return real_openat(dirfd, p, flags, mode);
		}
		REAL(int, open, const char *, int, ...);
		return real_open(p, flags, mode);
	}
	pthread_mutex_lock(&mu);
	/* a new process: the descriptors of the last one mean nothing */
	if (!announced) {
		announced = 1;
		rec('P', -1, (long long)getpid(), 0, NULL, 0, NULL, NULL);
	}
	{
		REAL(int, openat, int, const char *, int, ...);
		fd = real_openat(AT_FDCWD, p, flags, mode);
	}
	if (fd >= 0 && fd < MAXFD) {
		free(paths[fd]);
		paths[fd] = strdup(p);
		rec('O', fd, flags, 0, NULL, 0, p, NULL);
	}
	pthread_mutex_unlock(&mu);
	return fd;
}

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int
open(const char *p, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_open("open", AT_FDCWD, p, flags, m);
}

EXPORT int
open64(const char *p, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_open("open", AT_FDCWD, p, flags, m);
}

EXPORT int
openat(int dfd, const char *p, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_open("openat", dfd, p, flags, m);
}

EXPORT int
openat64(int dfd, const char *p, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	return do_open("openat", dfd, p, flags, m);
}

EXPORT int
close(int fd)
{
	REAL(int, close, int);
	int r, sock = 0;
	struct stat st;

	init();
	if (logfd < 0 || fd == logfd)
		return real_close(fd);
	pthread_mutex_lock(&mu);
	if (tracked(fd) == NULL && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		sock = 1;
	r = real_close(fd);
	if (tracked(fd) != NULL) {
		rec('C', fd, 0, 0, NULL, 0, paths[fd], NULL);
		free(paths[fd]);
		paths[fd] = NULL;
	} else if (sock) {
		rec('C', fd, 0, 0, NULL, 0, NULL, NULL);
	}
	pthread_mutex_unlock(&mu);
	return r;
}

EXPORT ssize_t
write(int fd, const void *p, size_t n)
{
	REAL(ssize_t, write, int, const void *, size_t);
	ssize_t r;
	off_t off;
	struct stat st;

	if (tracked(fd) == NULL)
		return real_write(fd, p, n);
	pthread_mutex_lock(&mu);
	if (fcntl(fd, F_GETFL) & O_APPEND)
		off = fstat(fd, &st) == 0 ? st.st_size : -1;
	else
		off = lseek(fd, 0, SEEK_CUR);
	r = real_write(fd, p, n);
	if (r > 0)
		rec('W', fd, (long long)off, 0, p, (size_t)r, paths[fd], NULL);
	pthread_mutex_unlock(&mu);
	return r;
}

static ssize_t
do_pwrite(int fd, const void *p, size_t n, off_t off)
{
	REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
	ssize_t r;

	if (tracked(fd) == NULL)
		return real_pwrite(fd, p, n, off);
	pthread_mutex_lock(&mu);
	r = real_pwrite(fd, p, n, off);
	if (r > 0)
		rec('W', fd, (long long)off, 0, p, (size_t)r, paths[fd], NULL);
	pthread_mutex_unlock(&mu);
	return r;
}

EXPORT ssize_t
pwrite(int fd, const void *p, size_t n, off_t off)
{
	return do_pwrite(fd, p, n, off);
}

EXPORT ssize_t
pwrite64(int fd, const void *p, size_t n, off_t off)
{
	return do_pwrite(fd, p, n, off);
}

EXPORT ssize_t
copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t n,
    unsigned flags)
{
	REAL(ssize_t, copy_file_range, int, off_t *, int, off_t *, size_t,
	    unsigned);
	ssize_t r, got;
	off_t ip, op;
	char *buf;

	if (tracked(out) == NULL)
		return real_copy_file_range(in, in_off, out, out_off, n, flags);
	pthread_mutex_lock(&mu);
	ip = in_off != NULL ? *in_off : lseek(in, 0, SEEK_CUR);
	op = out_off != NULL ? *out_off : lseek(out, 0, SEEK_CUR);
	r = real_copy_file_range(in, in_off, out, out_off, n, flags);
	if (r > 0) {
		/* the bytes it copied, read back from the source */
		if ((buf = malloc((size_t)r)) == NULL)
			abort();
		got = pread(in, buf, (size_t)r, ip);
		if (got != r)
			abort();
		rec('W', out, (long long)op, 0, buf, (size_t)r, paths[out], NULL);
		free(buf);
	}
	pthread_mutex_unlock(&mu);
	return r;
}

static int
do_ftruncate(int fd, off_t len)
{
	REAL(int, ftruncate, int, off_t);
	int r;

	if (tracked(fd) == NULL)
		return real_ftruncate(fd, len);
	pthread_mutex_lock(&mu);
	r = real_ftruncate(fd, len);
	if (r == 0)
		rec('T', fd, (long long)len, 0, NULL, 0, paths[fd], NULL);
	pthread_mutex_unlock(&mu);
	return r;
}

EXPORT int
ftruncate(int fd, off_t len)
{
	return do_ftruncate(fd, len);
}

EXPORT int
ftruncate64(int fd, off_t len)
{
	return do_ftruncate(fd, len);
}

static int
do_sync(int fd, int data)
{
	REAL(int, fsync, int);
	REAL(int, fdatasync, int);
	int r;

	if (tracked(fd) == NULL)
		return data ? real_fdatasync(fd) : real_fsync(fd);
	pthread_mutex_lock(&mu);
	r = data ? real_fdatasync(fd) : real_fsync(fd);
	/* logged once it returned: only then is it a promise */
	if (r == 0)
		rec(data ? 'D' : 'S', fd, 0, 0, NULL, 0, paths[fd], NULL);
	pthread_mutex_unlock(&mu);
	return r;
}

EXPORT int
fsync(int fd)
{
	return do_sync(fd, 0);
}

EXPORT int
fdatasync(int fd)
{
	return do_sync(fd, 1);
}

EXPORT int
rename(const char *a, const char *b)
{
	REAL(int, rename, const char *, const char *);
	int r;

	if (!ours(a) && !ours(b))
		return real_rename(a, b);
	pthread_mutex_lock(&mu);
	r = real_rename(a, b);
	if (r == 0)
		rec('R', -1, 0, 0, NULL, 0, a, b);
	pthread_mutex_unlock(&mu);
	return r;
}

EXPORT int
renameat(int da, const char *a, int db, const char *b)
{
	REAL(int, renameat, int, const char *, int, const char *);

	if ((ours(a) || ours(b)) && (a[0] != '/' || b[0] != '/'))
		abort();	/* the model knows absolute paths only */
	if (ours(a) || ours(b))
		return rename(a, b);
	return real_renameat(da, a, db, b);
}

EXPORT int
unlink(const char *p)
{
	REAL(int, unlink, const char *);
	int r;

	if (!ours(p))
		return real_unlink(p);
	pthread_mutex_lock(&mu);
	r = real_unlink(p);
	if (r == 0)
		rec('U', -1, 0, 0, NULL, 0, p, NULL);
	pthread_mutex_unlock(&mu);
	return r;
}

EXPORT ssize_t
send(int fd, const void *p, size_t n, int flags)
{
	REAL(ssize_t, send, int, const void *, size_t, int);
	ssize_t r;

	init();
	if (logfd < 0)
		return real_send(fd, p, n, flags);
	pthread_mutex_lock(&mu);
	r = real_send(fd, p, n, flags);
	if (r > 0)
		rec('A', fd, 0, 0, p, (size_t)r, NULL, NULL);
	pthread_mutex_unlock(&mu);
	return r;
}
