# SPDX-License-Identifier: GPL-2.0
#
# vsock-rust: virtio-vsock transports in Rust, as out-of-tree modules for
# Linux 7.2.  The modules themselves are described by ./Kbuild; this Makefile
# drives set-up, the kernel build, the VM tests and the demo.
#
#   make deps                  install what is missing (demo and check do it too)
#   make kernel [VARIANT=debug] build or reuse the test kernel
#   make                       build the modules against it
#   make demo                  the main job: boot a VM, load, show an echo
#   make check                 every test suite; ends with "N passed, N failed"
#   make vmtest SUITE=loopback IMPL=c|rust
#   make guestlife [GUEST="c rust"] [VARIANT=debug]  the guest driver's life cycle
#   make pair [HOST=c|rust] [GUEST="c rust"] [PAIR_CLOCK=icount|wall] [VARIANT=debug]
#                              vhost backend HOST in a VM, virtio transport
#                              GUEST in a nested VM: vsock_test both ways and
#                              vmtest.sh's shared-VM cases, per GUEST
#   make vhostile [HOST="c rust"] a hostile guest (its own VMM) against the
#                              vhost backends; kernel log, kmemleak (debug)
#   make sigkill [HOST=c|rust] [GUEST="c rust"]  SIGKILL of the nested
#                              guest's QEMU mid-traffic: resets, CID reuse, leaks
#   make hostcycle [HOST=c|rust] [VARIANT=debug]  20 load/unload cycles of
#                              the vhost backend, guests (L2, vhostile)
#                              started, stopped or killed in between
#   make nsvm [NSVM_HOST="c rust"] [NSVM_GUEST=c]  vmtest.sh's namespace
#                              cases with a VM, per vhost backend
#   make vhostuser [GUEST="c rust"]  the guest drivers against rust-vmm's
#                              vhost-device-vsock: echo and 256 MiB both ways,
#                              vsock_test between two sibling guests;
#                              VHOST_USER_PARTS=life [VARIANT=debug]: 20
#                              rmmod/insmod and unbind/bind cycles, no nesting
#   make CLIPPY=1              build with clippy
#   make bench [ROUNDS=5]       C against Rust, loopback and guest drivers (BENCH_PARTS=host: host backends): table, JSON, plot
#   make profile | switches     perf profiles, context switches per packet (C, Rust)
#   make fuzz [FUZZ_SECONDS=600] fuzz the protocol core (cargo-fuzz, nightly)
#   make fmt | fmtcheck        rustfmt

SHELL := /bin/bash
ROOT := $(CURDIR)
VARIANT ?= default
LLVM_SUFFIX ?= -19
export VSOCK_RUST_CACHE ?= $(HOME)/.cache/vsock-rust
export PATH := $(HOME)/.cargo/bin:$(HOME)/.local/bin:$(PATH)
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib
export CARGO_TARGET_DIR ?= $(VSOCK_RUST_CACHE)/cargo-target

KBUILD_ARGS := LLVM=$(LLVM_SUFFIX) $(if $(CLIPPY),CLIPPY=1)
# The kernel build dir; building it when needed is idempotent and cheap once
# cached.  Computed only by the targets that use it.
kdir = $(shell scripts/build-kernel.sh $(VARIANT) | tail -n 1)

.PHONY: all modules deps kernel demo check vmtest guestlife pair nsvm vhostile sigkill hostcycle vhostuser bench profile switches cargo-test fuzz kunit clean fmt fmtcheck clippy

all: modules

deps:
	@scripts/install-deps.sh

kernel:
	@scripts/build-kernel.sh $(VARIANT)

modules:
	@set -e; k=$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1); \
	$(MAKE) -C "$$k" M=$(ROOT) $(KBUILD_ARGS) modules; \
	$(MAKE) -C "$$k" M=$(ROOT)/tools/testing/vsock-rust/bench/pad $(KBUILD_ARGS) modules; \
	scripts/build-static-tools.sh "$$k" >/dev/null
	@$(MAKE) --no-print-directory -C samples/vsock
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/bench
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/progs/sockmap
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/progs/bufmatrix
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/progs/life
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/progs/xfer
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/progs/rebind
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/progs/vhostile

