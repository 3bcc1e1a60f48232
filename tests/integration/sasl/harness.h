/* The in-process SASL tests' harness (harness.c).
 *
 * libsasl2 loads the plugin from the build directory (SASL_CB_GETPATH,
 * env SAT_PLUGIN_DIR) and reads a private application config
 * (SASL_CB_GETCONFPATH) whose satoken_conf names a private satoken.conf:
 * a private store and a file audit sink.  Tokens are minted into that
 * store by one helper, mint_opts() / MINT(), which runs the satfix
 * fixture (env SATFIX) and reads the token from its stdout, never argv:
 * switching to satokend later changes that one function. */
#ifndef SATOKEN_TEST_SASL_HARNESS_H
#define SATOKEN_TEST_SASL_HARNESS_H

#include <stddef.h>

#include <sasl/sasl.h>

#include "token.h"

extern char tmpdir[], conf[], db[], audit_path[];
extern const char *plugin_dir;

struct tok {
	char s[TOKEN_LEN + 1];		/* the token: a secret, wipe it */
	char id[TOKEN_ID_LEN + 1];	/* its public id */
};

/* libsasl2 callbacks are stored as int (*)(void) */
#define CB(f)	((int (*)(void))(void (*)(void))(f))

/* group setup/teardown: store with accounts for every decision reason
 * (ci, ops in policy group svc; off disabled; old expired; outsider
 * outside the policy; gone), configs, sasl_server_init/client_init. */
int harness_setup(void **state);
int harness_teardown(void **state);

/* satfix DB args... (NULL-terminated); stdout into out if not NULL. */
int run_satfix(const char *const *args, char *out, size_t cap);
#define SATFIX(...) do { \
	const char *const a_[] = { __VA_ARGS__, NULL }; \
	assert_int_equal(run_satfix(a_, NULL, 0), 0); \
} while (0)

/* The one minting helper; extra: satfix mint options, NULL-terminated. */
void mint_opts(struct tok *t, const char *account, const char *const *extra);
#define MINT(t, account, ...) do { \
	const char *const o_[] = { __VA_ARGS__, NULL }; \
	mint_opts((t), (account), o_); \
} while (0)

void write_file(const char *path, const char *text);
/* satoken.conf with this database and the test's audit file */
void write_conf(const char *database);
/* the last audit line (static buffer), the number of lines */
char *audit_last(void);
size_t audit_lines(void);
void assert_audit_has(const char *needle);

/* a server connection with Postfix's and slapd's default secprops */
sasl_conn_t *server_conn(const char *service, const char *ipremote);
int server_start(sasl_conn_t *c, const char *mech, const void *msg,
    size_t len, char *out, size_t cap);
size_t oauthbearer_msg(char *out, size_t cap, const char *authzid,
    const char *tok);
size_t xoauth2_msg(char *out, size_t cap, const char *user, const char *tok);
void assert_username(sasl_conn_t *c, const char *want);
/* an attempt that must succeed as account / be refused with reason,
 * through the RFC 7628 error challenge, with one audit line */
void expect_ok(const char *mech, const char *service, const char *ipremote,
    const char *claimed, const struct tok *t, const char *account);
void expect_refused(const char *mech, const char *service,
    const char *ipremote, const char *claimed, const char *token,
    const char *reason);

#endif
