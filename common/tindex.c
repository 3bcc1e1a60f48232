#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "tindex.h"
#include "tokstate.h"

static int
counted(const struct sat_token_head *h, const struct sat_token *t)
{
	return tokstate(t, h->counted_at) == TOKSTATE_ACTIVE;
}

static int
live(const struct sat_token *t, int64_t now)
{
	return tokstate(t, now) == TOKSTATE_ACTIVE;
}

static int
purgeable(const struct sat_token *t, int64_t cutoff)
{
	return tokstate_ended_by(t, cutoff);
}

int
tindex_head(struct store *s, const char *account, struct sat_token_head *ret)
{
	struct sat_token_head h;
	int r;

	memset(&h, 0, sizeof(h));
	if ((r = store_get_token_head(s, account, &h)) == SAT_E_NOTFOUND)
		memset(&h, 0, sizeof(h));
	else if (r != 0)
		return r;
	*ret = h;
	return 0;
}

/* A page that is not there reads as empty (the last one before its
 * first id, or one a purge emptied). */
static int
get_page(struct store *s, const char *account, uint32_t page,
    struct sat_token_page *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = store_get_token_page(s, account, page, ret)) == SAT_E_NOTFOUND) {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	return r;
}

int
tindex_name_taken(struct store *s, const char *account, const char *name,
    int64_t now, int *ret_taken)
{
	struct sat_token_name nm;
	struct sat_token t;
	int r, taken = 0;

	memset(&nm, 0, sizeof(nm));
	memset(&t, 0, sizeof(t));
	if ((r = store_get_token_name(s, account, name, &nm)) == SAT_E_NOTFOUND)
		goto done;
	if (r != 0)
		return r;
	if ((r = store_get_token(s, nm.id, &t)) == SAT_E_NOTFOUND)
		goto done;
	if (r != 0)
		return r;
	/* a rotation's outgoing token keeps its name but gives it up */
	taken = strcmp(t.account, account) == 0 && strcmp(t.name, name) == 0 &&
	    live(&t, now) && t.replaced_by[0] == '\0';
	record_free_token(&t);
done:
	*ret_taken = taken;
	return 0;
}

/* Counts the live tokens again, from the first page that may hold one,
 * and stages the head that says so. */
static int
recount(struct store *s, const char *account, int64_t now,
    struct sat_token_head *h)
{
	struct tindex_iter it;
	struct tindex_pos from, at;
	struct sat_token t;
	char id[TOKEN_ID_LEN + 1];
	uint64_t n = 0;
	int64_t min = 0;
	uint32_t first = h->last;
	int r;

	from.page = h->live_first;
	from.slot = 0;
	if ((r = tindex_iter_init(s, account, from, &it)) != 0)
		return r;
	while ((r = tindex_iter_next(s, account, &it, id, &at)) == 0) {
		memset(&t, 0, sizeof(t));
		if ((r = store_get_token(s, id, &t)) == SAT_E_NOTFOUND)
			continue;
		if (r != 0)
			return r;
		if (live(&t, now)) {
			if (n == 0 || t.expires_at < min)
				min = t.expires_at;
			if (n == 0)
				first = at.page;
			n++;
		}
		record_free_token(&t);
	}
	if (r != SAT_E_NOTFOUND)
		return r;
	h->nlive = n;
	h->counted_at = now;
	h->min_expiry = min;
	h->live_first = first;
	return store_put_token_head(s, account, h);
}

int
tindex_room(struct store *s, const char *account, int64_t now, uint64_t max,
    unsigned adds)
{
	struct sat_token_head h;
	int r;

	if (adds == 0)
		return 0;
	if ((r = tindex_head(s, account, &h)) != 0)
		return r;
	if (h.nlive + adds <= max)
		return 0;
	/* every counted token is live until the first of them expires */
	if (now < h.min_expiry || h.nlive == 0)
		return SAT_E_QUOTA;
	if ((r = recount(s, account, now, &h)) != 0)
		return r;
	return h.nlive + adds <= max ? 0 : SAT_E_QUOTA;
}

