#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"
#include "valid.h"

#define TEN_YEARS	(3650ULL * 86400ULL)

int
cfg_init(struct sat_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_ttl = 30 * 86400;
	c->default_ttl = 30 * 86400;
	c->max_days_valid = SAT_DAYS_VALID_MAX;
	c->max_tokens_per_account = 100;
	c->max_accounts = 10000;
	c->rate_limit = 50;
	c->lock_timeout_ms = 1000;
	c->retain_days = 30;
	c->usage_flush = 60;
	c->warn_before = 7 * 86400;
	c->metrics_interval = 15;
	if ((c->database = sat_strdup(SAT_DB_DEFAULT)) == NULL ||
	    (c->usage_socket = sat_strdup(SAT_USAGE_SOCKET_DEFAULT)) == NULL ||
	    (c->socket = sat_strdup(SAT_SOCKET_DEFAULT)) == NULL ||
	    (c->audit = sat_strdup("syslog")) == NULL) {
		cfg_free(c);
		return SAT_E_NOMEM;
	}
	return 0;
}

void
cfg_free(struct sat_config *c)
{
	if (c == NULL)
		return;
	free(c->database);
	free(c->socket);
	free(c->audit);
	free(c->usage_socket);
	free(c->metrics_file);
	strlist_free(&c->admin_groups);
	strlist_free(&c->admin_users);
	strlist_free(&c->contributor_groups);
	strlist_free(&c->allow_system_names);
	free(c->directory);
	free(c->directory_base);
	free(c->directory_bind_dn);
	free(c->directory_password_file);
	free(c->host_name);
	memset(c, 0, sizeof(*c));
}

/* Replaces an owned string; *dst is untouched on failure. */
static int
replace_str(char **dst, const char *v)
{
	char *p;

	if ((p = sat_strdup(v)) == NULL)
		return SAT_E_NOMEM;
	free(*dst);
	*dst = p;
	return 0;
}

static int
set_path(char **dst, const char *v)
{
	if (v[0] != '/' || strlen(v) > 4000)
		return SAT_E_CONFIG;
	return replace_str(dst, v);
}

