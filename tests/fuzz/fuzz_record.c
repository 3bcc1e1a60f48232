/* libFuzzer target: the store record decoders.  The first byte picks the
 * record kind; the rest is the stored value.  Whatever a decoder accepts
 * must re-encode to exactly the same bytes (no record is accepted that
 * the encoder would not have written), and nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_or_die(const struct wbuf *w, const uint8_t *p, size_t n)
{
	if (wbuf_status(w) != 0 || w->len != n || memcmp(w->p, p, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sat_meta m;
	struct sat_account a;
	struct sat_group g;
	struct sat_policy p;
	struct sat_token t;
	struct sat_token_index x;
	struct sat_token_head h;
	struct sat_token_page pg;
	struct sat_token_name nm;
	struct sat_reclaim rc;
	struct wbuf w;
	uint8_t *v;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	if ((v = malloc(n ? n : 1)) == NULL)
		return 0;
	if (n > 0)
		memcpy(v, data + 1, n);
	wbuf_init(&w);
	switch (data[0] % 10) {
	case 0:
		if (record_decode_meta(v, n, &m) == 0) {
			record_encode_meta(&m, &w);
			same_or_die(&w, v, n);
			record_free_meta(&m);
		}
		break;
	case 1:
		if (record_decode_account(v, n, &a) == 0) {
			record_encode_account(&a, &w);
			same_or_die(&w, v, n);
			record_free_account(&a);
		}
		break;
	case 2:
		if (record_decode_group(v, n, &g) == 0) {
			record_encode_group(&g, &w);
			same_or_die(&w, v, n);
			record_free_group(&g);
		}
		break;
	case 3:
		if (record_decode_policy(v, n, &p) == 0) {
			record_encode_policy(&p, &w);
			same_or_die(&w, v, n);
			record_free_policy(&p);
		}
		break;
	case 4:
		if (record_decode_token(v, n, &t) == 0) {
			record_encode_token(&t, &w);
			same_or_die(&w, v, n);
			record_free_token(&t);
		}
		break;
	case 6:
		if (record_decode_token_head(v, n, &h) == 0) {
			record_encode_token_head(&h, &w);
			same_or_die(&w, v, n);
		}
		break;
	case 7:
		if (record_decode_token_page(v, n, &pg) == 0) {
			record_encode_token_page(&pg, &w);
			same_or_die(&w, v, n);
		}
		break;
	case 8:
		if (record_decode_token_name(v, n, &nm) == 0) {
			record_encode_token_name(&nm, &w);
			same_or_die(&w, v, n);
		}
		break;
	case 9:
		if (record_decode_reclaim(v, n, &rc) == 0) {
			record_encode_reclaim(&rc, &w);
			same_or_die(&w, v, n);
			record_free_reclaim(&rc);
		}
		break;
	default:
		if (record_decode_token_index(v, n, &x) == 0) {
			record_encode_token_index(&x, &w);
			same_or_die(&w, v, n);
			record_free_token_index(&x);
		}
		break;
	}
	wbuf_free(&w);
	free(v);
	return 0;
}
