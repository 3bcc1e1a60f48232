#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "err.h"
#include "journal.h"
#include "kv.h"
#include "mem.h"
#include "store.h"

/* Keys: "m" meta, "p" policy, "r" accounts being reclaimed, "a:NAME" account, "g:NAME" group,
 * "t:ID" token, "u:ID" its last use; the account's token index (common/tindex.h): "h:ACCOUNT"
 * its head, "y:ACCOUNT:PPPPPPPP" a page (hex number), "n:ACCOUNT:HASH" a
 * token name (24 hex digits of its SHA-256); "x:ACCOUNT" the index of
 * the first stores.  Names hold no ':', so the fixed-length suffixes
 * cannot make two keys alike. */
#define NAME_HASH_HEX	24
#define KEY_MAX		(2 + SAT_NAME_MAX + 1 + NAME_HASH_HEX + 1)
/* A batch this large is looked up through a hash (account.delete stages
 * three changes per token) */
#define HASH_FROM	16

struct staged {
	char key[KEY_MAX];
	size_t klen;
	uint8_t *val;	/* owned; NULL: delete */
	size_t vlen;
};

/* The writer's committer thread: it writes and fdatasyncs one journal
 * frame at a time while the daemon runs the next batch (group commit
 * that overlaps the fsync).  Everything else stays on the caller's
 * thread: the thread touches the journal only between go and done. */
struct committer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go, done, quit;
	int r;			/* journal_write's result */
	int efd;		/* eventfd: readable once done */
	struct journal *j;
};

struct store;
static void committer_stop(struct store *s);

struct store {
	struct kv *kv;
	struct journal *journal;	/* writer only */
	uint64_t checkpoint_at;		/* journal size that triggers one */
	int recovered;			/* rebuilt at open */
	char path[4096];		/* writer: the database, for a rebuild */
	int opened;			/* writer: fully opened */
	int writer;
	unsigned timeout_ms;
	uint8_t hmac_key[TOKEN_KEY_LEN];
	struct staged *stg;
	size_t nstg, capstg;
	uint32_t *stg_h;	/* open addressing: index + 1, 0 empty */
	size_t stg_hcap;	/* 0, or a power of two above 2 * nstg */
	size_t stg_hn;		/* changes in stg_h: the first stg_hn */
	/* a batch whose journal frame is being written: still read through
	 * (between stg and kv), applied by store_commit_end */
	struct staged *fl;
	size_t nfl, capfl;
	uint32_t *fl_h;
	size_t fl_hcap;
	size_t fl_hn;
	int in_flight;
	struct committer *cm;	/* started by the first store_commit_begin */
};

static size_t
make_key(char out[KEY_MAX], char prefix, const char *name)
{
	size_t n = strlen(name);

	if (n > SAT_NAME_MAX)
		n = SAT_NAME_MAX;	/* callers validate; never overflow */
	out[0] = prefix;
	out[1] = ':';
	memcpy(out + 2, name, n);
	return n + 2;
}

static void
free_changes(struct staged *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sat_freezero(v[i].val, v[i].vlen);
}

/* Empties the hash of the staged changes; a large one goes (a big
 * account.delete must not make every later commit clear megabytes). */
static void
staged_hash_clear(struct store *s)
{
	if (s->stg_hcap > 1024) {
		free(s->stg_h);
		s->stg_h = NULL;
		s->stg_hcap = 0;
	} else if (s->stg_h != NULL) {
		memset(s->stg_h, 0, s->stg_hcap * sizeof(*s->stg_h));
	}
	s->stg_hn = 0;
}

static void
staged_free_all(struct store *s)
{
	free_changes(s->stg, s->nstg);
	s->nstg = 0;
	staged_hash_clear(s);
}

static size_t
key_hash(const char *key, size_t klen)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	return h;
}

/* A key appears once in a batch (stage replaces), so a lookup is either
 * a linear scan of a small batch or a probe of its hash. */
static struct staged *
find_change(struct staged *v, size_t n, const uint32_t *h, size_t hcap,
    const char *key, size_t klen)
{
	size_t i;

	if (h == NULL || n <= HASH_FROM) {
		for (i = n; i-- > 0;)
			if (v[i].klen == klen &&
			    memcmp(v[i].key, key, klen) == 0)
				return &v[i];
		return NULL;
	}
	for (i = key_hash(key, klen) & (hcap - 1); h[i] != 0;
	    i = (i + 1) & (hcap - 1)) {
		struct staged *st = &v[h[i] - 1];

		if (st->klen == klen && memcmp(st->key, key, klen) == 0)
			return st;
	}
	return NULL;
}

static struct staged *
staged_find(struct store *s, const char *key, size_t klen)
{
	return find_change(s->stg, s->nstg, s->stg_h, s->stg_hcap, key, klen);
}

static void
hash_insert(uint32_t *h, size_t hcap, const struct staged *st, size_t idx)
{
	size_t i;

	for (i = key_hash(st->key, st->klen) & (hcap - 1); h[i] != 0;
	    i = (i + 1) & (hcap - 1))
		;
	h[i] = (uint32_t)(idx + 1);
}

