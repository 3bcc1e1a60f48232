#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfgcache.h"
#include "err.h"

/* Within this many seconds of a change, a file is parsed at every get:
 * its next edit could land in the same timestamp tick (racy-git). */
#define CFG_RACY_SECONDS	2

struct file_id {
	int present;
	dev_t dev;
	ino_t ino;
	off_t size;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime, ctime;
};

struct cfg_entry {
	unsigned refs;		/* the slot's, plus one per get not yet put */
	int cached;		/* 0: built for one get only */
	int racy;		/* never reused: see CFG_RACY_SECONDS */
	struct file_id id;
	uid_t euid;
	char *path;
	void *key;
	size_t keylen;
	void *value;
	const struct cfg_cache_ops *ops;
};

/* 0 (present or absent, id filled) or -1 when the path cannot be
 * examined: such a file is built at every get, never cached. */
static int
file_identity(const char *path, struct file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	/* lstat: a symlink put in the file's place is a different identity,
	 * and the build's O_NOFOLLOW open refuses it */
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	id->present = 1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mode = st.st_mode;
	id->uid = st.st_uid;
	id->gid = st.st_gid;
	id->mtime = st.st_mtim;
	id->ctime = st.st_ctim;
	return 0;
}

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int
same_file(const struct file_id *a, const struct file_id *b)
{
	if (a->present != b->present)
		return 0;
	if (!a->present)
		return 1;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
	    same_time(&a->mtime, &b->mtime) && same_time(&a->ctime, &b->ctime);
}

static int
is_racy(const struct file_id *id)
{
	time_t now = time(NULL);

	if (!id->present)
		return 0;
	return id->mtime.tv_sec >= now - CFG_RACY_SECONDS ||
	    id->ctime.tv_sec >= now - CFG_RACY_SECONDS;
}

static void
entry_unref(struct cfg_entry *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	if (e->value != NULL)
		e->ops->free(e->value);
	free(e->path);
	free(e->key);
	free(e);
}

static int
entry_matches(const struct cfg_entry *e, const char *path, const void *key,
    size_t keylen)
{
	return e != NULL && e->keylen == keylen && strcmp(e->path, path) == 0 &&
	    memcmp(e->key, key, keylen) == 0;
}

/* Puts e in the slot of its (path, key), or in the next one round. */
static void
keep(struct cfg_cache *cc, struct cfg_entry *e)
{
	unsigned i, at = CFG_CACHE_SLOTS;

	for (i = 0; i < CFG_CACHE_SLOTS; i++)
		if (entry_matches(cc->slot[i], e->path, e->key, e->keylen))
			at = i;
	if (at == CFG_CACHE_SLOTS) {
		at = cc->next;
		cc->next = (cc->next + 1) % CFG_CACHE_SLOTS;
	}
	entry_unref(cc->slot[at]);
	e->refs++;
	e->cached = 1;
	cc->slot[at] = e;
}

int
cfg_cache_get(struct cfg_cache *cc, const char *path, const void *key,
    size_t keylen, void *arg, void **ret_value, struct cfg_entry **ret_ref)
{
	struct cfg_entry *e;
	struct file_id id;
	uid_t euid = geteuid();
	int known, r;
	unsigned i;

	memset(&id, 0, sizeof(id));
	/* no path: build for this get alone */
	known = path != NULL && file_identity(path, &id) == 0;
	if (path == NULL)
		path = "";
	pthread_mutex_lock(&cc->lock);
	for (i = 0; known && i < CFG_CACHE_SLOTS; i++) {
		e = cc->slot[i];
		if (!entry_matches(e, path, key, keylen) || e->racy ||
		    e->euid != euid || !same_file(&e->id, &id))
			continue;
		e->refs++;
		pthread_mutex_unlock(&cc->lock);
		*ret_value = e->value;
		*ret_ref = e;
		return 0;
	}
	pthread_mutex_unlock(&cc->lock);

	/* built outside the lock: a slow parse does not hold up the logins
	 * whose configuration is already cached */
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return SAT_E_NOMEM;
	e->refs = 1;
	e->ops = cc->ops;
	e->id = id;
	e->euid = euid;
	if ((e->path = strdup(path)) == NULL ||
	    (e->key = malloc(keylen > 0 ? keylen : 1)) == NULL) {
		entry_unref(e);
		return SAT_E_NOMEM;
	}
	if (keylen > 0)
		memcpy(e->key, key, keylen);
	e->keylen = keylen;
	if ((r = cc->ops->build(arg, &e->value)) != 0) {
		e->value = NULL;
		entry_unref(e);
		return r;
	}
	/* identity taken before the read: an edit racing the build shows
	 * as a change at the next get and is read then */
	e->racy = is_racy(&id);
	if (known) {
		pthread_mutex_lock(&cc->lock);
		keep(cc, e);
		pthread_mutex_unlock(&cc->lock);
	}
	*ret_value = e->value;
	*ret_ref = e;
	return 0;
}

void
cfg_cache_put(struct cfg_cache *cc, struct cfg_entry *ref)
{
	if (ref == NULL)
		return;
	if (!ref->cached) {
		entry_unref(ref);	/* never shared: no lock needed */
		return;
	}
	pthread_mutex_lock(&cc->lock);
	entry_unref(ref);
	pthread_mutex_unlock(&cc->lock);
}

void
cfg_cache_clear(struct cfg_cache *cc)
{
	unsigned i;

	pthread_mutex_lock(&cc->lock);
	for (i = 0; i < CFG_CACHE_SLOTS; i++) {
		entry_unref(cc->slot[i]);
		cc->slot[i] = NULL;
	}
	pthread_mutex_unlock(&cc->lock);
}
