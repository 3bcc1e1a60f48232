# satokend and satokenctl, driven for real: a private daemon on a temp
# socket and store, the real client, a second uid (nobody) for the role
# matrix, hostile input, limits, restarts and SIGKILLs.
#   check-daemon        every group (about a minute and a half)
#   stress-daemon       the SIGKILL test with 1000 kills
DAEMONT_DIR := tests/integration/daemon
RAWSOCK     := $(B)/$(DAEMONT_DIR)/rawsock

STOREREAD   := $(B)/$(DAEMONT_DIR)/storeread

$(RAWSOCK): $(B)/$(DAEMONT_DIR)/rawsock.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $<

$(STOREREAD): $(B)/$(DAEMONT_DIR)/storeread.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIBCOMMON) $(COMMON_LIBS)

# ASan's leak checker runs at exit; a daemon killed with SIGKILL never
# gets there, and that is the point of the test, not a leak.
DAEMONT_ENV := B=$(B) ASAN_OPTIONS=abort_on_error=0:detect_leaks=1

.PHONY: check-daemon stress-daemon
check-daemon: $(SATOKEND) $(SATOKENCTL) $(RAWSOCK) $(STOREREAD) $(SATFIX)
	@echo "== daemon: satokend and satokenctl"
	@env $(DAEMONT_ENV) bash $(DAEMONT_DIR)/run.sh

stress-daemon: $(SATOKEND) $(SATOKENCTL) $(RAWSOCK) $(STOREREAD)
	@env $(DAEMONT_ENV) KILLS=1000 bash $(DAEMONT_DIR)/run.sh t_durability

CHECK_TARGETS += check-daemon
