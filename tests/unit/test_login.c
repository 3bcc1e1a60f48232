/* One module login: decision, audit line, failing closed. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "config.h"
#include "fileio.h"
#include "login.h"

struct fx {
	char *dir, *db, *log;
	struct sat_config cfg;
	char tok[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *ci[] = { "ci", NULL };
	char err[SAT_ERRMSG_MAX], *spec;
	struct store *w;

	f->dir = tu_tmpdir();
	f->db = tu_path(f->dir, "satoken.db");
	f->log = tu_path(f->dir, "audit.log");
	assert_int_equal(cfg_init(&f->cfg), 0);
	assert_int_equal(cfg_set(&f->cfg, "database", f->db, err, sizeof(err)), 0);
	assert_true(asprintf(&spec, "file:%s", f->log) > 0);
	assert_int_equal(cfg_set(&f->cfg, "audit", spec, err, sizeof(err)), 0);
	free(spec);
	assert_int_equal(cfg_set(&f->cfg, "lock_timeout_ms", "100", err,
	    sizeof(err)), 0);
	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	tu_put_group(w, "ci");
	tu_put_policy(w, ci);
	tu_put_account(w, "svc", ci, 1, 0, (int64_t)time(NULL));
	tu_mint(w, "svc", "t", (int64_t)time(NULL) + 600, NULL, NULL, f->tok, f->id);
	assert_int_equal(store_commit(w), 0);
	store_close(w);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cfg_free(&f->cfg);
	free(f->db);
	free(f->log);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static char *
read_log(struct fx *f)
{
	char *text;
	size_t len;
	int fd;

	assert_int_equal(fileio_open(f->log, O_RDONLY, 0, FILEIO_REGULAR, &fd), 0);
	assert_int_equal(fileio_slurp(fd, 1 << 20, &text, &len), 0);
	close(fd);
	return text;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static int
login(struct fx *f, const char *tok, const char *account,
    struct verify_result *res)
{
	struct login_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.token = tok;
	rq.token_len = strlen(tok);
	rq.account = account;
	rq.service = "sshd";
	rq.rhost = "192.0.2.9";
	rq.ident = "unit";
	return login_check(&f->cfg, &rq, res);
}

static void
test_ok_and_refusals_audited_once_each(void **state)
{
	struct fx *f = *state;
	struct verify_result res;
	char *log;

	assert_int_equal(login(f, f->tok, "svc", &res), 0);
	assert_int_equal(res.reason, VERIFY_OK);
	assert_int_equal(login(f, "correct horse battery staple", "svc", &res), 0);
	assert_int_equal(res.reason, VERIFY_MALFORMED);
	assert_int_equal(login(f, f->tok, "other", &res), 0);
	assert_int_equal(res.reason, VERIFY_WRONG_ACCOUNT);
	log = read_log(f);
	assert_int_equal(count_lines(log), 3);
	assert_non_null(strstr(log, "action=auth outcome=ok reason=ok account=svc token="));
	assert_non_null(strstr(log, f->id));
	assert_non_null(strstr(log, "service=sshd rhost=192.0.2.9"));
	assert_non_null(strstr(log, "outcome=denied reason=malformed account=svc service=sshd"));
	assert_non_null(strstr(log, "outcome=denied reason=wrong_account"));
	/* no secret, whole or in part */
	assert_null(strstr(log, f->tok + 4 + TOKEN_ID_LEN));
	assert_null(strstr(log, "horse"));
	free(log);
}

static void
test_store_missing_is_an_error_not_a_refusal(void **state)
{
	struct fx *f = *state;
	struct verify_result res;
	char *log;

	assert_int_equal(unlink(f->db), 0);
	assert_int_equal(login(f, f->tok, "svc", &res), SAT_E_STORE);
	assert_int_not_equal(res.reason, VERIFY_OK);
	/* a password that is not a token is decided without the store */
	assert_int_equal(login(f, "a unix password", "alice", &res), 0);
	assert_int_equal(res.reason, VERIFY_MALFORMED);
	log = read_log(f);
	assert_non_null(strstr(log, "outcome=error reason=store_unavailable"));
	assert_non_null(strstr(log, "outcome=denied reason=malformed account=alice"));
	free(log);
}

static void
test_unauditable_ok_is_refused(void **state)
{
	struct fx *f = *state;
	struct verify_result res;
	char err[SAT_ERRMSG_MAX];

	/* a directory where the log should be: nothing can be written */
	assert_int_equal(mkdir(f->log, 0700), 0);
	assert_int_equal(login(f, f->tok, "svc", &res), SAT_E_IO);
	assert_int_not_equal(res.reason, VERIFY_OK);
	/* a refusal that cannot be audited stays a refusal */
	assert_int_equal(login(f, "nope", "svc", &res), 0);
	assert_int_equal(res.reason, VERIFY_MALFORMED);
	/* syslog with nothing at its socket: as refused as a file */
	assert_int_equal(rmdir(f->log), 0);
	assert_int_equal(setenv("SATOKEN_SYSLOG_SOCKET", f->log, 1), 0);
	assert_int_equal(cfg_set(&f->cfg, "audit", "syslog", err, sizeof(err)), 0);
	assert_int_equal(login(f, f->tok, "svc", &res), SAT_E_IO);
	assert_int_not_equal(res.reason, VERIFY_OK);
	unsetenv("SATOKEN_SYSLOG_SOCKET");
}

static void
test_account_phase(void **state)
{
	struct fx *f = *state;
	enum verify_reason why;
	char *log;

	assert_int_equal(login_check_account(&f->cfg, "svc", "sshd", NULL, "unit",
	    &why), 0);
	assert_int_equal(why, VERIFY_OK);
	assert_int_equal(login_check_account(&f->cfg, "root", "sshd", NULL, "unit",
	    &why), 0);
	assert_int_equal(why, VERIFY_UNKNOWN_ACCOUNT);
	log = read_log(f);
	assert_non_null(strstr(log, "action=account outcome=ok reason=ok account=svc"));
	assert_non_null(strstr(log, "action=account outcome=denied reason=unknown_account account=root"));
	free(log);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ok_and_refusals_audited_once_each),
		T(test_store_missing_is_an_error_not_a_refusal),
		T(test_unauditable_ok_is_refused),
		T(test_account_phase),
	};

	return cmocka_run_group_tests_name("login", tests, NULL, NULL);
}
