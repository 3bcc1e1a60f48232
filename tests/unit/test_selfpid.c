/* The kept pid: a child, however it was made, gets its own, or the
 * store view would read through its parent's file offsets. */
#include "testutil.h"

#include <sys/wait.h>
#include <unistd.h>

#include "selfpid.h"

/* 0 when the child's self_pid() is its own getpid() */
static int
child_sees_itself(pid_t (*make)(void))
{
	pid_t parent = self_pid(), child;
	int st;

	if ((child = make()) < 0)
		return -1;
	if (child == 0)
		_exit(self_pid() == getpid() && self_pid() != parent ? 0 : 1);
	if (waitpid(child, &st, 0) != child)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void
test_kept(void **state)
{
	(void)state;
	assert_true(self_pid() == getpid());
	assert_true(self_pid() == getpid());
}

static void
test_fork(void **state)
{
	(void)state;
	assert_int_equal(child_sees_itself(fork), 0);
}

/* _Fork runs no atfork handler: the page itself must tell */
static void
test_bare_fork(void **state)
{
	(void)state;
	assert_int_equal(child_sees_itself(_Fork), 0);
	assert_true(self_pid() == getpid());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_bare_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
