/* satokend: the follower, a fleet host's copy of the directory (fleet.h
 * says how the thread and the loop share the work). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#include "clock.h"
#include "control.h"
#include "err.h"
#include "csn.h"
#include "fleet.h"
#include "ldapattr.h"
#include "ldapconn.h"
#include "mem.h"
#include "num.h"
#include "role.h"
#include "satokend.h"
#include "store_batch.h"
#include "syncrepl.h"
#include "tindex.h"
#include "usage.h"

#define STEP_MS		200	/* the thread looks at stop this often */
#define QUEUE_MAX	64	/* batches waiting for the loop: a full
				 * refresh of 100k entries is not held in
				 * memory whole when the disk is slower */
#define BACKOFF_MIN_MS	100
/* the longest wait between connection attempts (SATOKEND_FLEET_BACKOFF_MS
 * in tests) while the directory answers but refuses the bind or the
 * search: a fleet big enough for its binds to matter reads from hubs */
#define BACKOFF_MAX_MS	1000
/* no URI answered (refused, or nothing within NET_TIMEOUT_S): asked again
 * this often, which costs a directory that is down nothing; a change
 * made as it comes back then reaches the last host at most a quarter
 * second after it could have */
#define UNREACHED_RETRY_MS 250
#define NET_TIMEOUT_S	3
#define APPLIED_MAX	FLEET_APPLIED_MAX
#define HOST_WRITE_MS	1000	/* a position is written at most this often */
/* a position is written once it has not moved for this long: one
 * request's writes (a revocation, its freed name, the fence of --wait)
 * arrive apart, and writing the first would hold the last back for
 * HOST_WRITE_MS.  The fence, the policy entry, comes last: after it
 * SETTLE_MS, after any other change SETTLE_CHANGE_MS, the time a busy
 * directory may take between a request's first write and its fence (at
 * 100 followers on 2 cores, 60 ms: with 30 ms, each --wait there took a
 * second).  A position nobody waits for is written a little later. */
#define SETTLE_MS		5
#define SETTLE_CHANGE_MS	250
#define COOKIE_HOLD_MS	5000	/* a batch of cookies alone: see flush */
#define APPLY_POLL_MS	5	/* the loop applying: its position soon */
#define HEARTBEAT_MS	10000	/* SATOKEND_FLEET_HEARTBEAT_MS: last contact */
#define LKEY_MAX	(1 + SAT_NAME_MAX + 1)	/* "A"name, "T"id... */
#define USAGE_WRITE_MS	60000	/* SATOKEND_FLEET_USAGE_MS: last use folded
				 * into the directory at most this often */
#define USAGE_OUT_MAX	8192	/* reports waiting for the directory */
#define USAGE_WRITES_PER_STEP 64 /* then back to the search: a change
				 * arriving waits for these, not all 8,192 */
#define CONTACT_WRITE_MS 5000	/* SATOKEND_FLEET_CONTACT_MS: how often the
				 * store's "F:t" follows the contact */

enum rkind {
	R_OTHER, R_ACCOUNT, R_GROUP, R_POLICY, R_TOKEN, R_KEY, R_USAGE
};
enum ekind { E_PUT, E_DELETE, E_PRESENT, E_COOKIE, E_BEGIN, E_DONE };

/* One decoded change.  E_PUT carries the record of its kind; E_BEGIN's
 * flag is 1 for a refresh from no cookie, E_DONE's for a present phase. */
struct fev {
	enum ekind kind;
	char uuid[33];		/* hex */
	int flag;
	enum rkind rk;
	struct sat_account a;
	char version[CONTROL_VERSION_MAX + 1];	/* R_ACCOUNT:
				 * satokenLiveCount as sent; "": none */
	struct sat_group g;
	struct sat_policy p;
	struct sat_token t;
	uint8_t key[TOKEN_KEY_LEN];	/* secret: wiped */
	struct usage_report u;
	char csn[CSN_LEN + 1];	/* E_PUT: its entryCSN, or "" */
	uint8_t *cookie;
	size_t cookie_len;
};

struct fbatch {
	struct fev *v;
	size_t n, cap;
	uint64_t gen;		/* the search it came from */
	struct fbatch *next;
};

/* in the store once a full refresh has brought every account's version
 * (versions_put) */
#define VERSIONS_KEPT_KEY	"F:qv"

/* string -> string (or a set: value NULL), open addressing */
struct smap {
	char **k, **v;
	size_t n, cap;
};

struct fleet {
	pthread_t th;
	int started;
	int efd;
	pthread_mutex_t mu;
	struct fbatch *head, *tail;	/* mu */
	size_t queued;			/* mu: batches from head on */
	int applying;			/* mu: the loop holds batches taken */
	int stop;			/* mu */
	_Atomic uint64_t want_gen;	/* searches before it are dropped */
	_Atomic int64_t contact;	/* Unix seconds of the last contact */
	char applied[APPLIED_MAX + 1];	/* mu: CSN applied, to report */
	int applied_dirty;		/* mu */
	int64_t applied_ms;		/* mu: when it last moved */
	int applied_fence;		/* mu: by the policy entry (SETTLE_MS) */
	int64_t dirty_ms;		/* mu: when it moved unwritten first */
	struct usage_report *uout;	/* mu: last use for the directory */
	size_t uout_n;			/* mu */
	/* the thread's own */
	char *uris, *base, *bind_dn, *pwfile, *host_dn;
	char *host_cn, *pos_dn;		/* cn=HOST,ou=positions,... */
	const char *filter;		/* what of the subtree it follows */
	int heartbeat_ms;
	int position_ms;		/* a moved position written this often */
	int64_t written_ms;		/* the host entry's last write */
	int64_t moved_ms;		/* its last write of a new position */
	int write_rc;			/* its result, logged when it changes */
	int hw_msgid;			/* that write in flight, or 0 */
	int hw_moved;			/* it carries a moved position */
	int hw_add;			/* it adds the position's entry */
	int pos_add;			/* the entry is missing: add it */
	int usage_ms;			/* last use written this often */
	int64_t usage_written_ms;
	struct usage_report *uw;	/* being written, a slice a step */
	size_t uw_n, uw_next;
	int backoff_max_ms;
	int delay_ms;			/* tests: each batch handed late */
	unsigned unreached;		/* connection attempts failed in a row */
	int64_t unreached_ms;		/* since */
	_Atomic uint64_t gen;		/* the search going on */
	struct fbatch *cur;
	struct fbatch *held;		/* cookies alone, held back (flush) */
	int64_t held_ms;		/* since */
	struct berval resume;		/* cookie a reconnect resumes from */
	struct berval pending;		/* cookie of a refresh not ended */
	int in_refresh;
	/* the loop's own */
	struct smap map;		/* uuid -> local key */
	struct smap seen;		/* local keys a refresh reported */
	struct smap unknown;		/* uuids reported present, not yet
					 * sent whole (value non-NULL) */
	struct smap versions;		/* account -> its version, from a
					 * refresh not ended (versions_put) */
	int versions_kept;		/* the store has VERSIONS_KEPT_KEY */
	int refreshing, full;
	uint8_t *cookie;		/* held until the refresh ends */
	size_t cookie_len;
	int have_cookie;
	int changed;			/* a record changed since the last
					 * cookie committed */
	char pos[APPLIED_MAX + 1];	/* per provider, the newest CSN the
					 * committed cookies named */
	int64_t contact_written;	/* "F:t" as last committed */
	int contact_every_s;
};

/* ---- a small string map ---------------------------------------------- */

static size_t
shash(const char *s, size_t cap)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h & (cap - 1);
}

static size_t
sfind(const struct smap *m, const char *k)
{
	size_t i;

	for (i = shash(k, m->cap); m->k[i] != NULL; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->k[i], k) == 0)
			break;
	return i;
}

static void
smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		free(m->k[i]);
		free(m->v[i]);
	}
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static const char *
smap_get(const struct smap *m, const char *k, int *found)
{
	size_t i;

	*found = 0;
	if (m->cap == 0)
		return NULL;
	i = sfind(m, k);
	if (m->k[i] == NULL)
		return NULL;
	*found = 1;
	return m->v[i];
}

static int
smap_put(struct smap *m, const char *k, const char *v)
{
	struct smap nm;
	size_t i;
	char *nk, *nv = NULL;

	if ((m->n + 1) * 2 > m->cap) {
		nm.cap = m->cap ? m->cap * 2 : 256;
		nm.n = m->n;
		if ((nm.k = calloc(nm.cap, sizeof(char *))) == NULL ||
		    (nm.v = calloc(nm.cap, sizeof(char *))) == NULL) {
			free(nm.k);
			return SAT_E_NOMEM;
		}
		for (i = 0; i < m->cap; i++)
			if (m->k[i] != NULL) {
				size_t j = sfind(&nm, m->k[i]);

				nm.k[j] = m->k[i];
				nm.v[j] = m->v[i];
			}
		free(m->k);
		free(m->v);
		*m = nm;
	}
	if (v != NULL && (nv = sat_strdup(v)) == NULL)
		return SAT_E_NOMEM;
	i = sfind(m, k);
	if (m->k[i] != NULL) {
		free(m->v[i]);
		m->v[i] = nv;
		return 0;
	}
	if ((nk = sat_strdup(k)) == NULL) {
		free(nv);
		return SAT_E_NOMEM;
	}
	m->k[i] = nk;
	m->v[i] = nv;
	m->n++;
	return 0;
}

