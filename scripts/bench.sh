#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# accelctl benchmark (`make bench`).  In one run, side by side:
#
#   loopback   plain TCP over 127.0.0.1
#   accel      the same, in a private cgroup with accelctl's bypass attached
#   floor      the same, in a private cgroup with the cheapest sockmap bypass
#              this kernel can run (tests/tools/bench_floor.bpf.c via
#              tests/tools/bench_floor: redirect only, NO safety; a
#              benchmark reference, never a product configuration): shows
#              what the kernel's tcp_bpf path allows (floor/lo) and what
#              accelctl's bookkeeping costs (accel/floor); nonblocking rows
#              only (blocking readers fail under a bare sockmap here)
#   unix       Unix domain stream sockets
#
# stream throughput (64 B .. 1 MiB sends), request/response latency (p50,
# p99), iperf3, sockperf ping-pong and redis-benchmark; then the netacct and
# tcpstate overhead scripts when present.  Configurations are interleaved
# (each repetition runs every configuration of a test back to back, in an
# order that rotates per repetition) and the median of the repetitions is
# reported, because a 2-core machine is noisy.  Prints a table and writes
# docs/benchmarks.md plus its plots, docs/benchmarks-{throughput,latency,
# cpu,scale}.png (scripts/bench-plot.sh, from this run's samples; skipped
# with a message when gnuplot is not installed).
#
# CPU placement is part of every stream and request/response row, because
# on a VM a cross-CPU wakeup can cost more than the whole loopback path:
# "cross CPU" (sender/client on the first CPU, receiver/server on the
# last), "same CPU" (both on the last: the stack's own cost) and
# "unpinned" (the scheduler's choice).  Streams of the main socket mode run
# all three; the "never slower than loopback" verdict of a stream size is
# taken on the worst of them.  The real clients run cross CPU.
#
# Isolation: the bypass is attached only to a private cgroup created under
# the cgroup2 mount, with a private pin root (/sys/fs/bpf/accel-bench-PID)
# and state dir; the floor loader attaches to another private cgroup and
# pins nothing (it detaches on SIGTERM or when its stdin, a pipe from this
# script, closes); every benchmark process is moved into one of three
# private cgroups; servers listen on free loopback ports with private
# directories.  Everything is undone on exit, also on failure or ^C.
#
# Environment:
#   OUT=build             build directory (accelctl, tests/tools/*)
#   BENCH_QUICK=1         a shorter run (3 repetitions of 0.5 s runs, the
#                         sub-benchmarks with fewer repetitions)
#   BENCH_REPS=N          repetitions per test (default 5, quick 3)
#   BENCH_SECONDS=S       seconds per stream/RR run (default 1.2, quick 0.5)
#   BENCH_IO=MODE         epoll (default), block, or both: socket mode of
#                         bench_stream/bench_rr for all sizes (epoll =
#                         nonblocking + epoll); the other mode runs a few
#                         rows (stream 64 KiB, RR 64 B same CPU), or all
#                         with both
#   BENCH_ONLY=REGEX      run only tests whose id matches (e.g. 'stream|rr')
#   BENCH_NO_BYPASS=1     run the accel column without attaching the bypass:
#                         an A/A run that shows the noise floor of the ratios
#   BENCH_NO_FLOOR=1      skip the floor configuration
#   BENCH_MD=FILE         markdown report (default docs/benchmarks.md;
#                         BENCH_MD= writes none)
#   BENCH_SUB_TIMEOUT=S   time limit of each scripts/bench-*.sh (default
#                         600: bench-lifecycle pools 50,000 connections;
#                         quick 60)
#
# Sub-benchmarks: scripts/bench-netacct.sh (iperf3 over veth with/without
# netacct, target <= 3 %), scripts/bench-tcpstate.sh (connection churn
# with/without tcpstate, target <= 2 %) and scripts/bench-lifecycle.sh
# (scrape, detach and attach times with 0, 10, 1,000, 10,000 and 50,000 live
# accelerated connections; BENCH_LIFECYCLE_ARGS, POOL_RATE) and scripts/bench-learn.sh (what
# learning costs: time until a fresh redis is accelerated, the observation
# hook on unobserved sockets, a learned port vs --event-ports;
# BENCH_LEARN_ARGS) run when executable, with OUT and
# ACCELCTL in the environment and shorter rounds than their defaults (to
# fit the time budget; BENCH_NETACCT_ARGS / BENCH_TCPSTATE_ARGS override).
# The report includes their output and checks the overhead they print
# (netacct: the worst of its rows for the default attach; tcpstate: its summary line).
#
# Exit status: 0 when every run completed and verified its data (targets
# missed are reported, not failed), 1 when a run failed or lost data.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-build}
case "$OUT" in /*) ;; *) OUT="$top/$OUT" ;; esac
ACCELCTL=${ACCELCTL:-$OUT/accelctl}
TOOLS=$OUT/tests/tools

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
	REPS=${BENCH_REPS:-3} DUR=${BENCH_SECONDS:-0.5} REAL_DUR=1 REDIS_N=50000
	SUB_TIMEOUT=${BENCH_SUB_TIMEOUT:-60}
	NETACCT_ARGS=${BENCH_NETACCT_ARGS:--d 1 -r 1} TCPSTATE_ARGS=${BENCH_TCPSTATE_ARGS:--r 3 -t 1}
	LIFECYCLE_ARGS=${BENCH_LIFECYCLE_ARGS:--r 1}
	LEARN_ARGS=${BENCH_LEARN_ARGS:--r 1 -t 0.5}
else
	REPS=${BENCH_REPS:-5} DUR=${BENCH_SECONDS:-1.2} REAL_DUR=2 REDIS_N=100000
	SUB_TIMEOUT=${BENCH_SUB_TIMEOUT:-600}
	NETACCT_ARGS=${BENCH_NETACCT_ARGS:--d 1 -r 10} TCPSTATE_ARGS=${BENCH_TCPSTATE_ARGS:--r 5 -t 1}
	LIFECYCLE_ARGS=${BENCH_LIFECYCLE_ARGS:--r 3}
	LEARN_ARGS=${BENCH_LEARN_ARGS:--r 3 -t 1}
fi
IO=${BENCH_IO:-epoll}
ONLY=${BENCH_ONLY:-}
MD=${BENCH_MD-$top/docs/benchmarks.md}
PLOT_DIR=		# data files for scripts/bench-plot.sh (set with WORK)
declare -A PLOTTED	# plot name -> PNG file name, the plots drawn this run
SIZES=(64 1K 4K 16K 64K 256K 1M)
RR_SIZES=(64 4K)
CFGS=(loopback accel floor unix)
PLACES=(same cross free)	# RR, sockperf; free = unpinned
STREAM_PLACES=(same free)	# besides cross (the row without a suffix)
CPU_TX=0			# sender / client
CPU_RX=$(($(nproc) - 1))	# receiver / server

die() { echo "bench: $*" >&2; exit 1; }
log() { printf '%s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (cgroups, bpffs, BPF programs): run sudo make bench"
for t in bench_stream bench_rr ${BENCH_NO_FLOOR:+-}bench_floor; do
	[ "$t" = -bench_floor ] && continue
	[ -x "$TOOLS/$t" ] || die "$TOOLS/$t missing: run make bench (it builds tests/tools)"
done
[ -x "$ACCELCTL" ] || die "$ACCELCTL missing: run make"
case "$IO" in block | epoll | both) ;; *) die "BENCH_IO must be epoll, block or both" ;; esac
for c in iperf3 sockperf redis-server redis-benchmark redis-cli python3; do
	command -v "$c" >/dev/null || die "$c missing: run scripts/install-deps.sh bench"
done
command -v gnuplot >/dev/null ||
	log "bench: gnuplot missing: docs/benchmarks.md gets no plots (scripts/install-deps.sh bench installs it)"

# ---------------------------------------------------------------- set-up

WORK=$(mktemp -d /tmp/accel-bench.XXXXXX)
PLOT_DIR=$WORK/plot
mkdir "$PLOT_DIR"
PIN=/sys/fs/bpf/accel-bench-$$
STATE=$WORK/state
CG=
PIDS=()
BYPASS=		# accel column runs (1) or not
ATTACHED=	# the bypass is attached to the accel cgroup
BYPASS_WHY=
FLOOR=		# the floor loader is attached to the floor cgroup
FLOOR_WHY=
A=("$ACCELCTL" --pin-root "$PIN" --state-dir "$STATE")

cg2_mount() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }
cg_empty() { [ -z "$(cat "$CG"/*/cgroup.procs 2>/dev/null)" ]; }

