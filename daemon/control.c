/* satokend: a control host writes its changes to the directory
 * (control.h says when and why).  The entries are exactly what
 * follower.c decodes: the same attributes, the same forms. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <ldap.h>
#include <openssl/crypto.h>

#include "clock.h"
#include "control.h"
#include "csn.h"
#include "err.h"
#include "ldapattr.h"
#include "ldapconn.h"
#include "mem.h"
#include "num.h"
#include "role.h"
#include "satokend.h"
#include "store_batch.h"
#include "token.h"

#define NET_TIMEOUT_S	3
/* after a connection failed, requests are refused at once for this
 * long rather than each waiting for the network in the loop */
#define RETRY_MS	500
#define DN_MAX		2900
/* a record control_bg_step is still to write: "F:w:" and its key */
#define BG_MARK		"F:w:"
#define BG_MARK_LEN	4

struct control {
	char *uris, *bind_dn, *pwfile;
	char sub[1100];			/* ou=satoken,BASE */
	LDAP *ld;
	int64_t retry_ms;		/* no new connection before it */
	int key_ok;			/* the directory's key is the store's */
	/* what this host changed by itself (control_bg_*) */
	char (*bg)[STORE_KEY_MAX];	/* record keys marked, unsorted */
	size_t nbg, bgcap;
	int64_t bg_next_ms;		/* the next attempt */
	int bg_failing;			/* said so in the log already */
	int quiet;			/* a refusal is logged by the caller */
	uint64_t gen;			/* moved on by each drop(): what was
					 * sent on an older ld is lost */
	struct bg_step *step;		/* sent, not yet ended; or NULL */
};

/* ---- an entry's attributes, as LDAPMods ----------------------------- */

#define ENT_MODS	24
#define ENT_NUMS	12

struct ent {
	int op;			/* LDAP_MOD_ADD (an add) or _REPLACE */
	LDAPMod mod[ENT_MODS];
	LDAPMod *mods[ENT_MODS + 1];
	size_t n;
	char num[ENT_NUMS][24];
	size_t nnum;
	int r;			/* the first failure, kept to the end */
};

static void
ent_init(struct ent *e, int op)
{
	memset(e, 0, sizeof(*e));
	e->op = op;
}

static void
mod_free(LDAPMod *m)
{
	size_t j;

	if (m->mod_bvalues == NULL)
		return;
	for (j = 0; m->mod_bvalues[j] != NULL; j++)
		free(m->mod_bvalues[j]);
	free(m->mod_bvalues);
}

static void
ent_free(struct ent *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		mod_free(&e->mod[i]);
	e->n = 0;
}

/* n values (borrowed: they must outlive e's use); none: left out of an
 * add, removed by a modify */
static void
ent_vals(struct ent *e, const char *type, const char *const *v,
    const size_t *len, size_t n)
{
	struct berval **bv = NULL;
	size_t i;

	if (e->r != 0 || (n == 0 && e->op == LDAP_MOD_ADD))
		return;
	if (e->n == ENT_MODS) {
		e->r = SAT_E_INTERNAL;
		return;
	}
	if (n > 0) {
		if ((bv = calloc(n + 1, sizeof(*bv))) == NULL) {
			e->r = SAT_E_NOMEM;
			return;
		}
		for (i = 0; i < n; i++) {
			if ((bv[i] = malloc(sizeof(**bv))) == NULL) {
				while (i-- > 0)
					free(bv[i]);
				free(bv);
				e->r = SAT_E_NOMEM;
				return;
			}
			bv[i]->bv_val = (char *)v[i];
			bv[i]->bv_len = len[i];
		}
	}
	e->mod[e->n].mod_op = e->op | LDAP_MOD_BVALUES;
	e->mod[e->n].mod_type = (char *)type;
	e->mod[e->n].mod_bvalues = bv;
	e->mods[e->n] = &e->mod[e->n];
	e->n++;
}

static void
ent_str(struct ent *e, const char *type, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	ent_vals(e, type, &s, &len, s != NULL && len > 0);
}

static void
ent_bin(struct ent *e, const char *type, const void *p, size_t len)
{
	const char *v = p;

	ent_vals(e, type, &v, &len, 1);
}

/* A number formatted into e's own storage, so that it lives as long as
 * e: present, the attribute holds v (in hex when hex); otherwise it is
 * absent. */
static void
ent_numf(struct ent *e, const char *type, long long v, int present, int hex)
{
	char *s;

	if (!present) {
		ent_str(e, type, NULL);
		return;
	}
	if (e->nnum == ENT_NUMS) {
		e->r = SAT_E_INTERNAL;
		return;
	}
	s = e->num[e->nnum++];
	if (hex)
		snprintf(s, sizeof(e->num[0]), "%llx", (unsigned long long)v);
	else
		snprintf(s, sizeof(e->num[0]), "%lld", v);
	ent_str(e, type, s);
}

static void
ent_num(struct ent *e, const char *type, long long v, int present)
{
	ent_numf(e, type, v, present, 0);
}

static void
ent_bool(struct ent *e, const char *type, int v)
{
	ent_str(e, type, v ? "TRUE" : "FALSE");
}

static void
ent_list(struct ent *e, const char *type, const struct strlist *l)
{
	size_t *len, i;

	if (l->n == 0) {
		ent_str(e, type, NULL);
		return;
	}
	if ((len = malloc(l->n * sizeof(*len))) == NULL) {
		e->r = SAT_E_NOMEM;
		return;
	}
	for (i = 0; i < l->n; i++)
		len[i] = strlen(l->v[i]);
	ent_vals(e, type, (const char *const *)l->v, len, l->n);
	free(len);
}

static int
mod_same(const LDAPMod *a, const LDAPMod *b)
{
	size_t i;

	if (strcmp(a->mod_type, b->mod_type) != 0)
		return 0;
	for (i = 0; a->mod_bvalues != NULL && a->mod_bvalues[i] != NULL; i++)
		if (b->mod_bvalues == NULL || b->mod_bvalues[i] == NULL ||
		    a->mod_bvalues[i]->bv_len != b->mod_bvalues[i]->bv_len ||
		    memcmp(a->mod_bvalues[i]->bv_val,
		    b->mod_bvalues[i]->bv_val, a->mod_bvalues[i]->bv_len) != 0)
			return 0;
	return b->mod_bvalues == NULL || b->mod_bvalues[i] == NULL;
}

/* Drops e's i-th attribute. */
static void
ent_drop(struct ent *e, size_t i)
{
	size_t j;

	mod_free(&e->mod[i]);
	memmove(&e->mod[i], &e->mod[i + 1], (e->n - i - 1) * sizeof(e->mod[0]));
	e->n--;
	for (j = 0; j < e->n; j++)
		e->mods[j] = &e->mod[j];
	e->mods[e->n] = NULL;
}

/* Keeps in e, a replace of a record as it is to be, only the attributes
 * whose values differ in was, the same encoder's replace of it as it
 * was: a write carries what the request changed and nothing else, so
 * that what another control host changed meanwhile in the same entry
 * (a revocation, a disable, from a copy this one had not heard of) is
 * not written back over.  Frees was. */
static void
ent_changes(struct ent *e, struct ent *was)
{
	size_t i = 0;

	if (e->r == 0 && (e->r = was->r) == 0 && e->n == was->n) {
		while (i < e->n) {
			if (mod_same(&e->mod[i], &was->mod[i])) {
				ent_drop(e, i);
				ent_drop(was, i);
			} else {
				i++;
			}
		}
	} else if (e->r == 0) {
		e->r = SAT_E_INTERNAL;
	}
	ent_free(was);
}

/* ---- records into entries: the inverse of follower.c's decode_* ---- */

static void
enc_account(struct ent *e, const struct sat_account *a)
{
	if (e->op == LDAP_MOD_ADD) {
		ent_str(e, "objectClass", "satokenAccount");
		ent_str(e, "satokenName", a->name);
	}
	ent_numf(e, "satokenSerial", (long long)a->serial, 1, 1);
	ent_str(e, "satokenRole", role_name(a->role));
	ent_bool(e, "satokenEnabled", a->enabled);
	ent_num(e, "satokenCreatedAt", a->created_at, 1);
	ent_num(e, "satokenDaysValid", a->days_valid, a->days_valid != 0);
	ent_str(e, "description", a->description);
	ent_str(e, "satokenOwner", a->owner);
	ent_str(e, "satokenPublicKey", a->public_key);
	ent_str(e, "satokenExternalId", a->external_id);
	ent_str(e, "satokenCreatedBy", a->created_by);
	ent_list(e, "satokenMemberOf", &a->groups);
}

static void
enc_group(struct ent *e, const struct sat_group *g)
{
	if (e->op == LDAP_MOD_ADD) {
		ent_str(e, "objectClass", "satokenGroup");
		ent_str(e, "satokenName", g->name);
	}
	ent_num(e, "satokenCreatedAt", g->created_at, 1);
	ent_str(e, "description", g->description);
	ent_str(e, "satokenCreatedBy", g->created_by);
}

