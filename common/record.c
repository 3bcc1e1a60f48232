#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "err.h"
#include "mem.h"
#include "record.h"
#include "role.h"

#define PUBLIC_KEY_MAX	16384
#define LIST_MAX	1024	/* groups, services or sources in one record */
#define INDEX_MAX	100000	/* token ids in one account's index */

static const uint8_t magic[2] = { 's', 'T' };

/* ---- framing ---- */

static size_t
frame_begin(struct wbuf *out, enum record_type type)
{
	wbuf_put_bytes(out, magic, sizeof(magic));
	wbuf_put_u8(out, (uint8_t)type);
	wbuf_put_u8(out, RECORD_VERSION);
	wbuf_put_u32(out, 0);	/* body length, patched in frame_end */
	return out->len;
}

static int
frame_end(struct wbuf *out, size_t body_start)
{
	size_t start = body_start - 8, body_len;
	uint32_t crc;
	int r;

	if ((r = wbuf_status(out)) != 0)
		return r;
	body_len = out->len - body_start;
	if (body_len > RECORD_MAX)
		return SAT_E_INVALID;
	out->p[start + 4] = (uint8_t)(body_len >> 24);
	out->p[start + 5] = (uint8_t)(body_len >> 16);
	out->p[start + 6] = (uint8_t)(body_len >> 8);
	out->p[start + 7] = (uint8_t)body_len;
	crc = crc32_ieee(0, out->p + start, out->len - start);
	wbuf_put_u32(out, crc);
	return wbuf_status(out);
}

/* Checks the frame of the n bytes at p and returns a view of the body. */
static int
frame_open(const void *p, size_t n, enum record_type type, struct buf *body)
{
	struct buf b;
	uint8_t t, v;
	uint32_t len, crc;

	if (p == NULL || n < RECORD_OVERHEAD || n > RECORD_MAX + RECORD_OVERHEAD)
		return SAT_E_MALFORMED;
	buf_init(&b, p, n);
	if (buf_expect(&b, magic, sizeof(magic)) != 0 ||
	    buf_get_u8(&b, &t) != 0 || buf_get_u8(&b, &v) != 0 ||
	    buf_get_u32(&b, &len) != 0)
		return SAT_E_MALFORMED;
	if (t != type || v != RECORD_VERSION || len != n - RECORD_OVERHEAD)
		return SAT_E_MALFORMED;
	if (buf_get_bytes(&b, len, body) != 0 || buf_get_u32(&b, &crc) != 0 ||
	    buf_expect_end(&b) != 0)
		return SAT_E_MALFORMED;
	if (crc32_ieee(0, p, n - 4) != crc)
		return SAT_E_MALFORMED;
	return 0;
}

/* ---- field helpers ---- */

static void
put_list(struct wbuf *out, const struct strlist *l)
{
	size_t i;

	if (l->n > LIST_MAX) {
		if (!out->failed)
			out->failed = SAT_E_INVALID;
		return;
	}
	wbuf_put_u16(out, (uint16_t)l->n);
	for (i = 0; i < l->n; i++)
		wbuf_put_str16(out, l->v[i]);
}

/* Optional string: an empty field decodes to NULL. */
static int
get_opt_str(struct buf *b, size_t max, char **ret)
{
	char *s = NULL;
	int r;

	if ((r = buf_get_str16(b, max, &s)) != 0)
		return r;
	if (s[0] == '\0') {
		free(s);
		s = NULL;
	}
	*ret = s;
	return 0;
}

typedef int (*item_check)(const char *);

static int
check_any(const char *s)
{
	return s[0] != '\0';
}

static int
get_list(struct buf *b, size_t maxlen, item_check ok, struct strlist *ret)
{
	uint16_t n, i;
	char *s;
	int r;

	if ((r = buf_get_u16(b, &n)) != 0)
		return r;
	if (n > LIST_MAX)
		return SAT_E_MALFORMED;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_str16(b, maxlen, &s)) != 0)
			return r;
		if (!ok(s) || strlist_contains(ret, s)) {
			free(s);
			return SAT_E_MALFORMED;
		}
		r = strlist_add(ret, s);
		free(s);
		if (r != 0)
			return r;
	}
	return 0;
}

