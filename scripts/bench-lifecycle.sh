#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# How long detach, attach and a scrape (`stats --prometheus`) take, what
# sk_msg costs per message (bpf_stats) and the round-trip latency of one
# more accelerated connection, with live accelerated
# connections: 0, 10, 1,000, 10,000 and 50,000 pooled
# connections (tests/tools/bypass_pool: an
# event-driven client pool and server, POOL_RATE requests a second over
# all its clients in every row, so that rows differ by the table's size
# alone), all in the sockhash, in a private cgroup and network namespace.  Each repetition
# starts a fresh pool (detach releases the pool's connections to the
# stack, so they are not accelerated again), waits until every socket is
# in the sockhash, then times `detach` (grace, queue reads, releases,
# unpin) and the `attach` after it (self-test, load, attach), with the CPU
# time accelctl used for each.  The latency: with the pool stopped
# (SIGSTOP: its entries stay in the table, its traffic does not compete
# for the 2 CPUs) tests/tools/bench_rr runs RR_SECONDS of 64-byte
# request/response on one nonblocking connection, both ends on the last
# CPU (bench.sh's "RR 64 B, same CPU" row), and its p50 is reported with
# sk_msg's cost per run on that connection alone; the row says "not
# bypassed" if the bypass did not carry its bytes.  Clients are spread
# over processes of at most 5,000 connections and servers of at most
# 15,000 (RLIMIT_NOFILE is 20,000 here).
#
# Usage: scripts/bench-lifecycle.sh [-r REPS] [-n "0 1000 10000"]
#   (-n also takes commas: -n 0,1000,10000)
#   OUT=build    build directory (accelctl, tests/tools/bypass_pool, bench_rr,
#                bench_floor)
#   RR_SECONDS=1 seconds of the RR run
#   BENCH_NO_FLOOR=1 no floor column
#   POOL_RATE=200 the pool's requests a second, all clients together
#                (each client one every clients*1000/POOL_RATE ms); "max":
#                as fast as the pool goes (one per loop turn per client)
# Then a restart that keeps them: `detach --handover 30` and the attach
# that adopts the pool (every socket still in the sockhash is checked).
# Then the same pool once more under the floor (tests/tools/bench_floor,
# on a cgroup of its own: the cheapest redirect, bench.sh's floor
# column), for its sk_msg cost at the same rate: accel/floor.
# Prints lines per repetition and two summaries per size (the first
# is one line, here wrapped):
#   lifecycle N connections: sk_msg <ns> ns/run at <runs> runs/s (floor <ns> ns/run at <runs> runs/s),
#     RR 64 B p50 <us> us (its sk_msg <ns> ns/run),
#     scrape <ms> ms (cpu <ms> ms), detach <ms> ms (cpu <ms> ms), attach <ms> ms (cpu <ms> ms) (median of R)
#   lifecycle N connections handed over: detach --handover <ms> ms attach adopting them <ms> ms (median of R)
# Exit 0 when measured, 1 on error.
set -euo pipefail
bench_name=bench-lifecycle
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
POOL=$OUT/tests/tools/bypass_pool
FLOOR=$OUT/tests/tools/bench_floor
RR=$OUT/tests/tools/bench_rr
RR_SECONDS=${RR_SECONDS:-1}
RR_PORT=46990	# in --event-ports, above the pool servers' ports
RR_CPU=$(($(nproc) - 1))
POOL_RATE=${POOL_RATE:-200}
reps=3 sizes="0 10 1000 10000 50000"

while getopts "r:n:" c; do
	case $c in
	r) reps=$OPTARG ;;
	n) sizes=${OPTARG//,/ } ;;
	*) echo "usage: $0 [-r REPS] [-n SIZES]" >&2; exit 2 ;;
	esac
done
[[ "$POOL_RATE" =~ ^([1-9][0-9]{0,5}|max)$ ]] ||
	{ echo "$0: POOL_RATE: a number of requests a second (1-999999) or max, not '$POOL_RATE'" >&2; exit 2; }
bench_need_root
bench_need_built "$POOL" "$RR"