/* Keeps the hash over the staged changes, the last one just added. */
static int
staged_hash_add(struct store *s)
{
	uint32_t *nh;
	size_t ncap, i;

	if (s->nstg <= HASH_FROM)
		return 0;
	if (s->nstg * 2 < s->stg_hcap && s->stg_hn == s->nstg - 1) {
		hash_insert(s->stg_h, s->stg_hcap, &s->stg[s->nstg - 1],
		    s->nstg - 1);
		s->stg_hn = s->nstg;
		return 0;
	}
	for (ncap = 64; ncap <= s->nstg * 2; ncap *= 2)
		;
	if (ncap != s->stg_hcap) {
		if ((nh = calloc(ncap, sizeof(*nh))) == NULL)
			return SAT_E_NOMEM;
		free(s->stg_h);
		s->stg_h = nh;
		s->stg_hcap = ncap;
	} else {
		memset(s->stg_h, 0, ncap * sizeof(*s->stg_h));
	}
	for (i = 0; i < s->nstg; i++)
		hash_insert(s->stg_h, s->stg_hcap, &s->stg[i], i);
	s->stg_hn = s->nstg;
	return 0;
}

/* Takes ownership of val (NULL: a delete). */
static int
stage(struct store *s, const char *key, size_t klen, uint8_t *val, size_t vlen)
{
	struct staged *st, *nv;
	size_t ncap;

	if (!s->writer) {
		sat_freezero(val, vlen);
		return SAT_E_INTERNAL;
	}
	if ((st = staged_find(s, key, klen)) != NULL) {
		sat_freezero(st->val, st->vlen);
		st->val = val;
		st->vlen = vlen;
		return 0;
	}
	if (s->nstg == s->capstg) {
		ncap = s->capstg ? s->capstg * 2 : 16;
		if ((nv = realloc(s->stg, ncap * sizeof(*nv))) == NULL) {
			sat_freezero(val, vlen);
			return SAT_E_NOMEM;
		}
		s->stg = nv;
		s->capstg = ncap;
	}
	st = &s->stg[s->nstg++];
	memcpy(st->key, key, klen);
	st->klen = klen;
	st->val = val;
	st->vlen = vlen;
	if (staged_hash_add(s) != 0) {
		/* unfindable, so not staged at all */
		s->nstg--;
		sat_freezero(val, vlen);
		return SAT_E_NOMEM;
	}
	return 0;
}

static int
stage_wbuf(struct store *s, const char *key, size_t klen, struct wbuf *w)
{
	uint8_t *val = w->p;
	size_t vlen = w->len;

	/* hand the buffer over; the wbuf's capacity tail was never written */
	wbuf_init(w);
	return stage(s, key, klen, val, vlen);
}

static void rebuild_writer(struct store *s);

/* The writer's GDBM handle, rebuilt first if a failed commit and its
 * rebuild left none: a fault that has passed (a disk that was full, an
 * EIO) must not leave the daemon refusing every request until it is
 * restarted.  NULL if it still cannot be had.  Never while a frame is
 * in flight: the rebuild replays the journal the committer writes. */
static struct kv *
writer_kv(struct store *s)
{
	if (s->kv == NULL && s->writer && s->opened && !s->in_flight)
		rebuild_writer(s);
	return s->kv;
}

/* GDBM failed to read or sync the writer's file (EIO): libgdbm then
 * marks the handle as needing recovery and fails every later call, so
 * the writer would refuse everything until a restart.  The handle is
 * dropped and writer_kv rebuilds it at the next access (base copy and
 * journal, as a restart would).  Returns r. */
static int
kv_failed(struct store *s, int r)
{
	if (r == SAT_E_STORE && s->writer && s->kv != NULL) {
		kv_close(s->kv);
		s->kv = NULL;
	}
	return r;
}

/* A raw read that sees staged changes first; *ret_val is malloc'd. */
static int
fetch(struct store *s, const char *key, size_t klen, void **ret_val,
    size_t *ret_len)
{
	struct staged *st;
	void *c;

	if (s->writer && ((st = staged_find(s, key, klen)) != NULL ||
	    (st = find_change(s->fl, s->nfl, s->fl_h, s->fl_hcap, key,
	    klen)) != NULL)) {
		if (st->val == NULL)
			return SAT_E_NOTFOUND;
		if ((c = malloc(st->vlen)) == NULL)
			return SAT_E_NOMEM;
		memcpy(c, st->val, st->vlen);
		*ret_val = c;
		*ret_len = st->vlen;
		return 0;
	}
	if (writer_kv(s) == NULL)	/* a writer whose rebuild failed */
		return SAT_E_STORE;
	return kv_failed(s, kv_fetch(s->kv, key, klen, ret_val, ret_len));
}

typedef int (*decode_fn)(const void *, size_t, void *);

static int
get_record(struct store *s, const char *key, size_t klen, decode_fn decode,
    void *ret)
{
	void *val = NULL;
	size_t len = 0;
	int r;

	if ((r = fetch(s, key, klen, &val, &len)) != 0)
		return r;
	r = decode(val, len, ret);
	sat_freezero(val, len);
	if (r == SAT_E_MALFORMED)
		return SAT_E_NOTFOUND;	/* undecodable is absent: fail closed */
	return r;
}