/* An optional path: "none" (or empty) turns the feature off. */
static int
set_opt_path(char **dst, const char *v)
{
	if (v[0] == '\0' || strcmp(v, "none") == 0) {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	return set_path(dst, v);
}

static int
set_list(struct strlist *dst, const char *v, int uids_ok)
{
	struct strlist l;
	size_t i;
	uint64_t u;
	int r;

	strlist_init(&l);
	if ((r = strlist_split(&l, v)) != 0)
		return r;
	for (i = 0; i < l.n; i++) {
		if (!valid_name(l.v[i]) &&
		    !(uids_ok && parse_u64(l.v[i], 0, UINT32_MAX - 1, &u) == 0)) {
			strlist_free(&l);
			return SAT_E_CONFIG;
		}
	}
	strlist_free(dst);
	*dst = l;
	return 0;
}

static int
set_audit(char **dst, const char *v)
{
	if (strcmp(v, "syslog") != 0 && strcmp(v, "stderr") != 0 &&
	    !(strncmp(v, "file:", 5) == 0 && v[5] == '/'))
		return SAT_E_CONFIG;
	return replace_str(dst, v);
}

enum kind { K_PATH, K_LIST, K_USERLIST, K_DURATION, K_NUMBER, K_AUDIT,
    K_BOOL, K_OPTPATH, K_TEXT, K_FLEET_ROLE };

/* A DN, a list of URIs or a host name: printable ASCII, nothing that
 * could end a line in a log or an LDAP filter.  Empty: unset, as the
 * sample's "#directory =" says when uncommented. */
static int
set_text(char **dst, const char *v)
{
	const char *p;

	if (v[0] == '\0') {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (strlen(v) > 1024)
		return SAT_E_CONFIG;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e ||
		    *p == '(' || *p == ')' || *p == '*')
			return SAT_E_CONFIG;
	return replace_str(dst, v);
}

static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
	uint64_t min, max;
	const char *expect;
} keys[] = {
#define O(f) offsetof(struct sat_config, f)
	{ "database", K_PATH, O(database), 0, 0, "an absolute path" },
	{ "socket", K_PATH, O(socket), 0, 0, "an absolute path" },
	{ "admin_groups", K_LIST, O(admin_groups), 0, 0,
	  "a comma-separated list of group names" },
	{ "admin_users", K_USERLIST, O(admin_users), 0, 0,
	  "a comma-separated list of user names or uids" },
	{ "contributor_groups", K_LIST, O(contributor_groups), 0, 0,
	  "a comma-separated list of group names" },
	{ "max_ttl", K_DURATION, O(max_ttl), 1, TEN_YEARS,
	  "a duration from 1s to 3650d" },
	{ "default_ttl", K_DURATION, O(default_ttl), 1, TEN_YEARS,
	  "a duration from 1s to 3650d" },
	{ "max_days_valid", K_NUMBER, O(max_days_valid), 1, SAT_DAYS_VALID_MAX,
	  "a number of days from 1 to 730" },
	{ "max_tokens_per_account", K_NUMBER, O(max_tokens_per_account), 1,
	  100000, "a number from 1 to 100000" },
	{ "max_accounts", K_NUMBER, O(max_accounts), 1, 10000000,
	  "a number from 1 to 10000000" },
	{ "rate_limit", K_NUMBER, O(rate_limit), 0, 1000000,
	  "requests per second from 0 (off) to 1000000" },
	{ "lock_timeout_ms", K_NUMBER, O(lock_timeout_ms), 1, 60000,
	  "milliseconds from 1 to 60000" },
	{ "retain_days", K_NUMBER, O(retain_days), 0, 3650,
	  "a number of days from 0 to 3650" },
	{ "audit", K_AUDIT, O(audit), 0, 0, "syslog, stderr or file:/absolute/path" },
	{ "allow_system_names", K_LIST, O(allow_system_names), 0, 0,
	  "a comma-separated list of account names" },
	{ "audit_reads", K_BOOL, O(audit_reads), 0, 0, "yes or no" },
	{ "usage_socket", K_OPTPATH, O(usage_socket), 0, 0,
	  "an absolute path or none" },
	{ "usage_flush", K_DURATION, O(usage_flush), 1, 86400,
	  "a duration from 1s to 1d" },
	{ "warn_before", K_DURATION, O(warn_before), 0, TEN_YEARS,
	  "a duration from 0 (off) to 3650d" },
	{ "metrics_file", K_OPTPATH, O(metrics_file), 0, 0,
	  "an absolute path or none" },
	{ "metrics_interval", K_DURATION, O(metrics_interval), 1, 3600,
	  "a duration from 1s to 1h" },
	{ "canary_disables", K_BOOL, O(canary_disables), 0, 0, "yes or no" },
	{ "directory", K_TEXT, O(directory), 0, 0,
	  "space-separated LDAP URIs (ldap://, ldaps://, ldapi://)" },
	{ "directory_base", K_TEXT, O(directory_base), 0, 0, "a DN" },
	{ "directory_bind_dn", K_TEXT, O(directory_bind_dn), 0, 0, "a DN" },
	{ "directory_password_file", K_OPTPATH, O(directory_password_file), 0,
	  0, "an absolute path" },
	{ "directory_role", K_FLEET_ROLE, O(directory_role), 0, 0,
	  "follower or control" },
	{ "host_name", K_TEXT, O(host_name), 0, 0, "a host name" },
#undef O
};

int
cfg_set(struct sat_config *c, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct key *k = NULL;
	void *field;
	uint64_t u;
	size_t i;
	int r;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, key) == 0)
			k = &keys[i];
	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%.64s'", key);
		return SAT_E_CONFIG;
	}
	field = (char *)c + k->off;
	switch (k->kind) {
	case K_PATH:
		r = set_path(field, value);
		break;
	case K_OPTPATH:
		r = set_opt_path(field, value);
		break;
	case K_LIST:
		r = set_list(field, value, 0);
		break;
	case K_USERLIST:
		r = set_list(field, value, 1);
		break;
	case K_DURATION:
		r = parse_duration(value, k->min, k->max, &u) == 0 ? 0 :
		    SAT_E_CONFIG;
		if (r == 0)
			*(uint64_t *)field = u;
		break;
	case K_NUMBER:
		r = parse_u64(value, k->min, k->max, &u) == 0 ? 0 : SAT_E_CONFIG;
		if (r == 0)
			*(uint64_t *)field = u;
		break;
	case K_AUDIT:
		r = set_audit(field, value);
		break;
	case K_BOOL:
		r = strcmp(value, "yes") == 0 || strcmp(value, "no") == 0 ? 0 :
		    SAT_E_CONFIG;
		if (r == 0)
			*(int *)field = value[0] == 'y';
		break;
	case K_TEXT:
		r = set_text(field, value);
		break;
	case K_FLEET_ROLE:
		r = strcmp(value, "follower") == 0 || strcmp(value, "control") ==
		    0 ? 0 : SAT_E_CONFIG;
		if (r == 0)
			*(int *)field = value[0] == 'c' ? SAT_FLEET_CONTROL :
			    SAT_FLEET_FOLLOWER;
		break;
	default:
		r = SAT_E_INTERNAL;
		break;
	}
	if (r == SAT_E_NOMEM)
		snprintf(err, errlen, "out of memory");
	else if (r != 0) {
		snprintf(err, errlen, "%s: expected %s", k->name, k->expect);
		r = SAT_E_CONFIG;
	}
	return r;
}

