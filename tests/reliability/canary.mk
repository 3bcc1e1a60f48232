# Canaries at debug level through the modules, into syslog and cores
# (tests/reliability/t_canary.sh): its own target, since it re-executes
# itself in a private mount namespace to catch /dev/log.
#   check-canary   part of make check
CANARY_LOGIN := $(B)/tests/reliability/canary_login

$(CANARY_LOGIN): $(B)/tests/reliability/canary_login.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIBCOMMON) -lpam -lsasl2 $(COMMON_LIBS)

.PHONY: check-canary
check-canary: $(SATOKEND) $(SATOKENCTL) $(RAWSOCK) $(PAM_MODULE) \
		$(SASL_PLUGIN) $(CANARY_LOGIN)
	@echo "== canaries: debug output, syslog and cores"
	@env B=$(B) ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 PAMT_PRELOAD="$(PAMT_PRELOAD)" \
		bash tests/reliability/run.sh t_canary

CHECK_TARGETS += check-canary
