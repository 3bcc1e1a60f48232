/* satokend: the backup op.  An admin gets a consistent copy of the store
 * (common/backup.h), HMAC key included, streamed in the replies: the
 * client writes its own file.  The daemon never opens a path a caller
 * names, so it cannot be made to write (or overwrite) anything as its
 * own user.
 *
 * The first request (no cursor) takes the whole copy at once, in this
 * handler: commits are applied on this same thread, so the file cannot
 * change during it, and every change acknowledged before the request is
 * in it.  The replies then hand it out in chunks (a reply is at most
 * CONN_OUT_MAX); later requests carry the cursor of the previous reply.
 * One copy is kept at a time, for its principal only, for BACKUP_KEEP_S
 * seconds, and wiped when it is handed out or dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "backup.h"
#include "err.h"
#include "mem.h"
#include "num.h"
#include "ops.h"

#define BACKUP_CHUNK	(3u * 1024 * 1024)	/* 4 MiB of base64 */

static size_t chunk = BACKUP_CHUNK;

void
ops_backup_set_chunk(size_t n)
{
	chunk = n > 0 && n <= BACKUP_CHUNK ? n : BACKUP_CHUNK;
}
#define BACKUP_KEEP_S	600
#define NONCE_HEX	32

static struct {
	struct wbuf w;		/* the copy; w.p NULL when none */
	char nonce[NONCE_HEX + 1];
	char owner[SAT_PRINCIPAL_MAX + 1];
	int64_t taken_at;
} snap;

static void
snap_drop(void)
{
	wbuf_free(&snap.w);	/* wiped: it holds the HMAC key */
	wbuf_init(&snap.w);
	memset(&snap, 0, sizeof(snap));
}

static int
snap_take(struct op_ctx *c)
{
	uint8_t rnd[NONCE_HEX / 2];
	size_t i;
	int r;

	snap_drop();
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return op_fail(c, SAT_E_INTERNAL, "no randomness");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(snap.nonce + 2 * i, 3, "%02x", rnd[i]);
	if ((r = backup_take(c->st->store, c->st->now, &snap.w)) != 0) {
		snap_drop();
		return op_fail(c, r, "store: %s", sat_strerror(r));
	}
	snprintf(snap.owner, sizeof(snap.owner), "%s", c->p->id);
	snap.taken_at = c->st->now;
	return 0;
}

/* "NONCE.OFFSET" of the current copy, for this principal. */
static int
parse_cursor(struct op_ctx *c, const char *cur, uint64_t *ret_off)
{
	const char *dot = strchr(cur, '.');

	if (snap.w.p == NULL || dot == NULL ||
	    (size_t)(dot - cur) != NONCE_HEX ||
	    strncmp(cur, snap.nonce, NONCE_HEX) != 0 ||
	    strcmp(snap.owner, c->p->id) != 0 ||
	    c->st->now - snap.taken_at > BACKUP_KEEP_S)
		return op_fail(c, SAT_E_NOTFOUND, "no such backup in progress "
		    "(expired, taken over by a newer one, or not yours): start "
		    "again");
	if (parse_u64(dot + 1, 0, snap.w.len, ret_off) != 0)
		return op_fail(c, SAT_E_INVALID, "bad backup cursor");
	return 0;
}

int
op_backup(struct op_ctx *c)
{
	char cursor[NONCE_HEX + 32];
	unsigned char *b64 = NULL;
	uint64_t off = 0;
	size_t n;
	json_t *o;
	int r;

	if (c->rq->cursor == NULL)
		r = snap_take(c);
	else
		r = parse_cursor(c, c->rq->cursor, &off);
	if (r != 0)
		return r;
	n = snap.w.len - off < chunk ? snap.w.len - off : chunk;
	if ((b64 = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return op_fail(c, SAT_E_NOMEM, "out of memory");
	EVP_EncodeBlock(b64, snap.w.p + off, (int)n);
	o = json_pack("{s:I, s:I, s:s}", "size", (json_int_t)snap.w.len,
	    "offset", (json_int_t)off, "data", (const char *)b64);
	sat_freezero(b64, 4 * ((n + 2) / 3) + 1);
	if (o != NULL && off + n < snap.w.len) {
		snprintf(cursor, sizeof(cursor), "%s.%llu", snap.nonce,
		    (unsigned long long)(off + n));
		if (json_object_set_new(o, "cursor", json_string(cursor)) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	if (o == NULL || op_reply_merge(c, o) != 0)
		return op_fail(c, SAT_E_NOMEM, "out of memory");
	snprintf(c->ev_detail, sizeof(c->ev_detail), "offset=%llu bytes=%zu "
	    "size=%zu", (unsigned long long)off, n, snap.w.len);
	c->ev->detail = c->ev_detail;
	if (off + n == snap.w.len)
		snap_drop();
	return 0;
}
