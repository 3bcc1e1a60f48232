# pam_satoken.so: the PAM module (a thin adapter over common/login.c).
PAM_SRC    := pam/pam_satoken.c pam/args.c
PAM_OBJ    := $(PAM_SRC:%.c=$(B)/%.o)
PAM_MODULE := $(B)/pam/pam_satoken.so
PAM_MAP    := pam/pam_satoken.map
PAM_LIBS   := -lpam

# -z nodelete: libpam dlcloses its modules at every pam_end; staying
# mapped spares each login the loading and unloading of libcrypto and
# libgdbm (about half its cost) and keeps the resident read view alive.
MODULE_LDFLAGS := -Wl,-z,nodelete

$(PAM_MODULE): $(PAM_OBJ) $(LIBCOMMON) $(PAM_MAP)
	$(CC) $(ALL_LDFLAGS) $(SO_LDFLAGS) $(MODULE_LDFLAGS) -Wl,--version-script=$(PAM_MAP) \
		-o $@ $(PAM_OBJ) $(LIBCOMMON) $(COMMON_LIBS) $(PAM_LIBS)

MODULES += $(PAM_MODULE)

.PHONY: install-pam uninstall-pam
# its man page, man/pam_satoken.8, is installed with the others (man/man.mk)
install-pam: $(PAM_MODULE)
	$(INSTALL) -d $(DESTDIR)$(PAMDIR)
	$(INSTALL) -m 0644 $(PAM_MODULE) $(DESTDIR)$(PAMDIR)/pam_satoken.so

uninstall-pam:
	rm -f $(DESTDIR)$(PAMDIR)/pam_satoken.so

# libpam fails a whole stack that names a module it cannot load ("Module
# is unknown"): removing pam_satoken.so while a PAM service still names
# it would lock people out of their password logins too.  So uninstall
# refuses, before removing anything (every uninstall target waits for
# this one), and lists the lines; FORCE=1 removes the module anyway.  A
# line whose type starts with "-" is skipped by libpam when its module is
# missing, and a comment names nothing.
PAMCONFDIR ?= /etc/pam.d
.PHONY: uninstall-pam-check
uninstall-pam-check:
	@refs=$$(grep -sHnE '^[[:space:]]*[A-Za-z].*pam_satoken\.so' \
		$(DESTDIR)$(PAMCONFDIR)/* $(DESTDIR)/etc/pam.conf); \
	[ -z "$$refs" ] && exit 0; \
	echo "these PAM lines name pam_satoken.so:" >&2; \
	printf '%s\n' "$$refs" | sed 's/^/  /' >&2; \
	if [ "$(FORCE)" = 1 ]; then \
		echo "FORCE=1: removing it anyway; those services now fail every login" >&2; \
	else \
		echo "remove them first (README, sshd): without the module libpam fails those services for everybody; FORCE=1 uninstalls anyway" >&2; \
		exit 1; \
	fi

UNINSTALL_CHECKS += uninstall-pam-check

INSTALL_TARGETS += install-pam
UNINSTALL_TARGETS += uninstall-pam
