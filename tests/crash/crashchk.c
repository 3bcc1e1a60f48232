/* crashchk: checks one crash state for tests/crash/crashmodel.py.  Never
 * installed.
 *
 *   crashchk DB [--dump] < "ACCOUNT TOKEN" lines
 *
 * Opens DB as the writer (store_open_writer: the journal's recovery, a
 * rebuild from the base when the last writer did not stop cleanly, the
 * checkpoint after it), closes it, then prints
 *   "open ok" or "open error TEXT" (and stops there),
 *   "digest HEX": SHA-256 over the store's records sorted by key (each
 *       as 4-byte big-endian length, key, 4-byte length, value), which
 *       the model computes for the state after each journal batch,
 *   with --dump, "kv KEYHEX VALHEX" for every record first,
 *   and one reason per input line ("ok", "revoked", "unknown_token"...),
 *       from the one verification decision on a fresh reader, as the PAM
 *       module makes it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "err.h"
#include "kv.h"
#include "mem.h"
#include "store.h"
#include "storefile.h"
#include "verify.h"

struct keys {
	struct kv *kv;
	uint8_t **k;
	size_t *len, n, cap;
};

static int
collect(void *arg, const void *key, size_t klen)
{
	struct keys *ks = arg;

	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 256;
		ks->k = realloc(ks->k, ks->cap * sizeof(*ks->k));
		ks->len = realloc(ks->len, ks->cap * sizeof(*ks->len));
		if (ks->k == NULL || ks->len == NULL)
			return SAT_E_NOMEM;
	}
	if ((ks->k[ks->n] = malloc(klen ? klen : 1)) == NULL)
		return SAT_E_NOMEM;
	memcpy(ks->k[ks->n], key, klen);
	ks->len[ks->n++] = klen;
	return 0;
}

static struct keys *sort_ks;

static int
cmp_idx(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	size_t n = sort_ks->len[i] < sort_ks->len[j] ? sort_ks->len[i] :
	    sort_ks->len[j];
	int c = memcmp(sort_ks->k[i], sort_ks->k[j], n);

	if (c != 0)
		return c;
	return sort_ks->len[i] < sort_ks->len[j] ? -1 :
	    sort_ks->len[i] > sort_ks->len[j];
}

static void
put_len(EVP_MD_CTX *md, size_t n)
{
	uint8_t b[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
	    (uint8_t)(n >> 8), (uint8_t)n };

	EVP_DigestUpdate(md, b, 4);
}

static void
hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	if (n == 0)
		putchar('-');
}

static int
digest(const char *db, int dump)
{
	struct keys ks = { 0 };
	struct storefile f;
	EVP_MD_CTX *md;
	uint8_t out[32];
	unsigned olen;
	size_t i, *idx;
	void *v;
	size_t vlen;
	int r;

	storefile_init(&f);
	if ((r = storefile_open_reader(&f, db, 1000)) != 0)
		return r;
	if ((r = kv_open(f.fd, db, 0, 0, &ks.kv)) != 0) {
		storefile_close(&f);
		return r;
	}
	if ((r = kv_iterate(ks.kv, collect, &ks)) != 0)
		goto out;
	if ((idx = calloc(ks.n + 1, sizeof(*idx))) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL) {
		r = SAT_E_NOMEM;
		goto out;
	}
	for (i = 0; i < ks.n; i++)
		idx[i] = i;
	sort_ks = &ks;
	qsort(idx, ks.n, sizeof(*idx), cmp_idx);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (i = 0; i < ks.n && r == 0; i++) {
		if ((r = kv_fetch(ks.kv, ks.k[idx[i]], ks.len[idx[i]], &v,
		    &vlen)) != 0)
			break;
		put_len(md, ks.len[idx[i]]);
		EVP_DigestUpdate(md, ks.k[idx[i]], ks.len[idx[i]]);
		put_len(md, vlen);
		EVP_DigestUpdate(md, v, vlen);
		if (dump) {
			printf("kv ");
			hex(ks.k[idx[i]], ks.len[idx[i]]);
			putchar(' ');
			hex(v, vlen);
			putchar('\n');
		}
		free(v);
	}
	EVP_DigestFinal_ex(md, out, &olen);
	EVP_MD_CTX_free(md);
	free(idx);
	if (r == 0) {
		printf("digest ");
		hex(out, sizeof(out));
		putchar('\n');
	}
out:
	for (i = 0; i < ks.n; i++)
		free(ks.k[i]);
	free(ks.k);
	free(ks.len);
	kv_close(ks.kv);
	storefile_close(&f);
	return r;
}

int
main(int argc, char **argv)
{
	char line[512], *sp;
	struct verify_request vr;
	struct verify_result res;
	struct store *s;
	size_t n;
	int r;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--dump"))) {
		fprintf(stderr, "usage: crashchk DB [--dump] < 'ACCOUNT TOKEN' lines\n");
		return 2;
	}
	if ((r = store_open_writer(argv[1], 1000, &s)) != 0) {
		printf("open error %s\n", sat_strerror(r));
		return 1;
	}
	store_close(s);
	puts("open ok");
	if ((r = digest(argv[1], argc == 3)) != 0) {
		printf("digest error %s\n", sat_strerror(r));
		return 1;
	}
	if ((r = store_open_reader(argv[1], 1000, &s)) != 0) {
		printf("reader error %s\n", sat_strerror(r));
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		if ((sp = strchr(line, ' ')) == NULL) {
			puts("usage");
			continue;
		}
		*sp++ = '\0';
		memset(&vr, 0, sizeof(vr));
		vr.account = line;
		vr.token = sp;
		vr.token_len = strlen(sp);
		vr.now = (int64_t)time(NULL);
		vr.defer_pad = 1;	/* no padding: nobody times this */
		r = verify_token(s, &vr, &res);
		puts(r != 0 ? "store_error" : verify_reason_name(res.reason));
		sat_wipe(line, sizeof(line));
	}
	store_close(s);
	return 0;
}
