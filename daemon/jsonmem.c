#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>

#include "jsonmem.h"
#include "mem.h"

static unsigned long failures;

/*
 * libjansson 2.14 crashes in json_loadb and json_dumpb when some of its
 * allocations fail (found by failing each allocation of a request in
 * turn).  So a failed allocation is counted, and then served from this
 * reserve, which jansson never sees run out for one request (64 KiB at
 * most, the reply alike): the caller sees the count move and refuses
 * the request, instead of the daemon dying.  Blocks are carved in order
 * and the reserve starts over once every block is back.  jansson runs
 * on the daemon's one event-loop thread only.
 */
#define RESERVE_BYTES	(1024 * 1024)
#define RESERVE_ALIGN	16

static unsigned char reserve[RESERVE_BYTES]
    __attribute__((aligned(RESERVE_ALIGN)));
static size_t reserve_used, reserve_live;

static int
in_reserve(const void *p)
{
	const unsigned char *c = p;

	return c >= reserve && c < reserve + sizeof(reserve);
}

static void *
reserve_alloc(size_t n)
{
	size_t need;
	unsigned char *p;

	/* a header holding the block's size, then the block */
	if (n > sizeof(reserve))
		return NULL;
	need = (RESERVE_ALIGN + n + RESERVE_ALIGN - 1) & ~(size_t)(RESERVE_ALIGN - 1);
	if (need > sizeof(reserve) - reserve_used)
		return NULL;
	p = reserve + reserve_used;
	reserve_used += need;
	reserve_live++;
	*(size_t *)(void *)p = n;
	return p + RESERVE_ALIGN;
}

static void
reserve_free(void *p)
{
	unsigned char *h = (unsigned char *)p - RESERVE_ALIGN;

	sat_wipe(p, *(size_t *)(void *)h);
	if (--reserve_live == 0)
		reserve_used = 0;
}

static void *
wipe_malloc(size_t n)
{
	void *p;

	if ((p = malloc(n)) != NULL)
		return p;
	failures++;
	return reserve_alloc(n);
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
	if (in_reserve(p)) {
		reserve_free(p);
		return;
	}
	/* jansson does not say the size: the allocator knows it */
	sat_wipe(p, malloc_usable_size(p));
	free(p);
}

void
jsonmem_init(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}
