/* satoken: a module's parsed configuration, kept between logins.
 *
 * The modules apply an edit of satoken.conf at the very next login, and
 * used to open, read and parse it at every one to do so.  The cache
 * keeps what a caller built from the file (its parsed config plus the
 * caller's own arguments, named by an opaque key) together with the
 * file's identity, and re-reads the file's metadata (one lstat) at every
 * get: a different device, inode, size, mtime, ctime, mode, owner or
 * group, a different euid (the owner check trusts the euid), the file
 * appearing or vanishing, or a file changed within the last two seconds
 * (a second edit inside one timestamp tick would look unchanged) builds
 * afresh.  A rename, chmod, chown or write of the file changes its ctime,
 * so no edit is missed.
 *
 * A value is immutable once built and counted: each get holds a
 * reference until its put, so a rebuild never frees a value a login on
 * another thread still reads.  Thread-safe; the lock is held only for
 * the lookup, not for the build or the login. */
#ifndef SATOKEN_CFGCACHE_H
#define SATOKEN_CFGCACHE_H

#include <pthread.h>
#include <stddef.h>

#define CFG_CACHE_SLOTS	4

struct cfg_entry;

/* What a caller builds from the file (and its key) and how to free it.
 * build returns 0 with *ret set, or a SAT_E_* that get returns as it is
 * (nothing is cached on failure). */
struct cfg_cache_ops {
	int (*build)(void *arg, void **ret);
	void (*free)(void *value);
};

struct cfg_cache {
	pthread_mutex_t lock;
	const struct cfg_cache_ops *ops;
	struct cfg_entry *slot[CFG_CACHE_SLOTS];
	unsigned next;		/* the slot the next new entry replaces */
};

#define CFG_CACHE_INIT(o)	{ PTHREAD_MUTEX_INITIALIZER, (o), { NULL }, 0 }

/* The value built for (path, key) while path has not changed; else calls
 * ops->build(arg) and keeps the result.  path is the file the build
 * reads (absolute); key (keylen bytes) names everything else the build
 * depends on.  A NULL path builds for this get alone, caching nothing.  On 0, *ret_value is borrowed until cfg_cache_put(*ret_ref). */
int cfg_cache_get(struct cfg_cache *cc, const char *path, const void *key,
    size_t keylen, void *arg, void **ret_value, struct cfg_entry **ret_ref);
void cfg_cache_put(struct cfg_cache *cc, struct cfg_entry *ref);

/* Forgets every entry (each is freed once its last reference is put).
 * For the module's destructor and for tests. */
void cfg_cache_clear(struct cfg_cache *cc);

#endif
