/* satokend: canary tokens, whoever saw them used.
 *
 * A canary never authenticates (common/verify.c refuses it with reason
 * canary and the audit line goes out at LOG_ALERT).  With
 * canary_disables = yes its account is disabled too, by the daemon:
 * when a request presents one (token.verify, --token-file), and when a
 * module reports one on the canary socket (common/canary.h).  The
 * disable is made between batches, like the retention sweep, with its
 * own audit line (action=account.disable reason=canary principal=satokend),
 * and it is made as an admin: a contributor cannot re-enable the account. */
#ifndef SATOKEND_CANARYD_H
#define SATOKEND_CANARYD_H

#include <stddef.h>

struct server;

/* Binds the canary socket (mode 0666, beside the daemon's socket).
 * 0, or -1 with a message in err. */
int canary_open(struct server *sv, char *err, size_t errlen);
/* Closes and unlinks it; accepts a server that never opened one. */
void canary_close(struct server *sv);
/* The socket's fd for the loop to watch, -1 if none. */
int canary_fd(const struct server *sv);
/* Reads what modules reported (a bounded number per call). */
void canary_read(struct server *sv);
/* token (borrowed) was presented: if it is a canary, its account is
 * queued for the next canary_step. */
void canary_seen(struct server *sv, const char *token, size_t len);
/* Disables the queued accounts (canary_disables = yes), when no batch
 * holds the store. */
void canary_step(struct server *sv);

#endif
