# PAM module tests: pam_satoken.so through the real Linux-PAM library.
#   check-pam           cmocka + libpamtest under pam_wrapper (every reason,
#                       the stacks, the store failing, arguments, sessions)
PAMT_DIR    := tests/integration/pam
PAMT_B      := $(B)/$(PAMT_DIR)
PAM_MATRIX  := $(or $(shell $(PKG_CONFIG) --variable=modules pam_wrapper 2>/dev/null),/usr/lib/x86_64-linux-gnu/pam_wrapper)/pam_matrix.so
# A sanitized harness runs with the ASan runtime first in the preload list,
# ahead of pam_wrapper; a plain one needs nothing more.
ifeq ($(SANITIZE),1)
PAMT_PRELOAD := $(shell $(CC) -print-file-name=libasan.so) libpam_wrapper.so
PAMT_SANENV  := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/$(PAMT_DIR)/lsan.supp:print_suppressions=0
else
PAMT_PRELOAD := libpam_wrapper.so
PAMT_SANENV  :=
endif

PAMT_FIXTURE := $(PAMT_B)/fixture.o

$(PAMT_B)/test_pam: $(PAMT_B)/test_pam.o $(PAMT_FIXTURE) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lcmocka -lpamtest -lpam -ldl $(COMMON_LIBS)

.PHONY: check-pam
check-pam: $(PAMT_B)/test_pam $(PAM_MODULE) $(SATFIX)
	@echo "== pam: pam_satoken.so through libpam (pam_wrapper + libpamtest)"
	@env $(PAMT_SANENV) SATFIX=$(CURDIR)/$(SATFIX) \
		PAM_MODULE=$(CURDIR)/$(PAM_MODULE) PAM_MATRIX=$(PAM_MATRIX) \
		PAMT_PRELOAD="$(PAMT_PRELOAD)" $(PAMT_B)/test_pam

CHECK_TARGETS += check-pam
