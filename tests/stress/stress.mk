# Concurrency under ThreadSanitizer: the PAM module and the SASL plugin
# from 64 threads of one process (tests/stress/threads.sh).  make check
# runs a short form; make stress the long one.
THREADS_ITERS ?= 12
STRESS_THREADS_ITERS ?= 1250
TSAN_B := build-tsan

$(B)/tests/stress/threads: $(B)/tests/stress/threads.o
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $< -lpam -lsasl2 -lpthread

.PHONY: tsan-build check-threads stress-threads stress
tsan-build:
	@$(MAKE) --no-print-directory SANITIZE=thread B=$(TSAN_B) \
		$(TSAN_B)/tests/stress/threads $(TSAN_B)/pam/pam_satoken.so \
		$(TSAN_B)/sasl/libsatoken.so $(TSAN_B)/tests/fixture/satfix

check-threads: tsan-build
	@echo "== threads: 64 threads through PAM and SASL under ThreadSanitizer"
	@tests/stress/threads.sh $(TSAN_B) 64 $(THREADS_ITERS)

stress-threads: tsan-build
	@tests/stress/threads.sh $(TSAN_B) 64 $(STRESS_THREADS_ITERS)

# the SIGKILL test with 1000 kills (tests/integration/daemon) and the
# long reliability forms (tests/reliability) join here
stress: stress-threads stress-daemon

# the ASan pass of make check does not need a second TSan run
ifneq ($(SANITIZE),1)
CHECK_TARGETS += check-threads
endif
CLEAN_FILES += $(TSAN_B)
