# SPDX-License-Identifier: GPL-2.0-only
#
# accelctl build.  `make` builds BPF objects, their skeletons and
# build/accelctl; `make help` lists the other targets.  V=1 shows commands.

VERSION    ?= 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
EXAMPLEDIR ?= $(PREFIX)/share/accelctl/profiles
OUT        ?= build

CLANG      ?= clang
CC         ?= gcc
BPFTOOL    ?= bpftool
PKG_CONFIG ?= pkg-config

comma     := ,
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX   := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

LIBS_PKG  := libbpf libxdp libmnl inih libmicrohttpd
LIBS      := $(shell $(PKG_CONFIG) --libs $(LIBS_PKG) 2>/dev/null || echo -lbpf -lxdp -lmnl -linih -lmicrohttpd) -lelf -lz -lpthread
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PKG) 2>/dev/null)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -I$(dir $(VMLINUX)) -Ibpf -mcpu=v3
CFLAGS     ?= -O2 -g
USER_CFLAGS := $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	       -D_GNU_SOURCE -DACCELCTL_VERSION='"$(VERSION)"' \
	       -Iuser -Ibpf -I$(OUT) $(LIBBPF_CFLAGS)
LDFLAGS    ?=

BPF_SRCS   := $(sort $(wildcard bpf/*.bpf.c))
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
BPF_HDRS   := $(wildcard bpf/*.h)

USER_SRCS  := $(sort $(wildcard user/*.c))
USER_OBJS  := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
LIB_OBJS   := $(filter-out $(OUT)/user/accelctl.o,$(USER_OBJS))
USER_HDRS  := $(wildcard user/*.h)

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS  := $(sort $(wildcard tests/bpf/test_*.c))
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(OUT)/tests/bpf/%,$(BPFT_SRCS))
# Benchmark-only BPF objects (references, not product programs) live with
# the tools that load them; `all` and `install` never build them.
BENCH_BPF_SRCS := $(sort $(wildcard tests/tools/*.bpf.c))
BENCH_BPF_OBJS := $(patsubst tests/tools/%.bpf.c,$(OUT)/tests/tools/%.bpf.o,$(BENCH_BPF_SRCS))
TOOL_SRCS  := $(sort $(filter-out $(BENCH_BPF_SRCS),$(wildcard tests/tools/*.c)))
TOOL_BINS  := $(patsubst tests/tools/%.c,$(OUT)/tests/tools/%,$(TOOL_SRCS))
# accelctl with its test hooks compiled in (-DACCEL_TEST_HOOKS: tune.c's
# crash after N writes, bypass.c's small connection-slot table).  Only
# integration tests run it; `all` and `install` never build it, so an
# operator's binary has no hook to trip.
TESTHOOKS  := $(OUT)/tests/accelctl-testhooks
UNITS      := $(notdir $(wildcard scripts/systemd/*.service))

# The git commit `accelctl version` reports, "-dirty" with local changes,
# "unknown" outside a git checkout (a release tarball).  The header is
# rewritten only when it changes: a commit rebuilds accelctl.o alone.
GIT_COMMIT := $(shell c=$$(git -C $(CURDIR) rev-parse --short=12 HEAD 2>/dev/null) && \
	{ git -C $(CURDIR) diff --quiet HEAD -- 2>/dev/null || c=$$c-dirty; echo $$c; } || echo unknown)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test test-unit test-bpf test-integration bench check install \
	uninstall deps deps-build deps-test deps-bench attach detach help asan

all: $(OUT)/accelctl

help:
	@echo 'Targets:'
	@echo '  all (default)     build BPF objects, skeletons and $(OUT)/accelctl'
	@echo '  attach            install build deps, build, attach with the default profile, show status'
	@echo '  detach            detach and restore everything attach changed'
	@echo '  test              install build+test deps, build, run unit, BPF and integration tests'
	@echo '  bench             run benchmarks, write docs/benchmarks.md'
	@echo '  check             static analysis (clang --analyze + cppcheck), zero findings'
	@echo '  test-build        build accelctl, unit and BPF tests and test tools (no run)'
	@echo '  test-unit, test-bpf, test-integration   run one test layer'
	@echo '  asan              build into build-asan/ with ASAN+UBSAN for tests'
	@echo '  install           install binary, man page, systemd units and bash completion'
	@echo '                    under $$(DESTDIR)$$(PREFIX) (PREFIX=$(PREFIX))'
	@echo '  uninstall         remove everything install put in place'
	@echo '  clean             remove $(OUT)/ and build-asan/'
	@echo 'Variables: V=1 (show commands), OUT=dir, PREFIX, DESTDIR, TESTS=pattern'

$(OUT) $(OUT)/user $(OUT)/tests/unit $(OUT)/tests/bpf $(OUT)/tests/tools $(OUT)/tests/testhooks:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX) Makefile | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o | $(OUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$(notdir $*))_bpf > $@

$(OUT)/tests/tools/%.bpf.o: tests/tools/%.bpf.c $(VMLINUX) Makefile | $(OUT)/tests/tools
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/user/%.o: user/%.c $(USER_HDRS) $(BPF_HDRS) $(SKELS) Makefile | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUT)/accelctl: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(OUT)/tests/testhooks/%.o: user/%.c $(USER_HDRS) $(BPF_HDRS) $(SKELS) Makefile | $(OUT)/tests/testhooks
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -DACCEL_TEST_HOOKS -c $< -o $@

HOOKED     := tune bypass
$(TESTHOOKS): $(filter-out $(HOOKED:%=$(OUT)/user/%.o),$(USER_OBJS)) $(HOOKED:%=$(OUT)/tests/testhooks/%.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(OUT)/accel_commit.h: FORCE
	$(Q)mkdir -p $(OUT) && v='#define ACCELCTL_COMMIT "$(GIT_COMMIT)"' && \
		{ [ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" >$@; }
$(OUT)/user/accelctl.o: $(OUT)/accel_commit.h
.PHONY: FORCE
FORCE:

$(OUT)/libaccel.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/tests/unit/%: tests/unit/%.c $(OUT)/libaccel.a $(USER_HDRS) $(wildcard tests/unit/*.h) Makefile | $(OUT)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Wno-unused-parameter $(UNIT_FLAGS) -o $@ $< $(OUT)/libaccel.a -lcmocka $(LIBS)

# The golden test of `stats` and `status` (tests/unit/test_golden.c says
# why) replaces what differs between hosts and runs: the golden files'
# place, and with --wrap the versions, the clock, the live sysctl and NIC
# values, what a map's fd says about it (id, size, memory) and the network
# namespace's inode.
GOLDEN_WRAPS := kernel_release libbpf_version time nic_open nic_close nic_read sysctl_read read_file \
	bpf_obj_get_info_by_fd bpf_fd_kind map_fd_size netns_ino
$(OUT)/tests/unit/test_golden: UNIT_FLAGS = -DGOLDEN_DIR='"$(CURDIR)/tests/golden"' \
	$(addprefix -Wl$(comma)--wrap=,$(GOLDEN_WRAPS))
# docs/metrics.md against the metric descriptor tables
$(OUT)/tests/unit/test_metrics_doc: UNIT_FLAGS = -DMETRICS_DOC='"$(CURDIR)/docs/metrics.md"'

# test_opts reads the man page and the completion and runs accelctl --help.
$(OUT)/tests/unit/test_opts: $(OUT)/accelctl
$(OUT)/tests/unit/test_opts: USER_CFLAGS += -DACCEL_SRCDIR='"$(CURDIR)"' \
	-DACCELCTL_BIN='"$(abspath $(OUT))/accelctl"'

$(OUT)/tests/bpf/%: tests/bpf/%.c $(OUT)/libaccel.a $(SKELS) $(USER_HDRS) Makefile | $(OUT)/tests/bpf
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/bpf -o $@ $< $(OUT)/libaccel.a $(LIBS)

$(OUT)/tests/tools/%: tests/tools/%.c $(wildcard tests/tools/*.h) Makefile | $(OUT)/tests/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $< $(LIBS) -lm

# The benchmark's floor loader includes its skeleton (the only tool that does).
$(OUT)/tests/tools/bench_floor: $(OUT)/tests/tools/bench_floor.skel.h
$(OUT)/tests/tools/bench_floor: USER_CFLAGS += -I$(OUT)/tests/tools

# Packages by purpose: attach needs the build set only, test and bench add
# their tools (scripts/install-deps.sh says which and how services stay off).
deps: deps-test deps-bench
deps-build:
	$(Q)scripts/install-deps.sh build
deps-test:
	$(Q)scripts/install-deps.sh test
deps-bench:
	$(Q)scripts/install-deps.sh bench

test-build: $(OUT)/accelctl $(TESTHOOKS) $(UNIT_BINS) $(BPFT_BINS) $(TOOL_BINS) $(BENCH_BPF_OBJS)

test: deps-test
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)OUT=$(OUT) tests/run.sh all

test-unit: $(UNIT_BINS)
	$(Q)OUT=$(OUT) tests/run.sh unit

test-bpf: $(OUT)/accelctl $(BPFT_BINS)
	$(Q)OUT=$(OUT) tests/run.sh bpf

test-integration: $(OUT)/accelctl $(TESTHOOKS) $(TOOL_BINS)
	$(Q)OUT=$(OUT) tests/run.sh integration

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory $(OUT)/accelctl $(TOOL_BINS) $(BENCH_BPF_OBJS)
	$(Q)OUT=$(OUT) scripts/bench.sh

# Static analysis: no include cycle among user/ files, then clang's analyzer
# and cppcheck over every userspace file (scripts/check.sh says which
# findings it ignores and why).
check: $(SKELS) $(OUT)/accel_commit.h
	$(call msg,CHECK,user/)
	$(Q)scripts/check-includes.sh user
	$(Q)OUT=$(OUT) CLANG=$(CLANG) CHECK_CFLAGS="$(filter-out -g -O2 -DACCELCTL_VERSION=%,$(USER_CFLAGS)) -DACCELCTL_VERSION=\"$(VERSION)\"" \
		scripts/check.sh $(USER_SRCS)

# ASAN build of the userspace tool for tests: make asan && OUT=build-asan tests/run.sh
asan:
	$(Q)$(MAKE) --no-print-directory OUT=build-asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer' \
		LDFLAGS='-fsanitize=address,undefined' test-build

attach: deps-build
	$(Q)$(MAKE) --no-print-directory $(OUT)/accelctl
	$(Q)$(OUT)/accelctl attach
	$(Q)$(OUT)/accelctl status

detach: $(OUT)/accelctl
	$(Q)$(OUT)/accelctl detach

# The units name the binary by its installed path: rewrite it for PREFIX.
install: $(OUT)/accelctl
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR)
	$(Q)install -m 0755 $(OUT)/accelctl $(DESTDIR)$(SBINDIR)/accelctl
	$(Q)install -m 0644 docs/accelctl.8 $(DESTDIR)$(MANDIR)/man8/accelctl.8
	$(Q)for u in $(UNITS); do \
		sed 's|/usr/local/sbin/accelctl|$(SBINDIR)/accelctl|g' scripts/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	$(Q)install -m 0644 scripts/accelctl.bash-completion $(DESTDIR)$(COMPDIR)/accelctl
	$(Q)install -d $(DESTDIR)$(EXAMPLEDIR) && install -m 0644 scripts/profiles/example.ini $(DESTDIR)$(EXAMPLEDIR)/example.ini

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/accelctl $(DESTDIR)$(MANDIR)/man8/accelctl.8 \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) $(DESTDIR)$(COMPDIR)/accelctl \
		$(DESTDIR)$(EXAMPLEDIR)/example.ini

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT) build-asan
