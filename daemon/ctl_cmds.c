/* satokenctl: the commands of DESIGN.md, their options, and the one
 * request each sends. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "err.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"

#define PUBKEY_FILE_MAX	16384

enum {
	O_ROLE = 1u << 0, O_GROUP = 1u << 1, O_OWNER = 1u << 2,
	O_DESC = 1u << 3, O_DAYS = 1u << 4, O_PUBKEY = 1u << 5,
	O_EXTID = 1u << 6, O_NAME = 1u << 7, O_TTL = 1u << 8,
	O_SERVICE = 1u << 9, O_FROM = 1u << 10, O_GRACE = 1u << 11,
	O_OLDEXP = 1u << 12, O_PAGE = 1u << 13,
};
#define ACCT_OPTS (O_ROLE | O_GROUP | O_OWNER | O_DESC | O_DAYS | O_PUBKEY | \
	O_EXTID)

struct cmd {
	const char *group;	/* "account", or NULL for a lone command */
	const char *name;
	int min_pos, max_pos;	/* max -1: any number */
	unsigned opts;
	int (*run)(struct ctl *c, const struct cmd *cmd, struct opts *o);
	const char *usage;	/* after "satokenctl " */
	const char *help;
};

/* ---- requests ---- */

static json_t *
request(const char *op)
{
	return json_pack("{s:s}", "op", op);
}

static int
nomem(void)
{
	return ctl_error("UNAVAILABLE", "out of memory");
}

static int
put_str(json_t *req, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	return json_object_set_new(req, k, json_string(v)) == 0 ? 0 : nomem();
}

static int
put_list(json_t *req, const char *k, const struct strlist *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	if (a == NULL || json_object_set_new(req, k, a) != 0)
		return nomem();
	return 0;
}

static int
put_int(json_t *req, const char *k, uint64_t v)
{
	return json_object_set_new(req, k, json_integer((json_int_t)v)) == 0 ?
	    0 : nomem();
}

static int
put_duration(json_t *req, const char *k, const char *opt, const char *v)
{
	uint64_t d;

	if (v == NULL)
		return 0;
	if (parse_duration(v, 0, (uint64_t)INT64_MAX / 4, &d) != 0)
		return ctl_error("VALIDATION", "--%s '%s': expected a duration "
		    "such as 45s, 15m, 12h, 30d or plain seconds", opt, v);
	return put_int(req, k, d);
}

static int
put_number(json_t *req, const char *k, const char *opt, const char *v)
{
	uint64_t n;

	if (v == NULL)
		return 0;
	if (parse_u64(v, 0, 1000000000, &n) != 0)
		return ctl_error("VALIDATION", "--%s '%s': expected a number",
		    opt, v);
	return put_int(req, k, n);
}

static int
put_pubkey(json_t *req, const char *file)
{
	char *pem = NULL;
	size_t len;
	int fd, r;

	if (file == NULL)
		return 0;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return ctl_error("VALIDATION", "--public-key %s: %s", file,
		    strerror(errno));
	r = fileio_slurp(fd, PUBKEY_FILE_MAX, &pem, &len);
	close(fd);
	if (r != 0)
		return ctl_error("VALIDATION", "--public-key %s: %s", file,
		    r == SAT_E_INVALID ? "larger than 16 KiB" : sat_strerror(r));
	r = put_str(req, "public_key", pem);
	free(pem);
	return r;
}

static int
put_account_opts(json_t *req, const struct opts *o)
{
	int r;

	struct strlist none;

	/* --group '' alone clears the groups */
	strlist_init(&none);
	if ((r = put_str(req, "role", o->role)) != 0 ||
	    (o->groups.n > 0 && (r = put_list(req, "groups",
	    o->groups.n == 1 && o->groups.v[0][0] == '\0' ? &none :
	    &o->groups)) != 0) ||
	    (r = put_str(req, "owner", o->owner)) != 0 ||
	    (r = put_str(req, "description", o->description)) != 0 ||
	    (r = put_number(req, "days_valid", "days-valid", o->days_valid)) ||
	    (r = put_pubkey(req, o->public_key)) != 0 ||
	    (r = put_str(req, "external_id", o->external_id)) != 0)
		return r;
	return 0;
}

