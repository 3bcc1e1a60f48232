# Reliability and security (issue 8): planted files, secrets, timing,
# crashes, a full disk, an audit sink that fails, and load, against the
# real satokend and store.
#   check-reliability   the short forms (part of make check)
#   stress-reliability  the long forms (part of make stress)
RELT_DIR := tests/reliability
RELT_B   := $(B)/$(RELT_DIR)
RELT_DEPS = $(SATOKEND) $(SATOKENCTL) $(RAWSOCK) $(STOREREAD) $(SATFIX) \
	$(RELT_B)/timing
RELT_ENV := B=$(B) ASAN_OPTIONS=abort_on_error=0:detect_leaks=1
RELT_GROUPS := t_files t_timing t_secrets t_fulldisk t_auditsink

.PHONY: check-reliability stress-reliability
check-reliability: $(RELT_DEPS)
	@echo "== reliability: files, secrets, timing, crashes, full disk, load"
	@env $(RELT_ENV) bash $(RELT_DIR)/run.sh $(RELT_GROUPS)

stress-reliability: $(RELT_DEPS)
	@env $(RELT_ENV) RELT_LONG=1 bash $(RELT_DIR)/run.sh $(RELT_GROUPS)

CHECK_TARGETS += check-reliability
stress: stress-reliability

$(RELT_B)/timing: $(RELT_B)/timing.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIBCOMMON) $(COMMON_LIBS)

# load and idle: the drivers of t_load and t_idle (64 busy clients;
# 10,000 idle connections, a dribbler and a client that is timed)
RELT_GROUPS += t_load t_idle
check-reliability stress-reliability: $(RELT_B)/load $(RELT_B)/idle
$(RELT_B)/load: $(RELT_B)/load.o $(RELT_B)/drive.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBCOMMON) \
		-ljansson -lpthread
$(RELT_B)/idle: $(RELT_B)/idle.o $(RELT_B)/drive.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^

# dfault.so: the LD_PRELOAD shim t_daemonfault puts under satokend.  Built
# without the sanitizers (it is the allocator the daemon sees first, and
# passes every call on to ASan's), whatever the daemon is built with.
DFAULT_SO := $(RELT_B)/dfault.so
$(DFAULT_SO): $(RELT_DIR)/dfault.c
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SAN_FLAGS) -fvisibility=hidden,$(ALL_CFLAGS)) \
		$(filter-out $(SAN_FLAGS),$(ALL_LDFLAGS)) $(SO_LDFLAGS) \
		-o $@ $< -lgdbm

# t_daemonfault: the real satokend with dfault.so under it (about a
# minute; RELT_LONG=1 visits every fault point)
RELT_GROUPS += t_daemonfault
check-reliability stress-reliability: $(DFAULT_SO)
