/* satokenctl: the commands of DESIGN.md and the one request each sends. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup.h"
#include "ctl.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"

static int
c_whoami(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return ctl_send(c, req_new("whoami"), print_whoami, NULL);
}

static int
c_status(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return ctl_send(c, req_new("status"), print_status, NULL);
}

/* One chunk of the backup reply into w, checked against what came so
 * far.  Returns 0 or the exit code. */
static int
backup_chunk(json_t *reply, struct wbuf *w, json_int_t *size)
{
	const char *data = json_string_value(json_object_get(reply, "data"));
	json_int_t sz = json_integer_value(json_object_get(reply, "size"));
	json_int_t off = json_integer_value(json_object_get(reply, "offset"));
	size_t dlen, n;
	unsigned char *raw;
	int k;

	if (data == NULL || sz <= 0 || (*size != 0 && sz != *size) ||
	    off != (json_int_t)w->len || (dlen = strlen(data)) % 4 != 0 ||
	    dlen > 8u * 1024 * 1024)
		return ctl_error("INTERNAL", "malformed backup reply");
	*size = sz;
	if ((raw = malloc(dlen / 4 * 3 + 1)) == NULL)
		return ctl_nomem();
	k = EVP_DecodeBlock(raw, (const unsigned char *)data, (int)dlen);
	n = k < 0 ? 0 : (size_t)k;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (dlen > 0 && data[dlen - 1] == '=')
		n--;
	if (dlen > 1 && data[dlen - 2] == '=')
		n--;
	if (k < 0 || w->len + n > (size_t)sz) {
		sat_freezero(raw, dlen / 4 * 3 + 1);
		return ctl_error("INTERNAL", "malformed backup reply");
	}
	wbuf_put_bytes(w, raw, n);
	sat_freezero(raw, dlen / 4 * 3 + 1);
	return wbuf_status(w) == 0 ? 0 : ctl_nomem();
}

struct backup_chunks {
	struct wbuf *w;
	json_int_t *size;
};

static int
backup_page(void *arg, json_t *reply, const char *line)
{
	struct backup_chunks *bc = arg;

	return backup_chunk(reply, bc->w, bc->size);
}

/* The file is the caller's own, made here with O_EXCL and mode 0600
 * before anything is asked: satokend streams the copy and never opens a
 * path on anyone's behalf.  It is removed again on any failure. */
static int
c_backup(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	const char *file = o->pos[0];
	char err[256];
	struct wbuf w;
	struct backup_chunks bc;
	json_t *req = NULL;
	json_int_t size = 0;
	uint64_t records = 0;
	int fd, r;

	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd < 0)
		return ctl_error("VALIDATION", "%s: %s%s", file, strerror(errno),
		    errno == EEXIST ? " (not overwritten; name a new file)" : "");
	wbuf_init(&w);
	if (fchmod(fd, 0600) != 0) {
		r = ctl_error("UNAVAILABLE", "%s: %s", file, strerror(errno));
		goto out;
	}
	if ((req = req_new("backup")) == NULL) {
		r = ctl_nomem();
		goto out;
	}
	bc.w = &w;
	bc.size = &size;
	if ((r = ctl_pages(c, req, backup_page, &bc, NULL)) != 0)
		goto out;
	if (w.len != (size_t)size ||
	    backup_check(w.p, w.len, &records, NULL, err, sizeof(err)) != 0) {
		r = ctl_error("INTERNAL", "the backup received does not check "
		    "out: %s", w.len != (size_t)size ? "truncated" : err);
		goto out;
	}
	if (fileio_write_all(fd, w.p, w.len) != 0 || fsync(fd) != 0) {
		r = ctl_error("UNAVAILABLE", "%s: %s", file, strerror(errno));
		goto out;
	}
	if (c->json) {
		json_t *j = json_pack("{s:b, s:s, s:I, s:I}", "ok", 1, "file",
		    file, "size", (json_int_t)w.len, "records",
		    (json_int_t)records);
		char *js = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

		if (js != NULL)
			printf("%s\n", js);
		free(js);
		json_decref(j);
	} else
		printf("backup written to %s: %llu records, %zu bytes, mode "
		    "0600 (it holds the HMAC key: keep it as you keep the "
		    "store)\n", file, (unsigned long long)records, w.len);
	r = 0;
