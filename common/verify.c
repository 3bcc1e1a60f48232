#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cidr.h"
#include "clock.h"
#include "err.h"
#include "mem.h"
#include "policy.h"
#include "record.h"
#include "tokstate.h"
#include "verify.h"

const char *
verify_reason_name(enum verify_reason r)
{
	switch (r) {
	case VERIFY_OK:			return "ok";
	case VERIFY_MALFORMED:		return "malformed";
	case VERIFY_UNKNOWN_TOKEN:	return "unknown_token";
	case VERIFY_BAD_SECRET:		return "bad_secret";
	case VERIFY_WRONG_ACCOUNT:	return "wrong_account";
	case VERIFY_REVOKED:		return "revoked";
	case VERIFY_EXPIRED:		return "expired";
	case VERIFY_UNKNOWN_ACCOUNT:	return "unknown_account";
	case VERIFY_ACCOUNT_DISABLED:	return "account_disabled";
	case VERIFY_ACCOUNT_EXPIRED:	return "account_expired";
	case VERIFY_POLICY_DENIED:	return "policy_denied";
	case VERIFY_SERVICE_DENIED:	return "service_denied";
	case VERIFY_SOURCE_DENIED:	return "source_denied";
	case VERIFY_TOKEN_DISABLED:	return "token_disabled";
	case VERIFY_CANARY:		return "canary";
	case VERIFY_STORE_STALE:	return "store_stale";
	}
	return "malformed";
}

static int
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static int
service_allowed(const struct sat_token *t, const char *service)
{
	if (t->services.n == 0)
		return 1;
	return !empty(service) && strlist_contains(&t->services, service);
}

static int
source_allowed(const struct sat_token *t, const char *rhost)
{
	struct cidr c;
	size_t i;

	if (t->sources.n == 0)
		return 1;
	if (empty(rhost))
		return 0;
	for (i = 0; i < t->sources.n; i++)
		if (cidr_parse(t->sources.v[i], &c) == 0 &&
		    cidr_contains(&c, rhost))
			return 1;
	return 0;
}

enum verify_reason
verify_account_fitness(const struct sat_account *a, const struct sat_policy *p,
    int64_t now)
{
	if (!a->enabled)
		return VERIFY_ACCOUNT_DISABLED;
	if (account_expired(a, now))
		return VERIFY_ACCOUNT_EXPIRED;
	if (!policy_allows(p, a))
		return VERIFY_POLICY_DENIED;
	return VERIFY_OK;
}

/* Records of typical size, as the encoder writes them (a token of
 * account "account" named "default", and that account with the serial
 * every account made since owners by identity carries).  When a lookup
 * misses, one of them is copied, decoded and released, which is what a
 * hit costs, so a miss does not answer sooner than a found record. */
static const uint8_t dummy_token_rec[119] = {
	0x73, 0x54, 0x05, 0x01, 0x00, 0x00, 0x00, 0x6b, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x00, 0x07, 0x61, 0x63,
	0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x07, 0x64, 0x65, 0x66, 0x61, 0x75,
	0x6c, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x75, 0x69, 0x64, 0x3a,
	0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x07, 0x72, 0x73,
};
static const uint8_t dummy_account_rec[73] = {
	0x73, 0x54, 0x02, 0x01, 0x00, 0x00, 0x00, 0x3d, 0x00, 0x07, 0x61, 0x63,
	0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x00, 0x00, 0x05, 0x75, 0x69, 0x64,
	0x3a, 0x30, 0x01, 0x00, 0x01, 0x00, 0x05, 0x67, 0x72, 0x6f, 0x75, 0x70,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x75, 0x69, 0x64, 0x3a, 0x30,
	0x05, 0xca, 0x1a, 0xb1, 0xe0, 0xdd, 0xba, 0x11, 0x00, 0x08, 0x3f, 0x5c,
	0x44,
};

