# The Cyrus SASL plugin: libsatoken.so (OAUTHBEARER and XOAUTH2 server
# mechanisms, OAUTHBEARER client).  It calls libsasl2 only through the
# utils table libsasl2 hands it, so it links no libsasl2 of its own.
SASL_SRC := sasl/bearer.c sasl/prompt.c sasl/server.c sasl/oauthbearer.c \
	sasl/xoauth2.c sasl/plugin.c
SASL_OBJ := $(SASL_SRC:%.c=$(B)/%.o)
SASL_PLUGIN := $(B)/sasl/libsatoken.so

$(SASL_PLUGIN): $(SASL_OBJ) $(LIBCOMMON) sasl/libsatoken.map
	$(CC) $(ALL_LDFLAGS) $(SO_LDFLAGS) -Wl,-z,nodelete -Wl,-soname,libsatoken.so \
		-Wl,--version-script=sasl/libsatoken.map \
		-o $@ $(SASL_OBJ) $(LIBCOMMON) $(COMMON_LIBS)

MODULES += $(SASL_PLUGIN)

.PHONY: install-sasl uninstall-sasl
# its man page, man/satoken-sasl.8, is installed with the others (man/man.mk)
install-sasl: $(SASL_PLUGIN)
	$(INSTALL) -d $(DESTDIR)$(SASLDIR)
	$(INSTALL) -m 0644 $(SASL_PLUGIN) $(DESTDIR)$(SASLDIR)/libsatoken.so

uninstall-sasl:
	rm -f $(DESTDIR)$(SASLDIR)/libsatoken.so

INSTALL_TARGETS += install-sasl
UNINSTALL_TARGETS += uninstall-sasl
