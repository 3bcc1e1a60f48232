#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonmem.h"
#include "mem.h"
#include "ops.h"
#include "proto.h"
#include "valid.h"
#include "wire.h"

enum ftype { T_STR, T_INT, T_LIST, T_BOOL };

static const struct field {
	const char *key;
	unsigned bit;
	enum ftype type;
	size_t off;
} fields[] = {
#define S(k, b, f) { k, b, T_STR, offsetof(struct request, f) }
#define I(k, b, f) { k, b, T_INT, offsetof(struct request, f) }
#define L(k, b, f) { k, b, T_LIST, offsetof(struct request, f) }
	S("name", F_NAME, name),
	S("account", F_ACCOUNT, account),
	S("group", F_GROUP, group),
	S("id", F_ID, id),
	S("description", F_DESCRIPTION, description),
	S("role", F_ROLE, role),
	S("owner", F_OWNER, owner),
	S("public_key", F_PUBLIC_KEY, public_key),
	S("external_id", F_EXTERNAL_ID, external_id),
	S("token", F_TOKEN, token),
	S("service", F_SERVICE, service),
	S("from", F_FROM, from),
	S("rhost", F_FROM, from),	/* the name the audit line uses */
	S("token_name", F_TOKEN_NAME, token_name),
	S("cursor", F_CURSOR, cursor),
	L("groups", F_GROUPS, groups),
	L("accounts", F_ACCOUNTS, accounts),
	L("services", F_SERVICES, services),
	L("sources", F_SOURCES, sources),
	I("ttl", F_TTL, ttl),
	I("max_offline", F_MAX_OFFLINE, max_offline),
	I("days_valid", F_DAYS_VALID, days_valid),
	I("grace", F_GRACE, grace),
	I("old_expires", F_OLD_EXPIRES, old_expires),
	I("limit", F_LIMIT, limit),
	S("status", F_STATUS, status),
	I("expiring", F_EXPIRING, expiring),
	I("unused_for", F_UNUSED_FOR, unused_for),
	{ "canary", F_CANARY, T_BOOL, offsetof(struct request, canary) },
	I("bind_pid", F_BIND_PID, bind_pid),
	S("file", F_FILE, file),
	S("csn", F_CSN, csn),
#undef S
#undef I
#undef L
};

void
proto_free(struct request *rq)
{
	if (rq == NULL)
		return;
	strlist_free(&rq->groups);
	strlist_free(&rq->accounts);
	strlist_free(&rq->services);
	strlist_free(&rq->sources);
	if (rq->root != NULL)
		json_decref(rq->root);
	memset(rq, 0, sizeof(*rq));
	rq->op_name = "";
}

static int
get_list(json_t *v, struct strlist *l)
{
	size_t i;
	json_t *e;
	int r;

	if (!json_is_array(v) || json_array_size(v) > PROTO_LIST_MAX)
		return SAT_E_INVALID;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return SAT_E_INVALID;
		if ((r = strlist_add_unique(l, json_string_value(e))) != 0)
			return r;
	}
	return 0;
}

static int
set_field(struct request *rq, const struct field *f, json_t *v)
{
	char *base = (char *)rq + f->off;
	json_int_t n;

	switch (f->type) {
	case T_STR:
		if (!json_is_string(v))
			return SAT_E_INVALID;
		*(const char **)base = json_string_value(v);
		if (f->bit == F_TOKEN)
			rq->token_len = json_string_length(v);
		return 0;
	case T_INT:
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
		    n > INT64_MAX / 2)
			return SAT_E_INVALID;
		if (f->bit == F_OLD_EXPIRES)
			*(int64_t *)base = (int64_t)n;
		else
			*(uint64_t *)base = (uint64_t)n;
		return 0;
	case T_LIST:
		return get_list(v, (struct strlist *)base);
	case T_BOOL:
		if (!json_is_boolean(v))
			return SAT_E_INVALID;
		*(int *)base = json_is_true(v);
		return 0;
	}
	return SAT_E_INTERNAL;
}

