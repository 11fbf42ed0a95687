#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Build the control-protocol fuzzer (clang, libFuzzer, ASan, UBSan) in
# build-fuzz/ and run it for SECONDS (default 20) from the checked-in corpus.
# New inputs go to a scratch directory, the corpus in the repo is untouched.
# Exit status: non-zero when the build fails or the fuzzer finds a crash.
#
# usage: tests/fuzz/run_smoke.sh [SECONDS]
set -eu
secs=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$root" -Dfuzz=true -Dtests=false -Db_lundef=false
fi
ninja -C "$build" -j2 tests/fuzz/fuzz_ctl
work=$(mktemp -d /tmp/ss-fuzz-ctl-XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
"$build/tests/fuzz/fuzz_ctl" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
	"$work" "$root/tests/fuzz/corpus/ctl" || {
	echo "fuzz_ctl: crash; reproducer in $artifacts/ (run: $build/tests/fuzz/fuzz_ctl FILE)" >&2
	exit 1
}
echo "fuzz_ctl: no crash in ${secs}s"
