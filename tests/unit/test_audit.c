/* Audit lines: fixed order, escaping that cannot be forged, sinks. */
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "audit.h"
#include "fileio.h"

/* A stand-in for syslogd: a datagram socket bound at path. */
static int
log_receiver(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A file that takes only part of a line (a size limit, a full disk):
 * the write fails and the part is cut off again, so no partial line is
 * left for a reader to take as a record; the lines before it stay. */
static void
test_no_partial_line(void **state)
{
	char *dir = tu_tmpdir(), *path = tu_path(dir, "audit.log"), *spec;
	char big[1500];
	struct audit_event ev;
	struct audit *a = NULL;
	struct rlimit old, lim;
	struct stat st;
	off_t before;
	int r;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.action = "account.update";
	ev.outcome = "ok";
	ev.account = "ci";
	assert_true(asprintf(&spec, "file:%s", path) > 0);
	assert_int_equal(audit_open(spec, "unit", &a), 0);
	assert_int_equal(audit_emit(a, &ev), 0);
	assert_int_equal(stat(path, &st), 0);
	before = st.st_size;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ev.detail = big;
	/* room for part of the next line only */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)before + 200;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = audit_emit(a, &ev);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, SAT_E_IO);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, before);
	/* and once there is room again, whole lines as before */
	ev.detail = NULL;
	assert_int_equal(audit_emit(a, &ev), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, before * 2);
	audit_close(a);
	free(spec);
	free(path);
	tu_rmdir(dir);
}

/* The syslog sink is our own checked datagram to the syslog socket
 * (SATOKEN_SYSLOG_SOCKET here): RFC 3164 with LOG_AUTHPRIV, and an error
 * when nothing receives it, which syslog(3) could not tell. */
