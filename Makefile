# satoken: one non-recursive GNU Makefile.  Each part of the tree adds its
# own rules in a fragment (daemon/daemon.mk, pam/pam.mk, sasl/sasl.mk,
# tests/*.mk) included below; objects go under $(B).
#
#   make                 build everything
#   make check           the test suite (unit + integration)
#   make check SANITIZE=1   the same under ASan+UBSan, in build-san/
#   make deb-check       the Debian packages: build, lintian, install (root)
#   make install         honours DESTDIR, PREFIX, BINDIR, SBINDIR, LIBDIR,
#                        PAMDIR, SASLDIR, SYSCONFDIR, MANDIR

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
PKG_CONFIG ?= pkg-config
# where the system's libpam and libsasl2 load modules from, found at build time
PAMDIR     ?= $(or $(shell $(PKG_CONFIG) --variable=libdir pam 2>/dev/null),/lib)/security
SASLDIR    ?= $(or $(shell $(PKG_CONFIG) --variable=libdir libsasl2 2>/dev/null),/usr/lib)/sasl2
INSTALL    ?= install

CC      ?= cc
AR      ?= ar
CFLAGS  ?= -O2 -g
LDFLAGS ?=

ifeq ($(SANITIZE),1)
B       ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
B       ?= build-tsan
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
else
B       ?= build
SAN_FLAGS :=
endif

# Always on, whatever CFLAGS the user passes.
SAT_CPPFLAGS := -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -Icommon
SAT_CFLAGS   := -std=c11 -Wall -Wextra -Werror -Wformat=2 -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-fstack-protector-strong -fstack-clash-protection -fcf-protection \
	-fPIC -fvisibility=hidden $(SAN_FLAGS)
SAT_LDFLAGS  := -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed $(SAN_FLAGS)
PROG_LDFLAGS := -pie
SO_LDFLAGS   := -shared -Wl,-z,defs

ALL_CFLAGS  = $(SAT_CPPFLAGS) $(CPPFLAGS) $(SAT_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAT_LDFLAGS) $(LDFLAGS)

COMMON_LIBS := -lgdbm -lcrypto

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
LIBCOMMON  := $(B)/libcommon.a

# Fragments append to these.
PROGRAMS    :=
MODULES     :=
CHECK_TARGETS :=
INSTALL_TARGETS :=
UNINSTALL_TARGETS :=
UNINSTALL_CHECKS :=
CLEAN_FILES :=

.PHONY: all check unit install uninstall clean distclean demo bench
.DEFAULT_GOAL := all
# keep objects of test programs: they are not throw-away intermediates
.SECONDARY:

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# afresh: a member whose source was removed must not linger in it
$(LIBCOMMON): $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# `make check` and `make demo` start by installing missing Debian packages
# (as root) or naming them (otherwise); SATOKEN_NO_DEPS=1 skips that.
# demo alone needs fewer (tools/demo.packages) than check (.ci/packages).
ifneq ($(filter check demo,$(MAKECMDGOALS)),)
DEPS_STATUS := $(shell tools/ensure-deps $(filter check demo,$(MAKECMDGOALS)) >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error missing Debian packages: see the message above)
endif
endif

include $(sort $(wildcard */*.mk tests/*/*.mk))

all: $(LIBCOMMON) $(PROGRAMS) $(MODULES)

check: all $(CHECK_TARGETS)
	@echo "make check: all test groups passed ($(B))"

install: all $(INSTALL_TARGETS)

uninstall: $(UNINSTALL_TARGETS)
# checks that may refuse an uninstall run before anything is removed
$(UNINSTALL_TARGETS): $(UNINSTALL_CHECKS)

clean:
	rm -rf build build-san $(CLEAN_FILES)

distclean: clean

-include $(shell find $(B) -name '*.d' 2>/dev/null)
