/* libFuzzer target: the satoken.conf parser.  Any input either parses
 * or fails with SAT_E_CONFIG and a message that names its line; nothing
 * crashes, nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sat_config c;
	char err[SAT_ERRMSG_MAX];
	int r;

	if (cfg_init(&c) != 0)
		return 0;
	err[0] = '\0';
	r = cfg_parse(&c, (const char *)data, size, "fuzz.conf", err, sizeof(err));
	if (r != 0 && r != SAT_E_NOMEM &&
	    (r != SAT_E_CONFIG || strncmp(err, "fuzz.conf:", 10) != 0))
		abort();
	if (r == 0 && (c.database == NULL || c.database[0] != '/' ||
	    c.socket == NULL || c.socket[0] != '/' || c.max_ttl == 0))
		abort();
	cfg_free(&c);
	return 0;
}
