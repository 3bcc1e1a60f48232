#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "mem.h"

int
conn_new(int fd, uint64_t serial, int64_t now_ms, struct conn **ret)
{
	struct conn *c;
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return SAT_E_IO;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SAT_E_NOMEM;
	c->fd = fd;
	c->serial = serial;
	c->active_ms = now_ms;
	*ret = c;
	return 0;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	sat_freezero(c->out, c->outcap);
	sat_freezero(c->in, c->incap);
	free(c);
}

/* Gives the input buffer room for more, up to CONN_IN_MAX.  Not realloc:
 * the old block may hold a token. */
static int
conn_grow_in(struct conn *c)
{
	size_t ncap;
	uint8_t *nb;

	if (c->incap >= CONN_IN_MAX)
		return -1;
	ncap = c->incap ? c->incap * 2 : CONN_IN_FIRST;
	if (ncap > CONN_IN_MAX)
		ncap = CONN_IN_MAX;
	if ((nb = malloc(ncap)) == NULL)
		return -1;
	if (c->inlen > 0)
		memcpy(nb, c->in, c->inlen);
	sat_freezero(c->in, c->incap);
	c->in = nb;
	c->incap = ncap;
	return 0;
}

/* An empty buffer is given back: idle connections hold none. */
static void
conn_release_in(struct conn *c)
{
	if (c->inlen == 0 && c->in != NULL) {
		sat_freezero(c->in, c->incap);
		c->in = NULL;
		c->incap = 0;
		c->scanned = 0;
		c->inoff = 0;
	}
}

/* Moves what is left to the front, once the buffer is full. */
static void
conn_compact_in(struct conn *c)
{
	size_t left = c->inlen - c->inoff;

	memmove(c->in, c->in + c->inoff, left);
	sat_wipe(c->in + left, c->inoff);
	c->scanned -= c->inoff;
	c->inlen = left;
	c->inoff = 0;
}

void
conn_fill(struct conn *c, int64_t now_ms)
{
	ssize_t n;
	size_t room;

	while (!c->eof && !c->dead && c->inlen - c->inoff < CONN_IN_MAX) {
		if (c->inlen == c->incap && c->inoff > 0)
			conn_compact_in(c);
		else if (c->inlen == c->incap && conn_grow_in(c) != 0) {
			c->dead = 1;
			break;
		}
		room = c->incap - c->inlen;
		n = recv(c->fd, c->in + c->inlen, room, 0);
		if (n > 0) {
			if (c->inlen == 0 || c->partial_ms == 0)
				c->partial_ms = now_ms;
			c->inlen += (size_t)n;
			/* a stream socket's recv takes all it holds, up to
			 * room: short, it is empty now (no second recv just to
			 * hear EAGAIN); what comes later, an EOF included, is
			 * reported again by the level-triggered epoll */
			if ((size_t)n < room)
				break;
			continue;
		}
		if (n == 0)
			c->eof = 1;
		else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			c->dead = 1;
		break;
	}
	conn_release_in(c);
}

int
conn_wants_input(const struct conn *c)
{
	return !c->eof && !c->closing && !c->dead && c->scanned >= c->inlen &&
	    c->inlen - c->inoff < CONN_IN_MAX &&
	    conn_pending_out(c) <= CONN_OUT_HIGH;
}

int
conn_is_idle(const struct conn *c)
{
	return !c->dead && !c->closing && !c->eof && c->inlen == 0 &&
	    conn_pending_out(c) == 0;
}

int
conn_unread(const struct conn *c)
{
	int n = 0;

	if (ioctl(c->fd, FIONREAD, &n) != 0)
		return 1;
	return n > 0;
}

int
conn_next_line(struct conn *c, const char **ret_line, size_t *ret_len)
{
	uint8_t *nl;

	if (c->inlen == 0)
		return 0;
	if (c->scanned < c->inoff)
		c->scanned = c->inoff;
	nl = memchr(c->in + c->scanned, '\n', c->inlen - c->scanned);
	if (nl == NULL && c->eof && c->inlen - c->inoff < CONN_IN_MAX) {
		/* the last request of a client that shut its side may lack
		 * its newline */
		*ret_line = (const char *)c->in + c->inoff;
		*ret_len = c->inlen - c->inoff;
		return 1;
	}
	if (nl == NULL) {
		c->scanned = c->inlen;
		/* the buffer holds one maximal line and its newline */
		return c->inlen - c->inoff == CONN_IN_MAX ? -1 : 0;
	}
	*ret_line = (const char *)c->in + c->inoff;
	*ret_len = (size_t)(nl - (c->in + c->inoff));
	return 1;
}

void
conn_consume(struct conn *c, size_t len)
{
	size_t left = c->inlen - c->inoff, n = len + 1 > left ? left : len + 1;

	sat_wipe(c->in + c->inoff, n);
	c->inoff += n;
	if (c->inoff == c->inlen)
		c->inlen = c->inoff = 0;
	c->scanned = c->inoff;
	/* what is left is the next request, timed from the one just taken */
	c->partial_ms = c->inlen > 0 ? c->active_ms : 0;
	conn_release_in(c);
}

size_t
conn_pending_out(const struct conn *c)
{
	return c->outlen - c->outoff;
}

void
conn_queue(struct conn *c, const char *p, size_t n)
{
	size_t need, ncap;
	char *nb;

	if (c->dead)
		return;
	if (c->outoff > 0 && c->outoff == c->outlen) {
		sat_wipe(c->out, c->outlen);
		c->outoff = c->outlen = 0;
	}
	need = c->outlen + n;
	if (need - c->outoff > CONN_OUT_MAX) {
		c->dead = 1;
		return;
	}
	if (need > c->outcap) {
		ncap = c->outcap ? c->outcap : 4096;
		while (ncap < need)
			ncap *= 2;
		/* not realloc: the old block may hold a token */
		if ((nb = malloc(ncap)) == NULL) {
			c->dead = 1;
			return;
		}
		if (c->outlen > 0)
			memcpy(nb, c->out, c->outlen);
		sat_freezero(c->out, c->outcap);
		c->out = nb;
		c->outcap = ncap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

void
conn_flush(struct conn *c, int64_t now_ms)
{
	ssize_t n;

	while (!c->dead && c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->outoff += (size_t)n;
			c->stall_ms = 0;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->stall_ms == 0)
				c->stall_ms = now_ms;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		c->dead = 1;
	}
	if (c->outoff == c->outlen && c->outlen > 0) {
		sat_wipe(c->out, c->outlen);
		c->outoff = c->outlen = 0;
		c->stall_ms = 0;
	}
}

int64_t
conn_deadline(const struct conn *c)
{
	int64_t d = c->active_ms + CONN_IDLE_MS;

	if (c->partial_ms != 0 && c->partial_ms + CONN_SLOW_MS < d)
		d = c->partial_ms + CONN_SLOW_MS;
	if (c->stall_ms != 0 && c->stall_ms + CONN_SLOW_MS < d)
		d = c->stall_ms + CONN_SLOW_MS;
	return d;
}

int
conn_expired(const struct conn *c, int64_t now_ms)
{
	if (c->dead)
		return 1;
	if (conn_pending_out(c) == 0 && (c->closing ||
	    (c->eof && c->scanned == c->inlen)))
		return 1;
	return now_ms >= conn_deadline(c);
}