static void
enc_token(struct ent *e, const struct sat_token *t)
{
	if (e->op == LDAP_MOD_ADD) {
		ent_str(e, "objectClass", "satokenToken");
		ent_str(e, "satokenTokenId", t->id);
	}
	ent_str(e, "satokenAccount", t->account);
	ent_str(e, "satokenTokenName", t->name);
	ent_bin(e, "satokenDigest", t->digest, sizeof(t->digest));
	ent_num(e, "satokenCreatedAt", t->created_at, 1);
	ent_num(e, "satokenExpiresAt", t->expires_at, 1);
	ent_num(e, "satokenTtl", (long long)t->ttl, t->ttl != 0);
	ent_num(e, "satokenRevokedAt", t->revoked_at, t->revoked_at != 0);
	ent_str(e, "satokenCreatedBy", t->created_by);
	ent_str(e, "description", t->description);
	ent_list(e, "satokenService", &t->services);
	ent_list(e, "satokenSource", &t->sources);
	ent_str(e, "satokenReplacedBy", t->replaced_by[0] != '\0' ?
	    t->replaced_by : NULL);
	/* absent rather than FALSE: the schema's default, and what an
	 * entry written before these existed says */
	ent_str(e, "satokenDisabled", t->disabled_at != 0 ? "TRUE" : NULL);
	ent_str(e, "satokenCanary", t->canary ? "TRUE" : NULL);
	ent_num(e, "satokenMaxOffline", t->max_offline, t->max_offline != 0);
}

/* Which part of a change to an existing token a write carries.  No part
 * ever takes a revocation back (nothing un-revokes a token, not even a
 * request's undo).  The revocation goes after the account's version
 * step, the rest before it (a rotation's satokenReplacedBy is what
 * stops a second rotation of the token on a copy that holds the new
 * version); a copy that holds the version but not yet the revocation
 * counts one live token too many, which is safe. */
enum tpart { T_ALL, T_BEFORE_STEP, T_REVOCATION };


/* ---- DNs ------------------------------------------------------------- */

static void
dn_account(const struct control *ctl, const char *name, char *out)
{
	snprintf(out, DN_MAX, "satokenName=%s,ou=accounts,%s", name, ctl->sub);
}

static void
dn_group(const struct control *ctl, const char *name, char *out)
{
	snprintf(out, DN_MAX, "satokenName=%s,ou=groups,%s", name, ctl->sub);
}

static void
dn_token(const struct control *ctl, const char *id, char *out)
{
	snprintf(out, DN_MAX, "satokenTokenId=%s,ou=tokens,%s", id, ctl->sub);
}

/* ---- the connection ---------------------------------------------------- */

static void
drop(struct control *ctl)
{
	if (ctl->ld != NULL)
		ldap_unbind_ext_s(ctl->ld, NULL, NULL);
	ctl->ld = NULL;
	ctl->gen++;
	ctl->key_ok = 0;
	ctl->retry_ms = clock_ms() + RETRY_MS;
}

/* The result of one LDAP call as ours; a lost connection is dropped. */
static int
ldap_r(struct control *ctl, int rc)
{
	switch (rc) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_ALREADY_EXISTS:
	case LDAP_ASSERTION_FAILED:
		return SAT_E_CONFLICT;
	case LDAP_NO_SUCH_OBJECT:
		return SAT_E_NOTFOUND;
	case LDAP_SERVER_DOWN:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_UNWILLING_TO_PERFORM:
		drop(ctl);
		return SAT_E_IO;
	default:
		if (!ctl->quiet)
			dlog(LOG_WARNING, "directory: a write was refused: %s",
			    ldap_err2string(rc));
		return SAT_E_IO;
	}
}

/* The fleet's key must be the store's before anything is minted here:
 * until the follower has brought it, a token would be hashed under a
 * key no other host has. */
