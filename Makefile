# sswitch: thin wrapper over meson/ninja.
#   make deps    install the Debian packages that are missing (apt-get, as root)
#   make build   build/sswitchd and build/sswitchctl
#   make run     the daemon in the foreground on the shipped demo config
#   make test    every suite: unit (+ ASan/UBSan, + arm64 under qemu), packet, api, e2e,
#                fuzz smoke, packaging (man, completion, unit, lintian, .deb install)
#   make bench   benchmark scenarios, writes docs/performance.md
#   make bench-peers  sswitchd vs OVS-DPDK vs testpmd on the same frames (root)
#   make bench-scale  8M mappings and 32M flows in one sswitchd: memory per mapping and per flow
#   make fuzz    longer fuzzing runs (FUZZ_SECONDS, default 300 each)
#   make cross-arm64  aarch64 build (sswitchd, sswitchctl, unit tests) in build-arm64
#   make install      meson install (PREFIX, DESTDIR)
#   make deb          Debian source and binary package in build-deb/, checked with lintian

BUILD      ?= build
ASAN_BUILD ?= build-asan
PY         := /usr/bin/python3
NINJA_JOBS ?= 2
ARM64_BUILD ?= build-arm64
DEB_BUILD  ?= build-deb
PREFIX     ?= /usr/local
DESTDIR    ?=
# Downloaded once per machine and reused by later runs (and CI on the same
# machine): the arm64 sysroot and the .debs of the install-check root.
SSWITCH_CACHE ?= /var/cache/sswitch
ARM64_SYSROOT ?= $(SSWITCH_CACHE)/sysroot-arm64

DEBS := build-essential pkg-config meson ninja-build clang libclang-rt-14-dev \
	libdpdk-dev dpdk dpdk-dev dpdk-doc libibverbs-dev libconfig-dev libpcap-dev \
	libnuma-dev libjansson-dev libcmocka-dev zlib1g-dev python3 python3-scapy python3-pytest \
	iproute2 iputils-ping netcat-openbsd procps ethtool libsystemd-dev \
	frr
# IPFIX collector of tests/e2e/test_ipfix.py (nfcapd, nfdump)
DEBS += nfdump

# promtool (tests/api/test_prometheus.py checks /metrics with it)
DEBS += prometheus

# make cross-arm64: Debian's cross toolchain and qemu-user on the host.
CROSS_DEBS := crossbuild-essential-arm64 qemu-user-static mmdebstrap ccache
# The arm64 libraries sswitch links, unpacked by mmdebstrap into a sysroot
# instead of installed on the host with `dpkg --add-architecture arm64`:
# in Debian 12, libdpdk-dev:arm64 depends on libfdt-dev:arm64 and (through
# librte-meta-all and the mlx5 PMDs) on rdma-core:arm64, neither of which is
# Multi-Arch: same, so apt removes the host's libdpdk-dev:amd64 (and with it
# the native build) to install them. The sysroot holds the same Debian arm64
# packages, co-exists with everything on the host and doubles as qemu-user's
# library prefix (-L).
ARM64_DEBS := libc6-dev libdpdk-dev libjansson-dev libconfig-dev libpcap-dev libnuma-dev \
	libibverbs-dev libcmocka-dev zlib1g-dev libsystemd-dev
# make deb / the package install check
DEB_DEBS := debhelper dpkg-dev lintian mmdebstrap fakeroot ccache man-db

.PHONY: all deps build asan run test bench fuzz clean cross-deps arm64-sysroot cross-arm64 \
	install deb-deps deb

all: build

# $(call install_debs,PACKAGES): apt-get install those not installed yet
install_debs = missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make: missing Debian packages:$$missing (run as root, or apt-get install them)"; exit 1; fi; \
		echo "make: installing$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			-o DPkg::Lock::Timeout=300 $$missing; \
	fi

deps:
	@$(call install_debs,$(DEBS))

cross-deps:
	@$(call install_debs,$(CROSS_DEBS))

deb-deps:
	@$(call install_debs,$(DEB_DEBS))

# Debian 12 arm64 -dev packages (and their dependencies) unpacked, not
# installed, merged-/usr like a real Debian 12 root; made again when
# ARM64_DEBS changes. It also holds the meson constants file that points
# config/cross/arm64.ini at it.
arm64-sysroot: cross-deps
	@if [ "$$(cat $(ARM64_SYSROOT)/.sswitch-debs 2>/dev/null)" != "$(ARM64_DEBS)" ]; then \
		echo "make: unpacking the arm64 sysroot into $(ARM64_SYSROOT)"; \
		rm -rf $(ARM64_SYSROOT) $(ARM64_SYSROOT).new && mkdir -p $(dir $(ARM64_SYSROOT)) && \
		mmdebstrap --quiet --variant=extract --architectures=arm64 \
			--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
			--include="$$(echo $(ARM64_DEBS) | tr ' ' ,)" bookworm $(ARM64_SYSROOT).new && \
		printf "[constants]\nsysroot = '%s'\n" "$(abspath $(ARM64_SYSROOT))" \
			>$(ARM64_SYSROOT).new/sswitch-cross.ini && \
		echo "$(ARM64_DEBS)" >$(ARM64_SYSROOT).new/.sswitch-debs && \
		mv $(ARM64_SYSROOT).new $(ARM64_SYSROOT); \
	fi

$(ARM64_BUILD)/build.ninja:
	meson setup $(ARM64_BUILD) -Dtests=true \
		--cross-file $(ARM64_SYSROOT)/sswitch-cross.ini --cross-file config/cross/arm64.ini