static void
test_syslog_sink_is_checked(void **state)
{
	char *dir = tu_tmpdir(), *sock = tu_path(dir, "log.sock"), buf[4096];
	struct audit_event ev;
	struct audit *a = NULL;
	ssize_t n;
	int rfd;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.action = "token.mint";
	ev.outcome = "ok";
	ev.account = "ci";
	assert_int_equal(setenv("SATOKEN_SYSLOG_SOCKET", sock, 1), 0);
	/* nothing listens: the line is lost, and says so */
	assert_int_equal(audit_open("syslog", "unit", &a), 0);
	assert_int_equal(audit_emit(a, &ev), SAT_E_IO);
	assert_int_equal(audit_emit_kept("syslog", "unit", &ev), SAT_E_IO);

	rfd = log_receiver(sock);
	assert_int_equal(audit_emit(a, &ev), 0);
	n = recv(rfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	/* <LOG_AUTHPRIV|LOG_INFO>Mmm dd hh:mm:ss unit[pid]: line */
	assert_true(strncmp(buf, "<86>", 4) == 0);
	assert_true(buf[7] == ' ' && buf[10] == ' ' && buf[13] == ':' &&
	    buf[16] == ':' && buf[19] == ' ');
	assert_non_null(strstr(buf, " unit["));
	assert_non_null(strstr(buf, "]: action=token.mint outcome=ok account=ci"));
	ev.outcome = "denied";
	assert_int_equal(audit_emit_kept("syslog", "unit", &ev), 0);
	n = recv(rfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(strncmp(buf, "<85>", 4) == 0);	/* LOG_NOTICE */

	/* the receiver goes away: refused again, both kinds */
	close(rfd);
	assert_int_equal(unlink(sock), 0);
	assert_int_equal(audit_emit(a, &ev), SAT_E_IO);
	assert_int_equal(audit_emit_kept("syslog", "unit", &ev), SAT_E_IO);
	/* and a new one (syslogd restarted) is found again */
	rfd = log_receiver(sock);
	assert_int_equal(audit_emit(a, &ev), 0);
	assert_int_equal(audit_emit_kept("syslog", "unit", &ev), 0);
	assert_true(recv(rfd, buf, sizeof(buf), MSG_DONTWAIT) > 0);
	assert_true(recv(rfd, buf, sizeof(buf), MSG_DONTWAIT) > 0);
	close(rfd);
	audit_close(a);
	audit_kept_close();
	unsetenv("SATOKEN_SYSLOG_SOCKET");
	free(sock);
	tu_rmdir(dir);
}

static void
test_format_order_and_skips(void **state)
{
	struct audit_event ev;
	char line[512];

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.action = "auth";
	ev.outcome = "denied";
	ev.reason = "revoked";
	ev.account = "ci";
	ev.token = "AbCdEf012345";
	ev.service = "imap";
	ev.rhost = "";
	audit_format(&ev, line, sizeof(line));
	assert_string_equal(line, "action=auth outcome=denied reason=revoked "
	    "account=ci token=AbCdEf012345 service=imap rhost=");
}

static void
test_escaping(void **state)
{
	char out[256];

	(void)state;
	audit_escape("plain-value_1.2", out, sizeof(out));
	assert_string_equal(out, "plain-value_1.2");
	audit_escape("two words", out, sizeof(out));
	assert_string_equal(out, "\"two words\"");
	audit_escape("a=b", out, sizeof(out));
	assert_string_equal(out, "\"a=b\"");
	audit_escape("say \"hi\"", out, sizeof(out));
	assert_string_equal(out, "\"say \\\"hi\\\"\"");
	audit_escape("back\\slash", out, sizeof(out));
	assert_string_equal(out, "\"back\\\\slash\"");
	audit_escape("line\nbreak\r\t", out, sizeof(out));
	assert_string_equal(out, "\"line\\x0abreak\\x0d\\x09\"");
	audit_escape("caf\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "\"caf\\xc3\\xa9\"");
	audit_escape("", out, sizeof(out));
	assert_string_equal(out, "");
	/* a tiny buffer never overflows and stays terminated */
	audit_escape("a long value with spaces", out, 8);
	assert_true(strlen(out) < 8);
}

/* Reads a line the way a log reader would: key=value pairs separated by
 * single spaces; a value in double quotes may hold anything escaped.
 * Returns how many times key occurs. */
static int
count_key(const char *line, const char *key)
{
	const char *p = line, *eq;
	int n = 0;

	while (*p != '\0') {
		eq = strchr(p, '=');
		assert_non_null(eq);
		if ((size_t)(eq - p) == strlen(key) &&
		    memcmp(p, key, strlen(key)) == 0)
			n++;
		p = eq + 1;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				assert_true(*p != '\0');
				if (*p == '\\')
					p++;
			}
			p++;
		} else {
			while (*p != ' ' && *p != '\0')
				p++;
		}
		assert_true(*p == ' ' || *p == '\0');
		if (*p == ' ')
			p++;
	}
	return n;
}

static void
test_hostile_value_cannot_forge(void **state)
{
	struct audit_event ev;
	char line[1024];

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.action = "auth";
	ev.outcome = "denied";
	ev.reason = "bad_secret";
	ev.account = "x outcome=ok reason=ok";
	ev.service = "sshd\naction=auth outcome=ok account=root";
	audit_format(&ev, line, sizeof(line));
	/* read back as a log reader would: one outcome, the real one */
	assert_null(strchr(line, '\n'));
	assert_int_equal(count_key(line, "outcome"), 1);
	assert_int_equal(count_key(line, "reason"), 1);
	assert_int_equal(count_key(line, "account"), 1);
	assert_non_null(strstr(line, " outcome=denied "));
	assert_non_null(strstr(line, "account=\"x outcome=ok reason=ok\""));
}

