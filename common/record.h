/* satoken: the store's records and their codec.
 *
 * Every value in the store is framed as
 *   magic "sT" | type u8 | version u8 | body length u32 | body | crc32 u32
 * where the CRC covers everything before it.  The decoder is strict: a
 * record of the wrong type, an unknown version, a bad length or CRC, a
 * field out of range or trailing bytes is SAT_E_MALFORMED, and callers
 * treat such a record as absent (fail closed). */
#ifndef SATOKEN_RECORD_H
#define SATOKEN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "strlist.h"
#include "token.h"
#include "valid.h"

enum record_type {
	REC_META = 1,
	REC_ACCOUNT = 2,
	REC_GROUP = 3,
	REC_POLICY = 4,
	REC_TOKEN = 5,
	REC_TOKEN_INDEX = 6,	/* schema-1 index: read only to upgrade it */
	REC_TOKEN_HEAD = 7,
	REC_TOKEN_PAGE = 8,
	REC_TOKEN_NAME = 9,
	REC_RECLAIM = 10,
	REC_USAGE = 11,
};

#define RECORD_VERSION		1
#define RECORD_OVERHEAD		12	/* frame bytes around a body */
#define RECORD_MAX		(1024 * 1024)
#define STORE_SCHEMA		1

struct sat_meta {
	uint32_t schema;
	uint8_t hmac_key[TOKEN_KEY_LEN];	/* secret: wipe */
	int64_t created_at;
};

struct sat_account {
	char name[SAT_NAME_MAX + 1];
	char *description;	/* owned, may be NULL */
	char *owner;		/* owned principal id, e.g. "uid:1000" */
	int role;		/* enum sat_role */
	struct strlist groups;
	char *public_key;	/* owned PEM, may be NULL */
	char *external_id;	/* owned, may be NULL */
	uint32_t days_valid;	/* 0: no end */
	int enabled;
	int64_t created_at;
	char *created_by;	/* owned principal id */
	/* Appended in a tail that older records lack (read as 0). */
	uint64_t serial;	/* identity: random, never 0 once created;
				 * owners name an account by name and this */
	int disabled_by;	/* role that disabled it; 0 when enabled */
};

struct sat_group {
	char name[SAT_NAME_MAX + 1];
	char *description;	/* owned, may be NULL */
	int64_t created_at;
	char *created_by;	/* owned */
};

struct sat_policy {
	struct strlist groups;	/* groups granted CAN_USE */
};

struct sat_token {
	char id[TOKEN_ID_LEN + 1];
	char account[SAT_NAME_MAX + 1];
	char *name;		/* owned */
	uint8_t digest[TOKEN_DIGEST_LEN];
	int64_t created_at;
	char *created_by;	/* owned */
	int64_t expires_at;
	uint64_t ttl;		/* the ttl it was minted with, kept for rotation */
	struct strlist services;	/* empty: any service */
	struct strlist sources;		/* CIDRs; empty: any source */
	int64_t revoked_at;	/* 0: not revoked */
	char replaced_by[TOKEN_ID_LEN + 1];	/* "" unless rotated */
	/* Lifecycle: a tagged tail that older records lack (read as empty);
	 * each field is written only when set, so an old token keeps its
	 * one encoding. */
	char *description;	/* owned, may be NULL */
	int64_t disabled_at;	/* 0: enabled */
	int64_t warned_at;	/* 0: no token.expiring line yet */
	/* Workload identity: a tail tagged 'W' that older records lack
	 * (read as 0), written only when one of these is set. */
	int canary;		/* never authenticates: reason canary */
	uint32_t bind_pid;	/* 0: not bound to a process */
	uint64_t bind_start;	/* that process's start time, clock ticks
				 * after boot (/proc/PID/stat field 22) */
	/* Fleet: in the lifecycle tail (tag 4), written only when set. */
	uint32_t max_offline;	/* seconds a fleet host may go without
				 * contact with the directory and still
				 * accept it; 0: no budget */
};

/* An account's token ids, live and retained, in one record: the first
 * stores' index, rewritten whole at every mint.  common/tindex.c reads
 * it once, to upgrade it to the records below. */
struct sat_token_index {
	struct strlist ids;
};

