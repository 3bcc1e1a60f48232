/* satokend: a fleet host's copy of the directory (DESIGN "Fleet").
 *
 * A thread (follower.c) holds the one RFC 4533 refreshAndPersist search
 * (syncrepl.c): it connects, binds, searches, decodes each entry into a
 * record, and hands the changes to the event loop in batches through a
 * queue and an eventfd.  It never touches the store.  The loop applies
 * a batch when no request batch is staged or in flight, through
 * fleet_apply_batch, the one place the follower writes the store; so
 * serving requests never waits for the network, only for the commit of
 * what arrived.
 *
 * What the store keeps besides the records (raw keys of our own):
 *   "F:c"        the sync cookie, committed with the changes it covers,
 *                and only once a refresh has ended (a cookie from the
 *                middle of a refresh would skip its deletions)
 *   "F:u:UUID"   what the directory entry UUID (32 hex) maps to locally
 *                ("A"name, "G"name, "P", "T"id, "K", or "-" for entries
 *                that are not records); "" once it is gone
 *   "F:t"        the Unix seconds of the last contact with the directory
 *                (the modules read it for --max-offline)
 *   "F:q:NAME"   the account's satokenLiveCount, the version a control
 *                host moves on (control.h): "V" as last applied, "Vw"
 *                as this control host wrote it, not yet seen come back
 *   "F:qv"       present once a full refresh brought every account's
 *                version (a copy from before versions is refreshed) */
#ifndef SATOKEND_FLEET_H
#define SATOKEND_FLEET_H

#include <stdint.h>

#include <ldap.h>

struct server;
struct fleet;

#define FLEET_APPLIED_MAX	256	/* satokenApplied's bound in the schema */

/* Loads the cookie and the UUID map from the store and starts the
 * thread.  0, or a SAT_E_* with a message in err. */
int fleet_start(struct server *sv, struct fleet **ret, char *err,
    size_t errlen);
/* This host's name (cn=NAME,ou=hosts), the position it has applied and
 * committed ("" before any) and its last contact with the directory
 * (Unix seconds; 0: never): what its position entry will say, sooner. */
void fleet_self(struct fleet *f, const char **name, char *applied,
    size_t cap, int64_t *contact);
/* Readable while batches wait (the loop's epoll watches it). */
int fleet_fd(const struct fleet *f);
/* Applies the waiting batches, when the store has nothing staged or in
 * flight; otherwise leaves them for the next round. */
void fleet_apply(struct server *sv);
/* Hands one token's last use, as this host's logins reported it, to
 * the thread, which folds what it holds into the directory at most once
 * a minute.  SAT_E_QUOTA when that many reports already wait (the
 * directory away): the use is then recorded on this host only. */
struct usage_report;
int fleet_usage_push(struct fleet *f, const struct usage_report *u);
/* Stops the thread and frees f.  Accepts NULL. */
void fleet_stop(struct fleet *f);

#endif
