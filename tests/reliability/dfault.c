/* Fault injection for the real satokend, by LD_PRELOAD.
 *
 * tests/integration/pam/faultshim.c fails the n-th wrapped call of a
 * test build of the PAM module (-Wl,--wrap).  The daemon is tested as it
 * is installed, so this shim interposes by name instead: every call the
 * daemon, libgdbm, libjansson or libcrypto makes through the dynamic
 * linker to one family of functions lands here, and the n-th of them
 * after the shim is armed fails the way the real call can.  Calls a
 * library makes inside itself (glibc's fopen calling open) are not seen.
 *
 * Environment:
 *   DFAULT_FAMILY  alloc | open | read | write | fsync | rename |
 *                  ftruncate | gdbm
 *   DFAULT_N       the call to fail, counted from the arming; 0 fails
 *                  nothing and only counts
 *   DFAULT_COUNT   how many calls fail, from the n-th on (default 1;
 *                  0: every one, a disk that stays full)
 *   DFAULT_LOG     a file the shim appends to: "hit FAMILY N NAME" when
 *                  it fails a call, "calls FAMILY K" when the daemon exits,
 *                  and the stack of a SIGSEGV, SIGBUS or SIGABRT (then
 *                  the signal kills the daemon as it would have)
 *
 * The shim is armed when accept4 first returns a connection: start-up
 * (config, store open, recovery) is not what is tested, the requests
 * are.  read and write fail only on regular files: a socket or the
 * store's eventfd failing with EIO or ENOSPC is no fault the world
 * makes (a dropped client is covered by the allocations).  Test code: counters are process-wide (satokend is single-
 * threaded); nothing here is secret-bearing. */
#undef _FORTIFY_SOURCE	/* fortify's inline read/open would clash */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT	__attribute__((visibility("default")))

enum family {
	F_NONE, F_ALLOC, F_OPEN, F_READ, F_WRITE, F_FSYNC, F_RENAME,
	F_FTRUNCATE, F_GDBM,
};

static const char *const family_names[] = {
	"none", "alloc", "open", "read", "write", "fsync", "rename",
	"ftruncate", "gdbm",
};

static enum family family;
static long fault_at;
static long fail_count = 1;
static int armed;
static long calls;
static int logfd = -1;

/* The log is written with raw syscalls: write() is one of ours. */
static void
log_line(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (logfd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)syscall(SYS_write, logfd, line,
		    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The stack of a crash, for addr2line; the signal then does what it
 * would have done. */
static void
on_crash(int sig)
{
	void *pcs[64];
	int n;

	log_line("signal %d; stack:\n", sig);
	n = backtrace(pcs, 64);
	if (logfd >= 0)
		backtrace_symbols_fd(pcs, n, logfd);
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((constructor)) static void
dfault_init(void)
{
	const char *f = getenv("DFAULT_FAMILY"), *n = getenv("DFAULT_N");
	const char *k = getenv("DFAULT_COUNT"), *l = getenv("DFAULT_LOG");
	size_t i;

	for (i = 1; f != NULL && i < sizeof(family_names) / sizeof(*family_names); i++)
		if (strcmp(f, family_names[i]) == 0)
			family = (enum family)i;
	fault_at = n != NULL ? strtol(n, NULL, 10) : 0;
	if (k != NULL)
		fail_count = strtol(k, NULL, 10);
	if (l != NULL)
		logfd = (int)syscall(SYS_open, l,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (logfd >= 0 && family != F_NONE) {
		void *pcs[1];

		(void)backtrace(pcs, 1);	/* loads libgcc now, not in a crash */
		signal(SIGSEGV, on_crash);
		signal(SIGBUS, on_crash);
		signal(SIGABRT, on_crash);
	}
}

__attribute__((destructor)) static void
dfault_fini(void)
{
	/* only the daemon arms; grep and sleep under the same preload don't */
	if (armed && family != F_NONE)
		log_line("calls %s %ld\n", family_names[family], calls);
}

/* 1 if this call of family f is to fail; then errno is set to err. */
static int
hit(enum family f, const char *name, int err)
{
	long c;

	if (!armed || f != family)
		return 0;
	c = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	if (fault_at <= 0 || c < fault_at ||
	    (fail_count > 0 && c >= fault_at + fail_count))
		return 0;
	log_line("hit %s %ld %s\n", family_names[f], c, name);
	if (getenv("DFAULT_STACK") != NULL && logfd >= 0) {
		void *pcs[32];

		backtrace_symbols_fd(pcs, backtrace(pcs, 32), logfd);
	}
	errno = err;
	return 1;
}

/* The next definition of name, past this shim (libasan's under
 * SANITIZE=1, else libc's or libgdbm's). */
#define REAL(ret, name, params) \
	static ret (*real_##name) params; \
	if (real_##name == NULL) \
		real_##name = (ret (*) params)dlsym(RTLD_NEXT, #name)

/* ---- arming ---- */

EXPORT int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int r;

	REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int));
	r = real_accept4(fd, sa, len, flags);
	if (r >= 0)
		armed = 1;
	return r;
}

/* ---- allocation ----
 * dlsym itself may allocate before the real allocator is known: those
 * few bytes come from a static arena that free() recognises. */
static char arena[8192] __attribute__((aligned(16)));
static size_t arena_used;
static int resolving;

static void *
arena_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(arena) - arena_used)
		return NULL;
	p = arena + arena_used;
	arena_used += n;
	return p;
}

static int
in_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + sizeof(arena);
}

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