static int
put_mint_opts(json_t *req, const struct opts *o)
{
	int r;

	if ((r = put_duration(req, "ttl", "ttl", o->ttl)) != 0 ||
	    (o->services.n > 0 &&
	    (r = put_list(req, "services", &o->services)) != 0) ||
	    (o->froms.n > 0 && (r = put_list(req, "sources", &o->froms)) != 0))
		return r;
	return 0;
}

/* Sends req (consumed) and hands an ok reply to print (NULL: the
 * command prints nothing of it but its confirmation). */
static int
call(struct ctl *c, json_t *req, void (*print)(json_t *), const char *done)
{
	json_t *reply = NULL;
	const char *line;
	int r;

	if (req == NULL)
		return nomem();
	r = ctl_call(c, req, &reply, &line);
	json_decref(req);
	if (r != 0)
		return r;
	if (!json_is_true(json_object_get(reply, "ok")))
		r = ctl_reply_error(c, reply, line);
	else if (c->json)
		fputs(line, stdout);
	else {
		if (print != NULL)
			print(reply);
		if (done != NULL)
			printf("%s\n", done);
	}
	json_decref(reply);
	return r;
}

/* A listing: one page when --limit or --cursor is given, else every
 * page (with --json, merged into one reply). */
static int
list(struct ctl *c, json_t *req, const struct opts *o,
    void (*print)(json_t *, int))
{
	json_t *reply, *all = NULL, *items;
	const char *line, *cur;
	int r = 0, page = 0, single = o->limit != NULL || o->cursor != NULL;

	if (req == NULL)
		return nomem();
	if ((r = put_number(req, "limit", "limit", o->limit)) != 0 ||
	    (r = put_str(req, "cursor", o->cursor)) != 0)
		goto out;
	if (!single && o->limit == NULL && (r = put_int(req, "limit", 1000)))
		goto out;
	if (c->json && !single && (all = json_array()) == NULL) {
		r = nomem();
		goto out;
	}
	for (;;) {
		if ((r = ctl_call(c, req, &reply, &line)) != 0)
			goto out;
		if (!json_is_true(json_object_get(reply, "ok"))) {
			r = ctl_reply_error(c, reply, line);
			json_decref(reply);
			goto out;
		}
		items = json_object_get(reply, "items");
		if (c->json && single)
			fputs(line, stdout);
		else if (c->json)
			json_array_extend(all, items);
		else
			print(items, page == 0);
		page++;
		cur = json_string_value(json_object_get(reply, "cursor"));
		if (cur != NULL && single && !c->json)
			fprintf(stderr, "more: --cursor %s\n", cur);
		if (cur == NULL || single ||
		    json_object_set_new(req, "cursor", json_string(cur)) != 0) {
			json_decref(reply);
			break;
		}
		json_decref(reply);
	}
	if (all != NULL) {
		json_t *out = json_pack("{s:b, s:O}", "ok", 1, "items", all);
		char *s = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;

		if (s == NULL)
			r = nomem();
		else
			printf("%s\n", s);
		free(s);
		json_decref(out);
	}
out:
	json_decref(all);
	json_decref(req);
	return r;
}

/* ---- commands ---- */

static int
c_whoami(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return call(c, request("whoami"), print_whoami, NULL);
}

static int
c_group_create(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "group.create", "name",
	    o->pos[0]);
	char done[160];

	snprintf(done, sizeof(done), "created group %.64s", o->pos[0]);
	if (req != NULL && put_str(req, "description", o->description) != 0)
		return EXIT_UNAVAILABLE;
	return call(c, req, NULL, done);
}

static int
c_group_delete(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	char done[160];

	snprintf(done, sizeof(done), "deleted group %.64s", o->pos[0]);
	return call(c, json_pack("{s:s, s:s}", "op", "group.delete", "name",
	    o->pos[0]), NULL, done);
}

static int
c_group_list(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return list(c, request("group.list"), o, print_groups);
}

