#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "view.h"

/* The one piece of state a module keeps between logins (DESIGN: a cached
 * view of the store, guarded by a lock).  Every field is read and
 * written with lock held. */
static struct {
	pthread_mutex_t lock;
	struct store *store;
	char path[4096];
	unsigned timeout;
	pid_t pid;
} view_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
drop(void)
{
	store_close(view_state.store);
	view_state.store = NULL;
}

int
view_begin(const char *path, unsigned lock_timeout_ms, struct store **ret)
{
	int r;

	if (strlen(path) >= sizeof(view_state.path))
		return SAT_E_STORE;
	pthread_mutex_lock(&view_state.lock);
	/* a forked child shares the parent's open file description, and
	 * so its flock: it must not unlock under the parent's feet */
	if (view_state.store != NULL && view_state.pid != getpid())
		drop();
	if (view_state.store != NULL &&
	    strcmp(view_state.path, path) == 0 &&
	    view_state.timeout == lock_timeout_ms) {
		if ((r = store_reader_resume(view_state.store)) == 0) {
			*ret = view_state.store;
			return 0;	/* the mutex stays held until view_end */
		}
		/* stale (1) or no lock (< 0): never read through it */
		drop();
		if (r < 0) {
			pthread_mutex_unlock(&view_state.lock);
			return r == SAT_E_NOMEM ? r : SAT_E_STORE;
		}
	} else if (view_state.store != NULL) {
		drop();
	}
	if ((r = store_open_reader(path, lock_timeout_ms,
	    &view_state.store)) != 0) {
		view_state.store = NULL;
		pthread_mutex_unlock(&view_state.lock);
		return r;
	}
	strcpy(view_state.path, path);
	view_state.timeout = lock_timeout_ms;
	view_state.pid = getpid();
	*ret = view_state.store;
	return 0;
}

int
view_end(struct store *s, int failed)
{
	int r = 0;

	if (!failed && (r = store_reader_pause(s)) != 0)
		failed = 1;
	if (failed)
		drop();
	pthread_mutex_unlock(&view_state.lock);
	return r;
}

void
view_reset(void)
{
	pthread_mutex_lock(&view_state.lock);
	drop();
	pthread_mutex_unlock(&view_state.lock);
}

/* When the module is unloaded (a build without -z nodelete, or the
 * process exiting), close the view rather than leave its descriptors and
 * memory behind.  trylock: never wait at exit on a thread mid-check. */
__attribute__((destructor)) static void
view_unload(void)
{
	if (pthread_mutex_trylock(&view_state.lock) != 0)
		return;
	drop();
	pthread_mutex_unlock(&view_state.lock);
}