clippy:
	@$(MAKE) --no-print-directory modules CLIPPY=1

demo: deps modules
	@VM_SHOW=1 tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" demo

SUITE ?= loopback
IMPL ?= c
vmtest: modules
	@tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" $(SUITE) $(IMPL)

# The guest driver's life cycle (suites/guestlife.sh) in a nested L2 guest,
# for each implementation in GUEST: transport reset (loadvm, migration),
# freeze/restore, rmmod/insmod and unbind/bind cycles.  L1 (the vhost host)
# runs the default kernel, L2 the VARIANT kernel with the modules built for
# it.  GUESTLIFE_CYCLES cycles of each kind; GUESTLIFE_PARTS (default
# "reset freeze cycles") selects parts.  GUESTLIFE_CLOCK=icount
# (default): L1 on the instruction-counted clock (VM_ICOUNT=0) and L2 on
# L1's, so the suite's time limits (L2's boot, each command) count guest
# instructions, not the build machine's load; wall: plain multi-threaded TCG.
GUEST ?= c rust
GUESTLIFE_CYCLES ?= 20
GUESTLIFE_CLOCK ?= icount
guestlife: deps modules
	@L2_KDIR="$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		GUESTLIFE_CYCLES=$(GUESTLIFE_CYCLES) GUESTLIFE_PARTS="$(GUESTLIFE_PARTS)" \
		VM_ENV="L2_KDIR GUESTLIFE_CYCLES GUESTLIFE_PARTS" \
		VM_ICOUNT=$(if $(filter icount,$(GUESTLIFE_CLOCK)),0,) \
		VM_TIMEOUT=$(if $(filter debug,$(VARIANT)),7200,3600) VM_SHOW=1 \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh default | tail -n 1)" \
		guestlife $(GUEST)

# Benchmark C against Rust over loopback (not part of check, which runs a
# smoke run): ROUNDS alternating rounds, BENCH_BYTES per throughput run.
# Host against guest implementations over a real virtio-vsock device (suite
# pair): one VM with the vhost backend HOST, one nested guest boot per GUEST.
# HOST is taken from the command line only: some shells export HOST as the
# machine's name.
PAIR_HOST = $(if $(filter command line,$(origin HOST)),$(HOST),c)
# PAIR_CLOCK=icount (default): the VM runs on QEMU's instruction-counted
# clock (VM_ICOUNT=0), and the nested guest, a process of it, on the VM's
# clock, so vsock_test's timeouts (10 s per control message, 250 ms slack on
# SO_RCVTIMEO, ...) count guest instructions and not the build machine's
# load.  PAIR_CLOCK=wall: plain multi-threaded TCG, about twice as fast,
# but a loaded machine makes tests 8, 30 and 40 time out.
PAIR_CLOCK ?= icount
# Each nested guest is bounded by PAIR_L2_TIMEOUT (default 1200 s of the
# VM's clock) inside; VM_TIMEOUT bounds the whole run in wall seconds.
PAIR_L2_TIMEOUT ?=
# VARIANT=debug: L1 runs the debug kernel, L2 the default one (as for
# sigkill), with our guest modules built for it first and kept in
# PAIR_L2_KO.
PAIR_L2_KO ?= $(VSOCK_RUST_CACHE)/pair-l2-ko
# $(call l2_default_ko,DIR): shell commands for the nested targets run with
# VARIANT=debug (L1 on the debug kernel, L2 on the default one): build our
# modules for the default kernel, copy the guest's to DIR, and set l2_kdir
# to the default kernel's build and l2_ko to DIR.  Otherwise they leave
# both as they are.  The recipe builds the modules for VARIANT after them.
# Without VARIANT=debug, SIGKILL_L2_KDIR and SIGKILL_L2_KO (HOSTCYCLE_...;
# PAIR_L2_KDIR) from the environment or the command line name another
# L2 build; the *_L2_KO directories default to the cache.
define l2_default_ko
if [ "$(VARIANT)" = debug ]; then \
		$(MAKE) --no-print-directory modules VARIANT=default >/dev/null; \
		mkdir -p $(1); \
		cp net/vmw_vsock/vsock_rs_common.ko net/vmw_vsock/vsock_rs_virtio.ko \
			net/vmw_vsock/vsock_rs_loopback.ko $(1)/; \
		l2_kdir=$$(scripts/build-kernel.sh default | tail -n 1) l2_ko=$(1); \
	fi