static void
spend_like_a_hit(const uint8_t *rec, size_t n, int is_token)
{
	struct sat_token t;
	struct sat_account a;
	uint8_t *copy;

	if ((copy = malloc(n)) == NULL)
		return;
	memcpy(copy, rec, n);
	if (is_token) {
		memset(&t, 0, sizeof(t));
		if (record_decode_token(copy, n, &t) == 0)
			record_free_token(&t);
	} else {
		memset(&a, 0, sizeof(a));
		if (record_decode_account(copy, n, &a) == 0)
			record_free_account(&a);
	}
	sat_freezero(copy, n);
}

/*
 * Doing the same work on every path leaves differences: a record's place
 * in the file, its size, the allocator, and above all whether GDBM had
 * to read a found record's data from the file (half a decision's
 * cost, README "Performance").  So, like OpenSSH's
 * ensure_minimum_time_since() for failed logins, every decision past the format check is padded to a
 * common floor: 5/4 of the running mean cost of a whole decision in
 * this process, one that found both the token and its account (the
 * dearest path, which legitimate logins take), or of the dearer ones
 * among them when found records cost two ways (a record sharing its
 * GDBM bucket with its account's is read from the file every time).  Decisions that stop
 * short (an unknown id or account) never lower it, whatever their
 * share: a prober sending unknown ids cannot pull the floor under the
 * cost of a found one.  Until a whole decision has been seen, the mean
 * of all decisions stands in.  Whatever the reason, the caller sees the
 * floor, unless the machine itself took longer (preemption), which does
 * not depend on the reason either.  The means adapt to the machine and
 * the store's size; they are only estimates, so relaxed atomics are
 * enough for threads sharing them.
 */
#define FLOOR_MAX_NS	200000	/* never pad past this: a stalled disk
				   must not stall logins further */
#define FLOOR_WEIGHT	32	/* a mean moves by 1/32 of a sample */
#define FLOOR_OF(mean)	((mean) + (mean) / 4)

/* How far above the mean a whole decision's cost is still taken as its
 * own and not the machine's: a decision whose record shares a GDBM
 * bucket with its account's pays a second data read every time (a few
 * times a decision on a small store), preemption costs milliseconds. */
#define DEAR_CLIP(mean)	(4 * (mean))

static struct {
	_Atomic int64_t whole;	/* decisions that found token and account */
	_Atomic int64_t dear;	/* those of them dearer than that mean */
	_Atomic int64_t any;	/* all decisions */
	/* samples taken so far, up to FLOOR_WEIGHT, for each */
	_Atomic int64_t n_whole, n_dear, n_any;
} mean_cost_ns;

/* How far a sample moves a mean: 1/n for the first FLOOR_WEIGHT (a
 * plain average of what was seen), 1/FLOOR_WEIGHT after.  A process's
 * first decisions are cold (OpenSSL's set-up, the store's first reads,
 * often 1 ms or more): weighted 1/32 from the start, that one sample
 * held the floor at its cap for the next 60 or so logins, which is the
 * whole life of a smtpd or a Dovecot PAM worker (100 logins; bench_sasl
 * in fresh processes, first 100 logins: p50 227-268 us against 51-75
 * warm). */
static int64_t
weight(_Atomic int64_t *n)
{
	int64_t k = atomic_load_explicit(n, memory_order_relaxed);

	if (k < FLOOR_WEIGHT)
		atomic_store_explicit(n, ++k, memory_order_relaxed);
	return k;
}

/* Moves *mean towards this sample; returns the mean before. */
static int64_t
learn(_Atomic int64_t *mean, _Atomic int64_t *n, int64_t spent)
{
	int64_t m = atomic_load_explicit(mean, memory_order_relaxed), sample;
	int64_t w = weight(n);

	/* a preempted decision says nothing about the cost: clip it, at
	 * the floor, so that a busy machine's tail (a looser clip let
	 * preempted decisions lift the mean) does not lift the floor for
	 * every login */
	sample = m > 0 && spent > FLOOR_OF(m) ? FLOOR_OF(m) : spent;
	atomic_store_explicit(mean, m <= 0 ? sample :
	    m + (sample - m) / w, memory_order_relaxed);
	return m;
}