int
tindex_add(struct store *s, const struct sat_token *t)
{
	struct sat_token_head h;
	struct sat_token_page pg;
	struct sat_token_name nm;
	int r;

	if ((r = tindex_head(s, t->account, &h)) != 0 ||
	    (r = get_page(s, t->account, h.last, &pg)) != 0)
		return r;
	if (pg.n == TINDEX_PAGE_SLOTS) {
		/* page numbers stay below UINT32_MAX, so that p + 1 past
		 * the last never wraps: 2^38 mints, not this year */
		if (h.last >= UINT32_MAX - 1)
			return SAT_E_QUOTA;
		h.last++;
		memset(&pg, 0, sizeof(pg));
	}
	snprintf(pg.ids[pg.n], sizeof(pg.ids[pg.n]), "%s", t->id);
	pg.n++;
	if (counted(&h, t)) {
		if (h.nlive == 0 || t->expires_at < h.min_expiry)
			h.min_expiry = t->expires_at;
		if (h.nlive == 0)
			h.live_first = h.last;
		h.nlive++;
	}
	h.ntokens++;
	memset(&nm, 0, sizeof(nm));
	memcpy(nm.id, t->id, sizeof(nm.id));
	if ((r = store_put_token_page(s, t->account, h.last, &pg)) != 0 ||
	    (r = store_put_token_head(s, t->account, &h)) != 0)
		return r;
	return store_put_token_name(s, t->account, t->name, &nm);
}

int
tindex_update(struct store *s, const struct sat_token *before,
    const struct sat_token *after)
{
	struct sat_token_head h;
	int r, was, is;

	if ((r = tindex_head(s, after->account, &h)) != 0)
		return r;
	was = counted(&h, before);
	is = counted(&h, after);
	if (was == is && (!is || after->expires_at >= h.min_expiry))
		return 0;
	if (was && !is && h.nlive > 0)
		h.nlive--;
	else if (!was && is)
		h.nlive++;	/* nothing un-revokes today; kept exact anyway */
	if (is && after->expires_at < h.min_expiry)
		h.min_expiry = after->expires_at;
	if (h.nlive > h.ntokens)
		h.nlive = h.ntokens;
	return store_put_token_head(s, after->account, &h);
}

int
tindex_iter_init(struct store *s, const char *account, struct tindex_pos from,
    struct tindex_iter *it)
{
	int r;

	memset(it, 0, sizeof(*it));
	if ((r = tindex_head(s, account, &it->head)) != 0)
		return r;
	it->pos = from;
	if (it->pos.page < it->head.first) {
		it->pos.page = it->head.first;
		it->pos.slot = 0;
	}
	return 0;
}

int
tindex_iter_next(struct store *s, const char *account, struct tindex_iter *it,
    char ret_id[TOKEN_ID_LEN + 1], struct tindex_pos *ret_at)
{
	int r;

	for (;;) {
		if (it->pos.page > it->head.last)
			return SAT_E_NOTFOUND;
		if (!it->loaded) {
			if ((r = get_page(s, account, it->pos.page, &it->pg)) != 0)
				return r;
			it->loaded = 1;
		}
		if (it->pos.slot >= it->pg.n) {
			it->pos.page++;
			it->pos.slot = 0;
			it->loaded = 0;
			continue;
		}
		*ret_at = it->pos;
		it->pos.slot++;
		if (it->pg.ids[ret_at->slot][0] == '\0')
			continue;	/* purged */
		memcpy(ret_id, it->pg.ids[ret_at->slot], TOKEN_ID_LEN + 1);
		return 0;
	}
}

/* Purges what is due in one page; *ret_left: the ids it keeps. */
static int
purge_page(struct store *s, const char *account, struct sat_token_head *h,
    struct sat_token_page *pg, int64_t cutoff, size_t *ret_n,
    size_t *ret_left)
{
	struct sat_token_name nm;
	struct sat_token t;
	uint32_t i;
	size_t n = 0, left = 0;
	int r = 0;

	for (i = 0; i < pg->n && r == 0; i++) {
		if (pg->ids[i][0] == '\0')
			continue;
		memset(&t, 0, sizeof(t));
		if ((r = store_get_token(s, pg->ids[i], &t)) == SAT_E_NOTFOUND) {
			r = 0;	/* an entry without its token: drop it */
		} else if (r != 0) {
			break;
		} else if (!purgeable(&t, cutoff)) {
			left++;
			record_free_token(&t);
			continue;
		} else {
			memset(&nm, 0, sizeof(nm));
			r = store_get_token_name(s, account, t.name, &nm);
			if (r == 0 && strcmp(nm.id, t.id) == 0)
				r = store_delete_token_name(s, account, t.name);
			else if (r == SAT_E_NOTFOUND)
				r = 0;
			if (r == 0)
				r = store_delete_token(s, t.id);
			if (counted(h, &t) && h->nlive > 0)
				h->nlive--;
			record_free_token(&t);
		}
		pg->ids[i][0] = '\0';
		memset(pg->ids[i], 0, sizeof(pg->ids[i]));
		if (h->ntokens > 0)
			h->ntokens--;
		n++;
	}
	if (h->nlive > h->ntokens)
		h->nlive = h->ntokens;
	*ret_n = n;
	*ret_left = left;
	return r;
}

