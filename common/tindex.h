/* satoken: an account's token index, whose cost per request does not
 * grow with the number of tokens the account has ever held.
 *
 * The first stores kept one record per account listing every token id
 * it held, read and rewritten whole at every mint.  Now (record.h):
 *   - a head per account: the page range, the quota's counter;
 *   - pages of TINDEX_PAGE_SLOTS ids in mint order: a mint appends to
 *     the last one, a purge empties a slot without moving the others,
 *     so (page, slot) is a listing cursor that stays put, and a page of
 *     a listing reads O(page) records;
 *   - one record per token name, naming the token that holds it: the
 *     name's uniqueness among live tokens is one lookup.
 *
 * The quota: the head counts the tokens "counted live", the unrevoked
 * ones expiring after head.counted_at.  A mint adds one, a revocation
 * or a purge takes one away, each O(1).  Expiry writes nothing, so the
 * count is an upper bound of the live tokens, exact while now is before
 * head.min_expiry; only a mint that finds the count at the quota past
 * that time counts again, walking the pages from head.live_first (the
 * first holding a counted token) and then refusing or going on.
 *
 * Everything here stages its changes on the writer; the caller commits
 * them with the request.  Errors: SAT_E_* (SAT_E_STORE, SAT_E_NOMEM...),
 * SAT_E_QUOTA from tindex_room. */
#ifndef SATOKEN_TINDEX_H
#define SATOKEN_TINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "store.h"

/* The account's head; an account without one (no token yet) gets a
 * zeroed head.  An undecodable head is SAT_E_STORE: the index cannot be
 * trusted, so nothing is minted on it. */
int tindex_head(struct store *s, const char *account,
    struct sat_token_head *ret);

/* 1 in *ret_taken when a live token that was not rotated away holds
 * name in the account, else 0. */
int tindex_name_taken(struct store *s, const char *account, const char *name,
    int64_t now, int *ret_taken);

/* 0 when the account has room for adds more live tokens under max,
 * SAT_E_QUOTA when not.  May stage a recounted head. */
int tindex_room(struct store *s, const char *account, int64_t now,
    uint64_t max, unsigned adds);

/* Indexes a token just minted (live): appends its id, counts it, gives
 * it its name. */
int tindex_add(struct store *s, const struct sat_token *t);

/* A token's revoked_at or expires_at changed from before to after (a
 * revocation, a rotation): keeps the count. */
int tindex_update(struct store *s, const struct sat_token *before,
    const struct sat_token *after);

/* A walk over an account's ids in mint order.  pos names the next slot
 * to look at; it starts at {0, 0} (the first id) or one past a cursor. */
struct tindex_pos {
	uint32_t page;
	uint32_t slot;
};

struct tindex_iter {
	struct sat_token_head head;
	struct sat_token_page pg;
	int loaded;		/* pg holds page pos.page */
	struct tindex_pos pos;
};

int tindex_iter_init(struct store *s, const char *account,
    struct tindex_pos from, struct tindex_iter *it);
/* The next id into ret_id and where it sits into *ret_at; 0, or
 * SAT_E_NOTFOUND past the last. */
int tindex_iter_next(struct store *s, const char *account,
    struct tindex_iter *it, char ret_id[TOKEN_ID_LEN + 1],
    struct tindex_pos *ret_at);

/* Retention: in at most max_pages pages from *page on, deletes the
 * tokens revoked or expired at or before cutoff (and index entries
 * whose token is gone).  *ret_n: how many; *page: where to go on;
 * *ret_done 1 once the account's last page was done. */
int tindex_purge(struct store *s, const char *account, int64_t cutoff,
    uint32_t *page, size_t max_pages, size_t *ret_n, int *ret_done);

/* account.delete: *ret_n gets the account's tokens.  Up to
 * TINDEX_DELETE_NOW of them are deleted with the request (with their
 * names, pages and head); more are put on the reclaim list ("r") and
 * deleted TINDEX_PAGE_SLOTS at a time by tindex_reclaim_step, so that
 * no request stalls the daemon for seconds.  Meanwhile they cannot log
 * in (their account is gone), and tindex_reclaim_account finishes the
 * job before an account of the same name is created again. */
#define TINDEX_DELETE_NOW	1024
int tindex_delete_all(struct store *s, const char *account, size_t *ret_n);
/* Deletes up to max_pages pages of the oldest account on the reclaim
 * list; *ret_n tokens; *ret_more while the list holds any. */
int tindex_reclaim_step(struct store *s, size_t max_pages, size_t *ret_n,
    int *ret_more);
/* Before (re)creating account: finishes its reclaim, if pending. */
int tindex_reclaim_account(struct store *s, const char *account);

/* A store of the first kind: builds the account's paged index from its
 * one-record index and stages the change (*ret_done 1), or does nothing
 * (*ret_done 0) when there is none.  O(tokens), once. */
int tindex_upgrade(struct store *s, const char *account, int64_t now,
    int *ret_done);

#endif
