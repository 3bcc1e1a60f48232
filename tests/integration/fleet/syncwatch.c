/* syncwatch: daemon/syncrepl.c against a real slapd, its events as lines.
 *
 *   syncwatch URI BINDDN PWFILE BASE COOKIEFILE
 *
 * Binds (simple) as BINDDN with the password in PWFILE, resumes from the
 * cookie in COOKIEFILE (empty or missing: a full refresh) and prints one
 * line per event, flushed: "entry add|modify|present DN", "delete UUID DN",
 * "idset present|delete N UUID...", "refresh-done present|delete", and at
 * the end "ended" or "refresh-required" (exit 3).  Every new cookie is
 * written to COOKIEFILE (through a rename) before the next line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../daemon/syncrepl.h"

static const char *cookie_path;

static void
hex(const struct berval *b)
{
	for (ber_len_t i = 0; i < b->bv_len; i++)
		printf("%02x", (unsigned char)b->bv_val[i]);
}

static int
on_entry(void *arg, int state, const struct berval *uuid, LDAP *ld,
    LDAPMessage *e)
{
	char *dn = ldap_get_dn(ld, e);

	printf("entry %s %s\n", state == LDAP_SYNC_ADD ? "add" :
	    state == LDAP_SYNC_MODIFY ? "modify" : "present", dn ? dn : "?");
	ldap_memfree(dn);
	fflush(stdout);
	return 0;
}

static int
on_deleted(void *arg, const struct berval *uuid, const char *dn)
{
	printf("delete ");
	hex(uuid);
	printf(" %s\n", dn ? dn : "-");
	fflush(stdout);
	return 0;
}

static int
on_idset(void *arg, int deletes, BerVarray uuids)
{
	int n = 0;

	while (uuids[n].bv_val != NULL)
		n++;
	printf("idset %s %d", deletes ? "delete" : "present", n);
	for (int i = 0; i < n; i++) {
		putchar(' ');
		hex(&uuids[i]);
	}
	putchar('\n');
	fflush(stdout);
	return 0;
}

static int
on_cookie(void *arg, const struct berval *c)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", cookie_path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fwrite(c->bv_val, 1, c->bv_len, f);
	if (fclose(f) != 0 || rename(tmp, cookie_path) != 0)
		return -1;
	return 0;
}

static int
on_refresh_done(void *arg, int present)
{
	printf("refresh-done %s\n", present ? "present" : "delete");
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct sync_handler h = {
		.entry = on_entry, .deleted = on_deleted, .idset = on_idset,
		.cookie = on_cookie, .refresh_done = on_refresh_done,
	};
	char pw[256], ck[4096];
	struct berval cred, cookie = { 0, NULL };
	enum sync_state state;
	LDAP *ld;
	FILE *f;
	size_t n;
	int v = LDAP_VERSION3, msgid, r;

	if (argc != 6) {
		fprintf(stderr, "usage: syncwatch URI BINDDN PWFILE BASE COOKIEFILE\n");
		return 2;
	}
	cookie_path = argv[5];
	if ((f = fopen(argv[3], "r")) == NULL)
		return 2;
	n = fread(pw, 1, sizeof(pw), f);
	fclose(f);
	cred.bv_val = pw;
	cred.bv_len = n;
	if ((f = fopen(cookie_path, "r")) != NULL) {
		cookie.bv_len = fread(ck, 1, sizeof(ck), f);
		cookie.bv_val = ck;
		fclose(f);
	}
	if (ldap_initialize(&ld, argv[1]) != LDAP_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v) != LDAP_OPT_SUCCESS ||
	    ldap_sasl_bind_s(ld, argv[2], LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL) != LDAP_SUCCESS) {
		fprintf(stderr, "syncwatch: cannot bind to %s\n", argv[1]);
		return 1;
	}
	if (syncrepl_start(ld, argv[4], "(objectClass=*)", &cookie, &msgid) != 0) {
		fprintf(stderr, "syncwatch: cannot start the search\n");
		return 1;
	}
	for (;;) {
		r = syncrepl_step(ld, msgid, 1000, &h, NULL, &state);
		if (r != 0) {
			printf("error %d\n", r);
			return 1;
		}
		if (state == SYNC_ENDED) {
			printf("ended\n");
			return 0;
		}
		if (state == SYNC_REFRESH_REQUIRED) {
			printf("refresh-required\n");
			return 3;
		}
	}
}
