# sswitch: thin wrapper over meson/ninja.
#   make deps    install the Debian packages that are missing (apt-get, as root)
#   make build   build/sswitchd and build/sswitchctl
#   make run     the daemon in the foreground on the shipped demo config
#   make test    every suite: unit (+ ASan/UBSan), packet, api, e2e, fuzz smoke
#   make bench   benchmark scenarios, writes docs/performance.md
#   make bench-peers  sswitchd vs OVS-DPDK vs testpmd on the same frames (root)
#   make fuzz    longer fuzzing runs (FUZZ_SECONDS, default 300 each)

BUILD      ?= build
ASAN_BUILD ?= build-asan
PY         := /usr/bin/python3
NINJA_JOBS ?= 2

DEBS := build-essential pkg-config meson ninja-build clang libclang-rt-14-dev \
	libdpdk-dev dpdk dpdk-dev dpdk-doc libibverbs-dev libconfig-dev libpcap-dev \
	libnuma-dev libjansson-dev libcmocka-dev zlib1g-dev python3 python3-scapy python3-pytest \
	iproute2 iputils-ping netcat-openbsd procps ethtool

.PHONY: all deps build asan run test bench fuzz clean

all: build

deps:
	@missing=""; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: missing Debian packages:$$missing (run as root, or apt-get install them)"; exit 1; fi; \
		echo "make deps: installing$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			-o DPkg::Lock::Timeout=300 $$missing; \
	fi

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

test: build asan
	SSWITCH_BUILD=$(BUILD) SSWITCH_ASAN_BUILD=$(ASAN_BUILD) tests/run.sh

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

fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/run_smoke.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
