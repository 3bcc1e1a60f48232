# The fleet's directory side, driven for real: Debian's slapd loaded with
# etc/ldap/'s schema and sample configs (provider, hub, two providers),
# private instances on loopback, the sample access rules tried as each
# kind of identity.  No root needed.
#   check-fleet         every group (about half a minute)
FLEETT_DIR := tests/integration/fleet

.PHONY: check-fleet
check-fleet:
	@echo "== fleet: the directory side (slapd with etc/ldap/)"
	@bash $(FLEETT_DIR)/run.sh

CHECK_TARGETS += check-fleet