/* A required name that passes valid_name. */
static int
get_name(struct buf *b, char out[SAT_NAME_MAX + 1])
{
	int r;

	if ((r = buf_get_str16_into(b, out, SAT_NAME_MAX + 1)) != 0)
		return r;
	return valid_name(out) ? 0 : SAT_E_MALFORMED;
}

/* ---- meta ---- */

int
record_encode_meta(const struct sat_meta *m, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_META);

	wbuf_put_u32(out, m->schema);
	wbuf_put_bytes(out, m->hmac_key, sizeof(m->hmac_key));
	wbuf_put_i64(out, m->created_at);
	return frame_end(out, s);
}

int
record_decode_meta(const void *p, size_t n, struct sat_meta *ret)
{
	struct sat_meta m;
	struct buf b;
	int r;

	memset(&m, 0, sizeof(m));
	if ((r = frame_open(p, n, REC_META, &b)) != 0)
		return r;
	if ((r = buf_get_u32(&b, &m.schema)) != 0 ||
	    (r = buf_copy_bytes(&b, m.hmac_key, sizeof(m.hmac_key))) != 0 ||
	    (r = buf_get_i64(&b, &m.created_at)) != 0 ||
	    (r = buf_expect_end(&b)) != 0) {
		sat_wipe(&m, sizeof(m));
		return SAT_E_MALFORMED;
	}
	*ret = m;
	sat_wipe(&m, sizeof(m));
	return 0;
}

void
record_free_meta(struct sat_meta *m)
{
	if (m != NULL)
		sat_wipe(m, sizeof(*m));
}

/* ---- account ---- */

int
record_encode_account(const struct sat_account *a, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_ACCOUNT);

	wbuf_put_str16(out, a->name);
	wbuf_put_str16(out, a->description);
	wbuf_put_str16(out, a->owner);
	wbuf_put_u8(out, (uint8_t)a->role);
	put_list(out, &a->groups);
	wbuf_put_str16(out, a->public_key);
	wbuf_put_str16(out, a->external_id);
	wbuf_put_u32(out, a->days_valid);
	wbuf_put_u8(out, a->enabled ? 1 : 0);
	wbuf_put_i64(out, a->created_at);
	wbuf_put_str16(out, a->created_by);
	/* the tail, only when it says something, so that every record
	 * has one encoding: without it, an account from before identities */
	if (a->serial != 0 || a->disabled_by != 0) {
		wbuf_put_u64(out, a->serial);
		wbuf_put_u8(out, (uint8_t)a->disabled_by);
	}
	return frame_end(out, s);
}

int
record_decode_account(const void *p, size_t n, struct sat_account *ret)
{
	struct sat_account a;
	struct buf b;
	uint8_t role, enabled, dis = 0;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = frame_open(p, n, REC_ACCOUNT, &b)) != 0)
		return r;
	if ((r = get_name(&b, a.name)) != 0 ||
	    (r = get_opt_str(&b, SAT_DESCRIPTION_MAX, &a.description)) != 0 ||
	    (r = get_opt_str(&b, SAT_PRINCIPAL_MAX, &a.owner)) != 0 ||
	    (r = buf_get_u8(&b, &role)) != 0 ||
	    (r = get_list(&b, SAT_NAME_MAX, valid_name, &a.groups)) != 0 ||
	    (r = get_opt_str(&b, PUBLIC_KEY_MAX, &a.public_key)) != 0 ||
	    (r = get_opt_str(&b, SAT_EXTERNAL_ID_MAX, &a.external_id)) != 0 ||
	    (r = buf_get_u32(&b, &a.days_valid)) != 0 ||
	    (r = buf_get_u8(&b, &enabled)) != 0 ||
	    (r = buf_get_i64(&b, &a.created_at)) != 0 ||
	    (r = get_opt_str(&b, SAT_PRINCIPAL_MAX, &a.created_by)) != 0)
		goto fail;
	if (buf_remaining(&b) > 0 &&
	    ((r = buf_get_u64(&b, &a.serial)) != 0 ||
	    (r = buf_get_u8(&b, &dis)) != 0 || (a.serial == 0 && dis == 0))) {
		r = SAT_E_MALFORMED;
		goto fail;
	}
	if ((r = buf_expect_end(&b)) != 0)
		goto fail;
	if (!role_valid(role) || enabled > 1 || (dis != 0 && !role_valid(dis)) ||
	    a.days_valid > SAT_DAYS_VALID_MAX) {
		r = SAT_E_MALFORMED;
		goto fail;
	}
	a.role = role;
	a.enabled = enabled;
	a.disabled_by = dis;
	*ret = a;
	return 0;
