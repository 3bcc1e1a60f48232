#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "mem.h"
#include "num.h"
#include "store_impl.h"

/* The store's reader: keys, typed getters and listings, for a reader
 * of the file and, through its store_ops, for the writer. */

size_t
store_key(char out[STORE_KEY_MAX], char prefix, const char *name)
{
	size_t n = strlen(name);

	if (n > SAT_NAME_MAX)
		n = SAT_NAME_MAX;	/* callers validate; never overflow */
	out[0] = prefix;
	out[1] = ':';
	memcpy(out + 2, name, n);
	return n + 2;
}

/* A page's key holds its number in hex; a name's key a hash of the name
 * (up to 128 characters of text). */
int
store_tix_key(char out[STORE_KEY_MAX], enum store_tix kind,
    const char *account, uint32_t page, const char *name, size_t *ret_len)
{
	static const char hex[] = "0123456789abcdef";
	static const char prefix[] = { 'h', 'y', 'n' };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n, i;

	if (!valid_name(account))
		return SAT_E_INVALID;
	n = store_key(out, prefix[kind], account);
	switch (kind) {
	case STORE_TIX_HEAD:
		break;
	case STORE_TIX_PAGE:
		snprintf(out + n, STORE_KEY_MAX - n, ":%08x", (unsigned)page);
		n += 9;
		break;
	case STORE_TIX_NAME:
		if (EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(),
		    NULL) != 1 || mdlen * 2 < STORE_NAME_HASH_HEX)
			return SAT_E_INTERNAL;
		out[n++] = ':';
		for (i = 0; i < STORE_NAME_HASH_HEX / 2; i++) {
			out[n++] = hex[md[i] >> 4];
			out[n++] = hex[md[i] & 15];
		}
		break;
	}
	*ret_len = n;
	return 0;
}

static int
fetch(struct store *s, const char *key, size_t klen, void **ret_val,
    size_t *ret_len)
{
	return s->ops->fetch(s, key, klen, ret_val, ret_len);
}

int
store_fetch_raw(struct store *s, const void *key, size_t klen, void **ret_val,
    size_t *ret_len)
{
	return fetch(s, key, klen, ret_val, ret_len);
}

typedef int (*decode_fn)(const void *, size_t, void *);

/* strict: a record that does not decode is not absent but a store that
 * cannot be trusted (the token index's head and pages: the index would
 * start again over the ids it holds).  Otherwise undecodable is absent:
 * fail closed. */
static int
get_record(struct store *s, const char *key, size_t klen, decode_fn decode,
    int strict, void *ret)
{
	void *val = NULL;
	size_t len = 0;
	int r;

	if ((r = fetch(s, key, klen, &val, &len)) != 0)
		return r;
	r = decode(val, len, ret);
	sat_freezero(val, len);
	if (r == SAT_E_MALFORMED)
		return strict ? SAT_E_STORE : SAT_E_NOTFOUND;
	return r;
}

/* A record whose absence reads as the empty list (list, in ret). */
static int
get_or_empty(struct store *s, const char *key, size_t klen, decode_fn decode,
    int strict, void *ret, struct strlist *list)
{
	int r = get_record(s, key, klen, decode, strict, ret);

	if (r == SAT_E_NOTFOUND) {
		strlist_init(list);
		return 0;
	}
	return r;
}

int
store_load_meta(struct store *s)
{
	struct sat_meta m;
	int r;

	memset(&m, 0, sizeof(m));
	r = get_record(s, "m", 1, (decode_fn)record_decode_meta, 0, &m);
	if (r != 0)
		return storefile_err(r);
	if (m.schema != STORE_SCHEMA) {
		record_free_meta(&m);
		return SAT_E_STORE;
	}
	memcpy(s->hmac_key, m.hmac_key, sizeof(s->hmac_key));
	record_free_meta(&m);
	return 0;
}

static int
reader_fetch(struct store *s, const void *key, size_t klen, void **ret_val,
    size_t *ret_len)
{
	return kv_fetch(s->kv, key, klen, ret_val, ret_len);
}