int
tindex_purge(struct store *s, const char *account, int64_t cutoff,
    uint32_t *page, size_t max_pages, size_t *ret_n, int *ret_done)
{
	struct sat_token_head h;
	struct sat_token_page pg;
	uint32_t p;
	size_t k, n, left, total = 0;
	int r, changed = 0, missing;

	*ret_n = 0;
	*ret_done = 0;
	if ((r = tindex_head(s, account, &h)) != 0)
		return r;
	p = *page > h.first ? *page : h.first;
	for (k = 0; k < max_pages && p <= h.last; k++, p++) {
		memset(&pg, 0, sizeof(pg));
		r = store_get_token_page(s, account, p, &pg);
		if (r != 0 && r != SAT_E_NOTFOUND)
			return r;
		missing = r == SAT_E_NOTFOUND;
		n = left = 0;
		if (!missing && (r = purge_page(s, account, &h, &pg, cutoff, &n,
		    &left)) != 0)
			return r;
		total += n;
		/* the last page stays: mints append to it */
		if (left == 0 && p != h.last) {
			if (!missing && (r = store_delete_token_page(s, account,
			    p)) != 0)
				return r;
			if (p == h.first) {
				h.first = p + 1;
				changed = 1;
			}
		} else if (n > 0 &&
		    (r = store_put_token_page(s, account, p, &pg)) != 0) {
			return r;
		}
	}
	if (h.live_first < h.first)
		h.live_first = h.first;
	if ((changed || total > 0) &&
	    (r = store_put_token_head(s, account, &h)) != 0)
		return r;
	*page = p;
	*ret_n = total;
	*ret_done = p > h.last;
	return 0;
}

/* Deletes the tokens, names and pages of up to max_pages pages from the
 * head's first on, and the head once the last is done (*ret_done). */
static int
reclaim_pages(struct store *s, const char *account, size_t max_pages,
    size_t *ret_n, int *ret_done)
{
	struct sat_token_head h;
	struct sat_token_page pg;
	struct sat_token t;
	uint32_t i;
	size_t k, n = 0;
	int r;

	*ret_done = 0;
	if ((r = tindex_head(s, account, &h)) != 0)
		return r;
	for (k = 0; k < max_pages && h.first <= h.last; k++, h.first++) {
		memset(&pg, 0, sizeof(pg));
		if ((r = store_get_token_page(s, account, h.first, &pg)) ==
		    SAT_E_NOTFOUND)
			continue;
		if (r != 0 ||
		    (r = store_delete_token_page(s, account, h.first)) != 0)
			return r;
		for (i = 0; i < pg.n; i++) {
			if (pg.ids[i][0] == '\0')
				continue;
			memset(&t, 0, sizeof(t));
			if ((r = store_get_token(s, pg.ids[i], &t)) ==
			    SAT_E_NOTFOUND)
				continue;
			if (r != 0)
				return r;
			/* the name goes too, whichever token it names: it is
			 * one of these */
			r = store_delete_token_name(s, account, t.name);
			record_free_token(&t);
			if (r != 0 || (r = store_delete_token(s, pg.ids[i])) != 0)
				return r;
			n++;
		}
	}
	*ret_n = n;
	if (h.first <= h.last) {
		h.ntokens = h.ntokens > n ? h.ntokens - n : 0;
		if (h.nlive > h.ntokens)
			h.nlive = h.ntokens;
		if (h.live_first < h.first)
			h.live_first = h.first;
		return store_put_token_head(s, account, &h);
	}
	*ret_done = 1;
	if ((r = store_delete_token_head(s, account)) != 0)
		return r;
	return store_delete_token_index(s, account);
}