/* Positional arguments from index from on, as a list. */
static int
pos_list(const struct opts *o, int from, struct strlist *ret)
{
	int i;

	strlist_init(ret);
	for (i = from; i < o->npos; i++)
		if (strlist_add_unique(ret, o->pos[i]) != 0)
			return nomem();
	return 0;
}

static int
members(struct ctl *c, struct opts *o, const char *op, const char *verb)
{
	struct strlist l;
	json_t *req;
	char done[160];
	int r;

	if ((r = pos_list(o, 1, &l)) != 0)
		return r;
	snprintf(done, sizeof(done), "%s %zu account%s %s group %.64s", verb,
	    l.n, l.n == 1 ? "" : "s", op[6] == 'a' ? "to" : "from", o->pos[0]);
	req = json_pack("{s:s, s:s}", "op", op, "group", o->pos[0]);
	if (req != NULL && put_list(req, "accounts", &l) != 0) {
		strlist_free(&l);
		json_decref(req);
		return EXIT_UNAVAILABLE;
	}
	strlist_free(&l);
	return call(c, req, NULL, done);
}

static int
c_group_add_member(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return members(c, o, "group.add-member", "added");
}

static int
c_group_remove_member(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return members(c, o, "group.remove-member", "removed");
}

static int
c_policy_show(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return call(c, request("policy.show"), print_policy, NULL);
}

static int
policy_edit(struct ctl *c, struct opts *o, const char *op)
{
	struct strlist l;
	json_t *req;
	int r;

	if ((r = pos_list(o, 0, &l)) != 0)
		return r;
	req = request(op);
	if (req != NULL && put_list(req, "groups", &l) != 0) {
		strlist_free(&l);
		json_decref(req);
		return EXIT_UNAVAILABLE;
	}
	strlist_free(&l);
	return call(c, req, print_policy, NULL);
}

static int
c_policy_add(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return policy_edit(c, o, "policy.add");
}

static int
c_policy_set(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return policy_edit(c, o, "policy.set");
}

static int
c_policy_remove(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return policy_edit(c, o, "policy.remove");
}

static int
account_write(struct ctl *c, struct opts *o, const char *op, const char *verb)
{
	json_t *req = json_pack("{s:s, s:s}", "op", op, "name", o->pos[0]);
	char done[160];
	int r;

	if (req == NULL)
		return nomem();
	if ((r = put_account_opts(req, o)) != 0) {
		json_decref(req);
		return r;
	}
	snprintf(done, sizeof(done), "%s service account %.64s", verb,
	    o->pos[0]);
	return call(c, req, NULL, done);
}

static int
c_account_create(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return account_write(c, o, "account.create", "created");
}

static int
c_account_update(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return account_write(c, o, "account.update", "updated");
}

static int
c_account_list(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return list(c, request("account.list"), o, print_accounts);
}

static int
c_account_show(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return call(c, json_pack("{s:s, s:s}", "op", "account.show", "name",
	    o->pos[0]), print_account, NULL);
}

static int
account_simple(struct ctl *c, struct opts *o, const char *op, const char *verb)
{
	char done[160];

	snprintf(done, sizeof(done), "%s service account %.64s", verb,
	    o->pos[0]);
	return call(c, json_pack("{s:s, s:s}", "op", op, "name", o->pos[0]),
	    NULL, done);
}

static int
c_account_disable(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return account_simple(c, o, "account.disable", "disabled");
}

static int
c_account_enable(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return account_simple(c, o, "account.enable", "enabled");
}

static int
c_account_delete(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return account_simple(c, o, "account.delete",
	    "deleted (with its tokens)");
}

static int
c_token_mint(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req;
	int r;

	if (o->name == NULL)
		return ctl_error("VALIDATION", "token mint needs --name NAME");
	req = json_pack("{s:s, s:s, s:s}", "op", "token.mint", "account",
	    o->pos[0], "name", o->name);
	if (req == NULL)
		return nomem();
	if ((r = put_mint_opts(req, o)) != 0) {
		json_decref(req);
		return r;
	}
	return call(c, req, print_minted, NULL);
}

