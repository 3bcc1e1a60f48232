/* Helpers shared by the unit tests: temporary directories and a store
 * filled through the real writer (common/store_write.c over GDBM). */
#ifndef SATOKEN_TESTUTIL_H
#define SATOKEN_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "mem.h"
#include "record.h"
#include "role.h"
#include "store.h"
#include "token.h"

/* A fresh directory under $TMPDIR; the caller removes it with tu_rmdir. */
static inline char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || base[0] != '/')
		base = "/tmp";
	assert_true(asprintf(&p, "%s/satoken-test.XXXXXX", base) > 0);
	assert_non_null(mkdtemp(p));
	return p;
}

static inline void
tu_rmdir(char *dir)
{
	char *cmd;

	if (dir == NULL)
		return;
	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
}

static inline char *
tu_path(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static inline void
tu_put_group(struct store *s, const char *name)
{
	struct sat_group g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	g.created_at = (int64_t)time(NULL);
	assert_int_equal(store_put_group(s, &g), 0);
}

/* groups: NULL-terminated list */
static inline void
tu_put_account(struct store *s, const char *name, const char **groups,
    int enabled, uint32_t days_valid, int64_t created_at)
{
	struct sat_account a;

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.role = ROLE_VIEWER;
	a.enabled = enabled;
	a.days_valid = days_valid;
	a.created_at = created_at;
	a.owner = sat_strdup("uid:0");
	for (; groups != NULL && *groups != NULL; groups++)
		assert_int_equal(strlist_add(&a.groups, *groups), 0);
	assert_int_equal(store_put_account(s, &a), 0);
	record_free_account(&a);
}

static inline void
tu_put_policy(struct store *s, const char **groups)
{
	struct sat_policy p;

	strlist_init(&p.groups);
	for (; groups != NULL && *groups != NULL; groups++)
		assert_int_equal(strlist_add(&p.groups, *groups), 0);
	assert_int_equal(store_put_policy(s, &p), 0);
	record_free_policy(&p);
}

/* Mints a token for account into tok (TOKEN_LEN+1); returns its id in id.
 * services/sources: NULL-terminated lists or NULL. */
static inline void
tu_mint(struct store *s, const char *account, const char *name,
    int64_t expires_at, const char **services, const char **sources,
    char tok[TOKEN_LEN + 1], char id[TOKEN_ID_LEN + 1])
{
	struct sat_token t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(token_generate(tok), 0);
	assert_int_equal(token_parse(tok, TOKEN_LEN, t.id), 0);
	snprintf(t.account, sizeof(t.account), "%s", account);
	t.name = sat_strdup(name);
	t.created_at = (int64_t)time(NULL);
	t.expires_at = expires_at;
	t.ttl = 3600;
	for (; services != NULL && *services != NULL; services++)
		assert_int_equal(strlist_add(&t.services, *services), 0);
	for (; sources != NULL && *sources != NULL; sources++)
		assert_int_equal(strlist_add(&t.sources, *sources), 0);
	assert_int_equal(token_digest(store_hmac_key(s), tok, t.digest), 0);
	assert_int_equal(store_put_token(s, &t), 0);
	memcpy(id, t.id, sizeof(t.id));
	record_free_token(&t);
}

#endif