static const char *
type_name(enum ftype t)
{
	return t == T_STR ? "a string" : t == T_INT ?
	    "a non-negative integer" : t == T_BOOL ? "true or false" :
	    "an array of strings";
}

static int
holds_token(json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return valid_holds_token(json_string_value(v),
		    json_string_length(v));
	json_array_foreach(v, i, e)
		if (json_is_string(e) && valid_holds_token(json_string_value(e),
		    json_string_length(e)))
			return 1;
	return 0;
}

/* The first key (or "a field name") of the request that holds a token
 * where no token belongs: anywhere but "token" and "auth_token". */
static const char *
token_field(json_t *root)
{
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v) {
		if (valid_holds_token(key, strlen(key)))
			return "a field name";
		if (strcmp(key, "token") != 0 && strcmp(key, "auth_token") != 0 &&
		    holds_token(v))
			return key;
	}
	return NULL;
}

int
proto_parse(const char *line, size_t len, struct request *ret, char *err,
    size_t errlen)
{
	struct request rq;
	json_error_t je;
	unsigned long failures;
	const char *key;
	json_t *v, *opv;
	size_t i;
	int r, bad = SAT_E_INVALID;

	memset(&rq, 0, sizeof(rq));
	rq.op_name = "";
	*ret = rq;
	failures = jsonmem_failures();
	rq.root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	/* jansson reports some failed allocations as syntax errors, and
	 * drops a byte of a string for others ("account.disabl"): after
	 * any, the client is told we ran out of memory, never VALIDATION,
	 * and nothing parsed is acted on */
	if (jsonmem_failures() != failures ||
	    (rq.root == NULL && json_error_code(&je) == json_error_out_of_memory)) {
		json_decref(rq.root);
		rq.root = NULL;
		snprintf(err, errlen, "out of memory");
		return SAT_E_NOMEM;
	}
	if (rq.root == NULL) {
		snprintf(err, errlen, "malformed JSON: %s", je.text);
		return SAT_E_INVALID;
	}
	if (!json_is_object(rq.root)) {
		snprintf(err, errlen, "a request is a JSON object");
		goto fail;
	}
	if ((key = token_field(rq.root)) != NULL) {
		/* never quoted back, and the line's op is not trusted either */
		snprintf(err, errlen, "field '%.64s' holds a token; a token goes "
		    "only in the token field (nothing was stored or logged)",
		    key);
		goto fail;
	}
	opv = json_object_get(rq.root, "op");
	if (opv == NULL || !json_is_string(opv)) {
		snprintf(err, errlen, "field 'op' must be a string");
		goto fail;
	}
	rq.op_name = json_string_value(opv);
	if ((rq.op = ops_find(rq.op_name)) == NULL) {
		snprintf(err, errlen, "unknown op '%.64s'", rq.op_name);
		goto fail;
	}
	json_object_foreach(rq.root, key, v) {
		const struct field *f = NULL;

		if (strcmp(key, "op") == 0)
			continue;
		if (strcmp(key, "auth_token") == 0) {
			if (!json_is_string(v)) {
				snprintf(err, errlen,
				    "field 'auth_token' must be a string");
				goto fail;
			}
			rq.auth_token = json_string_value(v);
			rq.auth_token_len = json_string_length(v);
			continue;
		}
		if (strcmp(key, "confirm") == 0) {
			if (!json_is_boolean(v)) {
				snprintf(err, errlen,
				    "field 'confirm' must be true or false");
				goto fail;
			}
			rq.confirm = json_is_true(v);
			continue;
		}
		if (strcmp(key, "signature") == 0) {
			if (!json_is_string(v)) {
				snprintf(err, errlen,
				    "field 'signature' must be a string");
				goto fail;
			}
			rq.signature = json_string_value(v);
			continue;
		}
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (strcmp(fields[i].key, key) == 0)
				f = &fields[i];
		if (f == NULL || !(rq.op->allowed & f->bit)) {
			snprintf(err, errlen, "unknown field '%.64s' for %s",
			    key, rq.op->name);
			goto fail;
		}
		if (rq.present & f->bit) {
			snprintf(err, errlen, "field '%.64s' given twice", key);
			goto fail;
		}
		if ((r = set_field(&rq, f, v)) == SAT_E_NOMEM) {
			snprintf(err, errlen, "out of memory");
			bad = r;
			goto fail;
		}
		if (r != 0) {
			snprintf(err, errlen, "field '%s' must be %s%s", key,
			    type_name(f->type), f->type == T_LIST ?
			    " (at most 1024)" : "");
			goto fail;
		}
		rq.present |= f->bit;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if ((rq.op->required & fields[i].bit) &&
		    !(rq.present & fields[i].bit)) {
			snprintf(err, errlen, "field '%s' is required for %s",
			    fields[i].key, rq.op->name);
			goto fail;
		}
	}
	*ret = rq;
	return 0;
fail:
	/* keep the op name for the audit line: copy what we report */
	ret->op = rq.op;
	proto_free(&rq);
	ret->op_name = ret->op != NULL ? ret->op->name : "invalid";
	return bad;
}