static void
resolve_alloc(void)
{
	if (real_malloc != NULL || resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	resolving = 0;
}

EXPORT void *
malloc(size_t n)
{
	resolve_alloc();
	if (real_malloc == NULL)
		return arena_alloc(n);
	if (hit(F_ALLOC, "malloc", ENOMEM))
		return NULL;
	return real_malloc(n);
}

EXPORT void *
calloc(size_t n, size_t m)
{
	void *p;

	resolve_alloc();
	if (real_calloc == NULL) {
		if (m != 0 && n > (size_t)-1 / m)
			return NULL;
		if ((p = arena_alloc(n * m)) != NULL)
			memset(p, 0, n * m);
		return p;
	}
	if (hit(F_ALLOC, "calloc", ENOMEM))
		return NULL;
	return real_calloc(n, m);
}

EXPORT void *
realloc(void *p, size_t n)
{
	void *q;

	resolve_alloc();
	if (in_arena(p)) {
		/* rare: grow out of the arena, copying what fits */
		if ((q = malloc(n)) != NULL)
			memcpy(q, p, n < 256 ? n : 256);
		return q;
	}
	if (real_realloc == NULL)
		return NULL;
	if (hit(F_ALLOC, "realloc", ENOMEM))
		return NULL;
	return real_realloc(p, n);
}

EXPORT void
free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	resolve_alloc();
	if (real_free != NULL)
		real_free(p);
}

/* ---- open ---- */

static mode_t
open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_SHIM(name, pre, pre_params, pre_args) \
EXPORT int \
name(pre_params const char *path, int flags, ...) \
{ \
	va_list ap; \
	mode_t mode; \
	REAL(int, name, (pre const char *, int, ...)); \
	va_start(ap, flags); \
	mode = open_mode(flags, ap); \
	va_end(ap); \
	if (hit(F_OPEN, #name, EIO)) \
		return -1; \
	return real_##name(pre_args path, flags, mode); \
}

#define COMMA ,
OPEN_SHIM(open, , , )
OPEN_SHIM(open64, , , )
OPEN_SHIM(openat, int COMMA, int dirfd COMMA, dirfd COMMA)
OPEN_SHIM(openat64, int COMMA, int dirfd COMMA, dirfd COMMA)

/* ---- read ---- */

/* fstat by syscall: the daemon's fstat is not ours to count */
static int
is_file(int fd)
{
	struct stat st;

	return syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode);
}

EXPORT ssize_t
read(int fd, void *p, size_t n)
{
	REAL(ssize_t, read, (int, void *, size_t));
	if (is_file(fd) && hit(F_READ, "read", EIO))
		return -1;
	return real_read(fd, p, n);
}

EXPORT ssize_t
pread(int fd, void *p, size_t n, off_t off)
{
	REAL(ssize_t, pread, (int, void *, size_t, off_t));
	if (is_file(fd) && hit(F_READ, "pread", EIO))
		return -1;
	return real_pread(fd, p, n, off);
}

EXPORT ssize_t
pread64(int fd, void *p, size_t n, off_t off)
{
	REAL(ssize_t, pread64, (int, void *, size_t, off_t));
	if (is_file(fd) && hit(F_READ, "pread64", EIO))
		return -1;
	return real_pread64(fd, p, n, off);
}

/* ---- write ---- */

EXPORT ssize_t
write(int fd, const void *p, size_t n)
{
	REAL(ssize_t, write, (int, const void *, size_t));
	if (is_file(fd) && hit(F_WRITE, "write", ENOSPC))
		return -1;
	return real_write(fd, p, n);
}

EXPORT ssize_t
pwrite(int fd, const void *p, size_t n, off_t off)
{
	REAL(ssize_t, pwrite, (int, const void *, size_t, off_t));
	if (is_file(fd) && hit(F_WRITE, "pwrite", ENOSPC))
		return -1;
	return real_pwrite(fd, p, n, off);
}

EXPORT ssize_t
pwrite64(int fd, const void *p, size_t n, off_t off)
{
	REAL(ssize_t, pwrite64, (int, const void *, size_t, off_t));
	if (is_file(fd) && hit(F_WRITE, "pwrite64", ENOSPC))
		return -1;
	return real_pwrite64(fd, p, n, off);
}

EXPORT ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	REAL(ssize_t, writev, (int, const struct iovec *, int));
	if (is_file(fd) && hit(F_WRITE, "writev", ENOSPC))
		return -1;
	return real_writev(fd, iov, n);
}