/* ---- the thread: entries into records ---------------------------------- */

static void
fev_free(struct fev *e)
{
	record_free_account(&e->a);
	record_free_group(&e->g);
	record_free_policy(&e->p);
	record_free_token(&e->t);
	sat_wipe(e->key, sizeof(e->key));
	free(e->cookie);
}

static void
batch_free(struct fbatch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		fev_free(&b->v[i]);
	free(b->v);
	free(b);
}

static struct fev *
fev_new(struct fleet *f, enum ekind kind, const struct berval *uuid)
{
	struct fbatch *b = f->cur;
	struct fev *e, *nv;
	size_t i;

	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return NULL;
		b->gen = f->gen;
		f->cur = b;
	}
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 16;

		if ((nv = realloc(b->v, ncap * sizeof(*nv))) == NULL)
			return NULL;
		b->v = nv;
		b->cap = ncap;
	}
	e = &b->v[b->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	if (uuid != NULL)
		for (i = 0; i < uuid->bv_len && i < 16; i++)
			snprintf(e->uuid + 2 * i, 3, "%02x",
			    (unsigned char)uuid->bv_val[i]);
	return e;
}

static void
nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
queue(struct fleet *f, struct fbatch *b)
{
	uint64_t one = 1;

	if (f->delay_ms > 0)
		nap_ms(f->delay_ms);
	pthread_mutex_lock(&f->mu);
	/* the loop applies them in order; wait while it is far behind
	 * (the search's messages wait in the socket meanwhile) */
	while (f->queued >= QUEUE_MAX && !f->stop) {
		pthread_mutex_unlock(&f->mu);
		nap_ms(10);
		pthread_mutex_lock(&f->mu);
	}
	f->queued++;
	if (f->tail != NULL)
		f->tail->next = b;
	else
		f->head = b;
	f->tail = b;
	pthread_mutex_unlock(&f->mu);
	(void)!write(f->efd, &one, sizeof(one));
}

static int
cookies_only(const struct fbatch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].kind != E_COOKIE)
			return 0;
	return 1;
}

static void
queue_held(struct fleet *f)
{
	if (f->held != NULL)
		queue(f, f->held);
	f->held = NULL;
}

/* Hands the batch being built to the loop.  A batch of cookies alone,
 * outside a refresh, is held back instead, a newer one replacing it,
 * until a change comes or it has waited COOKIE_HOLD_MS: the directory
 * sends one for every write this search leaves out, every host's
 * position and last contact, so a fleet of N hosts sends each of them
 * N a second, and each would wake the loop for a commit.  A restart
 * resumes from an older cookie then, and the directory sends those
 * writes' cookies again. */
static void
flush(struct fleet *f)
{
	struct fbatch *b = f->cur;

	f->cur = NULL;
	if (b != NULL && !f->in_refresh && cookies_only(b)) {
		if (f->held == NULL)
			f->held_ms = clock_ms();
		batch_free(f->held);
		f->held = b;
		b = NULL;
	}
	if (b != NULL || (f->held != NULL &&
	    clock_ms() - f->held_ms >= COOKIE_HOLD_MS))
		queue_held(f);
	if (b != NULL)
		queue(f, b);
}

/* The search ended: a held cookie is dropped with it, never committed
 * after what a new search brings. */
static void
drop_held(struct fleet *f)
{
	batch_free(f->held);
	f->held = NULL;
}

static int
attr_list(LDAP *ld, LDAPMessage *e, const char *attr, struct strlist *ret)
{
	struct berval **v;
	char buf[4200];
	size_t i;
	int r = 0;

	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return 0;
	for (i = 0; v[i] != NULL && r == 0; i++) {
		if (v[i]->bv_len >= sizeof(buf) ||
		    memchr(v[i]->bv_val, '\0', v[i]->bv_len) != NULL) {
			r = SAT_E_INVALID;
			break;
		}
		memcpy(buf, v[i]->bv_val, v[i]->bv_len);
		buf[v[i]->bv_len] = '\0';
		r = strlist_add(ret, buf);
	}
	ldap_value_free_len(v);
	return r;
}

static int
attr_bytes(LDAP *ld, LDAPMessage *e, const char *attr, uint8_t *out,
    size_t len)
{
	struct berval **v;
	int r = 0;

	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return SAT_E_INVALID;
	if (v[0] == NULL || v[1] != NULL || v[0]->bv_len != len)
		r = SAT_E_INVALID;
	else
		memcpy(out, v[0]->bv_val, len);
	ldap_value_free_len(v);
	return r;
}

static enum rkind
entry_kind(LDAP *ld, LDAPMessage *e)
{
	static const struct { const char *oc; enum rkind k; } ocs[] = {
		{ "satokenAccount", R_ACCOUNT }, { "satokenGroup", R_GROUP },
		{ "satokenPolicy", R_POLICY }, { "satokenToken", R_TOKEN },
		{ "satokenKey", R_KEY }, { "satokenUsage", R_USAGE },
	};
	struct berval **v;
	enum rkind k = R_OTHER;
	size_t i, j;

	if ((v = ldap_get_values_len(ld, e, "objectClass")) == NULL)
		return R_OTHER;
	for (i = 0; v[i] != NULL; i++)
		for (j = 0; j < sizeof(ocs) / sizeof(ocs[0]); j++)
			if (v[i]->bv_len == strlen(ocs[j].oc) &&
			    strncasecmp(v[i]->bv_val, ocs[j].oc,
			    v[i]->bv_len) == 0)
				k = ocs[j].k;
	ldap_value_free_len(v);
	return k;
}

static int
decode_account(LDAP *ld, LDAPMessage *e, struct sat_account *a)
{
	char buf[64];
	enum sat_role role;
	int64_t v;
	int r;

	if ((r = ldapattr_str(ld, e, "satokenName", a->name, sizeof(a->name))) ||
	    !valid_name(a->name) ||
	    (r = ldapattr_str(ld, e, "satokenRole", buf, sizeof(buf))) ||
	    role_parse(buf, &role) != 0)
		return SAT_E_INVALID;
	a->role = role;
	if ((r = ldapattr_str(ld, e, "satokenSerial", buf, sizeof(buf))) != 0)
		return SAT_E_INVALID;
	if (parse_x64(buf, &a->serial) != 0 || a->serial == 0)
		return SAT_E_INVALID;
	if ((r = ldapattr_bool(ld, e, "satokenEnabled", &a->enabled)) ||
	    (r = ldapattr_i64(ld, e, "satokenCreatedAt", 1, &a->created_at)) ||
	    (r = ldapattr_i64(ld, e, "satokenDaysValid", 0, &v)) ||
	    v > SAT_DAYS_VALID_MAX ||
	    (r = ldapattr_dup(ld, e, "description", &a->description)) ||
	    (r = ldapattr_dup(ld, e, "satokenOwner", &a->owner)) ||
	    (r = ldapattr_dup(ld, e, "satokenPublicKey", &a->public_key)) ||
	    (r = ldapattr_dup(ld, e, "satokenExternalId", &a->external_id)) ||
	    (r = ldapattr_dup(ld, e, "satokenCreatedBy", &a->created_by)) ||
	    (r = attr_list(ld, e, "satokenMemberOf", &a->groups)))
		return r != 0 ? r : SAT_E_INVALID;
	a->days_valid = (uint32_t)v;
	/* who disabled it is not in the directory: the strictest reading */
	a->disabled_by = a->enabled ? 0 : ROLE_ADMIN;
	return 0;
}

