# cmocka unit tests: tests/unit/test_<file>.c, one per common/<file>.c,
# and one for the daemon's reader of what the directory sends.
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:%.c=$(B)/%)
UNIT_LIBS := -lcmocka $(COMMON_LIBS)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< $(TEST_OBJS_$*) $(LIBCOMMON) $(UNIT_LIBS) $(TEST_LIBS_$*)

# some tests compare against zlib's crc32
TEST_LIBS_test_crc := -lz
TEST_LIBS_test_token := -lz
TEST_OBJS_test_ldapattr := $(B)/daemon/ldapattr.o
TEST_LIBS_test_ldapattr := -lldap -llber
$(B)/tests/unit/test_ldapattr: $(TEST_OBJS_test_ldapattr)

.PHONY: unit
unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
		echo "== $$t"; \
		TMPDIR=$${TMPDIR:-/tmp} $$t || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "unit: FAILED"; exit 1; fi

CHECK_TARGETS += unit

# The modules link the store's reader, never its writer (store_impl.h).
.PHONY: unit-nm
unit-nm: $(PAM_MODULE) $(SASL_PLUGIN)
	sh tests/unit/t_nm.sh $(PAM_MODULE) $(SASL_PLUGIN)

CHECK_TARGETS += unit-nm
