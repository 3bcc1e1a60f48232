/* satokend: self-rotation by key.
 *
 * An account with a public key mints or rotates its own tokens with no
 * other credential.  The client asks for a challenge on its connection
 * ({"op":"self.challenge"} answers {"nonce":HEX,"expires_at":N}), then
 * sends the token.mint or token.rotate with "signature": base64 of its
 * private key's signature over
 *
 *   "satoken-self-v1\n" NONCE "\n" REQUEST
 *
 * where REQUEST is the request without "signature", as jansson writes it
 * with sorted keys, compact.  So a signature is good for one request (its
 * every field), on one connection, once, within SELF_NONCE_TTL_MS: a
 * replay, another connection's nonce, another request's signature and
 * a key taken off the account are all refused.  The principal is the
 * account, shown account:NAME(key), with its own role; it may act only
 * on its own tokens (op_may_manage), and every limit of a mint holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "clock.h"
#include "err.h"
#include "mem.h"
#include "ops.h"
#include "pubkey.h"

#define SELF_NONCE_BYTES	32
#define SELF_NONCE_TTL_MS	30000
/* Outstanding challenges; connections are bounded too.  When full, the
 * oldest is dropped (its client gets "no challenge" and asks again). */
#define SELF_SLOTS		1024
#define SELF_MAGIC		"satoken-self-v1\n"

struct challenge {
	uint64_t conn;			/* 0: free */
	int64_t until_ms;
	char nonce[2 * SELF_NONCE_BYTES + 1];
};

static struct challenge slots[SELF_SLOTS];

int
op_self_challenge(struct op_ctx *c)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SELF_NONCE_BYTES];
	struct challenge *ch = NULL, *oldest = &slots[0];
	int64_t t = clock_ms();
	size_t i;

	/* one per connection: a new one replaces it */
	for (i = 0; i < SELF_SLOTS && ch == NULL; i++)
		if (slots[i].conn == c->conn_serial)
			ch = &slots[i];
	for (i = 0; i < SELF_SLOTS && ch == NULL; i++) {
		if (slots[i].conn == 0 || slots[i].until_ms <= t)
			ch = &slots[i];
		else if (slots[i].until_ms < oldest->until_ms)
			oldest = &slots[i];
	}
	if (ch == NULL)
		ch = oldest;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return op_fail(c, SAT_E_CRYPTO, "no randomness for a challenge");
	for (i = 0; i < sizeof(raw); i++) {
		ch->nonce[2 * i] = hex[raw[i] >> 4];
		ch->nonce[2 * i + 1] = hex[raw[i] & 15];
	}
	ch->nonce[2 * SELF_NONCE_BYTES] = '\0';
	ch->conn = c->conn_serial;
	ch->until_ms = t + SELF_NONCE_TTL_MS;
	if (proto_set_str(c->reply, "nonce", ch->nonce) != 0 ||
	    proto_set_int(c->reply, "expires_at", c->st->now +
	    SELF_NONCE_TTL_MS / 1000) != 0)
		return SAT_E_NOMEM;
	return 0;
}

/* Takes this connection's challenge, if it has a live one: used once,
 * whatever comes of it. */
static int
take_nonce(uint64_t conn, char out[2 * SELF_NONCE_BYTES + 1])
{
	int64_t t = clock_ms();
	size_t i;
	int live;

	for (i = 0; i < SELF_SLOTS; i++) {
		if (slots[i].conn != conn)
			continue;
		live = slots[i].until_ms > t;
		memcpy(out, slots[i].nonce, sizeof(slots[i].nonce));
		memset(&slots[i], 0, sizeof(slots[i]));
		return live ? 0 : SAT_E_NOTFOUND;
	}
	return SAT_E_NOTFOUND;
}

/* What was signed: the magic, the nonce, the request but its
 * signature.  Caller frees. */
static char *
signed_text(const struct request *rq, const char *nonce, size_t *ret_len)
{
	json_t *copy;
	char *body, *out = NULL;
	size_t n;

	if ((copy = json_copy(rq->root)) == NULL)
		return NULL;
	(void)json_object_del(copy, "signature");
	body = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(copy);
	if (body == NULL)
		return NULL;
	n = strlen(SELF_MAGIC) + strlen(nonce) + 1 + strlen(body);
	if ((out = malloc(n + 1)) != NULL) {
		snprintf(out, n + 1, "%s%s\n%s", SELF_MAGIC, nonce, body);
		*ret_len = n;
	}
	free(body);
	return out;
}

int
ops_self_principal(struct op_ctx *c, struct principal *ret)
{
	const struct request *rq = c->rq;
	char nonce[2 * SELF_NONCE_BYTES + 1];
	const char *acct = NULL;
	struct sat_token t;
	struct sat_account a;
	char *text = NULL;
	size_t n = 0;
	int r, had;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	/* the challenge is spent by this request, whatever comes of it */
	had = take_nonce(c->conn_serial, nonce) == 0;
	if (strcmp(rq->op->name, "token.mint") != 0 &&
	    strcmp(rq->op->name, "token.rotate") != 0)
		return op_fail(c, SAT_E_INVALID, "a signed request is a "
		    "token.mint or token.rotate");
	if (rq->auth_token != NULL)
		return op_fail(c, SAT_E_INVALID, "a request is signed or "
		    "carries a token, not both");
	if (strcmp(rq->op->name, "token.mint") == 0) {
		acct = rq->account;
	} else if (rq->id != NULL && token_id_valid(rq->id, strlen(rq->id)) &&
	    store_get_token(c->st->store, rq->id, &t) == 0) {
		acct = t.account;
	}
	if (acct == NULL || !valid_name(acct) ||
	    (r = store_get_account(c->st->store, acct, &a)) != 0) {
		r = op_fail(c, SAT_E_PERM, "the signature is not accepted (no "
		    "such account or token)");
		goto out;
	}
	if (a.public_key == NULL) {
		r = op_fail(c, SAT_E_PERM, "the signature is not accepted "
		    "(service account %s has no public key)", a.name);
		goto out;
	}
	if (!had) {
		r = op_fail(c, SAT_E_PERM, "the signature is not accepted (no "
		    "live challenge on this connection: ask self.challenge "
		    "first; each is good for one request)");
		goto out;
	}
	if ((text = signed_text(rq, nonce, &n)) == NULL) {
		r = SAT_E_NOMEM;
		goto out;
	}
	if ((r = pubkey_verify(a.public_key, text, n, rq->signature)) != 0) {
		r = op_fail(c, r == SAT_E_NOMEM ? r : SAT_E_PERM, "the "
		    "signature is not accepted (not by service account %s's "
		    "key, or over another request)", a.name);
		goto out;
	}
	principal_of_account(&a, c->p->uid, c->p->gid, ret);
	snprintf(ret->display, sizeof(ret->display), "%s(key)", ret->id);
	ret->by_key = 1;
	r = 0;
out:
	free(text);
	sat_wipe(nonce, sizeof(nonce));
	record_free_token(&t);
	record_free_account(&a);
	return r;
}