static int
decode_token(LDAP *ld, LDAPMessage *e, struct sat_token *t)
{
	char buf[SAT_TOKEN_NAME_MAX * 4 + 1];
	int64_t ttl, max_offline;
	int disabled = 0, canary = 0, r;

	if ((r = ldapattr_str(ld, e, "satokenTokenId", t->id, sizeof(t->id))) ||
	    strlen(t->id) != TOKEN_ID_LEN ||
	    (r = ldapattr_str(ld, e, "satokenAccount", t->account,
	    sizeof(t->account))) || !valid_name(t->account) ||
	    (r = ldapattr_str(ld, e, "satokenTokenName", buf, sizeof(buf))) ||
	    (t->name = sat_strdup(buf)) == NULL ||
	    (r = attr_bytes(ld, e, "satokenDigest", t->digest,
	    sizeof(t->digest))) ||
	    (r = ldapattr_i64(ld, e, "satokenCreatedAt", 1, &t->created_at)) ||
	    (r = ldapattr_i64(ld, e, "satokenExpiresAt", 1, &t->expires_at)) ||
	    (r = ldapattr_i64(ld, e, "satokenTtl", 0, &ttl)) ||
	    (r = ldapattr_i64(ld, e, "satokenRevokedAt", 0, &t->revoked_at)) ||
	    (r = ldapattr_dup(ld, e, "satokenCreatedBy", &t->created_by)) ||
	    (r = ldapattr_dup(ld, e, "description", &t->description)) ||
	    (r = attr_list(ld, e, "satokenService", &t->services)) ||
	    (r = attr_list(ld, e, "satokenSource", &t->sources)) ||
	    (r = ldapattr_bool(ld, e, "satokenDisabled", &disabled)) ||
	    (r = ldapattr_bool(ld, e, "satokenCanary", &canary)) ||
	    (r = ldapattr_i64(ld, e, "satokenMaxOffline", 0, &max_offline)) ||
	    max_offline < 0 || max_offline > UINT32_MAX)
		return r != 0 ? r : SAT_E_INVALID;
	t->ttl = (uint64_t)ttl;
	t->max_offline = (uint32_t)max_offline;
	r = ldapattr_str(ld, e, "satokenReplacedBy", t->replaced_by,
	    sizeof(t->replaced_by));
	if (r != 0 && r != SAT_E_NOTFOUND)
		return r;
	/* the directory keeps no time for a disable: the token's creation
	 * marks it, the same on every host */
	if (disabled)
		t->disabled_at = t->created_at > 0 ? t->created_at : 1;
	t->canary = canary;
	return 0;
}

/* One host's report of a token's last use.  Advisory, as a module's
 * datagram is: what a host may claim is bounded like one (a valid id, a
 * time not ahead of ours, fields a datagram could carry). */
static int
decode_usage(LDAP *ld, LDAPMessage *e, struct usage_report *u)
{
	int64_t now = (int64_t)time(NULL);
	int r;

	if ((r = ldapattr_str(ld, e, "satokenTokenId", u->id, sizeof(u->id))) ||
	    !token_id_valid(u->id, strlen(u->id)) ||
	    (r = ldapattr_i64(ld, e, "satokenLastUsedAt", 1, &u->at)) || u->at <= 0)
		return r != 0 ? r : SAT_E_INVALID;
	if (u->at > now)
		u->at = now;
	r = ldapattr_str(ld, e, "satokenLastUsedService", u->service,
	    sizeof(u->service));
	if (r == 0 && !valid_service(u->service))
		u->service[0] = '\0';
	if (r != 0 && r != SAT_E_NOTFOUND)
		return r;
	r = ldapattr_str(ld, e, "satokenLastUsedRhost", u->rhost,
	    sizeof(u->rhost));
	if (r != 0 && r != SAT_E_NOTFOUND)
		return r;
	snprintf(u->reason, sizeof(u->reason), "ok");
	return 0;
}

static int
decode_entry(LDAP *ld, LDAPMessage *e, struct fev *ev)
{
	int r = 0;

	ev->rk = entry_kind(ld, e);
	switch (ev->rk) {
	case R_ACCOUNT:
		if ((r = decode_account(ld, e, &ev->a)) != 0)
			break;
		/* control.h: the version max_tokens_per_account is kept by */
		if (ldapattr_str(ld, e, "satokenLiveCount", ev->version,
		    sizeof(ev->version)) != 0)
			ev->version[0] = '\0';
		break;
	case R_GROUP:
		if ((r = ldapattr_str(ld, e, "satokenName", ev->g.name,
		    sizeof(ev->g.name))) || !valid_name(ev->g.name) ||
		    (r = ldapattr_i64(ld, e, "satokenCreatedAt", 1,
		    &ev->g.created_at)) ||
		    (r = ldapattr_dup(ld, e, "description", &ev->g.description)) ||
		    (r = ldapattr_dup(ld, e, "satokenCreatedBy", &ev->g.created_by)))
			r = r != 0 ? r : SAT_E_INVALID;
		break;
	case R_POLICY:
		r = attr_list(ld, e, "satokenPolicyGroup", &ev->p.groups);
		break;
	case R_TOKEN:
		r = decode_token(ld, e, &ev->t);
		break;
	case R_KEY:
		r = attr_bytes(ld, e, "satokenHmacKey", ev->key,
		    sizeof(ev->key));
		break;
	case R_USAGE:
		r = decode_usage(ld, e, &ev->u);
		break;
	case R_OTHER:
		break;
	}
	return r;
}

static int
on_entry(void *arg, int state, const struct berval *uuid, LDAP *ld,
    LDAPMessage *e)
{
	struct fleet *f = arg;
	struct fev *ev;
	char *dn;

	if ((ev = fev_new(f, state == LDAP_SYNC_PRESENT ? E_PRESENT : E_PUT,
	    uuid)) == NULL)
		return SAT_E_NOMEM;
	if (state == LDAP_SYNC_PRESENT)
		return 0;
	if (ldapattr_str(ld, e, "entryCSN", ev->csn, sizeof(ev->csn)) != 0 ||
	    !csn_valid(ev->csn, strlen(ev->csn)))
		ev->csn[0] = '\0';
	if (decode_entry(ld, e, ev) != 0) {
		/* what the entry was here goes: an entry we cannot read must
		 * not leave its last good version authenticating */
		dn = ldap_get_dn(ld, e);
		dlog(LOG_WARNING, "directory: entry %s does not decode; its "
		    "local copy is removed", dn != NULL ? dn : "?");
		ldap_memfree(dn);
		fev_free(ev);
		memset(&ev->a, 0, sizeof(*ev) - offsetof(struct fev, a));
		ev->rk = R_OTHER;
	}
	return 0;
}

static int
on_deleted(void *arg, const struct berval *uuid, const char *dn)
{
	(void)dn;
	return fev_new(arg, E_DELETE, uuid) == NULL ? SAT_E_NOMEM : 0;
}

static int
on_idset(void *arg, int deletes, BerVarray uuids)
{
	size_t i;

	for (i = 0; uuids != NULL && uuids[i].bv_val != NULL; i++)
		if (fev_new(arg, deletes ? E_DELETE : E_PRESENT,
		    &uuids[i]) == NULL)
			return SAT_E_NOMEM;
	return 0;
}

static int
bv_set(struct berval *dst, const struct berval *src)
{
	char *p;

	if ((p = malloc(src->bv_len + 1)) == NULL)
		return SAT_E_NOMEM;
	memcpy(p, src->bv_val, src->bv_len);
	free(dst->bv_val);
	dst->bv_val = p;
	dst->bv_len = src->bv_len;
	return 0;
}

static int
on_cookie(void *arg, const struct berval *cookie)
{
	struct fleet *f = arg;
	struct fev *ev;

	/* a reconnect resumes from a cookie that ended a refresh, never
	 * from one in its middle (the deletions it implies would be lost) */
	if (bv_set(f->in_refresh ? &f->pending : &f->resume, cookie) != 0 ||
	    (ev = fev_new(f, E_COOKIE, NULL)) == NULL ||
	    (ev->cookie = malloc(cookie->bv_len + 1)) == NULL)
		return SAT_E_NOMEM;
	memcpy(ev->cookie, cookie->bv_val, cookie->bv_len);
	ev->cookie_len = cookie->bv_len;
	return 0;
}

static int
on_refresh_done(void *arg, int present)
{
	struct fleet *f = arg;
	struct fev *ev;

	if ((ev = fev_new(f, E_DONE, NULL)) == NULL)
		return SAT_E_NOMEM;
	ev->flag = present;
	f->in_refresh = 0;
	if (f->pending.bv_val != NULL && bv_set(&f->resume, &f->pending) != 0)
		return SAT_E_NOMEM;
	return 0;
}

static const struct sync_handler handler = {
	.entry = on_entry,
	.deleted = on_deleted,
	.idset = on_idset,
	.cookie = on_cookie,
	.refresh_done = on_refresh_done,
};

static int
stopping(struct fleet *f)
{
	int s;

	pthread_mutex_lock(&f->mu);
	s = f->stop;
	pthread_mutex_unlock(&f->mu);
	return s;
}

static void
nap(struct fleet *f, int ms)
{
	struct timespec ts = { 0, 50 * 1000000L };

	for (; ms > 0 && !stopping(f); ms -= 50)
		nanosleep(&ts, NULL);
}

/* A directory away for an hour is one warning when it goes and one
 * notice when it is back, not a line a second from every host. */
static LDAP *
connect_bind(struct fleet *f, int *rc)
{
	LDAP *ld;

	ld = ldapconn_open_q(f->uris, f->bind_dn, f->pwfile, NET_TIMEOUT_S,
	    f->unreached > 0, rc);
	if (ld == NULL) {
		if (f->unreached++ == 0)
			f->unreached_ms = clock_ms();
	} else if (f->unreached > 0) {
		dlog(LOG_NOTICE, "directory %s: bound again after %u attempts "
		    "in %lld s", f->uris, f->unreached,
		    (long long)(clock_ms() - f->unreached_ms) / 1000);
		f->unreached = 0;
	}
	return ld;
}

/* When a moved position may be written (mu held): once it has not moved
 * for SETTLE_MS after a fence or SETTLE_CHANGE_MS after another change,
 * or has waited position_ms (HOST_WRITE_MS), and as long after the last
 * moved one. */
