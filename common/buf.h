/* satoken: the one length-checked reader for untrusted bytes, and a
 * growable writer for the record encoder.
 *
 * Every byte from outside (store records, SASL messages, tokens) is read
 * through struct buf.  Each getter checks the remaining length before it
 * touches memory and returns SAT_E_MALFORMED without moving the cursor
 * when the data is short. */
#ifndef SATOKEN_BUF_H
#define SATOKEN_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	const uint8_t *p;	/* borrowed; never written */
	size_t len;		/* bytes left */
};

void buf_init(struct buf *b, const void *p, size_t len);
size_t buf_remaining(const struct buf *b);

int buf_get_u8(struct buf *b, uint8_t *ret);
int buf_get_u16(struct buf *b, uint16_t *ret);	/* big endian */
int buf_get_u32(struct buf *b, uint32_t *ret);	/* big endian */
int buf_get_u64(struct buf *b, uint64_t *ret);	/* big endian */
int buf_get_i64(struct buf *b, int64_t *ret);	/* big endian two's complement */

/* Takes the next n bytes as a view into b (borrowed from b's owner). */
int buf_get_bytes(struct buf *b, size_t n, struct buf *ret);

/* Copies the next n bytes into out. */
int buf_copy_bytes(struct buf *b, void *out, size_t n);

/* Takes the bytes up to the first sep as a view and consumes the
 * separator too.  SAT_E_MALFORMED when no sep remains. */
int buf_get_until(struct buf *b, uint8_t sep, struct buf *ret);

/* A u16 length then that many bytes; the view must hold no NUL byte.
 * Returns a malloc'd NUL-terminated copy (caller frees). */
int buf_get_str16(struct buf *b, size_t max, char **ret);

/* Like buf_get_str16 into a caller's array of size cap (max cap-1 bytes). */
int buf_get_str16_into(struct buf *b, char *out, size_t cap);

/* Consumes a literal prefix; SAT_E_MALFORMED when it is not there. */
int buf_expect(struct buf *b, const void *lit, size_t n);

/* SAT_E_MALFORMED unless every byte was consumed. */
int buf_expect_end(const struct buf *b);

/* 1 when the view equals the NUL-terminated string s, else 0. */
int buf_eq_str(const struct buf *b, const char *s);

/* Growable output buffer.  Data that held secrets is wiped on free. */
struct wbuf {
	uint8_t *p;	/* owned */
	size_t len;
	size_t cap;
	int failed;	/* sticky: a put failed, wbuf_finish reports it */
};

void wbuf_init(struct wbuf *w);
void wbuf_put_u8(struct wbuf *w, uint8_t v);
void wbuf_put_u16(struct wbuf *w, uint16_t v);
void wbuf_put_u32(struct wbuf *w, uint32_t v);
void wbuf_put_u64(struct wbuf *w, uint64_t v);
void wbuf_put_i64(struct wbuf *w, int64_t v);
void wbuf_put_bytes(struct wbuf *w, const void *p, size_t n);
/* A u16 length and the string (NULL counts as empty); fails if > 65535. */
void wbuf_put_str16(struct wbuf *w, const char *s);
/* 0, or SAT_E_NOMEM / SAT_E_INVALID if any put failed. */
int wbuf_status(const struct wbuf *w);
/* Wipes and frees the buffer; leaves w empty.  Accepts NULL. */
void wbuf_free(struct wbuf *w);

#endif
