#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"

void
buf_init(struct buf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p == NULL ? 0 : len;
}

size_t
buf_remaining(const struct buf *b)
{
	return b->len;
}

static int
buf_take(struct buf *b, size_t n, const uint8_t **ret)
{
	if (n > b->len)
		return SAT_E_MALFORMED;
	*ret = b->p;
	b->p += n;
	b->len -= n;
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *ret)
{
	const uint8_t *q;
	int r;

	if ((r = buf_take(b, 1, &q)) != 0)
		return r;
	*ret = q[0];
	return 0;
}

int
buf_get_u16(struct buf *b, uint16_t *ret)
{
	const uint8_t *q;
	int r;

	if ((r = buf_take(b, 2, &q)) != 0)
		return r;
	*ret = (uint16_t)((q[0] << 8) | q[1]);
	return 0;
}

int
buf_get_u32(struct buf *b, uint32_t *ret)
{
	const uint8_t *q;
	int r;

	if ((r = buf_take(b, 4, &q)) != 0)
		return r;
	*ret = ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) |
	    ((uint32_t)q[2] << 8) | q[3];
	return 0;
}

int
buf_get_u64(struct buf *b, uint64_t *ret)
{
	const uint8_t *q;
	uint64_t v = 0;
	int i, r;

	if ((r = buf_take(b, 8, &q)) != 0)
		return r;
	for (i = 0; i < 8; i++)
		v = (v << 8) | q[i];
	*ret = v;
	return 0;
}

int
buf_get_i64(struct buf *b, int64_t *ret)
{
	uint64_t v;
	int r;

	if ((r = buf_get_u64(b, &v)) != 0)
		return r;
	memcpy(ret, &v, sizeof(*ret));
	return 0;
}

int
buf_get_bytes(struct buf *b, size_t n, struct buf *ret)
{
	const uint8_t *q;
	int r;

	if ((r = buf_take(b, n, &q)) != 0)
		return r;
	buf_init(ret, q, n);
	return 0;
}

int
buf_copy_bytes(struct buf *b, void *out, size_t n)
{
	const uint8_t *q;
	int r;

	if ((r = buf_take(b, n, &q)) != 0)
		return r;
	if (n > 0)
		memcpy(out, q, n);
	return 0;
}

int
buf_get_until(struct buf *b, uint8_t sep, struct buf *ret)
{
	const uint8_t *q;

	if (b->len == 0 || (q = memchr(b->p, sep, b->len)) == NULL)
		return SAT_E_MALFORMED;
	buf_init(ret, b->p, (size_t)(q - b->p));
	b->len -= (size_t)(q - b->p) + 1;
	b->p = q + 1;
	return 0;
}

static int
buf_peek_str16(struct buf *b, size_t max, struct buf *ret)
{
	struct buf save = *b, v;
	uint16_t n;
	int r;

	if ((r = buf_get_u16(b, &n)) != 0 ||
	    (r = buf_get_bytes(b, n, &v)) != 0) {
		*b = save;
		return r;
	}
	if (n > max || (n > 0 && memchr(v.p, '\0', n) != NULL)) {
		*b = save;
		return SAT_E_MALFORMED;
	}
	*ret = v;
	return 0;
}

int
buf_get_str16(struct buf *b, size_t max, char **ret)
{
	struct buf save = *b, v;
	char *s;
	int r;

	if ((r = buf_peek_str16(b, max, &v)) != 0)
		return r;
	if ((s = sat_strndup((const char *)v.p, v.len)) == NULL) {
		*b = save;
		return SAT_E_NOMEM;
	}
	*ret = s;
	return 0;
}

int
buf_get_str16_into(struct buf *b, char *out, size_t cap)
{
	struct buf v;
	int r;

	if (cap == 0)
		return SAT_E_INTERNAL;
	if ((r = buf_peek_str16(b, cap - 1, &v)) != 0)
		return r;
	if (v.len > 0)
		memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return 0;
}

int
buf_expect(struct buf *b, const void *lit, size_t n)
{
	if (n > b->len || memcmp(b->p, lit, n) != 0)
		return SAT_E_MALFORMED;
	b->p += n;
	b->len -= n;
	return 0;
}

int
buf_expect_end(const struct buf *b)
{
	return b->len == 0 ? 0 : SAT_E_MALFORMED;
}

int
buf_eq_str(const struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return n == b->len && (n == 0 || memcmp(b->p, s, n) == 0);
}

void
wbuf_init(struct wbuf *w)
{
	memset(w, 0, sizeof(*w));
}

static uint8_t *
wbuf_reserve(struct wbuf *w, size_t n)
{
	uint8_t *np;
	size_t ncap;

	if (w->failed)
		return NULL;
	if (n > SIZE_MAX / 2 - w->len) {
		w->failed = SAT_E_NOMEM;
		return NULL;
	}
	if (w->len + n > w->cap) {
		ncap = w->cap ? w->cap : 256;
		while (ncap < w->len + n)
			ncap *= 2;
		/* not realloc: the old block may hold a secret and must be wiped */
		if ((np = malloc(ncap)) == NULL) {
			w->failed = SAT_E_NOMEM;
			return NULL;
		}
		if (w->len > 0)
			memcpy(np, w->p, w->len);
		sat_freezero(w->p, w->cap);
		w->p = np;
		w->cap = ncap;
	}
	w->len += n;
	return w->p + w->len - n;
}

void
wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	uint8_t *q;

	if ((q = wbuf_reserve(w, 1)) != NULL)
		q[0] = v;
}

void
wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t *q;

	if ((q = wbuf_reserve(w, 2)) != NULL) {
		q[0] = (uint8_t)(v >> 8);
		q[1] = (uint8_t)v;
	}
}

void
wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t *q;

	if ((q = wbuf_reserve(w, 4)) != NULL) {
		q[0] = (uint8_t)(v >> 24);
		q[1] = (uint8_t)(v >> 16);
		q[2] = (uint8_t)(v >> 8);
		q[3] = (uint8_t)v;
	}
}

void
wbuf_put_u64(struct wbuf *w, uint64_t v)
{
	uint8_t *q;
	int i;

	if ((q = wbuf_reserve(w, 8)) != NULL)
		for (i = 7; i >= 0; i--, v >>= 8)
			q[i] = (uint8_t)v;
}

void
wbuf_put_i64(struct wbuf *w, int64_t v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	wbuf_put_u64(w, u);
}

void
wbuf_put_bytes(struct wbuf *w, const void *p, size_t n)
{
	uint8_t *q;

	if (n > 0 && (q = wbuf_reserve(w, n)) != NULL)
		memcpy(q, p, n);
}

void
wbuf_put_str16(struct wbuf *w, const char *s)
{
	size_t n = s == NULL ? 0 : strlen(s);

	if (n > UINT16_MAX) {
		if (!w->failed)
			w->failed = SAT_E_INVALID;
		return;
	}
	wbuf_put_u16(w, (uint16_t)n);
	wbuf_put_bytes(w, s, n);
}

int
wbuf_status(const struct wbuf *w)
{
	return w->failed;
}

void
wbuf_free(struct wbuf *w)
{
	if (w == NULL)
		return;
	sat_freezero(w->p, w->cap);
	wbuf_init(w);
}