out:
	if (close(fd) != 0 && r == 0)
		r = ctl_error("UNAVAILABLE", "%s: %s", file, strerror(errno));
	if (r != 0)
		(void)unlink(file);
	wbuf_free(&w);
	json_decref(req);
	return r;
}

/* Whether a destructive command will ask (ctl_confirm): the current
 * policy is fetched only then, so scripts pay no extra request. */
static int
asks(const struct opts *o)
{
	return !o->yes && isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

/* The groups on the policy now, for a question; 0 or the exit code. */
static int
current_policy(struct ctl *c, struct strlist *ret)
{
	json_t *reply = NULL, *g;
	const char *line;
	size_t i;
	int r;

	strlist_init(ret);
	if ((r = ctl_ask(c, req_new("policy.show"), &reply, &line)) != 0)
		return r;
	json_array_foreach(json_object_get(reply, "groups"), i, g) {
		if (json_is_string(g) &&
		    strlist_add_unique(ret, json_string_value(g)) != 0) {
			json_decref(reply);
			strlist_free(ret);
			return ctl_nomem();
		}
	}
	json_decref(reply);
	return 0;
}

static int
c_group_create(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "group.create", "name",
	    o->pos[0]);
	char done[160];

	snprintf(done, sizeof(done), "created group %.64s", o->pos[0]);
	if (req != NULL && req_str(req, "description", o->description) != 0)
		return EXIT_UNAVAILABLE;
	return ctl_send(c, req, NULL, done);
}

static int
c_group_delete(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	char done[160];

	struct strlist pol;
	char q[256];
	size_t i;
	int r, on = 0;

	if (asks(o)) {
		if ((r = current_policy(c, &pol)) != 0)
			return r;
		for (i = 0; i < pol.n; i++)
			on |= strcmp(pol.v[i], o->pos[0]) == 0;
		strlist_free(&pol);
		snprintf(q, sizeof(q), "Group %.64s is on the token-usage "
		    "policy: deleting it stops its accounts' tokens at once "
		    "(unless another of their groups is on it).", o->pos[0]);
		if (on && (r = ctl_confirm(o, q)) != 0)
			return r;
	}
	snprintf(done, sizeof(done), "deleted group %.64s", o->pos[0]);
	return ctl_send(c, json_pack("{s:s, s:s}", "op", "group.delete", "name",
	    o->pos[0]), NULL, done);
}

static int
c_group_list(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return ctl_list(c, req_new("group.list"), o, print_groups);
}

/* Positional arguments from index from on, as a list. */
static int
pos_list(const struct opts *o, int from, struct strlist *ret)
{
	int i;

	strlist_init(ret);
	for (i = from; i < o->npos; i++)
		if (strlist_add_unique(ret, o->pos[i]) != 0)
			return ctl_nomem();
	return 0;
}

/* Sends req (consumed) with the positional arguments from first on as
 * its array field key; an ok reply goes to print. */
static int
send_pos_list(struct ctl *c, struct opts *o, int first, json_t *req,
    const char *key, void (*print)(json_t *))
{
	struct strlist l;
	int r;

	if ((r = pos_list(o, first, &l)) == 0 && req != NULL &&
	    req_list(req, key, &l) != 0)
		r = EXIT_UNAVAILABLE;
	strlist_free(&l);
	if (r != 0) {
		json_decref(req);
		return r;
	}
	return ctl_send(c, req, print, NULL);
}

static int
members(struct ctl *c, struct opts *o, const char *op)
{
	/* say which accounts changed: "added 3" of three already members
	 * was a lie */
	return send_pos_list(c, o, 1, json_pack("{s:s, s:s}", "op", op,
	    "group", o->pos[0]), "accounts", print_membership);
}

static int
c_group_add_member(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return members(c, o, "group.add-member");
}

static int
c_group_remove_member(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return members(c, o, "group.remove-member");
}