static int
c_token_create(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "token.create", "account",
	    o->pos[0]);
	int r;

	if (req == NULL)
		return nomem();
	if ((r = put_str(req, "name", o->name)) != 0 ||
	    (r = put_account_opts(req, o)) != 0 ||
	    (r = put_mint_opts(req, o)) != 0) {
		json_decref(req);
		return r;
	}
	return call(c, req, print_minted, NULL);
}

static int
c_token_list(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req = request("token.list");

	if (req != NULL && o->npos == 1 &&
	    put_str(req, "account", o->pos[0]) != 0) {
		json_decref(req);
		return EXIT_UNAVAILABLE;
	}
	return list(c, req, o, print_tokens);
}

static int
c_token_show(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return call(c, json_pack("{s:s, s:s}", "op", "token.show", "id",
	    o->pos[0]), print_token, NULL);
}

static int
c_token_revoke(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	char done[160];

	snprintf(done, sizeof(done), "revoked token %.64s", o->pos[0]);
	return call(c, json_pack("{s:s, s:s}", "op", "token.revoke", "id",
	    o->pos[0]), NULL, done);
}

static int
c_token_rotate(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req;
	int64_t t;
	int r;

	if (o->grace != NULL && o->old_expires != NULL)
		return ctl_error("VALIDATION", "give --grace or --old-expires, "
		    "not both");
	if (o->old_expires != NULL && parse_time(o->old_expires, &t) != 0)
		return ctl_error("VALIDATION", "--old-expires '%s': expected "
		    "Unix seconds or RFC 3339 (2026-01-31T12:00:00Z)",
		    o->old_expires);
	if ((req = json_pack("{s:s, s:s}", "op", "token.rotate", "id",
	    o->pos[0])) == NULL)
		return nomem();
	if ((r = put_duration(req, "grace", "grace", o->grace)) != 0 ||
	    (r = put_duration(req, "ttl", "ttl", o->ttl)) != 0 ||
	    (o->old_expires != NULL &&
	    (r = put_int(req, "old_expires", (uint64_t)t)) != 0)) {
		json_decref(req);
		return r;
	}
	return call(c, req, print_minted, NULL);
}

/* The token to verify comes from stdin, never from argv: argv is public
 * to every local user (ps, /proc). */