/* For the token index's head and pages: one that does not decode is
 * not absent (the index would start again over the ids it holds) but
 * a store that cannot be trusted. */
static int
get_index_record(struct store *s, const char *key, size_t klen,
    decode_fn decode, void *ret)
{
	void *val = NULL;
	size_t len = 0;
	int r;

	if ((r = fetch(s, key, klen, &val, &len)) != 0)
		return r;
	r = decode(val, len, ret);
	sat_freezero(val, len);
	return r == SAT_E_MALFORMED ? SAT_E_STORE : r;
}

static int
load_meta(struct store *s)
{
	struct sat_meta m;
	int r;

	memset(&m, 0, sizeof(m));
	r = get_record(s, "m", 1, (decode_fn)record_decode_meta, &m);
	if (r != 0)
		return r == SAT_E_NOMEM ? r : SAT_E_STORE;
	if (m.schema != STORE_SCHEMA) {
		record_free_meta(&m);
		return SAT_E_STORE;
	}
	memcpy(s->hmac_key, m.hmac_key, sizeof(s->hmac_key));
	record_free_meta(&m);
	return 0;
}

int
store_open_reader(const char *path, unsigned lock_timeout_ms,
    struct store **ret)
{
	struct store *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SAT_E_NOMEM;
	s->timeout_ms = lock_timeout_ms;
	if ((r = kv_open_reader(path, lock_timeout_ms, &s->kv)) != 0 ||
	    (r = load_meta(s)) != 0) {
		store_close(s);
		return r == SAT_E_NOMEM ? r : SAT_E_STORE;
	}
	*ret = s;
	return 0;
}

static int
init_meta(struct store *s)
{
	struct sat_meta m;
	struct wbuf w;
	int r;

	memset(&m, 0, sizeof(m));
	m.schema = STORE_SCHEMA;
	m.created_at = (int64_t)time(NULL);
	if ((r = token_new_key(m.hmac_key)) != 0)
		return r;
	wbuf_init(&w);
	if ((r = record_encode_meta(&m, &w)) == 0)
		r = stage_wbuf(s, "m", 1, &w);
	wbuf_free(&w);
	record_free_meta(&m);
	if (r == 0)
		r = store_commit(s);
	return r;
}

static int
replay_one(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct store *s = arg;

	return val != NULL ? kv_put(s->kv, key, klen, val, vlen) :
	    kv_delete(s->kv, key, klen);
}

/* The last writer died with the GDBM file possibly torn: the file was
 * just rebuilt from the base copy; put every journalled batch back on
 * it, sync, and take a new base (see journal.c for why). */
static int
recover(struct store *s)
{
	int r;

	if ((r = kv_begin_write(s->kv, s->timeout_ms)) != 0)
		return r;
	if ((r = journal_replay(s->journal, replay_one, s)) == 0)
		r = kv_sync(s->kv);
	kv_end_write(s->kv);
	if (r == 0)
		r = journal_checkpoint(s->journal);
	return r;
}

static int
no_key(void *arg, const void *key, size_t klen)
{
	return 1;
}

int
store_open_writer(const char *path, unsigned lock_timeout_ms,
    struct store **ret)
{
	struct store *s;
	enum journal_state jst;
	int r, created = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SAT_E_NOMEM;
	s->writer = 1;
	s->timeout_ms = lock_timeout_ms;
	s->checkpoint_at = JOURNAL_CHECKPOINT_BYTES;
	if (strlen(path) >= sizeof(s->path)) {
		free(s);
		return SAT_E_INVALID;
	}
	strcpy(s->path, path);
	/* the journal's lock makes us the only writer before DB is touched */
	if ((r = journal_open(path, &s->journal, &jst)) != 0)
		goto fail;
	if (jst == JOURNAL_DIRTY && (r = journal_restore_base(s->journal)) != 0)
		goto fail;
	if ((r = kv_open_writer(path, lock_timeout_ms, &s->kv, &created)) != 0)
		goto fail;
	if (jst == JOURNAL_DIRTY) {
		r = recover(s);
		s->recovered = 1;
	} else if (jst == JOURNAL_BASELESS &&
	    (r = kv_begin_write(s->kv, lock_timeout_ms)) == 0) {
		/* first run with a journal: DB as it stands is the base */
		r = kv_sync(s->kv);
		kv_end_write(s->kv);
		if (r == 0)
			r = journal_checkpoint(s->journal);
	}
	if (r != 0)
		goto fail;
	/* a new file, or one whose first commit never became durable */
	if ((created || kv_iterate(s->kv, no_key, NULL) == 0) &&
	    (r = init_meta(s)) != 0)
		goto fail;
	if ((r = load_meta(s)) != 0)
		goto fail;
	s->opened = 1;
	*ret = s;
	return 0;
fail:
	store_close(s);
	return r;
}

int
store_reader_pause(struct store *s)
{
	return s->writer ? SAT_E_INTERNAL : kv_reader_pause(s->kv);
}

int
store_reader_resume(struct store *s)
{
	if (s->writer)
		return SAT_E_INTERNAL;
	return kv_reader_resume(s->kv);
}

int
store_recovered(const struct store *s)
{
	return s->recovered;
}