endef
pair:
	@set -e; l2_kdir=$(PAIR_L2_KDIR) l2_ko=; $(call l2_default_ko,$(PAIR_L2_KO)); \
	$(MAKE) --no-print-directory modules; \
	PAIR_L2_TIMEOUT=$(PAIR_L2_TIMEOUT) PAIR_L2_KDIR=$$l2_kdir PAIR_L2_KO=$$l2_ko \
		VM_ENV="PAIR_L2_TIMEOUT PAIR_L2_KDIR PAIR_L2_KO" \
		VM_ICOUNT=$(if $(filter icount,$(PAIR_CLOCK)),0,) \
		VM_TIMEOUT=$$(( $(or $(PAIR_L2_TIMEOUT),1200) * $(words $(GUEST)) + 300 )) \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		pair $(PAIR_HOST) $(GUEST)

# A hostile guest (progs/vhostile, its own VMM in the VM) against each vhost
# backend in HOST (c: vhost_vsock, rust: vhost_vsock_rs, skipped when not
# built), one VM, instruction-counted clock; kernel log and (VARIANT=debug)
# kmemleak checked per backend.
VHOSTILE_HOST = $(if $(filter command line,$(origin HOST)),$(HOST),c rust)
vhostile: modules
	@VM_ICOUNT=0 VM_TIMEOUT=$${VM_TIMEOUT:-1800} \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		vhostile $(VHOSTILE_HOST)

# SIGKILL of L2's QEMU in the middle of traffic both ways (suite sigkill):
# vhost backend HOST in a VM, one nested guest boot per GUEST; L1's sockets
# must see the reset, the CID be reusable at once, kmemleak (debug) clean.
# VARIANT=debug: L1 runs the debug kernel, L2 the default one (a KASAN L2
# under nested TCG takes over 10 minutes to boot), with the Rust guest
# modules built for it first and kept in SIGKILL_L2_KO.
SIGKILL_L2_KO ?= $(VSOCK_RUST_CACHE)/sigkill-l2-ko
sigkill:
	@set -e; l2_kdir=$${SIGKILL_L2_KDIR:-} l2_ko=$${SIGKILL_L2_KO:-}; $(call l2_default_ko,$(SIGKILL_L2_KO)); \
	$(MAKE) --no-print-directory modules; \
	SIGKILL_L2_KDIR=$$l2_kdir SIGKILL_L2_KO=$$l2_ko \
	VM_ENV="SIGKILL_L2_KDIR SIGKILL_L2_KO" VM_ICOUNT=$(if $(filter icount,$(PAIR_CLOCK)),0,) \
		VM_TIMEOUT=$$(( 900 * $(words $(GUEST)) + 300 )) \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		sigkill $(PAIR_HOST) $(GUEST)

# How soon a closing client's port is free again (suite rebind): the peer's
# RST in reply to its SHUTDOWN, REBIND_ROUNDS (default 40) connections each
# way per guest in GUEST, host backend PAIR_HOST; the close-to-rebind times
# are reported (the race of vsock_test's "double bind connect" depends on
# them).
REBIND_ROUNDS ?= 40
rebind: modules
	@REBIND_ROUNDS=$(REBIND_ROUNDS) VM_ENV=REBIND_ROUNDS \
		VM_ICOUNT=$(if $(filter icount,$(PAIR_CLOCK)),0,) \
		VM_TIMEOUT=$$(( 900 * $(words $(GUEST)) + 300 )) \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		rebind $(PAIR_HOST) $(GUEST)

