/* satoken: the store, behind one interface.
 *
 * Readers (the PAM module, the SASL plugin, satokenctl never) open a
 * consistent read-only view, read what they need and close it: the view
 * holds a shared lock, so it must be short.  store_open_reader waits at
 * most lock_timeout_ms and fails closed with SAT_E_STORE.
 *
 * The writer (satokend, and only it) keeps one handle for its life.  Its
 * put/delete calls are staged in memory; reads through the writer see
 * the staged changes; store_commit makes them durable in a write-ahead
 * journal (fdatasync), applies them all under an exclusive lock and only
 * then returns 0, so a caller acknowledges a change only after
 * store_commit succeeded.  If applying fails half-way the changes
 * already applied are undone and the journal batch is taken back.  A
 * writer that died (SIGKILL, power cut) left the GDBM file possibly
 * torn: the next store_open_writer rebuilds it from the base copy and
 * the journal (common/journal.h) before anyone writes again.
 *
 * Getters fill a caller's zeroed struct that the caller releases with
 * the matching record_free_*.  A record that is missing or does not
 * decode is SAT_E_NOTFOUND (absent, fail closed); an I/O error is
 * SAT_E_STORE. */
#ifndef SATOKEN_STORE_H
#define SATOKEN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "strlist.h"
#include "token.h"

struct store;

int store_open_reader(const char *path, unsigned lock_timeout_ms,
    struct store **ret);
/* Creates the store (with a fresh HMAC key) if it does not exist.
 * SAT_E_CONFLICT when another writer already holds it. */
int store_open_writer(const char *path, unsigned lock_timeout_ms,
    struct store **ret);
/* Writer only: checkpoint (copy the database to its base and empty the
 * journal) once the journal has grown by bytes more; the default is
 * JOURNAL_CHECKPOINT_BYTES.  For tests that want checkpoints often. */
void store_set_checkpoint_bytes(struct store *s, uint64_t bytes);

/* 1 if store_open_writer had to rebuild the database from its base and
 * journal (the last writer did not close cleanly). */
int store_recovered(const struct store *s);

/* Reader only, for a view kept between checks (common/view.h; see
 * storefile.h for how): resume sets *ret_stale to 0 when the view is
 * still exact (read it without a lock), 1 when the daemon wrote since
 * (close it and open another); pause ends a check and sets *ret_torn to
 * 0 when what was read is whole, 1 when a write overlapped it (check
 * again on a new view).  Both return 0 or SAT_E_STORE. */
int store_reader_pause(struct store *s, int *ret_torn);
int store_reader_resume(struct store *s, int *ret_stale);

/* Drops staged changes, wipes the key, closes (a writer marks the
 * journal clean after syncing the database).  Accepts NULL.  A reader's
 * code (store_read.c) is all that the modules link; the writer's
 * (store_write.c: overlay, journal, committer, checkpoints) is
 * satokend's, and satokenctl's offline restore. */
void store_close(struct store *s);

/* The per-database HMAC key; borrowed, valid until store_close. */
const uint8_t *store_hmac_key(const struct store *s);

int store_get_account(struct store *s, const char *name,
    struct sat_account *ret);
int store_get_group(struct store *s, const char *name, struct sat_group *ret);
/* A missing or undecodable policy reads as the empty list (nobody). */
int store_get_policy(struct store *s, struct sat_policy *ret);
int store_get_token(struct store *s, const char *id, struct sat_token *ret);
/* The first stores' one-record index (for tindex_upgrade); a missing
 * one reads as empty. */
int store_get_token_index(struct store *s, const char *account,
    struct sat_token_index *ret);

/* The paged token index's records, typed (common/tindex.h has the
 * logic).  A missing record is SAT_E_NOTFOUND.  Names are a token's
 * name (any text); the key holds its hash. */
int store_get_token_head(struct store *s, const char *account,
    struct sat_token_head *ret);
int store_get_token_page(struct store *s, const char *account, uint32_t page,
    struct sat_token_page *ret);
int store_get_token_name(struct store *s, const char *account, const char *name,
    struct sat_token_name *ret);
int store_put_token_head(struct store *s, const char *account,
    const struct sat_token_head *h);
int store_delete_token_head(struct store *s, const char *account);
int store_put_token_page(struct store *s, const char *account, uint32_t page,
    const struct sat_token_page *pg);
int store_delete_token_page(struct store *s, const char *account,
    uint32_t page);
int store_put_token_name(struct store *s, const char *account, const char *name,
    const struct sat_token_name *nm);
int store_delete_token_name(struct store *s, const char *account,
    const char *name);

/* The deleted accounts whose tokens are still being deleted (tindex.h);
 * missing reads as empty, an empty list deletes the record. */
int store_get_reclaim(struct store *s, struct sat_reclaim *ret);
int store_put_reclaim(struct store *s, const struct sat_reclaim *rc);

/* A fleet host's last contact with its directory ("F:t", Unix seconds,
 * written by satokend's follower): SAT_E_NOTFOUND on a standalone store
 * (or one whose value does not read). */
#define STORE_CONTACT_KEY	"F:t"
int store_get_contact(struct store *s, int64_t *ret);
/* One key's raw value as a reader of s sees it (a writer: with what it
 * has staged), for keys the store does not decode (satokend's "F:"
 * keys); the caller frees it.  SAT_E_NOTFOUND when absent. */
