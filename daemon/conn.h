/* satokend: one client connection, its framing and its limits.
 *
 * Input is read into a buffer that grows, up to one maximal line (64 KiB
 * and its newline): a line that does not fit is oversized before
 * anything is buffered past it, and the connection is answered and
 * closed.  The buffer exists only while it holds bytes, so that an idle
 * connection costs its struct and its socket, not 64 KiB.  Output is
 * queued and written without blocking; a client that does not read its
 * replies is cut off like one that does not finish its request. */
#ifndef SATOKEND_CONN_H
#define SATOKEND_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "principal.h"
#include "proto.h"

#define CONN_IDLE_MS	30000	/* no request at all for this long */
#define CONN_SLOW_MS	10000	/* a request, or our reply, in progress */
#define CONN_IN_FIRST	2048	/* most requests fit; grows by doubling */
#define CONN_IN_MAX	(PROTO_LINE_MAX + 1)
#define CONN_OUT_HIGH	(1024 * 1024)	/* stop reading while this much waits */
#define CONN_OUT_MAX	(16 * 1024 * 1024)

struct conn {
	int fd;			/* owned, non-blocking */
	uint64_t serial;	/* never reused: results find their conn */
	struct principal peer;
	uint8_t *in;		/* owned, NULL while empty; may hold a token */
	size_t inlen, incap;
	size_t inoff;		/* in[0..inoff) is taken (and wiped): a
				 * backlog is not moved at each request */
	size_t scanned;		/* in[inoff..scanned) holds no newline */
	char *out;		/* owned; may hold a token: wiped */
	size_t outlen, outoff, outcap;
	int64_t active_ms;	/* last accepted, or last request taken */
	int64_t partial_ms;	/* since when a line is incomplete; 0 none */
	int64_t stall_ms;	/* since when output waits; 0 none */
	int eof;		/* peer shut its side: finish, then close */
	int closing;		/* close once the output is written */
	int dead;		/* close now */
	/* the server's bookkeeping (loop.c) */
	uid_t uid;		/* counted against, as accepted */
	size_t index;		/* in the server's array */
	uint32_t events;	/* what epoll watches for it now */
	int watched;		/* in the epoll set */
};

/* Wraps an accepted fd (made non-blocking here). */
int conn_new(int fd, uint64_t serial, int64_t now_ms, struct conn **ret);
/* Wipes the buffers, closes the fd.  Accepts NULL. */
void conn_free(struct conn *c);

/* Reads what the socket has (until the buffer is full).  Sets eof or
 * dead as they happen. */
void conn_fill(struct conn *c, int64_t now_ms);
/* 1 if the conn takes more input now: not finished, not full, not
 * waiting for the client to read what it was sent, and holding no
 * request that may be complete (a backlog is read as it is served, so
 * a flooding client is not read from at every turn of the loop). */
int conn_wants_input(const struct conn *c);
/* 1 if nothing of a request or a reply is in progress on it, as far as
 * the conn has read; conn_unread says whether the socket holds more. */
int conn_is_idle(const struct conn *c);
/* 1 if the socket holds bytes not read yet (or cannot tell). */
int conn_unread(const struct conn *c);

/* The next complete line: 1 with *ret_line (borrowed from c until
 * conn_consume) and *ret_len (no newline); 0 if none is complete; -1 if
 * the pending line is longer than PROTO_LINE_MAX. */
int conn_next_line(struct conn *c, const char **ret_line, size_t *ret_len);
/* Drops the line conn_next_line returned (wiping it). */
void conn_consume(struct conn *c, size_t len);

/* Queues bytes for the client; marks the conn dead past CONN_OUT_MAX. */
void conn_queue(struct conn *c, const char *p, size_t n);
/* Writes what it can; stalls and errors as above. */
void conn_flush(struct conn *c, int64_t now_ms);
size_t conn_pending_out(const struct conn *c);

/* 1 if the conn should be closed now (dead, finished, or past one of
 * its deadlines). */
int conn_expired(const struct conn *c, int64_t now_ms);
/* The earliest time conn_expired may turn true. */
int64_t conn_deadline(const struct conn *c);

#endif