fail:
	record_free_account(&a);
	return r == SAT_E_NOMEM ? r : SAT_E_MALFORMED;
}

void
record_free_account(struct sat_account *a)
{
	if (a == NULL)
		return;
	free(a->description);
	free(a->owner);
	strlist_free(&a->groups);
	free(a->public_key);
	free(a->external_id);
	free(a->created_by);
	memset(a, 0, sizeof(*a));
}

static int
dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	return (*dst = sat_strdup(src)) == NULL ? SAT_E_NOMEM : 0;
}

int
record_copy_account(struct sat_account *dst, const struct sat_account *src)
{
	struct sat_account a;

	memset(&a, 0, sizeof(a));
	memcpy(a.name, src->name, sizeof(a.name));
	a.role = src->role;
	a.days_valid = src->days_valid;
	a.enabled = src->enabled;
	a.created_at = src->created_at;
	a.serial = src->serial;
	a.disabled_by = src->disabled_by;
	if (dup_opt(&a.description, src->description) != 0 ||
	    dup_opt(&a.owner, src->owner) != 0 ||
	    strlist_copy(&a.groups, &src->groups) != 0 ||
	    dup_opt(&a.public_key, src->public_key) != 0 ||
	    dup_opt(&a.external_id, src->external_id) != 0 ||
	    dup_opt(&a.created_by, src->created_by) != 0) {
		record_free_account(&a);
		return SAT_E_NOMEM;
	}
	*dst = a;
	return 0;
}

/* ---- group ---- */

int
record_encode_group(const struct sat_group *g, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_GROUP);

	wbuf_put_str16(out, g->name);
	wbuf_put_str16(out, g->description);
	wbuf_put_i64(out, g->created_at);
	wbuf_put_str16(out, g->created_by);
	return frame_end(out, s);
}

int
record_decode_group(const void *p, size_t n, struct sat_group *ret)
{
	struct sat_group g;
	struct buf b;
	int r;

	memset(&g, 0, sizeof(g));
	if ((r = frame_open(p, n, REC_GROUP, &b)) != 0)
		return r;
	if ((r = get_name(&b, g.name)) != 0 ||
	    (r = get_opt_str(&b, SAT_DESCRIPTION_MAX, &g.description)) != 0 ||
	    (r = buf_get_i64(&b, &g.created_at)) != 0 ||
	    (r = get_opt_str(&b, SAT_PRINCIPAL_MAX, &g.created_by)) != 0 ||
	    (r = buf_expect_end(&b)) != 0) {
		record_free_group(&g);
		return r == SAT_E_NOMEM ? r : SAT_E_MALFORMED;
	}
	*ret = g;
	return 0;
}

void
record_free_group(struct sat_group *g)
{
	if (g == NULL)
		return;
	free(g->description);
	free(g->created_by);
	memset(g, 0, sizeof(*g));
}

/* ---- policy ---- */

int
record_encode_policy(const struct sat_policy *p, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_POLICY);

	put_list(out, &p->groups);
	return frame_end(out, s);
}

int
record_decode_policy(const void *p, size_t n, struct sat_policy *ret)
{
	struct sat_policy pol;
	struct buf b;
	int r;

	memset(&pol, 0, sizeof(pol));
	if ((r = frame_open(p, n, REC_POLICY, &b)) != 0)
		return r;
	if ((r = get_list(&b, SAT_NAME_MAX, valid_name, &pol.groups)) != 0 ||
	    (r = buf_expect_end(&b)) != 0) {
		record_free_policy(&pol);
		return r == SAT_E_NOMEM ? r : SAT_E_MALFORMED;
	}
	*ret = pol;
	return 0;
}

void
record_free_policy(struct sat_policy *p)
{
	if (p == NULL)
		return;
	strlist_free(&p->groups);
}

/* ---- token ---- */

/* The token's lifecycle fields, after the fixed ones: each a tag byte
 * and its value, in ascending tag order, only those that are set.  A
 * record from before them ends at the fixed fields and decodes as
 * before; an unknown, repeated or out-of-order tag is malformed. */
