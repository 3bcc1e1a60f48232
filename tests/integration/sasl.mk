# Tests of the SASL plugin (sasl/): its wire formats alone, the plugin in
# the real libsasl2 (server and client in one process), then
# saslpluginviewer and a real slapd + ldapwhoami (run.sh).
SASL_TDIR      := tests/integration/sasl
SASL_T_BEARER  := $(B)/$(SASL_TDIR)/test_bearer
SASL_T_INPROC  := $(B)/$(SASL_TDIR)/test_sasl

$(B)/$(SASL_TDIR)/%.o: ALL_CFLAGS += -Isasl

$(SASL_T_BEARER): $(B)/$(SASL_TDIR)/test_bearer.o $(B)/sasl/bearer.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lcmocka $(COMMON_LIBS)

$(SASL_T_INPROC): $(B)/$(SASL_TDIR)/test_sasl.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lcmocka -lsasl2 -ldl \
		$(COMMON_LIBS)

.PHONY: sasl-check
sasl-check: $(SASL_PLUGIN) $(SASL_T_BEARER) $(SASL_T_INPROC) $(SATFIX)
	$(SASL_T_BEARER)
	SATFIX=$(abspath $(SATFIX)) SAT_PLUGIN_DIR=$(abspath $(B)/sasl) \
		$(SASL_T_INPROC)
	SATFIX=$(abspath $(SATFIX)) SAT_PLUGIN_DIR=$(abspath $(B)/sasl) \
		SANITIZE=$(SANITIZE) CC="$(CC)" bash $(SASL_TDIR)/run.sh

CHECK_TARGETS += sasl-check
