/* satokend: fleet status (hostsread.h).  One connection of its own, as
 * the host's identity, opened at the first request and kept.  The
 * searches run on the loop's thread, as a control host's writes do, so
 * any viewer can make the loop wait for them, and the loop also applies
 * the revocations that arrive: the hosts are read at most once a second
 * however often asked, within NET_TIMEOUT_S, and after a failure not
 * tried again for a while that doubles up to RETRY_MAX_MS.  A viewer
 * flooding fleet status with the directory silent thus holds the loop
 * at most a second every half minute.
 *
 * --wait asks for a change until every host has it, every 25 ms at
 * first; a view a second old would hold each wait up to a second.  So a
 * question about a change the view does not show applied everywhere
 * reads again sooner: after WAIT_READ_MS, and never sooner than
 * WAIT_READ_SHARE times the last read took, which keeps the loop's time
 * in these reads under a sixth however large the fleet and however
 * many ask. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <ldap.h>

#include "clock.h"
#include "csn.h"
#include "err.h"
#include "hostsread.h"
#include "ldapattr.h"
#include "ldapconn.h"
#include "mem.h"
#include "satokend.h"

#define NET_TIMEOUT_S	1
#define READ_EVERY_MS	1000
#define WAIT_READ_MS	20
#define WAIT_READ_SHARE	5
/* after a failure, asked again no sooner: a directory away costs a
 * request no wait */
#define RETRY_MS	1000
#define RETRY_MAX_MS	30000
/* a bound on what one search may bring (the size of the fleet) */
#define HOSTS_MAX	100000

struct hostsread {
	hostsread_self_fn *self;
	struct fleet *fleet;
	char *uris, *bind_dn, *pwfile;
	char hosts_base[1200];		/* ou=hosts,ou=satoken,BASE */
	char positions_base[1200];	/* ou=positions,ou=satoken,BASE */
	LDAP *ld;
	int64_t read_ms;		/* of the view; 0: never read */
	int64_t took_ms;		/* what that read took */
	int64_t retry_ms;		/* not tried again before it */
	int64_t backoff_ms;		/* the next failure's wait */
	struct fleet_view v;
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct fleet_host *)a)->name,
	    ((const struct fleet_host *)b)->name);
}

static void
drop(struct hostsread *hr)
{
	if (hr->ld != NULL)
		ldap_unbind_ext_s(hr->ld, NULL, NULL);
	hr->ld = NULL;
}

/* A host or position entry: 0, or SAT_E_INVALID / SAT_E_NOTFOUND when
 * it does not decode. */
static int
fleet_host_decode(LDAP *ld, LDAPMessage *e, struct fleet_host *h)
{
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = ldapattr_str(ld, e, "cn", h->name, sizeof(h->name))) != 0)
		return r;
	r = ldapattr_str(ld, e, "satokenApplied", h->applied,
	    sizeof(h->applied));
	if (r == SAT_E_NOTFOUND)
		r = 0;
	if (r == 0)
		r = ldapattr_i64(ld, e, "satokenLastContact", 0, &h->last_contact);
	return r;
}

/* The entries one level under base into a view sorted by name; an entry
 * that does not decode is no host fleet status can name, and is left
 * out. */
static int
search_hosts(struct hostsread *hr, const char *base, char **attrs,
    struct fleet_view *nv, char *err, size_t errlen)
{
	struct timeval tv = { NET_TIMEOUT_S, 0 };
	LDAPMessage *res = NULL, *e;
	int rc, n;

	memset(nv, 0, sizeof(*nv));
	rc = ldap_search_ext_s(hr->ld, base, LDAP_SCOPE_ONELEVEL,
	    "(objectClass=satokenHost)", attrs, 0, NULL, NULL, &tv, HOSTS_MAX,
	    &res);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "the directory %s did not answer the "
		    "search of %s: %s%s", hr->uris, base, ldap_err2string(rc),
		    rc == LDAP_NO_SUCH_OBJECT ? " (a directory set up before "
		    "ou=positions: README, \"Upgrading a fleet\")" : "");
		if (res != NULL)
			ldap_msgfree(res);
		return SAT_E_IO;
	}
	n = ldap_count_entries(hr->ld, res);
	if (n > 0 && (nv->hosts = calloc((size_t)n, sizeof(*nv->hosts))) ==
	    NULL) {
		ldap_msgfree(res);
		snprintf(err, errlen, "out of memory");
		return SAT_E_NOMEM;
	}
	nv->cap = n > 0 ? (size_t)n : 0;
	for (e = ldap_first_entry(hr->ld, res); e != NULL &&
	    nv->n < nv->cap; e = ldap_next_entry(hr->ld, e))
		if (fleet_host_decode(hr->ld, e, &nv->hosts[nv->n]) == 0)
			nv->n++;
	ldap_msgfree(res);
	if (nv->n > 1)
		qsort(nv->hosts, nv->n, sizeof(*nv->hosts), by_name);
	return 0;
}

/* The hosts are the host entries (a host never started is one, with no
 * position; the position of a host whose entry was deleted is no
 * host's); their positions are under ou=positions.  The old view stays
 * unless both searches succeed. */
