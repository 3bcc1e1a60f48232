/* satoken: one RFC 4533 refreshAndPersist search, its messages decoded.
 *
 * A fleet host mirrors ou=satoken,<directory_base> into its local store.
 * This file knows the protocol and nothing of satoken's records: it sends
 * the search with the Sync Request control and turns what comes back into
 * calls on a sync_handler.
 *
 * What a caller must do with them, or diverge silently (OpenLDAP ITS#9823
 * is that class of bug): a refresh ends either with a *present* phase, in
 * which every entry the server still has was reported (added, changed or
 * present, one by one or in a set of entryUUIDs) and every local entry
 * not reported since the refresh began must be deleted; or with a
 * *delete* phase, in which what went away is reported as deleted.  A
 * search from no cookie sends every entry and may end with either phase
 * (slapd ends it with a delete phase): the caller treats it as a present
 * phase whatever it is called, since its local copy may hold what the
 * directory no longer has.  A search that ends with
 * LDAP_SYNC_REFRESH_REQUIRED asks for a new search from no cookie.
 *
 * Debian ships libldap without ldap_sync.h, so the controls are built and
 * read here with liblber; every value is read through ber_scanf, which
 * checks each length against the message. */
#ifndef SATOKEN_SYNCREPL_H
#define SATOKEN_SYNCREPL_H

#include <ldap.h>

/* Each callback returns 0, or a negative SAT_E_* that stops syncrepl_step
 * and is returned by it.  Pointers are borrowed for the call only.  A
 * callback left NULL ignores its event. */
struct sync_handler {
	/* state: LDAP_SYNC_PRESENT (no attributes), LDAP_SYNC_ADD or
	 * LDAP_SYNC_MODIFY (the whole entry); uuid is the 16-byte entryUUID */
	int (*entry)(void *arg, int state, const struct berval *uuid,
	    LDAP *ld, LDAPMessage *e);
	/* dn is NULL when the server named the entry by its uuid alone */
	int (*deleted)(void *arg, const struct berval *uuid, const char *dn);
	/* a set of entryUUIDs, present (deletes 0) or deleted (deletes 1);
	 * uuids is NULL-terminated */
	int (*idset)(void *arg, int deletes, BerVarray uuids);
	/* keep it: the next search resumes from the latest one */
	int (*cookie)(void *arg, const struct berval *cookie);
	/* the refresh is over; present 1: it was a present phase */
	int (*refresh_done)(void *arg, int present);
};

enum sync_state {
	SYNC_GOING = 0,		/* the search goes on (persist) */
	SYNC_ENDED,		/* the server ended it: search again */
	SYNC_REFRESH_REQUIRED,	/* search again, without a cookie */
};

/* Sends the search over ld (bound already) for the entries of the
 * subtree at base that match filter, from cookie (NULL or empty: from
 * nothing, a full refresh).  0 and *ret_msgid, SAT_E_NOMEM, or SAT_E_IO
 * when libldap could not send it. */
int syncrepl_start(LDAP *ld, const char *base, const char *filter,
    const struct berval *cookie, int *ret_msgid);

/* Waits up to timeout_ms for the search's next messages and hands each to
 * h.  0 with *ret_state (SYNC_GOING also when nothing came in time);
 * SAT_E_IO when the connection failed or the server refused the search;
 * SAT_E_MALFORMED for a message that does not decode (the caller drops
 * the connection: nothing after it can be trusted); or what a callback
 * returned. */
int syncrepl_step(LDAP *ld, int msgid, int timeout_ms,
    const struct sync_handler *h, void *arg, enum sync_state *ret_state);

#endif
