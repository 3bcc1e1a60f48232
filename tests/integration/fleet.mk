# The fleet's directory side, driven for real: Debian's slapd loaded with
# etc/ldap/'s schema and sample configs (provider, hub, two providers),
# private instances on loopback, the sample access rules tried as each
# kind of identity.  No root needed.
# syncwatch drives daemon/syncrepl.c, the follower's RFC 4533 client,
# against the sample provider.
#   check-fleet         every group (about a minute)
FLEETT_DIR := tests/integration/fleet
SYNCWATCH  := $(B)/$(FLEETT_DIR)/syncwatch
LDAP_LIBS  := -lldap -llber

$(SYNCWATCH): $(B)/$(FLEETT_DIR)/syncwatch.o $(B)/daemon/syncrepl.o \
		$(B)/daemon/ldapattr.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ $(COMMON_LIBS) $(LDAP_LIBS)

FLEETTOK   := $(B)/$(FLEETT_DIR)/fleettok

$(FLEETTOK): $(B)/$(FLEETT_DIR)/fleettok.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ $(COMMON_LIBS)

# t_follower: a provider and two satokend followers, logins through the
# real PAM module (pamtester under pam_wrapper) on each
.PHONY: check-fleet
check-fleet: $(SYNCWATCH) $(FLEETTOK) $(SATOKEND) $(SATOKENCTL) $(PAM_MODULE) \
		$(SATFIX)
	@echo "== fleet: the directory side (slapd with etc/ldap/) and followers"
	@env SYNCWATCH=$(SYNCWATCH) FLEETTOK=$(CURDIR)/$(FLEETTOK) \
		SATFIX=$(CURDIR)/$(SATFIX) \
		SATOKEND=$(CURDIR)/$(SATOKEND) SATOKENCTL=$(CURDIR)/$(SATOKENCTL) \
		PAM_MODULE=$(CURDIR)/$(PAM_MODULE) PAMT_PRELOAD="$(PAMT_PRELOAD)" \
		bash $(FLEETT_DIR)/run.sh

CHECK_TARGETS += check-fleet
