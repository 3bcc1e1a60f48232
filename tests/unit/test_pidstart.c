/* Which process a pid names: the start time from /proc/PID/stat, and
 * the comparison that tells a recycled pid from its first process. */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidstart.h"

static void
test_parse(void **state)
{
	/* a name with spaces and parentheses: only the last ')' ends it */
	const char *s = "4242 (a) (b c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
	    "1 2 0 0 20 0 1 0 987654321 1000 10 18446744073709551615";
	uint64_t v = 0;

	(void)state;
	assert_int_equal(pidstart_parse(s, strlen(s), &v), 0);
	assert_true(v == 987654321);
	/* cut before field 22 ends, no ')' at all, a field that is no number */
	assert_int_equal(pidstart_parse(s, (size_t)(strstr(s, "987654321") -
	    s) + 5, &v), SAT_E_MALFORMED);
	assert_int_equal(pidstart_parse("4242 x S 1", 10, &v), SAT_E_MALFORMED);
	s = "1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12x 1000 10";
	assert_int_equal(pidstart_parse(s, strlen(s), &v), SAT_E_MALFORMED);
}

static void
test_same_process(void **state)
{
	uint64_t start;
	uid_t uid;
	pid_t child;
	int st;

	(void)state;
	assert_int_equal(pidstart_read((uint32_t)getpid(), &start, &uid), 0);
	assert_true(uid == getuid());
	assert_int_equal(pidstart_same((uint32_t)getpid(), start), 1);
	/* the same pid with another start time: a recycled pid, not ours */
	assert_int_equal(pidstart_same((uint32_t)getpid(), start + 1), 0);
	assert_int_equal(pidstart_same((uint32_t)getpid(), start - 1), 0);

	/* a process that exited is gone, whatever its start time was */
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(pidstart_read((uint32_t)child, &start, &uid), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_int_equal(pidstart_same((uint32_t)child, start), 0);
	assert_int_equal(pidstart_read(0, &start, &uid), SAT_E_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_same_process),
	};

	return cmocka_run_group_tests_name("pidstart", tests, NULL, NULL);
}