id="accel-bench-lifecycle-$$"
pin="/sys/fs/bpf/$id"
state=$(mktemp -d "/tmp/$id.XXXXXX")
A="$ACCELCTL --pin-root $pin --state-dir $state"
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cg2" ] || { echo "bench-lifecycle: no cgroup2 mount" >&2; exit 1; }
cg="$cg2/$id"
cgf="$cg2/$id-floor"
floor_pid=
ns="$id-ns"
pids=()
stop_pool() {
	local p
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
stats0=$(cat /proc/sys/kernel/bpf_stats_enabled)
cleanup() {
	echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled
	stop_pool
	$A detach --force >/dev/null 2>&1 || true
	echo $$ >"$cg2/cgroup.procs" 2>/dev/null || true
	[ -z "$floor_pid" ] || { kill "$floor_pid" 2>/dev/null || true; wait "$floor_pid" 2>/dev/null || true; }
	rmdir "$cg" "$cgf" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$state" "$pin"
}
trap cleanup EXIT

mkdir "$cg"
echo $$ >"$cg/cgroup.procs"
ip netns add "$ns"
ip -n "$ns" link set lo up
attach() { $A attach --features bypass --cgroup "$cg" --event-ports 46000-46999 "$@"; }

sockets() {
	$A stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["metrics"].get("accel_bypass_sockets", {}).get("samples", [])
print(int(s[0]["value"]) if s else 0)'
}

sockets_at_least() { [ "$(sockets)" -ge "$1" ]; }

wait_for() {	# seconds cmd...
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# Wall and CPU (user + system of the child) of one accelctl command, ms.
timed() {
	local t0 t1 c0 c1 me=$BASHPID	# (inside $(...) BASHPID is that subshell's)
	c0=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$me/stat)
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	c1=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$me/stat)
	echo "$(((t1 - t0) / 1000000)) $(((c1 - c0) * 1000 / $(getconf CLK_TCK)))"
}

pool_listening() { ip netns exec "$ns" ss -Hltn | grep -q ":$1 "; }

# A client's interval (ms) for POOL_RATE over all $1 clients, rounded.
pool_interval() {
	[ "$POOL_RATE" = max ] && { echo 0; return; }
	echo $((($1 * 1000 + POOL_RATE / 2) / POOL_RATE))
}

# start_pool N COND...: a pool of N connections (servers of <= 15,000,
# clients of <= 5,000 each), then wait until COND... holds.
start_pool() {
	local n=$1 base=$((46000 + RANDOM % 800)) left per s=0 k nsrv iv
	shift
	rm -f "$state"/pool-ready.*
	nsrv=$(((n + 14999) / 15000)); [ "$nsrv" -ge 1 ] || nsrv=1
	iv=$(pool_interval $(((n + 4999) / 5000)))
	for ((k = 0; k < nsrv; k++)); do
		ip netns exec "$ns" "$POOL" -s -p $((base + k)) >/dev/null 2>&1 & pids+=($!)
		wait_for 10 pool_listening $((base + k)) || return 1
	done
	left=$n
	while [ "$left" -gt 0 ]; do
		per=$((left > 5000 ? 5000 : left))
		ip netns exec "$ns" "$POOL" -c -p $((base + s % nsrv)) -n "$per" -i "$iv" -S 4096 -q -f "$state/pool-ready.$s" >/dev/null 2>&1 & pids+=($!)
		left=$((left - per)) s=$((s + 1))
	done
	wait_for 240 "$@"
}

