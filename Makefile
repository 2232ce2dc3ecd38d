# kgil: CPython's GIL as a Linux kernel module.
#
#   make              gil.ko for the running kernel (KDIR=...) and the programs
#   make check        every test: host, module builds, static checks, VM, KUnit
#   make demo         boot a VM, load the module, run the demos
#   make bench        the kernel-vs-userspace benchmark, in a VM
#                     (GIL_BENCH_HOST_HOGS=N: N CPU-bound processes on the host)
#   make cpython-test CPython 3.13's thread tests on every GIL, in a VM
#                     (KERNEL=6.1|6.12|debug)
#   make stress       fuzzing, kill chaos, load, hotplug, failing allocations,
#                     freezers, insmod/rmmod, debug+KCSAN kernels
#                     (STRESS_SECONDS=60: how long each part runs)
#   make soak         the long run on the debug kernel: 1,000,000 fuzzed
#                     calls, 10,000 kills, 256 threads, 200 insmod cycles
#   make setup        install the Debian packages the above need
#   make install      libgil and gilstat: headers, libraries, pkg-config,
#                     man pages (PREFIX=/usr/local, DESTDIR=)
#   make modules_install  gil.ko into /lib/modules/<KDIR's release>/extra,
#                     then depmod (INSTALL_MOD_PATH=, INSTALL_MOD_DIR=)
#   make dkms-source  the module's sources and dkms.conf into
#                     /usr/src/kgil-VERSION, for dkms (DESTDIR=)
#   make help         all targets
#
# Build output goes to build/ (BUILD=...), never into the source tree.

KDIR	?= /lib/modules/$(shell uname -r)/build
BUILD	?= build
CC	?= cc
# kbuild's own default for out-of-tree modules.
INSTALL_MOD_DIR	?= extra
DEPMOD	?= /sbin/depmod
# The module's version: one literal in dkms.conf, checked against
# MODULE_VERSION by tests/package-check.sh.
KGIL_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)

CFLAGS_COMMON	:= -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Iuapi
GUEST_CFLAGS	:= $(CFLAGS_COMMON) -static -pthread

