#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What learning (attach --learn, the default on kernels whose sockmap
# differs from TCP) costs, in a private cgroup and network namespace:
#
#   time   a fresh redis-server started after attach, driven by bursts of
#          redis-benchmark (8 connections, 2,000 GETs each): how many
#          bursts and seconds until bypassed bytes move (default
#          --learn-conns 8: the first burst teaches, the second is
#          accelerated)
#   hook   the observation tracepoint (sock_recv_length) runs for every
#          recvmsg of the host: bench_rr 64 B on plain loopback (a socket
#          no one observes), with learning attached vs --learn off
#          attached, interleaved; rate and host CPU per transaction
#   steady redis-benchmark GET/SET (50 connections) once the port is
#          learned vs the same port under --event-ports with --learn off,
#          interleaved (one attach per run)
#
# Usage: scripts/bench-learn.sh [-r REPS] [-t SECONDS]
#   OUT=build    build directory (accelctl, tests/tools/bench_rr)
# Prints one line per measurement and a summary per part:
#   learn time: accelerated at burst B, S s after redis-server started (median of R)
#   learn hook: rr 64 B rate off <r>/s learning <r>/s ratio <x>; cpu us/tx off <c> learning <c>
#   learn steady GET|SET: event-ports <rps> learned <rps> ratio <x>
# Exit 0 when measured, 1 on error, 77 when this kernel needs no learning.
set -euo pipefail
bench_name=bench-learn
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
RR=$OUT/tests/tools/bench_rr
reps=3 secs=1

bench_opts_rt "$@"
bench_need_root
bench_need_built "$RR"
for c in redis-server redis-benchmark python3; do
	command -v "$c" >/dev/null || { echo "bench-learn: $c missing: scripts/install-deps.sh bench" >&2; exit 1; }
done

id="accel-bench-learn-$$"
pin="/sys/fs/bpf/$id"
work=$(mktemp -d "/tmp/$id.XXXXXX")
state=$work/state
A="$ACCELCTL --pin-root $pin --state-dir $state"
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$cg2" ] || { echo "bench-learn: no cgroup2 mount" >&2; exit 1; }
cg="$cg2/$id"
ns="$id-ns"
redis_pid=
stats0=$(cat /proc/sys/kernel/bpf_stats_enabled)
cleanup() {
	echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	$A detach --force >/dev/null 2>&1 || true
	echo $$ >"$cg2/cgroup.procs" 2>/dev/null || true
	# whatever is left in the cgroup (a tool past its run) goes with it
	if [ -d "$cg" ]; then
		echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
		for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work" "$pin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$cg"
echo $$ >"$cg/cgroup.procs"
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }
port=6391

