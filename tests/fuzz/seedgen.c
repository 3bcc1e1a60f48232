/* Writes the seed corpora of the fuzz targets (run by `make fuzz-seeds`;
 * the output is committed under tests/fuzz/corpus/). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"
#include "record.h"
#include "role.h"
#include "token.h"

static void
put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
put_record(const char *dir, const char *name, uint8_t kind, struct wbuf *w)
{
	uint8_t *b = malloc(w->len + 1);

	b[0] = kind;
	memcpy(b + 1, w->p, w->len);
	put(dir, name, b, w->len + 1);
	free(b);
	wbuf_free(w);
}

int
main(int argc, char **argv)
{
	char d[4096], tok[TOKEN_LEN + 1];
	struct sat_meta m;
	struct sat_account a;
	struct sat_group g;
	struct sat_policy p;
	struct sat_token t;
	struct sat_token_index x;
	struct wbuf w;

	if (argc != 2)
		return 2;
	snprintf(d, sizeof(d), "%s/token", argv[1]);
	mkdir(d, 0755);
	/* a fixed token (all-zero id and secret, real checksum) and a typo */
	memcpy(tok, "sat_", 4);
	memset(tok + 4, '0', 44);
	token_checksum(tok, tok + 48);
	put(d, "valid", tok, TOKEN_LEN);
	tok[10] = '1';
	put(d, "typo", tok, TOKEN_LEN);
	put(d, "short", tok, 20);
	put(d, "password", "hunter2", 7);

	snprintf(d, sizeof(d), "%s/record", argv[1]);
	mkdir(d, 0755);
	wbuf_init(&w);
	memset(&m, 0, sizeof(m));
	m.schema = STORE_SCHEMA;
	record_encode_meta(&m, &w);
	put_record(d, "meta", 0, &w);
	memset(&a, 0, sizeof(a));
	strcpy(a.name, "ci");
	a.description = sat_strdup("CI runner");
	a.owner = sat_strdup("uid:1000");
	a.role = ROLE_CONTRIBUTOR;
	strlist_add(&a.groups, "ci");
	a.external_id = sat_strdup("x-1");
	a.days_valid = 30;
	a.enabled = 1;
	a.created_at = 1763900000;
	a.created_by = sat_strdup("uid:0");
	record_encode_account(&a, &w);
	put_record(d, "account", 1, &w);
	record_free_account(&a);
	memset(&g, 0, sizeof(g));
	strcpy(g.name, "ci");
	g.description = sat_strdup("CI");
	record_encode_group(&g, &w);
	put_record(d, "group", 2, &w);
	record_free_group(&g);
	strlist_init(&p.groups);
	strlist_add(&p.groups, "ci");
	strlist_add(&p.groups, "ops");
	record_encode_policy(&p, &w);
	put_record(d, "policy", 3, &w);
	record_free_policy(&p);
	memset(&t, 0, sizeof(t));
	strcpy(t.id, "AbCdEf012345");
	strcpy(t.account, "ci");
	t.name = sat_strdup("deploy");
	t.created_by = sat_strdup("uid:0");
	t.expires_at = 1763903600;
	t.ttl = 3600;
	strlist_add(&t.services, "imap");
	strlist_add(&t.sources, "10.0.0.0/8");
	strcpy(t.replaced_by, "ZzZzZz999999");
	record_encode_token(&t, &w);
	put_record(d, "token", 4, &w);
	record_free_token(&t);
	strlist_init(&x.ids);
	strlist_add(&x.ids, "AbCdEf012345");
	record_encode_token_index(&x, &w);
	put_record(d, "index", 5, &w);
	record_free_token_index(&x);
	return 0;
}