wait_for() {	# seconds cmd...
	local t=$1 i; shift
	for ((i = 0; i < t * 20; i++)); do "$@" && return 0; sleep 0.05; done
	return 1
}

cleanup() {
	local p cg
	trap - EXIT INT TERM
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -e "$PIN" ]; then
		"${A[@]}" detach >/dev/null 2>&1 || "${A[@]}" detach --force >/dev/null 2>&1 || true
		rm -rf "$PIN"
	fi
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		# Only this run's benchmark processes live in these cgroups:
		# whatever is left (a tool past its timeout) is killed with them.
		if [ -n "$(cat "$CG"/*/cgroup.procs 2>/dev/null)" ]; then
			echo 1 >"$CG/cgroup.kill" 2>/dev/null ||
				cat "$CG"/*/cgroup.procs | while read -r p; do kill -KILL "$p"; done
			wait_for 5 cg_empty
		fi
		for cg in "$CG"/*/; do [ -d "$cg" ] && rmdir "$cg"; done
		rmdir "$CG" || log "bench: could not remove $CG"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$(cg2_mount)
[ -n "$root" ] || die "no cgroup2 mount in /proc/mounts"
CG=$root/accel-bench-$$
mkdir "$CG" "$CG/plain" "$CG/accel" "$CG/floor"

# Run a command with its process moved into cgroup $1 (children inherit it).
in_cg() {
	local cg=$1; shift
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec "$@")
}

cg_of() {	# config -> cgroup
	case "$1" in accel | floor) echo "$CG/$1" ;; *) echo "$CG/plain" ;; esac
}

# A port no socket uses, below the ephemeral range (so no client's
# connect() can take it between runs: a listener reuses its port every
# run, and SO_REUSEADDR does not help against a live connection on it).
free_port() {
	local p i lo
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range)
	[ "$lo" -gt 11024 ] || die "ephemeral port range starts at $lo: no room for fixed ports"
	for ((i = 0; i < 100; i++)); do
		p=$((10000 + RANDOM % (lo - 10000)))
		[ -z "$(ss -Htan "( sport = :$p or dport = :$p )")" ] && { echo "$p"; return 0; }
	done
	die "no free loopback port found"
}

listening() { [ -n "$(ss -Htln "sport = :$1")" ]; }

start_server() {	# config name port cmd...: start in the config's cgroup, wait for the port
	local cfg=$1 name=$2 port=$3; shift 3
	# Not through in_cg: $! must be the server itself (bash execs it).
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$(cg_of "$cfg")" "$@" \
		>"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	wait_for 10 listening "$port" || { cat "$WORK/$name.log" >&2; die "$name did not start on port $port"; }
}

# Ports, chosen before the bypass is attached: on kernels whose sockmap
# differs from TCP (attach's self-test), the bypass accelerates only servers listed as
# event-driven (--event-ports), so the ports of the accel configuration's
# nonblocking servers are listed, as an operator would list them; the
# blocking servers (bench tools in blocking mode) get a port of their own
# that is not listed.
declare -A TOOL_PORT BLOCK_PORT IPERF_PORT SOCKPERF_PORT REDIS_PORT
TAKEN=" "
pick_port() {	# a free port not picked before in this run
	local p
	while :; do
		p=$(free_port)
		[[ "$TAKEN" == *" $p "* ]] || break
	done
	TAKEN+="$p "
	echo "$p"
}
for cfg in loopback accel floor; do
	TOOL_PORT[$cfg]=$(pick_port)
	BLOCK_PORT[$cfg]=$(pick_port)
	IPERF_PORT[$cfg]=$(pick_port)
	SOCKPERF_PORT[$cfg]=$(pick_port)
	REDIS_PORT[$cfg]=$(pick_port)
done
# Not iperf3: its control connection is a blocking socket on the same port
# (and its client connects blocking), so it is not an event-driven server.
EVENT_PORTS=${TOOL_PORT[accel]},${SOCKPERF_PORT[accel]},${REDIS_PORT[accel]}

ATTACH_CMD="accelctl attach --features bypass --cgroup $CG/accel --event-ports $EVENT_PORTS"
ATTACH_MSG=
if [ -n "${BENCH_NO_BYPASS:-}" ]; then
	BYPASS=1
	BYPASS_WHY="BENCH_NO_BYPASS=1: A/A run, the accel column is plain loopback in its own cgroup"
	log "bench: $BYPASS_WHY"
elif out=$("${A[@]}" attach --features bypass --cgroup "$CG/accel" \
		--event-ports "$EVENT_PORTS" 2>&1); then
	BYPASS=1 ATTACHED=1
	ATTACH_MSG=$out
	log "$out"
else
	BYPASS_WHY=$(printf '%s\n' "$out" | grep -v '^$' | tail -n 3 | tr '\n' ' ')
	log "bench: bypass not attached, the accel column stays empty: $BYPASS_WHY"
	rm -rf "$PIN"
fi

# The floor configuration: its loader runs as a coprocess, so that its
# stdin is a pipe from this script (it detaches when the pipe closes, even
# if this script is killed) and its "ready" can be read back.  In PIDS:
# cleanup() stops it with the servers.
if [ -n "${BENCH_NO_FLOOR:-}" ]; then
	FLOOR_WHY="BENCH_NO_FLOOR=1"
else
	coproc FLOOR_CO { exec "$TOOLS/bench_floor" "$CG/floor" 2>"$WORK/floor.log"; }
	PIDS+=("$FLOOR_CO_PID")
	# (bash unsets FLOOR_CO once the coprocess has exited)
	floor_out=${FLOOR_CO[0]:-}
	if [ -n "$floor_out" ] && read -r -t 10 line <&"$floor_out" && [ "$line" = ready ]; then
		FLOOR=1
	else
		FLOOR_WHY="tests/tools/bench_floor failed: $(grep -v '^$' "$WORK/floor.log" | tail -n 3 | tr '\n' ' ')"
		log "bench: floor not attached, the floor column stays empty: $FLOOR_WHY"
	fi
fi

