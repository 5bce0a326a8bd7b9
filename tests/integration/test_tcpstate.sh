#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# tcpstate: TIME_WAIT, accept-queue and SYN-queue overflows per listener,
# SYN-ACK retransmits and resets, each compared with the kernel's own
# counters (nstat: /proc/net/netstat and snmp; ss; /proc/net/sockstat) in
# a private network namespace.
source "$(dirname "$0")/lib.sh"

# One metric sample of `accelctl stats --json` in netns $1: name, then an
# optional label=value; prints the value as an integer, 0 when absent.
metric() {
	local ns=$1 name=$2 label=${3:-}
	$A --netns "$ns" stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["metrics"]
name, label = sys.argv[1], sys.argv[2]
want = dict([label.split("=", 1)]) if label else {}
v = [s["value"] for s in d.get(name, {}).get("samples", []) if s["labels"] == want]
print(int(v[0]) if v else 0)' "$name" "$label"
}

# Sum of a per-listener family over all listeners.
metric_sum() {
	$A --netns "$1" stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["metrics"]
print(int(sum(s["value"] for s in d.get(sys.argv[1], {}).get("samples", []))))' "$2"
}

# Poll (5 s) until shell expressions $2 and $3 print the same; fail with
# both values if they never do.  Packets sent on loopback may still be in
# a softirq backlog when the sender returns: compare once the kernel has
# caught up, never after a fixed sleep.
eventually_eq() {
	local what=$1 a b i
	for ((i = 0; i < 100; i++)); do
		a=$(eval "$2")
		b=$(eval "$3")
		[ "$a" = "$b" ] && return 0
		sleep 0.05
	done
	fail "$what: got '$a', expected '$b'"
}

# Programs of the attached tcpstate with their run counts and recursion
# misses (bpftool), for failure messages.
prog_misses() {
	local id
	for id in $($A status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(str(p["prog_id"]) for p in d["features"]["tcpstate"].get("pins", []) if p["kind"] == "link"))'); do
		bpftool prog show id "$id" 2>/dev/null | head -1 | grep -o 'name [^ ]*\|recursion_misses [0-9]*' | tr '\n' ' '
	done
}

