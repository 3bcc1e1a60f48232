/* satoken: satoken.conf, PAM arguments, the SASL option and the tools'
 * flags all end in cfg_set(), which knows each key once.
 *
 *   key = value        # comment
 *
 * Unknown keys are errors; every error names its line. */
#ifndef SATOKEN_CONFIG_H
#define SATOKEN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "strlist.h"

#define SAT_CONF_DEFAULT	"/etc/satoken/satoken.conf"
#define SAT_DB_DEFAULT		"/var/lib/satoken/satoken.db"
#define SAT_SOCKET_DEFAULT	"/run/satoken/satokend.sock"
#define SAT_USAGE_SOCKET_DEFAULT	"/run/satoken/usage.sock"
#define SAT_CONF_MAX		(256 * 1024)
#define SAT_ERRMSG_MAX		256

struct sat_config {
	char *database;			/* owned, absolute path */
	char *socket;			/* owned, absolute path */
	struct strlist admin_groups;
	struct strlist admin_users;	/* names or uids */
	struct strlist contributor_groups;
	uint64_t max_ttl;		/* seconds */
	uint64_t default_ttl;		/* seconds */
	uint64_t max_days_valid;
	uint64_t max_tokens_per_account;
	uint64_t max_accounts;
	uint64_t rate_limit;		/* requests/s per principal, 0 = off */
	uint64_t lock_timeout_ms;
	uint64_t retain_days;
	char *audit;			/* owned: syslog | stderr | file:PATH */
	struct strlist allow_system_names;	/* root, nobody, uid < 100 */
	int audit_reads;		/* list/show lines too */
	/* Lifecycle (README "Lifecycle") */
	char *usage_socket;		/* owned path; NULL: "none", off */
	uint64_t usage_flush;		/* seconds between last-use writes */
	uint64_t warn_before;		/* seconds; 0: no expiry warnings */
	char *metrics_file;		/* owned path; NULL: none */
	uint64_t metrics_interval;	/* seconds */
	int canary_disables;		/* a canary's use disables its account */
	/* The fleet (DESIGN "Fleet"); directory NULL: a standalone host */
	char *directory;		/* owned: LDAP URIs, space-separated */
	char *directory_base;		/* owned DN */
	char *directory_bind_dn;	/* owned DN */
	char *directory_password_file;	/* owned, absolute path */
	int directory_role;		/* SAT_FLEET_FOLLOWER or _CONTROL */
	char *host_name;		/* owned; NULL: gethostname() */
};

#define SAT_FLEET_FOLLOWER	0
#define SAT_FLEET_CONTROL	1

/* Fills c with the defaults of DESIGN.md.  SAT_E_NOMEM on failure. */
int cfg_init(struct sat_config *c);
/* Releases what c owns.  Accepts NULL. */
void cfg_free(struct sat_config *c);

/* Sets one key.  On error returns SAT_E_CONFIG (or SAT_E_NOMEM) and
 * writes a message naming the key into err (no line number). */
int cfg_set(struct sat_config *c, const char *key, const char *value,
    char *err, size_t errlen);

/* Parses "key=value" (one PAM/SASL/command-line argument). */
int cfg_set_arg(struct sat_config *c, const char *arg, char *err,
    size_t errlen);

/* Parses the text of a config file; errors read "NAME:LINE: message".
 * On error c may hold the lines before the bad one: parse into a fresh
 * struct and keep the one in use until the new one is whole. */
int cfg_parse(struct sat_config *c, const char *text, size_t len,
    const char *name, char *err, size_t errlen);

/* Opens path safely (regular, owned by root or euid, not writable by
 * others) and parses it.  SAT_E_NOTFOUND if it does not exist, so a
 * caller using the default path may fall back to the defaults. */
int cfg_load_file(struct sat_config *c, const char *path, char *err,
    size_t errlen);

/* The one rule every program loads its configuration by: path, when
 * not NULL, names a file that must exist (missing: SAT_E_CONFIG, "PATH:
 * no such file" in err); NULL means SAT_CONF_DEFAULT, where no file at
 * all means the built-in defaults.  c comes from cfg_init. */
int cfg_load(struct sat_config *c, const char *path, char *err,
    size_t errlen);

/* Cross-key checks (default_ttl <= max_ttl).  SAT_E_CONFIG with a message. */
int cfg_check(const struct sat_config *c, char *err, size_t errlen);

#endif