enum {
	TTAG_DESCRIPTION = 1,	/* str16 */
	TTAG_DISABLED_AT = 2,	/* i64, not 0 */
	TTAG_WARNED_AT = 3,	/* i64, not 0 */
	TTAG_MAX_OFFLINE = 4,	/* u32, not 0 */
};

static void
put_token_life(struct wbuf *out, const struct sat_token *t)
{
	if (t->description != NULL && t->description[0] != '\0') {
		wbuf_put_u8(out, TTAG_DESCRIPTION);
		wbuf_put_str16(out, t->description);
	}
	if (t->disabled_at != 0) {
		wbuf_put_u8(out, TTAG_DISABLED_AT);
		wbuf_put_i64(out, t->disabled_at);
	}
	if (t->warned_at != 0) {
		wbuf_put_u8(out, TTAG_WARNED_AT);
		wbuf_put_i64(out, t->warned_at);
	}
	if (t->max_offline != 0) {
		wbuf_put_u8(out, TTAG_MAX_OFFLINE);
		wbuf_put_u32(out, t->max_offline);
	}
}

static int
get_token_life(struct buf *b, struct sat_token *t)
{
	uint8_t tag, last = 0;
	int r;

	while (buf_remaining(b) > 0) {
		if ((r = buf_get_u8(b, &tag)) != 0)
			return r;
		if (tag <= last)
			return SAT_E_MALFORMED;
		last = tag;
		switch (tag) {
		case TTAG_DESCRIPTION:
			if ((r = buf_get_str16(b, SAT_DESCRIPTION_MAX,
			    &t->description)) != 0)
				return r;
			if (t->description[0] == '\0')
				return SAT_E_MALFORMED;
			break;
		case TTAG_DISABLED_AT:
			if ((r = buf_get_i64(b, &t->disabled_at)) != 0)
				return r;
			if (t->disabled_at == 0)
				return SAT_E_MALFORMED;
			break;
		case TTAG_WARNED_AT:
			if ((r = buf_get_i64(b, &t->warned_at)) != 0)
				return r;
			if (t->warned_at == 0)
				return SAT_E_MALFORMED;
			break;
		case TTAG_MAX_OFFLINE:
			if ((r = buf_get_u32(b, &t->max_offline)) != 0)
				return r;
			if (t->max_offline == 0)
				return SAT_E_MALFORMED;
			break;
		default:
			return SAT_E_MALFORMED;
		}
	}
	return 0;
}

/* Written before the lifecycle tags, whose tags are below 'W'. */
#define TOKEN_TAIL_WORKLOAD	0x57	/* 'W' */

/* The workload tail: tagged, so that it reads the same wherever other
 * tails land beside it, and absent when it says nothing, so that a
 * record from before it keeps its one encoding. */
static void
put_workload(struct wbuf *out, const struct sat_token *t)
{
	if (!t->canary && t->bind_pid == 0)
		return;
	wbuf_put_u8(out, TOKEN_TAIL_WORKLOAD);
	wbuf_put_u8(out, t->canary ? 1 : 0);
	wbuf_put_u32(out, t->bind_pid);
	wbuf_put_u64(out, t->bind_start);
}

/* Reads the workload tail if one is next.  A tail that says nothing, or
 * a start time without a pid, is not one the encoder writes. */
static int
get_workload(struct buf *b, struct sat_token *t)
{
	struct buf peek = *b;
	uint8_t tag, canary;

	if (buf_get_u8(&peek, &tag) != 0 || tag != TOKEN_TAIL_WORKLOAD)
		return 0;
	*b = peek;
	if (buf_get_u8(b, &canary) != 0 || buf_get_u32(b, &t->bind_pid) != 0 ||
	    buf_get_u64(b, &t->bind_start) != 0 || canary > 1 ||
	    (canary == 0 && t->bind_pid == 0) ||
	    (t->bind_pid == 0 && t->bind_start != 0))
		return SAT_E_MALFORMED;
	t->canary = canary;
	return 0;
}

