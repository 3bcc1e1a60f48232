/* satoken: the resident read view of the modules.
 *
 * A module that stays loaded keeps one open reader of the store between
 * checks instead of opening GDBM (and reading its key) at every login.
 * The view never answers from a stale state: at every view_begin it
 * takes the shared lock and compares the writer's generation counter
 * (DB.gen, bumped under the exclusive lock before every write) and the
 * identities of DB and DB.gen with what it saw when it opened; any
 * difference, or any doubt, reopens.  Up to four views per process,
 * each behind its own mutex, taken by the logins running at the same
 * time (a login on one thread never waits for another's lookups while
 * a view is free); a single-threaded process opens one.  A process
 * forked with a view opens its own. */
#ifndef SATOKEN_VIEW_H
#define SATOKEN_VIEW_H

#include "store.h"

/* On 0, *ret is a locked, current reader of path (borrowed) and the
 * caller must call view_end once done with it, from the same thread,
 * before its next view_begin.
 * SAT_E_STORE or SAT_E_NOMEM on failure (nothing to end). */
int view_begin(const char *path, unsigned lock_timeout_ms,
    struct store **ret);
/* Releases the shared lock; failed: the view is dropped, not reused.
 * SAT_E_STORE if the lock could not be released (the view is dropped
 * and the caller must refuse: nothing about this check is certain). */
int view_end(struct store *s, int failed);

/* Closes the view, so the next check opens the store afresh (tests use
 * it to drive the cold path; nothing else needs it). */
void view_reset(void);

#endif
