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

$(SYNCWATCH): $(B)/$(FLEETT_DIR)/syncwatch.o $(B)/daemon/syncrepl.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ $(LDAP_LIBS)

.PHONY: check-fleet
check-fleet: $(SYNCWATCH)
	@echo "== fleet: the directory side (slapd with etc/ldap/)"
	@env SYNCWATCH=$(SYNCWATCH) bash $(FLEETT_DIR)/run.sh

CHECK_TARGETS += check-fleet
