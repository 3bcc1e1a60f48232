/* satoken daemon and client: jansson's allocations wiped on release.
 * Requests and replies carry tokens (token.verify, auth_token, the
 * secret of a mint), and jansson copies every string it parses or
 * builds; this makes every one of those copies die wiped. */
#ifndef SATOKEN_JSONMEM_H
#define SATOKEN_JSONMEM_H

/* Once, before the first jansson call. */
void jsonmem_init(void);

#endif
