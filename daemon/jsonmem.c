#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>

#include "jsonmem.h"
#include "mem.h"

static unsigned long failures;

static void *
wipe_malloc(size_t n)
{
	void *p;

	if ((p = malloc(n)) == NULL)
		failures++;
	return p;
}

unsigned long
jsonmem_failures(void)
{
	return failures;
}

static void
wipe_free(void *p)
{
	if (p == NULL)
		return;
	/* jansson does not say the size: the allocator knows it */
	sat_wipe(p, malloc_usable_size(p));
	free(p);
}

void
jsonmem_init(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}
