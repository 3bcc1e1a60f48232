/* satoken: one RFC 4533 refreshAndPersist search (see syncrepl.h). */
#include "syncrepl.h"

#include <string.h>
#include <sys/time.h>

#include "err.h"
#include "ldapattr.h"

#define UUID_LEN	16
/* messages handled per step before returning to the caller's loop, so a
 * full refresh does not keep the follower from its other duties */
#define STEP_MAX_MSGS	256

int
syncrepl_start(LDAP *ld, const char *base, const char *filter,
    const struct berval *cookie, int *ret_msgid)
{
	/* entryCSN: a change syncprov sends while an older one is still
	 * being committed comes without a cookie (follower.c pos_entry) */
	static char *attrs[] = { "*", "entryCSN", NULL };
	BerElement *ber = NULL;
	struct berval value = { 0, NULL };
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	int msgid, r;

	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL)
		return SAT_E_NOMEM;
	/* SEQUENCE { mode ENUMERATED, cookie OCTET STRING OPTIONAL } */
	if (cookie != NULL && cookie->bv_len > 0)
		r = ber_printf(ber, "{eO}", (ber_int_t)LDAP_SYNC_REFRESH_AND_PERSIST,
		    cookie);
	else
		r = ber_printf(ber, "{e}", (ber_int_t)LDAP_SYNC_REFRESH_AND_PERSIST);
	if (r == -1 || ber_flatten2(ber, &value, 0) == -1) {
		r = SAT_E_NOMEM;
		goto out;
	}
	if (ldap_control_create(LDAP_CONTROL_SYNC, 1, &value, 1, &ctrl) !=
	    LDAP_SUCCESS) {
		r = SAT_E_NOMEM;
		goto out;
	}
	ctrls[0] = ctrl;
	if (ldap_search_ext(ld, base, LDAP_SCOPE_SUBTREE, (char *)filter,
	    attrs, 0, ctrls, NULL, NULL, 0, &msgid) != LDAP_SUCCESS) {
		r = SAT_E_IO;
		goto out;
	}
	*ret_msgid = msgid;
	r = 0;
out:
	ldap_control_free(ctrl);
	ber_free(ber, 1);
	return r;
}

/* An optional cookie next in ber: 0 with *ret (empty when absent). */
static int
scan_cookie(BerElement *ber, struct berval *ret)
{
	ber_len_t len;

	ret->bv_len = 0;
	ret->bv_val = NULL;
	if (ber_peek_tag(ber, &len) != LDAP_TAG_SYNC_COOKIE)
		return 0;
	return ber_scanf(ber, "m", ret) == LBER_ERROR ? SAT_E_MALFORMED : 0;
}

/* An optional BOOLEAN next in ber (refreshDone, refreshDeletes). */
static int
scan_bool(BerElement *ber, int dflt, int *ret)
{
	ber_len_t len;
	ber_int_t b;

	*ret = dflt;
	if (ber_peek_tag(ber, &len) != LBER_BOOLEAN)
		return 0;
	if (ber_scanf(ber, "b", &b) == LBER_ERROR)
		return SAT_E_MALFORMED;
	*ret = b != 0;
	return 0;
}

static int
give_cookie(const struct sync_handler *h, void *arg, const struct berval *c)
{
	if (c->bv_len == 0 || h->cookie == NULL)
		return 0;
	return h->cookie(arg, c);
}

