# Tests of the SASL plugin (sasl/): its wire formats alone (test_bearer),
# the plugin in the real libsasl2, server and client in one process
# (test_sasl_server, test_sasl_client, over harness.c), then
# saslpluginviewer, a real slapd + ldapwhoami and a real Postfix smtpd +
# curl (run.sh).
SASL_TDIR      := tests/integration/sasl
SASL_T_BEARER  := $(B)/$(SASL_TDIR)/test_bearer
SASL_T_INPROC  := $(B)/$(SASL_TDIR)/test_sasl_server $(B)/$(SASL_TDIR)/test_sasl_client
SASL_T_ENV      = SATFIX=$(abspath $(SATFIX)) SAT_PLUGIN_DIR=$(abspath $(B)/sasl)

$(B)/$(SASL_TDIR)/%.o: ALL_CFLAGS += -Isasl

$(SASL_T_BEARER): $(B)/$(SASL_TDIR)/test_bearer.o $(B)/sasl/bearer.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lcmocka $(COMMON_LIBS)

$(B)/$(SASL_TDIR)/test_sasl_%: $(B)/$(SASL_TDIR)/test_sasl_%.o \
		$(B)/$(SASL_TDIR)/harness.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lcmocka -lsasl2 -ldl \
		$(COMMON_LIBS)

.PHONY: sasl-check
sasl-check: $(SASL_PLUGIN) $(SASL_T_BEARER) $(SASL_T_INPROC) $(SATFIX) \
		$(SATOKEND) $(SATOKENCTL)
	$(SASL_T_BEARER)
	@set -e; for t in $(SASL_T_INPROC); do echo "== $$t"; \
		$(SASL_T_ENV) $$t; done
	$(SASL_T_ENV) SATOKEND=$(abspath $(SATOKEND)) \
		SATOKENCTL=$(abspath $(SATOKENCTL)) \
		SANITIZE=$(SANITIZE) CC="$(CC)" bash $(SASL_TDIR)/run.sh

CHECK_TARGETS += sasl-check