# Load/unload cycles of the vhost backend HOST with guests in between
# (suite hostcycle): HOSTCYCLE_CYCLES (default 20) cycles, each loading
# the backend, starting a guest (an L2 QEMU in the first and the last
# cycle, progs/vhostile's traffic mode in the others), passing checked
# traffic both ways, stopping the guest (clean or SIGKILL, alternately) and
# unloading; kernel log and (debug) kmemleak checked at the end.
# VARIANT=debug: L2 runs the default kernel, as for sigkill.  L1 boots
# with kunit.autorun=0: the test kernels otherwise run vsock_rs_common's
# KUnit suites at each of its 20 insmods (suite kunit runs them).
HOSTCYCLE_CYCLES ?= 20
HOSTCYCLE_L2_KO ?= $(VSOCK_RUST_CACHE)/hostcycle-l2-ko
hostcycle:
	@set -e; l2_kdir=$${HOSTCYCLE_L2_KDIR:-} l2_ko=$${HOSTCYCLE_L2_KO:-}; $(call l2_default_ko,$(HOSTCYCLE_L2_KO)); \
	$(MAKE) --no-print-directory modules; \
	HOSTCYCLE_L2_KDIR=$$l2_kdir HOSTCYCLE_L2_KO=$$l2_ko \
	HOSTCYCLE_CYCLES=$(HOSTCYCLE_CYCLES) \
	VM_ENV="HOSTCYCLE_L2_KDIR HOSTCYCLE_L2_KO HOSTCYCLE_CYCLES" VM_ICOUNT=$(if $(filter icount,$(PAIR_CLOCK)),0,) \
		VM_APPEND="kunit.autorun=0" \
		VM_TIMEOUT=$${VM_TIMEOUT:-2400} \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		hostcycle $(PAIR_HOST)

# vmtest.sh's network-namespace cases that involve a VM (suites/nsvm.sh),
# per vhost backend in NSVM_HOST (c, rust), the nested guest running the
# guest driver NSVM_GUEST (c).
NSVM_HOST ?= c rust
NSVM_GUEST ?= c
nsvm: modules
	@NSVM_GUEST=$(NSVM_GUEST) VM_ENV="NSVM_GUEST" VM_ICOUNT=0 VM_TIMEOUT=3600 \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		nsvm $(NSVM_HOST)

# The guest drivers (GUEST: c, rust) against a second device implementation,
# rust-vmm's vhost-device-vsock over vhost-user, with its Unix-socket backend
# on this machine (tools/testing/vsock-rust/vhost-user.sh).
# VHOST_USER_PARTS (default "single siblings"; "life": the driver's
# rmmod/insmod and unbind/bind cycles, LIFE_CYCLES of them) reaches it
# from the command line.
vhostuser: deps modules
	@tools/testing/vsock-rust/vhost-user.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" $(GUEST)

