/* satokend: fleet status (hostsread.h).  One connection of its own, as
 * the host's identity, opened at the first request and kept.
 *
 * Plain fleet status reads the hosts on the loop's thread, as a control
 * host's writes are made, so any viewer can make the loop wait for the
 * directory while revocations arrive to be applied: at most once a
 * second however often asked, within NET_TIMEOUT_S, and after a failure
 * not again for a while that doubles up to RETRY_MAX_MS.  A viewer
 * flooding fleet status with the directory silent thus holds the loop
 * at most a second every half minute.
 *
 * --wait asks for a change until every host has it, every 25 ms at
 * first; a view a second old would hold each wait up to a second.  So a
 * question about a change the view does not show applied everywhere
 * sends the searches and waits WAIT_HOLD_MS at most for them, and only
 * while the loop has nothing else to do: a request arriving ends the
 * wait.  A busy directory's answer (a hundred hosts' positions being
 * written) the next question (or the one after) collects.  One
 * read in flight at a time, and the next sent no sooner than
 * WAIT_READ_MS after the last was: however many ask, a host asks the
 * directory at most that often, and more slowly when it is busy. */
#include <errno.h>
#include <poll.h>
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
#define WAIT_HOLD_MS	10
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
	int64_t retry_ms;		/* not tried again before it */
	int64_t backoff_ms;		/* the next failure's wait */
	struct fleet_view v;
	/* the read in flight: the hosts' search, the positions'; -1 when
	 * none, and what each brought once it is whole */
	int msgid[2];
	LDAPMessage *res[2];
	int64_t sent_ms;
	int busy_fd;			/* readable: other work waits (-1) */
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct fleet_host *)a)->name,
	    ((const struct fleet_host *)b)->name);
}

/* Forgets the read in flight (its answers die with the connection). */
static void
forget_read(struct hostsread *hr)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (hr->res[i] != NULL)
			ldap_msgfree(hr->res[i]);
		hr->res[i] = NULL;
		hr->msgid[i] = -1;
	}
}

