#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pwd.h>

#include "err.h"
#include "fileio.h"

/* FILEIO_DAEMON_USER's uid as fileio_remember_daemon_user found it;
 * remembered_uid is read only once remembered says it is there. */
static uid_t remembered_uid;
static int remembered;

static int
lookup_daemon_user(uid_t *ret)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(FILEIO_DAEMON_USER, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL)
		return SAT_E_NOTFOUND;
	*ret = res->pw_uid;
	return 0;
}

void
fileio_remember_daemon_user(void)
{
	uid_t uid;

	if (lookup_daemon_user(&uid) != 0)
		return;
	remembered_uid = uid;
	__atomic_store_n(&remembered, 1, __ATOMIC_RELEASE);
}

/* Whether uid is FILEIO_DAEMON_USER's.  Looked up only when an owner is
 * neither root nor the euid (a service reading a store it does not own),
 * with the reentrant call: modules live in threaded servers.  A failed
 * lookup (no such user, NSS down, a chroot without it) answers no. */
static int
is_daemon_user(uid_t uid)
{
	uid_t d;

	if (__atomic_load_n(&remembered, __ATOMIC_ACQUIRE))
		return remembered_uid == uid;
	return lookup_daemon_user(&d) == 0 && d == uid;
}

/* The directory holding path, on its own: 0 when nobody but its owner
 * can write it.  stat, not lstat: /var/lib/satoken may be a symlink an
 * admin made; what counts is the directory the name ends up in. */
static int
dir_private(const char *path)
{
	char dir[4096];
	struct stat st;
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return SAT_E_INVALID;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &st) != 0)
		return SAT_E_IO;
	if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return SAT_E_FILEPERM;
	return 0;
}

int
fileio_open(const char *path, int oflags, mode_t mode, unsigned checks,
    int *ret_fd)
{
	struct stat st;
	int fd, r;

	if (path == NULL || path[0] != '/')
		return SAT_E_INVALID;
	/* O_NONBLOCK: a FIFO planted in a file's place must not hang us in
	 * open(); it is refused below like anything not regular */
	fd = open(path, oflags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
	    mode);
	if (fd < 0) {
		switch (errno) {
		case ENOENT:
			return SAT_E_NOTFOUND;
		case ELOOP:
		case EISDIR:
		case ENXIO:
			return SAT_E_FILEPERM;
		default:
			return SAT_E_IO;
		}
	}
	if (fstat(fd, &st) != 0) {
		r = SAT_E_IO;
		goto fail;
	}
	if ((checks & FILEIO_REGULAR) && !S_ISREG(st.st_mode)) {
		r = SAT_E_FILEPERM;
		goto fail;
	}
	if ((checks & FILEIO_NOT_WRITABLE) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		r = SAT_E_FILEPERM;
		goto fail;
	}
	if ((checks & FILEIO_OWNER_TRUSTED) && st.st_uid != 0 &&
	    st.st_uid != geteuid()) {
		r = SAT_E_FILEPERM;
		goto fail;
	}
	if ((checks & FILEIO_OWNER_DAEMON) && st.st_uid != 0 &&
	    st.st_uid != geteuid() && !is_daemon_user(st.st_uid)) {
		r = SAT_E_FILEPERM;
		goto fail;
	}
	if ((checks & FILEIO_DIR_PRIVATE) && (r = dir_private(path)) != 0)
		goto fail;
	if (fcntl(fd, F_SETFL, oflags & O_APPEND) != 0) {
		r = SAT_E_IO;
		goto fail;
	}
	*ret_fd = fd;
	return 0;
fail:
	close(fd);
	return r;
}

int
fileio_slurp(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *p, *np;
	ssize_t n;

	if ((p = malloc(cap)) == NULL)
		return SAT_E_NOMEM;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1) {
				free(p);
				return SAT_E_INVALID;
			}
			if ((np = realloc(p, cap * 2)) == NULL) {
				free(p);
				return SAT_E_NOMEM;
			}
			p = np;
			cap *= 2;
		}
		n = read(fd, p + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(p);
			return SAT_E_IO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(p);
			return SAT_E_INVALID;
		}
	}
	p[len] = '\0';
	*ret = p;
	if (ret_len != NULL)
		*ret_len = len;
	return 0;
}

int
fileio_write_all(int fd, const void *p, size_t n)
{
	const char *q = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, q, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return SAT_E_IO;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}
