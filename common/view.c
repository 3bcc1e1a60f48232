#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "lockpool.h"
#include "selfpid.h"
#include "storefile.h"
#include "view.h"

/* The state a module keeps between logins (DESIGN: a cached view of
 * the store, guarded by a lock): a few views, each behind its own lock,
 * so that logins on several threads do not queue behind one another's
 * lookups (and the decision's constant-time padding).  A process that
 * logs in from one thread at a time only ever opens the first.  Every
 * field of a slot is read and written with its lock held. */
#define VIEW_SLOTS	4

struct view_slot {
	struct store *store;
	char path[4096];
	unsigned timeout;
	pid_t pid;
};

/* slot i is guarded by view_locks.lock[i] */
static struct view_slot slots[VIEW_SLOTS];
static struct lockpool view_locks = LOCKPOOL_INIT(VIEW_SLOTS);
_Static_assert(VIEW_SLOTS <= LOCKPOOL_MAX, "a lock for every view");
/* the slot this thread holds between view_begin and view_end */
static __thread struct view_slot *held;

static pthread_mutex_t *
lock_of(const struct view_slot *v)
{
	return &view_locks.lock[v - slots];
}

static void
drop(struct view_slot *v)
{
	store_close(v->store);
	v->store = NULL;
}

int
view_begin(const char *path, unsigned lock_timeout_ms, struct store **ret)
{
	struct view_slot *v;
	int r, stale = 1;

	if (strlen(path) >= sizeof(slots[0].path))
		return SAT_E_STORE;
	v = &slots[lockpool_take(&view_locks)];
	/* a forked child shares the parent's open file descriptions: the
	 * file offset GDBM seeks and reads at, and a lock taken to open;
	 * it must neither move the one nor drop the other under the
	 * parent's feet */
	if (v->store != NULL && v->pid != self_pid())
		drop(v);
	if (v->store != NULL && strcmp(v->path, path) == 0 &&
	    v->timeout == lock_timeout_ms) {
		if ((r = store_reader_resume(v->store, &stale)) == 0 &&
		    !stale) {
			held = v;
			*ret = v->store;
			return 0;	/* the slot stays held until view_end */
		}
		/* stale or unreadable: never read through it */
		drop(v);
		if (r != 0) {
			pthread_mutex_unlock(lock_of(v));
			return storefile_err(r);
		}
	} else if (v->store != NULL) {
		drop(v);
	}
	if ((r = store_open_reader(path, lock_timeout_ms, &v->store)) != 0) {
		v->store = NULL;
		pthread_mutex_unlock(lock_of(v));
		return r;
	}
	strcpy(v->path, path);
	v->timeout = lock_timeout_ms;
	v->pid = self_pid();
	held = v;
	*ret = v->store;
	return 0;
}

int
view_end(struct store *s, int failed, int *ret_retry)
{
	struct view_slot *v = held;
	int r, torn = 0;

	if (v == NULL || v->store != s)
		return SAT_E_INTERNAL;	/* not a view this thread began */
	held = NULL;
	/* asked even when the check failed: a lookup that failed because
	 * a write tore what it read is retried, not refused */
	if ((r = store_reader_pause(s, &torn)) != 0)
		r = SAT_E_STORE;
	if (r != 0 || torn || failed)
		drop(v);
	pthread_mutex_unlock(lock_of(v));
	if (r == 0)
		*ret_retry = torn;
	return r;
}

void
view_reset(void)
{
	unsigned i;

	for (i = 0; i < VIEW_SLOTS; i++) {
		pthread_mutex_lock(&view_locks.lock[i]);
		drop(&slots[i]);
		pthread_mutex_unlock(&view_locks.lock[i]);
	}
}

/* When the module is unloaded (a build without -z nodelete, or the
 * process exiting), close the views rather than leave their descriptors
 * and memory behind.  trylock: never wait at exit on a thread mid-check. */
__attribute__((destructor)) static void
view_unload(void)
{
	unsigned i;

	for (i = 0; i < VIEW_SLOTS; i++) {
		if (pthread_mutex_trylock(&view_locks.lock[i]) != 0)
			continue;
		drop(&slots[i]);
		pthread_mutex_unlock(&view_locks.lock[i]);
	}
}
