/* satoken: the resident read view of the modules.
 *
 * A module that stays loaded keeps one open reader of the store between
 * checks instead of opening GDBM (and reading its key) at every login.
 * The view never answers from a stale state.  The writer's counter
 * DB.gen is odd while it writes and higher after every write and every
 * writer start (storefile.h); at view_begin a view whose counter moved is
 * reopened, under the shared lock, and at view_end a check whose reads
 * a write overlapped is thrown away and done again (VIEW_RETRY).  A
 * login on a current view thus takes no lock and makes three small
 * system calls, and the daemon never waits for it.  Up to four views
 * per process, each behind its own mutex, taken by the logins running
 * at the same time (a login on one thread never waits for another's
 * lookups while a view is free); a single-threaded process opens one.
 * A process forked with a view opens its own. */
#ifndef SATOKEN_VIEW_H
#define SATOKEN_VIEW_H

#include "store.h"

/* On 0, *ret is a current reader of path (borrowed) and the caller
 * must call view_end once done with it, from the same thread, before
 * its next view_begin.
 * SAT_E_STORE or SAT_E_NOMEM on failure (nothing to end). */
int view_begin(const char *path, unsigned lock_timeout_ms,
    struct store **ret);
/* Ends the check; failed: the view is dropped, not reused.  Returns 0
 * and sets *ret_retry to 0 when what the caller read is whole, to 1
 * when a write began while it read (the view is dropped: discard the
 * result and check again, which opens a new view under the lock);
 * SAT_E_STORE when nothing about this check is certain (the caller must
 * refuse). */
int view_end(struct store *s, int failed, int *ret_retry);

/* Closes the view, so the next check opens the store afresh (tests use
 * it to drive the cold path; nothing else needs it). */
void view_reset(void);

#endif