/* ---- fsync, rename, ftruncate ---- */

EXPORT int
fsync(int fd)
{
	REAL(int, fsync, (int));
	if (hit(F_FSYNC, "fsync", EIO))
		return -1;
	return real_fsync(fd);
}

EXPORT int
fdatasync(int fd)
{
	REAL(int, fdatasync, (int));
	if (hit(F_FSYNC, "fdatasync", EIO))
		return -1;
	return real_fdatasync(fd);
}

EXPORT int
rename(const char *from, const char *to)
{
	REAL(int, rename, (const char *, const char *));
	if (hit(F_RENAME, "rename", EIO))
		return -1;
	return real_rename(from, to);
}

EXPORT int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL(int, renameat, (int, const char *, int, const char *));
	if (hit(F_RENAME, "renameat", EIO))
		return -1;
	return real_renameat(fd1, from, fd2, to);
}

EXPORT int
ftruncate(int fd, off_t len)
{
	REAL(int, ftruncate, (int, off_t));
	if (hit(F_FTRUNCATE, "ftruncate", EIO))
		return -1;
	return real_ftruncate(fd, len);
}

EXPORT int
ftruncate64(int fd, off_t len)
{
	REAL(int, ftruncate64, (int, off_t));
	if (hit(F_FTRUNCATE, "ftruncate64", EIO))
		return -1;
	return real_ftruncate64(fd, len);
}

/* ---- GDBM: failing as GDBM itself reports an I/O error ---- */

static const datum no_datum = { NULL, 0 };

EXPORT GDBM_FILE
gdbm_fd_open(int fd, const char *name, int bs, int flags,
    void (*fatal)(const char *))
{
	REAL(GDBM_FILE, gdbm_fd_open, (int, const char *, int, int,
	    void (*)(const char *)));
	if (hit(F_GDBM, "gdbm_fd_open", EIO)) {
		if (flags & GDBM_CLOERROR)
			close(fd);
		gdbm_errno = GDBM_FILE_OPEN_ERROR;
		return NULL;
	}
	return real_gdbm_fd_open(fd, name, bs, flags, fatal);
}

EXPORT GDBM_FILE
gdbm_open(const char *name, int bs, int flags, int mode,
    void (*fatal)(const char *))
{
	REAL(GDBM_FILE, gdbm_open, (const char *, int, int, int,
	    void (*)(const char *)));
	if (hit(F_GDBM, "gdbm_open", EIO)) {
		gdbm_errno = GDBM_FILE_OPEN_ERROR;
		return NULL;
	}
	return real_gdbm_open(name, bs, flags, mode, fatal);
}

EXPORT datum
gdbm_fetch(GDBM_FILE dbf, datum key)
{
	REAL(datum, gdbm_fetch, (GDBM_FILE, datum));
	if (hit(F_GDBM, "gdbm_fetch", EIO)) {
		gdbm_errno = GDBM_FILE_READ_ERROR;
		return no_datum;
	}
	return real_gdbm_fetch(dbf, key);
}

EXPORT int
gdbm_store(GDBM_FILE dbf, datum key, datum val, int flag)
{
	REAL(int, gdbm_store, (GDBM_FILE, datum, datum, int));
	if (hit(F_GDBM, "gdbm_store", EIO)) {
		gdbm_errno = GDBM_FILE_WRITE_ERROR;
		return -1;
	}
	return real_gdbm_store(dbf, key, val, flag);
}

EXPORT int
gdbm_delete(GDBM_FILE dbf, datum key)
{
	REAL(int, gdbm_delete, (GDBM_FILE, datum));
	if (hit(F_GDBM, "gdbm_delete", EIO)) {
		gdbm_errno = GDBM_FILE_WRITE_ERROR;
		return -1;
	}
	return real_gdbm_delete(dbf, key);
}

EXPORT int
gdbm_sync(GDBM_FILE dbf)
{
	REAL(int, gdbm_sync, (GDBM_FILE));
	if (hit(F_GDBM, "gdbm_sync", EIO)) {
		gdbm_errno = GDBM_FILE_SYNC_ERROR;
		return -1;
	}
	return real_gdbm_sync(dbf);
}

EXPORT datum
gdbm_firstkey(GDBM_FILE dbf)
{
	REAL(datum, gdbm_firstkey, (GDBM_FILE));
	if (hit(F_GDBM, "gdbm_firstkey", EIO)) {
		gdbm_errno = GDBM_FILE_READ_ERROR;
		return no_datum;
	}
	return real_gdbm_firstkey(dbf);
}

EXPORT datum
gdbm_nextkey(GDBM_FILE dbf, datum key)
{
	REAL(datum, gdbm_nextkey, (GDBM_FILE, datum));
	if (hit(F_GDBM, "gdbm_nextkey", EIO)) {
		gdbm_errno = GDBM_FILE_READ_ERROR;
		return no_datum;
	}
	return real_gdbm_nextkey(dbf, key);
}
