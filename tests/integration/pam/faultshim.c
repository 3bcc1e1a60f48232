/* Fault injection for a test-only build of pam_satoken.so.
 *
 * The module and the core are linked with -Wl,--wrap=NAME for every
 * allocation, open, read, write, lock, GDBM, HMAC and libpam call they
 * make, so each call lands here first.  satfault_arm(n) makes the n-th
 * wrapped call from then on fail the way the real one can (NULL and
 * ENOMEM, -1 and EIO, a GDBM error, a PAM error); satfault_arm(0) fails
 * nothing and just counts.  Calls libgdbm, libcrypto or libpam make
 * inside themselves are not ours and are not wrapped.
 *
 * Test code: the counters are process-wide on purpose, and the harness
 * drives one login at a time. */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "audit.h"
#include "token.h"
#include "view.h"

/* pam/args.h: the module's cache of parsed arguments */
void args_cache_reset(void);

#define EXPORT	__attribute__((visibility("default")))

static long fault_at;
static long calls;
static char failed[32];

EXPORT void satfault_arm(long n);
EXPORT long satfault_calls(void);
EXPORT const char *satfault_failed(void);
EXPORT void satfault_reset_view(void);

/* Drops what the module keeps between logins (the resident store view,
 * the parsed arguments and satoken.conf, the open audit file, the keyed
 * HMAC context), so that
 * the next login takes the cold path (open, parse, check, keep) and not
 * the warm one. */
void
satfault_reset_view(void)
{
	view_reset();
	args_cache_reset();
	audit_kept_close();
	token_digest_reset();
}

void
satfault_arm(long n)
{
	fault_at = n;
	calls = 0;
	failed[0] = '\0';
}

long
satfault_calls(void)
{
	return calls;
}

/* The name of the call that was made to fail, "" if none was. */
const char *
satfault_failed(void)
{
	return failed;
}

static int
hit(const char *name)
{
	calls++;
	if (fault_at == 0 || calls != fault_at)
		return 0;
	snprintf(failed, sizeof(failed), "%s", name);
	return 1;
}

#define DECL(ret, name, params) \
	ret __real_##name params; \
	ret __wrap_##name params;

DECL(void *, malloc, (size_t n))
DECL(void *, calloc, (size_t n, size_t m))
DECL(void *, realloc, (void *p, size_t n))
DECL(int, open, (const char *path, int flags, ...))
DECL(ssize_t, read, (int fd, void *p, size_t n))
DECL(ssize_t, write, (int fd, const void *p, size_t n))
DECL(int, fstat, (int fd, struct stat *st))
DECL(int, flock, (int fd, int op))
DECL(GDBM_FILE, gdbm_fd_open, (int fd, const char *name, int bs, int flags,
    void (*fatal)(const char *)))
DECL(datum, gdbm_fetch, (GDBM_FILE dbf, datum key))
DECL(int, EVP_MAC_final, (EVP_MAC_CTX *ctx, unsigned char *out,
    size_t *outl, size_t outsize))
DECL(ssize_t, pread, (int fd, void *p, size_t n, off_t off))
DECL(int, pam_get_user, (pam_handle_t *pamh, const char **user,
    const char *prompt))
DECL(int, pam_get_item, (const pam_handle_t *pamh, int type,
    const void **item))
DECL(int, pam_set_item, (pam_handle_t *pamh, int type, const void *item))
DECL(int, pam_set_data, (pam_handle_t *pamh, const char *name, void *data,
    void (*cleanup)(pam_handle_t *, void *, int)))
DECL(int, pam_get_data, (const pam_handle_t *pamh, const char *name,
    const void **data))
DECL(int, pam_prompt, (pam_handle_t *pamh, int style, char **resp,
    const char *fmt, ...))

void *
__wrap_malloc(size_t n)
{
	if (hit("malloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	if (hit("calloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (hit("realloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

int
__wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (hit("open")) {
		errno = EIO;
		return -1;
	}
	return __real_open(path, flags, mode);
}

ssize_t
__wrap_read(int fd, void *p, size_t n)
{
	if (hit("read")) {
		errno = EIO;
		return -1;
	}
	return __real_read(fd, p, n);
}

ssize_t
__wrap_write(int fd, const void *p, size_t n)
{
	if (hit("write")) {
		errno = ENOSPC;
		return -1;
	}
	return __real_write(fd, p, n);
}

int
__wrap_fstat(int fd, struct stat *st)
{
	if (hit("fstat")) {
		errno = EIO;
		return -1;
	}
	return __real_fstat(fd, st);
}

int
__wrap_flock(int fd, int op)
{
	if (hit("flock")) {
		errno = EIO;
		return -1;
	}
	return __real_flock(fd, op);
}

GDBM_FILE
__wrap_gdbm_fd_open(int fd, const char *name, int bs, int flags,
    void (*fatal)(const char *))
{
	if (hit("gdbm_fd_open")) {
		/* as GDBM does under GDBM_CLOERROR */
		if (flags & GDBM_CLOERROR)
			close(fd);
		gdbm_errno = GDBM_FILE_OPEN_ERROR;
		return NULL;
	}
	return __real_gdbm_fd_open(fd, name, bs, flags, fatal);
}

datum
__wrap_gdbm_fetch(GDBM_FILE dbf, datum key)
{
	datum none = { NULL, 0 };

	if (hit("gdbm_fetch")) {
		gdbm_errno = GDBM_FILE_READ_ERROR;
		return none;
	}
	return __real_gdbm_fetch(dbf, key);
}

int
__wrap_EVP_MAC_final(EVP_MAC_CTX *ctx, unsigned char *out, size_t *outl,
    size_t outsize)
{
	if (hit("EVP_MAC_final"))
		return 0;
	return __real_EVP_MAC_final(ctx, out, outl, outsize);
}

ssize_t
__wrap_pread(int fd, void *p, size_t n, off_t off)
{
	if (hit("pread")) {
		errno = EIO;
		return -1;
	}
	return __real_pread(fd, p, n, off);
}

int
__wrap_pam_get_user(pam_handle_t *pamh, const char **user, const char *prompt)
{
	if (hit("pam_get_user"))
		return PAM_SYSTEM_ERR;
	return __real_pam_get_user(pamh, user, prompt);
}

int
__wrap_pam_get_item(const pam_handle_t *pamh, int type, const void **item)
{
	if (hit("pam_get_item"))
		return PAM_SYSTEM_ERR;
	return __real_pam_get_item(pamh, type, item);
}

int
__wrap_pam_set_item(pam_handle_t *pamh, int type, const void *item)
{
	if (hit("pam_set_item"))
		return PAM_BUF_ERR;
	return __real_pam_set_item(pamh, type, item);
}

int
__wrap_pam_set_data(pam_handle_t *pamh, const char *name, void *data,
    void (*cleanup)(pam_handle_t *, void *, int))
{
	if (hit("pam_set_data"))
		return PAM_BUF_ERR;
	return __real_pam_set_data(pamh, name, data, cleanup);
}

int
__wrap_pam_get_data(const pam_handle_t *pamh, const char *name,
    const void **data)
{
	if (hit("pam_get_data"))
		return PAM_SYSTEM_ERR;
	return __real_pam_get_data(pamh, name, data);
}

int
__wrap_pam_prompt(pam_handle_t *pamh, int style, char **resp,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (hit("pam_prompt"))
		return PAM_CONV_ERR;
	va_start(ap, fmt);
	rc = pam_vprompt(pamh, style, resp, fmt, ap);
	va_end(ap);
	return rc;
}