int
tindex_delete_all(struct store *s, const char *account, size_t *ret_n)
{
	struct sat_token_head h;
	struct sat_reclaim rc;
	size_t n;
	int r, done;

	*ret_n = 0;
	if ((r = tindex_head(s, account, &h)) != 0)
		return r;
	if (h.ntokens <= TINDEX_DELETE_NOW) {
		if ((r = reclaim_pages(s, account, SIZE_MAX, &n, &done)) != 0)
			return r;
		*ret_n = n;
		return 0;
	}
	memset(&rc, 0, sizeof(rc));
	if ((r = store_get_reclaim(s, &rc)) != 0)
		return r;
	if ((r = strlist_add_unique(&rc.accounts, account)) == 0 &&
	    (r = store_put_reclaim(s, &rc)) == 0)
		*ret_n = (size_t)h.ntokens;
	record_free_reclaim(&rc);
	return r;
}

/* Takes account off the list once its reclaim is done. */
static int
reclaim_done(struct store *s, struct sat_reclaim *rc, const char *account)
{
	strlist_remove(&rc->accounts, account);
	return store_put_reclaim(s, rc);
}

int
tindex_reclaim_step(struct store *s, size_t max_pages, size_t *ret_n,
    int *ret_more)
{
	struct sat_reclaim rc;
	char account[SAT_NAME_MAX + 1];
	int r, done = 0;

	*ret_n = 0;
	*ret_more = 0;
	memset(&rc, 0, sizeof(rc));
	if ((r = store_get_reclaim(s, &rc)) != 0)
		return r;
	if (rc.accounts.n > 0) {
		snprintf(account, sizeof(account), "%s", rc.accounts.v[0]);
		if ((r = reclaim_pages(s, account, max_pages, ret_n,
		    &done)) == 0 && done)
			r = reclaim_done(s, &rc, account);
		*ret_more = rc.accounts.n > 0;
	}
	record_free_reclaim(&rc);
	return r;
}

int
tindex_reclaim_account(struct store *s, const char *account)
{
	struct sat_reclaim rc;
	size_t n;
	int r, done;

	memset(&rc, 0, sizeof(rc));
	if ((r = store_get_reclaim(s, &rc)) != 0)
		return r;
	if (strlist_contains(&rc.accounts, account) &&
	    (r = reclaim_pages(s, account, SIZE_MAX, &n, &done)) == 0)
		r = reclaim_done(s, &rc, account);
	record_free_reclaim(&rc);
	return r;
}

int
tindex_upgrade(struct store *s, const char *account, int64_t now,
    int *ret_done)
{
	struct sat_token_index x;
	struct sat_token_head h;
	struct sat_token_page pg;
	struct sat_token_name nm;
	struct sat_token t;
	size_t i;
	int r;

	*ret_done = 0;
	memset(&x, 0, sizeof(x));
	memset(&h, 0, sizeof(h));
	memset(&pg, 0, sizeof(pg));
	if ((r = store_get_token_index(s, account, &x)) != 0)
		return r;
	if (x.ids.n == 0) {
		/* none, or an empty one: a head alone (the first mint of an
		 * upgraded account) is the same */
		record_free_token_index(&x);
		return 0;
	}
	/* the old list is in mint order, appends being its only change */
	h.counted_at = now;
	for (i = 0; i < x.ids.n; i++) {
		memset(&t, 0, sizeof(t));
		if ((r = store_get_token(s, x.ids.v[i], &t)) == SAT_E_NOTFOUND)
			continue;
		if (r != 0)
			goto out;
		if (pg.n == TINDEX_PAGE_SLOTS) {
			if ((r = store_put_token_page(s, account, h.last,
			    &pg)) != 0) {
				record_free_token(&t);
				goto out;
			}
			h.last++;
			memset(&pg, 0, sizeof(pg));
		}
		memcpy(pg.ids[pg.n++], t.id, TOKEN_ID_LEN + 1);
		h.ntokens++;
		if (counted(&h, &t)) {
			if (h.nlive == 0 || t.expires_at < h.min_expiry)
				h.min_expiry = t.expires_at;
			if (h.nlive == 0)
				h.live_first = h.last;
			h.nlive++;
		}
		if (live(&t, now) && t.replaced_by[0] == '\0') {
			memset(&nm, 0, sizeof(nm));
			memcpy(nm.id, t.id, sizeof(nm.id));
			r = store_put_token_name(s, account, t.name, &nm);
		}
		record_free_token(&t);
		if (r != 0)
			goto out;
	}
	if (h.nlive == 0)
		h.live_first = h.last;
	if ((r = store_put_token_page(s, account, h.last, &pg)) == 0 &&
	    (r = store_put_token_head(s, account, &h)) == 0 &&
	    (r = store_delete_token_index(s, account)) == 0)
		*ret_done = 1;
out:
	record_free_token_index(&x);
	return r;
}
