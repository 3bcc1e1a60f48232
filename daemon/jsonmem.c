#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>

#include "jsonmem.h"
#include "mem.h"

static void *
wipe_malloc(size_t n)
{
	return malloc(n);
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