# sswitchd, sswitchctl and the unit tests for aarch64; `meson test -C
# build-arm64` runs the tests under qemu-aarch64 (the cross file's exe_wrapper)
cross-arm64: arm64-sysroot $(ARM64_BUILD)/build.ninja
	ninja -C $(ARM64_BUILD) -j $(NINJA_JOBS)
	@echo "built: $(ARM64_BUILD)/dataplane/sswitchd $(ARM64_BUILD)/control/sswitchctl/sswitchctl (aarch64)"

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dtests=true

# UBSan's alignment check is off: DPDK's x86 inline helpers (rte_hash_crc,
# rte_memcpy) load unaligned words on purpose, which x86 allows.
$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Dtests=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug -Doptimization=1 -Dc_args=-fno-sanitize=alignment

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(NINJA_JOBS)
	@ln -sf dataplane/sswitchd $(BUILD)/sswitchd
	@ln -sf control/sswitchctl/sswitchctl $(BUILD)/sswitchctl
	@echo "built: $(BUILD)/sswitchd $(BUILD)/sswitchctl"

asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(NINJA_JOBS)
	@ln -sf dataplane/sswitchd $(ASAN_BUILD)/sswitchd
	@ln -sf control/sswitchctl/sswitchctl $(ASAN_BUILD)/sswitchctl

run: build
	$(PY) config/make_demo.py /tmp/sswitch-demo
	$(BUILD)/sswitchd -c config/sswitchd.conf

# the .deb that `make deb` builds on this machine
DEB_FILE = $(DEB_BUILD)/sswitch_$(shell dpkg-parsechangelog -l debian/changelog -S Version)_$(shell dpkg --print-architecture).deb

# A failed cross build or package build does not stop the other suites: it
# shows up as failed unit-arm64 / packaging tests in the summary line.
test: build asan
	@$(MAKE) --no-print-directory cross-arm64 || { rm -rf $(ARM64_BUILD); echo "make test: cross-arm64 failed (suite unit-arm64 fails)"; }
	@$(MAKE) --no-print-directory deb || { rm -f $(DEB_FILE); echo "make test: deb failed (packaging tests fail)"; }
	SSWITCH_BUILD=$(BUILD) SSWITCH_ASAN_BUILD=$(ASAN_BUILD) SSWITCH_ARM64_BUILD=$(ARM64_BUILD) \
		SSWITCH_ARM64_SYSROOT=$(ARM64_SYSROOT) SSWITCH_DEB=$(DEB_FILE) SSWITCH_CACHE=$(SSWITCH_CACHE) \
		tests/run.sh

# BENCH_ARGS / PEERS_ARGS: extra options (tests/bench/bench.py --help, peers.py --help)
bench: build
	$(PY) tests/bench/bench.py --build $(BUILD) --write docs/performance.md $(BENCH_ARGS)

# Open vSwitch with DPDK (userspace datapath) as the peer; installed without
# starting Debian's own service (the bench starts its private instance)
PEERS_DEBS := openvswitch-switch-dpdk

.PHONY: bench-peers
bench-peers: build
	@missing=""; for p in $(PEERS_DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make bench-peers: missing Debian packages:$$missing (run as root)"; exit 1; fi; \
		echo "make bench-peers: installing$$missing"; \
		norc=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; norc=1; fi; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			-o DPkg::Lock::Timeout=300 $$missing; \
		rc=$$?; if [ -n "$$norc" ]; then rm -f /usr/sbin/policy-rc.d; fi; [ $$rc = 0 ] || exit $$rc; \
	fi
	$(PY) tests/bench/peers.py --build $(BUILD) --write docs/performance.md $(PEERS_ARGS)

# 8M mappings and 32M flows in one process (not part of make test; about 10
# minutes, ~20 GB at its peak). SCALE_ARGS: tests/bench/scale.py --help
.PHONY: bench-scale
bench-scale: build
	$(PY) tests/bench/scale.py --build $(BUILD) --write docs/performance.md $(SCALE_ARGS)

fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/run_smoke.sh

# meson install of the normal build: sswitchd in PREFIX/sbin, sswitchctl in
# PREFIX/bin, config in SYSCONFDIR/sswitch, unit, man pages, completion, docs
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX) -Dsysconfdir=$(SYSCONFDIR)
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR))

# Source package (3.0 native: .dsc + .tar.xz) and binary package from a copy
# of the tree (dpkg-buildpackage writes next to the source, so the copy keeps
# build-deb/ self-contained), then lintian on both: any error or warning
# fails. debhelper points HOME into the build tree, so
# ccache is told where its cache is (rebuilds of unchanged files are hits). Result: build-deb/sswitch_VERSION_ARCH.deb,
# build-deb/lintian.txt.
deb: deps deb-deps
	rm -rf $(DEB_BUILD) && mkdir -p $(DEB_BUILD)/src
	tar -c --exclude-vcs --exclude='./build*' --exclude=./tests/out . | tar -x -C $(DEB_BUILD)/src
	cd $(DEB_BUILD)/src && DEB_BUILD_OPTIONS="parallel=$(NINJA_JOBS) nocheck" \
		CCACHE_DIR="$$(ccache -k cache_dir 2>/dev/null)" \
		dpkg-buildpackage --build=full --no-sign >../dpkg-buildpackage.log 2>&1 || \
		{ tail -n 40 ../dpkg-buildpackage.log; exit 1; }
	lintian --fail-on error,warning --display-info $(DEB_BUILD)/*.changes >$(DEB_BUILD)/lintian.txt 2>&1; \
		rc=$$?; cat $(DEB_BUILD)/lintian.txt; \
		[ $$rc = 0 ] || { echo "make deb: lintian reports errors or warnings"; exit 1; }
	@ls -l $(DEB_BUILD)/*.deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(ARM64_BUILD) $(DEB_BUILD) build-fuzz
