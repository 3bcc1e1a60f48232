/* pam_satoken: the module's arguments.
 *
 *   conf=PATH          satoken.conf to load (default: SAT_CONF_DEFAULT if it
 *                      exists, else the built-in defaults)
 *   db=PATH            overrides `database`
 *   KEY=VALUE          any other satoken.conf key, through cfg_set_arg
 *   use_first_pass     the token is PAM_AUTHTOK from an earlier module
 *   try_first_pass     PAM_AUTHTOK if set, else prompt
 *   ignore_non_token   PAM_IGNORE (not PAM_AUTH_ERR) for a password that
 *                      is not a token
 *   debug              extra pam_syslog lines (never a secret)
 *
 * Everything else is an error: a typo in a PAM stack must not quietly
 * change how logins are decided. */
#ifndef PAM_SATOKEN_ARGS_H
#define PAM_SATOKEN_ARGS_H

#include <stddef.h>

#include "config.h"

struct pam_args {
	struct sat_config cfg;	/* owned: free with args_free */
	int use_first_pass;
	int try_first_pass;
	int ignore_non_token;
	int debug;
};

/* Parses argv into *ret.  0 on success (caller frees with args_free),
 * SAT_E_CONFIG with a message in err for a bad argument or config file,
 * SAT_E_NOMEM.  On failure *ret holds nothing to free. */
int args_parse(int argc, const char **argv, struct pam_args *ret, char *err,
    size_t errlen);

/* Only the flags (use_first_pass, try_first_pass, ignore_non_token,
 * debug) of argv into *ret; everything else, good or bad, is left to
 * args_parse.  Never fails and reads no file: a password that is not a
 * token is decided on these alone, so that a broken satoken.conf cannot
 * change a human's login in a shared stack. */
void args_flags(int argc, const char **argv, struct pam_args *ret);

/* Releases what a holds.  Accepts NULL. */
void args_free(struct pam_args *a);

/* args_parse through a cache (cfgcache.h) keyed by the PAM line and
 * the identity of the config file it reads: the same line with the file
 * unchanged is not parsed again.  On 0, *ret is borrowed until
 * args_put(*ref).  Errors as args_parse. */
struct cfg_entry;
int args_get(int argc, const char **argv, const struct pam_args **ret,
    struct cfg_entry **ref, char *err, size_t errlen);
void args_put(struct cfg_entry *ref);
/* Forgets the cached lines (module unload; the fault tests' cold path). */
void args_cache_reset(void);

#endif