# The bypass's counters: "bytes N" (accel_bypass_bytes_total) and one line
# "<reason> N" per accel_bypass_fallback_total reason; nothing if detached.
bypass_snap() {
	[ -n "$ATTACHED" ] || return 0
	"${A[@]}" stats --prometheus 2>/dev/null | awk '
		/^accel_bypass_bytes_total[ {]/ { b += $NF; n++ }
		/^accel_bypass_fallback_total[{]/ {
			if (match($0, /reason="[^"]*"/)) f[substr($0, RSTART + 8, RLENGTH - 9)] += $NF
		}
		END { if (!n) exit
		      printf "bytes %.0f\n", b
		      for (r in f) printf "%s %.0f\n", r, f[r] }'
}

# bypass_delta BEFORE AFTER: "<bytes> <reason,reason|->" that grew in between.
bypass_delta() {
	awk 'NR == FNR { a[$1] = $2; next }
	     $1 == "bytes" { b = $2 - a[$1]; next }
	     $2 > a[$1] { r = r (r ? "," : "") $1 }
	     END { printf "%.0f %s\n", b, r ? r : "-" }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# ---------------------------------------------------------------- servers

REAL=1
if [[ -n "$ONLY" && ! "iperf3 sockperf redis" =~ $ONLY ]]; then REAL=; fi
if [ -n "$REAL" ]; then
	for cfg in loopback accel floor; do
		[ "$cfg" = accel ] && [ -z "$BYPASS" ] && continue
		[ "$cfg" = floor ] && [ -z "$FLOOR" ] && continue
		# No iperf3 for floor: blocking client and control connection
		# (run_one).
		[ "$cfg" = floor ] || start_server "$cfg" "iperf3-$cfg" "${IPERF_PORT[$cfg]}" \
			taskset -c "$CPU_RX" iperf3 -s -B 127.0.0.1 -p "${IPERF_PORT[$cfg]}"
		# sockperf takes -F (epoll) only with a feed file of addresses.
		echo "T:127.0.0.1:${SOCKPERF_PORT[$cfg]}" >"$WORK/sockperf-$cfg.feed"
		start_server "$cfg" "sockperf-$cfg" "${SOCKPERF_PORT[$cfg]}" \
			taskset -c "$CPU_RX" sockperf sr --nonblocked -F epoll -f "$WORK/sockperf-$cfg.feed"
		mkdir -p "$WORK/redis-$cfg"
		rargs=(--bind 127.0.0.1 --port "${REDIS_PORT[$cfg]}" --dir "$WORK/redis-$cfg"
		       --save '' --appendonly no --daemonize no --protected-mode no
		       --logfile "$WORK/redis-$cfg/log")
		# The loopback server also serves the unix configuration.
		[ "$cfg" = loopback ] && rargs+=(--unixsocket "$WORK/redis-$cfg/sock" --unixsocketperm 700)
		start_server "$cfg" "redis-$cfg" "${REDIS_PORT[$cfg]}" \
			taskset -c "$CPU_RX" redis-server "${rargs[@]}"
	done
fi

# ---------------------------------------------------------------- runs

SAMPLES=$WORK/samples	# "key cfg rep value"
: >"$SAMPLES"
FAILED=()

# kv TEXT KEY: the word after KEY in a "key value key value" line.
kv() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$1"; }

record() { echo "$1 $2 $3 $4" >>"$SAMPLES"; }

# The whole machine's busy time in clock ticks (/proc/stat "cpu": all but
# idle, iowait and steal).  Whole machine, not the processes' rusage:
# loopback TCP does its receive work in softirq, which the kernel charges
# to no task (or to whichever task it interrupted); only the machine
# total is fair between the stack and the bypass.  Valid in a quiet run.
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
HZ=$(getconf CLK_TCK)

# Run one measurement: config, test id, rep.  Records its samples.
run_one() {
	local cfg=$1 id=$2 rep=$3 cg out rc b0 b1 payload="" tmo kind size mode place t0 t1 work=""
	local cl=$CPU_TX
	local -a cmd
	cg=$(cg_of "$cfg")
	IFS=: read -r kind size mode place <<<"$id"
	# floor puts every socket into its sockhash, blocking ones too, and a
	# blocking reader of a sockhash socket gets -EAGAIN on kernels the
	# bypass's self-test finds affected (docs/bypass.md): blocking rows
	# and iperf3 (blocking client and control connection) would fail, not
	# measure.  The bypass leaves such sockets on the stack.
	if [ "$cfg" = floor ] && { [ "$mode" = block ] || [ "$kind" = iperf3 ]; }; then
		return 0
	fi
	local -a ep=(-f tcp -p "${TOOL_PORT[$cfg]:-0}")
	[ "$mode" = block ] && ep=(-f tcp -p "${BLOCK_PORT[$cfg]:-0}")
	[ "$cfg" = unix ] && ep=(-f unix)
	tmo=$(awk -v d="$DUR" 'BEGIN { printf "%d", d + 60 }')
	case "$kind" in
	stream)
		cmd=("$TOOLS/bench_stream" "${ep[@]}" -m "$size" -t "$DUR")
		case "$place" in
		same) cmd+=(-C "$CPU_RX" -S "$CPU_RX") ;;
		free) ;;
		*) cmd+=(-C "$CPU_TX" -S "$CPU_RX") ;;
		esac
		[ "$mode" = epoll ] && cmd+=(-N) ;;
	rr)
		cmd=("$TOOLS/bench_rr" "${ep[@]}" -m "$size" -t "$DUR")
		case "$place" in
		same) cmd+=(-C "$CPU_RX" -S "$CPU_RX") ;;
		free) ;;
		*) cmd+=(-C "$CPU_TX" -S "$CPU_RX") ;;
		esac
		[ "$mode" = epoll ] && cmd+=(-N) ;;
	iperf3)
		[ "$cfg" = unix ] && return 0
		cmd=(taskset -c "$CPU_TX" iperf3 -c 127.0.0.1 -p "${IPERF_PORT[$cfg]}" -t "$REAL_DUR" -J) ;;
	sockperf)
		[ "$cfg" = unix ] && return 0
		place=$size
		[ "$place" = same ] && cl=$CPU_RX
		cmd=(sockperf pp --nonblocked -F epoll --full-rtt
		     -f "$WORK/sockperf-$cfg.feed" -t "$REAL_DUR" -m 64)
		[ "$place" = free ] || cmd=(taskset -c "$cl" "${cmd[@]}") ;;
	redis)
		if [ "$cfg" = unix ]; then
			cmd=(redis-benchmark -s "$WORK/redis-loopback/sock")
		else
			cmd=(redis-benchmark -h 127.0.0.1 -p "${REDIS_PORT[$cfg]}")
		fi
		cmd=(taskset -c "$CPU_TX" "${cmd[@]}" -t "set,get" -n "$REDIS_N" -c 50 -d 64 -q --csv) ;;
	esac
	[ "$cfg" = accel ] && b0=$(bypass_snap)
	rc=0
	t0=$(busy_ticks)
	out=$(in_cg "$cg" timeout -k 5 "$tmo" "${cmd[@]}" 2>"$WORK/err") || rc=$?
	t1=$(busy_ticks)
	[ "$cfg" = accel ] && b1=$(bypass_snap)
	if [ "$rc" -ne 0 ]; then
		FAILED+=("$id $cfg rep $rep: exit $rc: $(tail -n 2 "$WORK/err" | tr '\n' ' ')")
		log "  FAILED $id $cfg: $(tail -n 2 "$WORK/err" | tr '\n' ' ')"
		return 0
	fi
	case "$kind" in
	stream)
		record "$id" "$cfg" "$rep" "$(kv "$out" MBps)"
		payload=$(kv "$out" bytes)
		work=$(awk -v b="$payload" 'BEGIN { print b / 1073741824 }') ;;	# GiB
	rr)
		record "$id:p50" "$cfg" "$rep" "$(kv "$out" p50_us)"
		record "$id:p99" "$cfg" "$rep" "$(kv "$out" p99_us)"
		work=$(awk -v c="$(kv "$out" requests)" 'BEGIN { print c / 1000 }')	# 1,000 round trips
		payload=$(awk -v c="$(kv "$out" requests)" -v m="$size" 'BEGIN {
			m = m ~ /K$/ ? m * 1024 : m; printf "%.0f", 2 * c * m }') ;;
	iperf3)
		python3 -c 'import json, sys
e = json.load(sys.stdin)["end"]
print(e["sum_received"]["bits_per_second"] / 1e9, e["sum_sent"]["bytes"])' <<<"$out" >"$WORK/ip"
		read -r gbps payload <"$WORK/ip"
		work=$(awk -v b="$payload" 'BEGIN { print b / 1073741824 }')
		record iperf3 "$cfg" "$rep" "$gbps" ;;
	sockperf)
		record "$id:p50" "$cfg" "$rep" "$(sed -n 's/.*percentile 50.000 = *//p' <<<"$out")"
		record "$id:p99" "$cfg" "$rep" "$(sed -n 's/.*percentile 99.000 = *//p' <<<"$out")"
		# "[Total Run] ... SentMessages=N; ReceivedMessages=M": 64 B each
		payload=$(sed -n 's/.*Total Run.*SentMessages=\([0-9]*\); ReceivedMessages=\([0-9]*\).*/\1 \2/p' <<<"$out" |
			awk '{ printf "%.0f", ($1 + $2) * 64 }') ;;
	redis)
		record redis:GET "$cfg" "$rep" "$(awk -F'"' '$2 == "GET" { print $4 }' <<<"$out")"
		record redis:SET "$cfg" "$rep" "$(awk -F'"' '$2 == "SET" { print $4 }' <<<"$out")"
		work=$((2 * REDIS_N)) ;;	# requests (SET and GET)
	esac
	# CPU per unit of work: stream and iperf3 CPU s per GiB, RR CPU ms per
	# 1,000 round trips, redis CPU µs per request
	if [ -n "$work" ] && [ -n "$t0" ] && [ -n "$t1" ]; then
		work=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v w="$work" -v k="$kind" 'BEGIN {
			if (w <= 0) exit
			s = d / hz; if (k == "rr") s *= 1000; if (k == "redis") s *= 1e6
			printf "%.6g", s / w }')
		[ -n "$work" ] && record "$id:cpu" "$cfg" "$rep" "$work"
	fi
	# How much of this run the bypass carried: % of the payload when the
	# tool knows it (both directions for RR), else MiB redirected; and
	# which fallback reasons the run added (e.g. demoted, kernel_unsafe).
	if [ "$cfg" = accel ] && [ -n "$b0" ] && [ -n "$b1" ]; then
		read -r d why <<<"$(bypass_delta "$b0" "$b1")"
		if [ -n "$payload" ] && [ "$payload" != 0 ]; then
			record "$id:bypassed" accel "$rep" \
				"$(awk -v d="$d" -v p="$payload" 'BEGIN { printf "%.0f%%", 100 * d / p }')"
		else
			record "$id:bypassed" accel "$rep" \
				"$(awk -v d="$d" 'BEGIN { printf "%.1fMiB", d / 1048576 }')"
		fi
		record "$id:fallback" accel "$rep" "$why"
	fi
}

