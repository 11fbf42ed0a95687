#!/usr/bin/env bash
# Runs every test suite and ends with one summary line over all of them:
#   N passed, N failed[, N skipped]
# Suites: unit (cmocka, normal build), unit-asan (same tests, ASan+UBSan
# build), unit-arm64 (same tests, aarch64 cross build under qemu-user; when
# SSWITCH_ARM64_BUILD is set), packet (scapy pcap vectors through sswitchd,
# normal and ASan daemon), api (control socket), e2e (network namespaces,
# Linux VXLAN peers; needs root), fuzz (short libFuzzer smoke runs),
# packaging (man pages, completion, unit file, sd_notify; lintian and the
# .deb installed into a fresh Debian 12 root when SSWITCH_DEB is set; the
# arm64 daemon under qemu when SSWITCH_ARM64_BUILD is set).
set -u
cd "$(dirname "$0")/.."
B=${SSWITCH_BUILD:-build}
A=${SSWITCH_ASAN_BUILD:-build-asan}
PY=/usr/bin/python3
OUT=tests/out
rm -rf "$OUT"; mkdir -p "$OUT"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_meson() { # name builddir [meson test options...]
	local name=$1 dir=$2; shift 2
	echo "=== $name ($dir) ==="
	CMOCKA_MESSAGE_OUTPUT=TAP meson test -C "$dir" --suite unit --no-rebuild \
		--num-processes 2 --print-errorlogs --logbase "$name" "$@" >"$OUT/$name.log" 2>&1
	tail -n 12 "$OUT/$name.log"
	$PY tests/lib/summarize.py meson "$dir/meson-logs/$name.json" >"$OUT/$name.count"
}

run_pytest() { # name path [env...]
	local name=$1 path=$2; shift 2
	echo "=== $name ($path) ==="
	env "$@" $PY -m pytest -q -p no:cacheprovider $path --junitxml="$OUT/$name.xml" 2>&1 | tail -n 25
	$PY tests/lib/summarize.py junit "$OUT/$name.xml" >"$OUT/$name.count"
}

t0=$(date +%s)
run_meson unit "$B"
run_meson unit-asan "$A"
# qemu-user emulates each instruction (5-10x slower): one test at a time, so
# the timing-sensitive ones (control socket timeouts) keep a core each, and
# three times the meson timeouts
[ -n "${SSWITCH_ARM64_BUILD:-}" ] && run_meson unit-arm64 "$SSWITCH_ARM64_BUILD" \
	--num-processes 1 --timeout-multiplier 3
run_pytest packet "tests/packet pipelines" SSWITCH_BUILD="$B"
run_pytest packet-asan "tests/packet pipelines" SSWITCH_BUILD="$A"
[ -d tests/api ] && run_pytest api tests/api SSWITCH_BUILD="$B" SSWITCHD="$B/sswitchd"
[ -d tests/e2e ] && run_pytest e2e tests/e2e SSWITCH_BUILD="$B"
# man pages, completion, unit, sd_notify; with SSWITCH_DEB also lintian and
# the package installed into a fresh Debian 12 root (mmdebstrap)
[ -d tests/packaging ] && run_pytest packaging tests/packaging SSWITCH_BUILD="$B" \
	SSWITCH_DEB="${SSWITCH_DEB:-}" SSWITCH_ARM64_BUILD="${SSWITCH_ARM64_BUILD:-}" \
	SSWITCH_ARM64_SYSROOT="${SSWITCH_ARM64_SYSROOT:-/var/cache/sswitch/sysroot-arm64}"
if [ -x tests/fuzz/run_smoke.sh ]; then
	echo "=== fuzz (smoke) ==="
	tests/fuzz/run_smoke.sh >"$OUT/fuzz.log" 2>&1; rc=$?
	tail -n 5 "$OUT/fuzz.log"
	$PY tests/lib/summarize.py exit fuzz $rc >"$OUT/fuzz.count"
fi
# EAL runtime directories of test daemons (unique prefixes; the EAL keeps them)
rm -rf /var/run/dpdk/sst* /var/run/dpdk/ssapi* 2>/dev/null
echo "=== per suite (${SECONDS}s) ==="
$PY tests/lib/summarize.py total "$OUT"/*.count | tee "$OUT/summary.txt"
exit "${PIPESTATUS[0]}"
