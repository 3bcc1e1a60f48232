/* satoken: a few mutexes handed out first-free, for the state a module
 * keeps for the logins running at the same time (view.c: store views;
 * token.c: keyed HMAC contexts).  A caller takes the first that is
 * free; when all are busy it waits on one, spread round so that the
 * waiters do not all pile onto the same one. */
#ifndef SATOKEN_LOCKPOOL_H
#define SATOKEN_LOCKPOOL_H

#include <pthread.h>
#include <stdatomic.h>

#define LOCKPOOL_MAX	8

struct lockpool {
	pthread_mutex_t lock[LOCKPOOL_MAX];
	unsigned n;			/* how many are in use, <= LOCKPOOL_MAX */
	atomic_uint next_wait;
};

#define LOCKPOOL_INIT(count) { \
	.lock = { [0 ... LOCKPOOL_MAX - 1] = PTHREAD_MUTEX_INITIALIZER }, \
	.n = (count), \
}

/* The index of a lock now held by the caller. */
unsigned lockpool_take(struct lockpool *p);

#endif