# Benchmark C against Rust (not part of check, which runs a smoke run):
# ROUNDS alternating rounds; over loopback BENCH_BYTES per throughput run
# and BENCH_PINGS per latency run; the guest drivers in a nested L2 over
# L1's C vhost_vsock (bench/guest.sh), BENCH_GUEST_BYTES and
# BENCH_GUEST_PINGS, configurations BENCH_GUEST_CONFIGS (c rust rust64k,
# alt with ALT_KO_DIR), one L2 boot per configuration and round
# (BENCH_GUEST_BOOT=one: one per round), BENCH_GUEST_REPS runs of each
# throughput case per boot.  BENCH_PARTS: any of "loopback guest
# host" (default "loopback guest"); host: L1's vhost backends, Rust
# vhost_vsock_rs against C vhost_vsock (BENCH_HOSTS="c rust") in
# alternating rounds, under the same C guest driver in L2, the guest
# part's cases and sizes (make bench BENCH_PARTS=host).  BENCH_GUEST_DIAG=1: the guest rows with diagnostics (packets,
# interrupts, switches, CPU split per case; slower, for diagnosis only);
# BENCH_GUEST_STAT=1: the counters alone, no packet capture.
# BENCH_GUEST_PAUSE=S: L2 sleeps S seconds before each g2h run.  BENCH_PAD:
# random (default) or 0-15 pages of padding modules (of text) before the
# modules under test, in each L2 boot and before each backend in L1.
ROUNDS ?= 5
BENCH_BYTES ?= 1G
BENCH_PINGS ?= 10000
BENCH_GUEST_BYTES ?= 64M
BENCH_GUEST_PINGS ?= 1000
BENCH_GUEST_CONFIGS ?= c rust rust64k
BENCH_GUEST_BOOT ?= each
BENCH_PARTS ?= loopback guest
BENCH_GUEST_DIAG ?=
BENCH_GUEST_REPS ?= 3
# BENCH_IMPLS="c rust alt" ALT_KO_DIR=DIR: also run the Rust modules in DIR
# (another build, for A/B comparisons of changes).
BENCH_IMPLS ?= c rust
ALT_KO_DIR ?=
# BENCH_CLOCK=icount (default): QEMU counts instructions (-icount), so the
# guest's clock, and every rate and latency, measures guest instructions and
# not the host's load; the spread across rounds drops from tens of percent
# to about one.  BENCH_CLOCK=wall: plain multi-threaded TCG.
BENCH_CLOCK ?= icount
bench: deps modules
	@$(MAKE) --no-print-directory -C tools/testing/vsock-rust/bench
	@set -e; vmrc=0; log=$$(set -o pipefail; BENCH_IMPLS="$(BENCH_IMPLS)" ALT_KO_DIR="$(ALT_KO_DIR)" \
		BENCH_CLOCK=$(BENCH_CLOCK) VM_ICOUNT=$(if $(filter icount,$(BENCH_CLOCK)),0,) \
		BENCH_PARTS="$(BENCH_PARTS)" BENCH_GUEST_CONFIGS="$(BENCH_GUEST_CONFIGS)" \
		BENCH_GUEST_BOOT=$(BENCH_GUEST_BOOT) BENCH_GUEST_DIAG=$(BENCH_GUEST_DIAG) \
		BENCH_GUEST_REPS=$(BENCH_GUEST_REPS) \
		VM_ENV="BENCH_PAD BENCH_GUEST_STAT BENCH_GUEST_PAUSE BENCH_IMPLS BENCH_INSNPROF ALT_KO_DIR BENCH_CLOCK BENCH_PARTS BENCH_HOSTS BENCH_GUEST_CONFIGS BENCH_GUEST_BOOT BENCH_GUEST_DIAG BENCH_GUEST_REPS BENCH_GUEST_BUFS BENCH_L2_CPUS BENCH_L2_MEM BENCH_L2_PIN BENCH_L2_QEMU_ARGS BENCH_L2_WRAP" \
		VM_TIMEOUT=$${VM_TIMEOUT:-14400} tools/testing/vsock-rust/vm.sh \
		"$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" bench \
		$(ROUNDS) $(BENCH_BYTES) $(BENCH_PINGS) $(BENCH_GUEST_BYTES) $(BENCH_GUEST_PINGS) | tee /dev/stderr | \
		sed -nE 's/.*log (.*)\/console.log$$/\1/p') || vmrc=$$?; \
	rc=0; /usr/bin/python3 tools/testing/vsock-rust/bench/report.py "$$log" || rc=$$?; \
	if [ $$vmrc != 0 ]; then \
		echo "bench: the VM run failed (vm.sh: suite status, kernel report or timeout)" >&2; rc=1; fi; \
	if [ -n "$(BENCH_GUEST_DIAG)" ]; then \
		/usr/bin/python3 tools/testing/vsock-rust/bench/guest_diag.py "$$log" || rc=1; fi; \
	exit $$rc

