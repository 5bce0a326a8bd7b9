#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Throughput cost of netacct's programs on a veth path: iperf3 TCP between
# two private network namespaces, without and with `accelctl attach
# --features netacct`, alternating in the same run (ROUNDS pairs of
# DURATION-second runs, median of each side), for each placement:
#
#   sender     programs on the sending veth (egress tc sees the data)
#   receiver   programs on the receiving veth (ingress sees the data)
#
# with the default ingress hook (--ingress auto: tc on veth) and with
# --ingress xdp, plus reference rows with empty programs on the same hooks
# (tests/tools/bench_empty.bpf.c): a TC_ACT_UNSPEC classifier on clsact
# ingress and egress (what the default attach's hooks cost without
# netacct's programs) and an XDP_PASS program on the receiver (what the XDP
# hook alone costs on veth).
#
# Prints a table; exit 0 whatever the numbers (the target, <= 3 %, is read
# by a human or by scripts/bench.sh).  Needs root, iperf3 and a built
# accelctl.  Usage: scripts/bench-netacct.sh [-d SECONDS] [-r ROUNDS]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-build}
case "$OUT" in /*) ;; *) OUT="$top/$OUT" ;; esac
ACCELCTL=${ACCELCTL:-$OUT/accelctl}
EMPTY=$OUT/tests/tools/bench_empty.bpf.o
DURATION=2
ROUNDS=7
while getopts d:r:h o; do
	case $o in
	d) DURATION=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench-netacct: needs root" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "bench-netacct: iperf3 is not installed (scripts/install-deps.sh)" >&2; exit 2; }
[ -x "$ACCELCTL" ] || { echo "bench-netacct: $ACCELCTL not built (make)" >&2; exit 2; }
[ -f "$EMPTY" ] || { echo "bench-netacct: $EMPTY not built (make test-build)" >&2; exit 2; }

id=$$
A=accel-bench-$id-a B=accel-bench-$id-b
VA=nab${id}a VB=nab${id}b
VA=${VA:0:15} VB=${VB:0:15}
PIN=/sys/fs/bpf/accel-bench-$id
STATE=$(mktemp -d /tmp/accel-bench-$id.XXXXXX)
ACC="$ACCELCTL --pin-root $PIN --state-dir $STATE"
server=

stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	[ -n "$server" ] && kill "$server" 2>/dev/null
	$ACC detach >/dev/null 2>&1 || true
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$STATE" "$PIN"
}
trap cleanup EXIT

ip netns add "$A"
ip netns add "$B"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VA" netns "$A"
ip link set "$VB" netns "$B"
ip -n "$A" addr add 10.91.0.1/24 dev "$VA"
ip -n "$B" addr add 10.91.0.2/24 dev "$VB"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "$VA" up
ip -n "$B" link set "$VB" up
# Fixed CPUs, as in bench.sh: where the scheduler puts the two iperf3
# processes (one CPU or two) moves throughput by more than the target.
CPU_TX=0 CPU_RX=$(($(nproc) - 1))
ip netns exec "$B" taskset -c "$CPU_RX" iperf3 -s -B 10.91.0.2 -p 5299 >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
	ip netns exec "$A" bash -c 'exec 3<>/dev/tcp/10.91.0.2/5299' 2>/dev/null && break
	sleep 0.1
done

gbps() {	# one iperf3 run A -> B, Gbit/s received
	ip netns exec "$A" taskset -c "$CPU_TX" iperf3 -c 10.91.0.2 -p 5299 -t "$DURATION" -J |
		python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

# median of the numeric lines ("-" when there are none)
median() {
	{ grep -E '^[0-9.]+$' || true; } | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Per-program cost from the kernel's own BPF statistics (run_time_ns /
# run_cnt of the programs a row attached), enabled for the run and
# restored on exit.
sysctl -qw kernel.bpf_stats_enabled=1
accel_ids() {	# ids of accelctl's programs
	$ACC status --json 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin)["features"].get("netacct", {})
for i in d.get("interfaces", []):
    for k in ("xdp_prog_id", "tc_ingress_prog_id", "tc_egress_prog_id"):
        if i.get(k): print(i[k])' 2>/dev/null || true
}
tc_ids() {	# NETNS DEV: ids of the programs of the tc filters on DEV
	for h in ingress egress; do tc -n "$1" -j filter show dev "$2" "$h"; echo; done 2>/dev/null |
		python3 -c 'import json,sys
for l in sys.stdin:
    for f in (json.loads(l) if l.strip() else []):
        i = f.get("options", {}).get("prog", {}).get("id")
        if i: print(i)' 2>/dev/null || true
}
xdp_ids() {	# NETNS DEV: id of the XDP program on DEV
	ip -n "$1" -j link show dev "$2" 2>/dev/null |
		python3 -c 'import json,sys
for l in json.load(sys.stdin):
    i = l.get("xdp", {}).get("prog", {}).get("id")
    if i: print(i)' 2>/dev/null || true
}
prog_ns() {	# IDS_CMD: "ns/pkt cpu%" over those programs (one iperf3 run), or "- -"
	local ids
	ids=$(eval "$1")
	[ -n "$ids" ] || { echo "- -"; return; }
	for i in $ids; do bpftool prog show id "$i" -j; echo; done | python3 -c 'import json,sys
t = c = 0
for l in sys.stdin:
    if l.strip():
        p = json.loads(l); t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print("%.0f %.2f" % (t / c, 100.0 * t / (float(sys.argv[1]) * 1e9)) if c else "- -")' "$DURATION"
}

# row PLACEMENT LABEL ATTACH DETACH [IDS_CMD]: ROUNDS pairs of runs without / with
row() {
	local place=$1 label=$2 on=$3 off=$4 ids=${5:-accel_ids} without=() with=() w0 w1 ns=() r
	# ABBA: odd rounds measure without first, even rounds with first, so
	# a drift over the run does not favour either side
	for r in $(seq "$ROUNDS"); do
		[ $((r % 2)) = 1 ] && without+=("$(gbps)")
		eval "$on" >/dev/null
		with+=("$(gbps)")
		ns+=("$(prog_ns "$ids")")
		eval "$off" >/dev/null
		[ $((r % 2)) = 0 ] && without+=("$(gbps)")
	done
	w0=$(printf '%s\n' "${without[@]}" | median)
	w1=$(printf '%s\n' "${with[@]}" | median)
	# program cost: median over the rounds
	n=$(printf '%s\n' "${ns[@]}" | awk '{print $1}' | median)
	c=$(printf '%s\n' "${ns[@]}" | awk '{print $2}' | median)
	awk -v p="$place" -v h="$label" -v a="$w0" -v b="$w1" -v n="$n" -v c="$c" 'BEGIN {
		printf "%-9s %-28s %9.2f Gb/s %7.2f Gb/s %7.3f %8.1f%% %7s %6s\n", p, h, a, b, b / a, (1 - b / a) * 100, n, c }'
}

# References: empty programs on the same hooks (see the top of this file;
# the veth driver turns GSO off on the peer as soon as any XDP program is
# attached, so the XDP row is the cost of the hook, whatever the program).
tc_on() {	# NETNS DEV: the empty classifier on clsact ingress and egress
	echo "tc -n $1 qdisc add dev $2 clsact &&
	      tc -n $1 filter add dev $2 ingress bpf da obj $EMPTY sec tc &&
	      tc -n $1 filter add dev $2 egress bpf da obj $EMPTY sec tc"
}

printf '%-9s %-28s %14s %14s %7s %9s %7s %6s\n' placement "programs" "without" "with" ratio overhead "ns/pkt" "cpu%"
row sender "netacct (default)" "$ACC --netns $A attach --features netacct --iface $VA" "$ACC detach"
row receiver "netacct (default: auto)" "$ACC --netns $B attach --features netacct --iface $VB" "$ACC detach"
row receiver "netacct --ingress xdp" "$ACC --netns $B attach --features netacct --iface $VB --ingress xdp" "$ACC detach"
row sender "empty tc program (reference)" "$(tc_on "$A" "$VA")" "tc -n $A qdisc del dev $VA clsact" \
	"tc_ids $A $VA"
row receiver "empty tc program (reference)" "$(tc_on "$B" "$VB")" "tc -n $B qdisc del dev $VB clsact" \
	"tc_ids $B $VB"
row receiver "empty XDP_PASS (reference)" "ip -n $B link set dev $VB xdpdrv obj $EMPTY sec xdp" \
	"ip -n $B link set dev $VB xdpdrv off" "xdp_ids $B $VB"
echo "(iperf3 TCP over veth, ${ROUNDS}x${DURATION}s each side alternating, medians; programs on one"
echo " veth end; ns/pkt: mean run time per invocation of the row's programs and cpu%: their total"
echo " run time as a share of one CPU during a run, both from the kernel's bpf_stats)"
