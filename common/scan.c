/* satoken: finding tokens in text by their checksum (see scan.h). */
#include "scan.h"

#include <string.h>

#include "err.h"

int
scan_chunk(const char *p, size_t n, int eof, scan_found_fn found, void *arg,
    size_t *ret_consumed)
{
	char id[TOKEN_ID_LEN + 1];
	const char *q;
	size_t i = 0, off, keep;
	int r;

	for (;;) {
		q = memmem(p + i, n - i, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
		if (q == NULL) {
			/* the last bytes may begin a prefix the next chunk ends */
			keep = eof ? 0 : TOKEN_PREFIX_LEN - 1;
			*ret_consumed = n - i > keep ? n - keep : i;
			return 0;
		}
		off = (size_t)(q - p);
		if (n - off < TOKEN_LEN) {
			*ret_consumed = eof ? n : off;
			return 0;
		}
		if (token_parse(q, TOKEN_LEN, id) == 0) {
			if ((r = found(arg, off, id)) != 0)
				return r;
			i = off + TOKEN_LEN;
		} else {
			i = off + 1;
		}
	}
}