/* A search entry: its Sync State control says what became of it. */
static int
on_entry(LDAP *ld, LDAPMessage *e, const struct sync_handler *h, void *arg)
{
	LDAPControl **ctrls = NULL, *state_ctrl;
	BerElement *ber = NULL;
	struct berval uuid, cookie;
	ber_int_t state;
	char *dn = NULL;
	int r;

	if (ldap_get_entry_controls(ld, e, &ctrls) != LDAP_SUCCESS)
		return SAT_E_MALFORMED;
	state_ctrl = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL);
	if (state_ctrl == NULL) {
		r = SAT_E_MALFORMED;
		goto out;
	}
	if ((r = ldapattr_ber(&state_ctrl->ldctl_value, &ber)) != 0)
		goto out;
	/* SEQUENCE { state ENUMERATED, entryUUID OCTET STRING,
	 *            cookie OCTET STRING OPTIONAL } */
	if (ber_scanf(ber, "{em", &state, &uuid) == LBER_ERROR ||
	    uuid.bv_len != UUID_LEN) {
		r = SAT_E_MALFORMED;
		goto out;
	}
	if ((r = scan_cookie(ber, &cookie)) != 0)
		goto out;
	switch (state) {
	case LDAP_SYNC_PRESENT:
	case LDAP_SYNC_ADD:
	case LDAP_SYNC_MODIFY:
		r = h->entry != NULL ? h->entry(arg, state, &uuid, ld, e) : 0;
		break;
	case LDAP_SYNC_DELETE:
		dn = ldap_get_dn(ld, e);
		r = h->deleted != NULL ? h->deleted(arg, &uuid, dn) : 0;
		break;
	default:
		r = SAT_E_MALFORMED;
	}
	if (r == 0)
		r = give_cookie(h, arg, &cookie);
out:
	ldap_memfree(dn);
	ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return r;
}

/* A Sync Info message: a new cookie, the end of a refresh phase, or a
 * set of entryUUIDs. */
static int
on_info(BerElement *ber, const struct sync_handler *h, void *arg)
{
	struct berval cookie = { 0, NULL };
	BerVarray uuids = NULL;
	ber_len_t len;
	ber_tag_t tag;
	int done, deletes, r, i;

	tag = ber_peek_tag(ber, &len);
	switch (tag) {
	case LDAP_TAG_SYNC_NEW_COOKIE:
		if (ber_scanf(ber, "m", &cookie) == LBER_ERROR)
			return SAT_E_MALFORMED;
		return give_cookie(h, arg, &cookie);
	case LDAP_TAG_SYNC_REFRESH_DELETE:
	case LDAP_TAG_SYNC_REFRESH_PRESENT:
		/* SEQUENCE { cookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE } */
		if (ber_scanf(ber, "{") == LBER_ERROR ||
		    scan_cookie(ber, &cookie) != 0 ||
		    scan_bool(ber, 1, &done) != 0)
			return SAT_E_MALFORMED;
		if ((r = give_cookie(h, arg, &cookie)) != 0)
			return r;
		if (done && h->refresh_done != NULL)
			return h->refresh_done(arg,
			    tag == LDAP_TAG_SYNC_REFRESH_PRESENT);
		return 0;
	case LDAP_TAG_SYNC_ID_SET:
		/* SEQUENCE { cookie OPTIONAL, refreshDeletes BOOLEAN DEFAULT
		 *            FALSE, syncUUIDs SET OF OCTET STRING } */
		if (ber_scanf(ber, "{") == LBER_ERROR ||
		    scan_cookie(ber, &cookie) != 0 ||
		    scan_bool(ber, 0, &deletes) != 0 ||
		    ber_scanf(ber, "[W]", &uuids) == LBER_ERROR)
			return SAT_E_MALFORMED;
		r = 0;
		for (i = 0; uuids != NULL && uuids[i].bv_val != NULL; i++)
			if (uuids[i].bv_len != UUID_LEN)
				r = SAT_E_MALFORMED;
		if (r == 0 && uuids != NULL && h->idset != NULL)
			r = h->idset(arg, deletes, uuids);
		ber_bvarray_free(uuids);
		if (r == 0)
			r = give_cookie(h, arg, &cookie);
		return r;
	default:
		return SAT_E_MALFORMED;
	}
}

