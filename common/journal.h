/* satoken: the store writer's write-ahead journal and base snapshot.
 *
 * GDBM has no crash tolerance on ext4 (its own failure-atomic mode needs
 * reflink snapshots: XFS or Btrfs), so the writer never trusts the GDBM
 * file after an unclean stop.  Three files live next to the store:
 *
 *   DB.journal  a header (state) and the batches committed since the
 *               base was taken, each fdatasync'd before GDBM is touched
 *   DB.base     a copy of DB taken at a checkpoint, when DB was synced
 *               and the journal was emptied
 *   DB          what readers open; rebuilt from base + journal when the
 *               journal says the writer did not close cleanly
 *
 * Only the store's writer (store_write.c) uses this module.  Entries
 * are after-images (the whole new value of a key, or its deletion), so
 * replaying a batch twice gives the same result: a crash between a
 * checkpoint's copy and its truncation is harmless. */
#ifndef SATOKEN_JOURNAL_H
#define SATOKEN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct journal;

enum journal_state {
	JOURNAL_CLEAN = 0,	/* DB holds every journalled batch, synced */
	JOURNAL_DIRTY = 1,	/* DB may be torn: rebuild from base + journal */
	JOURNAL_BASELESS = 2,	/* new journal, no base yet: DB is the truth */
};

/* The journal is checkpointed once it grows past this many bytes. */
#define JOURNAL_CHECKPOINT_BYTES	(4u * 1024 * 1024)

/* Opens DB.journal (db_path absolute), creating it in the BASELESS state
 * if it does not exist, and locks it exclusively for the writer's life.
 * *ret_state says what the last writer left.  SAT_E_CONFLICT if another
 * writer holds it, SAT_E_STORE if the header does not decode.  The
 * caller frees with journal_close. */
int journal_open(const char *db_path, struct journal **ret,
    enum journal_state *ret_state);
void journal_close(struct journal *j);

/* Replaces DB by a copy of DB.base (owner and mode of the old DB kept),
 * durably (fsync of the file and the directory).  Call before the DB is
 * opened.  SAT_E_STORE if there is no base to restore. */
int journal_restore_base(struct journal *j);

/* Called for every entry of every complete batch, oldest first; val is
 * NULL for a deletion.  Borrowed views, valid during the call. */
typedef int (*journal_apply_fn)(void *arg, const void *key, size_t klen,
    const void *val, size_t vlen);
/* Replays the journal through fn.  A torn or corrupt batch ends the
 * replay: it was never acknowledged (its fdatasync had not returned). */
int journal_replay(struct journal *j, journal_apply_fn fn, void *arg);

/* A batch: journal_add each change (val NULL: delete), then
 * journal_write makes it durable (write + fdatasync).  journal_discard
 * drops a batch still being built.  journal_cancel takes back the last
 * written batch (truncate + fdatasync) when applying it failed.  When a
 * write, truncation or header update fails, the next call (write,
 * set_state, checkpoint, replay) first puts the file back as it should
 * be, and fails while it cannot: a batch taken back never returns. */
int journal_add(struct journal *j, const void *key, size_t klen,
    const void *val, size_t vlen);
int journal_write(struct journal *j);
void journal_discard(struct journal *j);
int journal_cancel(struct journal *j);

/* Records the state in the header, durably. */
int journal_set_state(struct journal *j, enum journal_state st);
enum journal_state journal_state(const struct journal *j);

/* Bytes of batches held (0 right after a checkpoint). */
uint64_t journal_size(const struct journal *j);

/* The caller has synced DB.  Copies DB to DB.base (tmp + rename +
 * directory fsync), then empties the journal and marks it CLEAN. */
int journal_checkpoint(struct journal *j);

#endif
