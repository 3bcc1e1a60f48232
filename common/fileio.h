/* satoken: the one way a file is opened.
 *
 * Absolute paths only; O_CLOEXEC|O_NOCTTY|O_NOFOLLOW always; the checks
 * run on the open descriptor (fstat), never on the path, so a file
 * swapped between check and use is not trusted. */
#ifndef SATOKEN_FILEIO_H
#define SATOKEN_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* checks */
#define FILEIO_REGULAR		0x1	/* must be a regular file */
#define FILEIO_NOT_WRITABLE	0x2	/* no group or world write bit */
#define FILEIO_OWNER_TRUSTED	0x4	/* owned by root or the euid */
/* owned by root, the euid or the system user FILEIO_DAEMON_USER (the
 * store: written by satokend, read by services running as others) */
#define FILEIO_OWNER_DAEMON	0x8
/* its directory is not writable by group or others (sticky or not):
 * nobody else may plant, swap or remove the file or its siblings */
#define FILEIO_DIR_PRIVATE	0x10

#define FILEIO_DAEMON_USER	"satoken"

/* Looks FILEIO_DAEMON_USER up now and keeps its uid for every later
 * FILEIO_OWNER_DAEMON check.  For a module loaded by a server that
 * chroots after loading it (Postfix's smtpd), where /etc/passwd is out of
 * reach later; a user not found now is looked up again at each check. */
void fileio_remember_daemon_user(void);

/* Opens path with oflags (plus the safe flags above) and mode (for
 * O_CREAT), then applies checks to the descriptor.  On success *ret_fd
 * is an fd the caller closes.  SAT_E_NOTFOUND if it does not exist,
 * SAT_E_FILEPERM if it is a symlink, not regular, or fails a check,
 * SAT_E_INVALID for a relative path, SAT_E_IO otherwise. */
int fileio_open(const char *path, int oflags, mode_t mode, unsigned checks,
    int *ret_fd);

/* Reads the whole of fd (at most max bytes; SAT_E_INVALID if larger)
 * into a malloc'd NUL-terminated buffer the caller frees. */
int fileio_slurp(int fd, size_t max, char **ret, size_t *ret_len);

/* Writes all n bytes, retrying on EINTR and short writes. */
int fileio_write_all(int fd, const void *p, size_t n);

#endif