void
store_set_checkpoint_bytes(struct store *s, uint64_t bytes)
{
	if (s->writer && bytes > 0)
		s->checkpoint_at = journal_size(s->journal) + bytes;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->in_flight)
		(void)store_commit_end(s);
	committer_stop(s);
	staged_free_all(s);
	free(s->stg);
	free(s->fl);
	free(s->stg_h);
	free(s->fl_h);
	/* a clean close spares the next start a rebuild; a writer that
	 * failed to open (a rebuild cut short) must leave it DIRTY */
	if (s->opened && s->kv != NULL &&
	    journal_state(s->journal) == JOURNAL_DIRTY &&
	    kv_begin_write(s->kv, s->timeout_ms) == 0) {
		if (kv_sync(s->kv) == 0)
			(void)journal_set_state(s->journal, JOURNAL_CLEAN);
		kv_end_write(s->kv);
	}
	kv_close(s->kv);
	journal_close(s->journal);
	sat_wipe(s->hmac_key, sizeof(s->hmac_key));
	free(s);
}

const uint8_t *
store_hmac_key(const struct store *s)
{
	return s->hmac_key;
}

int
store_get_account(struct store *s, const char *name, struct sat_account *ret)
{
	char key[KEY_MAX];

	if (!valid_name(name))
		return SAT_E_NOTFOUND;
	return get_record(s, key, make_key(key, 'a', name),
	    (decode_fn)record_decode_account, ret);
}

int
store_get_group(struct store *s, const char *name, struct sat_group *ret)
{
	char key[KEY_MAX];

	if (!valid_name(name))
		return SAT_E_NOTFOUND;
	return get_record(s, key, make_key(key, 'g', name),
	    (decode_fn)record_decode_group, ret);
}

int
store_get_policy(struct store *s, struct sat_policy *ret)
{
	int r;

	r = get_record(s, "p", 1, (decode_fn)record_decode_policy, ret);
	if (r == SAT_E_NOTFOUND) {
		strlist_init(&ret->groups);
		return 0;
	}
	return r;
}

int
store_get_token(struct store *s, const char *id, struct sat_token *ret)
{
	char key[KEY_MAX];

	if (!token_id_valid(id, strlen(id)))
		return SAT_E_NOTFOUND;
	return get_record(s, key, make_key(key, 't', id),
	    (decode_fn)record_decode_token, ret);
}

int
store_get_token_index(struct store *s, const char *account,
    struct sat_token_index *ret)
{
	char key[KEY_MAX];
	int r;

	if (!valid_name(account))
		return SAT_E_NOTFOUND;
	r = get_record(s, key, make_key(key, 'x', account),
	    (decode_fn)record_decode_token_index, ret);
	if (r == SAT_E_NOTFOUND) {
		strlist_init(&ret->ids);
		return 0;
	}
	return r;
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

	if (klen < 3 || klen > KEY_MAX || k[0] != c->prefix || k[1] != ':')
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
	struct list_ctx c;
	struct strlist l;
	char name[SAT_NAME_MAX + 1];
	size_t i;
	int r;