int
record_encode_token(const struct sat_token *t, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_TOKEN);

	wbuf_put_bytes(out, t->id, TOKEN_ID_LEN);
	wbuf_put_str16(out, t->account);
	wbuf_put_str16(out, t->name);
	wbuf_put_bytes(out, t->digest, sizeof(t->digest));
	wbuf_put_i64(out, t->created_at);
	wbuf_put_str16(out, t->created_by);
	wbuf_put_i64(out, t->expires_at);
	wbuf_put_u64(out, t->ttl);
	put_list(out, &t->services);
	put_list(out, &t->sources);
	wbuf_put_i64(out, t->revoked_at);
	wbuf_put_str16(out, t->replaced_by);
	put_workload(out, t);
	put_token_life(out, t);
	return frame_end(out, s);
}

static int
check_service(const char *s)
{
	return valid_service(s);
}

int
record_decode_token(const void *p, size_t n, struct sat_token *ret)
{
	struct sat_token t;
	struct buf b;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = frame_open(p, n, REC_TOKEN, &b)) != 0)
		return r;
	if ((r = buf_copy_bytes(&b, t.id, TOKEN_ID_LEN)) != 0 ||
	    (r = get_name(&b, t.account)) != 0 ||
	    (r = buf_get_str16(&b, SAT_TOKEN_NAME_MAX, &t.name)) != 0 ||
	    (r = buf_copy_bytes(&b, t.digest, sizeof(t.digest))) != 0 ||
	    (r = buf_get_i64(&b, &t.created_at)) != 0 ||
	    (r = get_opt_str(&b, SAT_PRINCIPAL_MAX, &t.created_by)) != 0 ||
	    (r = buf_get_i64(&b, &t.expires_at)) != 0 ||
	    (r = buf_get_u64(&b, &t.ttl)) != 0 ||
	    (r = get_list(&b, SAT_SERVICE_MAX, check_service, &t.services)) != 0 ||
	    (r = get_list(&b, 64, check_any, &t.sources)) != 0 ||
	    (r = buf_get_i64(&b, &t.revoked_at)) != 0 ||
	    (r = buf_get_str16_into(&b, t.replaced_by,
	    sizeof(t.replaced_by))) != 0 ||
	    (r = get_workload(&b, &t)) != 0 ||
	    (r = get_token_life(&b, &t)) != 0 ||
	    (r = buf_expect_end(&b)) != 0)
		goto fail;
	t.id[TOKEN_ID_LEN] = '\0';
	if (!token_id_valid(t.id, TOKEN_ID_LEN) || t.name[0] == '\0' ||
	    (t.replaced_by[0] != '\0' &&
	    !token_id_valid(t.replaced_by, strlen(t.replaced_by)))) {
		r = SAT_E_MALFORMED;
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	record_free_token(&t);
	return r == SAT_E_NOMEM ? r : SAT_E_MALFORMED;
}

void
record_free_token(struct sat_token *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->created_by);
	free(t->description);
	strlist_free(&t->services);
	strlist_free(&t->sources);
	memset(t, 0, sizeof(*t));
}

int
record_copy_token(struct sat_token *dst, const struct sat_token *src)
{
	struct sat_token t;

	t = *src;
	t.name = NULL;
	t.created_by = NULL;
	t.description = NULL;
	strlist_init(&t.services);
	strlist_init(&t.sources);
	if (dup_opt(&t.name, src->name) != 0 ||
	    dup_opt(&t.created_by, src->created_by) != 0 ||
	    dup_opt(&t.description, src->description) != 0 ||
	    strlist_copy(&t.services, &src->services) != 0 ||
	    strlist_copy(&t.sources, &src->sources) != 0) {
		record_free_token(&t);
		return SAT_E_NOMEM;
	}
	*dst = t;
	return 0;
}

/* ---- token index ---- */

int
record_encode_token_index(const struct sat_token_index *x, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_TOKEN_INDEX), i;

	if (x->ids.n > INDEX_MAX)
		return SAT_E_INVALID;
	wbuf_put_u32(out, (uint32_t)x->ids.n);
	for (i = 0; i < x->ids.n; i++) {
		if (strlen(x->ids.v[i]) != TOKEN_ID_LEN)
			return SAT_E_INVALID;
		wbuf_put_bytes(out, x->ids.v[i], TOKEN_ID_LEN);
	}
	return frame_end(out, s);
}