static void
drop(struct hostsread *hr)
{
	forget_read(hr);
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

/* A read's two searches: 0 the host entries, 1 their positions. */
static const char *
read_base(const struct hostsread *hr, int which)
{
	return which == 0 ? hr->hosts_base : hr->positions_base;
}

/* Sends both searches (the connection opened first if need be). */
static int
send_read(struct hostsread *hr, char *err, size_t errlen)
{
	static char *hattrs[] = { "cn", NULL };
	static char *pattrs[] = { "cn", "satokenApplied", "satokenLastContact",
	    NULL };
	struct timeval tv = { NET_TIMEOUT_S, 0 };
	char **attrs[2] = { hattrs, pattrs };
	int i, rc;

	if (hr->ld == NULL && (hr->ld = ldapconn_open(hr->uris, hr->bind_dn,
	    hr->pwfile, NET_TIMEOUT_S)) == NULL) {
		snprintf(err, errlen, "the directory %s cannot be reached",
		    hr->uris);
		return SAT_E_IO;
	}
	for (i = 0; i < 2; i++) {
		rc = ldap_search_ext(hr->ld, read_base(hr, i),
		    LDAP_SCOPE_ONELEVEL, "(objectClass=satokenHost)", attrs[i],
		    0, NULL, NULL, &tv, HOSTS_MAX, &hr->msgid[i]);
		if (rc != LDAP_SUCCESS) {
			hr->msgid[i] = -1;
			snprintf(err, errlen, "the directory %s did not take "
			    "the search of %s: %s", hr->uris,
			    read_base(hr, i), ldap_err2string(rc));
			return SAT_E_IO;
		}
	}
	hr->sent_ms = clock_ms();
	return 0;
}

/* A whole answer's entries into a view sorted by name; an entry that
 * does not decode is no host fleet status can name, and is left out. */
static int
decode_hosts(struct hostsread *hr, int which, struct fleet_view *nv,
    char *err, size_t errlen)
{
	LDAPMessage *res = hr->res[which], *e;
	int rc, n;

	memset(nv, 0, sizeof(*nv));
	if (ldap_parse_result(hr->ld, res, &rc, NULL, NULL, NULL, NULL,
	    0) != LDAP_SUCCESS || rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "the directory %s did not answer the "
		    "search of %s: %s%s", hr->uris, read_base(hr, which),
		    ldap_err2string(rc), rc == LDAP_NO_SUCH_OBJECT ? " (a "
		    "directory set up before ou=positions: README, "
		    "\"Upgrading a fleet\")" : "");
		return SAT_E_IO;
	}
	n = ldap_count_entries(hr->ld, res);
	if (n > 0 && (nv->hosts = calloc((size_t)n, sizeof(*nv->hosts))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return SAT_E_NOMEM;
	}
	nv->cap = n > 0 ? (size_t)n : 0;
	for (e = ldap_first_entry(hr->ld, res); e != NULL &&
	    nv->n < nv->cap; e = ldap_next_entry(hr->ld, e))
		if (fleet_host_decode(hr->ld, e, &nv->hosts[nv->n]) == 0)
			nv->n++;
	if (nv->n > 1)
		qsort(nv->hosts, nv->n, sizeof(*nv->hosts), by_name);
	return 0;
}

/* The hosts are the host entries (a host never started is one, with no
 * position; the position of a host whose entry was deleted is no
 * host's); their positions are under ou=positions.  The old view stays
 * unless both searches succeeded. */
static int
take_read(struct hostsread *hr, char *err, size_t errlen)
{
	struct fleet_view hv, pv;
	struct fleet_host *p;
	size_t i;
	int r;

	if ((r = decode_hosts(hr, 0, &hv, err, errlen)) != 0)
		return r;
	if ((r = decode_hosts(hr, 1, &pv, err, errlen)) != 0) {
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

/* Whether the connection has bytes to read now. */
static int
readable(LDAP *ld)
{
	struct pollfd p;
	int fd = -1;

	if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS ||
	    fd < 0)
		return 0;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) > 0;
}

/* One search's whole answer, waiting up to wait_ms.  A zero wait takes
 * in all that has arrived: libldap reads about a message a call, and a
 * hundred hosts are a hundred messages. */
static int
result_of(LDAP *ld, int msgid, int64_t wait_ms, LDAPMessage **res)
{
	struct timeval tv;
	int rc, n;

	tv.tv_sec = (time_t)(wait_ms / 1000);
	tv.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
	for (n = 0; n <= HOSTS_MAX + 1; n++) {
		rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, res);
		if (rc != 0 || wait_ms != 0 || !readable(ld))
			return rc;
	}
	return 0;
}

/* Collects the read in flight, waiting up to wait_ms: 0 once the view is
 * the new one, 1 while an answer is still to come, or an error. */