static int
read_stdin_token(char *buf, size_t cap)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), echo_off = 0;
	size_t n = 0;
	ssize_t k;
	char ch;

	if (tty) {
		fputs("Token: ", stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	/* one line, byte by byte: nothing past it is consumed */
	while ((k = read(STDIN_FILENO, &ch, 1)) == 1 || (k < 0 && errno == EINTR)) {
		if (k < 0)
			continue;
		if (ch == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = ch;
	}
	if (echo_off) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	ch = 0;
	return (int)n;
}

static int
c_token_verify(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	char tok[1024];
	json_t *req, *reply;
	const char *line, *reason;
	int r;

	if (o->services.n > 1 || o->froms.n > 1)
		return ctl_error("VALIDATION", "token verify takes one --service "
		    "and one --from");
	read_stdin_token(tok, sizeof(tok));
	req = json_pack("{s:s, s:s, s:s}", "op", "token.verify", "account",
	    o->pos[0], "token", tok);
	sat_wipe(tok, sizeof(tok));
	if (req == NULL)
		return nomem();
	if ((o->services.n == 1 &&
	    (r = put_str(req, "service", o->services.v[0])) != 0) ||
	    (o->froms.n == 1 && (r = put_str(req, "from", o->froms.v[0])) != 0)) {
		json_decref(req);
		return r;
	}
	r = ctl_call(c, req, &reply, &line);
	json_decref(req);
	if (r != 0)
		return r;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		r = ctl_reply_error(c, reply, line);
	} else {
		reason = json_string_value(json_object_get(reply, "reason"));
		if (c->json)
			fputs(line, stdout);
		else
			printf("%s\n", reason != NULL ? reason : "malformed");
		r = json_is_true(json_object_get(reply, "valid")) ? EXIT_OK :
		    EXIT_PERMISSION;
	}
	json_decref(reply);
	return r;
}

/* ---- the table ---- */

#define ACCT_USAGE "[--role viewer|contributor|admin] [--group G]... " \
	"[--owner WHO]\n                 [--description TEXT] " \
	"[--days-valid N] [--public-key FILE] [--external-id X]"

static const struct cmd cmds[] = {
	{ NULL, "whoami", 0, 0, 0, c_whoami, "whoami",
	  "Shows who satokend takes you for, and your role." },
	{ "group", "create", 1, 1, O_DESC, c_group_create,
	  "group create NAME [--description TEXT]",
	  "Creates a group of service accounts (admin)." },
	{ "group", "delete", 1, 1, 0, c_group_delete, "group delete NAME",
	  "Deletes a group; it leaves the policy and its members (admin)." },
	{ "group", "list", 0, 0, O_PAGE, c_group_list, "group list",
	  "Lists the groups." },
	{ "group", "add-member", 2, -1, 0, c_group_add_member,
	  "group add-member GROUP ACCOUNT...",
	  "Puts service accounts in a group (admin)." },
	{ "group", "remove-member", 2, -1, 0, c_group_remove_member,
	  "group remove-member GROUP ACCOUNT...",
	  "Takes service accounts out of a group (admin)." },
	{ "policy", "show", 0, 0, 0, c_policy_show, "policy show",
	  "Lists the groups whose accounts may use tokens (CAN_USE)." },
	{ "policy", "add", 1, -1, 0, c_policy_add, "policy add GROUP...",
	  "Grants token use to groups; never removes any (admin)." },
	{ "policy", "set", 0, -1, 0, c_policy_set, "policy set [GROUP...]",
	  "Makes the list exactly these groups; none means nobody (admin)." },
	{ "policy", "remove", 1, -1, 0, c_policy_remove,
	  "policy remove GROUP...",
	  "Takes groups off the list; their accounts' tokens stop at once "
	  "(admin)." },
	{ "account", "create", 1, 1, ACCT_OPTS, c_account_create,
	  "account create NAME " ACCT_USAGE,
	  "Creates a service account.  Its role is at most yours (by default\n"
	  "yours), its owner you unless an admin says --owner (a user name,\n"
	  "uid, uid:N or account:NAME).  Groups are for admins." },
	{ "account", "list", 0, 0, O_PAGE, c_account_list, "account list",
	  "Lists the service accounts." },
	{ "account", "show", 1, 1, 0, c_account_show, "account show NAME",
	  "Shows a service account, with its public key's fingerprint." },
	{ "account", "update", 1, 1, ACCT_OPTS, c_account_update,
	  "account update NAME " ACCT_USAGE,
	  "Changes the given fields (an empty --description or --external-id\n"
	  "clears it; --group replaces the groups)." },
	{ "account", "disable", 1, 1, 0, c_account_disable,
	  "account disable NAME",
	  "Disables a service account: its tokens stop working at once." },
	{ "account", "enable", 1, 1, 0, c_account_enable, "account enable NAME",
	  "Enables a service account again." },
	{ "account", "delete", 1, 1, 0, c_account_delete, "account delete NAME",
	  "Deletes a service account and all its tokens." },
	{ "token", "mint", 1, 1, O_NAME | O_TTL | O_SERVICE | O_FROM,
	  c_token_mint,
	  "token mint ACCOUNT --name NAME [--ttl DURATION] [--service SVC]...\n"
	  "                 [--from CIDR]...",
	  "Mints a token: the token alone on stdout, its details on stderr.\n"
	  "It is shown this once.  DURATION: 45s, 15m, 12h, 30d or seconds." },
	{ "token", "create", 1, 1, ACCT_OPTS | O_NAME | O_TTL | O_SERVICE |
	  O_FROM, c_token_create,
	  "token create NAME " ACCT_USAGE "\n"
	  "                 [--name TOKEN_NAME] [--ttl DURATION] "
	  "[--service SVC]... [--from CIDR]...",
	  "Creates a service account and its first token (named --name, else\n"
	  "'default') in one step; the token alone on stdout." },
	{ "token", "list", 0, 1, O_PAGE, c_token_list, "token list [ACCOUNT]",
	  "Lists tokens (never their secrets), live, expired and revoked." },
	{ "token", "show", 1, 1, 0, c_token_show, "token show ID",
	  "Shows one token's metadata." },
	{ "token", "revoke", 1, 1, 0, c_token_revoke, "token revoke ID",
	  "Revokes a token at once (revoking it again is fine)." },
	{ "token", "rotate", 1, 1, O_GRACE | O_OLDEXP | O_TTL, c_token_rotate,
	  "token rotate ID [--grace DURATION | --old-expires TIME] "
	  "[--ttl DURATION]",
	  "Issues a new token with the same name and scope; the old one ends\n"
	  "now, after --grace, or at --old-expires (Unix seconds or RFC 3339).\n"
	  "The new token alone on stdout." },
	{ "token", "verify", 1, 1, O_SERVICE | O_FROM, c_token_verify,
	  "token verify ACCOUNT [--service SVC] [--from ADDR]",
	  "Reads a token from stdin and checks it as a login of ACCOUNT would:\n"
	  "prints ok (exit 0) or the reason it is refused (exit 3)." },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
cmd_help(FILE *f, const struct cmd *cmd)
{
	fprintf(f, "usage: satokenctl [--socket PATH] [--json] "
	    "[--token-file FILE]\n         %s\n\n%s\n", cmd->usage, cmd->help);
}

void
ctl_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: satokenctl [--socket PATH] [--json] "
	    "[--token-file FILE] COMMAND\n\n"
	    "  --socket PATH      satokend's socket (default: the socket key "
	    "of\n"
	    "                     $SATOKEN_CONF or " SAT_CONF_DEFAULT ")\n"
	    "  --json             print the daemon's JSON reply\n"
	    "  --token-file FILE  act as the service account whose token FILE "
	    "holds\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %s\n", cmds[i].usage);
	fprintf(f, "\n'satokenctl COMMAND --help' explains one command.  Exit "
	    "codes: 0 ok, 1 unavailable,\n2 validation, 3 permission denied, "
	    "4 not found, 5 conflict, 6 quota, 7 throttled.\n");
}

