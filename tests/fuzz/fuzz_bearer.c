/* libFuzzer target: the SASL plugin's wire parsers (OAUTHBEARER, XOAUTH2,
 * SASL_IPREMOTEPORT).  The first byte picks the parser.  An accepted
 * message must hand back a token view that lies inside the input and an
 * authzid that is a proper C string; nothing may read past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sasl/bearer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bearer_msg m;
	char addr[BEARER_ADDR_MAX + 1];
	uint8_t *v;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	n = size - 1;
	if ((v = malloc(n ? n : 1)) == NULL)
		return 0;
	if (n > 0)
		memcpy(v, data + 1, n);
	memset(&m, 0, sizeof(m));
	switch (data[0] % 4) {
	case 0:
		r = bearer_parse_oauthbearer(v, n, &m);
		break;
	case 1:
		r = bearer_parse_xoauth2(v, n, &m);
		break;
	case 2:
		r = bearer_parse_ipport(v, n, addr, sizeof(addr));
		if (r == 0 && (strlen(addr) == 0 || strlen(addr) > BEARER_ADDR_MAX))
			abort();
		free(v);
		return 0;
	default:
		(void)bearer_is_ack(v, n);
		free(v);
		return 0;
	}
	if (r == 0) {
		if (m.token.len == 0 || m.token.p < v || m.token.p + m.token.len > v + n)
			abort();
		if (memchr(m.authzid, '\0', sizeof(m.authzid)) == NULL)
			abort();
	}
	free(v);
	return 0;
}
