/* satoken: finding tokens in text, offline, by their checksum.
 *
 * A leak sweep (satokenctl scan, a pre-commit hook) must find every token
 * in a tree without the daemon, its store or its key: the token string
 * carries its own CRC, so "sat_" followed by 50 characters that check
 * out is a token, whatever surrounds it, and anything else is not.  Text
 * comes in chunks, so that a file of any size is scanned in bounded
 * memory; a candidate cut by a chunk's end is left for the next one. */
#ifndef SATOKEN_SCAN_H
#define SATOKEN_SCAN_H

#include <stddef.h>

#include "token.h"

/* Called for each token found, with its offset in the chunk and its
 * public id (the secret is never handed out).  Returns 0 to go on, or a
 * negative SAT_E_* that scan_chunk returns at once. */
typedef int (*scan_found_fn)(void *arg, size_t offset,
    const char id[TOKEN_ID_LEN + 1]);

/* Scans the n bytes at p.  eof: no more text follows.  On 0,
 * *ret_consumed is how many leading bytes are done with: the caller keeps
 * the rest, appends the next chunk to it and scans again (nothing is ever
 * reported twice).  At eof everything is consumed. */
int scan_chunk(const char *p, size_t n, int eof, scan_found_fn found,
    void *arg, size_t *ret_consumed);

#endif
