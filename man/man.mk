# The man pages, all here: satokenctl(1), satoken.conf(5), satokend(8),
# pam_satoken(8), satoken-sasl(8).  Each installs into the section its
# suffix names; uninstall removes exactly these.
MAN_PAGES := $(sort $(wildcard man/*.[1-8]))
MAN_INSTALLED = $(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))

.PHONY: install-man uninstall-man
install-man:
	@set -e; for p in $(MAN_PAGES); do \
		s=$${p##*.}; \
		echo "$(INSTALL) -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/"; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s; \
		$(INSTALL) -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/; \
	done

uninstall-man:
	rm -f $(MAN_INSTALLED)

INSTALL_TARGETS += install-man
UNINSTALL_TARGETS += uninstall-man
