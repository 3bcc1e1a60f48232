/* satoken: the daemon's Unix sockets, bound one way.
 *
 * satokend binds three: its socket (stream), the modules' last-use
 * reports and their canary reports (datagrams).  Each may find a file
 * at its path: a socket left by a daemon that died is stale and taken
 * over; one that answers a connect is another daemon's and is not; a
 * file that is not a socket is refused. */
#ifndef SATOKEN_UNIXSOCK_H
#define SATOKEN_UNIXSOCK_H

#include <stddef.h>
#include <sys/types.h>

/* A non-blocking, close-on-exec socket of type (SOCK_STREAM or
 * SOCK_DGRAM) bound to path and given mode; a stream socket is not yet
 * listening.  The descriptor, or -1 with err saying why, naming what. */
int unixsock_bind(const char *path, int type, mode_t mode, const char *what,
    char *err, size_t errlen);

#endif
