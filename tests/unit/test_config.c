/* satoken.conf: defaults, every key, errors that name the line. */
#include "testutil.h"

#include <sys/stat.h>

#include "config.h"

static void
test_defaults(void **state)
{
	struct sat_config c;

	(void)state;
	assert_int_equal(cfg_init(&c), 0);
	assert_string_equal(c.database, "/var/lib/satoken/satoken.db");
	assert_int_equal(c.audit_reads, 0);
	assert_int_equal(c.allow_system_names.n, 0);
	assert_string_equal(c.socket, "/run/satoken/satokend.sock");
	assert_int_equal(c.max_ttl, 2592000);
	assert_int_equal(c.default_ttl, 2592000);
	assert_int_equal(c.max_tokens_per_account, 100);
	assert_int_equal(c.max_accounts, 10000);
	assert_int_equal(c.rate_limit, 50);
	assert_int_equal(c.max_days_valid, 730);
	assert_string_equal(c.audit, "syslog");
	cfg_free(&c);
	cfg_free(NULL);
}

static void
test_every_key(void **state)
{
	static const char text[] =
	    "# a comment\n"
	    "\n"
	    "database = /srv/st/db   # trailing comment\n"
	    "socket=/srv/st/sock\n"
	    "  admin_groups = wheel, sudo\n"
	    "admin_users = alice,1000\n"
	    "contributor_groups = devs\n"
	    "max_ttl = 90d\n"
	    "default_ttl = 12h\n"
	    "max_days_valid = 365\n"
	    "max_tokens_per_account = 5\n"
	    "max_accounts = 20\n"
	    "rate_limit = 0\n"
	    "lock_timeout_ms = 250\n"
	    "retain_days = 7\n"
	    "allow_system_names = daemon, www-data\n"
	    "audit_reads = yes\n"
	    "audit = file:/var/log/satoken.audit\r\n";
	char err[SAT_ERRMSG_MAX] = "";
	struct sat_config c;

	(void)state;
	assert_int_equal(cfg_init(&c), 0);
	assert_int_equal(cfg_parse(&c, text, strlen(text), "t.conf", err,
	    sizeof(err)), 0);
	assert_string_equal(c.database, "/srv/st/db");
	assert_string_equal(c.socket, "/srv/st/sock");
	assert_int_equal(c.admin_groups.n, 2);
	assert_string_equal(c.admin_groups.v[1], "sudo");
	assert_string_equal(c.admin_users.v[1], "1000");
	assert_string_equal(c.contributor_groups.v[0], "devs");
	assert_int_equal(c.max_ttl, 90 * 86400);
	assert_int_equal(c.default_ttl, 12 * 3600);
	assert_int_equal(c.max_days_valid, 365);
	assert_int_equal(c.max_tokens_per_account, 5);
	assert_int_equal(c.max_accounts, 20);
	assert_int_equal(c.rate_limit, 0);
	assert_int_equal(c.lock_timeout_ms, 250);
	assert_int_equal(c.retain_days, 7);
	assert_int_equal(c.allow_system_names.n, 2);
	assert_string_equal(c.allow_system_names.v[1], "www-data");
	assert_int_equal(c.audit_reads, 1);
	assert_string_equal(c.audit, "file:/var/log/satoken.audit");
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
	cfg_free(&c);
}

static void
expect_error(const char *text, const char *want)
{
	char err[SAT_ERRMSG_MAX] = "";
	struct sat_config c;

	assert_int_equal(cfg_init(&c), 0);
	assert_int_equal(cfg_parse(&c, text, strlen(text), "s.conf", err,
	    sizeof(err)), SAT_E_CONFIG);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err, want);
	cfg_free(&c);
}

static void
test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("database = /a\nmax_tll = 5\n", "s.conf:2: unknown key 'max_tll'");
	expect_error("\n\n\nmax_ttl = 5x\n", "s.conf:4: max_ttl: expected a duration");
	expect_error("max_ttl = -5\n", "s.conf:1:");
	expect_error("max_ttl = 0\n", "s.conf:1:");
	expect_error("max_ttl\n", "s.conf:1: expected 'key = value'");
	expect_error("= 5\n", "s.conf:1: missing key");
	expect_error("database = relative/path\n", "s.conf:1: database: expected an absolute path");
	expect_error("audit = file:relative\n", "s.conf:1: audit:");
	expect_error("audit = journald\n", "s.conf:1: audit:");
	expect_error("admin_groups = Wheel\n", "s.conf:1: admin_groups:");
	expect_error("admin_users = alice, -1\n", "s.conf:1: admin_users:");
	expect_error("max_days_valid = 731\n", "s.conf:1: max_days_valid:");
	expect_error("rate_limit = 1e3\n", "s.conf:1: rate_limit:");
	expect_error("lock_timeout_ms = 0\n", "s.conf:1: lock_timeout_ms:");
	expect_error("retain_days = 007\n", "s.conf:1: retain_days:");
	expect_error("max_accounts = 99999999999999999999999\n", "s.conf:1:");
	expect_error("audit_reads = true\n", "s.conf:1: audit_reads: expected yes or no");
	expect_error("allow_system_names = Root\n", "s.conf:1: allow_system_names:");
}