static int
c_policy_show(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return ctl_send(c, req_new("policy.show"), print_policy, NULL);
}

static int
policy_edit(struct ctl *c, struct opts *o, const char *op)
{
	return send_pos_list(c, o, 0, req_new(op), "groups", print_policy);
}

static int
c_policy_add(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return policy_edit(c, o, "policy.add");
}

static int
c_policy_set(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	struct strlist pol;
	char q[512];
	size_t i, n = 0, len = 0;
	int j, r, kept;

	if (asks(o)) {
		if ((r = current_policy(c, &pol)) != 0)
			return r;
		q[0] = '\0';
		for (i = 0; i < pol.n; i++) {
			for (kept = 0, j = 0; j < o->npos; j++)
				kept |= strcmp(pol.v[i], o->pos[j]) == 0;
			if (kept)
				continue;
			if (len < sizeof(q) - 1)
				len += (size_t)snprintf(q + len, sizeof(q) - len,
				    "%s%.64s", n > 0 ? ", " : "", pol.v[i]);
			n++;
		}
		strlist_free(&pol);
		if (n > 0) {
			char full[700];

			snprintf(full, sizeof(full), "This takes %zu group%s off "
			    "the token-usage policy (%s): %s accounts' tokens "
			    "stop working at once.%s", n, n == 1 ? "" : "s", q,
			    n == 1 ? "its" : "their", o->npos == 0 ?
			    "  With no group named, nobody may use tokens." : "");
			if ((r = ctl_confirm(o, full)) != 0)
				return r;
		}
	}
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
		return ctl_nomem();
	if ((r = req_account_opts(req, o)) != 0) {
		json_decref(req);
		return r;
	}
	snprintf(done, sizeof(done), "%s service account %.64s", verb,
	    o->pos[0]);
	return ctl_send(c, req, NULL, done);
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
	return ctl_list(c, req_new("account.list"), o, print_accounts);
}

static int
c_account_show(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return ctl_send(c, json_pack("{s:s, s:s}", "op", "account.show", "name",
	    o->pos[0]), print_account, NULL);
}

static int
account_simple(struct ctl *c, struct opts *o, const char *op, const char *verb)
{
	char done[160];

	snprintf(done, sizeof(done), "%s service account %.64s", verb,
	    o->pos[0]);
	return ctl_send(c, json_pack("{s:s, s:s}", "op", op, "name", o->pos[0]),
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
	char q[200];
	int r;

	snprintf(q, sizeof(q), "Delete service account %.64s and all its "
	    "tokens?  They stop working at once; this cannot be undone.",
	    o->pos[0]);
	if ((r = ctl_confirm(o, q)) != 0)
		return r;
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
		return ctl_nomem();
	if ((r = req_mint_opts(req, o)) != 0 ||
	    (r = req_str(req, "description", o->description)) != 0 ||
	    (r = req_duration(req, "max_offline", "max-offline",
	    o->max_offline)) != 0 ||
	    (r = req_workload_opts(req, o)) != 0 ||
	    (r = ctl_self_sign(c, req, o)) != 0) {
		json_decref(req);
		return r;
	}
	return ctl_send_minted(c, req, o);
}

static int
c_token_create(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "token.create", "account",
	    o->pos[0]);
	int r;

	if (req == NULL)
		return ctl_nomem();
	if ((r = req_str(req, "name", o->name)) != 0 ||
	    (r = req_account_opts(req, o)) != 0 ||
	    (r = req_mint_opts(req, o)) != 0) {
		json_decref(req);
		return r;
	}
	return ctl_send_minted(c, req, o);
}

/* token list's filters, each as the daemon's field of that name */
static int
req_token_filters(json_t *req, const struct opts *o)
{
	int r;

	if (o->services.n > 1 || o->groups.n > 1)
		return ctl_error("VALIDATION", "token list takes one --service "
		    "and one --group");
	if ((r = req_str(req, "status", o->status)) != 0 ||
	    (r = req_duration(req, "expiring", "expiring", o->expiring)) != 0 ||
	    (r = req_duration(req, "unused_for", "unused-for",
	    o->unused_for)) != 0 ||
	    (r = req_str(req, "owner", o->owner)) != 0 ||
	    (o->services.n == 1 &&
	    (r = req_str(req, "service", o->services.v[0])) != 0) ||
	    (o->groups.n == 1 && (r = req_str(req, "group", o->groups.v[0])) != 0))
		return r;
	return 0;
}

