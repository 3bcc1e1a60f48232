/* satoken: the pid kept in a page the kernel zeroes in a child.
 *
 * The view's fork check is what keeps a forked child off its parent's
 * open file descriptions (view.c), so the kept pid must never outlive a
 * fork.  pthread_atfork would miss children made by _Fork() or a raw
 * clone(); a page marked MADV_WIPEONFORK (Linux 4.14) reads zero in every
 * child that got a copy of our memory, however it was made, and the
 * child then asks the kernel.  Where the page cannot be had, every call
 * asks the kernel, as before. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "selfpid.h"

static pthread_once_t pid_page_once = PTHREAD_ONCE_INIT;
static _Atomic(_Atomic pid_t *) pid_page;

static void
map_pid_page(void)
{
	long size = sysconf(_SC_PAGESIZE);
	void *p;

	if (size <= 0)
		return;
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	if (madvise(p, (size_t)size, MADV_WIPEONFORK) != 0) {
		munmap(p, (size_t)size);
		return;
	}
	atomic_store(&pid_page, (_Atomic pid_t *)p);
}

pid_t
self_pid(void)
{
	_Atomic pid_t *kept;
	pid_t pid;

	if (pthread_once(&pid_page_once, map_pid_page) != 0 ||
	    (kept = atomic_load(&pid_page)) == NULL)
		return getpid();
	if ((pid = atomic_load_explicit(kept, memory_order_relaxed)) == 0) {
		pid = getpid();
		atomic_store_explicit(kept, pid, memory_order_relaxed);
	}
	return pid;
}