static int
collect_read(struct hostsread *hr, int64_t wait_ms, char *err,
    size_t errlen)
{
	int64_t until = clock_ms() + wait_ms, left;
	int i, rc, r;

	for (i = 0; i < 2; i++) {
		if (hr->res[i] != NULL)
			continue;
		left = wait_ms == 0 ? 0 : until - clock_ms();
		rc = result_of(hr->ld, hr->msgid[i], left > 0 ? left : 0,
		    &hr->res[i]);
		if (rc == 0) {
			hr->res[i] = NULL;
			if (clock_ms() - hr->sent_ms < NET_TIMEOUT_S * 1000)
				return 1;
			snprintf(err, errlen, "the directory %s did not "
			    "answer within %d s", hr->uris, NET_TIMEOUT_S);
			return SAT_E_IO;
		}
		if (rc < 0 || hr->res[i] == NULL) {
			hr->res[i] = NULL;
			snprintf(err, errlen, "the directory %s: the "
			    "connection was lost", hr->uris);
			return SAT_E_IO;
		}
	}
	r = take_read(hr, err, errlen);
	forget_read(hr);
	if (r == 0)
		hr->read_ms = clock_ms();
	return r;
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

/* A read that failed: the connection goes (opened again next time), and
 * no new one is tried for a while that doubles. */
static int
read_failed(struct hostsread *hr, int r)
{
	drop(hr);
	if (hr->backoff_ms < RETRY_MS)
		hr->backoff_ms = RETRY_MS;
	hr->retry_ms = clock_ms() + hr->backoff_ms;
	hr->backoff_ms = hr->backoff_ms * 2 > RETRY_MAX_MS ?
	    RETRY_MAX_MS : hr->backoff_ms * 2;
	return r;
}

/* --wait: the read just sent, waited for while nothing else is: up to
 * WAIT_HOLD_MS, cut short the moment busy_fd (the loop's epoll) has
 * work.  1 when it is still in flight. */
static int
hold_read(struct hostsread *hr, char *err, size_t errlen)
{
	int64_t until = clock_ms() + WAIT_HOLD_MS, left;
	struct pollfd p[2];
	int r, fd = -1;

	if (ldap_get_option(hr->ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS ||
	    fd < 0)
		return collect_read(hr, 0, err, errlen);
	for (;;) {
		if ((r = collect_read(hr, 0, err, errlen)) != 1 ||
		    (left = until - clock_ms()) <= 0)
			return r;
		p[0].fd = fd;
		p[1].fd = hr->busy_fd;
		p[0].events = p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, hr->busy_fd >= 0 ? 2 : 1, (int)left) < 0 &&
		    errno != EINTR)
			return 1;
		if (p[1].revents != 0)
			return collect_read(hr, 0, err, errlen);
	}
}

void
hostsread_busy_fd(struct hostsread *hr, int fd)
{
	if (hr != NULL)
		hr->busy_fd = fd;
}

int
hostsread_get(struct hostsread *hr, const char *csn,
    const struct fleet_view **ret, char *err, size_t errlen)
{
	int64_t now = clock_ms();
	int r, waiting;

	*ret = &hr->v;
	if (hr->msgid[0] >= 0) {
		if ((r = collect_read(hr, 0, err, errlen)) == 0)
			hr->backoff_ms = 0;
		else if (r != 1)
			return read_failed(hr, r);
	}
	mark_self(hr);
	waiting = csn != NULL && hr->read_ms != 0 && !all_have(&hr->v, csn);
	/* a wait's reads follow each other, the next sent as the last is
	 * taken in when the directory is slower than WAIT_READ_MS */
	if (hr->msgid[0] >= 0 ||
	    (waiting && now - hr->sent_ms < WAIT_READ_MS) ||
	    (!waiting && hr->read_ms != 0 && now - hr->read_ms < READ_EVERY_MS))
		return 0;
	if (now < hr->retry_ms) {
		snprintf(err, errlen, "the directory %s could not be "
		    "reached; asked again in %lld s", hr->uris,
		    (long long)(hr->retry_ms - now + 999) / 1000);
		return SAT_E_IO;
	}
	if ((r = send_read(hr, err, errlen)) != 0)
		return read_failed(hr, r);
	/* --wait: a directory that answers within WAIT_HOLD_MS is waited
	 * for while no other request or event is (hold_read); a slower
	 * one, or one that other work cuts short, is answered from the
	 * view there is, and its answer taken in at a later call */
	if (waiting) {
		if ((r = hold_read(hr, err, errlen)) == 0)
			mark_self(hr);
		else if (r != 1)
			return read_failed(hr, r);
		return 0;
	}
	if ((r = collect_read(hr, NET_TIMEOUT_S * 1000, err, errlen)) != 0)
		return read_failed(hr, r == 1 ? SAT_E_IO : r);
	hr->backoff_ms = 0;
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
	hr->msgid[0] = hr->msgid[1] = -1;
	hr->busy_fd = -1;
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