static int
c_token_list(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	json_t *req = req_new("token.list");
	int r;

	if (req == NULL)
		return ctl_nomem();
	if ((o->npos == 1 && (r = req_str(req, "account", o->pos[0])) != 0) ||
	    (r = req_token_filters(req, o)) != 0) {
		json_decref(req);
		return r;
	}
	return ctl_list(c, req, o, print_tokens);
}

static int
c_token_show(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return ctl_send(c, json_pack("{s:s, s:s}", "op", "token.show", "id",
	    o->pos[0]), print_token, NULL);
}

static int
c_token_revoke(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	char done[160];

	snprintf(done, sizeof(done), "revoked token %.64s", o->pos[0]);
	return ctl_send(c, json_pack("{s:s, s:s}", "op", "token.revoke", "id",
	    o->pos[0]), NULL, done);
}

static int
token_state(struct ctl *c, struct opts *o, const char *op, const char *what)
{
	char done[160];

	snprintf(done, sizeof(done), "%s token %.64s", what, o->pos[0]);
	return ctl_send(c, json_pack("{s:s, s:s}", "op", op, "id", o->pos[0]),
	    NULL, done);
}

static int
c_token_disable(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return token_state(c, o, "token.disable", "disabled");
}

static int
c_token_enable(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	return token_state(c, o, "token.enable", "enabled");
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
		return ctl_nomem();
	if ((r = req_duration(req, "grace", "grace", o->grace)) != 0 ||
	    (r = req_duration(req, "ttl", "ttl", o->ttl)) != 0 ||
	    (o->old_expires != NULL &&
	    (r = req_int(req, "old_expires", (uint64_t)t)) != 0) ||
	    (r = ctl_self_sign(c, req, o)) != 0) {
		json_decref(req);
		return r;
	}
	return ctl_send_minted(c, req, o);
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
	ctl_read_secret(tok, sizeof(tok));
	req = json_pack("{s:s, s:s, s:s}", "op", "token.verify", "account",
	    o->pos[0], "token", tok);
	sat_wipe(tok, sizeof(tok));
	if (req == NULL)
		return ctl_nomem();
	if ((o->services.n == 1 &&
	    (r = req_str(req, "service", o->services.v[0])) != 0) ||
	    (o->froms.n == 1 && (r = req_str(req, "from", o->froms.v[0])) != 0)) {
		json_decref(req);
		return r;
	}
	if ((r = ctl_ask(c, req, &reply, &line)) != 0)
		return r;
	reason = json_string_value(json_object_get(reply, "reason"));
	if (c->json)
		fputs(line, stdout);
	else
		printf("%s\n", reason != NULL ? reason : "malformed");
	r = json_is_true(json_object_get(reply, "valid")) ? EXIT_OK :
	    EXIT_PERMISSION;
	json_decref(reply);
	return r;
}

#define ACCT_USAGE "[--role viewer|contributor|admin] [--group G]... " \
	"[--owner WHO]\n                 [--description TEXT] " \
	"[--days-valid N] [--public-key FILE] [--external-id X]"

