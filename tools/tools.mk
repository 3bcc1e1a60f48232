# make demo: the whole story on a private satokend, as the invoking user,
# in a temporary directory (tools/demo.sh), and the one helper it needs:
# sasl-login, a libsasl2 server and OAUTHBEARER client in one process.
# tools/ensure-deps (run by the top Makefile before demo and check)
# installs or names the Debian packages.
SASL_LOGIN := $(B)/tools/sasl-login

$(SASL_LOGIN): $(B)/tools/sasl-login.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIBCOMMON) -lsasl2 \
		$(COMMON_LIBS)

PROGRAMS += $(SASL_LOGIN)

# pamtester is not ours: under SANITIZE=1 the module carries ASan, so the
# runtime goes first in pamtester's preload list, ahead of pam_wrapper.
ifeq ($(SANITIZE),1)
DEMO_PRELOAD := $(shell $(CC) -print-file-name=libasan.so) libpam_wrapper.so
else
DEMO_PRELOAD := libpam_wrapper.so
endif
DEMO_ENV = B=$(B) DEMO_PRELOAD="$(DEMO_PRELOAD)"

demo: all
	@env $(DEMO_ENV) bash tools/demo.sh

# the fleet on one machine: a provider, a control host and three followers (README "Fleet")
.PHONY: demo-fleet
demo-fleet: all
	@env $(DEMO_ENV) bash tools/demo-fleet.sh
