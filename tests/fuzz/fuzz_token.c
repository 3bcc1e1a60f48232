/* libFuzzer target: the token parser.  Anything it accepts must be 54
 * bytes, start with sat_, carry a checksum that holds, and give back
 * the id that stands in it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[TOKEN_ID_LEN + 1], crc[TOKEN_CRC_LEN];
	char *copy;

	/* an exact-size copy so ASan sees any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	if (token_parse(copy, size, id) == 0) {
		if (size != TOKEN_LEN || memcmp(copy, "sat_", 4) != 0 ||
		    memcmp(id, copy + 4, TOKEN_ID_LEN) != 0 ||
		    !token_id_valid(id, TOKEN_ID_LEN))
			abort();
		token_checksum(copy, crc);
		if (memcmp(crc, copy + TOKEN_LEN - TOKEN_CRC_LEN, TOKEN_CRC_LEN) != 0)
			abort();
	}
	free(copy);
	return 0;
}