	strlist_init(&l);
	c.prefix = prefix;
	c.out = &l;
	if (writer_kv(s) == NULL) {
		r = SAT_E_STORE;
		goto fail;
	}
	if ((r = kv_iterate(s->kv, list_cb, &c)) != 0) {
		(void)kv_failed(s, r);
		goto fail;
	}
	/* in flight first: staged changes are newer */
	for (i = 0; s->writer && i < s->nfl + s->nstg; i++) {
		struct staged *st = i < s->nfl ? &s->fl[i] : &s->stg[i - s->nfl];

		if (st->klen < 3 || st->key[0] != prefix || st->key[1] != ':')
			continue;
		memcpy(name, st->key + 2, st->klen - 2);
		name[st->klen - 2] = '\0';
		if (st->val == NULL)
			strlist_remove(&l, name);
		else if ((r = strlist_add_unique(&l, name)) != 0)
			goto fail;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(l.v[0]), cmp_str);
	*ret = l;
	return 0;
fail:
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

typedef int (*encode_fn)(const void *, struct wbuf *);

static int
put_record(struct store *s, const char *key, size_t klen, encode_fn encode,
    const void *rec)
{
	struct wbuf w;
	int r;

	if (!s->writer)
		return SAT_E_INTERNAL;
	wbuf_init(&w);
	if ((r = encode(rec, &w)) == 0)
		r = stage_wbuf(s, key, klen, &w);
	wbuf_free(&w);
	return r;
}

static int
delete_key(struct store *s, char prefix, const char *name)
{
	char key[KEY_MAX];

	return stage(s, key, make_key(key, prefix, name), NULL, 0);
}

int
store_put_account(struct store *s, const struct sat_account *a)
{
	char key[KEY_MAX];

	if (!valid_name(a->name))
		return SAT_E_INVALID;
	return put_record(s, key, make_key(key, 'a', a->name),
	    (encode_fn)record_encode_account, a);
}

int
store_delete_account(struct store *s, const char *name)
{
	if (!valid_name(name))
		return SAT_E_INVALID;
	return delete_key(s, 'a', name);
}

int
store_put_group(struct store *s, const struct sat_group *g)
{
	char key[KEY_MAX];

	if (!valid_name(g->name))
		return SAT_E_INVALID;
	return put_record(s, key, make_key(key, 'g', g->name),
	    (encode_fn)record_encode_group, g);
}

int
store_delete_group(struct store *s, const char *name)
{
	if (!valid_name(name))
		return SAT_E_INVALID;
	return delete_key(s, 'g', name);
}

int
store_put_policy(struct store *s, const struct sat_policy *p)
{
	return put_record(s, "p", 1, (encode_fn)record_encode_policy, p);
}

int
store_put_token(struct store *s, const struct sat_token *t)
{
	char key[KEY_MAX];

	if (!token_id_valid(t->id, strlen(t->id)) || !valid_name(t->account))
		return SAT_E_INVALID;
	return put_record(s, key, make_key(key, 't', t->id),
	    (encode_fn)record_encode_token, t);
}

int
store_delete_token(struct store *s, const char *id)
{
	int r;

	if (!token_id_valid(id, strlen(id)))
		return SAT_E_INVALID;
	if ((r = delete_key(s, 'u', id)) != 0)
		return r;
	return delete_key(s, 't', id);
}

int
store_get_usage(struct store *s, const char *id, struct sat_usage *ret)
{
	char key[KEY_MAX];

	if (!token_id_valid(id, strlen(id)))
		return SAT_E_NOTFOUND;
	return get_record(s, key, make_key(key, 'u', id),
	    (decode_fn)record_decode_usage, ret);
}

int
store_put_usage(struct store *s, const char *id, const struct sat_usage *u)
{
	char key[KEY_MAX];

	if (!token_id_valid(id, strlen(id)))
		return SAT_E_INVALID;
	return put_record(s, key, make_key(key, 'u', id),
	    (encode_fn)record_encode_usage, u);
}

int
store_put_token_index(struct store *s, const char *account,
    const struct sat_token_index *x)
{
	char key[KEY_MAX];

	if (!valid_name(account))
		return SAT_E_INVALID;
	return put_record(s, key, make_key(key, 'x', account),
	    (encode_fn)record_encode_token_index, x);
}

int
store_delete_token_index(struct store *s, const char *account)
{
	if (!valid_name(account))
		return SAT_E_INVALID;
	return delete_key(s, 'x', account);
}

/* ---- the paged token index: typed records, no logic (tindex.c) ---- */

static size_t
page_key(char out[KEY_MAX], const char *account, uint32_t page)
{
	size_t n = make_key(out, 'y', account);

	snprintf(out + n, KEY_MAX - n, ":%08x", (unsigned)page);
	return n + 9;
}

/* A name is up to 128 characters of text: its key holds a hash. */
static int
name_key(char out[KEY_MAX], const char *account, const char *name,
    size_t *ret_len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n = make_key(out, 'n', account), i;

	if (EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen * 2 < NAME_HASH_HEX)
		return SAT_E_INTERNAL;
	out[n++] = ':';
	for (i = 0; i < NAME_HASH_HEX / 2; i++) {
		out[n++] = hex[md[i] >> 4];
		out[n++] = hex[md[i] & 15];
	}
	*ret_len = n;
	return 0;
}

int
store_get_token_head(struct store *s, const char *account,
    struct sat_token_head *ret)
{
	char key[KEY_MAX];

	if (!valid_name(account))
		return SAT_E_NOTFOUND;
	return get_index_record(s, key, make_key(key, 'h', account),
	    (decode_fn)record_decode_token_head, ret);
}

int
store_put_token_head(struct store *s, const char *account,
    const struct sat_token_head *h)
{
	char key[KEY_MAX];

	if (!valid_name(account))
		return SAT_E_INVALID;
	return put_record(s, key, make_key(key, 'h', account),
	    (encode_fn)record_encode_token_head, h);
}

int
store_delete_token_head(struct store *s, const char *account)
{
	if (!valid_name(account))
		return SAT_E_INVALID;
	return delete_key(s, 'h', account);
}

int
store_get_token_page(struct store *s, const char *account, uint32_t page,
    struct sat_token_page *ret)
{
	char key[KEY_MAX];

	if (!valid_name(account))
		return SAT_E_NOTFOUND;
	return get_index_record(s, key, page_key(key, account, page),
	    (decode_fn)record_decode_token_page, ret);
}

int
store_put_token_page(struct store *s, const char *account, uint32_t page,
    const struct sat_token_page *pg)
{
	char key[KEY_MAX];

	if (!valid_name(account))
		return SAT_E_INVALID;
	return put_record(s, key, page_key(key, account, page),
	    (encode_fn)record_encode_token_page, pg);
}

int
store_delete_token_page(struct store *s, const char *account, uint32_t page)
{
	char key[KEY_MAX];

	if (!valid_name(account))
		return SAT_E_INVALID;
	return stage(s, key, page_key(key, account, page), NULL, 0);
}

int
store_get_token_name(struct store *s, const char *account, const char *name,
    struct sat_token_name *ret)
{
	char key[KEY_MAX];
	size_t klen;
	int r;