int
record_decode_token_index(const void *p, size_t n, struct sat_token_index *ret)
{
	struct sat_token_index x;
	char id[TOKEN_ID_LEN + 1];
	struct buf b;
	uint32_t cnt, i;
	int r;

	memset(&x, 0, sizeof(x));
	if ((r = frame_open(p, n, REC_TOKEN_INDEX, &b)) != 0)
		return r;
	if ((r = buf_get_u32(&b, &cnt)) != 0 || cnt > INDEX_MAX ||
	    buf_remaining(&b) != (size_t)cnt * TOKEN_ID_LEN)
		return SAT_E_MALFORMED;
	for (i = 0; i < cnt; i++) {
		if ((r = buf_copy_bytes(&b, id, TOKEN_ID_LEN)) != 0)
			goto fail;
		id[TOKEN_ID_LEN] = '\0';
		if (!token_id_valid(id, TOKEN_ID_LEN)) {
			r = SAT_E_MALFORMED;
			goto fail;
		}
		if ((r = strlist_add(&x.ids, id)) != 0)
			goto fail;
	}
	*ret = x;
	return 0;
fail:
	record_free_token_index(&x);
	return r == SAT_E_NOMEM ? r : SAT_E_MALFORMED;
}

void
record_free_token_index(struct sat_token_index *x)
{
	if (x == NULL)
		return;
	strlist_free(&x->ids);
}

/* ---- the paged index ---- */

int
record_encode_token_head(const struct sat_token_head *h, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_TOKEN_HEAD);

	if (h->first > h->last || h->live_first > h->last + 1)
		return SAT_E_INVALID;
	wbuf_put_u32(out, h->first);
	wbuf_put_u32(out, h->last);
	wbuf_put_u64(out, h->ntokens);
	wbuf_put_u64(out, h->nlive);
	wbuf_put_i64(out, h->counted_at);
	wbuf_put_i64(out, h->min_expiry);
	wbuf_put_u32(out, h->live_first);
	return frame_end(out, s);
}

int
record_decode_token_head(const void *p, size_t n, struct sat_token_head *ret)
{
	struct sat_token_head h;
	struct buf b;
	int r;

	memset(&h, 0, sizeof(h));
	if ((r = frame_open(p, n, REC_TOKEN_HEAD, &b)) != 0)
		return r;
	if (buf_get_u32(&b, &h.first) != 0 || buf_get_u32(&b, &h.last) != 0 ||
	    buf_get_u64(&b, &h.ntokens) != 0 || buf_get_u64(&b, &h.nlive) != 0 ||
	    buf_get_i64(&b, &h.counted_at) != 0 ||
	    buf_get_i64(&b, &h.min_expiry) != 0 ||
	    buf_get_u32(&b, &h.live_first) != 0 || buf_expect_end(&b) != 0)
		return SAT_E_MALFORMED;
	/* more live than ids, or pages out of order: not ours */
	if (h.first > h.last || h.live_first > h.last + 1 ||
	    h.nlive > h.ntokens)
		return SAT_E_MALFORMED;
	*ret = h;
	return 0;
}

int
record_encode_token_page(const struct sat_token_page *pg, struct wbuf *out)
{
	static const char empty[TOKEN_ID_LEN];
	size_t s = frame_begin(out, REC_TOKEN_PAGE), len;
	uint32_t i;

	if (pg->n > TINDEX_PAGE_SLOTS)
		return SAT_E_INVALID;
	wbuf_put_u32(out, pg->n);
	for (i = 0; i < pg->n; i++) {
		len = strlen(pg->ids[i]);
		if (len == 0)
			wbuf_put_bytes(out, empty, sizeof(empty));
		else if (len == TOKEN_ID_LEN)
			wbuf_put_bytes(out, pg->ids[i], TOKEN_ID_LEN);
		else
			return SAT_E_INVALID;
	}
	/* Every page is written at its full size, the slots past n zero:
	 * a mint then rewrites its page in place (GDBM reuses a record's
	 * space only for a value of the same size), where a page growing
	 * by one id per mint freed and reallocated it each time. */
	for (; i < TINDEX_PAGE_SLOTS; i++)
		wbuf_put_bytes(out, empty, sizeof(empty));
	return frame_end(out, s);
}