# Main socket mode (all sizes) and the other mode (a few rows, or all with
# BENCH_IO=both): epoll = nonblocking sockets as event-driven servers and
# clients use them; block = plain blocking sockets.
MAIN=$IO OTHER=block
[ "$IO" = both ] && MAIN=epoll
[ "$MAIN" = block ] && OTHER=epoll
modes=("$MAIN" "$OTHER")
TESTS=()
for m in "${modes[@]}"; do
	for s in "${SIZES[@]}"; do
		[ "$m" = "$OTHER" ] && [ "$IO" != both ] && [ "$s" != 64K ] && continue
		TESTS+=("stream:$s:$m")
		[ "$m" = "$MAIN" ] || continue
		for p in "${STREAM_PLACES[@]}"; do TESTS+=("stream:$s:$m:$p"); done
	done
	for s in "${RR_SIZES[@]}"; do
		for p in "${PLACES[@]}"; do
			[ "$m" = "$OTHER" ] && [ "$IO" != both ] && [ "$s:$p" != 64:same ] && continue
			TESTS+=("rr:$s:$m:$p")
		done
	done
done
[ -n "$REAL" ] && TESTS+=(iperf3 sockperf:same sockperf:cross sockperf:free redis)
if [ -n "$ONLY" ]; then
	sel=()
	for t in "${TESTS[@]}"; do [[ "$t" =~ $ONLY ]] && sel+=("$t"); done
	TESTS=("${sel[@]}")
fi
ACTIVE=(loopback)
[ -n "$BYPASS" ] && ACTIVE+=(accel)
[ -n "$FLOOR" ] && ACTIVE+=(floor)
ACTIVE+=(unix)

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
log "bench: ${#TESTS[@]} tests x ${#ACTIVE[@]} configurations x $REPS repetitions," \
    "${DUR}s per stream/RR run${QUICK:+ (quick)}"

# Warm-up: one short unrecorded stream run per configuration (page cache,
# BPF programs' first runs, CPU frequency).
for cfg in "${ACTIVE[@]}"; do
	ep=(-f tcp -p "${TOOL_PORT[$cfg]:-0}")
	[ "$cfg" = unix ] && ep=(-f unix)
	in_cg "$(cg_of "$cfg")" "$TOOLS/bench_stream" "${ep[@]}" -N -m 64K -t 0.3 >/dev/null 2>&1 || true
done

for ((rep = 1; rep <= REPS; rep++)); do
	log "bench: repetition $rep/$REPS"
	for id in "${TESTS[@]}"; do
		# Rotate the configuration order every repetition so that none is
		# always first (or always right after another test).
		n=${#ACTIVE[@]}
		for ((k = 0; k < n; k++)); do
			run_one "${ACTIVE[$(((k + rep - 1) % n))]}" "$id" "$rep"
		done
	done
done

# ---------------------------------------------------------------- sub-benchmarks

declare -A SUB_OUT SUB_PCT SUB_HOOK SUB_CMD
for sub in netacct tcpstate lifecycle learn; do
	s=$top/scripts/bench-$sub.sh
	[ -x "$s" ] || continue
	[ -n "$ONLY" ] && ! [[ "$sub" =~ $ONLY ]] && continue
	log "bench: running scripts/bench-$sub.sh"
	rc=0
	args=$NETACCT_ARGS; [ "$sub" = tcpstate ] && args=$TCPSTATE_ARGS
	[ "$sub" = lifecycle ] && args=$LIFECYCLE_ARGS
	[ "$sub" = learn ] && args=$LEARN_ARGS
	SUB_CMD[$sub]="scripts/bench-$sub.sh $args"
	# shellcheck disable=SC2086 # args: a list of options
	SUB_OUT[$sub]=$(OUT=$OUT ACCELCTL=$ACCELCTL timeout -k 10 "$SUB_TIMEOUT" "$s" $args \
		2>"$WORK/sub-$sub.err") || rc=$?
	# 77: nothing to measure on this kernel (it says why)
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		FAILED+=("scripts/bench-$sub.sh: exit $rc$([ "$rc" = 124 ] && echo " (over ${SUB_TIMEOUT}s)")")
		SUB_OUT[$sub]+=$'\n'"(exit status $rc; its last messages:)"$'\n'"$(tail -n 5 "$WORK/sub-$sub.err")"
	fi
	case "$sub" in
	netacct)	# the worst of the rows of what `attach` does by default
		# ("netacct (default...)"), not the --ingress xdp or reference rows
		SUB_PCT[$sub]=$(awk '($1 == "sender" || $1 == "receiver") && /\(default/ {
			for (i = 2; i <= NF; i++) if ($i ~ /^-?[0-9.]+%$/) { v = $i + 0; if (!n++ || v > m) m = v }
		} END { if (n) print m }' <<<"${SUB_OUT[$sub]}")
		# the same for the empty tc program on the same hooks: what
		# the clsact hook costs before netacct's programs do anything
		SUB_HOOK[$sub]=$(awk '($1 == "sender" || $1 == "receiver") && /empty tc program/ {
			for (i = 2; i <= NF; i++) if ($i ~ /^-?[0-9.]+%$/) { v = $i + 0; if (!n++ || v > m) m = v }
		} END { if (n) print m }' <<<"${SUB_OUT[$sub]}") ;;
	tcpstate)	# "tcpstate churn: ... overhead <pct>% ..."
		SUB_PCT[$sub]=$(sed -n 's/.*overhead \(-\{0,1\}[0-9.]*\)%.*/\1/p' <<<"${SUB_OUT[$sub]}" | tail -n 1) ;;
	esac
done

T1=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

# median KEY CFG: median of the recorded values (numeric or "12.3%"/"5MiB").
median() {
	awk -v k="$1" -v c="$2" '$1 == k && $2 == c { print $4 }' "$SAMPLES" 2>/dev/null |
		sed 's/\(%\|MiB\)$/ \1/' | sort -g | awk '
		{ v[NR] = $1; u = $2 }
		END { if (!NR) exit
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.6g%s\n", m, u }'
}

# spread KEY CFG: (max - min) / median over the repetitions, in percent.
spread() {
	awk -v k="$1" -v c="$2" '$1 == k && $2 == c { print $4 }' "$SAMPLES" 2>/dev/null | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR < 2) exit
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      if (m > 0) printf "%.0f\n", 100 * (v[NR] - v[1]) / m }'
}

# span KEY CFG [DIV]: "median min max" of the repetitions, each divided
# by DIV (default 1), or "- - -" when there are none (scripts/bench-plot.sh's
# error bars).
span() {
	awk -v k="$1" -v c="$2" '$1 == k && $2 == c { print $4 }' "$SAMPLES" 2>/dev/null | sort -g |
		awk -v d="${3:-1}" '{ v[NR] = $1 }
		END { if (!NR || d <= 0) { print "- - -"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.6g %.6g %.6g\n", m / d, v[1] / d, v[NR] / d }'
}

ratio() {	# a b [DIGITS] -> a/b (2 decimals), or nothing when either is missing
	if [ -n "$1" ] && [ -n "$2" ]; then
		awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b > 0) printf "%.*f\n", d, a / b }'
	fi
}

fmt() {	# value -> short human number
	[ -n "$1" ] || { echo "n/a"; return; }
	awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f\n", v; else if (v >= 10) printf "%.1f\n", v; else printf "%.2f\n", v }'
}

hsize() {	# 64 -> "64 B", 16K -> "16 KiB", 1M -> "1 MiB"
	case "$1" in
	*K) echo "${1%K} KiB" ;;
	*M) echo "${1%M} MiB" ;;
	*) echo "$1 B" ;;
	esac
}

place_name() { case "$1" in free) echo unpinned ;; *) echo "$1 CPU" ;; esac; }