json_t *
proto_error(int r, const char *msg)
{
	char m[1024];
	size_t i, n, len;

	/* messages quote request values cut with %.64s, which can split a
	 * multibyte character; jansson refuses such a string, and the
	 * client would get no answer at all.  Mend it byte by byte. */
	snprintf(m, sizeof(m), "%s", msg != NULL ? msg : "");
	len = strlen(m);
	for (i = 0; i < len; i += n)
		if ((n = valid_utf8_seq(m + i, len - i)) == 0) {
			m[i] = '?';
			n = 1;
		}
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
	    wire_name(r), "message", m);
}

int
proto_dump(const json_t *v, char **ret, size_t *ret_len)
{
	char *line;
	size_t cap = 1024, n;

	/* json_dumpb into our own buffer: jansson 2.14's json_dumps ignores
	 * a failed allocation while writing an object's key and goes on,
	 * so running out of memory there sent a malformed line (a key
	 * lost) for a change already made.  Writing into a buffer cannot
	 * fail half-way.  When the buffer is short json_dumpb says how
	 * much it needs: a long reply is written twice at most. */
	for (;;) {
		if ((line = malloc(cap)) == NULL)
			return SAT_E_NOMEM;
		n = json_dumpb(v, line, cap - 2, JSON_COMPACT);
		if (n == 0) {
			sat_freezero(line, cap);
			return SAT_E_NOMEM;
		}
		if (n <= cap - 2)
			break;
		sat_freezero(line, cap);	/* a cut reply may hold a token */
		cap = n + 2;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*ret = line;
	*ret_len = n + 1;
	return 0;
}

int
proto_set_str(json_t *o, const char *k, const char *v)
{
	json_t *s;

	if (v == NULL)
		return 0;
	if ((s = json_string(v)) == NULL)
		return SAT_E_NOMEM;
	return json_object_set_new(o, k, s) == 0 ? 0 : SAT_E_NOMEM;
}

int
proto_set_int(json_t *o, const char *k, int64_t v)
{
	return json_object_set_new(o, k, json_integer((json_int_t)v)) == 0 ? 0 :
	    SAT_E_NOMEM;
}

int
proto_set_bool(json_t *o, const char *k, int v)
{
	return json_object_set_new(o, k, json_boolean(v)) == 0 ? 0 :
	    SAT_E_NOMEM;
}

int
proto_set_list(json_t *o, const char *k, const struct strlist *l)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return SAT_E_NOMEM;
	for (i = 0; i < l->n; i++) {
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			return SAT_E_NOMEM;
		}
	}
	return json_object_set_new(o, k, a) == 0 ? 0 : SAT_E_NOMEM;
}
