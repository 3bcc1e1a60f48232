/* Last-use datagrams: what a module formats parses back; whatever a
 * local sender makes up is refused or carried harmlessly. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "usage.h"

static void
test_round_trip(void **state)
{
	char m[USAGE_MSG_MAX];
	struct usage_report r;
	size_t n;

	(void)state;
	n = usage_format(m, "AbCdEf012345", 1763900000, "imap", "2001:db8::1",
	    "ok");
	assert_true(n > 0);
	assert_int_equal(usage_parse(m, n, &r), 0);
	assert_string_equal(r.id, "AbCdEf012345");
	assert_int_equal(r.at, 1763900000);
	assert_string_equal(r.service, "imap");
	assert_string_equal(r.rhost, "2001:db8::1");
	assert_string_equal(r.reason, "ok");
	/* a refusal without a token id (not a token at all) */
	n = usage_format(m, NULL, 5, "imap", NULL, "malformed");
	assert_int_equal(usage_parse(m, n, &r), 0);
	assert_string_equal(r.id, "");
	assert_string_equal(r.reason, "malformed");
	/* but never an ok without one, nor a reason that is not a word */
	assert_int_equal(usage_format(m, NULL, 5, "x", "y", "ok"), 0);
	assert_int_equal(usage_format(m, "AbCdEf012345", 5, "x", "y", "o k"), 0);
	/* empty and unsendable fields travel as "-" and come back empty */
	n = usage_format(m, "AbCdEf012345", 5, NULL, "a b", "ok");
	assert_int_equal(usage_parse(m, n, &r), 0);
	assert_string_equal(r.service, "");
	assert_string_equal(r.rhost, "");
	/* no report for what is not a token id or a time */
	assert_int_equal(usage_format(m, "sat_AbCdEf012345", 5, "x", "y", "ok"), 0);
	assert_int_equal(usage_format(m, "AbCdEf012345", 0, "x", "y", "ok"), 0);
}

static void
test_hostile_refused(void **state)
{
	static const char *bad[] = {
		"", "satu1", "satu2 AbCdEf012345 5 - - ok",
		"satu1 AbCdEf01234 5 - - ok", "satu1 AbCdEf012345 0 - - ok",
		"satu1 AbCdEf012345 -5 - - ok", "satu1 AbCdEf012345 5x - - ok",
		"satu1 AbCdEf012345 5 bad/svc - ok",
		"satu1 AbCdEf012345 5 - - ok\n", "satu1 AbCdEf012345 5 - - ok x",
		"satu1 AbCdEf012345 5  - ok", "satu1 AbCdEf012345 5 - \x01 ok",
		"satu1 AbCdEf012345 5 - -", "satu1 - 5 - - ok",
		"satu1 AbCdEf012345 5 - - OK",
	};
	struct usage_report r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(usage_parse(bad[i], strlen(bad[i]), &r),
		    SAT_E_MALFORMED);
	assert_int_equal(usage_parse(NULL, 0, &r), SAT_E_MALFORMED);
}

/* A missing socket, and one whose queue is full, cost the sender
 * nothing and leave its errno alone. */
static void
test_send_never_blocks(void **state)
{
	char dir[] = "/tmp/test_usage.XXXXXX", path[128];
	struct sockaddr_un sa;
	int fd, i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/u.sock", dir);
	errno = 1234;
	usage_send(path, "AbCdEf012345", 5, "x", "y", "ok");
	assert_int_equal(errno, 1234);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* nobody reads: past the queue's length every send would block */
	for (i = 0; i < 2000; i++)
		usage_send(path, "AbCdEf012345", 5, "x", "y", "ok");
	assert_int_equal(errno, 1234);
	usage_send(NULL, "AbCdEf012345", 5, "x", "y", "ok");
	close(fd);
	unlink(path);
	rmdir(dir);
}

static int
listen_dgram(const char *path)
{
	struct sockaddr_un sa;
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	return fd;
}

/* the report received on fd names this token id */
static void
assert_received(int fd, const char *id)
{
	struct usage_report r;
	char m[USAGE_MSG_MAX];
	ssize_t n = recv(fd, m, sizeof(m), 0);

	assert_true(n > 0);
	assert_int_equal(usage_parse(m, (size_t)n, &r), 0);
	assert_string_equal(r.id, id);
}

/* The sender keeps its socket between reports: a daemon that restarts
 * (a new socket at the same path) still gets them, and a host program
 * that closed every descriptor and reused the kept one's number for a
 * file of its own never has a report written into that file. */
static void
test_kept_socket(void **state)
{
	char dir[] = "/tmp/test_usage.XXXXXX", path[128], file[160];
	struct stat st;
	int fd, f, i, moved, pair[4][2];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/u.sock", dir);
	snprintf(file, sizeof(file), "%s/host-file", dir);
	fd = listen_dgram(path);
	usage_send(path, "AAAAAAAAAAA1", 5, "x", "-", "ok");
	assert_received(fd, "AAAAAAAAAAA1");
	/* satokend restarted: its old socket is gone, a new one bound */
	close(fd);
	fd = listen_dgram(path);
	usage_send(path, "AAAAAAAAAAA2", 5, "x", "-", "ok");
	assert_received(fd, "AAAAAAAAAAA2");
	/* closefrom(3) but for our listener, moved out of the way first */
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 200);
	assert_true(moved >= 200);
	for (i = 3; i < 200; i++)
		close(i);
	fd = moved;
	/* the host's connections and files take the lowest numbers, the
	 * kept one's among them */
	for (i = 0; i < 4; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC,
		    0, pair[i]), 0);
		f = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		assert_true(f >= 0);
	}
	usage_send(path, "AAAAAAAAAAA3", 5, "x", "-", "ok");
	assert_received(fd, "AAAAAAAAAAA3");
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 0);
	for (i = 0; i < 4; i++) {
		char m[USAGE_MSG_MAX];

		assert_int_equal(recv(pair[i][0], m, sizeof(m), MSG_DONTWAIT), -1);
		assert_int_equal(recv(pair[i][1], m, sizeof(m), MSG_DONTWAIT), -1);
	}
	for (i = 3; i < 200; i++)
		close(i);
	close(fd);
	unlink(file);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile_refused),
		cmocka_unit_test(test_send_never_blocks),
		cmocka_unit_test(test_kept_socket),
	};

	return cmocka_run_group_tests_name("usage", tests, NULL, NULL);
}