# Row metadata: key -> "label|unit|target" (target: >=X or <=X on accel/loopback).
declare -A META
# Rows in the other socket mode carry its name; blocking rows have
# no-regression targets (kernels that break blocking readers under sockmap
# keep blocking sockets on the stack: they must not get slower).
for m in "${modes[@]}"; do
	sfx="" rt='<=0.7'
	if [ "$m" = "$OTHER" ]; then
		sfx=" ($m)"; [ "$m" = block ] && sfx=" (blocking)" rt='<=1.0'
	fi
	for s in "${SIZES[@]}"; do
		# targets (docs/bypass.md "Across CPUs"): cross CPU 64 KiB >= 1.5x,
		# 256 KiB >= 2x, same CPU 64 KiB >= 2.5x, never below loopback
		t='>=1.0'
		[ "$m" = epoll ] && case "$s" in 64K) t='>=1.5' ;; 256K) t='>=2.0' ;; esac
		if [ "$m" = "$MAIN" ]; then
			META[stream:$s:$m]="stream $(hsize "$s"), cross CPU$sfx|MiB/s|$t"
			t='>=1.0'; [ "$s" = 64K ] && [ "$m" = epoll ] && t='>=2.5'
			META[stream:$s:$m:same]="stream $(hsize "$s"), same CPU$sfx|MiB/s|$t"
			META[stream:$s:$m:free]="stream $(hsize "$s"), unpinned$sfx|MiB/s|>=1.0"
		else
			META[stream:$s:$m]="stream $(hsize "$s")$sfx|MiB/s|$t"
		fi
	done
	for s in "${RR_SIZES[@]}"; do
		for p in "${PLACES[@]}"; do
			for q in p50 p99; do
				META[rr:$s:$m:$p:$q]="RR $(hsize "$s") $q, $(place_name "$p")$sfx|µs|$rt"
			done
		done
	done
done
META[iperf3]="iperf3, 128 KiB writes (blocking)|Gbit/s|>=1.0"
for p in "${PLACES[@]}"; do
	for q in p50 p99; do
		META[sockperf:$p:$q]="sockperf pp 64 B $q, $(place_name "$p")|µs|<=0.7"
	done
done
META[redis:GET]="redis-benchmark GET|req/s|>=1.3"
META[redis:SET]="redis-benchmark SET|req/s|>=1.3"

ROWS=()
for id in "${TESTS[@]}"; do
	case "$id" in
	rr:* | sockperf:*) ROWS+=("$id:p50" "$id:p99") ;;
	redis) ROWS+=(redis:GET redis:SET) ;;
	*) ROWS+=("$id") ;;
	esac
done

# verdict RATIO TARGET [SPREAD%] -> MET / MET (within noise) / MISSED / n/a.
# Parity targets (>=1.0, <=1.0) only: a ratio that misses 1.0 by less than
# half the row's spread is within what the repetitions themselves differ
# by.  Every other target is strict.
verdict() {
	[ -n "$1" ] || { echo "n/a"; return; }
	awk -v r="$1" -v t="$2" -v s="${3:-0}" 'BEGIN {
		op = substr(t, 1, 2); x = substr(t, 3) + 0
		ok = op == ">=" ? r >= x : r <= x
		miss = op == ">=" ? x - r : r - x
		if (ok) print "MET"
		else if (x == 1 && miss < s / 200) print "MET (within noise)"
		else print "MISSED" }'
}

# row_spread KEY: the worst spread (percent, integer) of the row's configurations.
row_spread() {
	local cfg sp noise=0
	for cfg in "${ACTIVE[@]}"; do
		sp=$(spread "$1" "$cfg"); [ -n "$sp" ] && [ "$sp" -gt "$noise" ] && noise=$sp
	done
	echo "$noise"
}

# The standing goal for every bypass row: accelctl costs nothing over the
# cheapest sockmap redirect this kernel allows (the floor):
# accel/floor >= 0.97 for throughput, <= 1/0.97 for latency.  Not for rows
# the bypass leaves on the stack (demoted, kernel_unsafe): no redirect to
# compare.  A miss by less than half the row's spread is noise.
# floor_goal RATIO UNIT BYPASSED SPREAD% -> MET / MET (within noise) / MISSED / n/a
floor_goal() {
	[ -n "$1" ] && [ "${3%%%*}" != 0 ] && [ -n "$3" ] || { echo "n/a"; return; }
	awk -v r="$1" -v u="$2" -v s="${4:-0}" 'BEGIN {
		lat = u == "µs"; x = lat ? 1 / 0.97 : 0.97
		miss = lat ? r - x : x - r
		if (miss <= 0) print "MET"
		else if (miss < s / 200) print "MET (within noise)"
		else print "MISSED" }'
}

TABLE=$WORK/table	# pipe-separated rows
: >"$TABLE"
for key in "${ROWS[@]}"; do
	IFS='|' read -r label unit target <<<"${META[$key]}"
	a=$(median "$key" loopback); b=$(median "$key" accel); c=$(median "$key" unix)
	f=$(median "$key" floor)
	noise=$(row_spread "$key")
	rba=$(ratio "$b" "$a"); rca=$(ratio "$c" "$a"); rbc=$(ratio "$b" "$c")
	rfa=$(ratio "$f" "$a"); rbf=$(ratio "$b" "$f")
	base=${key%:p50}; base=${base%:p99}; base=${base%:GET}; base=${base%:SET}
	bp=$(median "$base:bypassed" accel)
	why=$(awk -v k="$base:fallback" '$1 == k && $4 != "-" { print $4 }' "$SAMPLES" | tr ',' '\n' | sort -u | paste -sd, -)
	[ -n "$why" ] && bp+=" ($why)"
	# verdicts compare the unrounded ratio: 0.703 misses <=0.7
	echo "$label|$unit|$(fmt "$a")|$(fmt "$b")|$(fmt "$f")|$(fmt "$c")|${rba:-n/a}|${rfa:-n/a}|${rca:-n/a}|${rbf:-n/a}|${rbc:-n/a}|$target|$(verdict "$(ratio "$b" "$a" 4)" "$target" "$noise")|${bp:-}|${noise}%|$(floor_goal "$(ratio "$b" "$f" 4)" "$unit" "$bp" "$noise")" >>"$TABLE"
done

HDR="test|unit|loopback|accel|floor|unix|accel/lo|floor/lo|unix/lo|accel/floor|accel/unix|target|verdict|bypassed|spread|floor goal"
# floor_summary: one line on the floor goal over the bypass rows
floor_summary() {
	awk -F'|' '$16 != "n/a" { n++; if ($16 ~ /^MET/) ok++; else miss = miss (miss ? ", " : "") $1 }
		END { printf "floor goal (accel/floor >= 0.97, latency <= 1.03): %d of %d bypass rows met%s\n",
			ok, n, miss ? "; MISSED: " miss : "" }' "$TABLE"
}

# CPU per unit of work, one row per test.  Targets: no row above loopback
# (where the bypass demotes a connection it must cost what the stack
# costs), the 64 KiB stream at most half of loopback, redis no more than
# Unix sockets in the same run.
CPU_TABLE=$WORK/cpu-table
CPU_HDR="test|unit|loopback|accel|floor|unix|accel/lo|floor/lo|unix/lo|accel/unix|target|verdict|spread"
: >"$CPU_TABLE"
for id in "${TESTS[@]}"; do
	key=$id:cpu
	a=$(median "$key" loopback); [ -n "$a" ] || continue
	b=$(median "$key" accel); c=$(median "$key" unix); f=$(median "$key" floor)
	case "$id" in
	stream:*) label=${META[$id]%%|*} unit="CPU s/GiB" ;;
	iperf3) label=${META[$id]%%|*} unit="CPU s/GiB" ;;
	rr:*) label=${META[$id:p50]%%|*}; label=${label/ p50/} unit="CPU ms/1k RT" ;;
	redis) label="redis-benchmark SET+GET" unit="CPU µs/req" ;;
	*) continue ;;
	esac
	t='<=1.0' r=$(ratio "$b" "$a" 4) tl="accel/lo ≤ 1.0"
	[ "$id" = "stream:64K:${modes[0]}" ] && t='<=0.5' tl="accel/lo ≤ 0.5"
	[ "$id" = redis ] && r=$(ratio "$b" "$c" 4) tl="accel/unix ≤ 1.0"
	echo "$label|$unit|$(fmt "$a")|$(fmt "$b")|$(fmt "$f")|$(fmt "$c")|$(ratio "$b" "$a")|$(ratio "$f" "$a")|$(ratio "$c" "$a")|$(ratio "$b" "$c")|$tl|$(verdict "$r" "$t" "$(row_spread "$key")")|$(row_spread "$key")%" >>"$CPU_TABLE"
	# the plot: each configuration's runs as a ratio to loopback's median
	# (streams cross CPU only: three placements of every size crowd it)
	case "$id" in
	stream:*:*:*) ;;
	*) echo "\"$label\" $(span "$key" accel "$a") $(span "$key" floor "$a") $(span "$key" unix "$a")" \
		>>"$PLOT_DIR/cpu.dat" ;;
	esac
