/* satoken: telling satokend that a canary token was used.
 *
 * The modules read the store and never write it, so a canary refused by
 * PAM or SASL is reported to the daemon, which disables the account
 * when canary_disables = yes.  The report is one non-blocking datagram
 * on the canary socket, beside satokend's own socket, holding the token
 * itself: the daemon verifies it, so only the holder of a canary can
 * disable its account, never someone who merely knows an id.  A lost
 * report changes nothing of the login (refused either way) and the
 * module's own audit line still raises the alert. */
#ifndef SATOKEN_CANARY_H
#define SATOKEN_CANARY_H

#include <stddef.h>

#include "config.h"

#define CANARY_SOCKET_NAME	"canary.sock"

/* The canary socket's path: the directory of cfg->socket, then
 * CANARY_SOCKET_NAME.  0, or SAT_E_INVALID when it does not fit. */
int canary_socket_path(const struct sat_config *cfg, char *out, size_t cap);

/* Sends the token (borrowed, a canary's: it authenticates nothing) to
 * the daemon; never blocks, never fails the caller. */
void canary_report(const struct sat_config *cfg, const char *token,
    size_t len);

#endif