test_timewait_gauge_matches_ss_and_sockstat() {
	local ns other n=40 tw0 tw1 gauge ss_tw sock_tw entries range
	ns=$(netns_new)
	other=$(netns_new other)
	$A --netns "$ns" attach --features tcpstate
	tw0=$(( $(kstat "$ns" TcpExtTW) + $(kstat "$ns" TcpExtTWKilled) ))
	ip netns exec "$ns" "$TOOLS/tcp_churn" -n $n >/dev/null
	# TIME_WAIT in another namespace must count neither as gauge nor event
	ip netns exec "$other" "$TOOLS/tcp_churn" -n 7 >/dev/null
	eventually_eq "TIME_WAIT sockets in ss" "ip netns exec $ns ss -Htan state time-wait | wc -l" "echo $n"
	gauge=$(metric "$ns" accel_tcp_timewait_sockets)
	ss_tw=$(ip netns exec "$ns" ss -Htan state time-wait | wc -l)
	sock_tw=$(ip netns exec "$ns" awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' /proc/net/sockstat)
	assert_eq "$gauge" "$ss_tw" "TIME_WAIT gauge vs ss state time-wait"
	assert_eq "$gauge" "$sock_tw" "TIME_WAIT gauge vs sockstat tw"
	assert_eq "$gauge" $n "TIME_WAIT gauge after $n client-closed connections"
	eventually_eq "TIME_WAIT entries vs TcpExtTW + TcpExtTWKilled delta" \
		'metric $ns accel_tcp_timewait_entries_total' \
		'echo $(( $(kstat $ns TcpExtTW) + $(kstat $ns TcpExtTWKilled) - tw0 ))'
	tw1=$(( $(kstat "$ns" TcpExtTW) + $(kstat "$ns" TcpExtTWKilled) ))
	assert_eq "$((tw1 - tw0))" $n "TcpExtTW + TcpExtTWKilled delta"
	# per destination: every one went to tcp_churn's listener
	$A --netns "$ns" stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["metrics"]
n, rng = int(sys.argv[1]), d["accel_tcp_local_port_range_size"]["samples"][0]["value"]
tw = d["accel_tcp_timewait_destination_sockets"]["samples"]
ratio = d["accel_tcp_local_port_range_used_ratio"]["samples"]
assert len(tw) == 1 and tw[0]["value"] == n, tw
assert tw[0]["labels"]["destination"].startswith("127.0.0.1:"), tw
assert abs(ratio[0]["value"] - n / rng) < 1e-9, (ratio, n, rng)' $n || fail "per-destination TIME_WAIT"
	range=$(ip netns exec "$ns" awk '{ print $2 - $1 + 1 }' /proc/sys/net/ipv4/ip_local_port_range)
	assert_eq "$(metric "$ns" accel_tcp_local_port_range_size)" "$range" "port range size"
	grep -q "^TIME_WAIT: $n sockets now, $n entered" <<<"$($A --netns "$ns" stats)" ||
		fail "stats lacks the TIME_WAIT summary: $($A --netns "$ns" stats)"
	$A detach
	pass
}

test_accept_queue_overflow_equals_listenoverflows() {
	local ns port=7101 o0 o1 ours
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate
	lq_start "$ns" listen -a 127.0.0.1 -p $port -b 4
	lq_start "$ns" listen -a 127.0.0.1 -p $((port + 1)) -b 4	# never hit
	o0=$(kstat "$ns" TcpExtListenOverflows)
	lq_start "$ns" connect -a 127.0.0.1 -p $port -n 50
	local cpid=$LQ_PID cfd=$LQ_FD
	# 5 fit (full means more than the backlog), every other SYN overflows
	wait_until 10 bash -c "[ \$(( \$(ip netns exec $ns nstat -asz TcpExtListenOverflows | awk '{print \$2}') - $o0 )) -ge 45 ]" ||
		fail "the accept queue did not overflow"
	assert_eq "$(metric "$ns" accel_tcp_accept_queue_length listener=127.0.0.1:$port)" 5 "accept queue length"
	assert_eq "$(metric "$ns" accel_tcp_accept_queue_max listener=127.0.0.1:$port)" 4 "accept queue max"
	exec {cfd}>&-			# the clients close: no more SYNs
	wait "$cpid" || true
	eventually_eq "accept-queue overflows vs TcpExtListenOverflows delta" \
		'metric $ns accel_tcp_accept_queue_overflows_total listener=127.0.0.1:$port' \
		'echo $(( $(kstat $ns TcpExtListenOverflows) - o0 ))'
	o1=$(kstat "$ns" TcpExtListenOverflows)
	ours=$(metric "$ns" accel_tcp_accept_queue_overflows_total listener=127.0.0.1:$port)
	assert_eq "$ours" $((o1 - o0)) "accept-queue overflows vs TcpExtListenOverflows delta"
	assert_eq "$(metric_sum "$ns" accel_tcp_accept_queue_overflows_total)" "$ours" "overflows on other listeners"
	assert_eq "$(metric "$ns" accel_tcp_syn_queue_overflows_total listener=127.0.0.1:$port)" 0 "SYN-queue overflows"
	assert_eq "$(metric "$ns" accel_tcp_listen_drops_total listener=127.0.0.1:$port)" \
		$(( $(kstat "$ns" TcpExtListenDrops) )) "listen drops vs TcpExtListenDrops"
	grep -qE "^  127\.0\.0\.1:$port +5/4 +0/4 " <<<"$($A --netns "$ns" stats)" ||
		fail "stats lacks the listener row: $($A --netns "$ns" stats)"
	$A --netns "$ns" stats --prometheus | promtool check metrics || fail "promtool check metrics"
	$A detach
	pass
}

# Overflow on the handshake's last ACK (the skb/kfree_skb path): requests
# wait in the SYN queue (TCP_DEFER_ACCEPT: a bare ACK does not complete
# them), the backlog shrinks to 2, then every client sends data at once.
test_accept_queue_overflow_on_handshake_ack() {
	local ns port=7151 o0 lfd lout cfd cout
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate
	lq_start "$ns" listen -a 127.0.0.1 -p $port -b 16 -D
	lfd=$LQ_FD lout=$LQ_OUT
	o0=$(kstat "$ns" TcpExtListenOverflows)
	lq_start "$ns" connect -a 127.0.0.1 -p $port -n 10 -r
	cfd=$LQ_FD cout=$LQ_OUT
	eventually_eq "deferred requests" "ip netns exec $ns ss -Htn state syn-recv sport :$port | wc -l" "echo 10"
	echo "backlog 2" >&"$lfd"
	wait_until 5 grep -q "^done backlog 2" "$lout" || fail "listener did not shrink its backlog"
	echo send >&"$cfd"
	wait_until 5 grep -q "^done send" "$cout" || fail "clients did not send"
	wait_until 5 bash -c "[ \$(( \$(ip netns exec $ns nstat -asz TcpExtListenOverflows | awk '{print \$2}') - $o0 )) -ge 7 ]" ||
		fail "no overflow on the handshake ACK"
	assert_eq "$(metric "$ns" accel_tcp_syn_received_total listener=127.0.0.1:$port)" 10 "SYNs (none dropped)"
	exec {cfd}>&-			# the clients reset: no more retransmits
	eventually_eq "accept-queue overflows (ACK path) vs TcpExtListenOverflows delta" \
		'metric $ns accel_tcp_accept_queue_overflows_total listener=127.0.0.1:$port' \
		'echo $(( $(kstat $ns TcpExtListenOverflows) - o0 ))'
	$A detach
	pass
}

test_syn_queue_overflow_per_listener() {
	local ns p1=7201 p2=7202 d0 o0 q0 d1 o1 q1 d2 o2 l1 l2 r0
	ns=$(netns_new)
	netns_blackhole_peer "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.tcp_max_syn_backlog=128
	$A --netns "$ns" attach --features tcpstate
	lq_start "$ns" listen -a 198.51.100.1 -p $p1 -b 8	# request queue full above 8
	lq_start "$ns" listen -a 0.0.0.0 -p $p2 -b 64		# limited by tcp_max_syn_backlog below
	d0=$(kstat "$ns" TcpExtListenDrops); o0=$(kstat "$ns" TcpExtListenOverflows)
	q0=$(kstat "$ns" TcpExtTCPReqQFullDrop); r0=$(kstat "$ns" TcpExtTCPSynRetrans)

	ip netns exec "$ns" "$LQ" syn -s 198.51.100.2 -a 198.51.100.1 -p $p1 -n 30 -P 20000 >/dev/null
	# every SYN handled: queued (ss syn-recv) or dropped (ListenDrops)
	eventually_eq "SYNs handled by listener 1" \
		'echo $(( $(kstat $ns TcpExtListenDrops) - d0 + $(ip netns exec $ns ss -Htn state syn-recv src 198.51.100.1:$p1 | wc -l) ))' \
		'echo 30'
	d1=$(kstat "$ns" TcpExtListenDrops); o1=$(kstat "$ns" TcpExtListenOverflows)
	q1=$(kstat "$ns" TcpExtTCPReqQFullDrop)
	l1=$(metric "$ns" accel_tcp_syn_queue_overflows_total listener=198.51.100.1:$p1)
	[ $((q1 - q0)) -gt 0 ] || fail "no TCPReqQFullDrop: the burst did not fill the SYN queue"
	assert_eq "$l1" $(( (d1 - d0) - (o1 - o0) )) "listener 1: SYN-queue overflows vs ListenDrops - ListenOverflows"
	assert_eq "$l1" $((q1 - q0)) "listener 1: SYN-queue overflows vs TCPReqQFullDrop"
	assert_eq "$(metric "$ns" accel_tcp_syn_queue_length listener=198.51.100.1:$p1)" \
		"$(ip netns exec "$ns" ss -Htn state syn-recv src 198.51.100.1:$p1 | wc -l)" "listener 1: SYN queue vs ss syn-recv"

	# listener 2: the tcp_max_syn_backlog rule (no cookies: the last
	# quarter is kept for proven peers), not a full request queue
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_syn_backlog=8
	ip netns exec "$ns" "$LQ" syn -s 198.51.100.2 -a 198.51.100.1 -p $p2 -n 20 -P 30000 >/dev/null
	eventually_eq "SYNs handled by listener 2" \
		'echo $(( $(kstat $ns TcpExtListenDrops) - d1 + $(ip netns exec $ns ss -Htn state syn-recv src 198.51.100.1:$p2 | wc -l) ))' \
		'echo 20'
	d2=$(kstat "$ns" TcpExtListenDrops); o2=$(kstat "$ns" TcpExtListenOverflows)
	l2=$(metric "$ns" accel_tcp_syn_queue_overflows_total listener=0.0.0.0:$p2)
	[ "$l2" -gt 0 ] || fail "listener 2 saw no SYN-queue overflow"
	assert_eq "$l2" $(( (d2 - d1) - (o2 - o1) )) "listener 2: SYN-queue overflows vs kernel delta"
	assert_eq "$(metric "$ns" accel_tcp_syn_queue_overflows_total listener=198.51.100.1:$p1)" "$l1" \
		"listener 1 moved by listener 2's burst"
	assert_eq "$(metric_sum "$ns" accel_tcp_syn_queue_overflows_total)" $(( (d2 - d0) - (o2 - o0) )) \
		"sum over listeners vs kernel total"
	assert_eq "$(metric "$ns" accel_tcp_syn_received_total listener=0.0.0.0:$p2)" 20 "SYNs seen by listener 2"

	# SYN-ACK retransmits: every queued request retransmits after ~1 s
	local q1n q2n
	q1n=$(metric "$ns" accel_tcp_syn_queue_length listener=198.51.100.1:$p1)
	q2n=$(metric "$ns" accel_tcp_syn_queue_length listener=0.0.0.0:$p2)
	wait_until 10 bash -c "[ \$($(declare -f metric); A='$A' metric $ns accel_tcp_synack_retransmits_total listener=0.0.0.0:$p2) -ge $q2n ] &&
		[ \$($(declare -f metric); A='$A' metric $ns accel_tcp_synack_retransmits_total listener=198.51.100.1:$p1) -ge $q1n ]" ||
		fail "no SYN-ACK retransmits"
	# compare at one moment: retry while a retransmit lands in between
	local ok=0 k s1 s2 tries
	for tries in 1 2 3 4 5; do
		k=$(kstat "$ns" TcpExtTCPSynRetrans)
		s1=$(metric_sum "$ns" accel_tcp_synack_retransmits_total)
		s2=$(kstat "$ns" TcpExtTCPSynRetrans)
		if [ "$k" = "$s2" ] && [ "$s1" = $((k - r0)) ]; then ok=1; break; fi
	done
	[ $ok = 1 ] || fail "SYN-ACK retransmits $s1 vs TcpExtTCPSynRetrans delta $((k - r0)) (then $((s2 - r0)));" \
		"per listener: $($A --netns "$ns" stats --prometheus | grep '^accel_tcp_synack_retransmits_total' | tr '\n' ' ')" \
		"programs: $(prog_misses)"
	$A detach
	pass
}

test_resets_sent_equal_outrsts() {
	local ns r0 r1 total nosock
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate
	r0=$(kstat "$ns" TcpOutRsts)
	# 20 SYNs to a closed port: 20 resets without a socket
	lq_start "$ns" connect -a 127.0.0.1 -p 7399 -n 20
	eventually_eq "resets for the closed port" 'echo $(( $(kstat $ns TcpOutRsts) - r0 ))' 'echo 20'
	exec {LQ_FD}>&-
	# 6 established connections aborted with SO_LINGER 0
	lq_start "$ns" listen -a 127.0.0.1 -p 7301 -b 16
	lq_start "$ns" connect -a 127.0.0.1 -p 7301 -n 6 -r
	wait_until 5 bash -c "[ \$(ip netns exec $ns ss -Htn state established dport 7301 | wc -l) -eq 6 ]" ||
		fail "connections not established"
	exec {LQ_FD}>&-
	wait "$LQ_PID" || true
	eventually_eq "resets vs TcpOutRsts delta" 'metric_sum $ns accel_tcp_resets_sent_total' \
		'echo $(( $(kstat $ns TcpOutRsts) - r0 ))'
	r1=$(kstat "$ns" TcpOutRsts)
	total=$(metric_sum "$ns" accel_tcp_resets_sent_total)
	nosock=$(metric "$ns" accel_tcp_resets_sent_total reason=no_socket)
	assert_eq "$total" $((r1 - r0)) "resets sent vs TcpOutRsts delta"
	assert_eq "$nosock" 20 "resets for no socket"
	[ $((total - nosock)) -eq 6 ] || fail "aborted connections sent $((total - nosock)) resets, want 6"
	$A detach
	pass
}

# Attached for every namespace: one that existed before attach (primed by
# walking /run/netns) and one created after (counts from zero).  SYNs are
# sent from CPU 0, then CPU 1, so the first event on CPU 1 is a drop: it
# must count in both namespaces.
test_all_namespaces_prime_old_and_new() {
	local old new p=7501 ns d0 o0 want
	old=$(netns_new old)
	$A attach --features tcpstate
	new=$(netns_new new)
	for ns in "$old" "$new"; do
		netns_blackhole_peer "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_syncookies=0
		lq_start "$ns" listen -a 198.51.100.1 -p $p -b 4
		d0=$(kstat "$ns" TcpExtListenDrops); o0=$(kstat "$ns" TcpExtListenOverflows)
		ip netns exec "$ns" taskset -c 0 "$LQ" syn -s 198.51.100.2 -a 198.51.100.1 -p $p -n 10 -P 20000 >/dev/null
		ip netns exec "$ns" taskset -c "$(( $(nproc) > 1 ))" "$LQ" syn -s 198.51.100.2 -a 198.51.100.1 \
			-p $p -n 10 -P 21000 >/dev/null
		eventually_eq "$ns: SYNs handled" \
			'echo $(( $(kstat $ns TcpExtListenDrops) - d0 + $(ip netns exec $ns ss -Htn state syn-recv src 198.51.100.1:$p | wc -l) ))' \
			'echo 20'
		want=$(( $(kstat "$ns" TcpExtListenDrops) - d0 - ($(kstat "$ns" TcpExtListenOverflows) - o0) ))
		[ "$want" -ge 10 ] || fail "$ns: only $want SYN-queue drops"
		eventually_eq "$ns: SYN-queue overflows vs kernel delta" \
			'metric $ns accel_tcp_syn_queue_overflows_total listener=198.51.100.1:$p' 'echo $want'
		p=$((p + 1))
	done
	$A detach
	pass
}

run_tests