int store_fetch_raw(struct store *s, const void *key, size_t klen,
    void **ret_val, size_t *ret_len);

/* Sorted names of all accounts / groups (a full scan: for the daemon's
 * start-up and listings, not for the login path). */
int store_list_accounts(struct store *s, struct strlist *ret);
int store_list_groups(struct store *s, struct strlist *ret);

/* Writer only: stage a change.  SAT_E_INVALID for a record that does
 * not validate or encode. */
int store_put_account(struct store *s, const struct sat_account *a);
int store_delete_account(struct store *s, const char *name);
int store_put_group(struct store *s, const struct sat_group *g);
int store_delete_group(struct store *s, const char *name);
int store_put_policy(struct store *s, const struct sat_policy *p);
int store_put_token(struct store *s, const struct sat_token *t);
/* A token's last use ("u:ID"); SAT_E_NOTFOUND when none was recorded.
 * Deleting the token deletes it too. */
int store_get_usage(struct store *s, const char *id, struct sat_usage *ret);
int store_put_usage(struct store *s, const char *id,
    const struct sat_usage *u);
int store_delete_token(struct store *s, const char *id);
int store_put_token_index(struct store *s, const char *account,
    const struct sat_token_index *x);
int store_delete_token_index(struct store *s, const char *account);

/* The one durable entry point.  Every change reaches the file by one
 * path (store_write.c): staged changes go into a journal frame, which is
 * written and fdatasync'd, then applied to the database under the
 * exclusive lock; readers see a batch whole or not at all.
 *
 * store_apply commits a batch built apart (common/store_batch.h: put a
 * raw record, delete a key; a fleet follower applying changes from its
 * directory, a restore): 0 only once every change in it is durable and
 * visible; on failure none is, and the store is as before.  b is left
 * empty either way, ready for the next batch.  SAT_E_INTERNAL (and
 * nothing applied) while changes are staged or in flight: commit or
 * roll those back first.  The typed store_put_* and store_delete_* below
 * stage into the writer's own batch, which store_commit (or the group
 * commit) sends down the same path. */
struct store_batch;
int store_apply(struct store *s, struct store_batch *b);

/* Number of staged changes. */
size_t store_staged(const struct store *s);
/* Applies and syncs every staged change; 0 only once durable.  On
 * failure nothing staged remains and the store is as before. */
int store_commit(struct store *s);
/* Drops every staged change. */
void store_rollback(struct store *s);

/* Savepoints, for a control host's request (daemon/control.c): its
 * changes are written to the directory before they may stay staged.
 * store_savepoint sets the changes staged so far aside (one savepoint
 * at a time); store_savepoint_changes lists those staged since
 * (borrowed until the next call on s; NULL when none is set);
 * store_fetch_before reads a key as it was at the savepoint (a raw
 * value the caller frees, or SAT_E_NOTFOUND); release keeps the later
 * changes with the earlier ones (on failure, SAT_E_NOMEM, everything
 * staged is dropped), rollback drops the later ones alone.  Reads see
 * both; store_staged counts both; commits refuse (SAT_E_INTERNAL) while
 * a savepoint is set, and store_rollback drops both and the savepoint. */
struct store_batch;
int store_savepoint(struct store *s);
const struct store_batch *store_savepoint_changes(const struct store *s);
int store_fetch_before(struct store *s, const void *key, size_t klen,
    void **ret_val, size_t *ret_len);
int store_savepoint_release(struct store *s);
void store_savepoint_rollback(struct store *s);

/* Group commit that overlaps the fsync (satokend): store_commit_begin
 * hands the staged changes to a thread that writes and fdatasyncs their
 * journal frame, and returns at once.  They are then "in flight": reads
 * still see them, new changes can be staged over them, store_staged and
 * store_rollback no longer count them.  store_commit_fd becomes readable
 * once the write is done; store_commit_end waits for it and applies the
 * batch: 0 only once durable and visible to readers, as store_commit.
 * On failure nothing of the batch remains, and changes staged on top of
 * it must be rolled back.  One batch in flight at a time; store_commit
 * and a second begin refuse (SAT_E_INTERNAL) while one is. */
int store_commit_begin(struct store *s);
int store_commit_fd(const struct store *s);
int store_in_flight(const struct store *s);
int store_commit_end(struct store *s);

/* Backup and restore (common/backup.c), writer only.  store_export calls
 * fn for every key and value of the database as applied (every
 * acknowledged change; none staged or in flight); key and val are
 * borrowed for the call; a non-zero return from fn stops and is
 * returned.  store_stage_clear stages the deletion of every key;
 * store_stage_raw stages one key's value (copied) as it is, without
 * decoding it (SAT_E_INVALID for a key longer than any of ours).  The
 * caller commits as usual. */
typedef int (*store_export_fn)(void *arg, const void *key, size_t klen,
    const void *val, size_t vlen);
int store_export(struct store *s, store_export_fn fn, void *arg);
int store_stage_clear(struct store *s);
int store_stage_raw(struct store *s, const void *key, size_t klen,
    const void *val, size_t vlen);
/* Stages one key's deletion, raw (SAT_E_INVALID for a key longer than
 * any of ours). */
int store_stage_delete(struct store *s, const void *key, size_t klen);

#endif