static void
group_usage(FILE *f, const char *group)
{
	size_t i;

	fprintf(f, "usage:\n");
	for (i = 0; i < NCMDS; i++)
		if (cmds[i].group != NULL && strcmp(cmds[i].group, group) == 0)
			fprintf(f, "  satokenctl %s\n", cmds[i].usage);
}

static const struct {
	const char *name;
	unsigned bit;
	int has_arg;
	int val;
} all_opts[] = {
	{ "role", O_ROLE, 1, 'r' }, { "group", O_GROUP, 1, 'g' },
	{ "owner", O_OWNER, 1, 'o' }, { "description", O_DESC, 1, 'd' },
	{ "days-valid", O_DAYS, 1, 'D' }, { "public-key", O_PUBKEY, 1, 'k' },
	{ "external-id", O_EXTID, 1, 'x' }, { "name", O_NAME, 1, 'n' },
	{ "ttl", O_TTL, 1, 't' }, { "service", O_SERVICE, 1, 's' },
	{ "from", O_FROM, 1, 'f' }, { "grace", O_GRACE, 1, 'G' },
	{ "old-expires", O_OLDEXP, 1, 'E' }, { "limit", O_PAGE, 1, 'l' },
	{ "cursor", O_PAGE, 1, 'C' },
	/* every command also takes the global ones */
	{ "json", 0, 0, 'j' }, { "socket", 0, 1, 'S' },
	{ "token-file", 0, 1, 'T' }, { "help", 0, 0, 'h' },
};
#define NOPTS (sizeof(all_opts) / sizeof(all_opts[0]))

static int
parse_opts(struct ctl *c, const struct cmd *cmd, int argc, char **argv,
    struct opts *o, int *ret_help)
{
	struct option lo[NOPTS + 1];
	size_t i, n = 0;
	int ch, r = 0;