/* The mean of the whole decisions dearer than the mean: what the floor
 * must cover when found records cost two ways (the mean alone, its
 * samples clipped at 5/4 of it, stays near the cheaper way). */
static void
learn_dear(int64_t sample)
{
	int64_t d = atomic_load_explicit(&mean_cost_ns.dear,
	    memory_order_relaxed), w = weight(&mean_cost_ns.n_dear);

	atomic_store_explicit(&mean_cost_ns.dear, d <= 0 ? sample :
	    d + (sample - d) / w, memory_order_relaxed);
}

/* Learns from this decision's cost and returns when the caller may
 * answer: start + the floor.  whole: it found token and account. */
static int64_t
floor_deadline(int64_t start, int whole)
{
	int64_t spent = clock_ns() - start, mean, any, dear, floor;

	any = learn(&mean_cost_ns.any, &mean_cost_ns.n_any, spent);
	mean = whole ?
	    learn(&mean_cost_ns.whole, &mean_cost_ns.n_whole, spent) :
	    atomic_load_explicit(&mean_cost_ns.whole, memory_order_relaxed);
	if (whole && mean > 0 && spent > mean)
		learn_dear(spent > DEAR_CLIP(mean) ? DEAR_CLIP(mean) : spent);
	dear = atomic_load_explicit(&mean_cost_ns.dear, memory_order_relaxed);
	if (dear > mean)
		mean = dear;
	if (mean <= 0)
		mean = any;
	if (mean <= 0)
		return start;
	floor = FLOOR_OF(mean);
	if (floor > FLOOR_MAX_NS)
		floor = FLOOR_MAX_NS;
	return start + floor;
}

void
verify_pad(const struct verify_result *res)
{
	if (res->pad_until_ns == 0)
		return;
	while (clock_ns() < res->pad_until_ns)
		;
}

/* Fetch that maps "absent or undecodable" to found = 0 and keeps real
 * store errors as errors. */
static int
found_or_absent(int r, int *found)
{
	if (r == 0) {
		*found = 1;
		return 0;
	}
	*found = 0;
	return r == SAT_E_NOTFOUND ? 0 : r;
}

int
verify_token(struct store *s, const struct verify_request *req,
    struct verify_result *ret)
{
	/* compared against when the id is unknown, so that path hashes and
	 * compares exactly like the others */
	static const uint8_t dummy_digest[TOKEN_DIGEST_LEN];
	struct sat_token tok;
	struct sat_account acct;
	struct sat_policy pol;
	uint8_t digest[TOKEN_DIGEST_LEN];
	const char *acct_name;
	int tok_found = 0, acct_found = 0, secret_ok, r;
	enum verify_reason reason;
	int64_t start;

	memset(ret, 0, sizeof(*ret));
	ret->reason = VERIFY_MALFORMED;
	memset(&tok, 0, sizeof(tok));
	memset(&acct, 0, sizeof(acct));
	memset(&pol, 0, sizeof(pol));
	if (!empty(req->account) && valid_name(req->account))
		strcpy(ret->account, req->account);

	/* the format check needs no secret: it may end early */
	if (token_parse(req->token, req->token_len, ret->token_id) != 0)
		return 0;

	start = clock_ns();
	if ((r = found_or_absent(store_get_token(s, ret->token_id, &tok),
	    &tok_found)) != 0)
		goto out;
	if (!tok_found)
		spend_like_a_hit(dummy_token_rec, sizeof(dummy_token_rec), 1);
	if ((r = token_digest(store_hmac_key(s), req->token, digest)) != 0)
		goto out;
	secret_ok = token_digest_equal(digest,
	    tok_found ? tok.digest : dummy_digest) && tok_found;
	sat_wipe(digest, sizeof(digest));

