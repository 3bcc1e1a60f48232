# The etc/ samples, installed where a sysadmin looks for them:
#   SYSCONFDIR/satoken/satoken.conf   every key commented out at its
#                                     default; an existing file is kept
#   SYSTEMDUNITDIR/satokend.service, satokend.socket (ExecStart in SBINDIR)
#   TMPFILESDIR/satoken.conf, SYSUSERSDIR/satoken.conf
#   BASHCOMPDIR/satokenctl, ZSHCOMPDIR/_satokenctl
#   DOCDIR/examples/  PAM stacks, SASL app configs, fail2ban filter and
#                     jail, satoken.conf, the directory's schema and
#                     slapd samples (ldap/): to copy and adapt, since each
#                     names a service of the sysadmin's choosing
# make uninstall removes exactly these, and satoken.conf only while it
# is the unmodified sample.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR    ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR    ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR    ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR     ?= $(DATADIR)/zsh/vendor-completions
DOCDIR         ?= $(DATADIR)/doc/satoken

ETC_EXAMPLES := satoken.conf pam.d/satoken-only pam.d/satoken-shared \
	sasl/smtpd.conf sasl/slapd.conf fail2ban/filter.d/satoken.conf \
	fail2ban/jail.d/satoken.conf ldap/satoken.schema ldap/satoken.ldif \
	ldap/base.ldif ldap/provider.conf ldap/hub.conf ldap/multi-provider.conf \
	git/pre-commit systemd/satoken-bound@.service
ETC_CONF     := $(DESTDIR)$(SYSCONFDIR)/satoken/satoken.conf
ETC_UNITS    := satokend.service satokend.socket
ETC_INSTALLED = $(ETC_UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%) \
	$(DESTDIR)$(TMPFILESDIR)/satoken.conf \
	$(DESTDIR)$(SYSUSERSDIR)/satoken.conf \
	$(DESTDIR)$(BASHCOMPDIR)/satokenctl \
	$(DESTDIR)$(ZSHCOMPDIR)/_satokenctl \
	$(ETC_EXAMPLES:%=$(DESTDIR)$(DOCDIR)/examples/%) \
	$(DESTDIR)$(DOCDIR)/README.md

.PHONY: install-etc uninstall-etc
install-etc:
	$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/satoken $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/examples/pam.d \
		$(DESTDIR)$(DOCDIR)/examples/sasl \
		$(DESTDIR)$(DOCDIR)/examples/fail2ban/filter.d \
		$(DESTDIR)$(DOCDIR)/examples/fail2ban/jail.d \
		$(DESTDIR)$(DOCDIR)/examples/ldap $(DESTDIR)$(DOCDIR)/examples/git \
		$(DESTDIR)$(DOCDIR)/examples/systemd
	@if [ -e $(ETC_CONF) ]; then \
		echo "keeping the existing $(ETC_CONF) (the sample is in $(DOCDIR)/examples)"; \
	else \
		echo "$(INSTALL) -m 0644 etc/satoken.conf $(ETC_CONF)"; \
		$(INSTALL) -m 0644 etc/satoken.conf $(ETC_CONF); \
	fi
	@set -e; for u in $(ETC_UNITS); do \
		echo "installing $(DESTDIR)$(SYSTEMDUNITDIR)/$$u (satokend in $(SBINDIR))"; \
		sed 's|/usr/sbin/satokend|$(SBINDIR)/satokend|g' etc/systemd/$$u \
			>$(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp; \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp; \
		mv $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$$u; \
	done
	$(INSTALL) -m 0644 etc/systemd/satoken.tmpfiles $(DESTDIR)$(TMPFILESDIR)/satoken.conf
	$(INSTALL) -m 0644 etc/systemd/satoken.sysusers $(DESTDIR)$(SYSUSERSDIR)/satoken.conf
	$(INSTALL) -m 0644 etc/bash-completion/satokenctl $(DESTDIR)$(BASHCOMPDIR)/satokenctl
	$(INSTALL) -m 0644 etc/zsh-completion/_satokenctl $(DESTDIR)$(ZSHCOMPDIR)/_satokenctl
	@set -e; for f in $(ETC_EXAMPLES); do \
		$(INSTALL) -m 0644 etc/$$f $(DESTDIR)$(DOCDIR)/examples/$$f; \
	done
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

uninstall-etc:
	@if [ -e $(ETC_CONF) ] && ! cmp -s etc/satoken.conf $(ETC_CONF); then \
		echo "keeping $(ETC_CONF): it differs from the sample"; \
	else \
		rm -f $(ETC_CONF); \
		rmdir $(DESTDIR)$(SYSCONFDIR)/satoken 2>/dev/null || true; \
	fi
	rm -f $(ETC_INSTALLED)
	@for d in examples/pam.d examples/sasl examples/fail2ban/filter.d \
	    examples/fail2ban/jail.d examples/fail2ban examples/ldap examples/git examples/systemd examples ""; do \
		rmdir $(DESTDIR)$(DOCDIR)/$$d 2>/dev/null || true; \
	done

INSTALL_TARGETS += install-etc
UNINSTALL_TARGETS += uninstall-etc