static int
on_intermediate(LDAP *ld, LDAPMessage *m, const struct sync_handler *h,
    void *arg)
{
	char *oid = NULL;
	struct berval *data = NULL;
	BerElement *ber = NULL;
	int r;

	if (ldap_parse_intermediate(ld, m, &oid, &data, NULL, 0) !=
	    LDAP_SUCCESS)
		return SAT_E_MALFORMED;
	if (oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 || data == NULL) {
		r = SAT_E_MALFORMED;
		goto out;
	}
	if ((r = ldapattr_ber(data, &ber)) != 0)
		goto out;
	r = on_info(ber, h, arg);
out:
	ber_free(ber, 1);
	ber_bvfree(data);
	ldap_memfree(oid);
	return r;
}

/* The end of the search: refreshOnly's normal end (with a Sync Done
 * control), the server asking for a full refresh, or a refusal. */
static int
on_result(LDAP *ld, LDAPMessage *m, const struct sync_handler *h, void *arg,
    enum sync_state *ret_state)
{
	LDAPControl **ctrls = NULL, *done_ctrl;
	BerElement *ber = NULL;
	struct berval cookie;
	int err, deletes, r;

	if (ldap_parse_result(ld, m, &err, NULL, NULL, NULL, &ctrls, 0) !=
	    LDAP_SUCCESS)
		return SAT_E_MALFORMED;
	if (err == LDAP_SYNC_REFRESH_REQUIRED) {
		*ret_state = SYNC_REFRESH_REQUIRED;
		r = 0;
		goto out;
	}
	if (err != LDAP_SUCCESS) {
		r = SAT_E_IO;
		goto out;
	}
	*ret_state = SYNC_ENDED;
	done_ctrl = ldap_control_find(LDAP_CONTROL_SYNC_DONE, ctrls, NULL);
	if (done_ctrl == NULL) {
		r = 0;
		goto out;
	}
	/* SEQUENCE { cookie OPTIONAL, refreshDeletes BOOLEAN DEFAULT FALSE } */
	if ((r = ldapattr_ber(&done_ctrl->ldctl_value, &ber)) != 0)
		goto out;
	if (ber_scanf(ber, "{") == LBER_ERROR ||
	    scan_cookie(ber, &cookie) != 0 ||
	    scan_bool(ber, 0, &deletes) != 0) {
		r = SAT_E_MALFORMED;
		goto out;
	}
	if ((r = give_cookie(h, arg, &cookie)) == 0 && h->refresh_done != NULL)
		r = h->refresh_done(arg, !deletes);
out:
	ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return r;
}

int
syncrepl_step(LDAP *ld, int msgid, int timeout_ms,
    const struct sync_handler *h, void *arg, enum sync_state *ret_state)
{
	struct timeval tv;
	LDAPMessage *m = NULL;
	enum sync_state state = SYNC_GOING;
	int n, type, r = 0;

	for (n = 0; n < STEP_MAX_MSGS && state == SYNC_GOING && r == 0; n++) {
		/* wait for the first message only; then take what is there */
		tv.tv_sec = n == 0 ? timeout_ms / 1000 : 0;
		tv.tv_usec = n == 0 ? (timeout_ms % 1000) * 1000 : 0;
		type = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &m);
		if (type == 0)
			break;
		if (type == -1)
			return SAT_E_IO;
		switch (type) {
		case LDAP_RES_SEARCH_ENTRY:
			r = on_entry(ld, m, h, arg);
			break;
		case LDAP_RES_INTERMEDIATE:
			r = on_intermediate(ld, m, h, arg);
			break;
		case LDAP_RES_SEARCH_RESULT:
			r = on_result(ld, m, h, arg, &state);
			break;
		case LDAP_RES_SEARCH_REFERENCE:
			/* a referral inside ou=satoken is not ours to follow */
			r = SAT_E_MALFORMED;
			break;
		default:
			r = SAT_E_MALFORMED;
		}
		ldap_msgfree(m);
		m = NULL;
	}
	if (r == 0)
		*ret_state = state;
	return r;
}
