/* satokenctl: what a person reads.  Scripts use --json. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "num.h"

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* An account whose owner was deleted has none: "-" */
static const char *
owner_of(json_t *a)
{
	const char *s = json_string_value(json_object_get(a, "owner"));

	return s != NULL ? s : "-";
}

static const char *
when(json_t *o, const char *k, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		return "-";
	format_time((int64_t)json_integer_value(v), buf, cap);
	return buf;
}

/* "a,b,c" of an array of strings, or "-". */
static const char *
joined(json_t *o, const char *k, char *buf, size_t cap)
{
	json_t *a = json_object_get(o, k), *e;
	size_t i, n = 0;
	int w;

	buf[0] = '\0';
	json_array_foreach(a, i, e) {
		w = snprintf(buf + n, cap - n, "%s%s", n > 0 ? "," : "",
		    json_string_value(e) != NULL ? json_string_value(e) : "");
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
	return n > 0 ? buf : "-";
}

void
print_whoami(json_t *r)
{
	printf("principal: %s\nrole:      %s\n", str(r, "display"),
	    str(r, "role"));
}

void
print_status(json_t *r)
{
	json_t *tok = json_object_get(r, "tokens"), *l, *v;
	const char *k;
	size_t i;

	printf("version:      satoken %s\n", str(r, "version"));
	printf("store:        %lld bytes\n", (long long)json_integer_value(
	    json_object_get(r, "store_bytes")));
	printf("accounts:     %lld (groups %lld)\n", (long long)
	    json_integer_value(json_object_get(r, "accounts")), (long long)
	    json_integer_value(json_object_get(r, "groups")));
	if (json_is_object(tok)) {
		printf("tokens:      ");
		json_object_foreach(tok, k, v)
			printf(" %s %lld", k, (long long)json_integer_value(v));
		printf("\n");
	} else {
		printf("tokens:       not counted yet\n");
	}
	if (json_is_number(json_object_get(r, "last_commit_ms")))
		printf("last commit:  %.3f ms\n", json_number_value(
		    json_object_get(r, "last_commit_ms")));
	else
		printf("last commit:  none yet\n");
	printf("logins, last hour:\n");
	l = json_object_get(r, "logins_last_hour");
	if (json_array_size(l) == 0)
		printf("  none\n");
	json_array_foreach(l, i, v)
		printf("  %-7s %-18s %lld\n", str(v, "outcome"), str(v, "reason"),
		    (long long)json_integer_value(json_object_get(v, "count")));
}

void
print_groups(json_t *items, int header)
{
	json_t *g;
	size_t i;

	if (header)
		printf("%-24s %s\n", "GROUP", "DESCRIPTION");
	json_array_foreach(items, i, g)
		printf("%-24s %s\n", str(g, "name"), str(g, "description"));
}

void
print_policy(json_t *r)
{
	json_t *g, *a = json_object_get(r, "groups");
	size_t i;

	if (json_array_size(a) == 0)
		fprintf(stderr, "(no group may use tokens)\n");
	json_array_foreach(a, i, g)
		printf("%s\n", json_string_value(g));
}

void
print_accounts(json_t *items, int header)
{
	char gb[512];
	json_t *a;
	size_t i;

	if (header)
		printf("%-24s %-12s %-9s %-16s %s\n", "ACCOUNT", "ROLE", "STATE",
		    "OWNER", "GROUPS");
	json_array_foreach(items, i, a)
		printf("%-24s %-12s %-9s %-16s %s\n", str(a, "name"),
		    str(a, "role"), json_is_true(json_object_get(a, "enabled")) ?
		    "enabled" : "disabled", owner_of(a),
		    joined(a, "groups", gb, sizeof(gb)));
}

void
print_account(json_t *a)
{
	char gb[1024], tb[32];

	printf("name:         %s\n", str(a, "name"));
	printf("description:  %s\n", str(a, "description"));
	printf("role:         %s\n", str(a, "role"));
	printf("owner:        %s\n", owner_of(a));
	printf("groups:       %s\n", joined(a, "groups", gb, sizeof(gb)));
	printf("state:        %s\n", json_is_true(json_object_get(a,
	    "enabled")) ? "enabled" : "disabled");
	printf("created:      %s by %s\n", when(a, "created_at", tb,
	    sizeof(tb)), str(a, "created_by"));
	if (json_object_get(a, "days_valid") == NULL)
		printf("valid until:  never\n");
	if (json_object_get(a, "tokens_live") != NULL)
		printf("tokens:       %lld live, %lld held\n", (long long)
		    json_integer_value(json_object_get(a, "tokens_live")),
		    (long long)json_integer_value(json_object_get(a, "tokens")));
	else if (json_object_get(a, "tokens") != NULL)
		printf("tokens:       %lld held\n", (long long)
		    json_integer_value(json_object_get(a, "tokens")));
	if (json_object_get(a, "days_valid") != NULL)
		printf("valid until:  %s (%lld days)\n", when(a, "expires_at",
		    tb, sizeof(tb)), (long long)json_integer_value(
		    json_object_get(a, "days_valid")));
	if (json_object_get(a, "external_id") != NULL)
		printf("external id:  %s\n", str(a, "external_id"));
	if (json_object_get(a, "public_key_fingerprint") != NULL)
		printf("public key:   %s %s\n", str(a, "public_key_type"),
		    str(a, "public_key_fingerprint"));
}

/* The width of column k over items: long names widen it rather than
 * run into the next column. */
static int
col_width(json_t *items, const char *k, const char *head, int list)
{
	char lb[1024];
	size_t i, w = strlen(head), n;
	json_t *t;

	json_array_foreach(items, i, t) {
		n = strlen(list ? joined(t, k, lb, sizeof(lb)) : str(t, k));
		if (n > w)
			w = n;
	}
	return w > 64 ? 64 : (int)w;
}

void
print_tokens(json_t *items, int header)
{
	char tb[32], ub[32], sb[1024], fb[1024];
	int wa = col_width(items, "account", "ACCOUNT", 0);
	int wn = col_width(items, "name", "NAME", 0);
	int ws = col_width(items, "services", "SERVICES", 1);
	int wf = col_width(items, "sources", "SOURCES", 1);
	json_t *t;
	size_t i;

	if (header)
		printf("%-12s %-*s %-*s %-8s %-20s %-*s %-*s %s\n", "ID",
		    wa, "ACCOUNT", wn, "NAME", "STATUS", "EXPIRES", ws,
		    "SERVICES", wf, "SOURCES", "LAST USED");
	json_array_foreach(items, i, t)
		printf("%-12s %-*s %-*s %-8s %-20s %-*s %-*s %s\n",
		    str(t, "id"), wa, str(t, "account"), wn, str(t, "name"),
		    str(t, "status"), when(t, "expires_at", tb, sizeof(tb)),
		    ws, joined(t, "services", sb, sizeof(sb)),
		    wf, joined(t, "sources", fb, sizeof(fb)),
		    json_is_integer(json_object_get(t, "last_used_at")) ?
		    when(t, "last_used_at", ub, sizeof(ub)) : "never");
}

void
print_token(json_t *t)
{
	char tb[32], lb[1024];

	printf("id:           %s\n", str(t, "id"));
	printf("account:      %s\n", str(t, "account"));
	printf("name:         %s\n", str(t, "name"));
	if (json_object_get(t, "description") != NULL)
		printf("description:  %s\n", str(t, "description"));
	printf("status:       %s\n", str(t, "status"));
	if (json_object_get(t, "disabled_at") != NULL)
		printf("disabled:     %s\n", when(t, "disabled_at", tb,
		    sizeof(tb)));
	printf("created:      %s by %s\n", when(t, "created_at", tb, sizeof(tb)),
	    str(t, "created_by"));
	printf("expires:      %s\n", when(t, "expires_at", tb, sizeof(tb)));
	printf("services:     %s\n", joined(t, "services", lb, sizeof(lb)));
	printf("sources:      %s\n", joined(t, "sources", lb, sizeof(lb)));
	if (json_object_get(t, "revoked_at") != NULL)
		printf("revoked:      %s\n", when(t, "revoked_at", tb,
		    sizeof(tb)));
	if (json_object_get(t, "replaced_by") != NULL)
		printf("replaced by:  %s\n", str(t, "replaced_by"));
	if (json_object_get(t, "max_offline") != NULL)
		printf("max offline:  %llds\n", (long long)json_integer_value(
		    json_object_get(t, "max_offline")));
	/* during a rotation's grace, who still uses the old token */
	if (!json_is_integer(json_object_get(t, "last_used_at"))) {
		printf("last used:    never\n");
		return;
	}
	printf("last used:    %s", when(t, "last_used_at", tb, sizeof(tb)));
	if (json_is_string(json_object_get(t, "last_used_service")))
		printf(" by %s", str(t, "last_used_service"));
	if (json_is_string(json_object_get(t, "last_used_rhost")))
		printf(" from %s", str(t, "last_used_rhost"));
	printf("\n");
}

void
print_minted(json_t *r)
{
	char tb[32];

	/* stdout gets the secret alone, so $(satokenctl ...) captures it;
	 * with --output it went to the file and the reply no longer has it */
	if (json_object_get(r, "token") != NULL) {
		printf("%s\n", str(r, "token"));
		fflush(stdout);
	}
	fprintf(stderr, "id:       %s\naccount:  %s\nname:     %s\n"
	    "expires:  %s\n", str(r, "id"), str(r, "account"), str(r, "name"),
	    when(r, "expires_at", tb, sizeof(tb)));
	if (json_is_true(json_object_get(r, "ttl_clipped")))
		fprintf(stderr, "note:     the ttl was cut to the account's "
		    "expiry\n");
	/* ended at once: when it was revoked, not the end it no longer has */
	if (json_object_get(r, "old_id") != NULL)
		fprintf(stderr, "replaces: %s (%s %s)\n", str(r, "old_id"),
		    json_object_get(r, "old_revoked_at") != NULL ?
		    "revoked" : "valid until",
		    json_object_get(r, "old_revoked_at") != NULL ?
		    when(r, "old_revoked_at", tb, sizeof(tb)) :
		    when(r, "old_expires_at", tb, sizeof(tb)));
	if (json_object_get(r, "token") != NULL)
		fprintf(stderr, "This token is shown once: store it now.\n");
}

void
print_membership(json_t *r)
{
	char b[4096];

	printf("changed:   %s\n", joined(r, "changed", b, sizeof(b)));
	if (json_array_size(json_object_get(r, "unchanged")) > 0)
		printf("unchanged: %s\n", joined(r, "unchanged", b, sizeof(b)));
}