static void
test_file_sink(void **state)
{
	char *dir = tu_tmpdir(), *path = tu_path(dir, "audit.log"), *spec;
	struct audit *a = NULL;
	struct audit_event ev;
	char *text;
	size_t len;
	int fd;

	(void)state;
	assert_true(asprintf(&spec, "file:%s", path) > 0);
	assert_int_equal(audit_open(spec, "unit", &a), 0);
	memset(&ev, 0, sizeof(ev));
	ev.action = "token.mint";
	ev.outcome = "ok";
	ev.account = "ci";
	assert_int_equal(audit_emit(a, &ev), 0);
	ev.outcome = "denied";
	assert_int_equal(audit_emit(a, &ev), 0);
	audit_close(a);
	assert_int_equal(fileio_open(path, O_RDONLY, 0, FILEIO_REGULAR, &fd), 0);
	assert_int_equal(fileio_slurp(fd, 65536, &text, &len), 0);
	close(fd);
	assert_non_null(strstr(text, " unit["));
	assert_non_null(strstr(text, "]: action=token.mint outcome=ok account=ci\n"));
	assert_non_null(strstr(text, "]: action=token.mint outcome=denied account=ci\n"));
	free(text);
	free(spec);

	/* a symlink in place of the log is refused */
	{
		char *link = tu_path(dir, "link.log");
		assert_int_equal(symlink(path, link), 0);
		assert_true(asprintf(&spec, "file:%s", link) > 0);
		assert_int_not_equal(audit_open(spec, "unit", &a), 0);
		free(spec);
		free(link);
	}
	assert_int_equal(audit_open("journal", "unit", &a), SAT_E_CONFIG);
	assert_int_equal(audit_open("syslog", "unit", &a), 0);
	audit_close(a);
	free(path);
	tu_rmdir(dir);
}

static char *
slurp(const char *path)
{
	char *text = NULL;
	size_t len;
	int fd;

	assert_int_equal(fileio_open(path, O_RDONLY, 0, FILEIO_REGULAR, &fd), 0);
	assert_int_equal(fileio_slurp(fd, 65536, &text, &len), 0);
	close(fd);
	return text;
}

/* The modules' kept audit file: rotated (renamed), removed or made
 * group-writable, the next line goes to the file the path now names,
 * or is refused. */
static void
test_kept_file_follows_rotation(void **state)
{
	char *dir = tu_tmpdir(), *path = tu_path(dir, "audit.log");
	char *old = tu_path(dir, "audit.log.1"), *spec, *text;
	struct audit_event ev;

	(void)state;
	assert_true(asprintf(&spec, "file:%s", path) > 0);
	memset(&ev, 0, sizeof(ev));
	ev.action = "auth";
	ev.outcome = "ok";
	ev.account = "first";
	assert_int_equal(audit_emit_kept(spec, "unit", &ev), 0);
	ev.account = "second";
	assert_int_equal(audit_emit_kept(spec, "unit", &ev), 0);
	assert_int_equal(rename(path, old), 0);
	ev.account = "third";
	assert_int_equal(audit_emit_kept(spec, "unit", &ev), 0);
	text = slurp(old);
	assert_non_null(strstr(text, "account=first\n"));
	assert_non_null(strstr(text, "account=second\n"));
	assert_null(strstr(text, "account=third"));
	free(text);
	text = slurp(path);
	assert_non_null(strstr(text, "account=third\n"));
	free(text);

	assert_int_equal(unlink(path), 0);
	ev.account = "fourth";
	assert_int_equal(audit_emit_kept(spec, "unit", &ev), 0);
	text = slurp(path);
	assert_string_equal(strstr(text, "action="), "action=auth outcome=ok "
	    "account=fourth\n");
	free(text);

	/* made writable by others while open: refused, as at open */
	assert_int_equal(chmod(path, 0620), 0);
	ev.account = "fifth";
	assert_int_not_equal(audit_emit_kept(spec, "unit", &ev), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(audit_emit_kept(spec, "unit", &ev), 0);
	text = slurp(path);
	assert_non_null(strstr(text, "account=fifth\n"));
	free(text);

	audit_kept_close();
	free(spec);
	free(old);
	free(path);
	tu_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_order_and_skips),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_hostile_value_cannot_forge),
		cmocka_unit_test(test_file_sink),
		cmocka_unit_test(test_kept_file_follows_rotation),
		cmocka_unit_test(test_no_partial_line),
		cmocka_unit_test(test_syslog_sink_is_checked),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
