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

void
print_tokens(json_t *items, int header)
{
	char tb[32];
	json_t *t;
	size_t i;

	if (header)
		printf("%-12s %-20s %-20s %-8s %s\n", "ID", "ACCOUNT", "NAME",
		    "STATUS", "EXPIRES");
	json_array_foreach(items, i, t)
		printf("%-12s %-20s %-20s %-8s %s\n", str(t, "id"),
		    str(t, "account"), str(t, "name"), str(t, "status"),
		    when(t, "expires_at", tb, sizeof(tb)));
}

void
print_token(json_t *t)
{
	char tb[32], lb[1024];

	printf("id:           %s\n", str(t, "id"));
	printf("account:      %s\n", str(t, "account"));
	printf("name:         %s\n", str(t, "name"));
	printf("status:       %s\n", str(t, "status"));
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
