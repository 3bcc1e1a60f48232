# satokend (the store's only writer); satokenctl is cli/cli.mk's.
SATOKEND_SRC := daemon/satokend.c daemon/loop.c daemon/conn.c \
	daemon/request.c daemon/proto.c daemon/principal.c daemon/ratelimit.c \
	daemon/names.c daemon/ops.c daemon/ops_account.c daemon/ops_group.c \
	daemon/ops_token.c daemon/ops_backup.c daemon/pubkey.c daemon/purge.c daemon/jsonmem.c \
	daemon/usage.c daemon/expiry.c daemon/metrics.c \
	daemon/canaryd.c daemon/bindpid.c daemon/ops_self.c \
	daemon/follower.c daemon/syncrepl.c daemon/ops_fleet.c daemon/unixsock.c \
	daemon/ldapconn.c daemon/ldapattr.c daemon/control.c daemon/hostsread.c

SATOKEND   := $(B)/daemon/satokend
# libldap and liblber: satokend's follower
DAEMON_LIBS := -ljansson -lldap -llber

$(SATOKEND): $(SATOKEND_SRC:%.c=$(B)/%.o) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $(filter %.o,$^) \
		$(LIBCOMMON) $(DAEMON_LIBS) $(COMMON_LIBS)

PROGRAMS += $(SATOKEND)

.PHONY: install-daemon uninstall-daemon
# its man page, man/satokend.8, is installed with the others (man/man.mk)
install-daemon: $(SATOKEND)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0755 $(SATOKEND) $(DESTDIR)$(SBINDIR)/satokend

uninstall-daemon:
	rm -f $(DESTDIR)$(SBINDIR)/satokend

INSTALL_TARGETS += install-daemon
UNINSTALL_TARGETS += uninstall-daemon
