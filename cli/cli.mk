# satokenctl, satokend's socket client.  It shares daemon/jsonmem.c (jansson's
# allocations wiped) with the daemon.
SATOKENCTL_SRC := cli/main.c cli/call.c cli/run.c cli/commands.c cli/request.c \
	cli/print.c cli/scan.c cli/self.c cli/fleet.c daemon/jsonmem.c

SATOKENCTL := $(B)/cli/satokenctl

$(B)/cli/%.o: SAT_CPPFLAGS += -Idaemon

$(SATOKENCTL): $(SATOKENCTL_SRC:%.c=$(B)/%.o) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $(filter %.o,$^) \
		$(LIBCOMMON) -ljansson $(COMMON_LIBS)

PROGRAMS += $(SATOKENCTL)

.PHONY: install-cli uninstall-cli
# its man page, man/satokenctl.1, is installed with the others (man/man.mk)
install-cli: $(SATOKENCTL)
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(SATOKENCTL) $(DESTDIR)$(BINDIR)/satokenctl

uninstall-cli:
	rm -f $(DESTDIR)$(BINDIR)/satokenctl

INSTALL_TARGETS += install-cli
UNINSTALL_TARGETS += uninstall-cli
