# Freshness with the reader warm: revoke / disable / policy change over
# the socket, then at once a login through pam_satoken.so and through
# the SASL plugin, both kept loaded in one process; never a stale yes.
FRESH := $(B)/tests/fresh/fresh

$(FRESH): $(B)/tests/fresh/fresh.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< -lpam -lsasl2

.PHONY: check-fresh
check-fresh: $(FRESH) $(SATOKEND) $(SATOKENCTL) $(PAM_MODULE) $(SASL_PLUGIN)
	@echo "== fresh: acknowledged changes refuse the very next login"
	@env B=$(B) bash tests/fresh/fresh.sh

CHECK_TARGETS += check-fresh