static int
reader_iterate(struct store *s, kv_iter_fn fn, void *arg)
{
	return kv_iterate(s->kv, fn, arg);
}

static void
reader_close(struct store *s)
{
	kv_close(s->kv);
	storefile_close(&s->file);
	sat_wipe(s->hmac_key, sizeof(s->hmac_key));
	free(s);
}

static const struct store_ops reader_ops = {
	.fetch = reader_fetch,
	.iterate = reader_iterate,
	.pending = NULL,
	.close = reader_close,
};

int
store_open_reader(const char *path, unsigned lock_timeout_ms,
    struct store **ret)
{
	struct store *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SAT_E_NOMEM;
	s->ops = &reader_ops;
	s->timeout_ms = lock_timeout_ms;
	storefile_init(&s->file);
	if ((r = storefile_open_reader(&s->file, path, lock_timeout_ms)) != 0 ||
	    (r = kv_open(s->file.fd, path, 0, 0, &s->kv)) != 0 ||
	    (r = store_load_meta(s)) != 0) {
		store_close(s);
		return storefile_err(r);
	}
	*ret = s;
	return 0;
}

int
store_reader_pause(struct store *s, int *ret_torn)
{
	return s->ops != &reader_ops ? SAT_E_INTERNAL :
	    storefile_pause(&s->file, ret_torn);
}

