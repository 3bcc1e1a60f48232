#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "num.h"
#include "principal.h"

#define NSS_BUF		16384
#define GROUPS_MAX	1024

int
principal_peer_creds(int fd, uid_t *ret_uid, gid_t *ret_gid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    len != sizeof(cr))
		return SAT_E_IO;
	*ret_uid = cr.uid;
	*ret_gid = cr.gid;
	return 0;
}

static int
user_listed(const struct strlist *users, const char *name, uid_t uid)
{
	char num[32];

	snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
	return strlist_contains(users, num) ||
	    (name != NULL && strlist_contains(users, name));
}

/* 1 if any of the user's groups (primary and supplementary) is in l. */
static int
in_groups(const struct strlist *l, const gid_t *gids, int ngids)
{
	struct group gr, *res;
	char *buf;
	int i, hit = 0;

	if (l->n == 0 || (buf = malloc(NSS_BUF)) == NULL)
		return 0;
	for (i = 0; i < ngids && !hit; i++) {
		if (getgrgid_r(gids[i], &gr, buf, NSS_BUF, &res) == 0 &&
		    res != NULL && strlist_contains(l, gr.gr_name))
			hit = 1;
	}
	free(buf);
	return hit;
}

int
principal_from_uid(const struct sat_config *cfg, uid_t uid, gid_t gid,
    struct principal *ret)
{
	struct passwd pw, *res = NULL;
	gid_t gids[GROUPS_MAX];
	int ngids = 1;
	char *buf;
	const char *name = NULL;

	memset(ret, 0, sizeof(*ret));
	ret->uid = uid;
	ret->gid = gid;
	gids[0] = gid;
	if ((buf = malloc(NSS_BUF)) == NULL)
		return SAT_E_NOMEM;
	if (getpwuid_r(uid, &pw, buf, NSS_BUF, &res) == 0 && res != NULL) {
		name = pw.pw_name;
		ngids = GROUPS_MAX;
		/* a user in more groups than we look at keeps the first ones */
		if (getgrouplist(name, gid, gids, &ngids) < 0)
			ngids = GROUPS_MAX;
	}
	snprintf(ret->id, sizeof(ret->id), "uid:%lu", (unsigned long)uid);
	if (name != NULL && valid_text(name, 64))
		snprintf(ret->display, sizeof(ret->display), "%s(%s)", ret->id,
		    name);
	else
		snprintf(ret->display, sizeof(ret->display), "%s", ret->id);
	memcpy(ret->owner_ref, ret->id, sizeof(ret->owner_ref));

	if (uid == 0 || user_listed(&cfg->admin_users, name, uid) ||
	    in_groups(&cfg->admin_groups, gids, ngids))
		ret->role = ROLE_ADMIN;
	else if (in_groups(&cfg->contributor_groups, gids, ngids))
		ret->role = ROLE_CONTRIBUTOR;
	else
		ret->role = ROLE_VIEWER;
	free(buf);
	return 0;
}

int
principal_from_token(struct store *s, const char *token, size_t len,
    int64_t now, uid_t uid, gid_t gid, struct principal *ret,
    enum verify_reason *ret_reason)
{
	struct verify_request vr;
	struct verify_result res;
	struct sat_account a;
	int r;

	memset(&vr, 0, sizeof(vr));
	vr.token = token;
	vr.token_len = len;
	vr.service = "satokend";
	vr.now = now;
	if ((r = verify_token(s, &vr, &res)) != 0)
		return SAT_E_STORE;
	*ret_reason = res.reason;
	if (res.reason != VERIFY_OK)
		return SAT_E_PERM;
	memset(&a, 0, sizeof(a));
	if ((r = store_get_account(s, res.account, &a)) != 0)
		return r == SAT_E_NOTFOUND ? SAT_E_PERM : r;
	principal_of_account(&a, uid, gid, ret);
	record_free_account(&a);
	return 0;
}

void
principal_of_account(const struct sat_account *a, uid_t uid, gid_t gid,
    struct principal *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->id, sizeof(ret->id), "account:%s", a->name);
	snprintf(ret->display, sizeof(ret->display), "%s", ret->id);
	principal_account_ref(a->name, a->serial, ret->owner_ref,
	    sizeof(ret->owner_ref));
	ret->role = role_valid(a->role) ? (enum sat_role)a->role : ROLE_VIEWER;
	ret->is_account = 1;
	ret->uid = uid;
	ret->gid = gid;
}

int
principal_resolve_owner(const char *who, char *out, size_t cap)
{
	struct passwd pw, *res = NULL;
	uint64_t u;
	char *buf;
	int n;

	if (who == NULL || who[0] == '\0')
		return SAT_E_INVALID;
	if (strncmp(who, "uid:", 4) == 0) {
		if (parse_u64(who + 4, 0, UINT32_MAX - 1, &u) != 0)
			return SAT_E_INVALID;
		n = snprintf(out, cap, "uid:%llu", (unsigned long long)u);
	} else if (parse_u64(who, 0, UINT32_MAX - 1, &u) == 0) {
		n = snprintf(out, cap, "uid:%llu", (unsigned long long)u);
	} else {
		if (!valid_name(who) && !valid_text(who, 64))
			return SAT_E_INVALID;
		if ((buf = malloc(NSS_BUF)) == NULL)
			return SAT_E_NOMEM;
		if (getpwnam_r(who, &pw, buf, NSS_BUF, &res) != 0 || res == NULL) {
			free(buf);
			return SAT_E_NOTFOUND;
		}
		n = snprintf(out, cap, "uid:%lu", (unsigned long)pw.pw_uid);
		free(buf);
		return n > 0 && (size_t)n < cap ? 0 : SAT_E_INVALID;
	}
	if (n <= 0 || (size_t)n >= cap)
		return SAT_E_INVALID;
	/* a uid nobody has: an owner that does not exist */
	return principal_uid_role(NULL, (uid_t)u) == ROLE_NONE ?
	    SAT_E_NOTFOUND : 0;
}

enum sat_role
principal_uid_role(const struct sat_config *cfg, uid_t uid)
{
	struct passwd pw, *res = NULL;
	struct principal p;
	char *buf;
	gid_t gid;

	if ((buf = malloc(NSS_BUF)) == NULL)
		return ROLE_NONE;
	if (getpwuid_r(uid, &pw, buf, NSS_BUF, &res) != 0 || res == NULL) {
		free(buf);
		return ROLE_NONE;
	}
	gid = pw.pw_gid;
	free(buf);
	if (cfg == NULL)
		return ROLE_VIEWER;	/* known; the role was not asked */
	if (principal_from_uid(cfg, uid, gid, &p) != 0)
		return ROLE_NONE;
	return p.role;
}

void
principal_account_ref(const char *name, uint64_t serial, char *out,
    size_t cap)
{
	if (serial == 0)
		snprintf(out, cap, "account:%s", name);
	else
		snprintf(out, cap, "account:%s#%016llx", name,
		    (unsigned long long)serial);
}
