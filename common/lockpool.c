#include "lockpool.h"

unsigned
lockpool_take(struct lockpool *p)
{
	unsigned i;

	for (i = 0; i < p->n; i++)
		if (pthread_mutex_trylock(&p->lock[i]) == 0)
			return i;
	i = atomic_fetch_add_explicit(&p->next_wait, 1,
	    memory_order_relaxed) % p->n;
	pthread_mutex_lock(&p->lock[i]);
	return i;
}