# Flat perf profiles of the loopback path, C and Rust (PROFILE_ARGS: buffer
# size, bytes, ping size, pings, implementations; see suites/profile.sh).
# PROFILE_SORT: perf report's --sort keys (e.g. cpu,sym), PROFILE_LIMIT its
# --percent-limit.
PROFILE_ARGS ?=
PROFILE_FREQ ?= 4000
PROFILE_SORT ?= sym
PROFILE_LIMIT ?= 0.3
profile: modules
	@echo "profile: PROFILE_ARGS=$(PROFILE_ARGS) PROFILE_CALLERS=$(PROFILE_CALLERS)"
	@PROFILE_CALLERS="$(PROFILE_CALLERS)" PROFILE_FREQ="$(PROFILE_FREQ)" \
		PROFILE_SORT="$(PROFILE_SORT)" PROFILE_LIMIT="$(PROFILE_LIMIT)" \
		VM_ENV="PROFILE_CALLERS PROFILE_FREQ PROFILE_SORT PROFILE_LIMIT ALT_KO_DIR" VM_SHOW=1 VM_TIMEOUT=1800 tools/testing/vsock-rust/vm.sh \
		"$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" profile $(PROFILE_ARGS)

# Context switches and CPU time per packet of throughput runs, C and Rust
# (SWITCHES_ARGS: buffer size, bytes, rounds, implementations; see
# suites/switches.sh).  Instruction-counted clock.
SWITCHES_ARGS ?= 4K 1G 2
SWITCHES_PIN ?= 1
switches: modules
	@ALT_KO_DIR="$(ALT_KO_DIR)" SWITCHES_PIN="$(SWITCHES_PIN)" \
		VM_ENV="ALT_KO_DIR SWITCHES_PIN" VM_ICOUNT=0 VM_SHOW=1 VM_TIMEOUT=1800 \
		tools/testing/vsock-rust/vm.sh "$$(scripts/build-kernel.sh $(VARIANT) | tail -n 1)" \
		switches $(SWITCHES_ARGS)

cargo-test:
	cd rust/vsock_proto && cargo test

# Fuzz the protocol core (needs nightly; installs cargo-fuzz when missing).
FUZZ_SECONDS ?= 600
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	cd rust/vsock_proto && cargo +nightly fuzz run packets -- \
		-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1

check: deps
	@tools/testing/vsock-rust/check.sh

fmt:
	rustfmt --edition 2021 --config-path .rustfmt.toml $$(git ls-files '*.rs')

fmtcheck:
	rustfmt --check --edition 2021 --config-path .rustfmt.toml $$(git ls-files '*.rs')

clean:
	@k=$$(ls -d $(VSOCK_RUST_CACHE)/build-*-$(VARIANT)-* 2>/dev/null | tail -n 1); \
	if [ -n "$$k" ]; then $(MAKE) -C "$$k" M=$(ROOT) $(KBUILD_ARGS) clean; \
		$(MAKE) -C "$$k" M=$(ROOT)/tools/testing/vsock-rust/bench/pad $(KBUILD_ARGS) clean; fi
	rm -f rust/bindings/bindings_generated.rs
	$(MAKE) -C samples/vsock clean
	$(MAKE) -C tools/testing/vsock-rust/bench clean
	$(MAKE) -C tools/testing/vsock-rust/progs/sockmap clean
	$(MAKE) -C tools/testing/vsock-rust/progs/bufmatrix clean
	$(MAKE) -C tools/testing/vsock-rust/progs/life clean
	$(MAKE) -C tools/testing/vsock-rust/progs/xfer clean
	$(MAKE) -C tools/testing/vsock-rust/progs/rebind clean
	$(MAKE) -C tools/testing/vsock-rust/progs/vhostile clean
