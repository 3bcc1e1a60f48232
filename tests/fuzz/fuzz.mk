# libFuzzer targets, built with clang under ASan+UBSan in build-fuzz/.
#   make fuzz              each target for FUZZ_SECONDS (or FUZZ_RUNS execs)
#   make fuzz-replay       every seed once (part of make check)
#   make fuzz-seeds        regenerate the committed seeds from the codecs
# Parsers outside common/ join by adding to FUZZ_TARGETS and naming their
# objects in FUZZ_EXTRA_<name> and libraries in FUZZ_LIBS_<name>.
FUZZ_CC      ?= clang
FB           := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   = $(SAT_CPPFLAGS) -std=c11 -g -O1 -Wall -Wextra -Werror \
	-Wno-unused-parameter -fno-omit-frame-pointer $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= -1
FUZZ_TARGETS += token record config bearer request
FUZZ_EXTRA_bearer := $(FB)/sasl/bearer.o
# proto_parse looks ops up in the op table, which links the handlers
FUZZ_EXTRA_request := $(addprefix $(FB)/daemon/,proto.o jsonmem.o ops.o \
	ops_account.o ops_group.o ops_token.o ops_backup.o names.o pubkey.o \
	principal.o metrics.o bindpid.o ops_self.o ops_fleet.o control.o \
	ldapconn.o ldapattr.o hostsread.o)
FUZZ_LIBS_request := -ljansson -lldap -llber
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FB)/fuzz_%)

$(FB)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FB)/libcommon.a: $(COMMON_SRC:%.c=$(FB)/%.o)
	$(AR) rcs $@ $^

.SECONDEXPANSION:
$(FB)/fuzz_%: $(FB)/tests/fuzz/fuzz_%.o $$(FUZZ_EXTRA_$$*) $(FB)/libcommon.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(COMMON_LIBS) $(FUZZ_LIBS_$*)

.PHONY: fuzz fuzz-replay fuzz-seeds
fuzz-replay: $(FUZZ_BINS)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		if $(FB)/fuzz_$$t tests/fuzz/corpus/$$t/* >$(FB)/replay-$$t.log 2>&1; then \
			echo "fuzz-replay $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) seeds, ok"; \
		else echo "fuzz-replay $$t: FAILED"; cat $(FB)/replay-$$t.log; fail=1; fi; \
	done; exit $$fail

fuzz: $(FUZZ_BINS)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FB)/corpus/$$t; \
		$(FB)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) \
			-print_final_stats=1 $(FB)/corpus/$$t tests/fuzz/corpus/$$t \
			>$(FB)/fuzz-$$t.log 2>&1 || fail=1; \
		printf '%-10s %s\n' $$t "$$(grep -E '^(Done|stat::number_of_executed_units)' $(FB)/fuzz-$$t.log | tr '\n' ' ')"; \
		grep -E 'ERROR|Assertion|runtime error' $(FB)/fuzz-$$t.log | head -5; \
	done; exit $$fail

fuzz-seeds: $(B)/tests/fuzz/seedgen
	$(B)/tests/fuzz/seedgen tests/fuzz/corpus

$(B)/tests/fuzz/seedgen: $(B)/tests/fuzz/seedgen.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIBCOMMON) $(COMMON_LIBS)

CHECK_TARGETS += fuzz-replay
CLEAN_FILES += build-fuzz

-include $(shell find $(FB) -name '*.d' 2>/dev/null)
