#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run accelctl's test layers and print one summary line:
#   N passed, N failed[, N skipped]
#
# Usage: tests/run.sh [all|unit|bpf|integration]
#   OUT=build        build directory (binaries and test programs)
#   TESTS=pattern    only integration tests/files whose name matches (grep -E)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-build}
case "$OUT" in /*) ;; *) OUT="$top/$OUT" ;; esac
export OUT ACCELCTL="$OUT/accelctl"
layer=${1:-all}
passed=0 failed=0 skipped=0
failures=()
results=$(mktemp)
trap 'rm -f "$results"' EXIT

count_line() {	# "PASS|FAIL|SKIP name [reason]"
	case "$1" in
	PASS*) passed=$((passed + 1)) ;;
	FAIL*) failed=$((failed + 1)); failures+=("${1#FAIL }") ;;
	SKIP*) skipped=$((skipped + 1)) ;;
	esac
}

# cmocka: one line per test ("[       OK ] name" / "[  FAILED  ] name"),
# plus a crash of the binary counts as a failure of the file.
run_cmocka() {
	local bin=$1 name out rc
	name=$(basename "$bin")
	out=$("$bin" 2>&1); rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	local ok nok
	ok=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
	# cmocka lists each failed test twice (inline and in the summary)
	nok=$(printf '%s\n' "$out" | grep '^\[  FAILED  \] [a-z_]' | sort -u | wc -l)
	passed=$((passed + ok))
	failed=$((failed + nok))
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		failed=$((failed + 1)); failures+=("$name (exit $rc)")
	fi
	printf '%s\n' "$out" | grep '^\[  FAILED  \] [a-z_]' | sort -u | while read -r _ _ _ t; do echo "$name:$t"; done >>"$results"
}

run_unit() {
	echo "== unit tests"
	local b
	for b in "$OUT"/tests/unit/test_*; do
		[ -x "$b" ] || continue
		echo "-- $(basename "$b")"
		run_cmocka "$b"
	done
}

# BPF program tests: C programs printing PASS/FAIL/SKIP lines.
run_bpf() {
	echo "== BPF program tests"
	local b line out rc
	for b in "$OUT"/tests/bpf/test_*; do
		[ -x "$b" ] || continue
		echo "-- $(basename "$b")"
		out=$("$b" 2>&1); rc=$?
		printf '%s\n' "$out" | sed 's/^/    /'
		local n=0
		while IFS= read -r line; do
			case "$line" in PASS*|FAIL*|SKIP*) count_line "$line"; n=$((n + 1)) ;; esac
		done <<<"$out"
		if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' <<<"$out"; then
			count_line "FAIL $(basename "$b") (exit $rc)"
		elif [ "$n" -eq 0 ]; then
			count_line "FAIL $(basename "$b") (reported no test)"
		fi
	done
}

run_integration() {
	echo "== integration tests"
	local f line out
	for f in "$top"/tests/integration/test_*.sh; do
		[ -f "$f" ] || continue
		echo "-- $(basename "$f")"
		while IFS= read -r line; do
			echo "    $line"
			case "$line" in PASS*|FAIL*|SKIP*) count_line "$line" ;; esac
		done < <(bash "$f" 2>&1; echo "EXIT $?")
	done
}

case "$layer" in
all) run_unit; run_bpf; run_integration ;;
unit) run_unit ;;
bpf) run_bpf ;;
integration) run_integration ;;
*) echo "usage: tests/run.sh [all|unit|bpf|integration]" >&2; exit 2 ;;
esac

while read -r l; do failures+=("$l"); done <"$results"
if [ ${#failures[@]} -gt 0 ]; then
	echo "== failures:"
	printf '  %s\n' "${failures[@]}"
fi
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ $((passed + skipped)) -gt 0 ]
