# Power cuts (issue 22): satokend under load is recorded (rec.so), every
# state a power cut could leave at every point of that trace is built
# (crashmodel.py) and checked through the real recovery and the real
# verification decision (crashchk).
#   check-crash    the quick form (a few hundred states; part of make check)
#   stress-crash   the full form (at least 10,000 states; part of make stress)
CRASH_DIR := tests/crash
CRASH_B   := $(B)/$(CRASH_DIR)
CRASH_ENV := B=$(B) ASAN_OPTIONS=abort_on_error=0:detect_leaks=1
CRASH_DEPS = $(SATOKEND) $(CRASH_B)/crashchk $(CRASH_B)/rec.so \
	$(CRASH_B)/satokend-nosync

.PHONY: check-crash stress-crash
check-crash: $(CRASH_DEPS)
	@echo "== crash: power-cut states of satokend's write trace"
	@env $(CRASH_ENV) bash $(CRASH_DIR)/run.sh quick

stress-crash: $(CRASH_DEPS)
	@env $(CRASH_ENV) bash $(CRASH_DIR)/run.sh full

CHECK_TARGETS += check-crash
stress: stress-crash

$(CRASH_B)/crashchk: $(CRASH_B)/crashchk.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIBCOMMON) $(COMMON_LIBS)

# Built without the sanitizers, as dfault.so: it sits under the daemon.
$(CRASH_B)/rec.so: $(CRASH_DIR)/rec.c
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SAN_FLAGS) -fvisibility=hidden,$(ALL_CFLAGS)) \
		$(filter-out $(SAN_FLAGS),$(ALL_LDFLAGS)) $(SO_LDFLAGS) \
		-o $@ $< -ldl -lpthread

# The daemon without the journal batch's fdatasync: the checker must
# catch it.  Its journal.o comes first, so the archive's is not linked.
$(CRASH_B)/journal-nosync.o: common/journal.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DSATOKEN_TEST_NO_BATCH_SYNC -c -o $@ $<

$(CRASH_B)/satokend-nosync: $(CRASH_B)/journal-nosync.o \
		$(SATOKEND_SRC:%.c=$(B)/%.o) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $(filter %.o,$^) \
		$(LIBCOMMON) $(DAEMON_LIBS) $(COMMON_LIBS)
