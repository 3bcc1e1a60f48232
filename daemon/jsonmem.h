/* satoken daemon and client: jansson's allocations wiped on release.
 * Requests and replies carry tokens (token.verify, auth_token, the
 * secret of a mint), and jansson copies every string it parses or
 * builds; this makes every one of those copies die wiped. */
#ifndef SATOKEN_JSONMEM_H
#define SATOKEN_JSONMEM_H

/* Once, before the first jansson call. */
void jsonmem_init(void);

/* How many of jansson's allocations have failed so far.  jansson's
 * parser drops a byte of a string when one fails while it reads it,
 * and returns the rest as if whole ("account.disabl"): a caller that
 * compares this before and after a parse knows not to trust it. */
unsigned long jsonmem_failures(void);

#endif