/* The index that replaced it (common/tindex.h says how it is used): a
 * head per account, the ids in pages of TINDEX_PAGE_SLOTS in mint order,
 * and one record per live token name. */
#define TINDEX_PAGE_SLOTS	64

struct sat_token_head {
	uint32_t first;		/* no id in a page before it */
	uint32_t last;		/* the page mints append to */
	uint64_t ntokens;	/* ids in the pages */
	uint64_t nlive;		/* tokens counted live (tindex.h) */
	int64_t counted_at;	/* counted: unrevoked, expiring after it */
	int64_t min_expiry;	/* no counted token expires before it */
	uint32_t live_first;	/* no counted token in a page before it */
};

/* Slots 0..n-1 were taken in mint order; a purged id leaves "" so that
 * a listing's cursor (page, slot) stays put. */
struct sat_token_page {
	uint32_t n;
	char ids[TINDEX_PAGE_SLOTS][TOKEN_ID_LEN + 1];
};

/* The token that holds a name (its latest mint or rotation). */
struct sat_token_name {
	char id[TOKEN_ID_LEN + 1];
};

/* Deleted accounts whose tokens are still being deleted, oldest first. */
struct sat_reclaim {
	struct strlist accounts;
};

/* A token's last use, as the modules reported it (common/usage.h):
 * its own record, written by satokend's periodic flush, so a login
 * never rewrites the token and the decision never reads this. */
struct sat_usage {
	int64_t at;			/* Unix seconds, > 0 */
	char service[SAT_SERVICE_MAX + 1];	/* "" when none */
	char rhost[64];			/* address text; "" when none */
};

/* Encoders append one framed record to out.  0 or SAT_E_NOMEM /
 * SAT_E_INVALID (a field too long to frame). */
int record_encode_meta(const struct sat_meta *m, struct wbuf *out);
int record_encode_account(const struct sat_account *a, struct wbuf *out);
int record_encode_group(const struct sat_group *g, struct wbuf *out);
int record_encode_policy(const struct sat_policy *p, struct wbuf *out);
int record_encode_token(const struct sat_token *t, struct wbuf *out);
int record_encode_token_index(const struct sat_token_index *x, struct wbuf *out);
int record_encode_token_head(const struct sat_token_head *h, struct wbuf *out);
int record_encode_token_page(const struct sat_token_page *pg, struct wbuf *out);
int record_encode_token_name(const struct sat_token_name *nm, struct wbuf *out);
int record_encode_reclaim(const struct sat_reclaim *rc, struct wbuf *out);
int record_encode_usage(const struct sat_usage *u, struct wbuf *out);

/* Decoders read the n bytes at p (untrusted) into a zeroed *ret.  On
 * failure *ret is left empty (nothing to free). */
int record_decode_meta(const void *p, size_t n, struct sat_meta *ret);
int record_decode_account(const void *p, size_t n, struct sat_account *ret);
int record_decode_group(const void *p, size_t n, struct sat_group *ret);
int record_decode_policy(const void *p, size_t n, struct sat_policy *ret);
int record_decode_token(const void *p, size_t n, struct sat_token *ret);
int record_decode_token_index(const void *p, size_t n,
    struct sat_token_index *ret);
/* These three own nothing: no free. */
int record_decode_token_head(const void *p, size_t n,
    struct sat_token_head *ret);
int record_decode_token_page(const void *p, size_t n,
    struct sat_token_page *ret);
int record_decode_token_name(const void *p, size_t n,
    struct sat_token_name *ret);
int record_decode_reclaim(const void *p, size_t n, struct sat_reclaim *ret);
/* Owns nothing: no free. */
int record_decode_usage(const void *p, size_t n, struct sat_usage *ret);
void record_free_reclaim(struct sat_reclaim *rc);

/* Release what a record owns and zero it; accept NULL. */
void record_free_meta(struct sat_meta *m);
void record_free_account(struct sat_account *a);
void record_free_group(struct sat_group *g);
void record_free_policy(struct sat_policy *p);
void record_free_token(struct sat_token *t);
void record_free_token_index(struct sat_token_index *x);

/* Deep copies; dst must be empty.  0 or SAT_E_NOMEM (dst left empty). */
int record_copy_account(struct sat_account *dst, const struct sat_account *src);
int record_copy_token(struct sat_token *dst, const struct sat_token *src);

#endif