# sk_msg's own cost per run with the pool's requests flowing for 2 s
# (kernel.bpf_stats_enabled for the run, put back on exit): "<ns> <runs>"
skmsg_stats() {	# [bpftool's program: id N] (default: accelctl's)
	local prog=("$@")
	[ $# -gt 0 ] || prog=(pinned "$pin/bypass/prog_bypass_sk_msg")
	bpftool -j prog show "${prog[@]}" |
		python3 -c 'import json, sys; p = json.load(sys.stdin); print(p.get("run_time_ns", 0), p.get("run_cnt", 0))'
}
skmsg_cost() {	# [program, as skmsg_stats]
	local n0 r0 n1 r1
	read -r n0 r0 < <(skmsg_stats "$@")
	sleep 2		# the measurement window, not a wait for a condition
	read -r n1 r1 < <(skmsg_stats "$@")
	awk -v n=$((n1 - n0)) -v r=$((r1 - r0)) 'BEGIN { printf "%.0f %d\n", r ? n / r : 0, r }'
}

# The floor (tests/tools/bench_floor: the cheapest redirect, no safety;
# bench.sh's floor column) on a cgroup of its own next to accelctl's: the
# same pool's sk_msg cost under it, for accel/floor.  Started once; its
# sk_msg program's id in floor_prog; floor_why says why there is none
# (BENCH_NO_FLOOR=1, as for bench.sh, or the loader failed: the floor
# columns are n/a, the rest is measured).
floor_prog= floor_why=${BENCH_NO_FLOOR:+BENCH_NO_FLOOR=1}
floor_start() {
	local line
	mkdir "$cgf"
	coproc FLOOR_CO { exec "$FLOOR" "$cgf" 2>"$state/floor.log"; }
	floor_pid=$FLOOR_CO_PID
	if read -r -t 10 line <&"${FLOOR_CO[0]}" && [ "$line" = ready ]; then
		floor_prog=$(bpftool -j prog show | python3 -c 'import json, sys
print(max(p["id"] for p in json.load(sys.stdin) if p.get("name") == "floor_sk_msg"))') && return 0
	fi
	floor_why="tests/tools/bench_floor failed: $(tail -n 3 "$state/floor.log" | tr '\n' ' ')"
	echo "bench-lifecycle: no floor column: $floor_why" >&2
	return 1
}
# Every client of the pool connected (they write "ready N" with -f).
clients_ready() {
	local f k=0
	for f in "$state"/pool-ready.*; do
		case $f in *.stats) continue ;; esac
		[ -s "$f" ] && k=$((k + 1))
	done
	[ "$k" -ge $((($1 + 4999) / 5000)) ]
}
# sk_msg's cost with a pool of $1 connections under the floor, in
# FL_NS (ns/run) and FL_RUNS (runs in 2 s, 0: no floor).  Not in a
# subshell: the pool is forked from this shell, moved to the floor's
# cgroup for it.  1 when the pool failed.
floor_cost() {
	local n=$1 r=0
	FL_NS=0 FL_RUNS=0
	[ -z "$floor_why" ] || return 0
	[ -n "$floor_prog" ] || floor_start || return 0
	echo "$BASHPID" >"$cgf/cgroup.procs"
	start_pool "$n" clients_ready "$n" || r=1
	echo "$BASHPID" >"$cg/cgroup.procs"
	[ $r = 1 ] || read -r FL_NS FL_RUNS < <(skmsg_cost id "$floor_prog")
	stop_pool
	return $r
}

bypassed_bytes() {
	$A stats --prometheus | awk '/^accel_bypass_bytes_total / { print $2 }'
}

# One RR run on its own connection with the pool stopped: "<p50 us> <sk_msg
# ns/run on it> <bypassed: yes|no>", or nothing when bench_rr failed.
rr_cost() {
	local out b0 b1 n0 r0 n1 r1 p=${pids[*]}
	# shellcheck disable=SC2086 # the pool's pids
	kill -STOP $p 2>/dev/null || true
	b0=$(bypassed_bytes)
	read -r n0 r0 < <(skmsg_stats)
	out=$(ip netns exec "$ns" "$RR" -f tcp -p $RR_PORT -m 64 -t "$RR_SECONDS" -N -C $RR_CPU -S $RR_CPU 2>&1) || out=
	read -r n1 r1 < <(skmsg_stats)
	b1=$(bypassed_bytes)
	# shellcheck disable=SC2086
	kill -CONT $p 2>/dev/null || true
	[ -n "$out" ] || { echo "bench-lifecycle: bench_rr failed" >&2; return 0; }
	awk -v out="$out" -v n=$((n1 - n0)) -v r=$((r1 - r0)) -v b="$((b1 - b0))" 'BEGIN {
		k = split(out, f, " ")
		for (i = 1; i < k; i++) { if (f[i] == "p50_us") p = f[i + 1]; if (f[i] == "requests") q = f[i + 1] }
		# both directions of every request, warm-up included
		printf "%s %.0f %s\n", p, r ? n / r : 0, (b >= 0.9 * 2 * 64 * q) ? "yes" : "no" }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo 1 >/proc/sys/kernel/bpf_stats_enabled
attach >/dev/null 2>&1
for n in $sizes; do
	d=() dc=() a=() ac=() hd=() ha=() sc=() scc=() sk=() skr=() fk=() fkr=() rp=() rk=() rnb=
	for ((i = 1; i <= reps; i++)); do
		start_pool "$n" sockets_at_least $((2 * n)) || { echo "bench-lifecycle: pool of $n not accelerated ($(sockets) sockets)" >&2; exit 1; }
		read -r w c < <(timed $A stats --prometheus)
		sc+=("$w") scc+=("$c")
		read -r w c < <(skmsg_cost)
		skv=n/a skrv=0
		[ "$c" -gt 0 ] && sk+=("$w") skv=$w skrv=$((c / 2)) skr+=("$((c / 2))")
		rpv= rkv= rby=
		read -r rpv rkv rby < <(rr_cost) || true
		[ -n "${rpv:-}" ] && rp+=("$rpv") rk+=("$rkv")
		[ "${rby:-}" = no ] && rnb=" (not bypassed)"
		read -r w c < <(timed $A detach)
		d+=("$w"); dc+=("$c")
		stop_pool
		read -r w c < <(timed attach)
		a+=("$w"); ac+=("$c")
		echo "rep $i: $n connections: sk_msg $skv ns/run at $skrv runs/s, RR 64 B p50 ${rpv:-n/a} us (its sk_msg ${rkv:-n/a} ns/run${rby:+, bypassed $rby})," \
			"scrape ${sc[-1]} ms (cpu ${scc[-1]} ms), detach ${d[-1]} ms (cpu ${dc[-1]} ms), attach ${a[-1]} ms (cpu ${ac[-1]} ms)"
		# a restart that keeps them: detach --handover, attach adopts
		start_pool "$n" sockets_at_least $((2 * n)) || { echo "bench-lifecycle: pool of $n not accelerated ($(sockets) sockets)" >&2; exit 1; }
		read -r w c < <(timed $A detach --handover 30)
		hd+=("$w")
		read -r w c < <(timed attach)
		ha+=("$w")
		kept=$(sockets)
		[ "$kept" -ge $((2 * n)) ] || { echo "bench-lifecycle: $kept of $((2 * n)) sockets adopted" >&2; exit 1; }
		stop_pool
		echo "rep $i: $n connections: detach --handover ${hd[-1]} ms, attach (adopts $kept sockets) ${ha[-1]} ms"
		# the same pool under the floor
		if [ "$n" -gt 0 ]; then
			floor_cost "$n" || { echo "bench-lifecycle: pool of $n under the floor failed" >&2; exit 1; }
			if [ "$FL_RUNS" -gt 0 ]; then
				fk+=("$FL_NS") fkr+=("$((FL_RUNS / 2))")
				echo "rep $i: $n connections under the floor: sk_msg $FL_NS ns/run at $((FL_RUNS / 2)) runs/s"
			fi
		fi
	done
	echo "lifecycle $n connections: sk_msg $( ((${#sk[@]})) && printf '%s\n' "${sk[@]}" | median || echo n/a) ns/run" \
		"at $( ((${#skr[@]})) && printf '%s\n' "${skr[@]}" | median || echo 0) runs/s" \
		"(floor $( ((${#fk[@]})) && printf '%s\n' "${fk[@]}" | median || echo n/a) ns/run" \
		"at $( ((${#fkr[@]})) && printf '%s\n' "${fkr[@]}" | median || echo 0) runs/s)," \
		"RR 64 B p50 $( ((${#rp[@]})) && printf '%s\n' "${rp[@]}" | median || echo n/a) us" \
		"(its sk_msg $( ((${#rk[@]})) && printf '%s\n' "${rk[@]}" | median || echo n/a) ns/run)$rnb," \
		"scrape $(printf '%s\n' "${sc[@]}" | median) ms (cpu $(printf '%s\n' "${scc[@]}" | median) ms)," \
		"detach $(printf '%s\n' "${d[@]}" | median) ms" \
		"(cpu $(printf '%s\n' "${dc[@]}" | median) ms)," \
		"attach $(printf '%s\n' "${a[@]}" | median) ms (cpu $(printf '%s\n' "${ac[@]}" | median) ms)" \
		"(median of $reps)"
	echo "lifecycle $n connections handed over: detach --handover $(printf '%s\n' "${hd[@]}" | median) ms" \
		"attach adopting them $(printf '%s\n' "${ha[@]}" | median) ms (median of $reps)"
done
