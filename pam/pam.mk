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

INSTALL_TARGETS += install-pam
UNINSTALL_TARGETS += uninstall-pam
