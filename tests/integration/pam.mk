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
		PAMT_ETC=$(CURDIR)/etc/pam.d \
		PAMT_PRELOAD="$(PAMT_PRELOAD)" $(PAMT_B)/test_pam

CHECK_TARGETS += check-pam

# pamdrive: plain libpam (pam_start_confdir), for valgrind, threads and faults
$(PAMT_B)/pamdrive: $(PAMT_B)/pamdrive.o $(PAMT_FIXTURE)
	$(CC) $(ALL_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lpam -ldl -lpthread

# A test-only build of the module whose every allocation, open, read,
# write, lock, GDBM, HMAC and libpam call can be made to fail.
PAMT_WRAPS := malloc calloc realloc open read pread write fstat flock \
	gdbm_fd_open gdbm_fetch EVP_MAC_final pam_get_user pam_get_item pam_set_item \
	pam_set_data pam_get_data pam_prompt
PAMT_FAULT_MODULE := $(PAMT_B)/pam_satoken_fault.so
$(PAMT_FAULT_MODULE): $(PAM_OBJ) $(PAMT_B)/faultshim.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) $(SO_LDFLAGS) $(PAMT_WRAPS:%=-Wl,--wrap=%) \
		-o $@ $(PAM_OBJ) $(PAMT_B)/faultshim.o $(LIBCOMMON) $(COMMON_LIBS) -lpam

PAMT_ENV = SATFIX=$(CURDIR)/$(SATFIX)

.PHONY: check-pam-fault check-pam-threads
check-pam-fault: $(PAMT_B)/pamdrive $(PAMT_FAULT_MODULE) $(PAM_MODULE) $(SATFIX)
	@echo "== pam: a failure at every wrapped call of a login refuses"
	@env $(PAMT_ENV) PAM_MODULE=$(CURDIR)/$(PAMT_FAULT_MODULE) \
		PAM_PLAIN_MODULE=$(CURDIR)/$(PAM_MODULE) \
		$(PAMT_B)/pamdrive fault

check-pam-threads: $(PAMT_B)/pamdrive $(PAM_MODULE) $(SATFIX)
	@echo "== pam: logins from 4 threads while the store is written"
	@env $(PAMT_ENV) PAM_MODULE=$(CURDIR)/$(PAM_MODULE) \
		$(PAMT_B)/pamdrive threads 60

CHECK_TARGETS += check-pam-fault check-pam-threads

# valgrind memcheck on the PAM path.  ASan and valgrind cannot share a
# process, so under SANITIZE=1 the module and the driver are built once
# more without the sanitizers, in $(PAMT_B)/vg.
ifeq ($(SANITIZE),1)
PAMT_VG      := $(PAMT_B)/vg
PAMT_VG_CFLAGS  = $(filter-out $(SAN_FLAGS),$(ALL_CFLAGS))
PAMT_VG_LDFLAGS = $(filter-out $(SAN_FLAGS),$(ALL_LDFLAGS))
$(PAMT_VG)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PAMT_VG_CFLAGS) -MMD -MP -c -o $@ $<
$(PAMT_VG)/libcommon.a: $(COMMON_SRC:%.c=$(PAMT_VG)/obj/%.o)
	$(AR) rcs $@ $^
$(PAMT_VG)/pam_satoken.so: $(PAM_SRC:%.c=$(PAMT_VG)/obj/%.o) $(PAMT_VG)/libcommon.a $(PAM_MAP)
	$(CC) $(PAMT_VG_LDFLAGS) $(SO_LDFLAGS) -Wl,--version-script=$(PAM_MAP) \
		-o $@ $(PAM_SRC:%.c=$(PAMT_VG)/obj/%.o) $(PAMT_VG)/libcommon.a $(COMMON_LIBS) $(PAM_LIBS)
$(PAMT_VG)/pamdrive: $(PAMT_VG)/obj/$(PAMT_DIR)/pamdrive.o $(PAMT_VG)/obj/$(PAMT_DIR)/fixture.o
	$(CC) $(PAMT_VG_LDFLAGS) $(PROG_LDFLAGS) -o $@ $^ -lpam -ldl -lpthread
PAMT_VG_MODULE := $(PAMT_VG)/pam_satoken.so
PAMT_VG_DRIVE  := $(PAMT_VG)/pamdrive
else
PAMT_VG_MODULE := $(PAM_MODULE)
PAMT_VG_DRIVE  := $(PAMT_B)/pamdrive
endif

PAMT_VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --keep-debuginfo=yes \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	--suppressions=$(PAMT_DIR)/valgrind.supp

.PHONY: check-pam-valgrind
check-pam-valgrind: $(PAMT_VG_DRIVE) $(PAMT_VG_MODULE) $(SATFIX)
	@echo "== pam: valgrind memcheck on the PAM path (errors, definite and indirect leaks)"
	@env $(PAMT_ENV) PAM_MODULE=$(CURDIR)/$(PAMT_VG_MODULE) \
		$(PAMT_VALGRIND) $(PAMT_VG_DRIVE) smoke
	@env $(PAMT_ENV) PAM_MODULE=$(CURDIR)/$(PAMT_VG_MODULE) \
		$(PAMT_VALGRIND) $(PAMT_VG_DRIVE) threads 5
	@env $(PAMT_ENV) PAM_MODULE=$(CURDIR)/$(PAMT_VG_MODULE) \
		$(PAMT_DIR)/helgrind.sh $(PAMT_VG_DRIVE)

CHECK_TARGETS += check-pam-valgrind

# pamtester (a real PAM application) under pam_wrapper, and the real
# service end to end: OpenSSH sshd + ssh on loopback (root only; says so
# loudly otherwise).  sshd is not built with the sanitizers, so it loads
# the plain build of the module.
.PHONY: check-pam-pamtester check-pam-sshd
PAMT_DAEMON_ENV = SATOKEND=$(CURDIR)/$(SATOKEND) SATOKENCTL=$(CURDIR)/$(SATOKENCTL)
check-pam-pamtester: $(PAM_MODULE) $(PAMT_VG_MODULE) $(SATOKEND) $(SATOKENCTL)
	@echo "== pam: pamtester"
	@env $(PAMT_DAEMON_ENV) PAM_MODULE=$(CURDIR)/$(PAM_MODULE) \
		PAM_PLAIN_MODULE=$(CURDIR)/$(PAMT_VG_MODULE) \
		PAMT_PRELOAD="$(PAMT_PRELOAD)" $(PAMT_DIR)/pamtester.sh

check-pam-sshd: $(PAMT_VG_MODULE) $(SATOKEND) $(SATOKENCTL)
	@echo "== pam: OpenSSH sshd + ssh end to end"
	@env $(PAMT_DAEMON_ENV) PAM_MODULE=$(CURDIR)/$(PAMT_VG_MODULE) $(PAMT_DIR)/sshd.sh

CHECK_TARGETS += check-pam-pamtester check-pam-sshd

# Issue 18: last use and the login's independence from it, through
# pamtester against the real satokend (about 12 s).
.PHONY: check-pam-lifecycle
check-pam-lifecycle: $(PAM_MODULE) $(SATOKEND) $(SATOKENCTL)
	@echo "== pam: last use (usage_socket) with pamtester and satokend"
	@env B=$(B) $(PAMT_DAEMON_ENV) PAM_MODULE=$(CURDIR)/$(PAM_MODULE) \
		PAMT_PRELOAD="$(PAMT_PRELOAD)" bash $(PAMT_DIR)/lifecycle.sh

CHECK_TARGETS += check-pam-lifecycle