done
print_table() {	# [HDR FILE] aligned columns (awk counts bytes: µs is printed as us)
	{ echo "${1:-$HDR}"; cat "${2:-$TABLE}"; } | sed 's/µs/us/g; s/≤/<=/g' | awk -F'|' '
		{ row[NR] = $0; for (i = 1; i <= NF; i++) if (length($i) > w[i]) w[i] = length($i) }
		END { for (r = 1; r <= NR; r++) {
			n = split(row[r], f, "|"); line = ""
			for (i = 1; i < n; i++) line = line sprintf("%-*s  ", w[i], f[i])
			print line f[n] } }'
}

echo
echo "accelctl benchmark: median of $REPS interleaved repetitions, ${DUR}s per stream/RR run" \
     "(kernel $(uname -r), $(nproc) CPUs)"
[ -n "$ATTACHED" ] || echo "accel: bypass NOT attached ($BYPASS_WHY)"
[ -n "$FLOOR" ] || echo "floor: NOT run ($FLOOR_WHY)"
print_table
floor_summary
if [ -s "$CPU_TABLE" ]; then
	echo
	echo "CPU per unit of work (the machine's busy time from /proc/stat over each run / work done):"
	print_table "$CPU_HDR" "$CPU_TABLE"
fi
for sub in netacct tcpstate; do
	[ -n "${SUB_OUT[$sub]+x}" ] || continue
	lim=3; [ "$sub" = tcpstate ] && lim=2
	p=${SUB_PCT[$sub]:-}
	echo "$sub overhead: ${p:-unknown}% (target <= $lim%): $(verdict "$p" "<=$lim")${SUB_HOOK[$sub]:+; an empty tc program on the same hooks: ${SUB_HOOK[$sub]}%}"
