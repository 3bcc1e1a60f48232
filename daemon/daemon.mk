# satokend (the store's only writer) and satokenctl (its socket client).
SATOKEND_SRC := daemon/satokend.c daemon/loop.c daemon/conn.c \
	daemon/request.c daemon/proto.c daemon/principal.c daemon/ratelimit.c \
	daemon/names.c daemon/ops.c daemon/ops_account.c daemon/ops_group.c \
	daemon/ops_token.c daemon/ops_backup.c daemon/pubkey.c daemon/purge.c daemon/jsonmem.c \
	daemon/follower.c daemon/syncrepl.c daemon/ops_fleet.c
SATOKENCTL_SRC := daemon/satokenctl.c daemon/ctl_run.c daemon/ctl_cmds.c \
	daemon/ctl_req.c daemon/ctl_print.c daemon/ctl_scan.c daemon/ctl_fleet.c \
	daemon/jsonmem.c

SATOKEND   := $(B)/daemon/satokend
SATOKENCTL := $(B)/daemon/satokenctl
# libldap and liblber: satokend's follower (--as-needed keeps them out
# of satokenctl)
DAEMON_LIBS := -ljansson -lldap -llber

$(SATOKEND): $(SATOKEND_SRC:%.c=$(B)/%.o) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $(filter %.o,$^) \
		$(LIBCOMMON) $(DAEMON_LIBS) $(COMMON_LIBS)

$(SATOKENCTL): $(SATOKENCTL_SRC:%.c=$(B)/%.o) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $(filter %.o,$^) \
		$(LIBCOMMON) $(DAEMON_LIBS) $(COMMON_LIBS)

PROGRAMS += $(SATOKEND) $(SATOKENCTL)

.PHONY: install-daemon uninstall-daemon
# their man pages, man/satokend.8 and man/satokenctl.1, are installed
# with the others (man/man.mk)
install-daemon: $(SATOKEND) $(SATOKENCTL)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(SATOKEND) $(DESTDIR)$(SBINDIR)/satokend
	$(INSTALL) -m 0755 $(SATOKENCTL) $(DESTDIR)$(BINDIR)/satokenctl

uninstall-daemon:
	rm -f $(DESTDIR)$(SBINDIR)/satokend $(DESTDIR)$(BINDIR)/satokenctl

INSTALL_TARGETS += install-daemon
UNINSTALL_TARGETS += uninstall-daemon
