#include <stddef.h>
#include <string.h>

#include "err.h"
#include "wire.h"

static const struct {
	int err;
	const char *name;
	int exit;
} codes[] = {
	{ SAT_E_INVALID,	"VALIDATION",		EXIT_VALIDATION },
	{ SAT_E_MALFORMED,	"VALIDATION",		EXIT_VALIDATION },
	{ SAT_E_PERM,		"PERMISSION_DENIED",	EXIT_PERMISSION },
	{ SAT_E_NOTFOUND,	"NOT_FOUND",		EXIT_NOT_FOUND },
	{ SAT_E_CONFLICT,	"CONFLICT",		EXIT_CONFLICT },
	{ SAT_E_QUOTA,		"QUOTA_EXCEEDED",	EXIT_QUOTA },
	{ SAT_E_THROTTLED,	"THROTTLED",		EXIT_THROTTLED },
	{ SAT_E_READ_ONLY,	"READ_ONLY",		EXIT_READ_ONLY },
	{ SAT_E_NOT_CONFIRMED,	"NOT_CONFIRMED",	EXIT_NOT_CONFIRMED },
	/* the store, a file or memory: try again later */
	{ SAT_E_STORE,		"UNAVAILABLE",		EXIT_UNAVAILABLE },
	{ SAT_E_IO,		"UNAVAILABLE",		EXIT_UNAVAILABLE },
	{ SAT_E_NOMEM,		"UNAVAILABLE",		EXIT_UNAVAILABLE },
	/* last: the default of wire_name */
	{ SAT_E_INTERNAL,	"INTERNAL",		EXIT_UNAVAILABLE },
};
#define NCODES	(sizeof(codes) / sizeof(codes[0]))

const char *
wire_name(int err)
{
	size_t i;

	for (i = 0; i < NCODES - 1; i++)
		if (codes[i].err == err)
			return codes[i].name;
	return codes[NCODES - 1].name;
}

int
wire_exit(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NCODES; i++)
		if (strcmp(codes[i].name, name) == 0)
			return codes[i].exit;
	return EXIT_UNAVAILABLE;
}