int
record_decode_token_page(const void *p, size_t n, struct sat_token_page *ret)
{
	struct sat_token_page pg;
	struct buf b;
	uint32_t i;
	int r;

	memset(&pg, 0, sizeof(pg));
	if ((r = frame_open(p, n, REC_TOKEN_PAGE, &b)) != 0)
		return r;
	/* n slots, or all of them (the first stores wrote n only) */
	if (buf_get_u32(&b, &pg.n) != 0 || pg.n > TINDEX_PAGE_SLOTS ||
	    (buf_remaining(&b) != (size_t)pg.n * TOKEN_ID_LEN &&
	    buf_remaining(&b) != (size_t)TINDEX_PAGE_SLOTS * TOKEN_ID_LEN))
		return SAT_E_MALFORMED;
	for (i = 0; buf_remaining(&b) > 0; i++) {
		if (buf_copy_bytes(&b, pg.ids[i], TOKEN_ID_LEN) != 0)
			return SAT_E_MALFORMED;
		pg.ids[i][TOKEN_ID_LEN] = '\0';
		/* a purged slot, or one past n, is all zero bytes */
		if (pg.ids[i][0] == '\0' &&
		    memcmp(pg.ids[i], pg.ids[i] + 1, TOKEN_ID_LEN - 1) == 0)
			continue;
		if (i >= pg.n || !token_id_valid(pg.ids[i], TOKEN_ID_LEN))
			return SAT_E_MALFORMED;
	}
	*ret = pg;
	return 0;
}

int
record_encode_token_name(const struct sat_token_name *nm, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_TOKEN_NAME);

	if (!token_id_valid(nm->id, strlen(nm->id)))
		return SAT_E_INVALID;
	wbuf_put_bytes(out, nm->id, TOKEN_ID_LEN);
	return frame_end(out, s);
}

int
record_decode_token_name(const void *p, size_t n, struct sat_token_name *ret)
{
	struct sat_token_name nm;
	struct buf b;
	int r;

	memset(&nm, 0, sizeof(nm));
	if ((r = frame_open(p, n, REC_TOKEN_NAME, &b)) != 0)
		return r;
	if (buf_copy_bytes(&b, nm.id, TOKEN_ID_LEN) != 0 ||
	    buf_expect_end(&b) != 0 || !token_id_valid(nm.id, TOKEN_ID_LEN))
		return SAT_E_MALFORMED;
	*ret = nm;
	return 0;
}

int
record_encode_reclaim(const struct sat_reclaim *rc, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_RECLAIM);

	put_list(out, &rc->accounts);
	return frame_end(out, s);
}

int
record_decode_reclaim(const void *p, size_t n, struct sat_reclaim *ret)
{
	struct sat_reclaim rc;
	struct buf b;
	int r;

	memset(&rc, 0, sizeof(rc));
	if ((r = frame_open(p, n, REC_RECLAIM, &b)) != 0)
		return r;
	if ((r = get_list(&b, SAT_NAME_MAX, valid_name, &rc.accounts)) != 0 ||
	    (r = buf_expect_end(&b)) != 0) {
		record_free_reclaim(&rc);
		return r == SAT_E_NOMEM ? r : SAT_E_MALFORMED;
	}
	*ret = rc;
	return 0;
}

void
record_free_reclaim(struct sat_reclaim *rc)
{
	if (rc == NULL)
		return;
	strlist_free(&rc->accounts);
}

/* ---- usage (last use) ---- */

int
record_encode_usage(const struct sat_usage *u, struct wbuf *out)
{
	size_t s = frame_begin(out, REC_USAGE);

	wbuf_put_i64(out, u->at);
	wbuf_put_str16(out, u->service);
	wbuf_put_str16(out, u->rhost);
	return frame_end(out, s);
}

int
record_decode_usage(const void *p, size_t n, struct sat_usage *ret)
{
	struct sat_usage u;
	struct buf b;
	int r;

	memset(&u, 0, sizeof(u));
	if ((r = frame_open(p, n, REC_USAGE, &b)) != 0)
		return r;
	if (buf_get_i64(&b, &u.at) != 0 ||
	    buf_get_str16_into(&b, u.service, sizeof(u.service)) != 0 ||
	    buf_get_str16_into(&b, u.rhost, sizeof(u.rhost)) != 0 ||
	    buf_expect_end(&b) != 0 || u.at <= 0 ||
	    (u.service[0] != '\0' && !valid_service(u.service)) ||
	    !valid_text(u.rhost, sizeof(u.rhost) - 1))
		return SAT_E_MALFORMED;
	*ret = u;
	return 0;
}
