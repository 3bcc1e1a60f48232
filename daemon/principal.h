/* satokend: who is asking.
 *
 * A local user is known from the socket (SO_PEERCRED): root, members of
 * admin_groups and the admin_users are admin, members of
 * contributor_groups contributor, every other user viewer.  A caller may
 * instead present a service account's token and act as that account,
 * with its role. */
#ifndef SATOKEND_PRINCIPAL_H
#define SATOKEND_PRINCIPAL_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "role.h"
#include "store.h"
#include "valid.h"
#include "verify.h"

struct principal {
	char id[SAT_PRINCIPAL_MAX + 1];		/* "uid:1000", "account:ci" */
	char display[SAT_PRINCIPAL_MAX + 72];	/* "uid:1000(alice)" */
	/* what an account it owns records as its owner: the id, or for a
	 * service account "account:NAME#SERIAL" (owners by identity) */
	char owner_ref[SAT_PRINCIPAL_MAX + 1];
	enum sat_role role;
	int is_account;
	int by_key;	/* the account itself, by its key (ops_self.c):
			 * may mint and rotate only its own tokens */
	uid_t uid;	/* the socket peer, also for a token principal */
	gid_t gid;
};

/* Reads the peer's credentials of a connected Unix socket. */
int principal_peer_creds(int fd, uid_t *ret_uid, gid_t *ret_gid);

/* Fills ret for a local user under cfg (NSS lookups: passwd, groups). */
int principal_from_uid(const struct sat_config *cfg, uid_t uid, gid_t gid,
    struct principal *ret);

/* Authenticates a presented token as the service "satokend".  0 with
 * *ret filled when accepted; SAT_E_PERM with *ret_reason the verify
 * reason when refused; SAT_E_STORE when the store cannot be read. */
int principal_from_token(struct store *s, const char *token, size_t len,
    int64_t now, uid_t uid, gid_t gid, struct principal *ret,
    enum verify_reason *ret_reason);

/* Fills ret for service account a (its role), held by the socket peer
 * uid/gid: what principal_from_token and a request signed by the
 * account's key (ops_self.c) act as. */
void principal_of_account(const struct sat_account *a, uid_t uid, gid_t gid,
    struct principal *ret);

/* Resolves an --owner value naming a local user to "uid:N": "uid:N" or
 * a number, or a user name.  SAT_E_NOTFOUND for a user or uid the
 * system does not know, SAT_E_INVALID for anything else ("account:"
 * owners are the store's, resolved by the caller). */
int principal_resolve_owner(const char *who, char *out, size_t cap);

/* The role satokend gives local user uid (its groups from NSS), as
 * principal_from_uid would for a caller with its primary group;
 * ROLE_NONE for a uid NSS does not know. */
enum sat_role principal_uid_role(const struct sat_config *cfg, uid_t uid);

/* The owner reference of an account: "account:NAME#SERIAL" (hex), or
 * "account:NAME" for one from before identities (serial 0). */
void principal_account_ref(const char *name, uint64_t serial, char *out,
    size_t cap);

#endif
