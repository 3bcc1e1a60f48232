/* The first free lock is taken; with every lock busy, a taker waits. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>

#include "lockpool.h"

static void
test_first_free_is_taken(void **state)
{
	struct lockpool p = LOCKPOOL_INIT(3);

	assert_int_equal(lockpool_take(&p), 0);
	assert_int_equal(lockpool_take(&p), 1);
	pthread_mutex_unlock(&p.lock[0]);
	assert_int_equal(lockpool_take(&p), 0);
	assert_int_equal(lockpool_take(&p), 2);
	pthread_mutex_unlock(&p.lock[0]);
	pthread_mutex_unlock(&p.lock[1]);
	pthread_mutex_unlock(&p.lock[2]);
}

struct waiter {
	struct lockpool *p;
	atomic_int got;
};

static void *
take_one(void *arg)
{
	struct waiter *w = arg;
	unsigned i = lockpool_take(w->p);

	atomic_store(&w->got, 1);
	pthread_mutex_unlock(&w->p->lock[i]);
	return NULL;
}

static void
test_all_busy_waits_for_a_release(void **state)
{
	struct lockpool p = LOCKPOOL_INIT(2);
	struct waiter w = { &p, 0 };
	pthread_t th;

	assert_int_equal(lockpool_take(&p), 0);
	assert_int_equal(lockpool_take(&p), 1);
	assert_int_equal(pthread_create(&th, NULL, take_one, &w), 0);
	usleep(50 * 1000);
	assert_int_equal(atomic_load(&w.got), 0);
	pthread_mutex_unlock(&p.lock[0]);
	pthread_mutex_unlock(&p.lock[1]);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&w.got), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_free_is_taken),
		cmocka_unit_test(test_all_busy_waits_for_a_release),
	};

	return cmocka_run_group_tests_name("lockpool", tests, NULL, NULL);
}