	acct_name = tok_found ? tok.account :
	    (!empty(req->account) ? req->account : "_");
	if ((r = found_or_absent(store_get_account(s, acct_name, &acct),
	    &acct_found)) != 0)
		goto out;
	if (!acct_found)
		spend_like_a_hit(dummy_account_rec, sizeof(dummy_account_rec), 0);
	if ((r = store_get_policy(s, &pol)) != 0)
		goto out;

	if (!tok_found)
		reason = VERIFY_UNKNOWN_TOKEN;
	else if (!secret_ok)
		reason = VERIFY_BAD_SECRET;
	else if (!empty(req->account) && strcmp(req->account, tok.account) != 0)
		reason = VERIFY_WRONG_ACCOUNT;
	else if (tok.canary)
		/* before revoked and expired: a canary's use is an alarm
		 * whatever became of it since */
		reason = VERIFY_CANARY;
	else if (tokstate_shown(&tok, req->now) == TOKSTATE_REVOKED)
		reason = VERIFY_REVOKED;
	else if (tokstate_shown(&tok, req->now) == TOKSTATE_DISABLED)
		reason = VERIFY_TOKEN_DISABLED;
	else if (tokstate_shown(&tok, req->now) == TOKSTATE_EXPIRED)
		reason = VERIFY_EXPIRED;
	else if (!acct_found)
		reason = VERIFY_UNKNOWN_ACCOUNT;
	else if ((reason = verify_account_fitness(&acct, &pol, req->now)) !=
	    VERIFY_OK)
		;
	else if (!service_allowed(&tok, req->service))
		reason = VERIFY_SERVICE_DENIED;
	else if (!source_allowed(&tok, req->rhost))
		reason = VERIFY_SOURCE_DENIED;
	else
		reason = VERIFY_OK;
	/* an offline budget, last (DESIGN's order): read only for a token
	 * that passed everything else, so a wrong secret learns nothing
	 * from its cost.  No contact recorded is no proof of one: stale */
	if (reason == VERIFY_OK && tok.max_offline > 0) {
		int64_t contact;
		int in_contact;

		if ((r = found_or_absent(store_get_contact(s, &contact),
		    &in_contact)) != 0)
			goto out;
		if (!in_contact ||
		    req->now - contact > (int64_t)tok.max_offline)
			reason = VERIFY_STORE_STALE;
	}

	/* name the token's owner only once the secret proved it */
	if (secret_ok) {
		strcpy(ret->account, tok.account);
		ret->expires_at = tok.expires_at;
	}
	ret->reason = reason;
	r = 0;
out:
	if (r != 0)
		ret->reason = VERIFY_MALFORMED;
	record_free_token(&tok);
	record_free_account(&acct);
	record_free_policy(&pol);
	ret->pad_until_ns = floor_deadline(start, r == 0 && tok_found &&
	    acct_found);
	if (!req->defer_pad)
		verify_pad(ret);
	return r;
}

int
verify_account(struct store *s, const char *account, int64_t now,
    enum verify_reason *ret)
{
	struct sat_account acct;
	struct sat_policy pol;
	int found = 0, r;

	memset(&acct, 0, sizeof(acct));
	memset(&pol, 0, sizeof(pol));
	*ret = VERIFY_UNKNOWN_ACCOUNT;
	if (empty(account) || !valid_name(account))
		return 0;
	if ((r = found_or_absent(store_get_account(s, account, &acct),
	    &found)) != 0)
		goto out;
	if ((r = store_get_policy(s, &pol)) != 0)
		goto out;
	*ret = found ? verify_account_fitness(&acct, &pol, now) :
	    VERIFY_UNKNOWN_ACCOUNT;
out:
	record_free_account(&acct);
	record_free_policy(&pol);
	return r;
}
