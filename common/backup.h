/* satoken: a backup of the store, as satokenctl backup writes it and
 * satokend --restore reads it.
 *
 * The format, all integers big endian:
 *   "SATOKEN-BACKUP\n" (15 bytes), u32 format version (1),
 *   i64 taken_at (Unix seconds), u64 number of records,
 *   each record: u16 key length, key, u32 value length, value,
 *   SHA-256 of everything before it (32 bytes).
 * Records are the store's own keys and values, byte for byte (the meta
 * record with the HMAC key included), so a restore gives back exactly
 * the store that was backed up.  The file is as secret as the store:
 * anyone holding it can test guesses of tokens offline (never read them
 * out: only digests are stored) and can restore it. */
#ifndef SATOKEN_BACKUP_H
#define SATOKEN_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

#define BACKUP_DIGEST_LEN	32

/* Writes the backup of the writer s (what is applied now) into *out,
 * which the caller initialised and frees with wbuf_free (it is wiped).
 * SAT_E_STORE / SAT_E_NOMEM. */
int backup_take(struct store *s, int64_t now, struct wbuf *out);

/* Checks p (the whole file): magic, version, every record's bounds, the
 * digest, and a meta record of this schema.  0, or SAT_E_MALFORMED with
 * a reason in err.  *ret_records and *ret_taken_at (either may be NULL)
 * are set on success. */
int backup_check(const void *p, size_t len, uint64_t *ret_records,
    int64_t *ret_taken_at, char *err, size_t errlen);

/* Replaces everything in the store at db_path (opened as its writer,
 * so SAT_E_CONFLICT while satokend runs) by the backup p, in one
 * durable commit: a crash leaves the old store or the new one, never a
 * mix.  p must have passed backup_check. */
int backup_restore(const char *db_path, unsigned lock_timeout_ms,
    const void *p, size_t len);

#endif