static void
test_error_changes_nothing_after_it(void **state)
{
	char err[SAT_ERRMSG_MAX];
	struct sat_config c;
	static const char text[] = "max_ttl = 1d\nbogus = 1\nrate_limit = 7\n";

	(void)state;
	assert_int_equal(cfg_init(&c), 0);
	assert_int_equal(cfg_parse(&c, text, strlen(text), "x", err, sizeof(err)),
	    SAT_E_CONFIG);
	assert_int_equal(c.rate_limit, 50);
	cfg_free(&c);
}

static void
test_set_arg_and_check(void **state)
{
	char err[SAT_ERRMSG_MAX];
	struct sat_config c;

	(void)state;
	assert_int_equal(cfg_init(&c), 0);
	assert_int_equal(cfg_set_arg(&c, "database=/tmp/x.db", err, sizeof(err)), 0);
	assert_string_equal(c.database, "/tmp/x.db");
	assert_int_equal(cfg_set_arg(&c, "nonsense", err, sizeof(err)), SAT_E_CONFIG);
	assert_non_null(strstr(err, "expected key=value"));
	assert_int_equal(cfg_set_arg(&c, "=x", err, sizeof(err)), SAT_E_CONFIG);
	/* a PAM argument's duration goes through the same parser */
	assert_int_equal(cfg_set_arg(&c, "default_ttl=1d12h", err, sizeof(err)), 0);
	assert_int_equal(c.default_ttl, 36 * 3600);
	assert_int_equal(cfg_set_arg(&c, "default_ttl=12h1d", err, sizeof(err)),
	    SAT_E_CONFIG);
	assert_int_equal(c.default_ttl, 36 * 3600);
	assert_int_equal(cfg_set(&c, "max_ttl", "1h", err, sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), SAT_E_CONFIG);
	assert_non_null(strstr(err, "default_ttl"));
	cfg_free(&c);
}

/* The fleet's keys: half a setup, a role or a name that is not one are
 * refused, so a host never runs standalone by mistake. */
static void
test_fleet_keys(void **state)
{
	char err[SAT_ERRMSG_MAX];
	struct sat_config c;

	(void)state;
	assert_int_equal(cfg_init(&c), 0);
	assert_null(c.directory);
	assert_int_equal(c.directory_role, SAT_FLEET_FOLLOWER);
	assert_int_equal(cfg_set(&c, "directory", "ldaps://a ldaps://b", err,
	    sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), SAT_E_CONFIG);
	assert_non_null(strstr(err, "directory_base"));
	assert_int_equal(cfg_set(&c, "directory_base", "dc=example,dc=org",
	    err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "directory_bind_dn",
	    "cn=h1,ou=hosts,ou=satoken,dc=example,dc=org", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "directory_password_file", "pw", err,
	    sizeof(err)), SAT_E_CONFIG);
	assert_int_equal(cfg_set(&c, "directory_password_file", "/etc/pw", err,
	    sizeof(err)), 0);
	assert_int_equal(cfg_check(&c, err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "directory_role", "leader", err,
	    sizeof(err)), SAT_E_CONFIG);
	assert_non_null(strstr(err, "follower or control"));
	assert_int_equal(cfg_set(&c, "directory_role", "control", err,
	    sizeof(err)), 0);
	assert_int_equal(c.directory_role, SAT_FLEET_CONTROL);
	/* nothing that could reach a log line or a filter unquoted */
	assert_int_equal(cfg_set(&c, "directory_base", "dc=x\n", err,
	    sizeof(err)), SAT_E_CONFIG);
	assert_int_equal(cfg_set(&c, "host_name", "h*", err, sizeof(err)),
	    SAT_E_CONFIG);
	assert_string_equal(c.directory_base, "dc=example,dc=org");
	/* empty: unset, a standalone host again */
	assert_int_equal(cfg_set(&c, "directory", "", err, sizeof(err)), 0);
	assert_null(c.directory);
	cfg_free(&c);
}

static void
test_load_file(void **state)
{
	char *dir = tu_tmpdir(), *path = tu_path(dir, "satoken.conf");
	char *link = tu_path(dir, "link.conf");
	char err[SAT_ERRMSG_MAX];
	struct sat_config c;
	FILE *fp;

	(void)state;
	assert_int_equal(cfg_init(&c), 0);
	assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), SAT_E_NOTFOUND);
	fp = fopen(path, "w");
	fputs("rate_limit = 9\n", fp);
	fclose(fp);
	chmod(path, 0644);
	assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.rate_limit, 9);
	/* a config anyone may edit is not trusted */
	chmod(path, 0666);
	assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), SAT_E_CONFIG);
	assert_non_null(strstr(err, path));
	chmod(path, 0644);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(cfg_load_file(&c, link, err, sizeof(err)), SAT_E_CONFIG);
	assert_int_equal(cfg_load_file(&c, "relative.conf", err, sizeof(err)),
	    SAT_E_CONFIG);
	/* the line number comes with the path */
	fp = fopen(path, "w");
	fputs("rate_limit = 9\nrate_limit = nine\n", fp);
	fclose(fp);
	assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), SAT_E_CONFIG);
	assert_non_null(strstr(err, ":2: rate_limit"));
	cfg_free(&c);
	free(path);
	free(link);
	tu_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_error_changes_nothing_after_it),
		cmocka_unit_test(test_set_arg_and_check),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_fleet_keys),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