static int64_t
move_due_ms(const struct fleet *f)
{
	int64_t due = f->applied_ms +
	    (f->applied_fence ? SETTLE_MS : SETTLE_CHANGE_MS);

	if (due > f->dirty_ms + f->position_ms)
		due = f->dirty_ms + f->position_ms;
	if (due < f->moved_ms + f->position_ms)
		due = f->moved_ms + f->position_ms;
	return due;
}

/* A write that did not land: a moved position it carried goes again. */
static void
host_write_failed(struct fleet *f, int moved, int rc)
{
	if (moved) {
		pthread_mutex_lock(&f->mu);
		f->applied_dirty = 1;
		pthread_mutex_unlock(&f->mu);
	}
	if (rc != f->write_rc && rc != LDAP_SUCCESS)
		dlog(LOG_WARNING, "directory: cannot write %s: %s", f->pos_dn,
		    ldap_err2string(rc));
	f->write_rc = rc;
}

/* The host entry's write in flight, if any: its answer, when come.
 * LDAP_SUCCESS also while it is still on its way; a write unanswered
 * for NET_TIMEOUT_S is a silent network. */
static int
host_write_done(struct fleet *f, LDAP *ld)
{
	struct timeval now = { 0, 0 };
	LDAPMessage *m = NULL;
	int rc, type;

	if (f->hw_msgid == 0)
		return LDAP_SUCCESS;
	type = ldap_result(ld, f->hw_msgid, LDAP_MSG_ALL, &now, &m);
	if (type == 0)
		return clock_ms() - f->written_ms > NET_TIMEOUT_S * 1000 ?
		    LDAP_TIMEOUT : LDAP_SUCCESS;
	if (type == -1 || ldap_parse_result(ld, m, &rc, NULL, NULL, NULL,
	    NULL, 1) != LDAP_SUCCESS)
		rc = LDAP_SERVER_DOWN;
	f->hw_msgid = 0;
	/* a host's first write adds its entry; one added meanwhile (the
	 * other provider's copy, say) is written as usual; neither is
	 * worth a log line */
	if (f->hw_add)
		f->pos_add = 0;
	else if (rc == LDAP_NO_SUCH_OBJECT)
		f->pos_add = 1;
	host_write_failed(f, rc != LDAP_SUCCESS && f->hw_moved,
	    (rc == LDAP_NO_SUCH_OBJECT && !f->hw_add) ||
	    (rc == LDAP_ALREADY_EXISTS && f->hw_add) ? f->write_rc : rc);
	return rc;
}

/* The connection gone: a write in flight may or may not have landed,
 * and a moved position it carried goes again on the next. */
static void
host_write_lost(struct fleet *f)
{
	if (f->hw_msgid != 0 && f->hw_moved)
		host_write_failed(f, 1, f->write_rc);
	f->hw_msgid = 0;
}

/* The host's position entry (cn=HOST,ou=positions): the position
 * applied (when it moved, at most once a second) and the time of
 * contact (every heartbeat), for fleet status and --wait; added by the
 * first write that finds it missing.  Only record changes move the
 * position: the hosts' own writes (their usage reports) replicate too,
 * and counting them would make every host write again for every other
 * host's write, forever.  A heartbeat does
 * not use up the second a moved position waits for: with it, a change
 * that came just after one waited a second to be confirmed, and in a
 * fleet of many hosts some host had always just written its heartbeat.
 * It carries the position only when that has not moved since written,
 * so a moved one still goes out at most once a second.
 *
 * Sent without waiting for the answer (host_write_done takes it): every
 * host writes after every change, slapd commits those writes one at a
 * time, and a follower waiting for its own turn applied nothing
 * meanwhile, so at 100 followers a revocation now and then waited the
 * whole queue of the previous one's position writes. */
static int
host_write(struct fleet *f, LDAP *ld)
{
	char applied[APPLIED_MAX + 1], contact[24];
	char *cvals[2] = { contact, NULL }, *avals[2] = { applied, NULL };
	char *ocvals[2] = { "satokenHost", NULL };
	char *cnvals[2] = { f->host_cn, NULL };
	LDAPMod mc, ma, moc, mcn, *mods[5] = { &mc, NULL, NULL, NULL, NULL };
	int64_t t;
	int move, held, rc, msgid, add = f->pos_add;
	size_t k = 1;

	if ((rc = host_write_done(f, ld)) != LDAP_SUCCESS || f->hw_msgid != 0)
		return rc;
	t = clock_ms();
	pthread_mutex_lock(&f->mu);
	move = f->applied_dirty && (t >= move_due_ms(f) || add);
	if (!move && !add && t - f->written_ms < f->heartbeat_ms &&
	    f->written_ms) {
		pthread_mutex_unlock(&f->mu);
		return LDAP_SUCCESS;
	}
	held = f->applied_dirty && !move;
	if (held)
		applied[0] = '\0';
	else
		memcpy(applied, f->applied, sizeof(applied));
	if (move)
		f->applied_dirty = 0;
	pthread_mutex_unlock(&f->mu);
	snprintf(contact, sizeof(contact), "%lld", (long long)time(NULL));
	memset(&mc, 0, sizeof(mc));
	mc.mod_op = add ? LDAP_MOD_ADD : LDAP_MOD_REPLACE;
	mc.mod_type = "satokenLastContact";
	mc.mod_values = cvals;
	if (applied[0] != '\0') {
		memset(&ma, 0, sizeof(ma));
		ma.mod_op = mc.mod_op;
		ma.mod_type = "satokenApplied";
		ma.mod_values = avals;
		mods[k++] = &ma;
	}
	if (add) {
		memset(&moc, 0, sizeof(moc));
		moc.mod_op = LDAP_MOD_ADD;
		moc.mod_type = "objectClass";
		moc.mod_values = ocvals;
		mods[k++] = &moc;
		memset(&mcn, 0, sizeof(mcn));
		mcn.mod_op = LDAP_MOD_ADD;
		mcn.mod_type = "cn";
		mcn.mod_values = cnvals;
		mods[k++] = &mcn;
		rc = ldap_add_ext(ld, f->pos_dn, mods, NULL, NULL, &msgid);
	} else
		rc = ldap_modify_ext(ld, f->pos_dn, mods, NULL, NULL, &msgid);
	f->written_ms = t;
	if (move)
		f->moved_ms = t;
	if (rc == LDAP_SUCCESS) {
		f->hw_msgid = msgid;
		f->hw_moved = move;
		f->hw_add = add;
		return LDAP_SUCCESS;
	}
	host_write_failed(f, move, rc);
	return rc;
}

/* This host's logins' last use, folded into the directory (one
 * satokenUsage entry per token under the host's own entry) at most
 * every usage_ms, never per login: every host's follower reads them
 * back and keeps the latest.  Written a slice per step of the search,
 * so that a revocation arriving meanwhile is not held behind thousands
 * of synchronous writes.  A report the directory refused is dropped,
 * not retried: the next login brings a newer one. */
static void
usage_write(struct fleet *f, LDAP *ld)
{
	char dn[1700], at[24], *oc[2] = { "satokenUsage", NULL };
	char *idv[2], *atv[2] = { at, NULL }, *sv[2], *rv[2];
	LDAPMod m[5], *mods[6];
	int64_t t = clock_ms();
	size_t end, i, k;
	int rc, failed = 0, last_rc = LDAP_SUCCESS;

	if (f->uw == NULL) {
		pthread_mutex_lock(&f->mu);
		if (f->uout_n == 0 || t - f->usage_written_ms < f->usage_ms) {
			pthread_mutex_unlock(&f->mu);
			return;
		}
		f->uw = f->uout;
		f->uw_n = f->uout_n;
		f->uw_next = 0;
		f->uout = NULL;
		f->uout_n = 0;
		pthread_mutex_unlock(&f->mu);
		f->usage_written_ms = t;
	}
	end = f->uw_n - f->uw_next > USAGE_WRITES_PER_STEP ?
	    f->uw_next + USAGE_WRITES_PER_STEP : f->uw_n;
	for (i = f->uw_next; i < end; i++) {
		struct usage_report *u = &f->uw[i];

		snprintf(dn, sizeof(dn), "satokenTokenId=%s,%s", u->id,
		    f->host_dn);
		snprintf(at, sizeof(at), "%lld", (long long)u->at);
		idv[0] = u->id;
		idv[1] = NULL;
		sv[0] = u->service;
		sv[1] = NULL;
		rv[0] = u->rhost;
		rv[1] = NULL;
		memset(m, 0, sizeof(m));
		k = 0;
		m[k].mod_op = LDAP_MOD_REPLACE;
		m[k].mod_type = "satokenLastUsedAt";
		m[k++].mod_values = atv;
		m[k].mod_op = LDAP_MOD_REPLACE;
		m[k].mod_type = "satokenLastUsedService";
		m[k++].mod_values = u->service[0] != '\0' ? sv : NULL;
		m[k].mod_op = LDAP_MOD_REPLACE;
		m[k].mod_type = "satokenLastUsedRhost";
		m[k++].mod_values = u->rhost[0] != '\0' ? rv : NULL;
		mods[0] = &m[0];
		mods[1] = &m[1];
		mods[2] = &m[2];
		mods[3] = NULL;
		rc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
		if (rc == LDAP_NO_SUCH_OBJECT) {
			/* the first report of this token from this host */
			m[3].mod_op = LDAP_MOD_ADD;
			m[3].mod_type = "objectClass";
			m[3].mod_values = oc;
			m[4].mod_op = LDAP_MOD_ADD;
			m[4].mod_type = "satokenTokenId";
			m[4].mod_values = idv;
			k = 0;
			mods[k++] = &m[3];
			mods[k++] = &m[4];
			m[0].mod_op = LDAP_MOD_ADD;
			mods[k++] = &m[0];
			if (u->service[0] != '\0') {
				m[1].mod_op = LDAP_MOD_ADD;
				mods[k++] = &m[1];
			}
			if (u->rhost[0] != '\0') {
				m[2].mod_op = LDAP_MOD_ADD;
				mods[k++] = &m[2];
			}
			mods[k] = NULL;
			rc = ldap_add_ext_s(ld, dn, mods, NULL, NULL);
		}
		if (rc != LDAP_SUCCESS) {
			failed++;
			last_rc = rc;
		}
	}
	if (failed > 0)
		dlog(LOG_WARNING, "directory: %d of %zu last-use reports not "
		    "written under %s: %s", failed, end - f->uw_next,
		    f->host_dn, ldap_err2string(last_rc));
	f->uw_next = end;
	if (end == f->uw_n) {
		free(f->uw);
		f->uw = NULL;
	}
}