	if (!valid_name(account))
		return SAT_E_NOTFOUND;
	if ((r = name_key(key, account, name, &klen)) != 0)
		return r;
	return get_record(s, key, klen, (decode_fn)record_decode_token_name,
	    ret);
}

int
store_put_token_name(struct store *s, const char *account, const char *name,
    const struct sat_token_name *nm)
{
	char key[KEY_MAX];
	size_t klen;
	int r;

	if (!valid_name(account))
		return SAT_E_INVALID;
	if ((r = name_key(key, account, name, &klen)) != 0)
		return r;
	return put_record(s, key, klen, (encode_fn)record_encode_token_name,
	    nm);
}

int
store_delete_token_name(struct store *s, const char *account,
    const char *name)
{
	char key[KEY_MAX];
	size_t klen;
	int r;

	if (!valid_name(account))
		return SAT_E_INVALID;
	if ((r = name_key(key, account, name, &klen)) != 0)
		return r;
	return stage(s, key, klen, NULL, 0);
}

int
store_get_reclaim(struct store *s, struct sat_reclaim *ret)
{
	int r;

	/* undecodable is not empty: the accounts in it would keep their
	 * tokens' records for good */
	r = get_index_record(s, "r", 1, (decode_fn)record_decode_reclaim, ret);
	if (r == SAT_E_NOTFOUND) {
		strlist_init(&ret->accounts);
		return 0;
	}
	return r;
}

int
store_put_reclaim(struct store *s, const struct sat_reclaim *rc)
{
	if (rc->accounts.n == 0)
		return stage(s, "r", 1, NULL, 0);
	return put_record(s, "r", 1, (encode_fn)record_encode_reclaim, rc);
}

size_t
store_staged(const struct store *s)
{
	return s->nstg;
}

void
store_rollback(struct store *s)
{
	staged_free_all(s);
}

/* Puts back the before-images of the first n applied changes, newest
 * first.  Best effort: it runs only after a failed apply. */
static void
undo(struct store *s, struct staged *before, size_t n)
{
	while (n-- > 0) {
		if (before[n].val != NULL)
			(void)kv_put(s->kv, before[n].key, before[n].klen,
			    before[n].val, before[n].vlen);
		else
			(void)kv_delete(s->kv, before[n].key, before[n].klen);
	}
}

/* Journal bytes between checkpoints: a checkpoint copies the whole
 * DB, so a fixed step makes filling a large store quadratic (at 1M
 * tokens, a 400 MB copy every 4 MiB of changes).  Half the DB's size
 * bounds the copying to two bytes per journalled byte and a restart's
 * replay to half a DB's worth of changes. */
static uint64_t
checkpoint_step(struct store *s)
{
	/* no handle after a failed sync (kv_failed): the default step */
	uint64_t half = s->kv != NULL ? kv_size(s->kv) / 2 : 0;

	return half > JOURNAL_CHECKPOINT_BYTES ? half : JOURNAL_CHECKPOINT_BYTES;
}

/* Writer: past the threshold, sync DB and copy it to the base so the
 * journal (and a restart's replay) stays short.  The copy runs without
 * the exclusive lock: readers only read, and nothing writes while we
 * copy, so they need not wait for it.  The commit is already durable,
 * so a failure here only postpones the next attempt. */
static void
maybe_checkpoint(struct store *s)
{
	uint64_t size = journal_size(s->journal);
	int r;

	if (size < s->checkpoint_at)
		return;
	if ((r = kv_begin_write(s->kv, s->timeout_ms)) == 0) {
		r = kv_sync(s->kv);
		kv_end_write(s->kv);
		(void)kv_failed(s, r);
	}
	if (r == 0 && journal_checkpoint(s->journal) == 0)
		s->checkpoint_at = checkpoint_step(s);
	else
		s->checkpoint_at = size + checkpoint_step(s);
}

/* Order (see journal.c): the batch is made durable in the journal
 * first, then applied to GDBM under the exclusive lock without an
 * fsync; readers see it through the page cache as soon as the lock is
 * released, and a crash at any point is repaired from base + journal. */
/* GDBM failed in the middle of applying a batch (a full disk, EIO): its
 * handle now refuses every call, and the file may hold part of a batch
 * the client was told failed.  Rebuild at once, as the next start would:
 * the base copy plus the journal, from which that batch was taken back.
 * If the rebuild fails too, the writer has no handle; the next request
 * tries again (writer_kv), and meanwhile it is refused (the journal
 * stays DIRTY, so a restart rebuilds). */
static void
rebuild_writer(struct store *s)
{
	int created = 0;

	kv_close(s->kv);
	s->kv = NULL;
	if (journal_restore_base(s->journal) != 0 ||
	    kv_open_writer(s->path, s->timeout_ms, &s->kv, &created) != 0)
		return;
	if (created || recover(s) != 0) {
		kv_close(s->kv);
		s->kv = NULL;
	}
}

/* Puts the staged changes in a journal frame and moves them in flight. */
static int
commit_prepare(struct store *s)
{
	size_t i;
	int r;

	if (writer_kv(s) == NULL) {
		r = SAT_E_STORE;
		goto fail;
	}
	if ((r = journal_set_state(s->journal, JOURNAL_DIRTY)) != 0)
		goto fail;
	for (i = 0; i < s->nstg && r == 0; i++)
		r = journal_add(s->journal, s->stg[i].key, s->stg[i].klen,
		    s->stg[i].val, s->stg[i].vlen);
	if (r != 0) {
		journal_discard(s->journal);
		goto fail;
	}
	/* the staged array becomes the in-flight one; the old in-flight
	 * array, empty, takes its place */
	{
		struct staged *v = s->fl;

		s->fl = s->stg;
		s->nfl = s->nstg;
		s->stg = v;
		s->nstg = 0;
		i = s->capstg;
		s->capstg = s->capfl;
		s->capfl = i;
	}
	{
		uint32_t *h = s->fl_h;
		size_t hcap = s->fl_hcap;

		s->fl_h = s->stg_h;
		s->fl_hcap = s->stg_hcap;
		s->fl_hn = s->stg_hn;
		s->stg_h = h;
		s->stg_hcap = hcap;
		staged_hash_clear(s);	/* an older batch's */
	}
	s->in_flight = 1;
	return 0;
fail:
	staged_free_all(s);
	return r == SAT_E_NOMEM ? r : SAT_E_STORE;
}

/* The in-flight batch is durable; a read that failed meanwhile may have
 * dropped the GDBM handle (kv_failed).  Then the rebuild replays the
 * journal, this batch included: 1, it is applied (and in the new base,
 * so it must not be taken back); 0, apply it; with no handle the batch
 * is taken back and refused. */
static int
apply_ready(struct store *s)
{
	if (s->kv != NULL)
		return 0;
	rebuild_writer(s);
	if (s->kv != NULL)
		return 1;
	(void)journal_cancel(s->journal);
	return SAT_E_STORE;
}

/* Applies the in-flight batch, durable in the journal, to GDBM under
 * the exclusive lock (see journal.c for the order). */
static int
commit_apply(struct store *s)
{
	struct staged *before = NULL;
	size_t i, applied = 0;
	void *old;
	size_t oldlen;
	int r = 0, locked = 0;

	if ((before = calloc(s->nfl, sizeof(*before))) == NULL) {
		(void)journal_cancel(s->journal);
		return SAT_E_NOMEM;
	}
	/* the before-images first, without the lock: nothing else writes
	 * the file, and readers are kept out only while it changes (their
	 * logins wait for the exclusive section) */
	for (i = 0; i < s->nfl && r == 0; i++) {
		struct staged *st = &s->fl[i];

		memcpy(before[i].key, st->key, st->klen);
		before[i].klen = st->klen;
		r = kv_fetch(s->kv, st->key, st->klen, &old, &oldlen);
		if (r == 0) {
			before[i].val = old;
			before[i].vlen = oldlen;
		} else if (r == SAT_E_NOTFOUND) {
			r = 0;
		}
	}
	if (r == 0) {
		if ((r = kv_begin_write(s->kv, s->timeout_ms)) != 0) {
			/* nothing written: no rebuild */
			(void)journal_cancel(s->journal);
			goto out;
		}
		locked = 1;
	}
	for (i = 0; i < s->nfl && r == 0; i++) {
		struct staged *st = &s->fl[i];

		r = st->val != NULL ?
		    kv_put(s->kv, st->key, st->klen, st->val, st->vlen) :
		    kv_delete(s->kv, st->key, st->klen);
		if (r == 0)
			applied = i + 1;
	}
	if (locked) {
		if (r != 0)
			undo(s, before, applied);
		kv_end_write(s->kv);
	}
	if (r == 0) {
		maybe_checkpoint(s);
	} else {
		(void)journal_cancel(s->journal);
		rebuild_writer(s);
	}
out:
	free_changes(before, s->nfl);
	free(before);
	return r;
}

static void *
committer_main(void *arg)
{
	struct committer *cm = arg;
	uint64_t one = 1;
	int r;

	pthread_mutex_lock(&cm->mu);
	for (;;) {
		while (!cm->go && !cm->quit)
			pthread_cond_wait(&cm->cv, &cm->mu);
		if (cm->quit)
			break;
		cm->go = 0;
		pthread_mutex_unlock(&cm->mu);
		r = journal_write(cm->j);
		pthread_mutex_lock(&cm->mu);
		cm->r = r;
		cm->done = 1;
		pthread_mutex_unlock(&cm->mu);
		/* signalled without the lock, so that the waker does not
		 * wake a thread only to block it on the mutex */
		pthread_cond_signal(&cm->cv);
		while (write(cm->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&cm->mu);
	}
	pthread_mutex_unlock(&cm->mu);
	return NULL;
}

static int
committer_start(struct store *s)
{
	struct committer *cm;
	sigset_t all, old;
	int r;

	if ((cm = calloc(1, sizeof(*cm))) == NULL)
		return SAT_E_NOMEM;
	cm->j = s->journal;
	if ((cm->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		free(cm);
		return SAT_E_STORE;
	}
	pthread_mutex_init(&cm->mu, NULL);
	pthread_cond_init(&cm->cv, NULL);
	/* signals stay with the daemon's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&cm->th, NULL, committer_main, cm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_mutex_destroy(&cm->mu);
		pthread_cond_destroy(&cm->cv);
		close(cm->efd);
		free(cm);
		return SAT_E_STORE;
	}
	s->cm = cm;
	return 0;
}

static void
committer_stop(struct store *s)
{
	struct committer *cm = s->cm;

	if (cm == NULL)
		return;
	pthread_mutex_lock(&cm->mu);
	cm->quit = 1;
	pthread_cond_signal(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
	pthread_join(cm->th, NULL);
	pthread_mutex_destroy(&cm->mu);
	pthread_cond_destroy(&cm->cv);
	close(cm->efd);
	free(cm);
	s->cm = NULL;
}

int
store_commit_begin(struct store *s)
{
	int r;

	if (!s->writer || s->in_flight)
		return SAT_E_INTERNAL;
	if (s->nstg == 0)
		return 0;
	if (s->cm == NULL && (r = committer_start(s)) != 0) {
		staged_free_all(s);
		return r;
	}
	if ((r = commit_prepare(s)) != 0)
		return r;
	pthread_mutex_lock(&s->cm->mu);
	s->cm->done = 0;
	s->cm->go = 1;
	pthread_mutex_unlock(&s->cm->mu);
	pthread_cond_signal(&s->cm->cv);
	return 0;
}

int
store_commit_fd(const struct store *s)
{
	return s->in_flight && s->cm != NULL ? s->cm->efd : -1;
}

int
store_in_flight(const struct store *s)
{
	return s->in_flight;
}

int
store_commit_end(struct store *s)
{
	uint64_t n;
	int r;

	if (!s->writer)
		return SAT_E_INTERNAL;
	if (!s->in_flight)
		return 0;
	pthread_mutex_lock(&s->cm->mu);
	while (!s->cm->done)
		pthread_cond_wait(&s->cm->cv, &s->cm->mu);
	s->cm->done = 0;
	r = s->cm->r;
	pthread_mutex_unlock(&s->cm->mu);
	/* drain it (nonblocking): the next begin starts from unreadable */
	if (read(s->cm->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		r = r != 0 ? r : SAT_E_STORE;
	if (r == 0 && (r = apply_ready(s)) == 0)
		r = commit_apply(s);
	else if (r == 1)
		r = 0;
	free_changes(s->fl, s->nfl);
	s->nfl = 0;
	s->in_flight = 0;
	return r == 0 ? 0 : r == SAT_E_NOMEM ? r : SAT_E_STORE;
}

int
store_commit(struct store *s)
{
	int r;

	if (!s->writer || s->in_flight)
		return SAT_E_INTERNAL;
	if (s->nstg == 0)
		return 0;
	/* on the caller's thread: a commit before the daemon forks (the
	 * store's first meta record) must not start the thread */
	if ((r = commit_prepare(s)) != 0)
		return r;
	if ((r = journal_write(s->journal)) == 0 && (r = apply_ready(s)) == 0)
		r = commit_apply(s);
	else if (r == 1)
		r = 0;
	free_changes(s->fl, s->nfl);
	s->nfl = 0;
	s->in_flight = 0;
	return r == 0 ? 0 : r == SAT_E_NOMEM ? r : SAT_E_STORE;
}

/* ---- backup and restore (common/backup.c) ---- */

struct export_ctx {
	struct store *s;
	store_export_fn fn;
	void *arg;
};

static int
export_cb(void *arg, const void *key, size_t klen)
{
	struct export_ctx *c = arg;
	void *val = NULL;
	size_t vlen = 0;
	int r;

	if ((r = kv_fetch(c->s->kv, key, klen, &val, &vlen)) != 0)
		return r == SAT_E_NOTFOUND ? 0 : r;
	r = c->fn(c->arg, key, klen, val, vlen);
	sat_freezero(val, vlen);	/* the meta record holds the HMAC key */
	return r;
}

int
store_export(struct store *s, store_export_fn fn, void *arg)
{
	struct export_ctx c = { s, fn, arg };
	int r;

	if (!s->writer)
		return SAT_E_INTERNAL;
	if (writer_kv(s) == NULL)
		return SAT_E_STORE;
	/* the file as applied: staged and in-flight changes are not yet
	 * acknowledged, and the commit that applies them runs on this
	 * thread, so nothing changes the file under the iteration */
	if ((r = kv_iterate(s->kv, export_cb, &c)) != 0)
		return kv_failed(s, r);
	return 0;
}

static int
clear_cb(void *arg, const void *key, size_t klen)
{
	struct store *s = arg;

	if (klen > KEY_MAX)
		return 0;	/* no key of ours; a restore puts back its own */
	return stage(s, key, klen, NULL, 0);
}

int
store_stage_clear(struct store *s)
{
	int r;

	if (!s->writer || s->in_flight)
		return SAT_E_INTERNAL;
	if (writer_kv(s) == NULL)
		return SAT_E_STORE;
	if ((r = kv_iterate(s->kv, clear_cb, s)) != 0)
		return kv_failed(s, r);
	return 0;
}

int
store_stage_raw(struct store *s, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	uint8_t *c;

	if (klen == 0 || klen > KEY_MAX || val == NULL)
		return SAT_E_INVALID;
	if ((c = malloc(vlen > 0 ? vlen : 1)) == NULL)
		return SAT_E_NOMEM;
	memcpy(c, val, vlen);
	return stage(s, key, klen, c, vlen);
}