UAPI_HDR	:= uapi/linux/gil.h
# The harness (tests/harness/) and the /dev/gil helpers, linked into every
# uapi test and stress program.
GUEST_LIB	:= tests/harness/t.c tests/uapi/uapi.c
GUEST_LIB_HDRS	:= tests/harness/t.h tests/uapi/uapi.h $(UAPI_HDR)
TEST_SRCS	:= $(wildcard tests/uapi/test-*.c)
GUEST_TESTS	:= $(patsubst tests/uapi/%.c,$(BUILD)/guest/%,$(TEST_SRCS))
STRESS_SRCS	:= $(wildcard tests/stress/*.c)
GUEST_STRESS	:= $(patsubst tests/stress/%.c,$(BUILD)/guest/stress-%,$(STRESS_SRCS))
# The uapi tests and the fuzzer again, -m32 (gcc-multilib): 32-bit callers
# through a 64-bit kernel's compat ioctl path.  $(BUILD)/guest32 is a guest
# root of its own (/m32/uapi/test-*, /m32/stress/fuzz), which
# tests/stages/vm-compat.sh packs with GIL_VM_EXTRA_ROOT.
GUEST32_SRCS	:= $(TEST_SRCS) tests/stress/fuzz.c
GUEST32		:= $(patsubst tests/%.c,$(BUILD)/guest32/m32/%,$(GUEST32_SRCS))

.PHONY: all module userspace libgil guest modules kunit-kernel kcsan-kernel check demo \
	bench cpython cpython-test cpython-cost stress soak setup \
	install-deps install modules_install dkms-source clean distclean help

all: userspace
ifneq ($(wildcard $(KDIR)/Makefile),)
all: module
else
all:
	@echo "note: no kernel build tree at $(KDIR); gil.ko not built" \
	      "(install the headers, or make KDIR=/path/to/build)"
endif

help:
	@sed -n 's/^#   \(make.*\)/\1/p' Makefile
	@echo "make module       gil.ko against KDIR ($(KDIR))"
	@echo "make modules      gil.ko for Debian 6.1, 6.12 and the debug kernel"
	@echo "make kunit-kernel build (once) the debug/KUnit kernel"
	@echo "make kcsan-kernel build (once) the KCSAN kernel"
	@echo "make guest        the static programs the VM runs"
	@echo "make cpython      CPython 3.13 with PYTHONGIL (cached in $(BUILD)/cpython)"
	@echo "make cpython-cost what the CPython patch costs one thread (valgrind)"
	@echo "make clean        remove build output (keeps cached kernels)"

module:
	GIL_BUILD=$(abspath $(BUILD)) tests/build-module.sh host $(KDIR)
	@echo "built $(BUILD)/kmod/host/gil.ko"

# Builds first: build/kmod/host may hold a gil.ko made against another KDIR.
# kbuild would run depmod, but skips it when KDIR has no System.map, as the
# headers packages have none: depmod runs here, for the release in the
# module's vermagic (`make kernelrelease` says 6.1.192 in Debian 12's 6.1
# headers, whose builds and installs use 6.1.0-N-amd64).  kbuild runs in
# KDIR: a relative INSTALL_MOD_PATH is made absolute.
#
# A kernel that signs its modules (CONFIG_MODULE_SIG_ALL) has kbuild sign
# gil.ko with KDIR's key.  Debian's headers carry none: kbuild would print
# sign-file's errors and install it unsigned; without a key it is not asked
# to sign (README: Secure Boot).
SIG_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"$$/\1/p' $(KDIR)/.config)
NO_SIGN = $(if $(filter pkcs11:%,$(SIG_KEY))$(wildcard $(KDIR)/$(SIG_KEY) $(filter /%,$(SIG_KEY))),,CONFIG_MODULE_SIG_ALL=)
modules_install: module
	release=$$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$$/\1/p' \
		$(KDIR)/include/generated/utsrelease.h) && \
	$(MAKE) -C $(KDIR) M=$(abspath $(BUILD))/kmod/host \
		INSTALL_MOD_PATH=$(abspath $(INSTALL_MOD_PATH)) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) $(NO_SIGN) modules_install && \
	$(DEPMOD) -a $(if $(INSTALL_MOD_PATH),-b $(abspath $(INSTALL_MOD_PATH))) $$release

# What dkms needs and no more (`dkms add .` would copy all of build/ too).
dkms-source:
	@test -n "$(KGIL_VERSION)" || { echo "no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
	install -d $(DESTDIR)/usr/src/kgil-$(KGIL_VERSION)
	cp -R dkms.conf Kbuild COPYING LICENSES module uapi $(DESTDIR)/usr/src/kgil-$(KGIL_VERSION)/
	@echo "now: dkms install kgil/$(KGIL_VERSION)"

# libgil, its tests, examples, demos and benchmarks, in build/userspace.
userspace libgil:
	$(MAKE) -C userspace O=$(abspath $(BUILD))/userspace

# The guest runs static programs: the uapi tests, the stress programs,
# libgil's conformance suite, and every example, demo, benchmark and tool.
guest: $(GUEST_TESTS) $(GUEST_STRESS) $(GUEST32)
	$(MAKE) -C userspace O=$(abspath $(BUILD))/userspace-static LDFLAGS=-static tests programs
	cp $(BUILD)/userspace-static/test/conformance $(BUILD)/guest/libgil-conformance
	for d in examples demos bench tools; do \
		[ ! -d $(BUILD)/userspace-static/$$d ] || cp $(BUILD)/userspace-static/$$d/* $(BUILD)/guest/; \
	done

install:
	$(MAKE) -C userspace O=$(abspath $(BUILD))/userspace install

$(BUILD)/guest/test-%: tests/uapi/test-%.c $(GUEST_LIB) $(GUEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -o $@ $< $(GUEST_LIB)

$(BUILD)/guest/stress-%: tests/stress/%.c tests/stress/stress.h $(GUEST_LIB) $(GUEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -o $@ $< $(GUEST_LIB)

# -Wno-psabi: GCC's note that i386 aligns _Atomic long long differently
# since GCC 11, which only matters between objects of two compilers.
$(BUILD)/guest32/m32/%: tests/%.c tests/stress/stress.h $(GUEST_LIB) $(GUEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -m32 -Wno-psabi -o $@ $< $(GUEST_LIB)

modules:
	tests/build-module.sh 6.1 $$(bash -c '. tests/lib.sh; kernel_kdir 6.1')
	tests/build-module.sh 6.12 $$(bash -c '. tests/lib.sh; kernel_kdir 6.12')
	tests/build-module.sh debug $(BUILD)/kernels/debug-6.1 GIL_KUNIT=y

kunit-kernel:
	tests/kunit/build-kernel.sh $(BUILD)/src/linux-source-6.1 \
		$(BUILD)/kernels/debug-6.1 tests/kunit/debug.config

kcsan-kernel:
	tests/kunit/build-kernel.sh $(BUILD)/src/linux-source-6.1 \
		$(BUILD)/kernels/kcsan-6.1 tests/kunit/debug.config tests/kunit/kcsan.config

check:
	tests/check.sh

demo:
	tests/demo.sh

bench:
	tests/bench.sh

# CPython 3.13 with PYTHONGIL, built once into $(BUILD)/cpython.
cpython: userspace
	GIL_BUILD=$(abspath $(BUILD)) userspace/cpython/build.sh

cpython-test:
	tests/cpython-test.sh

# What gil.patch costs one thread, in instructions (valgrind), beside
# stock CPython built from the same source (cached in $(BUILD)/cpython-stock).
cpython-cost:
	tests/cpython-cost.sh

STRESS_SECONDS ?= 60
stress:
	tests/stress.sh $(STRESS_SECONDS)

soak:
	tests/stress.sh --soak $(STRESS_SECONDS)

setup install-deps:
	tests/setup.sh

clean:
	rm -rf $(BUILD)/guest $(BUILD)/guest32 $(BUILD)/kmod $(BUILD)/vm $(BUILD)/results \
		$(BUILD)/userspace* $(BUILD)/modprobe-root

distclean:
	rm -rf $(BUILD)