int
fleet_usage_push(struct fleet *f, const struct usage_report *u)
{
	int r = 0;

	pthread_mutex_lock(&f->mu);
	if (f->uout == NULL &&
	    (f->uout = calloc(USAGE_OUT_MAX, sizeof(*f->uout))) == NULL)
		r = SAT_E_NOMEM;
	else if (f->uout_n == USAGE_OUT_MAX)
		r = SAT_E_QUOTA;	/* the directory is away: kept locally */
	else
		f->uout[f->uout_n++] = *u;
	pthread_mutex_unlock(&f->mu);
	return r;
}

/* How long the search may wait for its next message before host_write
 * must look again: while the loop applies changes, soon; while a moved
 * position waits, until it is due.  A 30 ms grid instead put a position
 * written 30 to 60 ms after its last change, 15 ms of every --wait. */
static int
step_ms(struct fleet *f)
{
	int64_t due;
	int step = STEP_MS;

	pthread_mutex_lock(&f->mu);
	if (f->queued > 0 || f->applying)
		step = APPLY_POLL_MS;
	else if (f->applied_dirty) {
		due = move_due_ms(f) - clock_ms();
		step = due < 1 ? 1 : due < STEP_MS ? (int)due : STEP_MS;
		/* due, but the last write's answer is not in yet */
		if (f->hw_msgid != 0 && step < APPLY_POLL_MS)
			step = APPLY_POLL_MS;
	}
	pthread_mutex_unlock(&f->mu);
	return step;
}

static void *
fleet_main(void *arg)
{
	struct fleet *f = arg;
	enum sync_state state;
	LDAP *ld = NULL;
	struct fev *ev;
	int msgid = 0, backoff = BACKOFF_MIN_MS, r, step;
	uint64_t want;

	while (!stopping(f)) {
		if (ld == NULL) {
			if ((ld = connect_bind(f, &r)) == NULL) {
				nap(f, r == LDAP_SERVER_DOWN &&
				    backoff > UNREACHED_RETRY_MS ?
				    UNREACHED_RETRY_MS : backoff);
				backoff = backoff * 2 > f->backoff_max_ms ?
				    f->backoff_max_ms : backoff * 2;
				continue;
			}
			f->gen++;
			want = atomic_load(&f->want_gen);
			if (f->gen < want)
				f->gen = want;
			if (f->gen == want && f->resume.bv_val != NULL) {
				/* the loop asked for a full refresh */
				free(f->resume.bv_val);
				f->resume.bv_val = NULL;
				f->resume.bv_len = 0;
			}
			free(f->pending.bv_val);
			f->pending.bv_val = NULL;
			f->pending.bv_len = 0;
			f->in_refresh = 1;
			if ((ev = fev_new(f, E_BEGIN, NULL)) == NULL ||
			    syncrepl_start(ld, f->base, f->filter, &f->resume,
			    &msgid) != 0) {
				batch_free(f->cur);
				f->cur = NULL;
				goto drop;
			}
			ev->flag = f->resume.bv_len == 0;
			atomic_store(&f->contact, (int64_t)time(NULL));
			backoff = BACKOFF_MIN_MS;
		}
		step = step_ms(f);
		r = syncrepl_step(ld, msgid, step, &handler, f, &state);
		if (r != 0)
			goto drop;
		atomic_store(&f->contact, (int64_t)time(NULL));
		flush(f);
		/* a silent network (no reset) shows at the heartbeat's write:
		 * a contact that is not one must not be counted as one */
		r = host_write(f, ld);
		if (r == LDAP_SERVER_DOWN || r == LDAP_TIMEOUT ||
		    r == LDAP_CONNECT_ERROR)
			goto drop;
		usage_write(f, ld);
		if (state == SYNC_REFRESH_REQUIRED) {
			dlog(LOG_NOTICE, "directory: cookie too old; full "
			    "refresh");
			free(f->resume.bv_val);
			f->resume.bv_val = NULL;
			f->resume.bv_len = 0;
		}
		if (state != SYNC_GOING ||
		    atomic_load(&f->want_gen) > f->gen) {
			drop_held(f);
			host_write_lost(f);
			ldap_unbind_ext_s(ld, NULL, NULL);
			ld = NULL;
		}
		continue;
drop:
		/* what came from a broken search is not applied */
		batch_free(f->cur);
		f->cur = NULL;
		drop_held(f);
		dlog(LOG_WARNING, "directory %s: connection lost; retrying",
		    f->uris);
		host_write_lost(f);
		if (ld != NULL)
			ldap_unbind_ext_s(ld, NULL, NULL);
		ld = NULL;
		nap(f, backoff);
	}
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	batch_free(f->cur);
	f->cur = NULL;
	drop_held(f);
	return NULL;
}

/* ---- the loop: batches into the store ---------------------------------- */

static int
stage_map(struct store *s, const char *uuid, const char *lkey)
{
	char k[40];

	snprintf(k, sizeof(k), "F:u:%s", uuid);
	return store_stage_raw(s, k, strlen(k), lkey, strlen(lkey));
}

static void
local_key(const struct fev *e, char out[LKEY_MAX])
{
	switch (e->rk) {
	case R_ACCOUNT: snprintf(out, LKEY_MAX, "A%s", e->a.name); break;
	case R_GROUP:	snprintf(out, LKEY_MAX, "G%s", e->g.name); break;
	case R_POLICY:	snprintf(out, LKEY_MAX, "P"); break;
	case R_TOKEN:	snprintf(out, LKEY_MAX, "T%s", e->t.id); break;
	case R_KEY:	snprintf(out, LKEY_MAX, "K"); break;
	case R_USAGE:	snprintf(out, LKEY_MAX, "U%s", e->u.id); break;
	default:	snprintf(out, LKEY_MAX, "-"); break;
	}
}