	for (i = 0; i < NOPTS; i++) {
		if (all_opts[i].bit != 0 && !(cmd->opts & all_opts[i].bit))
			continue;
		lo[n].name = all_opts[i].name;
		lo[n].has_arg = all_opts[i].has_arg ? required_argument :
		    no_argument;
		lo[n].flag = NULL;
		lo[n].val = all_opts[i].val;
		n++;
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	opterr = 0;
	optind = 0;	/* GNU: start over with this argv */
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1 &&
	    r == 0) {
		switch (ch) {
		case 'r': o->role = optarg; break;
		case 'g': r = strlist_add_unique(&o->groups, optarg); break;
		case 'o': o->owner = optarg; break;
		case 'd': o->description = optarg; break;
		case 'D': o->days_valid = optarg; break;
		case 'k': o->public_key = optarg; break;
		case 'x': o->external_id = optarg; break;
		case 'n': o->name = optarg; break;
		case 't': o->ttl = optarg; break;
		case 's': r = strlist_add_unique(&o->services, optarg); break;
		case 'f': r = strlist_add_unique(&o->froms, optarg); break;
		case 'G': o->grace = optarg; break;
		case 'E': o->old_expires = optarg; break;
		case 'l': o->limit = optarg; break;
		case 'C': o->cursor = optarg; break;
		case 'j': c->json = 1; break;
		case 'S': c->socket = optarg; break;
		case 'T': c->token_file = optarg; break;
		case 'h': *ret_help = 1; break;
		case ':':
			return ctl_error("VALIDATION", "%s needs a value "
			    "(satokenctl %s --help)", argv[optind - 1],
			    cmd->usage);
		default:
			return ctl_error("VALIDATION", "unknown option %s for "
			    "'%s%s%s' (see --help)", argv[optind - 1],
			    cmd->group != NULL ? cmd->group : "",
			    cmd->group != NULL ? " " : "", cmd->name);
		}
	}
	if (r != 0)
		return nomem();
	o->pos = argv + optind;
	o->npos = argc - optind;
	return 0;
}

int
ctl_run(struct ctl *c, int argc, char **argv)
{
	const struct cmd *cmd = NULL;
	struct opts o;
	size_t i;
	int help = 0, known_group = 0, r, skip;

	for (i = 0; i < NCMDS && cmd == NULL; i++) {
		if (cmds[i].group == NULL) {
			if (strcmp(cmds[i].name, argv[0]) == 0)
				cmd = &cmds[i];
		} else if (strcmp(cmds[i].group, argv[0]) == 0) {
			known_group = 1;
			if (argc > 1 && strcmp(cmds[i].name, argv[1]) == 0)
				cmd = &cmds[i];
		}
	}
	if (cmd == NULL && known_group) {
		if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			group_usage(stdout, argv[0]);
			return 0;
		}
		group_usage(stderr, argv[0]);
		return ctl_error("VALIDATION", argc > 1 ? "unknown command "
		    "'%s %s'" : "'%s' needs a command", argv[0],
		    argc > 1 ? argv[1] : "");
	}
	if (cmd == NULL) {
		if (strcmp(argv[0], "help") == 0) {
			ctl_usage(stdout);
			return 0;
		}
		return ctl_error("VALIDATION", "unknown command '%s' (satokenctl "
		    "--help lists them)", argv[0]);
	}
	memset(&o, 0, sizeof(o));
	/* getopt wants argv[0] to be a name: hand it the command word */
	skip = cmd->group != NULL ? 1 : 0;
	r = parse_opts(c, cmd, argc - skip, argv + skip, &o, &help);
	if (r == 0 && help) {
		cmd_help(stdout, cmd);
	} else if (r == 0 && (o.npos < cmd->min_pos ||
	    (cmd->max_pos >= 0 && o.npos > cmd->max_pos))) {
		fprintf(stderr, "usage: satokenctl %s\n", cmd->usage);
		r = ctl_error("VALIDATION", "wrong number of arguments");
	} else if (r == 0) {
		r = cmd->run(c, cmd, &o);
	}
	strlist_free(&o.groups);
	strlist_free(&o.services);
	strlist_free(&o.froms);
	return r;
}