const struct cmd ctl_cmds[] = {
	{ NULL, "whoami", 0, 0, 0, c_whoami, "whoami",
	  "Shows who satokend takes you for, and your role." },
	{ NULL, "status", 0, 0, 0, c_status, "status",
	  "Shows satokend's version, store size, accounts, tokens by state\n"
	  "(as of the last pass, at most a minute old), the last commit's\n"
	  "latency and the last hour's logins by outcome and reason." },
	{ NULL, "scan", 0, -1, O_REVOKE, c_scan, "scan [--revoke] [PATH...]",
	  "Finds every token in the files (directories recursively, stdin\n"
	  "when no path) by its checksum, with no daemon needed, and prints\n"
	  "FILE:LINE: ID ACCOUNT STATE, the state from satokend when it\n"
	  "answers.  --revoke revokes the active ones the caller may manage\n"
	  "(audited action=token.leaked with the file).  Exit 3 when a token\n"
	  "found is still active or its state cannot be known; 0 when every\n"
	  "one is revoked (now or before) or expired." },
	{ "fleet", "status", 0, 0, 0, c_fleet_status, "fleet status",
	  "Lists the fleet's hosts as the directory reports them: how far\n"
	  "each is behind the newest change any has applied (LAG) and its\n"
	  "last contact with the directory.  A fleet host only." },
	{ NULL, "backup", 1, 1, 0, c_backup, "backup FILE",
	  "Writes a consistent copy of the store, HMAC key included, to FILE\n"
	  "(a new file, mode 0600) while satokend runs (admin).  satokend\n"
	  "--restore FILE puts it back." },
	{ "group", "create", 1, 1, O_DESC | O_WAIT, c_group_create,
	  "group create NAME [--description TEXT]",
	  "Creates a group of service accounts (admin)." },
	{ "group", "delete", 1, 1, O_YES | O_WAIT, c_group_delete,
	  "group delete NAME [--yes]",
	  "Deletes a group; it leaves the policy and its members (admin).\n"
	  "On a terminal it asks first if the group is on the policy." },
	{ "group", "list", 0, 0, O_PAGE, c_group_list, "group list",
	  "Lists the groups." },
	{ "group", "add-member", 2, -1, O_WAIT, c_group_add_member,
	  "group add-member GROUP ACCOUNT...",
	  "Puts service accounts in a group (admin)." },
	{ "group", "remove-member", 2, -1, O_WAIT, c_group_remove_member,
	  "group remove-member GROUP ACCOUNT...",
	  "Takes service accounts out of a group (admin)." },
	{ "policy", "show", 0, 0, 0, c_policy_show, "policy show",
	  "Lists the groups whose accounts may use tokens (CAN_USE)." },
	{ "policy", "add", 1, -1, O_WAIT, c_policy_add, "policy add GROUP...",
	  "Grants token use to groups; never removes any (admin)." },
	{ "policy", "set", 0, -1, O_YES | O_WAIT, c_policy_set,
	  "policy set [GROUP...] [--yes]",
	  "Makes the list exactly these groups; none means nobody (admin).\n"
	  "On a terminal it asks first if that takes groups off the list." },
	{ "policy", "remove", 1, -1, O_WAIT, c_policy_remove,
	  "policy remove GROUP...",
	  "Takes groups off the list; their accounts' tokens stop at once "
	  "(admin)." },
	{ "account", "create", 1, 1, ACCT_OPTS | O_WAIT, c_account_create,
	  "account create NAME " ACCT_USAGE,
	  "Creates a service account.  Its role is at most yours (by default\n"
	  "yours), its owner you unless an admin says --owner (a user name,\n"
	  "uid, uid:N or account:NAME).  Groups are for admins." },
	{ "account", "list", 0, 0, O_PAGE, c_account_list, "account list",
	  "Lists the service accounts." },
	{ "account", "show", 1, 1, 0, c_account_show, "account show NAME",
	  "Shows a service account, with its public key's fingerprint." },
	{ "account", "update", 1, 1, ACCT_OPTS | O_WAIT, c_account_update,
	  "account update NAME " ACCT_USAGE,
	  "Changes the given fields (an empty --description or --external-id\n"
	  "clears it; --group replaces the groups)." },
	{ "account", "disable", 1, 1, O_WAIT, c_account_disable,
	  "account disable NAME",
	  "Disables a service account: its tokens stop working at once." },
	{ "account", "enable", 1, 1, O_WAIT, c_account_enable, "account enable NAME",
	  "Enables a service account again." },
	{ "account", "delete", 1, 1, O_YES | O_WAIT, c_account_delete,
	  "account delete NAME [--yes]",
	  "Deletes a service account and all its tokens.  On a terminal it\n"
	  "asks first; --yes (or no terminal) does not." },
	{ "token", "mint", 1, 1, O_NAME | O_TTL | O_SERVICE | O_FROM | O_OUTPUT |
	  O_DESC | O_CANARY | O_BINDPID | O_SELF | O_MAXOFF | O_WAIT, c_token_mint,
	  "token mint ACCOUNT --name NAME [--ttl DURATION] [--service SVC]...\n"
	  "                 [--from CIDR]... [--output FILE] "
	  "[--description TEXT]\n"
	  "                 [--canary] [--bind-pid PID] [--self --key PRIVATE.pem]\n"
	  "                 [--max-offline DURATION]",
	  "Mints a token: the token alone on stdout, its details on stderr.\n"
	  "It is shown this once.  DURATION: 45s, 1h30m, 2w3d or seconds.\n"
	  "--output FILE writes it to a new file instead (mode 0600, no\n"
	  "newline; an existing file is refused and nothing is minted).\n"
	  "--canary: a token that never authenticates; its use is an alert.\n"
	  "--bind-pid PID: revoked when that process exits.\n"
	  "--max-offline DURATION: a fleet host refuses it (store_stale) once\n"
	  "its last contact with the directory is older than that.\n"
	  "--self --key: as the account itself, signed with its private key." },
	{ "token", "create", 1, 1, ACCT_OPTS | O_NAME | O_TTL | O_SERVICE |
	  O_FROM | O_OUTPUT | O_WAIT, c_token_create,
	  "token create NAME " ACCT_USAGE "\n"
	  "                 [--name TOKEN_NAME] [--ttl DURATION] "
	  "[--service SVC]... [--from CIDR]...\n"
	  "                 [--output FILE]",
	  "Creates a service account and its first token (named --name, else\n"
	  "'default') in one step; the token alone on stdout." },
	{ "token", "list", 0, 1, O_PAGE | O_FILTER | O_SERVICE | O_OWNER |
	  O_GROUP, c_token_list,
	  "token list [ACCOUNT] [--status active|revoked|expired|disabled]\n"
	  "                 [--expiring DURATION] [--unused-for DURATION]\n"
	  "                 [--service SVC] [--owner WHO] [--group G]",
	  "Lists tokens (never their secrets), soonest expiry first.  Filters:\n"
	  "--expiring: active and ending within DURATION; --unused-for: no\n"
	  "login seen for DURATION (or never); --service: usable for SVC." },
	{ "token", "show", 1, 1, 0, c_token_show, "token show ID",
	  "Shows one token's metadata." },
	{ "token", "revoke", 1, 1, O_WAIT, c_token_revoke, "token revoke ID",
	  "Revokes a token at once (revoking it again is fine)." },
	{ "token", "disable", 1, 1, O_WAIT, c_token_disable, "token disable ID",
	  "Stops a token until it is enabled again (logins: token_disabled)." },
	{ "token", "enable", 1, 1, O_WAIT, c_token_enable, "token enable ID",
	  "Lets a disabled token authenticate again." },
	{ "token", "rotate", 1, 1, O_GRACE | O_OLDEXP | O_TTL | O_OUTPUT |
	  O_SELF | O_WAIT,
	  c_token_rotate,
	  "token rotate ID [--grace DURATION | --old-expires TIME] "
	  "[--ttl DURATION]\n"
	  "                 [--output FILE] [--self --key PRIVATE.pem]",
	  "Issues a new token with the same name and scope; the old one ends\n"
	  "now, after --grace, or at --old-expires (Unix seconds or RFC 3339).\n"
	  "The new token alone on stdout.  --self --key: the account rotates\n"
	  "its own token, signing a challenge with its private key." },
	{ "token", "verify", 1, 1, O_SERVICE | O_FROM, c_token_verify,
	  "token verify ACCOUNT [--service SVC] [--from ADDR]",
	  "Reads a token from stdin and checks it as a login of ACCOUNT would:\n"
	  "prints ok (exit 0) or the reason it is refused (exit 3)." },
};
const size_t ctl_ncmds = sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);