static int
del_token(struct store *s, const char *id, int64_t now)
{
	struct sat_token old, after;
	int r;

	memset(&old, 0, sizeof(old));
	memset(&after, 0, sizeof(after));
	if ((r = store_get_token(s, id, &old)) == SAT_E_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	/* the index counts live tokens: this one stops being one */
	if ((r = record_copy_token(&after, &old)) == 0) {
		if (after.revoked_at == 0)
			after.revoked_at = now;
		r = tindex_update(s, &old, &after);
	}
	if (r == 0)
		r = store_delete_token(s, id);
	record_free_token(&old);
	record_free_token(&after);
	return r;
}

/* 1 for a local key that names a record the logins read. */
static int
is_record(const char *lk)
{
	return strchr("AGPTK", lk[0]) != NULL && lk[0] != '\0';
}

/* Removes what local key k names from the store. */
static int
del_local(struct server *sv, const char *k)
{
	struct store *s = sv->st.store;
	struct sat_policy none;
	char hk[80];
	int r;

	switch (k[0]) {
	case 'A':
		names_remove(&sv->st.accounts, k + 1);
		if ((r = control_mint_version_forget(s, k + 1)) != 0)
			return r;
		return store_delete_account(s, k + 1);
	case 'G':
		names_remove(&sv->st.groups, k + 1);
		return store_delete_group(s, k + 1);
	case 'T':
		return del_token(s, k + 1, sv->st.now);
	case 'P':
		memset(&none, 0, sizeof(none));
		return store_put_policy(s, &none);
	case 'H':
		/* a host entry, as a copy made before the positions had a
		 * database of their own kept it ("F:h:NAME"): a full
		 * refresh drops them all */
		snprintf(hk, sizeof(hk), "F:h:%s", k + 1);
		return store_stage_raw(s, hk, strlen(hk), "", 0);
	default:
		/* the key stays: tokens that remain were made with it */
		return 0;
	}
}

static int
put_token(struct store *s, const struct sat_token *t)
{
	struct sat_token old, live;
	int r;

	memset(&old, 0, sizeof(old));
	memset(&live, 0, sizeof(live));
	r = store_get_token(s, t->id, &old);
	if (r == 0) {
		/* what only this host knows is not in the directory: a
		 * process the token is bound to, the expiry warning given,
		 * when it was disabled; a control host gets its own writes
		 * back and must not lose them */
		if ((r = record_copy_token(&live, t)) == 0) {
			live.bind_pid = old.bind_pid;
			live.bind_start = old.bind_start;
			live.warned_at = old.warned_at;
			if (live.disabled_at != 0 && old.disabled_at != 0)
				live.disabled_at = old.disabled_at;
			/* nothing un-revokes a token: an older version of
			 * its entry still queued when a control host's own
			 * revocation was committed must not bring it back */
			if (old.revoked_at != 0 && live.revoked_at == 0)
				live.revoked_at = old.revoked_at;
			r = tindex_update(s, &old, &live);
		}
		if (r == 0)
			r = store_put_token(s, &live);
		record_free_token(&old);
		record_free_token(&live);
		return r;
	}
	if (r != SAT_E_NOTFOUND)
		return r;
	if ((r = store_put_token(s, t)) != 0 ||
	    (r = record_copy_token(&live, t)) != 0)
		return r;
	/* indexed as minted, then as it is now */
	live.revoked_at = 0;
	if ((r = tindex_add(s, &live)) == 0 && t->revoked_at != 0)
		r = tindex_update(s, &live, t);
	record_free_token(&live);
	return r;
}

/* held: this control host disabled the account by itself and has not
 * written that to the directory yet (control.h): it stays disabled */
static int
put_account(struct store *s, const struct sat_account *a, int held)
{
	struct sat_account old, now;
	int r;

	memset(&old, 0, sizeof(old));
	memset(&now, 0, sizeof(now));
	if (held && a->enabled && store_get_account(s, a->name, &old) == 0) {
		if (!old.enabled) {
			if ((r = record_copy_account(&now, a)) == 0) {
				now.enabled = 0;
				now.disabled_by = old.disabled_by;
				r = store_put_account(s, &now);
			}
			record_free_account(&old);
			record_free_account(&now);
			return r;
		}
		record_free_account(&old);
		memset(&old, 0, sizeof(old));
	}
	if (a->enabled || store_get_account(s, a->name, &old) != 0 ||
	    old.enabled || old.serial != a->serial)
		r = store_put_account(s, a);
	else if ((r = record_copy_account(&now, a)) == 0) {
		/* who disabled it is this host's to know (a contributor may
		 * enable what it disabled itself), not the directory's */
		now.disabled_by = old.disabled_by;
		r = store_put_account(s, &now);
	}
	record_free_account(&old);
	record_free_account(&now);
	return r;
}

static int
put_key(struct store *s, const uint8_t key[TOKEN_KEY_LEN], int *changed)
{
	struct sat_meta m;
	struct wbuf w;
	int r;

	if (memcmp(store_hmac_key(s), key, TOKEN_KEY_LEN) == 0)
		return 0;
	memset(&m, 0, sizeof(m));
	m.schema = STORE_SCHEMA;
	memcpy(m.hmac_key, key, TOKEN_KEY_LEN);
	m.created_at = (int64_t)time(NULL);
	wbuf_init(&w);
	if ((r = record_encode_meta(&m, &w)) == 0)
		r = store_stage_raw(s, "m", 1, w.p, w.len);
	wbuf_free(&w);
	sat_wipe(&m, sizeof(m));
	if (r == 0)
		*changed = 1;
	return r;
}

static int
put_local(struct server *sv, const struct fev *e, int *key_changed)
{
	struct store *s = sv->st.store;
	struct sat_token none;
	char k[STORE_KEY_MAX];
	int r, staged;

	switch (e->rk) {
	case R_ACCOUNT:
		snprintf(k, sizeof(k), "a:%s", e->a.name);
		if ((r = put_account(s, &e->a, control_bg_held(
		    sv->st.control, k, strlen(k)))) == 0 &&
		    !names_contains(&sv->st.accounts, e->a.name))
			r = names_insert(&sv->st.accounts, e->a.name);
		return r;
	case R_GROUP:
		if ((r = store_put_group(s, &e->g)) == 0 &&
		    !names_contains(&sv->st.groups, e->g.name))
			r = names_insert(&sv->st.groups, e->g.name);
		return r;
	case R_POLICY:
		return store_put_policy(s, &e->p);
	case R_TOKEN:
		/* purged here, its deletion not yet in the directory: an
		 * entry still there does not bring it back */
		snprintf(k, sizeof(k), "t:%s", e->t.id);
		memset(&none, 0, sizeof(none));
		if (control_bg_held(sv->st.control, k, strlen(k)) &&
		    store_get_token(s, e->t.id, &none) == SAT_E_NOTFOUND)
			return 0;
		record_free_token(&none);
		return put_token(s, &e->t);
	case R_KEY:
		return put_key(s, e->key, key_changed);
	case R_USAGE:
		/* last use over the fleet: the latest any host reported */
		return usage_keep_latest(s, &e->u, &staged);
	default:
		return 0;
	}
}

struct sweep {
	struct server *sv;
	struct fleet *f;
	struct strlist gone;
};

static int
sweep_cb(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct sweep *w = arg;
	char lk[LKEY_MAX];
	const char *k = key;
	int found;

	(void)val;
	/* host entries a copy from before ou=positions kept (del_local) */
	if (klen > 4 && klen - 4 < sizeof(lk) - 1 && vlen > 0 &&
	    memcmp(k, "F:h:", 4) == 0) {
		lk[0] = 'H';
		memcpy(lk + 1, k + 4, klen - 4);
		lk[klen - 3] = '\0';
		(void)smap_get(&w->f->seen, lk, &found);
		return found ? 0 : strlist_add(&w->gone, lk);
	}
	if (klen < 3 || k[1] != ':' || klen - 2 > SAT_NAME_MAX ||
	    (k[0] != 'a' && k[0] != 'g' && k[0] != 't'))
		return 0;
	lk[0] = k[0] == 'a' ? 'A' : k[0] == 'g' ? 'G' : 'T';
	memcpy(lk + 1, k + 2, klen - 2);
	lk[klen - 1] = '\0';
	(void)smap_get(&w->f->seen, lk, &found);
	return found ? 0 : strlist_add(&w->gone, lk);
}

/* The end of a present phase: every local account, group and token the
 * refresh did not report is gone from the directory. */
static int
sweep_unseen(struct server *sv, struct fleet *f)
{
	struct sweep w;
	struct sat_policy none;
	size_t i;
	int found, r;

	w.sv = sv;
	w.f = f;
	strlist_init(&w.gone);
	r = store_export(sv->st.store, sweep_cb, &w);
	for (i = 0; r == 0 && i < w.gone.n; i++)
		r = del_local(sv, w.gone.v[i]);
	if (r == 0 && w.gone.n > 0)
		dlog(LOG_NOTICE, "directory: %zu local records the directory "
		    "no longer has were removed", w.gone.n);
	(void)smap_get(&f->seen, "P", &found);
	if (r == 0 && !found) {
		memset(&none, 0, sizeof(none));
		r = store_put_policy(sv->st.store, &none);
	}
	strlist_free(&w.gone);
	return r;
}

static int
map_load_cb(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct fleet *f = arg;
	char k[40], v[LKEY_MAX];

	if (klen == strlen(VERSIONS_KEPT_KEY) &&
	    memcmp(key, VERSIONS_KEPT_KEY, klen) == 0) {
		f->versions_kept = 1;
		return 0;
	}
	if (klen == 3 && memcmp(key, "F:c", 3) == 0) {
		free(f->resume.bv_val);
		if ((f->resume.bv_val = malloc(vlen + 1)) == NULL)
			return SAT_E_NOMEM;
		memcpy(f->resume.bv_val, val, vlen);
		f->resume.bv_len = vlen;
		return 0;
	}
	if (klen != 36 || memcmp(key, "F:u:", 4) != 0 || vlen == 0 ||
	    vlen >= sizeof(v))
		return 0;
	memcpy(k, (const char *)key + 4, 32);
	k[32] = '\0';
	memcpy(v, val, vlen);
	v[vlen] = '\0';
	return smap_put(&f->map, k, v);
}

static void
request_full(struct fleet *f, uint64_t gen)
{
	uint64_t g = atomic_load(&f->gen);

	/* past the search going on, whichever batch failed: its cookie
	 * may already be past the changes that were not applied */
	if (g < gen)
		g = gen;
	if (atomic_load(&f->want_gen) <= g)
		atomic_store(&f->want_gen, g + 1);
}

/* Folds a cookie's CSNs into pos, provider by provider.  A cookie
 * names the CSN of the change it came with, of whichever provider made
 * it: one naming provider 2 says nothing of provider 1, so what earlier
 * cookies said of provider 1 is kept (csn.h).  A cookie that does not
 * read is left out: it confirms nothing. */
static void
pos_fold(char *pos, size_t cap, const uint8_t *cookie, size_t len)
{
	char csns[APPLIED_MAX + 1];
	const uint8_t *p;
	size_t n;

	if ((p = memmem(cookie, len, "csn=", 4)) == NULL)
		return;
	p += 4;
	n = len - (size_t)(p - cookie);
	if (n == 0 || n > APPLIED_MAX || memchr(p, '\0', n) != NULL)
		return;
	memcpy(csns, p, n);
	csns[n] = '\0';
	(void)csn_merge(pos, cap, csns);
}

/* Folds a record's entryCSN, as a change applied in the persist phase,
 * into pos: 1 when it moved.  The cookie syncprov sends with a change
 * names the newest CSN committed with nothing older still pending, and
 * while hosts write their entries that is now and then older than the
 * change itself: a follower's position then stopped short of a fence
 * until the next change reached it, and --wait ran out meanwhile.  An
 * entryCSN claims no more than a cookie would for any request's writes:
 * they were committed before its fence took a CSN, so before any change
 * with a newer CSN was committed and sent. */
static int
pos_entry(char *pos, size_t cap, const char *csn)
{
	char before[APPLIED_MAX + 1];

	if (csn[0] == '\0')
		return 0;
	memcpy(before, pos, sizeof(before));
	if (csn_merge(pos, cap, csn) != 0)
		return 0;
	return strcmp(before, pos) != 0;
}

/* What the position entry reports as applied, once committed; fence:
 * the last record the batch changed was the policy entry. */
static void
publish_applied(struct fleet *f, int fence)
{
	if (f->pos[0] == '\0')
		return;
	int64_t t = clock_ms();

	pthread_mutex_lock(&f->mu);
	memcpy(f->applied, f->pos, sizeof(f->applied));
	if (!f->applied_dirty)
		f->dirty_ms = t;
	f->applied_ms = t;
	f->applied_fence = fence;
	f->applied_dirty = 1;
	pthread_mutex_unlock(&f->mu);
}

/* The directory thinks we hold what we do not: only a search from
 * nothing can mend that. */
static int
unknown_present(struct fleet *f, uint64_t gen, const char *uuid)
{
	dlog(LOG_WARNING, "directory: entry %s, reported present, is "
	    "unknown here; full refresh", uuid);
	request_full(f, gen);
	return SAT_E_CONFLICT;
}

static int
unknown_left(struct fleet *f, uint64_t gen)
{
	size_t i;
	int r = 0;

	for (i = 0; i < f->unknown.cap && r == 0; i++)
		if (f->unknown.k[i] != NULL && f->unknown.v[i] != NULL)
			r = unknown_present(f, gen, f->unknown.k[i]);
	smap_free(&f->unknown);
	return r;
}

/* An account entry's version (control.h): a copy holds version V only
 * once it holds every token written before V.  The persist phase sends
 * changes in the directory's order; a refresh sends entries in its own.
 * Debian's back-mdb walks the tree, and ou=tokens happens to come before
 * ou=accounts, so the tokens arrive first there; nothing promises that
 * of another backend or layout.  So until the refresh ends the copy
 * holds no version (a control host's mint is then CONFLICT), and the
 * refresh's take effect at its end.
 * A copy kept by a satokend from before versions has none, and would
 * have none until each account changed again: VERSIONS_KEPT_KEY, set
 * by a full refresh, is missing from it, and it is refreshed whole. */
static int
versions_put(struct server *sv, struct fleet *f, const struct fev *e)
{
	int r;

	if (!f->refreshing)
		return control_mint_version_applied(sv->st.store, e->a.name,
		    e->version);
	if ((r = control_mint_version_forget(sv->st.store, e->a.name)) != 0)
		return r;
	return smap_put(&f->versions, e->a.name, e->version);
}

static int
versions_end(struct server *sv, struct fleet *f)
{
	size_t i;
	int r = 0;

	for (i = 0; i < f->versions.cap && r == 0; i++) {
		if (f->versions.k[i] == NULL || f->versions.v[i] == NULL ||
		    !names_contains(&sv->st.accounts, f->versions.k[i]))
			continue;
		r = control_mint_version_applied(sv->st.store,
		    f->versions.k[i], f->versions.v[i]);
	}
	smap_free(&f->versions);
	return r;
}

/* The one place the follower writes the store: stages one batch and
 * commits it (twice when a present phase ends: the sweep reads what is
 * applied).  The cookie goes with the changes it covers. */
static int
fleet_apply_batch(struct server *sv, struct fleet *f, struct fbatch *b,
    int *key_changed)
{
	struct store *s = sv->st.store;
	char lk[LKEY_MAX], pos[sizeof(f->pos)];
	const char *old;
	size_t i;
	int found, r = 0, sweep = 0, publish, csn_moved = 0, fence = 0;

	memcpy(pos, f->pos, sizeof(pos));
	for (i = 0; i < b->n && r == 0; i++) {
		struct fev *e = &b->v[i];

		switch (e->kind) {
		case E_BEGIN:
			smap_free(&f->seen);
			smap_free(&f->unknown);
			smap_free(&f->versions);
			f->refreshing = 1;
			f->full = e->flag;
			f->have_cookie = 0;
			/* until this refresh ends, a restart starts over */
			if (f->full)
				r = store_stage_raw(s, "F:c", 3, "", 0);
			break;
		case E_PUT:
			local_key(e, lk);
			old = smap_get(&f->map, e->uuid, &found);
			if (found && old != NULL && strcmp(old, lk) != 0)
				r = del_local(sv, old);
			if (r == 0)
				r = put_local(sv, e, key_changed);
			if (r == 0 && e->rk == R_ACCOUNT)
				r = versions_put(sv, f, e);
			f->changed |= is_record(lk) ||
			    (found && old != NULL && is_record(old));
			if (is_record(lk))
				fence = e->rk == R_POLICY;
			if (r == 0 && !f->refreshing && is_record(lk) &&
			    pos_entry(pos, sizeof(pos), e->csn))
				csn_moved = 1;
			if (r == 0)
				r = smap_put(&f->map, e->uuid, lk);
			if (r == 0)
				r = stage_map(s, e->uuid, lk);
			if (r == 0 && f->refreshing)
				r = smap_put(&f->seen, lk, NULL);
			if (r == 0 && f->unknown.n > 0)
				r = smap_put(&f->unknown, e->uuid, NULL);
			break;
		case E_DELETE:
			old = smap_get(&f->map, e->uuid, &found);
			/* unknown: an entry that came and went while we were
			 * away; our map holds every entry we have applied */
			if (found && old != NULL) {
				f->changed |= is_record(old);
				if (is_record(old))
					fence = 0;
				r = del_local(sv, old);
				if (r == 0)
					r = smap_put(&f->map, e->uuid, NULL);
				if (r == 0)
					r = stage_map(s, e->uuid, "");
			}
			break;
		case E_PRESENT:
			old = smap_get(&f->map, e->uuid, &found);
			if ((!found || old == NULL) && f->refreshing)
				/* slapd names entries present and sends the
				 * new ones whole later in the same refresh */
				r = smap_put(&f->unknown, e->uuid, "?");
			else if (!found || old == NULL)
				r = unknown_present(f, b->gen, e->uuid);
			else if (f->refreshing)
				r = smap_put(&f->seen, old, NULL);
			break;
		case E_COOKIE:
			free(f->cookie);
			f->cookie = e->cookie;
			f->cookie_len = e->cookie_len;
			pos_fold(pos, sizeof(pos), f->cookie, f->cookie_len);
			e->cookie = NULL;
			f->have_cookie = 1;
			break;
		case E_DONE:
			sweep = f->full || e->flag;
			f->refreshing = 0;
			r = unknown_left(f, b->gen);
			if (r == 0)
				r = versions_end(sv, f);
			if (r == 0 && f->full)
				r = store_stage_raw(s, VERSIONS_KEPT_KEY,
				    strlen(VERSIONS_KEPT_KEY), "1", 1);
			break;
		}
		if (r == 0 && sweep) {
			if ((r = store_commit(s)) == 0)
				r = sweep_unseen(sv, f);
			smap_free(&f->seen);
			sweep = 0;
		}
	}
	publish = 0;
	if (r == 0 && f->have_cookie && !f->refreshing) {
		r = store_stage_raw(s, "F:c", 3, f->cookie, f->cookie_len);
		f->have_cookie = 0;
		publish = f->changed;
	} else if (r == 0 && csn_moved && !f->refreshing)
		publish = f->changed;
	if (r == 0)
		r = store_commit(s);
	if (r == 0)
		memcpy(f->pos, pos, sizeof(pos));
	if (r == 0 && publish) {
		publish_applied(f, fence);
		f->changed = 0;
	}
	return r;
}

static void
reopen_store(struct server *sv)
{
	store_close(sv->st.store);
	sv->st.store = NULL;
	if (store_open_writer(sv->cfg.database,
	    (unsigned)sv->cfg.lock_timeout_ms, &sv->st.store) != 0) {
		dlog(LOG_ERR, "store %s: cannot reopen it after the fleet key "
		    "changed; stopping", sv->cfg.database);
		sv->stopping = 1;
	}
}

static void
failed(struct server *sv, struct fleet *f, uint64_t gen, int r)
{
	store_rollback(sv->st.store);
	if (r != SAT_E_CONFLICT)
		dlog(LOG_ERR, "directory: applying a change failed (%s); "
		    "full refresh", sat_strerror(r));
	/* the stream has moved on without this batch: start over from
	 * what the store holds */
	request_full(f, gen);
	smap_free(&f->map);
	smap_free(&f->seen);
	smap_free(&f->unknown);
	smap_free(&f->versions);
	f->refreshing = 0;
	f->have_cookie = 0;
	if (store_export(sv->st.store, map_load_cb, f) != 0 ||
	    ops_load_names(&sv->st) != 0)
		dlog(LOG_ERR, "store: cannot be read back");
}

/* The last contact, in the store for the modules (--max-offline):
 * "F:t", Unix seconds, committed at most every contact_every_s while
 * the directory answers, and not at all once it stops. */
static void
contact_commit(struct server *sv, struct fleet *f)
{
	int64_t c = atomic_load(&f->contact);
	char v[24];
	int n, r;

	if (c <= 0 || c < f->contact_written + f->contact_every_s ||
	    store_in_flight(sv->st.store) || store_staged(sv->st.store) > 0)
		return;
	n = snprintf(v, sizeof(v), "%lld", (long long)c);
	if ((r = store_stage_raw(sv->st.store, STORE_CONTACT_KEY,
	    strlen(STORE_CONTACT_KEY), v, (size_t)n)) == 0)
		r = store_commit(sv->st.store);
	if (r != 0) {
		store_rollback(sv->st.store);
		dlog(LOG_ERR, "store: cannot record the directory's last "
		    "contact: %s", sat_strerror(r));
	}
	/* tried either way: a failing store is not retried every round */
	f->contact_written = c;
}

void
fleet_apply(struct server *sv)
{
	struct fleet *f = sv->fleet;
	struct fbatch *b, *next;
	uint64_t n;
	int key_changed = 0, r;

	if (f == NULL || store_in_flight(sv->st.store) ||
	    store_staged(sv->st.store) > 0)
		return;
	(void)!read(f->efd, &n, sizeof(n));
	pthread_mutex_lock(&f->mu);
	b = f->head;
	f->head = f->tail = NULL;
	f->queued = 0;
	f->applying = b != NULL;
	pthread_mutex_unlock(&f->mu);
	sv->st.now = (int64_t)time(NULL);
	for (; b != NULL; b = next) {
		next = b->next;
		if (b->gen >= atomic_load(&f->want_gen) &&
		    (r = fleet_apply_batch(sv, f, b, &key_changed)) != 0)
			failed(sv, f, b->gen, r);
		batch_free(b);
	}
	pthread_mutex_lock(&f->mu);
	f->applying = 0;
	pthread_mutex_unlock(&f->mu);
	if (key_changed)
		reopen_store(sv);
	contact_commit(sv, f);
}

int
fleet_fd(const struct fleet *f)
{
	return f->efd;
}

void
fleet_self(struct fleet *f, const char **name, char *applied, size_t cap,
    int64_t *contact)
{
	*name = f->host_cn;
	pthread_mutex_lock(&f->mu);
	snprintf(applied, cap, "%s", f->applied);
	pthread_mutex_unlock(&f->mu);
	*contact = atomic_load(&f->contact);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? sat_strdup(s) : NULL;
}

static void
fleet_free(struct fleet *f)
{
	struct fbatch *b, *next;

	for (b = f->head; b != NULL; b = next) {
		next = b->next;
		batch_free(b);
	}
	if (f->efd >= 0)
		close(f->efd);
	pthread_mutex_destroy(&f->mu);
	free(f->uris);
	free(f->base);
	free(f->bind_dn);
	free(f->pwfile);
	free(f->host_dn);
	free(f->host_cn);
	free(f->pos_dn);
	free(f->resume.bv_val);
	free(f->pending.bv_val);
	free(f->cookie);
	smap_free(&f->map);
	smap_free(&f->seen);
	smap_free(&f->unknown);
	smap_free(&f->versions);
	free(f->uout);
	free(f->uw);
	free(f);
}


/* An environment knob in milliseconds within [min, max]; dflt when it
 * is unset or out of range. */
static int
knob_ms(const char *name, uint64_t min, uint64_t max, int dflt)
{
	const char *knob = getenv(name);
	uint64_t v;

	return knob != NULL && parse_u64(knob, min, max, &v) == 0 ?
	    (int)v : dflt;
}
int
fleet_start(struct server *sv, struct fleet **ret, char *err, size_t errlen)
{
	const struct sat_config *c = &sv->cfg;
	struct fleet *f;
	char sub[1200], hdn[1500], pdn[1500], host[256];
	int r;

	*ret = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return SAT_E_NOMEM;
	f->efd = -1;
	pthread_mutex_init(&f->mu, NULL);
	/* host entries hold nothing a login reads, and fleet status
	 * reads them from the directory (hostsread.h); their usage
	 * reports still come */
	f->filter = "(!(objectClass=satokenHost))";
	/* test knobs (tests/integration/fleet/hosts.sh) */
	f->backoff_max_ms = knob_ms("SATOKEND_FLEET_BACKOFF_MS",
	    BACKOFF_MIN_MS, INT_MAX, BACKOFF_MAX_MS);
	f->heartbeat_ms = knob_ms("SATOKEND_FLEET_HEARTBEAT_MS",
	    HOST_WRITE_MS, INT_MAX, HEARTBEAT_MS);
	f->contact_every_s = knob_ms("SATOKEND_FLEET_CONTACT_MS", 1000,
	    INT_MAX, CONTACT_WRITE_MS) / 1000;
	f->delay_ms = knob_ms("SATOKEND_FLEET_DELAY_MS", 1, 10000, 0);
	f->usage_ms = knob_ms("SATOKEND_FLEET_USAGE_MS", HOST_WRITE_MS,
	    INT_MAX, USAGE_WRITE_MS);
	/* bench/fleet.sh: what the positions cost the others */
	f->position_ms = knob_ms("SATOKEND_FLEET_POSITION_MS", HOST_WRITE_MS,
	    INT_MAX, HOST_WRITE_MS);
	if (c->host_name != NULL)
		snprintf(host, sizeof(host), "%s", c->host_name);
	else if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	/* a name that would need escaping in a DN is no host's name */
	if (host[0] == '\0' || strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != strlen(host)) {
		snprintf(err, errlen, "host_name '%.64s': letters, digits, "
		    "'.', '-' and '_' only", host);
		r = SAT_E_CONFIG;
		goto out;
	}
	snprintf(sub, sizeof(sub), "ou=satoken,%s", c->directory_base);
	snprintf(hdn, sizeof(hdn), "cn=%s,ou=hosts,%s", host, sub);
	snprintf(pdn, sizeof(pdn), "cn=%s,ou=positions,%s", host, sub);
	if ((f->uris = dup_or_null(c->directory)) == NULL ||
	    (f->base = dup_or_null(sub)) == NULL ||
	    (f->bind_dn = dup_or_null(c->directory_bind_dn)) == NULL ||
	    (f->pwfile = dup_or_null(c->directory_password_file)) == NULL ||
	    (f->host_dn = dup_or_null(hdn)) == NULL ||
	    (f->host_cn = dup_or_null(host)) == NULL ||
	    (f->pos_dn = dup_or_null(pdn)) == NULL) {
		r = SAT_E_NOMEM;
		goto out;
	}
	if ((f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		r = SAT_E_IO;
		goto out;
	}
	if ((r = store_export(sv->st.store, map_load_cb, f)) != 0) {
		snprintf(err, errlen, "store: cannot read the fleet state: %s",
		    sat_strerror(r));
		goto out;
	}
	if (!f->versions_kept && f->resume.bv_len > 0) {
		dlog(LOG_NOTICE, "directory: the local copy predates account "
		    "versions (max_tokens_per_account across control hosts): "
		    "a full refresh");
		free(f->resume.bv_val);
		memset(&f->resume, 0, sizeof(f->resume));
	}
	if (pthread_create(&f->th, NULL, fleet_main, f) != 0) {
		snprintf(err, errlen, "cannot start the follower thread");
		r = SAT_E_NOMEM;
		goto out;
	}
	f->started = 1;
	*ret = f;
	return 0;
out:
	fleet_free(f);
	return r;
}

void
fleet_stop(struct fleet *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_mutex_unlock(&f->mu);
	if (f->started)
		pthread_join(f->th, NULL);
	fleet_free(f);
}