int
store_reader_resume(struct store *s, int *ret_stale)
{
	return s->ops != &reader_ops ? SAT_E_INTERNAL :
	    storefile_resume(&s->file, ret_stale);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const uint8_t *
store_hmac_key(const struct store *s)
{
	return s->hmac_key;
}

/* The getters of records keyed by a name or an id: an invalid one
 * names nothing. */
static int
get_named(struct store *s, char prefix, const char *name, int valid,
    decode_fn decode, void *ret)
{
	char key[STORE_KEY_MAX];

	if (!valid)
		return SAT_E_NOTFOUND;
	return get_record(s, key, store_key(key, prefix, name), decode, 0,
	    ret);
}

int
store_get_account(struct store *s, const char *name, struct sat_account *ret)
{
	return get_named(s, 'a', name, valid_name(name),
	    (decode_fn)record_decode_account, ret);
}

int
store_get_group(struct store *s, const char *name, struct sat_group *ret)
{
	return get_named(s, 'g', name, valid_name(name),
	    (decode_fn)record_decode_group, ret);
}

int
store_get_policy(struct store *s, struct sat_policy *ret)
{
	return get_or_empty(s, "p", 1, (decode_fn)record_decode_policy, 0, ret,
	    &ret->groups);
}

int
store_get_token(struct store *s, const char *id, struct sat_token *ret)
{
	return get_named(s, 't', id, token_id_valid(id, strlen(id)),
	    (decode_fn)record_decode_token, ret);
}

int
store_get_usage(struct store *s, const char *id, struct sat_usage *ret)
{
	return get_named(s, 'u', id, token_id_valid(id, strlen(id)),
	    (decode_fn)record_decode_usage, ret);
}

int
store_get_contact(struct store *s, int64_t *ret)
{
	char text[24];
	void *val = NULL;
	size_t len = 0;
	uint64_t t;
	int r;

	*ret = 0;
	if ((r = fetch(s, STORE_CONTACT_KEY, strlen(STORE_CONTACT_KEY), &val,
	    &len)) != 0)
		return r;
	/* decimal seconds: anything else is no contact */
	r = SAT_E_NOTFOUND;
	if (len < sizeof(text)) {
		memcpy(text, val, len);
		text[len] = '\0';
		if (parse_u64(text, 1, INT64_MAX, &t) == 0) {
			*ret = (int64_t)t;
			r = 0;
		}
	}
	free(val);
	return r;
}

int
store_get_token_index(struct store *s, const char *account,
    struct sat_token_index *ret)
{
	char key[STORE_KEY_MAX];

	if (!valid_name(account))
		return SAT_E_NOTFOUND;
	return get_or_empty(s, key, store_key(key, 'x', account),
	    (decode_fn)record_decode_token_index, 0, ret, &ret->ids);
}

/* ---- the paged token index: typed records, no logic (tindex.c) ---- */

static const struct {
	decode_fn decode;
	int strict;
} tix_read[] = {
	[STORE_TIX_HEAD] = { (decode_fn)record_decode_token_head, 1 },
	[STORE_TIX_PAGE] = { (decode_fn)record_decode_token_page, 1 },
	[STORE_TIX_NAME] = { (decode_fn)record_decode_token_name, 0 },
};

static int
tix_get(struct store *s, enum store_tix kind, const char *account,
    uint32_t page, const char *name, void *ret)
{
	char key[STORE_KEY_MAX];
	size_t klen;
	int r;

	if ((r = store_tix_key(key, kind, account, page, name, &klen)) != 0)
		return r == SAT_E_INVALID ? SAT_E_NOTFOUND : r;
	return get_record(s, key, klen, tix_read[kind].decode,
	    tix_read[kind].strict, ret);
}

int
store_get_token_head(struct store *s, const char *account,
    struct sat_token_head *ret)
{
	return tix_get(s, STORE_TIX_HEAD, account, 0, NULL, ret);
}

int
store_get_token_page(struct store *s, const char *account, uint32_t page,
    struct sat_token_page *ret)
{
	return tix_get(s, STORE_TIX_PAGE, account, page, NULL, ret);
}

int
store_get_token_name(struct store *s, const char *account, const char *name,
    struct sat_token_name *ret)
{
	return tix_get(s, STORE_TIX_NAME, account, 0, name, ret);
}

int
store_get_reclaim(struct store *s, struct sat_reclaim *ret)
{
	/* undecodable is not empty: the accounts in it would keep their
	 * tokens' records for good */
	return get_or_empty(s, "r", 1, (decode_fn)record_decode_reclaim, 1, ret,
	    &ret->accounts);
}

struct list_ctx {
	char prefix;
	struct strlist *out;
};

static int
list_cb(void *arg, const void *key, size_t klen)
{
	struct list_ctx *c = arg;
	const char *k = key;
	char name[SAT_NAME_MAX + 1];

	if (klen < 3 || klen > STORE_KEY_MAX || k[0] != c->prefix ||
	    k[1] != ':')
		return 0;
	memcpy(name, k + 2, klen - 2);
	name[klen - 2] = '\0';
	if (!valid_name(name))
		return 0;
	/* keys are unique: no search (quadratic at 100k accounts) */
	return strlist_add(c->out, name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_names(struct store *s, char prefix, struct strlist *ret)
{
	const struct store_batch *b;
	struct list_ctx c;
	struct strlist l;
	char name[SAT_NAME_MAX + 1];
	unsigned p;
	size_t i;
	int r;

	strlist_init(&l);
	c.prefix = prefix;
	c.out = &l;
	if ((r = s->ops->iterate(s, list_cb, &c)) != 0)
		goto out;
	/* the writer's changes not yet in the file, oldest first */
	for (p = 0; s->ops->pending != NULL &&
	    (b = s->ops->pending(s, p)) != NULL; p++) {
		for (i = 0; i < b->n; i++) {
			const struct store_change *st = &b->v[i];

			/* a raw key (a restore's) may be longer than a name */
			if (st->klen < 3 || st->klen - 2 > SAT_NAME_MAX ||
			    st->key[0] != prefix || st->key[1] != ':')
				continue;
			memcpy(name, st->key + 2, st->klen - 2);
			name[st->klen - 2] = '\0';
			if (st->val == NULL)
				strlist_remove(&l, name);
			else if ((r = strlist_add_unique(&l, name)) != 0)
				goto out;
		}
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(l.v[0]), cmp_str);
	*ret = l;
out:
	if (r != 0)
		strlist_free(&l);
	return r;
}

int
store_list_accounts(struct store *s, struct strlist *ret)
{
	return list_names(s, 'a', ret);
}

int
store_list_groups(struct store *s, struct strlist *ret)
{
	return list_names(s, 'g', ret);
}