bytes() {
	$A stats --json | python3 -c '
import json, sys
m = json.load(sys.stdin)["metrics"].get("accel_bypass_bytes_total", {}).get("samples", [])
print(int(sum(s["value"] for s in m)))'
}
restricted() {
	$A status --json | python3 -c '
import json, sys; print(int(json.load(sys.stdin)["features"]["bypass"]["blocking_readers_unsafe"]))'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

start_redis() {
	mkdir -p "$work/redis"
	(exec ip netns exec "$ns" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
		--dir "$work/redis" --logfile "$work/redis/log") &
	redis_pid=$!
	for _ in $(seq 200); do
		in_ns redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "bench-learn: redis-server did not start: $(tail -n 3 "$work/redis/log")" >&2
	exit 1
}
stop_redis() { kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=; }

attach() { $A attach --features bypass --cgroup "$cg" "$@" >"$work/attach.out" 2>&1 ||
	{ echo "bench-learn: attach $*: $(cat "$work/attach.out")" >&2; exit 1; }; }
detach() { $A detach >/dev/null 2>&1 || { echo "bench-learn: detach failed" >&2; exit 1; }; }

attach
if [ "$(restricted)" != 1 ]; then
	echo "learn: this kernel's sockmap does not differ from TCP (bypass selftest): nothing is learned, every port is accelerated"
	exit 77
fi
detach

# ---- time until a fresh redis is accelerated
burst_at=() secs_at=()
for ((r = 1; r <= reps; r++)); do
	rm -f "$state/bypass-learned"
	attach
	t0=$(now)
	start_redis
	for ((b = 1; b <= 20; b++)); do
		in_ns redis-benchmark -p "$port" -c 8 -n 2000 -t get -q >/dev/null
		[ "$(bytes)" -gt 0 ] && break
	done
	t1=$(now)
	stop_redis
	detach
	[ "$b" -le 20 ] || { echo "bench-learn: redis not accelerated after 20 bursts" >&2; exit 1; }
	s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	echo "learn time run $r: accelerated at burst $b, $s s after redis-server started"
	burst_at+=("$b") secs_at+=("$s")
done
echo "learn time: accelerated at burst $(printf '%s\n' "${burst_at[@]}" | median)," \
     "$(printf '%s\n' "${secs_at[@]}" | median) s after redis-server started (median of $reps;" \
     "bursts of 8 connections x 2000 GET, --learn-conns 8)"

# the tracepoint program's own run time (kernel.bpf_stats_enabled, put
# back as it was on exit): "<runs> <ns>"
hook_stats() {
	local id
	id=$(bpftool -j link show pinned "$pin/bypass/link_bypass_learn_recv" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["prog_id"])')
	bpftool -j prog show id "$id" |
		python3 -c 'import json, sys; p = json.load(sys.stdin); print(p.get("run_cnt", 0), p.get("run_time_ns", 0))'
}

# ---- the hook's cost on sockets nobody observes (bench_rr outside the cgroup)
declare -A rate cpu
hook_runs=0 hook_ns=0
echo 1 >/proc/sys/kernel/bpf_stats_enabled
for ((r = 1; r <= reps; r++)); do
	for mode in off learning; do
		if [ "$mode" = off ]; then attach --learn off; else attach; fi
		b0=$(busy)
		# out of the bypass's cgroup (ip netns exec remounts /sys: move first)
		line=$(bash -c "echo \$\$ >$cg2/cgroup.procs; exec ip netns exec $ns $RR -m 64 -t $secs -C 0 -S 0")
		b1=$(busy)
		if [ "$mode" = learning ]; then
			read -r hr hn < <(hook_stats)
			hook_runs=$((hook_runs + hr)) hook_ns=$((hook_ns + hn))
		fi
		detach
		n=$(awk '{ for (i = 1; i < NF; i++) if ($i == "count") print $(i + 1) }' <<<"$line")
		x=$(awk '{ for (i = 1; i < NF; i++) if ($i == "rate") print $(i + 1) }' <<<"$line")
		c=$(awk -v j=$((b1 - b0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", j * 1e6 / hz / n }')
		echo "learn hook run $r $mode: rr 64 B same CPU rate $x/s, host cpu $c us/tx"
		rate[$mode]+="$x "
		cpu[$mode]+="$c "
	done
done
ro=$(tr ' ' '\n' <<<"${rate[off]}" | grep . | median)
rl=$(tr ' ' '\n' <<<"${rate[learning]}" | grep . | median)
echo "learn hook: rr 64 B same CPU on an unobserved socket, rate off ${ro}/s learning ${rl}/s" \
     "ratio $(awk -v a="$rl" -v b="$ro" 'BEGIN { printf "%.3f", a / b }');" \
     "host cpu us/tx off $(tr ' ' '\n' <<<"${cpu[off]}" | grep . | median)" \
     "learning $(tr ' ' '\n' <<<"${cpu[learning]}" | grep . | median) (median of $reps);" \
     "the tracepoint program: $hook_runs runs, $(awk -v n="$hook_ns" -v r="$hook_runs" 'BEGIN { printf "%.0f", r ? n / r : 0 }') ns per recvmsg"
echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled

# ---- steady state: a learned port vs the same port under --event-ports
declare -A rps
start_redis
rm -f "$state/bypass-learned"
for ((r = 1; r <= reps; r++)); do
	for mode in event learned; do
		if [ "$mode" = event ]; then
			attach --learn off --event-ports "$port"
		else
			attach
			# learn it (or re-validate the restored verdict)
			for ((b = 1; b <= 5; b++)); do
				b0=$(bytes)
				in_ns redis-benchmark -p "$port" -c 8 -n 2000 -t get -q >/dev/null
				[ "$(bytes)" -gt "$b0" ] && break
			done
		fi
		out=$(in_ns redis-benchmark -p "$port" -c 50 -n 100000 -t get,set --csv)
		[ "$(bytes)" -gt 0 ] || { echo "bench-learn: $mode run not accelerated" >&2; exit 1; }
		detach
		for t in GET SET; do
			v=$(awk -F'"' -v t="$t" '$2 == t { print $4 }' <<<"$out")
			echo "learn steady run $r $mode: $t $v requests/s"
			rps[$mode:$t]+="$v "
		done
	done
done
stop_redis
for t in SET GET; do
	e=$(tr ' ' '\n' <<<"${rps[event:$t]}" | grep . | median)
	l=$(tr ' ' '\n' <<<"${rps[learned:$t]}" | grep . | median)
	echo "learn steady $t: event-ports ${e} requests/s learned ${l} requests/s" \
	     "ratio $(awk -v a="$l" -v b="$e" 'BEGIN { printf "%.3f", a / b }') (median of $reps)"
done
