#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "backup.h"
#include "err.h"
#include "mem.h"
#include "record.h"

#define MAGIC		"SATOKEN-BACKUP\n"
#define MAGIC_LEN	(sizeof(MAGIC) - 1)
#define VERSION		1u
/* after the magic: version, taken_at, record count */
#define HEADER_LEN	(MAGIC_LEN + 4 + 8 + 8)

struct take_ctx {
	struct wbuf *out;
	uint64_t n;
};

static int
take_one(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct take_ctx *c = arg;

	if (klen > UINT16_MAX || vlen > UINT32_MAX)
		return SAT_E_STORE;	/* no record of ours is that long */
	wbuf_put_u16(c->out, (uint16_t)klen);
	wbuf_put_bytes(c->out, key, klen);
	wbuf_put_u32(c->out, (uint32_t)vlen);
	wbuf_put_bytes(c->out, val, vlen);
	c->n++;
	return wbuf_status(c->out);
}

int
backup_take(struct store *s, int64_t now, struct wbuf *out)
{
	struct take_ctx c = { out, 0 };
	uint8_t d[BACKUP_DIGEST_LEN];
	size_t i;
	int r;

	wbuf_put_bytes(out, MAGIC, MAGIC_LEN);
	wbuf_put_u32(out, VERSION);
	wbuf_put_i64(out, now);
	wbuf_put_u64(out, 0);	/* the count, filled in below */
	if ((r = wbuf_status(out)) != 0)
		return r;
	if ((r = store_export(s, take_one, &c)) != 0)
		return r;
	for (i = 0; i < 8; i++)
		out->p[MAGIC_LEN + 12 + i] = (uint8_t)(c.n >> (56 - 8 * i));
	SHA256(out->p, out->len, d);
	wbuf_put_bytes(out, d, sizeof(d));
	return wbuf_status(out);
}

typedef int (*record_fn)(void *arg, const struct buf *key,
    const struct buf *val);

/* Walks the records of a backup whose digest was checked. */
static int
each_record(const void *p, size_t len, record_fn fn, void *arg)
{
	struct buf b, key, val;
	uint64_t n, i;
	uint32_t vlen;
	uint16_t klen;
	int r;

	buf_init(&b, p, len - BACKUP_DIGEST_LEN);
	if ((r = buf_get_bytes(&b, MAGIC_LEN + 12, &key)) != 0 ||
	    (r = buf_get_u64(&b, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u16(&b, &klen)) != 0 ||
		    (r = buf_get_bytes(&b, klen, &key)) != 0 ||
		    (r = buf_get_u32(&b, &vlen)) != 0 ||
		    (r = buf_get_bytes(&b, vlen, &val)) != 0)
			return r;
		if (fn != NULL && (r = fn(arg, &key, &val)) != 0)
			return r;
	}
	return buf_expect_end(&b);
}

struct check_ctx {
	int meta;
	const char *why;
};

static int
check_one(void *arg, const struct buf *key, const struct buf *val)
{
	struct check_ctx *c = arg;
	struct sat_meta m;
	int r;

	if (key->len == 0) {
		c->why = "a record with an empty key";
		return SAT_E_MALFORMED;
	}
	if (!buf_eq_str(key, "m"))
		return 0;
	memset(&m, 0, sizeof(m));
	r = record_decode_meta(val->p, val->len, &m);
	if (r == 0 && m.schema == STORE_SCHEMA)
		c->meta++;
	record_free_meta(&m);
	if (r != 0 || c->meta != 1) {
		c->why = "its store header (HMAC key) is damaged or of another "
		    "schema";
		return SAT_E_MALFORMED;
	}
	return 0;
}

int
backup_check(const void *p, size_t len, uint64_t *ret_records,
    int64_t *ret_taken_at, char *err, size_t errlen)
{
	struct check_ctx c = { 0, NULL };
	uint8_t d[BACKUP_DIGEST_LEN];
	struct buf b;
	uint64_t n;
	int64_t taken;
	uint32_t version;

	buf_init(&b, p, len);
	if (len < HEADER_LEN + BACKUP_DIGEST_LEN ||
	    buf_expect(&b, MAGIC, MAGIC_LEN) != 0) {
		snprintf(err, errlen, "not a satoken backup");
		return SAT_E_MALFORMED;
	}
	if (buf_get_u32(&b, &version) != 0 || version != VERSION) {
		snprintf(err, errlen, "backup format %u; this satokend reads %u",
		    version, VERSION);
		return SAT_E_MALFORMED;
	}
	if (buf_get_i64(&b, &taken) != 0 || buf_get_u64(&b, &n) != 0)
		return SAT_E_MALFORMED;
	SHA256(p, len - BACKUP_DIGEST_LEN, d);
	if (CRYPTO_memcmp(d, (const uint8_t *)p + len - BACKUP_DIGEST_LEN,
	    sizeof(d)) != 0) {
		snprintf(err, errlen, "the backup is damaged (its SHA-256 does "
		    "not match: truncated or altered)");
		return SAT_E_MALFORMED;
	}
	if (each_record(p, len, check_one, &c) != 0 || c.meta != 1) {
		snprintf(err, errlen, "the backup is malformed: %s",
		    c.why != NULL ? c.why : c.meta == 0 ?
		    "it has no store header (HMAC key)" : "bad record bounds");
		return SAT_E_MALFORMED;
	}
	if (ret_records != NULL)
		*ret_records = n;
	if (ret_taken_at != NULL)
		*ret_taken_at = taken;
	return 0;
}

static int
restore_one(void *arg, const struct buf *key, const struct buf *val)
{
	return store_stage_raw(arg, key->p, key->len, val->p,
	    val->len);
}

int
backup_restore(const char *db_path, unsigned lock_timeout_ms, const void *p,
    size_t len)
{
	struct store *s = NULL;
	int r;

	if ((r = store_open_writer(db_path, lock_timeout_ms, &s)) != 0)
		return r;
	/* everything out, the backup in, one commit: the journal makes it
	 * all or nothing, and the counter readers watch moves with it */
	if ((r = store_stage_clear(s)) == 0 &&
	    (r = each_record(p, len, restore_one, s)) == 0)
		r = store_commit(s);
	store_close(s);
	return r;
}