static int
key_check(struct control *ctl, struct store *s)
{
	char dn[DN_MAX];
	char *attrs[] = { "satokenHmacKey", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int rc, ok = 0;

	snprintf(dn, sizeof(dn), "cn=key,%s", ctl->sub);
	rc = ldap_search_ext_s(ctl->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, NULL, 1, &res);
	if (rc == LDAP_SUCCESS && (e = ldap_first_entry(ctl->ld, res)) != NULL &&
	    (v = ldap_get_values_len(ctl->ld, e, "satokenHmacKey")) != NULL &&
	    v[0] != NULL && v[0]->bv_len == TOKEN_KEY_LEN)
		ok = CRYPTO_memcmp(v[0]->bv_val, store_hmac_key(s),
		    TOKEN_KEY_LEN) == 0;
	if (v != NULL)
		ldap_value_free_len(v);
	if (res != NULL)
		ldap_msgfree(res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT)
		return ldap_r(ctl, rc);
	ctl->key_ok = ok;
	return 0;
}

static void bg_settle(struct control *);

static int
ensure(struct control *ctl, struct op_ctx *c)
{
	int r;

	/* what a background step sent is answered before a request
	 * writes: a request's change to the same entry lands after it */
	bg_settle(ctl);
	if (ctl->ld == NULL) {
		if (clock_ms() < ctl->retry_ms)
			return op_fail(c, SAT_E_IO, "the directory %s cannot be "
			    "reached: nothing was changed", ctl->uris);
		if ((ctl->ld = ldapconn_open(ctl->uris, ctl->bind_dn,
		    ctl->pwfile, NET_TIMEOUT_S)) == NULL) {
			ctl->retry_ms = clock_ms() + RETRY_MS;
			return op_fail(c, SAT_E_IO, "the directory %s cannot be "
			    "reached: nothing was changed", ctl->uris);
		}
	}
	if (!ctl->key_ok && (r = key_check(ctl, c->st->store)) != 0)
		return op_fail(c, SAT_E_IO, "the directory %s cannot be "
		    "reached: nothing was changed", ctl->uris);
	if (!ctl->key_ok)
		return op_fail(c, SAT_E_IO, "this host does not hold the "
		    "fleet's HMAC key from the directory yet: nothing was "
		    "changed");
	return 0;
}

/* ---- LDAP calls ---------------------------------------------------------- */

static int
l_add(struct control *ctl, const char *dn, struct ent *e)
{
	int r = e->r;

	if (r == 0)
		r = ldap_r(ctl, ldap_add_ext_s(ctl->ld, dn, e->mods, NULL,
		    NULL));
	ent_free(e);
	return r;
}

/* filter: an assertion the entry must meet (RFC 4528), or NULL */
static int
l_mod(struct control *ctl, const char *dn, struct ent *e, const char *filter)
{
	LDAPControl *ac = NULL, *ctrls[2] = { NULL, NULL };
	int r = e->r;

	if (r == 0 && filter != NULL &&
	    ldap_create_assertion_control(ctl->ld, (char *)filter, 1,
	    &ac) != LDAP_SUCCESS)
		r = SAT_E_NOMEM;
	ctrls[0] = ac;
	if (r == 0 && e->n > 0)
		r = ldap_r(ctl, ldap_modify_ext_s(ctl->ld, dn, e->mods,
		    ac != NULL ? ctrls : NULL, NULL));
	if (ac != NULL)
		ldap_control_free(ac);
	ent_free(e);
	return r;
}

static int
l_del(struct control *ctl, const char *dn, const char *filter)
{
	LDAPControl *ac = NULL, *ctrls[2] = { NULL, NULL };
	int r = 0;

	if (filter != NULL && ldap_create_assertion_control(ctl->ld,
	    (char *)filter, 1, &ac) != LDAP_SUCCESS)
		return SAT_E_NOMEM;
	ctrls[0] = ac;
	r = ldap_r(ctl, ldap_delete_ext_s(ctl->ld, dn, ac != NULL ? ctrls :
	    NULL, NULL));
	if (ac != NULL)
		ldap_control_free(ac);
	return r;
}

/* The one value of attr in the entry dn, in out; SAT_E_NOTFOUND when
 * the entry or the attribute is absent. */
static int
read_attr(struct control *ctl, const char *dn, const char *attr, char *out,
    size_t cap)
{
	char *attrs[2] = { (char *)attr, NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int rc, r = SAT_E_NOTFOUND;

	rc = ldap_search_ext_s(ctl->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, NULL, 1, &res);
	if (rc == LDAP_SUCCESS && (e = ldap_first_entry(ctl->ld, res)) != NULL &&
	    (v = ldap_get_values_len(ctl->ld, e, attr)) != NULL &&
	    v[0] != NULL && v[0]->bv_len < cap &&
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
		r = 0;
	}
	if (v != NULL)
		ldap_value_free_len(v);
	if (res != NULL)
		ldap_msgfree(res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT)
		return ldap_r(ctl, rc);
	return r;
}

/* l_answer: the write is still out (only when the caller may wait) */
#define L_OUT	1

/* The answer to the write msgid sent on ctl->ld, waited for up to
 * wait_s: ours (ldap_r: a connection lost or timed out is dropped), its
 * server controls into *sc when sc is not NULL.  L_OUT instead when
 * none came and more_later: the caller asks again. */
static int
l_answer(struct control *ctl, int msgid, int wait_s, int more_later,
    LDAPControl ***sc)
{
	struct timeval tv = { wait_s, 0 };
	LDAPMessage *res = NULL;
	int rc, r, err = LDAP_OTHER;

	rc = ldap_result(ctl->ld, msgid, LDAP_MSG_ALL, &tv, &res);
	if (rc == 0 && more_later)
		return L_OUT;
	if (rc == 0) {
		(void)ldap_abandon_ext(ctl->ld, msgid, NULL, NULL);
		r = ldap_r(ctl, LDAP_TIMEOUT);
	} else if (rc < 0) {
		r = ldap_r(ctl, LDAP_SERVER_DOWN);
	} else if ((rc = ldap_parse_result(ctl->ld, res, &err, NULL, NULL,
	    NULL, sc, 0)) != LDAP_SUCCESS) {
		r = ldap_r(ctl, rc);
	} else {
		r = ldap_r(ctl, err);
	}
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/* A modify that brings back the entry's attr as it made it (RFC 4527
 * post-read): one round trip where a write and a read were two, each
 * waiting behind a directory busy sending the change to its hosts.
 * SAT_E_NOTFOUND in *got when the directory sent no value back (one
 * without the control, or an ACL keeping attr): the write stands. */
static int
l_mod_read(struct control *ctl, const char *dn, struct ent *e,
    const char *attr, char *out, size_t cap, int *got)
{
	char *attrs[2] = { (char *)attr, NULL };
	LDAPControl *pr = NULL, *ctrls[2] = { NULL, NULL }, **sc = NULL;
	BerElement *ber = NULL;
	struct berval v;
	int r = e->r, msgid, rc;

	*got = SAT_E_NOTFOUND;
	if (r == 0 && ((ber = ber_alloc_t(LBER_USE_DER)) == NULL ||
	    ber_printf(ber, "{v}", attrs) == -1 ||
	    ber_flatten2(ber, &v, 0) == -1 ||
	    ldap_control_create(LDAP_CONTROL_POST_READ, 0, &v, 1,
	    &pr) != LDAP_SUCCESS))
		r = SAT_E_NOMEM;
	if (ber != NULL)
		ber_free(ber, 1);
	ctrls[0] = pr;
	if (r == 0 && (rc = ldap_modify_ext(ctl->ld, dn, e->mods, ctrls, NULL,
	    &msgid)) != LDAP_SUCCESS)
		r = ldap_r(ctl, rc);
	if (r == 0 && (r = l_answer(ctl, msgid, NET_TIMEOUT_S, 0, &sc)) == 0)
		*got = ldapattr_post_read(sc, attr, out, cap);
	if (sc != NULL)
		ldap_controls_free(sc);
	if (pr != NULL)
		ldap_control_free(pr);
	ent_free(e);
	return r;
}

/* ids per search for the reports of deleted tokens: one indexed
 * equality each, the filter a few KiB */
#define USAGE_IDS_PER_SEARCH	64

static int del_found(struct control *, const char *, int, const char *);
static int bg_add_all(struct control *, char (*)[STORE_KEY_MAX], size_t);

/* The last-use reports (satokenUsage, one per token under each host
 * entry that saw it used) of the n tokens ids names, whose entries are
 * gone: a host cannot remove its reports, and they would outlive the
 * tokens forever.  Called after the token entries went, so that the
 * provider's ACL (a host reports only a token the directory holds)
 * refuses a report arriving meanwhile.  Best effort: the tokens are
 * gone whatever happens here; reports left are logged. */
static void
del_usage(struct control *ctl, char ids[][TOKEN_ID_LEN + 1], size_t n)
{
	char base[DN_MAX];
	char filter[64 + USAGE_IDS_PER_SEARCH * (TOKEN_ID_LEN + 20)];
	size_t i, len;
	int r;

	if (n == 0)
		return;
	snprintf(base, sizeof(base), "ou=hosts,%s", ctl->sub);
	len = (size_t)snprintf(filter, sizeof(filter),
	    "(&(objectClass=satokenUsage)(|");
	for (i = 0; i < n && i < USAGE_IDS_PER_SEARCH; i++)
		len += (size_t)snprintf(filter + len, sizeof(filter) - len,
		    "(satokenTokenId=%s)", ids[i]);
	snprintf(filter + len, sizeof(filter) - len, "))");
	r = ctl->ld == NULL ? SAT_E_IO : del_found(ctl, base,
	    LDAP_SCOPE_SUBTREE, filter);
	if (r != 0)
		dlog(LOG_WARNING, "directory: the last-use reports of %zu "
		    "deleted tokens stay under ou=hosts (%s): satokenUsage "
		    "entries naming a token id that ou=tokens no longer "
		    "holds may be deleted", n, sat_strerror(r));
}

/* Deletes every entry filter finds under base (scope), leaves first
 * when the scope is a subtree's children. */
static int
del_found(struct control *ctl, const char *base, int scope,
    const char *filter)
{
	char *attrs[] = { "1.1", NULL }, *dn;
	LDAPMessage *res = NULL, *e;
	int rc, r = 0;

	rc = ldap_search_ext_s(ctl->ld, base, scope, filter, attrs, 0, NULL,
	    NULL, NULL, 0, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
		if (res != NULL)
			ldap_msgfree(res);
		return ldap_r(ctl, rc);
	}
	for (e = ldap_first_entry(ctl->ld, res); e != NULL && r == 0;
	    e = ldap_next_entry(ctl->ld, e)) {
		if ((dn = ldap_get_dn(ctl->ld, e)) == NULL)
			continue;
		r = l_del(ctl, dn, NULL);
		if (r == SAT_E_NOTFOUND)
			r = 0;
		ldap_memfree(dn);
	}
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/* A token's entry, and then its last-use reports (del_usage says why
 * after).  An entry already gone counts as deleted. */
static int
del_token_entry(struct control *ctl, const char *id)
{
	char dn[DN_MAX], ids[1][TOKEN_ID_LEN + 1];
	int r;

	dn_token(ctl, id, dn);
	if ((r = l_del(ctl, dn, NULL)) != 0 && r != SAT_E_NOTFOUND)
		return r;
	/* the id goes into a filter: checked all the same */
	if (token_id_valid(id, strlen(id))) {
		memcpy(ids[0], id, sizeof(ids[0]));
		del_usage(ctl, ids, 1);
	}
	return 0;
}

/* ---- the request's changes ------------------------------------------------ */

enum ikind { I_ACCOUNT, I_GROUP, I_POLICY, I_TOKEN };

struct item {
	enum ikind kind;
	int had, has;			/* a record before the request; after */
	struct sat_account a0, a1;
	struct sat_group g0, g1;
	struct sat_policy p0, p1;
	struct sat_token t0, t1;
	int64_t version;		/* a new live token: its account's
					 * version written, or -1 */
};

enum ukind { U_DELETE, U_POLICY, U_CHANGE };

/* what takes one write back */
struct undo {
	enum ukind kind;
	char dn[DN_MAX];
	const struct item *it;
};

struct wctx {
	struct control *ctl;
	struct op_ctx *c;
	struct item *it;
	size_t n;
	struct undo *u;
	size_t nu, ucap;
	/* token entries whose deletion is left to control_bg_step */
	char (*later)[STORE_KEY_MAX];
	size_t nlater, latercap;
};

static void
item_free(struct item *it)
{
	record_free_account(&it->a0);
	record_free_account(&it->a1);
	record_free_group(&it->g0);
	record_free_group(&it->g1);
	record_free_policy(&it->p0);
	record_free_policy(&it->p1);
	record_free_token(&it->t0);
	record_free_token(&it->t1);
}

static int
decode(struct item *it, const void *p, size_t n, int after)
{
	switch (it->kind) {
	case I_ACCOUNT:
		return record_decode_account(p, n, after ? &it->a1 : &it->a0);
	case I_GROUP:
		return record_decode_group(p, n, after ? &it->g1 : &it->g0);
	case I_POLICY:
		return record_decode_policy(p, n, after ? &it->p1 : &it->p0);
	case I_TOKEN:
		return record_decode_token(p, n, after ? &it->t1 : &it->t0);
	}
	return SAT_E_INTERNAL;
}

/* One staged change as an item: 1, 0 for a key that is not the
 * directory's (the token indexes, last use...), or an error. */
static int
item_load(struct store *s, const struct store_change *ch, struct item *it)
{
	void *v = NULL;
	size_t vlen = 0;
	int r;

	memset(it, 0, sizeof(*it));
	it->version = -1;
	if (ch->klen == 1 && ch->key[0] == 'p')
		it->kind = I_POLICY;
	else if (ch->klen > 2 && ch->key[1] == ':' && ch->key[0] == 'a')
		it->kind = I_ACCOUNT;
	else if (ch->klen > 2 && ch->key[1] == ':' && ch->key[0] == 'g')
		it->kind = I_GROUP;
	else if (ch->klen > 2 && ch->key[1] == ':' && ch->key[0] == 't')
		it->kind = I_TOKEN;
	else
		return 0;
	r = store_fetch_before(s, ch->key, ch->klen, &v, &vlen);
	if (r == 0) {
		r = decode(it, v, vlen, 0);
		sat_freezero(v, vlen);
		/* a record that does not decode is absent (fail closed) */
		it->had = r == 0;
	}
	if (r != 0 && r != SAT_E_NOTFOUND && r != SAT_E_MALFORMED &&
	    r != SAT_E_INVALID)
		return r;
	if (ch->val != NULL) {
		if ((r = decode(it, ch->val, ch->vlen, 1)) != 0)
			return r;
		it->has = 1;
	}
	return 1;
}

static int
push_undo(struct wctx *w, enum ukind k, const char *dn, const struct item *it)
{
	struct undo *nu;

	if (w->nu == w->ucap) {
		size_t ncap = w->ucap ? w->ucap * 2 : 8;

		if ((nu = realloc(w->u, ncap * sizeof(*nu))) == NULL)
			return SAT_E_NOMEM;
		w->u = nu;
		w->ucap = ncap;
	}
	w->u[w->nu].kind = k;
	snprintf(w->u[w->nu].dn, DN_MAX, "%s", dn);
	w->u[w->nu].it = it;
	w->nu++;
	return 0;
}

/* A replace of what the request changed in an existing account, group
 * or token entry (back: what takes it back), nothing else. */
static void
enc_change(struct ent *e, const struct item *it, int back, enum tpart part)
{
	struct ent was;
	size_t i;

	ent_init(e, LDAP_MOD_REPLACE);
	ent_init(&was, LDAP_MOD_REPLACE);
	switch (it->kind) {
	case I_ACCOUNT:
		enc_account(e, back ? &it->a0 : &it->a1);
		enc_account(&was, back ? &it->a1 : &it->a0);
		break;
	case I_GROUP:
		enc_group(e, back ? &it->g0 : &it->g1);
		enc_group(&was, back ? &it->g1 : &it->g0);
		break;
	case I_TOKEN:
		enc_token(e, back ? &it->t0 : &it->t1);
		enc_token(&was, back ? &it->t1 : &it->t0);
		break;
	default:
		e->r = SAT_E_INTERNAL;
		break;
	}
	ent_changes(e, &was);
	for (i = 0; it->kind == I_TOKEN && i < e->n;) {
		int revocation = strcmp(e->mod[i].mod_type,
		    "satokenRevokedAt") == 0;

		if ((revocation && (e->mod[i].mod_bvalues == NULL ||
		    part == T_BEFORE_STEP)) ||
		    (!revocation && part == T_REVOCATION))
			ent_drop(e, i);
		else
			i++;
	}
}

/* Takes back what this request wrote, newest first; best effort (the
 * connection may be what failed). */
static void
undo_all(struct wctx *w)
{
	struct control *ctl = w->ctl;
	struct ent e;
	int r = 0;

	while (w->nu > 0) {
		const struct undo *u = &w->u[--w->nu];

		if (ctl->ld == NULL)
			break;
		ent_init(&e, LDAP_MOD_REPLACE);
		switch (u->kind) {
		case U_DELETE:
			r = l_del(ctl, u->dn, NULL);
			break;
		case U_POLICY:
			ent_list(&e, "satokenPolicyGroup", &u->it->p0.groups);
			r = l_mod(ctl, u->dn, &e, NULL);
			break;
		case U_CHANGE:
			enc_change(&e, u->it, 1, T_ALL);
			r = l_mod(ctl, u->dn, &e, NULL);
			break;
		}
		ent_free(&e);
		if (r != 0 && r != SAT_E_NOTFOUND)
			dlog(LOG_WARNING, "directory: cannot take back a write "
			    "to %s: %s", u->dn, sat_strerror(r));
	}
}

/* An entry of the request: added (new), or replaced whole. */
/* Adds e, the entry of the new item it, at dn, for the request's undo
 * to delete.  One already there is CONFLICT, named as what (NULL: the
 * caller's message). */
static int
add_new(struct wctx *w, const struct item *it, const char *dn,
    struct ent *e, const char *what, const char *name)
{
	int r;

	if ((r = l_add(w->ctl, dn, e)) == SAT_E_CONFLICT && what != NULL)
		return op_fail(w->c, r, "%s %s already exists (in the "
		    "directory)", what, name);
	return r != 0 ? r : push_undo(w, U_DELETE, dn, it);
}

static int
put_entry(struct wctx *w, const struct item *it, enum tpart part)
{
	struct control *ctl = w->ctl;
	char dn[DN_MAX];
	const char *filter = NULL;
	struct ent e;
	int r;

	ent_init(&e, LDAP_MOD_ADD);
	switch (it->kind) {
	case I_ACCOUNT:
		dn_account(ctl, it->a1.name, dn);
		if (it->had)
			break;
		enc_account(&e, &it->a1);
		return add_new(w, it, dn, &e, "service account", it->a1.name);
	case I_GROUP:
		dn_group(ctl, it->g1.name, dn);
		if (it->had)
			break;
		enc_group(&e, &it->g1);
		return add_new(w, it, dn, &e, "group", it->g1.name);
	case I_POLICY:
		snprintf(dn, sizeof(dn), "cn=policy,%s", ctl->sub);
		ent_init(&e, LDAP_MOD_REPLACE);
		ent_list(&e, "satokenPolicyGroup", &it->p1.groups);
		if ((r = l_mod(ctl, dn, &e, NULL)) == SAT_E_NOTFOUND) {
			/* a directory without base.ldif's policy entry */
			ent_init(&e, LDAP_MOD_ADD);
			ent_str(&e, "objectClass", "satokenPolicy");
			ent_str(&e, "cn", "policy");
			ent_list(&e, "satokenPolicyGroup", &it->p1.groups);
			r = l_add(ctl, dn, &e);
		}
		return r != 0 ? r : push_undo(w, U_POLICY, dn, it);
	case I_TOKEN:
		dn_token(ctl, it->t1.id, dn);
		if (it->had)
			break;
		enc_token(&e, &it->t1);
		return add_new(w, it, dn, &e, NULL, NULL);
	}
	/* a change to an existing entry */
	enc_change(&e, it, 0, part);
	if (e.n == 0)
		return e.r;
	/* of two control hosts rotating one token, the first */
	if (it->kind == I_TOKEN && part == T_BEFORE_STEP &&
	    it->t0.replaced_by[0] == '\0' && it->t1.replaced_by[0] != '\0')
		filter = "(!(satokenReplacedBy=*))";
	if ((r = l_mod(ctl, dn, &e, filter)) == SAT_E_CONFLICT &&
	    filter != NULL)
		return op_fail(w->c, r, "token %s was rotated on another "
		    "control host meanwhile: nothing was changed", it->t0.id);
	if (r != 0 || part == T_REVOCATION)
		return r;
	return push_undo(w, U_CHANGE, dn, it);
}

static int
token_live(const struct sat_token *t)
{
	return t->revoked_at == 0;
}

/* A token entry that can no longer log in anywhere, whatever account
 * comes to bear its account's name: revoked, or expired a day ago (no
 * host's clock is a day behind).  Deleting it may wait. */
#define PAST_USE_EXPIRED_S	86400
static int
past_use(int64_t revoked_at, int64_t expires_at, int64_t now)
{
	return revoked_at != 0 ||
	    (expires_at != 0 && expires_at < now - PAST_USE_EXPIRED_S);
}

/* The deletion of token id's entry, left to control_bg_step: its mark
 * is committed with the request, and kept in memory once the request
 * wrote all it had to (write_changes). */
static int
del_later(struct wctx *w, const char *id)
{
	char mk[STORE_KEY_MAX + BG_MARK_LEN], (*nl)[STORE_KEY_MAX];
	int r;

	if (w->nlater == w->latercap) {
		size_t ncap = w->latercap ? w->latercap * 2 : 64;

		if ((nl = realloc(w->later, ncap * sizeof(*nl))) == NULL)
			return SAT_E_NOMEM;
		w->later = nl;
		w->latercap = ncap;
	}
	snprintf(w->later[w->nlater], sizeof(w->later[0]), "x:%s", id);
	snprintf(mk, sizeof(mk), BG_MARK "%s", w->later[w->nlater]);
	if ((r = store_stage_raw(w->c->st->store, mk, strlen(mk), "1",
	    1)) != 0)
		return r;
	w->nlater++;
	return 0;
}

/* Every token entry of account in the directory, this copy's or not:
 * a live one deleted now (it stops at once everywhere, and an account
 * made again under the name cannot inherit it), one past use left to
 * control_bg_step.  An account that held 100,000 tokens is then a
 * search and a mark each, not 100,000 deletions on the loop. */
static int
del_account_tokens(struct wctx *w, const char *account)
{
	struct control *ctl = w->ctl;
	char *attrs[] = { "satokenTokenId", "satokenRevokedAt",
	    "satokenExpiresAt", NULL };
	char base[DN_MAX], filter[128], *dn;
	char ids[USAGE_IDS_PER_SEARCH][TOKEN_ID_LEN + 1], id[TOKEN_ID_LEN + 1];
	LDAPMessage *res = NULL, *e;
	int64_t revoked, expires;
	size_t n = 0;
	int rc, r = 0;

	snprintf(base, sizeof(base), "ou=tokens,%s", ctl->sub);
	snprintf(filter, sizeof(filter), "(&(objectClass=satokenToken)"
	    "(satokenAccount=%s))", account);
	rc = ldap_search_ext_s(ctl->ld, base, LDAP_SCOPE_ONELEVEL, filter,
	    attrs, 0, NULL, NULL, NULL, 0, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
		if (res != NULL)
			ldap_msgfree(res);
		return ldap_r(ctl, rc);
	}
	for (e = ldap_first_entry(ctl->ld, res); e != NULL && r == 0;
	    e = ldap_next_entry(ctl->ld, e)) {
		/* the id names a mark and goes into a filter: checked.
		 * An entry that does not read is live (deleted now). */
		if (ldapattr_str(ctl->ld, e, "satokenTokenId", id,
		    sizeof(id)) != 0 || !token_id_valid(id, strlen(id)))
			id[0] = '\0';
		if (id[0] != '\0' &&
		    ldapattr_i64(ctl->ld, e, "satokenRevokedAt", 0,
		    &revoked) == 0 &&
		    ldapattr_i64(ctl->ld, e, "satokenExpiresAt", 1,
		    &expires) == 0 &&
		    past_use(revoked, expires, w->c->st->now)) {
			r = del_later(w, id);
			continue;
		}
		if ((dn = ldap_get_dn(ctl->ld, e)) == NULL)
			continue;
		if ((r = l_del(ctl, dn, NULL)) == SAT_E_NOTFOUND)
			r = 0;
		ldap_memfree(dn);
		if (r != 0 || id[0] == '\0')
			continue;
		memcpy(ids[n++], id, sizeof(id));
		if (n == USAGE_IDS_PER_SEARCH) {
			del_usage(ctl, ids, n);
			n = 0;
		}
	}
	del_usage(ctl, ids, n);
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/* An entry the request deleted. */
static int
del_entry(struct wctx *w, const struct item *it)
{
	struct control *ctl = w->ctl;
	char dn[DN_MAX];
	int r;

	switch (it->kind) {
	case I_TOKEN:
		if (past_use(it->t0.revoked_at, it->t0.expires_at,
		    w->c->st->now))
			return del_later(w, it->t0.id);
		return del_token_entry(ctl, it->t0.id);
	case I_GROUP:
		dn_group(ctl, it->g0.name, dn);
		break;
	case I_ACCOUNT:
		/* its tokens, and any children (live-name entries of
		 * earlier builds), go before it */
		dn_account(ctl, it->a0.name, dn);
		if ((r = del_account_tokens(w, it->a0.name)) != 0 ||
		    (r = del_found(ctl, dn, LDAP_SCOPE_ONELEVEL,
		    "(objectClass=*)")) != 0)
			return r;
		break;
	default:
		return 0;
	}
	r = l_del(ctl, dn, NULL);
	return r == SAT_E_NOTFOUND ? 0 : r;
}

/* ---- max_tokens_per_account across control hosts (control.h) ----------- */

/* "F:q:NAME" holds the version as "V", applied from the directory, or
 * "Vw", written by this host and not yet seen come back. */
#define MINT_VERSION_KEY	"F:q:"
#define MINT_VERSION_KEY_MAX	(sizeof(MINT_VERSION_KEY) + SAT_NAME_MAX + 1)

static int
version_key(const char *account, char *k)
{
	int n = snprintf(k, MINT_VERSION_KEY_MAX, MINT_VERSION_KEY "%s",
	    account);

	return n < 0 || (size_t)n >= MINT_VERSION_KEY_MAX ? -1 : n;
}

/* An account's version as this copy keeps it: the directory's value of
 * satokenLiveCount as sent (an INTEGER: a sign and digits), then 'w'
 * when this host wrote it.  A value that is no version (negative, too
 * large: set by hand) is kept too, so that the next step deletes
 * exactly it rather than fail against it for ever. */
struct version {
	char raw[CONTROL_VERSION_MAX + 1];	/* "": none */
	int64_t v;	/* raw's version; -1: none, or raw is not one */
	int own;	/* this host wrote it */
};

static int
version_raw_ok(const char *raw)
{
	size_t n = strlen(raw), i = raw[0] == '-';

	if (n == 0 || n > CONTROL_VERSION_MAX || i == n)
		return 0;
	for (; i < n; i++)
		if (raw[i] < '0' || raw[i] > '9')
			return 0;
	return 1;
}

/* raw (or NULL: none) into *ret. */
static void
version_of(const char *raw, int own, struct version *ret)
{
	uint64_t x;

	memset(ret, 0, sizeof(*ret));
	ret->v = -1;
	if (raw == NULL || !version_raw_ok(raw))
		return;
	strcpy(ret->raw, raw);
	ret->own = own;
	if (parse_u64(raw, 0, INT64_MAX - 1, &x) == 0)
		ret->v = (int64_t)x;
}

/* val as kept: 0 with *ret, or SAT_E_MALFORMED. */
static int
version_decode(const void *val, size_t vlen, struct version *ret)
{
	char buf[CONTROL_VERSION_MAX + 2];
	int own;

	version_of(NULL, 0, ret);
	if (vlen == 0 || vlen >= sizeof(buf))
		return SAT_E_MALFORMED;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	if ((own = buf[vlen - 1] == 'w'))
		buf[vlen - 1] = '\0';
	version_of(buf, own, ret);
	return ret->raw[0] != '\0' ? 0 : SAT_E_MALFORMED;
}

/* raw NULL: none. */
static int
version_stage(struct store *s, const char *account, const char *raw,
    int own)
{
	char k[MINT_VERSION_KEY_MAX], val[CONTROL_VERSION_MAX + 2];
	int n;

	if ((n = version_key(account, k)) < 0)
		return SAT_E_INVALID;
	if (raw == NULL)
		return store_stage_delete(s, k, (size_t)n);
	if (!version_raw_ok(raw))
		return SAT_E_INVALID;
	snprintf(val, sizeof(val), "%s%s", raw, own ? "w" : "");
	return store_stage_raw(s, k, (size_t)n, val, strlen(val));
}

int
control_mint_version_applied(struct store *s, const char *account,
    const char *value)
{
	char k[MINT_VERSION_KEY_MAX];
	struct version cur, got;
	void *val = NULL;
	size_t vlen = 0;
	int n, r;

	version_of(value, 0, &got);
	if ((n = version_key(account, k)) < 0)
		return SAT_E_INVALID;
	r = store_fetch_raw(s, k, (size_t)n, &val, &vlen);
	if (r != 0 && r != SAT_E_NOTFOUND)
		return r;
	/* none, or an older version than this host wrote, is the
	 * directory's echo of an earlier request: the copy already holds
	 * more.  A value that is no version (set by hand) is taken. */
	if (r == 0 && version_decode(val, vlen, &cur) == 0 && cur.own &&
	    (got.raw[0] == '\0' || (got.v >= 0 && got.v < cur.v))) {
		free(val);
		return 0;
	}
	free(val);
	return version_stage(s, account,
	    got.raw[0] != '\0' ? got.raw : NULL, 0);
}

int
control_mint_version_forget(struct store *s, const char *account)
{
	return version_stage(s, account, NULL, 0);
}

/* The version this copy held for account at the request's savepoint.
 * One that does not read is none. */
static int
mint_version(struct store *s, const char *account, struct version *ret)
{
	char k[MINT_VERSION_KEY_MAX];
	void *val = NULL;
	size_t vlen = 0;
	int n, r;

	version_of(NULL, 0, ret);
	if ((n = version_key(account, k)) < 0)
		return SAT_E_INVALID;
	if ((r = store_fetch_before(s, k, (size_t)n, &val, &vlen)) != 0)
		return r == SAT_E_NOTFOUND ? 0 : r;
	(void)version_decode(val, vlen, ret);
	free(val);
	return 0;
}

/* Moves account's version on by one from what this copy holds (see
 * control.h); on success *ret is the new one, for the copy.  A copy
 * holding none adds the first, which the directory refuses when it
 * holds one: the copy is behind, and the follower brings it.  A value
 * that is no version, or none where the copy holds one, is replaced by
 * 1. */
static int
quota_step(struct wctx *w, const char *account, int64_t *ret)
{
	struct control *ctl = w->ctl;
	struct version cur;
	char dn[DN_MAX], next[24], held[CONTROL_VERSION_MAX + 1];
	char *curv[2] = { cur.raw, NULL }, *nextv[2] = { next, NULL };
	LDAPMod del, add, *mods[3];
	int64_t v;
	int r, rc;

	if ((r = mint_version(w->c->st->store, account, &cur)) != 0)
		return op_fail(w->c, r, "store: %s", sat_strerror(r));
	dn_account(ctl, account, dn);
	v = cur.v < 0 ? 1 : cur.v + 1;
	snprintf(next, sizeof(next), "%lld", (long long)v);
	memset(&del, 0, sizeof(del));
	memset(&add, 0, sizeof(add));
	del.mod_op = LDAP_MOD_DELETE;
	del.mod_type = "satokenLiveCount";
	del.mod_values = curv;
	add.mod_op = LDAP_MOD_ADD;
	add.mod_type = "satokenLiveCount";
	add.mod_values = nextv;
	mods[0] = cur.raw[0] == '\0' ? &add : &del;
	mods[1] = cur.raw[0] == '\0' ? NULL : &add;
	mods[2] = NULL;
	rc = ldap_modify_ext_s(ctl->ld, dn, mods, NULL, NULL);
	/* the value this copy holds is gone and none stands in its place:
	 * deleted by hand (no mint ever removes it), which the copy cannot
	 * tell from the late echo of its own first mint.  Started again at
	 * 1 as an add, which the directory refuses if another control host
	 * adds one first; as with a value that is no version, the count
	 * starts again from what this copy holds. */
	if (rc == LDAP_NO_SUCH_ATTRIBUTE && cur.raw[0] != '\0' &&
	    (r = read_attr(ctl, dn, "satokenLiveCount", held,
	    sizeof(held))) != 0) {
		if (r != SAT_E_NOTFOUND)
			return r;
		v = 1;
		snprintf(next, sizeof(next), "%lld", (long long)v);
		mods[0] = &add;
		mods[1] = NULL;
		rc = ldap_modify_ext_s(ctl->ld, dn, mods, NULL, NULL);
		if (rc == LDAP_SUCCESS)
			dlog(LOG_NOTICE, "service account %s had no "
			    "satokenLiveCount in the directory (deleted by "
			    "hand?): its version starts again at 1", account);
	}
	/* the value moved (noSuchAttribute), or there was one already (a
	 * single value added to) */
	if (rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_TYPE_OR_VALUE_EXISTS ||
	    rc == LDAP_CONSTRAINT_VIOLATION)
		return op_fail(w->c, SAT_E_CONFLICT, "service account %s's "
		    "tokens changed in the directory since this host last "
		    "caught up (another control host minted into it, or this "
		    "host is still catching up; max_tokens_per_account holds "
		    "across control hosts): nothing was changed; try again",
		    account);
	if ((r = ldap_r(ctl, rc)) != 0)
		return r;
	*ret = v;
	return 0;
}

/* A token the request adds live: what moves its account's version. */
static int
adds_live_token(const struct item *it)
{
	return it->kind == I_TOKEN && !it->had && it->has &&
	    token_live(&it->t1);
}

/* 1 for the first new live token of its account in the request: one
 * version step per account and request. */
static int
first_for_account(const struct wctx *w, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (adds_live_token(&w->it[j]) &&
		    strcmp(w->it[j].t1.account, w->it[i].t1.account) == 0)
			return 0;
	return 1;
}

/* Whether the request deletes account: its deletion takes every token
 * entry of it (del_account_tokens), the request's own among them. */
static int
account_goes(const struct wctx *w, const char *account)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->it[i].kind == I_ACCOUNT && w->it[i].had &&
		    !w->it[i].has && strcmp(w->it[i].a0.name, account) == 0)
			return 1;
	return 0;
}

/* The directory writes of one request, in an order that lets each
 * refusal come before anything it would have to take back: the new
 * accounts and groups (their names are entries the directory adds
 * once), the new tokens and the changes to existing entries (each
 * write carrying only what changed; a rotation's old token only if no
 * other control host rotated it first), then each account's version
 * (control.h: its step is what makes a token name unique among the
 * account's live tokens, as it makes the quota hold, so of two control
 * hosts minting one name into an account at once, one is refused),
 * then the revocations, which are never taken back; past taking back,
 * the deletions. */
static int
write_all(struct wctx *w)
{
	struct item *it;
	size_t i;
	int r = 0;

	for (i = 0; i < w->n && r == 0; i++) {
		it = &w->it[i];
		if (!it->had && it->has &&
		    (it->kind == I_ACCOUNT || it->kind == I_GROUP))
			r = put_entry(w, it, T_ALL);
	}
	for (i = 0; i < w->n && r == 0; i++) {
		it = &w->it[i];
		if (it->has && (it->had || it->kind == I_TOKEN ||
		    it->kind == I_POLICY))
			r = put_entry(w, it, T_BEFORE_STEP);
	}
	for (i = 0; i < w->n && r == 0; i++) {
		it = &w->it[i];
		if (adds_live_token(it) && first_for_account(w, i))
			r = quota_step(w, it->t1.account, &it->version);
	}
	for (i = 0; i < w->n && r == 0; i++) {
		it = &w->it[i];
		if (it->kind == I_TOKEN && it->had && it->has &&
		    it->t0.revoked_at == 0 && it->t1.revoked_at != 0)
			r = put_entry(w, it, T_REVOCATION);
	}
	if (r != 0) {
		undo_all(w);
		return r;
	}
	for (i = 0; i < w->n && r == 0; i++)
		if (w->it[i].kind == I_TOKEN && w->it[i].had &&
		    !w->it[i].has && !account_goes(w, w->it[i].t0.account))
			r = del_entry(w, &w->it[i]);
	for (i = 0; i < w->n && r == 0; i++)
		if (w->it[i].kind != I_TOKEN && w->it[i].had && !w->it[i].has)
			r = del_entry(w, &w->it[i]);
	return r;
}

static int
write_changes(struct control *ctl, struct op_ctx *c, int *wrote)
{
	const struct store_batch *b = store_savepoint_changes(c->st->store);
	struct wctx w;
	size_t i;
	int r = 0;

	memset(&w, 0, sizeof(w));
	w.ctl = ctl;
	w.c = c;
	if (b == NULL)
		return SAT_E_INTERNAL;
	if ((w.it = calloc(b->n + 1, sizeof(*w.it))) == NULL)
		return op_fail(c, SAT_E_NOMEM, "out of memory");
	for (i = 0; i < b->n && r == 0; i++) {
		if ((r = item_load(c->st->store, &b->v[i], &w.it[w.n])) == 1) {
			w.n++;
			r = 0;
		} else {
			item_free(&w.it[w.n]);
		}
	}
	if (r != 0)
		r = op_fail(c, r, "store: %s", sat_strerror(r));
	*wrote = w.n > 0;
	if (r == 0 && w.n > 0 && (r = ensure(ctl, c)) == 0 &&
	    (r = write_all(&w)) != 0 && c->msg[0] == '\0')
		r = op_fail(c, r == SAT_E_CONFLICT ? r : SAT_E_IO,
		    r == SAT_E_CONFLICT ? "changed in the directory meanwhile" :
		    "the directory %s did not take the change: nothing was "
		    "changed", ctl->uris);
	/* this copy holds the tokens it wrote, so it holds their version */
	for (i = 0; r == 0 && i < w.n; i++)
		if (w.it[i].version >= 0) {
			char raw[24];

			snprintf(raw, sizeof(raw), "%lld",
			    (long long)w.it[i].version);
			if ((r = version_stage(c->st->store,
			    w.it[i].t1.account, raw, 1)) != 0)
				r = op_fail(c, r, "store: %s",
				    sat_strerror(r));
		}
	if (r == 0 && w.nlater > 0 && bg_add_all(ctl, w.later, w.nlater) != 0)
		r = op_fail(c, SAT_E_NOMEM, "out of memory");
	for (i = 0; i < w.n; i++)
		item_free(&w.it[i]);
	free(w.it);
	free(w.u);
	free(w.later);
	return r;
}

/* The position every host must have applied for --wait to confirm a
 * request's writes: a fence written after them, whose own entryCSN
 * comes back with the write (post-read), or is read after it from a
 * directory that sends none.  A deletion leaves no entry to read a CSN from, and the
 * suffix's contextCSN may stand behind a change still in flight on
 * another connection; the fence is newer than every write of the
 * request, by the provider that took them all, in the order it
 * replicates.  It is the policy entry's naming value replaced by itself
 * (so nothing a host holds changes, whatever another control host
 * writes meanwhile), and the policy is a record, so every host counts
 * it as applied (follower.c publishes positions on records only).
 * NULL when the directory did not take it: the change stands, but no
 * one can say where it is. */
static json_t *
fence_position(struct control *ctl)
{
	char dn[DN_MAX], csn[CSN_SET_MAX + 1];
	struct ent e;
	int got;

	snprintf(dn, sizeof(dn), "cn=policy,%s", ctl->sub);
	ent_init(&e, LDAP_MOD_REPLACE);
	ent_str(&e, "cn", "policy");
	if (l_mod_read(ctl, dn, &e, "entryCSN", csn, sizeof(csn),
	    &got) != 0 || (got != 0 &&
	    read_attr(ctl, dn, "entryCSN", csn, sizeof(csn)) != 0) ||
	    csn_set_valid(csn) != 0)
		return json_null();
	return json_string(csn);
}

int
control_run(struct op_ctx *c, int (*fn)(struct op_ctx *))
{
	struct store *s = c->st->store;
	json_t *pos;
	int r, wrote = 0;

	if ((r = store_savepoint(s)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	c->msg[0] = '\0';
	r = fn(c);
	if (r == 0 && store_savepoint_changes(s)->n > 0)
		r = write_changes(c->st->control, c, &wrote);
	/* past taking back: the change stands whatever happens here */
	if (r == 0 && wrote && c->rq->confirm &&
	    ((pos = fence_position(c->st->control)) == NULL ||
	    json_object_set_new(c->reply, "csn", pos) != 0))
		dlog(LOG_ERR, "out of memory: a reply lacks its position");
	if (r == 0) {
		if ((r = store_savepoint_release(s)) != 0) {
			/* everything staged is gone: the batch fails whole */
			c->staged = 1;
			return op_fail(c, r, "out of memory");
		}
		return 0;
	}
	/* this request's changes alone go; the batch's others stay */
	store_savepoint_rollback(s);
	if (c->staged) {
		c->staged = 0;
		if (ops_load_names(c->st) != 0)
			dlog(LOG_ERR, "store: cannot reload the names");
	}
	return r;
}

/* ---- what this host changes by itself (control.h) ------------------------ */

/* the directory away: the marked changes are tried again this often */
#define BG_RETRY_MS	3000
/* directory writes out at once, a step: a request's writes wait for
 * them (ensure), and the directory takes them one after another */
#define BG_PER_STEP	8

/* A record a background job changes and the directory holds: a token
 * ("t:ID") or an account ("a:NAME"). */
static int
bg_key(const char *key, size_t klen)
{
	return klen > 2 && key[1] == ':' && (key[0] == 't' || key[0] == 'a') &&
	    BG_MARK_LEN + klen < STORE_KEY_MAX &&
	    memchr(key, '\0', klen) == NULL;
}

/* What a mark names: such a record, or "x:ID", a token entry to delete
 * whatever this copy holds (del_later: the token may still be here,
 * its account's tokens reclaimed a few at a time, tindex.h). */
static int
bg_mark_key(const char *key, size_t klen)
{
	return bg_key(key, klen) || (klen == 2 + TOKEN_ID_LEN &&
	    key[0] == 'x' && key[1] == ':' &&
	    token_id_valid(key + 2, TOKEN_ID_LEN));
}

/* Where key is in the sorted marks, or would go; *found says which. */
static size_t
bg_pos(const struct control *ctl, const char *key, int *found)
{
	size_t lo = 0, hi = ctl->nbg, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(ctl->bg[mid], key)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One marked record's write in a step: sent, then its answer taken. */
struct bg_op {
	char key[STORE_KEY_MAX];	/* the mark's record key */
	int msgid;		/* -1: nothing was sent, or answered */
	int r;			/* 0 once the directory has it */
	int del;		/* a token entry deleted: its reports go next */
	int remarked;		/* marked again since sent: the mark stays */
};

/* A step: up to BG_PER_STEP writes sent together on one connection
 * (gen), whose answers the loop takes as they come, and the marks of
 * those the directory took dropped in one commit once all are in. */
struct bg_step {
	struct bg_op op[BG_PER_STEP];
	size_t n;
	uint64_t gen;
	int64_t due_ms;		/* clock_ms: unanswered then, timed out */
};

/* A job marked key again while the step writing it is out: the write
 * may carry the record as it was, so the mark stays for the next. */
static void
bg_remarked(struct control *ctl, const char *key)
{
	size_t i;

	if (ctl->step == NULL)
		return;
	for (i = 0; i < ctl->step->n; i++)
		if (strcmp(ctl->step->op[i].key, key) == 0)
			ctl->step->op[i].remarked = 1;
}

static int
bg_add(struct control *ctl, const char *key)
{
	char (*nb)[STORE_KEY_MAX];
	size_t at;
	int found;

	at = bg_pos(ctl, key, &found);
	if (found) {
		bg_remarked(ctl, key);
		return 0;
	}
	if (ctl->nbg == ctl->bgcap) {
		size_t ncap = ctl->bgcap ? ctl->bgcap * 2 : 16;

		if ((nb = realloc(ctl->bg, ncap * sizeof(*nb))) == NULL)
			return SAT_E_NOMEM;
		ctl->bg = nb;
		ctl->bgcap = ncap;
	}
	memmove(&ctl->bg[at + 1], &ctl->bg[at],
	    (ctl->nbg - at) * sizeof(*ctl->bg));
	snprintf(ctl->bg[at], sizeof(ctl->bg[0]), "%s", key);
	ctl->nbg++;
	return 0;
}

static int
bg_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* n keys at once (an account's tokens past use: up to every token it
 * held).  Only the new keys are sorted; they are then merged in from
 * the end, so a small account deleted while 100,000 marks wait costs
 * one pass over the marks, not a sort of them all. */
static int
bg_add_all(struct control *ctl, char (*keys)[STORE_KEY_MAX], size_t n)
{
	char (*nb)[STORE_KEY_MAX];
	size_t i, m, k, ncap, total;
	int found;

	qsort(keys, n, sizeof(*keys), bg_cmp);
	for (i = m = 0; i < n; i++) {
		if (m > 0 && strcmp(keys[m - 1], keys[i]) == 0)
			continue;
		(void)bg_pos(ctl, keys[i], &found);
		if (found) {
			bg_remarked(ctl, keys[i]);
			continue;
		}
		if (m != i)
			memcpy(keys[m], keys[i], sizeof(*keys));
		m++;
	}
	if (m == 0)
		return 0;
	if (m > SIZE_MAX / sizeof(*nb) - ctl->nbg)
		return SAT_E_NOMEM;
	if (ctl->nbg + m > ctl->bgcap) {
		ncap = ctl->nbg + m;
		if (ctl->bgcap <= SIZE_MAX / sizeof(*nb) / 2 &&
		    ncap < ctl->bgcap * 2)
			ncap = ctl->bgcap * 2;
		if ((nb = realloc(ctl->bg, ncap * sizeof(*nb))) == NULL)
			return SAT_E_NOMEM;
		ctl->bg = nb;
		ctl->bgcap = ncap;
	}
	total = ctl->nbg + m;
	for (i = ctl->nbg, k = total; m > 0; )
		if (i > 0 && strcmp(ctl->bg[i - 1], keys[m - 1]) > 0)
			memcpy(ctl->bg[--k], ctl->bg[--i], sizeof(*keys));
		else
			memcpy(ctl->bg[--k], keys[--m], sizeof(*keys));
	ctl->nbg = total;
	return 0;
}

int
control_bg_held(const struct control *ctl, const char *key, size_t klen)
{
	char k[STORE_KEY_MAX];
	int found;

	if (ctl == NULL || ctl->nbg == 0 || !bg_key(key, klen))
		return 0;
	memcpy(k, key, klen);
	k[klen] = '\0';
	(void)bg_pos(ctl, k, &found);
	return found;
}

int
control_bg_begin(struct server *sv)
{
	if (sv->st.control == NULL)
		return 0;
	return store_savepoint(sv->st.store);
}

int
control_bg_mark(struct server *sv)
{
	struct control *ctl = sv->st.control;
	struct store *s = sv->st.store;
	const struct store_batch *b;
	char k[STORE_KEY_MAX], mk[STORE_KEY_MAX + BG_MARK_LEN];
	size_t i, n;
	int r = 0;

	if (ctl == NULL)
		return 0;
	if ((b = store_savepoint_changes(s)) == NULL)
		return SAT_E_INTERNAL;
	/* the marks are staged into b too: only the job's changes count */
	n = b->n;
	for (i = 0; i < n && r == 0; i++) {
		if (!bg_key(b->v[i].key, b->v[i].klen))
			continue;
		memcpy(k, b->v[i].key, b->v[i].klen);
		k[b->v[i].klen] = '\0';
		snprintf(mk, sizeof(mk), BG_MARK "%s", k);
		if ((r = store_stage_raw(s, mk, strlen(mk), "1", 1)) == 0)
			r = bg_add(ctl, k);
	}
	/* a mark kept in memory whose commit then fails costs one write
	 * of the record as it stands: harmless */
	if (r != 0)
		return r;
	return store_savepoint_release(s);
}

static int
bg_load_cb(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct control *ctl = arg;
	const char *k = key;
	char rk[STORE_KEY_MAX];

	(void)val;
	(void)vlen;
	if (klen <= BG_MARK_LEN || memcmp(k, BG_MARK, BG_MARK_LEN) != 0 ||
	    !bg_mark_key(k + BG_MARK_LEN, klen - BG_MARK_LEN))
		return 0;
	memcpy(rk, k + BG_MARK_LEN, klen - BG_MARK_LEN);
	rk[klen - BG_MARK_LEN] = '\0';
	return bg_add(ctl, rk);
}

int
control_bg_load(struct server *sv)
{
	struct control *ctl = sv->st.control;
	int r;

	if (ctl == NULL)
		return 0;
	/* once per start, a store's size, like the UUID map's load */
	if ((r = store_export(sv->st.store, bg_load_cb, ctl)) != 0)
		return r;
	if (ctl->nbg > 0)
		dlog(LOG_NOTICE, "directory: %zu changes this host made by "
		    "itself before it stopped are still to be written",
		    ctl->nbg);
	return 0;
}

/* Sends the write that makes the directory's entry of one marked record
 * what the store now says, without waiting for its answer (bg_answer
 * takes it).  op->msgid -1 with op->r 0: nothing to write. */
static void
bg_send(struct control *ctl, struct store *s, struct bg_op *op)
{
	const char *key = op->key;
	struct sat_account a;
	struct sat_token t;
	struct ent e;
	char dn[DN_MAX];
	int r;

	op->msgid = -1;
	ent_init(&e, LDAP_MOD_REPLACE);
	if (key[0] == 'a') {
		memset(&a, 0, sizeof(a));
		if ((r = store_get_account(s, key + 2, &a)) != 0) {
			op->r = r == SAT_E_NOTFOUND ? 0 : r;
			return;
		}
		/* the disable alone: the rest of the entry may be newer in
		 * the directory than in this copy; enabled again since is
		 * a request's doing, written by control_run already */
		if (!a.enabled) {
			dn_account(ctl, a.name, dn);
			ent_bool(&e, "satokenEnabled", 0);
		}
		record_free_account(&a);
	} else {
		memset(&t, 0, sizeof(t));
		if (key[0] == 'x' ||
		    (r = store_get_token(s, key + 2, &t)) == SAT_E_NOTFOUND) {
			/* reclaimed here, or its deletion left to this: its
			 * entry goes */
			dn_token(ctl, key + 2, dn);
			op->del = 1;
			if ((op->r = ldap_r(ctl, ldap_delete_ext(ctl->ld, dn,
			    NULL, NULL, &op->msgid))) != 0)
				op->msgid = -1;
			return;
		}
		if (r != 0) {
			op->r = r;
			return;
		}
		/* the revocation alone, as for an account: a live token was
		 * not changed by a job (a mark whose commit failed, a
		 * restored store) and is not written, so nothing here
		 * un-revokes an entry */
		if (!token_live(&t)) {
			dn_token(ctl, t.id, dn);
			ent_num(&e, "satokenRevokedAt", t.revoked_at, 1);
		}
		record_free_token(&t);
	}
	if ((op->r = e.r) == 0 && e.n > 0 &&
	    (op->r = ldap_r(ctl, ldap_modify_ext(ctl->ld, dn, e.mods, NULL,
	    NULL, &op->msgid))) != 0)
		op->msgid = -1;
	ent_free(&e);
}

/* The answer to a write of step, once it came (within wait_s): an entry
 * already gone counts as written.  0 while it is still out.  The
 * connection failed (dropped by ldap_r, here or by a request) fails
 * every write still out on it; so does a step out past its due_ms, as a
 * synchronous write times out (ldapconn.c). */
static int
bg_answer(struct control *ctl, struct bg_step *step, struct bg_op *op,
    int wait_s)
{
	int r;

	if (op->msgid < 0)
		return 1;
	if (ctl->ld == NULL || step->gen != ctl->gen) {
		op->msgid = -1;
		op->r = SAT_E_IO;
		return 1;
	}
	if ((r = l_answer(ctl, op->msgid, wait_s, wait_s == 0 &&
	    clock_ms() < step->due_ms, NULL)) == L_OUT)
		return 0;
	op->r = r == SAT_E_NOTFOUND ? 0 : r;
	op->msgid = -1;
	return 1;
}

/* 1 once every write of the step is answered; wait_s 0: only what came,
 * up to the first still out (the directory answers them about in the
 * order sent: one look at the connection a call) */
static int
bg_answers(struct control *ctl, int wait_s)
{
	struct bg_step *step = ctl->step;
	size_t i;
	int all = 1;

	ctl->quiet = 1;
	for (i = 0; i < step->n && all; i++)
		all = bg_answer(ctl, step, &step->op[i], wait_s);
	ctl->quiet = 0;
	return all;
}

static void
bg_settle(struct control *ctl)
{
	if (ctl->step != NULL)
		(void)bg_answers(ctl, NET_TIMEOUT_S);
}

/* Sends the writes of the last marks (from the end: what is written
 * leaves without moving the rest).  SAT_E_IO when the directory cannot
 * be reached. */
static int
bg_start(struct control *ctl, struct store *s)
{
	struct bg_step *step;
	size_t i, n;
	int64_t t = clock_ms();

	if (ctl->ld == NULL && (t < ctl->retry_ms ||
	    (ctl->ld = ldapconn_open_q(ctl->uris, ctl->bind_dn, ctl->pwfile,
	    NET_TIMEOUT_S, ctl->bg_failing, NULL)) == NULL)) {
		if (t >= ctl->retry_ms)
			ctl->retry_ms = t + RETRY_MS;
		return SAT_E_IO;
	}
	if ((step = calloc(1, sizeof(*step))) == NULL)
		return SAT_E_NOMEM;
	n = ctl->nbg < BG_PER_STEP ? ctl->nbg : BG_PER_STEP;
	step->gen = ctl->gen;
	step->due_ms = t + NET_TIMEOUT_S * 1000;
	ctl->quiet = 1;
	for (i = 0; i < n; i++) {
		struct bg_op *op = &step->op[i];

		memcpy(op->key, ctl->bg[ctl->nbg - n + i], sizeof(op->key));
		op->msgid = -1;
		if (ctl->ld == NULL || step->gen != ctl->gen)
			op->r = SAT_E_IO;
		else
			bg_send(ctl, s, op);
	}
	ctl->quiet = 0;
	step->n = n;
	ctl->step = step;
	return 0;
}

/* Every write of the step answered: the reports of the tokens it
 * deleted go (one search), and the marks of what the directory took
 * and nobody marked again since, in one commit.  The first failure. */
static int
bg_end(struct control *ctl, struct store *s)
{
	struct bg_step *step = ctl->step;
	char mk[STORE_KEY_MAX + BG_MARK_LEN];
	char gone[BG_PER_STEP][TOKEN_ID_LEN + 1];
	unsigned char done[BG_PER_STEP];
	size_t pos[BG_PER_STEP], i, j, at, lo, ndone = 0, ngone = 0;
	int r = 0, first = 0, found;

	ctl->step = NULL;
	for (i = 0; i < step->n; i++)
		if (step->op[i].r == 0 && step->op[i].del &&
		    token_id_valid(step->op[i].key + 2,
		    strlen(step->op[i].key + 2)))
			memcpy(gone[ngone++], step->op[i].key + 2,
			    TOKEN_ID_LEN + 1);
	del_usage(ctl, gone, ngone);
	memset(done, 0, sizeof(done));
	for (i = 0; i < step->n; i++) {
		if (step->op[i].r != 0) {
			/* refused: kept, and the others are done */
			if (first == 0)
				first = step->op[i].r;
			continue;
		}
		if (step->op[i].remarked)
			continue;
		snprintf(mk, sizeof(mk), BG_MARK "%s", step->op[i].key);
		if ((r = store_stage_delete(s, mk, strlen(mk))) != 0) {
			first = r;
			break;
		}
		done[i] = 1;
		ndone++;
	}
	if (ndone > 0 && (r = store_commit(s)) != 0) {
		/* written, but still marked: written again, harmlessly */
		store_rollback(s);
		first = r;
	} else if (ndone > 0) {
		/* the marks kept sorted: jobs may have added some since the
		 * step was sent, after its keys too */
		for (i = 0, lo = ctl->nbg; i < step->n; i++) {
			pos[i] = SIZE_MAX;
			if (!done[i])
				continue;
			at = bg_pos(ctl, step->op[i].key, &found);
			if (found) {
				pos[i] = at;
				if (at < lo)
					lo = at;
			}
		}
		for (i = 0; i < step->n; i++)
			if (pos[i] != SIZE_MAX)
				ctl->bg[pos[i]][0] = '\0';
		for (i = j = lo; i < ctl->nbg; i++)
			if (ctl->bg[i][0] != '\0' && j++ != i)
				memcpy(ctl->bg[j - 1], ctl->bg[i],
				    sizeof(*ctl->bg));
		ctl->nbg = j;
	} else {
		store_rollback(s);
	}
	free(step);
	return first;
}

/* Writes the marked records to the directory, BG_PER_STEP at a time.
 * A step's writes are sent together and the loop goes on while the
 * directory takes them (it takes writes one at a time, about 2.5 ms
 * each here: bench/controlbg.sh); their answers are taken as they come,
 * and a request's write waits only for what is out (ensure).  The
 * records of a step are distinct; two writes for one token entry (its
 * revocation and its deletion) end with the entry gone in either
 * order. */
void
control_bg_step(struct server *sv)
{
	struct control *ctl = sv->st.control;
	struct store *s = sv->st.store;
	int64_t t = clock_ms();
	int first;

	if (ctl == NULL)
		return;
	if (ctl->step != NULL && !bg_answers(ctl, 0))
		return;
	/* the marks go in a commit of their own: never over a batch */
	if (store_in_flight(s) || store_staged(s) > 0)
		return;
	if (ctl->step != NULL)
		first = bg_end(ctl, s);
	else if (ctl->nbg == 0 || t < ctl->bg_next_ms)
		return;
	else if ((first = bg_start(ctl, s)) == 0)
		return;
	if (first != 0) {
		ctl->bg_next_ms = t + BG_RETRY_MS;
		if (!ctl->bg_failing)
			dlog(LOG_WARNING, "directory %s: %zu changes this host "
			    "made by itself (revocations of exited processes' "
			    "tokens, canary disables, purges, revoked tokens "
			    "of deleted accounts) are not written "
			    "yet (%s); they hold here and are tried again every "
			    "%d s", ctl->uris, ctl->nbg, first == SAT_E_IO ?
			    "unreachable, or refused" : sat_strerror(first),
			    BG_RETRY_MS / 1000);
		ctl->bg_failing = 1;
		return;
	}
	ctl->bg_next_ms = 0;
	if (ctl->nbg == 0 && ctl->bg_failing) {
		dlog(LOG_NOTICE, "directory %s: the changes this host made by "
		    "itself are written", ctl->uris);
		ctl->bg_failing = 0;
	}
}

/* a step out: its answers are looked for this often */
#define BG_POLL_MS	1

int64_t
control_bg_due(const struct server *sv)
{
	const struct control *ctl = sv->st.control;

	if (ctl == NULL)
		return INT64_MAX;
	if (ctl->step != NULL)
		return clock_ms() + BG_POLL_MS;
	/* a commit in flight wakes the loop when it ends (its fd): no
	 * spinning until then */
	if (ctl->nbg == 0 || store_in_flight(sv->st.store))
		return INT64_MAX;
	return ctl->bg_next_ms;
}

int
control_new(const struct sat_config *cf, struct control **ret)
{
	struct control *ctl;

	*ret = NULL;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return SAT_E_NOMEM;
	snprintf(ctl->sub, sizeof(ctl->sub), "ou=satoken,%s",
	    cf->directory_base);
	if ((ctl->uris = sat_strdup(cf->directory)) == NULL ||
	    (ctl->bind_dn = sat_strdup(cf->directory_bind_dn)) == NULL ||
	    (ctl->pwfile = sat_strdup(cf->directory_password_file)) == NULL) {
		control_free(ctl);
		return SAT_E_NOMEM;
	}
	*ret = ctl;
	return 0;
}

void
control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	if (ctl->ld != NULL)
		ldap_unbind_ext_s(ctl->ld, NULL, NULL);
	free(ctl->uris);
	free(ctl->bind_dn);
	free(ctl->pwfile);
	free(ctl->bg);
	free(ctl->step);
	free(ctl);
}