static int
read_hosts(struct hostsread *hr, char *err, size_t errlen)
{
	char *hattrs[] = { "cn", NULL };
	char *pattrs[] = { "cn", "satokenApplied", "satokenLastContact", NULL };
	struct fleet_view hv, pv;
	struct fleet_host *p;
	size_t i;
	int r;

	if ((r = search_hosts(hr, hr->hosts_base, hattrs, &hv, err,
	    errlen)) != 0)
		return r;
	if ((r = search_hosts(hr, hr->positions_base, pattrs, &pv, err,
	    errlen)) != 0) {
		free(hv.hosts);
		return r;
	}
	for (i = 0; i < hv.n && pv.n > 0; i++)
		if ((p = bsearch(&hv.hosts[i], pv.hosts, pv.n,
		    sizeof(*pv.hosts), by_name)) != NULL)
			hv.hosts[i] = *p;
	free(pv.hosts);
	free(hr->v.hosts);
	hr->v = hv;
	return 0;
}

/* This host's own position: its control host's --wait would otherwise
 * wait a read more for the position it wrote as it read. */
static void
mark_self(struct hostsread *hr)
{
	struct fleet_host key, *h;
	const char *name;

	if (hr->v.n == 0)
		return;
	memset(&key, 0, sizeof(key));
	hr->self(hr->fleet, &name, key.applied, sizeof(key.applied),
	    &key.last_contact);
	snprintf(key.name, sizeof(key.name), "%s", name);
	if ((h = bsearch(&key, hr->v.hosts, hr->v.n, sizeof(*hr->v.hosts),
	    by_name)) == NULL)
		return;
	if (key.applied[0] != '\0')
		memcpy(h->applied, key.applied, sizeof(h->applied));
	if (key.last_contact > h->last_contact)
		h->last_contact = key.last_contact;
}

/* Whether the view shows csn applied on every host. */
static int
all_have(const struct fleet_view *v, const char *csn)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!csn_covers(v->hosts[i].applied, csn))
			return 0;
	return 1;
}

int
hostsread_get(struct hostsread *hr, const char *csn,
    const struct fleet_view **ret, char *err, size_t errlen)
{
	int64_t now = clock_ms(), every = READ_EVERY_MS, t;
	int r;

	*ret = &hr->v;
	mark_self(hr);
	if (csn != NULL && hr->read_ms != 0 && !all_have(&hr->v, csn)) {
		every = hr->took_ms * WAIT_READ_SHARE;
		if (every < WAIT_READ_MS)
			every = WAIT_READ_MS;
	}
	if (hr->read_ms != 0 && now - hr->read_ms < every)
		return 0;
	if (now < hr->retry_ms) {
		snprintf(err, errlen, "the directory %s could not be "
		    "reached; asked again in %lld s", hr->uris,
		    (long long)(hr->retry_ms - now + 999) / 1000);
		return SAT_E_IO;
	}
	if (hr->ld == NULL && (hr->ld = ldapconn_open(hr->uris, hr->bind_dn,
	    hr->pwfile, NET_TIMEOUT_S)) == NULL) {
		snprintf(err, errlen, "the directory %s cannot be reached",
		    hr->uris);
		r = SAT_E_IO;
	} else if ((r = read_hosts(hr, err, errlen)) != 0) {
		/* a lost connection is opened again next time */
		drop(hr);
	}
	if (r != 0) {
		if (hr->backoff_ms < RETRY_MS)
			hr->backoff_ms = RETRY_MS;
		hr->retry_ms = clock_ms() + hr->backoff_ms;
		hr->backoff_ms = hr->backoff_ms * 2 > RETRY_MAX_MS ?
		    RETRY_MAX_MS : hr->backoff_ms * 2;
		return r;
	}
	hr->backoff_ms = 0;
	t = clock_ms();
	hr->took_ms = t - now;
	hr->read_ms = t;
	mark_self(hr);
	return 0;
}

int
hostsread_new(const struct sat_config *cf, hostsread_self_fn *self,
    struct fleet *f, struct hostsread **ret)
{
	struct hostsread *hr;

	*ret = NULL;
	if ((hr = calloc(1, sizeof(*hr))) == NULL)
		return SAT_E_NOMEM;
	hr->self = self;
	hr->fleet = f;
	snprintf(hr->hosts_base, sizeof(hr->hosts_base),
	    "ou=hosts,ou=satoken,%s", cf->directory_base);
	snprintf(hr->positions_base, sizeof(hr->positions_base),
	    "ou=positions,ou=satoken,%s", cf->directory_base);
	if ((hr->uris = sat_strdup(cf->directory)) == NULL ||
	    (hr->bind_dn = sat_strdup(cf->directory_bind_dn)) == NULL ||
	    (hr->pwfile = sat_strdup(cf->directory_password_file)) == NULL) {
		hostsread_free(hr);
		return SAT_E_NOMEM;
	}
	*ret = hr;
	return 0;
}

void
hostsread_free(struct hostsread *hr)
{
	if (hr == NULL)
		return;
	drop(hr);
	free(hr->uris);
	free(hr->bind_dn);
	free(hr->pwfile);
	free(hr->v.hosts);
	free(hr);
}