int
cfg_set_arg(struct sat_config *c, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char key[64];
	size_t kl;

	if (eq == NULL || (kl = (size_t)(eq - arg)) == 0 || kl >= sizeof(key)) {
		snprintf(err, errlen, "expected key=value, got '%.64s'", arg);
		return SAT_E_CONFIG;
	}
	memcpy(key, arg, kl);
	key[kl] = '\0';
	return cfg_set(c, key, eq + 1, err, errlen);
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

int
cfg_parse(struct sat_config *c, const char *text, size_t len,
    const char *name, char *err, size_t errlen)
{
	char line[4096], msg[SAT_ERRMSG_MAX];
	const char *p = text, *end = text + len, *nl;
	char *k, *v, *eq, *e;
	size_t lineno = 0, n;
	int r;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%zu: line too long", name, lineno);
			return SAT_E_CONFIG;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : end;
		if (memchr(line, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%zu: NUL byte", name, lineno);
			return SAT_E_CONFIG;
		}
		/* a '#' starts a comment anywhere: no value needs one */
		if ((e = strchr(line, '#')) != NULL)
			*e = '\0';
		for (k = line; is_blank(*k); k++)
			;
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s:%zu: expected 'key = value'",
			    name, lineno);
			return SAT_E_CONFIG;
		}
		for (e = eq; e > k && is_blank(e[-1]); e--)
			;
		*e = '\0';
		for (v = eq + 1; is_blank(*v); v++)
			;
		for (e = v + strlen(v); e > v && is_blank(e[-1]); e--)
			;
		*e = '\0';
		if (*k == '\0') {
			snprintf(err, errlen, "%s:%zu: missing key", name, lineno);
			return SAT_E_CONFIG;
		}
		if ((r = cfg_set(c, k, v, msg, sizeof(msg))) != 0) {
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, msg);
			return r;
		}
	}
	return 0;
}

int
cfg_load_file(struct sat_config *c, const char *path, char *err, size_t errlen)
{
	char msg[SAT_ERRMSG_MAX];
	char *text = NULL;
	size_t len;
	int fd, r;

	r = fileio_open(path, O_RDONLY, 0,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE | FILEIO_OWNER_TRUSTED, &fd);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", path != NULL ? path : "(null)",
		    r == SAT_E_NOTFOUND ? "no such file" : sat_strerror(r));
		return r == SAT_E_NOTFOUND ? r : SAT_E_CONFIG;
	}
	r = fileio_slurp(fd, SAT_CONF_MAX, &text, &len);
	close(fd);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", path, r == SAT_E_INVALID ?
		    "file too large" : sat_strerror(r));
		return r == SAT_E_NOMEM ? r : SAT_E_CONFIG;
	}
	r = cfg_parse(c, text, len, path, err, errlen);
	free(text);
	if (r == 0 && (r = cfg_check(c, msg, sizeof(msg))) != 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	return r;
}

int
cfg_load(struct sat_config *c, const char *path, char *err, size_t errlen)
{
	int r = cfg_load_file(c, path != NULL ? path : SAT_CONF_DEFAULT, err,
	    errlen);

	if (r != SAT_E_NOTFOUND)
		return r;
	/* a file named on purpose must be there; the default may be absent */
	return path != NULL ? SAT_E_CONFIG : cfg_check(c, err, errlen);
}

int
cfg_check(const struct sat_config *c, char *err, size_t errlen)
{
	if (c->default_ttl > c->max_ttl) {
		snprintf(err, errlen, "default_ttl is longer than max_ttl");
		return SAT_E_CONFIG;
	}
	/* half a fleet setup would run as a standalone host unnoticed */
	if (c->directory != NULL && (c->directory_base == NULL ||
	    c->directory_bind_dn == NULL || c->directory_password_file == NULL)) {
		snprintf(err, errlen, "directory needs directory_base, "
		    "directory_bind_dn and directory_password_file");
		return SAT_E_CONFIG;
	}
	return 0;
}
