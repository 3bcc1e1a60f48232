/* satoken: this process's pid, without a system call per login.
 *
 * glibc no longer caches getpid(), and a login asked for it twice (the
 * store view's fork check, the audit line).  selfpid.c says how a child
 * still gets its own. */
#ifndef SATOKEN_SELFPID_H
#define SATOKEN_SELFPID_H

#include <sys/types.h>

/* getpid(), kept between calls while it cannot have changed. */
pid_t self_pid(void);

#endif
