#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer harnesses (clang, ASan, UBSan) in build-fuzz/ and run
# each for SECONDS (argument, else $FUZZ_SECONDS, else its line in
# tests/fuzz/smoke_seconds, else 20) from its
# checked-in corpus: harness fuzz_NAME <-> tests/fuzz/corpus/NAME/ (a new
# harness is picked up by adding both). New inputs go to a scratch
# directory; the corpus in the repo is untouched; crash reproducers are kept
# in build-fuzz/fuzz-artifacts/. Exit status: non-zero when a build fails or
# a harness crashes.
#
# usage: tests/fuzz/run_smoke.sh [SECONDS]
set -eu
secs=${1:-${FUZZ_SECONDS:-}}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$root" -Dfuzz=true -Dtests=false -Db_lundef=false
fi
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/ss-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
for corpus in "$root"/tests/fuzz/corpus/*/; do
	name=$(basename "$corpus")
	ninja -C "$build" -j2 "tests/fuzz/fuzz_$name"
	mkdir -p "$work/$name"
	t=$secs
	if [ -z "$t" ]; then
		t=$(awk -v n="$name" '$1 == n { print $2 }' "$root/tests/fuzz/smoke_seconds" 2>/dev/null)
		t=${t:-20}
	fi
	if "$build/tests/fuzz/fuzz_$name" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$work/$name" "$corpus"; then
		echo "fuzz_$name: no crash in ${t}s"
	else
		echo "fuzz_$name: crash; reproducer in $artifacts/ (run: $build/tests/fuzz/fuzz_$name FILE)" >&2
		status=1
	fi
done
exit $status
