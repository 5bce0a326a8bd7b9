#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Overhead of tcpstate on connection churn: the connect/accept/close loop
# rate of tests/tools/tcp_churn with and without tcpstate attached, in the
# same run, repetitions interleaved (off/on, then on/off, ...) so that
# drift on a shared host hits both sides alike.  Every repetition runs in a
# fresh network namespace, so TIME_WAIT left by one never slows the next.
#
# Usage: scripts/bench-tcpstate.sh [-r REPS] [-t SECONDS]
#   OUT=build    build directory (accelctl, tests/tools/tcp_churn)
# Prints one line per run and a summary:
#   tcpstate churn: off <rate>/s on <rate>/s ratio <on/off> overhead <pct>% (median of N)
# Exit 0 when measured (the 2% target is reported, not enforced), 1 on error.
set -euo pipefail
bench_name=bench-tcpstate
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
CHURN=$OUT/tests/tools/tcp_churn
reps=7 secs=2

bench_opts_rt "$@"
bench_need_root
bench_need_built "$CHURN"

id="accel-bench-tcpstate-$$"
pin="/sys/fs/bpf/$id"
state=$(mktemp -d "/tmp/$id.XXXXXX")
A="$ACCELCTL --pin-root $pin --state-dir $state"
ns=""
cleanup() {
	[ -n "$ns" ] && $A --netns "$ns" detach >/dev/null 2>&1 || true
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
	rm -rf "$state" "$pin"
}
trap cleanup EXIT

# Run a command; show its output only when it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || { echo "$out" >&2; return 1; }
}

# One run in a fresh namespace: "on" attaches tcpstate for that namespace.
run() {
	local mode=$1 rate
	ns="$id-$mode"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	[ "$mode" = on ] && quiet $A --netns "$ns" attach --features tcpstate
	rate=$(ip netns exec "$ns" "$CHURN" -n 0 -t "$secs" | awk '{ print $6 }')
	[ "$mode" = on ] && quiet $A --netns "$ns" detach
	ip netns del "$ns"
	ns=""
	echo "$rate"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

off=() on=()
run off >/dev/null	# warm-up: page cache, slab caches
for ((i = 1; i <= reps; i++)); do
	if ((i % 2)); then order="off on"; else order="on off"; fi
	for mode in $order; do
		r=$(run "$mode")
		echo "rep $i $mode $r conn/s"
		if [ "$mode" = on ]; then on+=("$r"); else off+=("$r"); fi
	done
done
moff=$(printf '%s\n' "${off[@]}" | median)
mon=$(printf '%s\n' "${on[@]}" | median)
awk -v off="$moff" -v on="$mon" -v n="$reps" 'BEGIN {
	printf "tcpstate churn: off %.0f/s on %.0f/s ratio %.4f overhead %.2f%% (median of %d, target <= 2%%)\n",
	       off, on, on / off, 100 * (1 - on / off), n }'
