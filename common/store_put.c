#include <string.h>

#include "buf.h"
#include "err.h"
#include "store_impl.h"

/* The typed putters: a record validated, encoded and staged in the
 * writer's batch (store_write.c commits it). */

typedef int (*encode_fn)(const void *, struct wbuf *);

static int
put_record(struct store *s, const char *key, size_t klen, encode_fn encode,
    const void *rec)
{
	struct wbuf w;
	int r;

	wbuf_init(&w);
	if ((r = encode(rec, &w)) == 0) {
		/* hand the buffer over; its capacity tail was never written */
		r = store_stage(s, key, klen, w.p, w.len);
		wbuf_init(&w);
	}
	wbuf_free(&w);
	return r;
}

/* The records keyed by a name or an id; rec NULL deletes.  An invalid
 * name or id is refused before anything is staged. */
static int
put_named(struct store *s, char prefix, const char *name, int valid,
    encode_fn encode, const void *rec)
{
	char key[STORE_KEY_MAX];
	size_t klen;

	if (!valid)
		return SAT_E_INVALID;
	klen = store_key(key, prefix, name);
	return rec != NULL ? put_record(s, key, klen, encode, rec) :
	    store_stage(s, key, klen, NULL, 0);
}

int
store_put_account(struct store *s, const struct sat_account *a)
{
	return put_named(s, 'a', a->name, valid_name(a->name),
	    (encode_fn)record_encode_account, a);
}

int
store_delete_account(struct store *s, const char *name)
{
	return put_named(s, 'a', name, valid_name(name), NULL, NULL);
}

int
store_put_group(struct store *s, const struct sat_group *g)
{
	return put_named(s, 'g', g->name, valid_name(g->name),
	    (encode_fn)record_encode_group, g);
}

int
store_delete_group(struct store *s, const char *name)
{
	return put_named(s, 'g', name, valid_name(name), NULL, NULL);
}

int
store_put_policy(struct store *s, const struct sat_policy *p)
{
	return put_record(s, "p", 1, (encode_fn)record_encode_policy, p);
}

int
store_put_token(struct store *s, const struct sat_token *t)
{
	return put_named(s, 't', t->id, token_id_valid(t->id, strlen(t->id)) &&
	    valid_name(t->account), (encode_fn)record_encode_token, t);
}

int
store_delete_token(struct store *s, const char *id)
{
	int r;

	if ((r = put_named(s, 'u', id, token_id_valid(id, strlen(id)), NULL,
	    NULL)) != 0)
		return r;
	return put_named(s, 't', id, token_id_valid(id, strlen(id)), NULL,
	    NULL);
}

int
store_put_usage(struct store *s, const char *id, const struct sat_usage *u)
{
	return put_named(s, 'u', id, token_id_valid(id, strlen(id)),
	    (encode_fn)record_encode_usage, u);
}

int
store_put_token_index(struct store *s, const char *account,
    const struct sat_token_index *x)
{
	return put_named(s, 'x', account, valid_name(account),
	    (encode_fn)record_encode_token_index, x);
}

int
store_delete_token_index(struct store *s, const char *account)
{
	return put_named(s, 'x', account, valid_name(account), NULL, NULL);
}

/* ---- the paged token index: typed records, no logic (tindex.c) ---- */

static const encode_fn tix_encode[] = {
	[STORE_TIX_HEAD] = (encode_fn)record_encode_token_head,
	[STORE_TIX_PAGE] = (encode_fn)record_encode_token_page,
	[STORE_TIX_NAME] = (encode_fn)record_encode_token_name,
};

/* rec NULL deletes */
static int
tix_put(struct store *s, enum store_tix kind, const char *account,
    uint32_t page, const char *name, const void *rec)
{
	char key[STORE_KEY_MAX];
	size_t klen;
	int r;

	if ((r = store_tix_key(key, kind, account, page, name, &klen)) != 0)
		return r;
	return rec != NULL ? put_record(s, key, klen, tix_encode[kind], rec) :
	    store_stage(s, key, klen, NULL, 0);
}

int
store_put_token_head(struct store *s, const char *account,
    const struct sat_token_head *h)
{
	return tix_put(s, STORE_TIX_HEAD, account, 0, NULL, h);
}

int
store_delete_token_head(struct store *s, const char *account)
{
	return tix_put(s, STORE_TIX_HEAD, account, 0, NULL, NULL);
}

int
store_put_token_page(struct store *s, const char *account, uint32_t page,
    const struct sat_token_page *pg)
{
	return tix_put(s, STORE_TIX_PAGE, account, page, NULL, pg);
}

int
store_delete_token_page(struct store *s, const char *account, uint32_t page)
{
	return tix_put(s, STORE_TIX_PAGE, account, page, NULL, NULL);
}

int
store_put_token_name(struct store *s, const char *account, const char *name,
    const struct sat_token_name *nm)
{
	return tix_put(s, STORE_TIX_NAME, account, 0, name, nm);
}

int
store_delete_token_name(struct store *s, const char *account,
    const char *name)
{
	return tix_put(s, STORE_TIX_NAME, account, 0, name, NULL);
}

int
store_put_reclaim(struct store *s, const struct sat_reclaim *rc)
{
	if (rc->accounts.n == 0)
		return store_stage(s, "r", 1, NULL, 0);
	return put_record(s, "r", 1, (encode_fn)record_encode_reclaim, rc);
}
