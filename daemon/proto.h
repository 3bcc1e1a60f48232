/* satokend: the wire protocol.  One JSON object per line each way.
 *
 *   {"op":"token.mint","account":"ci","name":"deploy","ttl":3600}
 *   {"ok":true,"id":"...","token":"sat_...","expires_at":1767225600}
 *   {"ok":false,"error":"VALIDATION","message":"..."}
 *
 * Requests are parsed with jansson (duplicate keys rejected) and then
 * checked strictly against the op's field list: an unknown field, a
 * missing required one or a wrong type is VALIDATION.  SAT_E_* codes
 * become the protocol's error names through common/wire.c's table, the
 * one satokenctl reads them back with. */
#ifndef SATOKEND_PROTO_H
#define SATOKEND_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "strlist.h"

#define PROTO_LINE_MAX	(64 * 1024)	/* a request line, newline excluded */
#define PROTO_LIST_MAX	1024		/* elements in one array field */

/* Field bits: which fields an op allows and requires. */
enum {
	F_NAME = 1u << 0, F_ACCOUNT = 1u << 1, F_GROUP = 1u << 2,
	F_ID = 1u << 3, F_DESCRIPTION = 1u << 4, F_ROLE = 1u << 5,
	F_OWNER = 1u << 6, F_PUBLIC_KEY = 1u << 7, F_EXTERNAL_ID = 1u << 8,
	F_TOKEN = 1u << 9, F_SERVICE = 1u << 10, F_FROM = 1u << 11,
	F_CURSOR = 1u << 12, F_GROUPS = 1u << 13, F_ACCOUNTS = 1u << 14,
	F_SERVICES = 1u << 15, F_SOURCES = 1u << 16, F_TTL = 1u << 17,
	F_DAYS_VALID = 1u << 18, F_GRACE = 1u << 19, F_OLD_EXPIRES = 1u << 20,
	F_LIMIT = 1u << 21, F_TOKEN_NAME = 1u << 22,
	/* token.list's filters (lifecycle) */
	F_STATUS = 1u << 23, F_EXPIRING = 1u << 24, F_UNUSED_FOR = 1u << 25,
	F_MAX_OFFLINE = 1u << 26, F_CSN = 1u << 27,	/* fleet */
	/* workload identity, from the top down to keep clear of others */
	F_CANARY = 1u << 31, F_BIND_PID = 1u << 30, F_FILE = 1u << 29,
};

struct op;

/* A parsed request.  Strings are borrowed from root (owned). */
struct request {
	const struct op *op;
	json_t *root;
	const char *op_name;		/* "" until known */
	const char *auth_token;		/* secret: wiped with root */
	size_t auth_token_len;
	const char *signature;		/* self-rotation by key (ops_self.c):
					 * base64, over the nonce and the rest */
	unsigned present;		/* F_* bits */
	const char *name, *account, *group, *id, *description, *role, *owner,
	    *public_key, *external_id, *token, *service, *from, *cursor,
	    *token_name, *status, *file, *csn;
	size_t token_len;
	struct strlist groups, accounts, services, sources;	/* owned */
	uint64_t ttl, days_valid, grace, limit, expiring, unused_for;
	uint64_t max_offline;
	int64_t old_expires;
	int canary;			/* token.mint: a canary token */
	uint64_t bind_pid;		/* token.mint: revoked when it exits */
	int confirm;			/* any op: a control host's reply
					 * gives the change's position ("csn")
					 * for --wait; ignored where nothing is
					 * written */
};

/* Parses one line.  0 with *ret filled (release with proto_free), or
 * SAT_E_INVALID with a message in err; what could be read of the op
 * name is in ret->op_name either way. */
int proto_parse(const char *line, size_t len, struct request *ret,
    char *err, size_t errlen);
void proto_free(struct request *rq);

/* {"ok":false,"error":...,"message":...}; NULL on allocation failure. */
json_t *proto_error(int r, const char *msg);

/* Serialises v as one compact line with its '\n' into a malloc'd buffer
 * (caller wipes and frees).  SAT_E_NOMEM on failure. */
int proto_dump(const json_t *v, char **ret, size_t *ret_len);

/* Helpers for building replies; each returns 0 or SAT_E_NOMEM. */
int proto_set_str(json_t *o, const char *k, const char *v);
int proto_set_int(json_t *o, const char *k, int64_t v);
int proto_set_bool(json_t *o, const char *k, int v);
int proto_set_list(json_t *o, const char *k, const struct strlist *l);

#endif
