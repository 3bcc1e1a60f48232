# The newcomer's path, tested: make demo's script as an unprivileged user,
# make install/uninstall into a temporary DESTDIR, the man pages (man
# --warnings, and every option, key and exit code), the etc/ samples
# (satoken.conf, systemd units, sysusers/tmpfiles, SASL app configs),
# the bash completion, the fail2ban filter over real audit lines, and
# README's wiring recipes run as written against Debian's sshd, Postfix
# and slapd (t_recipes, as root, in private namespaces).
#   check-newcomer      every group (about three minutes)
NEWCOMER_DIR := tests/integration/newcomer

# tools/tools.mk is read after this file: name its helper by path here
.PHONY: check-newcomer
check-newcomer: $(SATOKEND) $(SATOKENCTL) $(PAM_MODULE) $(SASL_PLUGIN) \
		$(B)/tools/sasl-login
	@echo "== newcomer: make demo, make install, man pages, etc/ samples"
	@env B=$(B) MAKE="$(MAKE)" SANITIZE=$(SANITIZE) \
		DEMO_PRELOAD="$(DEMO_PRELOAD)" bash $(NEWCOMER_DIR)/run.sh

CHECK_TARGETS += check-newcomer