done
[ -n "${SUB_OUT[lifecycle]+x}" ] && grep '^lifecycle ' <<<"${SUB_OUT[lifecycle]}"
[ -n "${SUB_OUT[learn]+x}" ] && grep -E '^learn([a-z ]*[A-Z]*)?: ' <<<"${SUB_OUT[learn]}"
if [ ${#FAILED[@]} -gt 0 ]; then
	echo
	echo "FAILED runs (data not verified or tool error):"
	printf '  %s\n' "${FAILED[@]}"
fi

# ---------------------------------------------------------------- plots

# bench-lifecycle.sh's per-repetition lines -> "N series value" lines
# (series sk: sk_msg ns/run with the pool's traffic, rr: RR 64 B p50 µs,
# rk: sk_msg ns/run on the RR connection)
lifecycle_vals() {
	awk '/^rep [0-9]+: [0-9]+ connections: sk_msg / {
		k = 0
		for (i = 4; i < NF; i++) {
			if ($i == "sk_msg" && ++k && $(i + 1) != "n/a") print $3, (k == 1 ? "sk" : "rk"), $(i + 1)
			if ($i == "p50" && $(i + 1) != "n/a") print $3, "rr", $(i + 1)
		}
	}' <<<"$1"
}

thousands() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

# scale.dat: per live-table size, median min max of sk, rr, rk
scale_dat() {
	local vals n sr
	vals=$(lifecycle_vals "$1")
	[ -n "$vals" ] || return 0
	for n in $(awk '{ print $1 }' <<<"$vals" | uniq); do
		printf '"%s"' "$(thousands "$n")"
		for sr in sk rr rk; do
			printf ' %s' "$(awk -v n="$n" -v s=$sr '$1 == n && $2 == s { print $3 }' <<<"$vals" | sort -g |
				awk '{ v[NR] = $1 }
				END { if (!NR) { print "- - -"; exit }
				      printf "%s %s %s\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }')"
		done
		echo
	done
}

# The plots' data files from this run's samples, then scripts/bench-plot.sh
# draws them next to the report (cpu.dat is written with the CPU table).
PLOT_WHY="gnuplot is not installed (scripts/install-deps.sh bench)"
plots() {
	local m=${modes[0]} s p cfg q png name
	for s in "${SIZES[@]}"; do
		printf '%s' "$s"
		for cfg in "${CFGS[@]}"; do printf ' %s' "$(span "stream:$s:$m" "$cfg")"; done
		echo
	done | grep ' [0-9]' >"$PLOT_DIR/throughput.dat" || true
	for s in "${RR_SIZES[@]}"; do
		for p in "${PLACES[@]}"; do
			printf '"%s %s"' "$(hsize "$s")" "${p/free/unpinned}"
			for q in p50 p99; do
				for cfg in "${CFGS[@]}"; do printf ' %s' "$(span "rr:$s:$m:$p:$q" "$cfg")"; done
			done
			echo
		done
	done | grep ' [0-9]' >"$PLOT_DIR/latency.dat" || true
	[ -n "${SUB_OUT[lifecycle]+x}" ] && scale_dat "${SUB_OUT[lifecycle]}" >"$PLOT_DIR/scale.dat"
	command -v gnuplot >/dev/null || return 0
	PLOT_WHY="gnuplot failed (see the bench's messages)"
	while read -r png; do
		[ -n "$png" ] || continue
		name=${png##*-} name=${name%.png}
		PLOTTED[$name]=$(basename "$png")
	done < <("$top/scripts/bench-plot.sh" "$PLOT_DIR" "${MD%.md}" \
		"median of $REPS, $(uname -r), $(nproc) CPUs" \
		"${SUB_CMD[lifecycle]:-bench-lifecycle.sh}, $(uname -r), $(nproc) CPUs" || true)
}

# The scale section of the report: bench-lifecycle.sh's summary lines as
# a table, and its plot.
scale_section() {
	local rows
	[ -n "${SUB_OUT[lifecycle]+x}" ] || return 0
	rows=$(awk '/^lifecycle [0-9]+ connections: / && !/handed over/ {
		split("", v); k = 0; last = ""
		for (i = 3; i < NF; i++) {
			w = $i
			if (w == "sk_msg") { k++; v[k == 1 ? "sk" : "rk"] = $(i + 1); if (k == 1 && $(i + 3) == "at") v["skr"] = $(i + 4) }
			else if (w == "(floor") v["fl"] = $(i + 1)
			else if (w == "p50") v["rr"] = $(i + 1)
			else if (w == "scrape" || w == "detach" || w == "attach") { last = w; v[w] = $(i + 1) }
			else if (w == "(cpu" && last != "") v[last "c"] = $(i + 1)
		}
		for (x in v) sub(/,$/, "", v[x])
		n = $2; while (n ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", n)
		fl = (v["sk"] + 0 && v["fl"] + 0) ? sprintf("%s (%.2f)", v["fl"], v["sk"] / v["fl"]) : "n/a"
		printf "| %s | %s | %s | %s | %s%s | %s | %s (%s) | %s (%s) | %s (%s) |\n", n,
			v["sk"] ? v["sk"] : "n/a", v["skr"] ? v["skr"] : "n/a", fl, v["rr"] ? v["rr"] : "n/a",
			index($0, "not bypassed") ? " (not bypassed)" : "", v["rk"] ? v["rk"] : "n/a",
			v["scrape"], v["scrapec"] ? v["scrapec"] : "?", v["detach"], v["detachc"], v["attach"], v["attachc"]
	}' <<<"${SUB_OUT[lifecycle]}")
	[ -n "$rows" ] || return 0
	echo "## Scale: cost by live sockhash entries"
	echo
	echo "From \`${SUB_CMD[lifecycle]}\` (its output is below): a pool of"
	echo "accelerated connections (tests/tools/bypass_pool, two sockhash entries"
	echo "each) in a private cgroup and namespace.  *sk_msg (pool)*: the program's"
	echo "own run time per message (kernel.bpf_stats_enabled) with the pool's"
	echo "requests flowing at the same rate in every row (POOL_RATE=${POOL_RATE:-200}"
	echo "requests a second over all its clients), and how many runs a second that was;"
	echo "*floor*: the same pool at the same rate under the floor's sk_msg"
	echo "(tests/tools/bench_floor, as in the tables above), accel/floor of the two;"
	echo "*RR p50*: \`bench_rr -N -m 64\`, both ends on CPU $CPU_RX, on one"
	echo "more accelerated connection with the pool stopped (SIGSTOP: its entries"
	echo "stay in the table, its traffic does not compete for the CPUs), and"
	echo "sk_msg's run time on that connection alone; then the wall time (CPU"
	echo "time) of a scrape, \`detach\` and the \`attach\` after it.  A flat RR"
	echo "connection column means a message costs the same however full the"
	echo "table is: the program looks up its own socket's storage and slot, it"
	echo "never searches the sockhash.  At a few hundred messages a second (the"
	echo "default rate) the pool's runs cost several times the RR connection's,"
	echo "the 10-connection row's too: the CPUs idle between them and each run"
	echo "starts on cold caches, where the RR connection's run back to back; and"
	echo "more with more"
	echo "connections than the caches hold, the floor's as well (docs/bypass.md,"
	echo "\"What a message costs\")."
	echo
	echo "| live connections | sk_msg ns/run (pool) | sk_msg runs/s (pool) | floor ns/run (accel/floor) | RR 64 B p50 µs | sk_msg ns/run (RR connection) | scrape ms (CPU) | detach ms (CPU) | attach ms (CPU) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "$rows"
	echo
	if [ -n "${PLOTTED[scale]:-}" ]; then
		echo "![sk_msg ns/run and RR p50 by live sockhash entries](${PLOTTED[scale]})"
		echo
	fi
}

# ---------------------------------------------------------------- docs/benchmarks.md

if [ -n "$MD" ]; then
	mkdir -p "$(dirname "$MD")"
	plots
	cmdline="make bench"
	[ -z "${MAKELEVEL:-}" ] && cmdline="scripts/bench.sh"
	envs=""
	for v in BENCH_QUICK BENCH_REPS BENCH_SECONDS BENCH_IO BENCH_ONLY BENCH_NO_BYPASS BENCH_NO_FLOOR; do
		[ -n "${!v:-}" ] && envs+="$v=${!v} "
	done
	ncpu=$(nproc)
	busy=$(awk -v l="${LOAD0%% *}" -v n="$ncpu" 'BEGIN { print (l > 0.3 * n) ? 1 : 0 }')
	{
		echo "<!-- SPDX-License-Identifier: GPL-2.0-only -->"
		echo "<!-- Generated by scripts/bench.sh (make bench); do not edit by hand. -->"
		echo "# accelctl benchmarks"
		echo
		echo "Produced by \`sudo ${envs}$cmdline\` on $(date -u '+%Y-%m-%d %H:%M UTC')" \
		     "in $((T1 - T0)) s."
		echo
		echo "## Machine"
		echo
		echo "- kernel $(uname -r), $(uname -m), $ncpu CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1))," \
		     "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
		echo "- $(. /etc/os-release && echo "$PRETTY_NAME"), libbpf $(dpkg-query -W -f='${Version}' libbpf1 2>/dev/null || echo '?')," \
		     "accelctl $("$ACCELCTL" version 2>/dev/null | head -n 1 | awk '{ print $2 }')" \
		     "($(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo '+dirty'))"
		echo "- $(iperf3 --version | head -n 1 | cut -d' ' -f1-2), sockperf $(sockperf --version 2>&1 | sed -n 's/.*version //p' | head -n 1)," \
		     "redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
		echo "- load average at start: $LOAD0; at end: $LOAD1"
		if [ "$busy" = 1 ]; then
			echo
			echo "**The machine was busy when this ran (load average ${LOAD0%% *} on $ncpu CPUs):"
			echo "the figures are noisy; re-run \`sudo make bench\` on a quiet machine.**"
		fi
		echo
		echo "## Method"
		echo
		echo "Four configurations, measured in the same run: **loopback** (TCP over"
		echo "127.0.0.1), **accel** (the same, with the bypass attached to a private"
		echo "cgroup that every process of those runs is moved into), **floor** (the"
		echo "same in a third private cgroup, with a reference sockmap bypass instead,"
		echo "below) and **unix** (Unix domain stream sockets).  The bypass was"
		echo "attached with"
		echo
		echo "    $ATTACH_CMD"
		echo
		echo "(--event-ports lists the accel servers' ports: on kernels whose sockmap"
		echo "differs from TCP (attach's self-test), the bypass accelerates only connections to"
		echo "servers declared event-driven, from nonblocking clients; see"
		echo "docs/bypass.md)."
		if [ -n "$ATTACH_MSG" ]; then
			echo "Its attach said:"
			echo
			printf '%s\n' "$ATTACH_MSG" | sed 's/^/    /'
		fi
		echo
		echo "**floor** is a benchmark reference, not a product configuration: the"
		echo "cheapest sockmap redirect this kernel can run (tests/tools/bench_floor.bpf.c,"
		echo "loaded by tests/tools/bench_floor): sockops puts every established TCP"
		echo "socket of its cgroup into a sockhash and sk_msg does nothing but"
		echo "\`bpf_msg_redirect_hash(..., BPF_F_INGRESS)\`, with none of the bypass's"
		echo "safety (ordering, blocking readers, namespaces, policy, drain, demotion"
		echo "of small-message streams).  floor/lo is what any sockmap design can reach"
		echo "here, set by the kernel's tcp_bpf path; accel/floor is what accelctl's"
		echo "bookkeeping costs: the part of a gap to a target that floor shares is the"
		echo "kernel's, the rest is accelctl's.  floor runs the nonblocking rows only"
		echo "(blocking readers of a sockhash socket fail on affected kernels,"
		echo "docs/bypass.md, so blocking rows and iperf3 would fail rather than"
		echo "measure), and it redirects small-message streams that accel demotes to"
		echo "the stack, so at small stream sizes accel can beat it."
		if [ -z "$FLOOR" ]; then
			echo
			echo "**floor was not run:** $FLOOR_WHY"
		fi
		echo
		echo "Each test runs every configuration back to back, in an order rotated"
		echo "each repetition, $REPS repetitions; the tables show the median and the"
		echo "spread ((max - min) / median, worst configuration)."
		echo
		echo "- **stream**: \`bench_stream\` (tests/tools), one connection, \`send()\`"
		echo "  of the given size for ${DUR} s; the receiver checks the exact byte"
		echo "  count and a position-dependent pattern."
		echo "- **RR**: \`bench_rr\`, one connection, one request in flight, request and"
		echo "  response of the given size, TCP_NODELAY, round-trip latency; both ends"
		echo "  must agree on the number of requests and every sequence number."
		echo "- Socket mode: nonblocking sockets driven by epoll (as event-driven"
		echo "  servers and clients use them) unless the row says *blocking*; blocking"
		echo "  rows (their server port is not in --event-ports, as an operator would"
		echo "  configure a blocking server) check that applications the bypass leaves"
		echo "  on the stack do not get slower (targets ≥ 1.0x / ≤ 1.0x)."
		echo "- **iperf3**: one TCP stream for ${REAL_DUR} s, default 128 KiB writes; not"
		echo "  in --event-ports (its control connection is blocking), so on kernels"
		echo "  that break blocking readers it checks that the bypass costs nothing."
		echo "- **sockperf**: \`pp --nonblocked -F epoll --full-rtt -m 64\` (TCP) for"
		echo "  ${REAL_DUR} s against \`sockperf sr\` (round-trip, like RR)."
		echo "- **redis-benchmark**: \`-t set,get -n $REDIS_N -c 50 -d 64\` against a"
		echo "  redis-server with a private directory on a free loopback port (unix:"
		echo "  the same server's Unix socket)."
		echo "- CPU placement is part of each stream and request/response row:"
		echo "  *cross CPU* (senders and clients on CPU $CPU_TX, receivers and servers"
		echo "  on CPU $CPU_RX), *same CPU* (both on CPU $CPU_RX) and *unpinned* (the"
		echo "  scheduler's choice); the real clients run cross CPU.  On a VM a"
		echo "  cross-CPU wakeup (an IPI to an idle vCPU) can cost more than the whole"
		echo "  loopback path, so the cross-CPU latency rows mostly measure the"
		echo "  hypervisor; the same-CPU rows show what the network stack itself"
		echo "  costs.  A stream size is \"never slower than loopback\" only if its"
		echo "  worst placement is (Targets)."
		echo "- Ratios: accel/loopback (the targets apply to it), floor/loopback,"
		echo "  unix/loopback, accel/floor, accel/unix; for latency lower is better."
		echo "- Verdicts: a ratio must reach its target, except that for the parity"
		echo "  targets (≥ 1.0x, ≤ 1.0x) a ratio that misses 1.0 by less than half the"
		echo "  row's spread is *MET (within noise)*: the repetitions of one"
		echo "  configuration differ by more than that.  The other targets are strict,"
		echo "  and verdicts compare the unrounded ratio (0.703 misses ≤ 0.7; the"
		echo "  Targets table gives three decimals); where one is missed, the Targets"
		echo "  table shows floor/loopback next to it."
		echo "- *bypassed*: how much"
		echo "  \`accel_bypass_bytes_total\` grew during the accel runs, as a share of"
		echo "  the payload the run moved (both directions for RR), or in MiB where"
		echo "  the payload is not known, with the fallback reasons"
		echo "  (\`accel_bypass_fallback_total{reason}\`) the runs added.  0% means the"
		echo "  bypass declined or demoted the connection and the row measures the"
		echo "  stack; RR counts both directions plus the warm-up requests."
		echo
		if [ -z "$ATTACHED" ]; then
			echo "**The bypass was not attached in this run:** $BYPASS_WHY"
			echo
		fi
		echo "## Results"
		echo
		echo "| ${HDR//|/ | } |"
		# shellcheck disable=SC2001 # a pattern, not a substring
		echo "|$(sed 's/[^|]*/---/g' <<<"$HDR")|"
		while IFS= read -r line; do
			echo "| ${line//|/ | } |"
		done <"$TABLE"
		echo
		echo "$(floor_summary)$([ "$busy" = 1 ] && echo " (a busy run: re-run quiet before taking it as a verdict)")."
		echo
		if [ -n "${PLOTTED[throughput]:-}" ]; then
			echo "![stream throughput by message size, with the spread of the runs](${PLOTTED[throughput]})"
			echo
		fi
		if [ -n "${PLOTTED[latency]:-}" ]; then
			echo "![RR p50 and p99 latency by size and CPU placement](${PLOTTED[latency]})"
			echo
		fi
		if [ ${#PLOTTED[@]} -eq 0 ]; then
			echo "(no plots: $PLOT_WHY)"
			echo
		fi
		if [ -s "$CPU_TABLE" ]; then
			echo "## CPU per unit of work"
			echo
			echo "The whole machine's busy time (/proc/stat: all but idle, iowait and"
			echo "steal) over each run, divided by the work the run did: CPU seconds per"
			echo "GiB streamed, CPU milliseconds per 1,000 round trips, CPU microseconds"
			echo "per redis request (SET and GET).  The machine, not the processes'"
			echo "rusage: loopback TCP does its receive work in softirq, which the"
			echo "kernel charges to no task or to whichever it interrupted, so only the"
			echo "machine total compares the stack with the bypass fairly; it is valid"
			echo "in a quiet run (see the load average above).  Lower is better;"
			echo "targets: no row above loopback, the 64 KiB stream at most half of it,"
			echo "redis no more than Unix sockets."
			echo
			echo "| ${CPU_HDR//|/ | } |"
			# shellcheck disable=SC2001 # a pattern, not a substring
			echo "|$(sed 's/[^|]*/---/g' <<<"$CPU_HDR")|"
			while IFS= read -r line; do
				echo "| ${line//|/ | } |"
			done <"$CPU_TABLE"
			echo
			if [ -n "${PLOTTED[cpu]:-}" ]; then
				echo "![CPU per unit of work as a ratio to loopback: accel, floor, unix](${PLOTTED[cpu]})"
				echo
			fi
		fi
		scale_section
		echo "## Targets"
		echo
		echo "| target | measured | verdict |"
		echo "|---|---|---|"
		tgt() {	# description key target
			local r v rf
			r=$(ratio "$(median "$2" accel)" "$(median "$2" loopback)" 3)
			v=$(verdict "$r" "$3" "$(row_spread "$2")")
			# a missed gain target: how far a sockmap gets here at all
			if [ "$v" = MISSED ] && [ "${3#??}" != 1.0 ]; then
				rf=$(ratio "$(median "$2" floor)" "$(median "$2" loopback)" 3)
				[ -n "$rf" ] && v+=" (sockmap floor on this kernel: ${rf}x)"
			fi
			echo "| $1 | ${r:+${r}x} | $v |"
		}
		tgt_worst() {	# description target key... : the lowest accel/loopback of the keys
			local d=$1 t=$2 k r w="" wk="" sp=""
			shift 2
			for k in "$@"; do
				r=$(ratio "$(median "$k" accel)" "$(median "$k" loopback)" 3)
				[ -n "$r" ] || continue
				if [ -z "$w" ] || awk -v a="$r" -v b="$w" 'BEGIN { exit !(a < b) }'; then
					w=$r wk=$k
				fi
			done
			[ -n "$wk" ] && sp=$(row_spread "$wk")
			echo "| $d | ${w:+${w}x (${META[$wk]%%|*})} | $(verdict "$w" "$t" "$sp") |"
		}
		m=${modes[0]}
		tgt "stream 64 KiB, same CPU ≥ 2.5x loopback" "stream:64K:$m:same" ">=2.5"
		tgt "stream 64 KiB, cross CPU ≥ 1.5x loopback" "stream:64K:$m" ">=1.5"
		tgt "stream 256 KiB, cross CPU ≥ 2.0x loopback" "stream:256K:$m" ">=2.0"
		for s in "${SIZES[@]}"; do
			tgt_worst "stream $(hsize "$s") ≥ 1.0x loopback, worst of same CPU, cross CPU, unpinned" \
				">=1.0" "stream:$s:$m" "stream:$s:$m:same" "stream:$s:$m:free"
		done
		for s in "${RR_SIZES[@]}"; do
			for p in "${PLACES[@]}"; do
				for q in p50 p99; do
					tgt "RR $(hsize "$s") $q latency, $(place_name "$p") ≤ 0.7x loopback" \
					    "rr:$s:$m:$p:$q" "<=0.7"
				done
			done
		done
		for p in "${PLACES[@]}"; do
			tgt "sockperf 64 B p50 latency, $(place_name "$p") ≤ 0.7x loopback" "sockperf:$p:p50" "<=0.7"
		done
		tgt "iperf3 ≥ 1.0x loopback" iperf3 ">=1.0"
		tgt "redis-benchmark GET ≥ 1.3x requests/s" redis:GET ">=1.3"
		tgt "redis-benchmark SET ≥ 1.3x requests/s" redis:SET ">=1.3"
		for sub in netacct tcpstate; do
			lim=3 what="iperf3 over veth, worst row of the default attach"
			[ "$sub" = tcpstate ] && lim=2 what="connection churn"
			if [ -n "${SUB_OUT[$sub]+x}" ]; then
				p=${SUB_PCT[$sub]:-}
				v=$(verdict "$p" "<=$lim")
				[ -n "${SUB_HOOK[$sub]:-}" ] && v+=" (an empty tc program on the same hooks: ${SUB_HOOK[$sub]}%)"
				echo "| $sub overhead ($what) ≤ $lim% | ${p:+$p%} | $v |"
			else
				echo "| $sub overhead ≤ $lim% | scripts/bench-$sub.sh not present | n/a |"
			fi
		done
		echo
		for sub in netacct tcpstate lifecycle learn; do
			[ -n "${SUB_OUT[$sub]+x}" ] || continue
			echo "### $sub: \`${SUB_CMD[$sub]}\`"
			echo
			echo '```'
			printf '%s\n' "${SUB_OUT[$sub]}"
			echo '```'
			echo
		done
		if [ ${#FAILED[@]} -gt 0 ]; then
			echo "## Failed runs"
			echo
			echo "These runs failed or did not deliver the data they sent; their"
			echo "configurations are missing from the medians above."
			echo
			printf -- '- %s\n' "${FAILED[@]}"
			echo
		fi
		echo "## Reproduce"
		echo
		echo '```'
		if [ -z "$QUICK$ONLY" ]; then
			echo "sudo make bench                 # full run: $(((T1 - T0 + 30) / 60)) minutes this time"
		else
			echo "sudo make bench                 # full run"
		fi
		echo "sudo BENCH_QUICK=1 make bench   # 3 repetitions of shorter runs"
		echo '```'
		echo
		echo "Knobs (environment): BENCH_REPS, BENCH_SECONDS, BENCH_IO=block|epoll|both,"
		echo "BENCH_ONLY=regex, BENCH_NO_BYPASS=1, BENCH_NO_FLOOR=1, BENCH_MD=file;"
		echo "see scripts/bench.sh."
	} | sed 's/| MISSED\([ |]\)/| **MISSED**\1/g' >"$MD"
	echo
	echo "wrote $MD${PLOTTED[*]:+ and ${PLOTTED[*]}}"
fi

[ ${#FAILED[@]} -eq 0 ] || exit 1
