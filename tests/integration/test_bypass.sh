#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Local IO bypass: integrity, application conformance (A/B), namespaces,
# attach/detach during traffic, kill -9, policy and runtime switch.
#
# Every test attaches to a private cgroup it moves itself into and runs
# its traffic inside a private network namespace (no port clashes with
# anything else on the host); counters are read back and compared with
# the bytes the tools report, so a bypass that silently does nothing fails.
source "$(dirname "$0")/lib.sh"

STREAM=$TOOLS/bypass_stream
TOOLS_SRC=$top/tests/tools
CONFORM=$TOOLS/bypass_conform
EVENT_PORTS=47000-47999

# Private netns + cgroup, attach the bypass to that cgroup.  Sets NS, CG.
bp_setup() {
	NS=$(netns_new)
	CG=$(cgroup_new)
	cgroup_enter "$CG"
	$A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" "$@" \
		>"$TMP/attach.out" 2>&1 || fail "attach: $(cat "$TMP/attach.out")"
}

in_ns() { ip netns exec "$NS" "$@"; }
# in the background; $! is the tool itself (ip netns exec and nice exec
# it).  Niced, so that the test's own polling is not starved on 2 cores.
in_ns_bg() { (exec ip netns exec "$NS" nice -n 15 "$@") & }

# metric NAME [LABEL VALUE] -> value (integer) from stats --json
metric() {
	$A stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin); name = sys.argv[1]; want = dict(zip(sys.argv[2::2], sys.argv[3::2]))
for s in d["metrics"].get(name, {}).get("samples", []):
    if s["labels"] == want:
        print(int(s["value"])); break
else:
    print("missing")' "$@"
}

# for wait_until: metric_is NAME VALUE [LABEL VALUE], entries_is MAP N
metric_is() { local n=$1 v=$2 got; shift 2; got=$(metric "$n" "$@"); [ -n "${BP_DEBUG:-}" ] && echo "$(date +%T.%N) metric $n=$got" >&2; [ "$got" = "$v" ]; }
metric_gt() { local n=$1 v=$2; shift 2; [ "$(metric "$n" "$@")" -gt "$v" ]; }
entries_is() { [ "$(map_entries "$1")" = "$2" ]; }

# every thread of PID in the stopped state (SIGSTOP takes effect when a
# thread returns to user space: a niced sender may still be inside send())
stopped() {
	local t st
	for t in /proc/"$1"/task/*/stat; do
		st=$(sed 's/.*) //' "$t" 2>/dev/null | cut -d' ' -f1)
		[ "$st" = T ] || return 1
	done
}

listening() { grep -q "127.0.0.1:$1 " <<<"$(in_ns ss -Hltn)"; }

# Streams frozen mid-way on a state, not on a clock (a timed stream can end
# before a loaded box gets to freeze it).  held_stream PORT CONNS OUT: a
# bypass_stream of CONNS connections that stream until told to stop (-U),
# all at once, 1 MiB chunk limit (streams, not small messages: no demotion);
# pid in SPID, its readers' hold file $OUT.held.  Returns once the
# 2 * CONNS sockets are in the sockhash and bypassed messages flow.
held_stream() {
	in_ns_bg "$STREAM" -p "$1" -n "$2" -P "$2" -U -H "$3.held" -c 1048576 >"$3" 2>&1; SPID=$!
	defer "kill -KILL $SPID"
	# the tool is niced: on a loaded box it may take a while to connect
	wait_until 60 metric_is accel_bypass_sockets $(($2 * 2)) ||
		fail "streams not accelerated: $(metric accel_bypass_sockets) sockets;" \
			"$($A stats --prometheus | grep -E '^accel_bypass' | grep -v ' 0$' | tr '\n' ' ')" \
			"tool: $(cat "$3")"
	wait_until 30 metric_gt accel_bypass_messages_total 100 || fail "no redirected traffic"
}

# freeze PID OUT: the readers stop reading (SIGUSR2) until every one holds
# and bytes are sent but unread, then the whole process stops: bypassed
# bytes sit in psock queues and nothing can drain.
freeze() {
	kill -USR2 "$1" || fail "stream process gone: $(cat "$2")"
	wait_until 60 test -s "$2.held" || fail "readers did not hold with bytes in flight: $(cat "$2")"
	kill -STOP "$1"
	# a thread preempted inside a long send() stops only when it leaves it
	wait_until 30 stopped "$1" || fail "stream process did not stop"
}

# thaw PID OUT [WHAT]: go on, read what is queued, end the streams
# (SIGUSR1), and every byte must have arrived intact (SHA-256, per
# direction: no loss, no reordering).
thaw() {
	local w=${3:+$3: }
	kill -CONT "$1"
	kill -USR1 "$1"
	wait "$1" || fail "${w}streams: $(cat "$2")"
	assert_eq "$(field mismatches <"$2")" 0 "${w}mismatches"
	assert_eq "$(field errors <"$2")" 0 "${w}errors"
}

# field of the tool's summary line: field NAME < line
field() { awk -v f="$1" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'; }

map_entries() {	# pinned map name -> number of entries
	bpftool -j map dump pinned "$PIN/bypass/$1" 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# pool_server PORT [OUT]: a bypass_pool server in $NS, listening; pid in SRV.
pool_server() {
	in_ns_bg "$TOOLS/bypass_pool" -s -p "$1" >"${2:-$TMP/srv}" 2>&1; SRV=$!
	defer "kill $SRV"
	wait_until 5 listening "$1" || fail "pool server on $1 did not listen: $(cat "${2:-$TMP/srv}")"
}

# pool_client PORT CONNS [ARGS...]: a bypass_pool client of CONNS
# connections (ready file $TMP/ready, output $TMP/cli), returned once all
# are connected; pid in CLI.
pool_client() {
	local port=$1 n=$2
	shift 2
	in_ns_bg "$TOOLS/bypass_pool" -c -p "$port" -n "$n" "$@" -f "$TMP/ready" -q >"$TMP/cli" 2>&1; CLI=$!
	defer "kill $CLI"
	wait_until 120 test -s "$TMP/ready" || fail "pool client on $port did not connect: $(cat "$TMP/cli")"
}

test_bypass_integrity_10k_connections() {
	local out bytes b0 c0
	bp_setup
	b0=$(metric accel_bypass_bytes_total)
	c0=$(metric accel_bypass_connections_total family inet)
	# 10,000 connections, 1 B - 2 MiB per direction (log-uniform), random
	# write and read sizes, a reader and a writer thread on each socket.
	out=$(in_ns "$STREAM" -p 47000 -n 10000 -P 4 -s 1 -S $((2 << 20)) -r $RANDOM) ||
		fail "integrity: $out"
	echo "    $out"
	assert_eq "$(field mismatches <<<"$out")" 0 "SHA-256 mismatches"
	assert_eq "$(field errors <<<"$out")" 0 "I/O errors"
	bytes=$(field bytes <<<"$out")
	assert_eq "$(($(metric accel_bypass_bytes_total) - b0))" "$bytes" "bytes redirected vs bytes sent"
	assert_eq "$(($(metric accel_bypass_connections_total family inet) - c0))" 10000 "connections accelerated"
	assert_eq "$(metric accel_bypass_fallback_total reason demoted)" 0 "demotions (no small streams here)"
	wait_until 10 metric_is accel_bypass_sockets 0 || fail "sockets left in the sockhash"
	assert_eq "$(metric accel_bypass_connections_active)" 0 "active connections after the run"
	pass
}

# Connection slots (bypass_conns) worn out: the test-hook build shrinks the
# table to 32 slots.  2 connections at a time: slots are reused ~50 times
# each, every connection must still reach its own peer (SHA-256) and be
# accelerated (a slot is found in 8 random probes: with at most ~4 held,
# all 8 miss with p < 1e-7).  48 at a time: more connections than slots,
# those without one stay on the stack (no_slot), bytes still intact.
test_bypass_slot_reuse_and_full_table() {
	local out c0 b0 fb0 hooks=${OUT:-$top/build}/tests/accelctl-testhooks
	[ -x "$hooks" ] || fail "$hooks missing: run make test-build"
	NS=$(netns_new)
	CG=$(cgroup_new)
	cgroup_enter "$CG"
	ACCELCTL_TEST_CONN_SLOTS=32 "$hooks" --pin-root "$PIN" --state-dir "$STATE" \
		attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" \
		>"$TMP/attach.out" 2>&1 || fail "attach: $(cat "$TMP/attach.out")"
	grep -q "TEST HOOK: 32 connection slots" "$TMP/attach.out" || fail "hook not taken: $(cat "$TMP/attach.out")"
	# ephemeral ports away from the 16 listeners' (this netns only)
	in_ns sysctl -qw net.ipv4.ip_local_port_range="50000 60999" || fail "port range"
	out=$(in_ns "$STREAM" -p 47050 -n 1600 -P 2 -s 1 -S 65536 -r $RANDOM) || fail "2 at a time: $out"
	echo "    32 slots, 2 at a time: $out"
	assert_eq "$(field mismatches <<<"$out")" 0 "SHA-256 mismatches"
	assert_eq "$(field errors <<<"$out")" 0 "I/O errors"
	assert_eq "$(metric accel_bypass_connections_total family inet)" 1600 "connections accelerated"
	assert_eq "$(metric accel_bypass_bytes_total)" "$(field bytes <<<"$out")" "bytes redirected vs bytes sent"
	wait_until 10 metric_is accel_bypass_connection_slots 0 || fail "slots still held: $(metric accel_bypass_connection_slots)"
	c0=$(metric accel_bypass_connections_total family inet)
	b0=$(metric accel_bypass_bytes_total)
	fb0=$(metric accel_bypass_fallback_total reason no_slot)
	out=$(in_ns "$STREAM" -p 47060 -n 480 -P 48 -s 1 -S 65536 -r $RANDOM) || fail "48 at a time: $out"
	echo "    32 slots, 48 at a time: $out"
	assert_eq "$(field mismatches <<<"$out")" 0 "SHA-256 mismatches"
	assert_eq "$(field errors <<<"$out")" 0 "I/O errors"
	metric_gt accel_bypass_fallback_total "$fb0" reason no_slot ||
		fail "no socket found the table full"
	[ "$(($(metric accel_bypass_connections_total family inet) - c0))" -gt 0 ] || fail "nothing accelerated"
	[ "$(($(metric accel_bypass_bytes_total) - b0))" -lt "$(field bytes <<<"$out")" ] ||
		fail "every byte redirected although slots ran out"
	wait_until 10 metric_is accel_bypass_connection_slots 0 || fail "slots still held: $(metric accel_bypass_connection_slots)"
	entries_is bypass_pending 0 || fail "pending slots left: $(map_entries bypass_pending)"
	pass
}

# --max-connections sizes the tables: 1,300 pooled connections on a
# bypass attached for 1,024 fill the sockhash (status says so, with the
# sizes and the maps' memory); the rest stay on the stack as no_slot, and
# every reply of all 1,300 is still checked (SHA-256).  Closed, nothing
# is left in the sockhash, the slots or bypass_pending.
test_bypass_max_connections_full_table() {
	local srv cli st fb0 socks
	bp_setup --max-connections 1024
	st=$($A status --json) || fail "status --json"
	assert_eq "$(jpath .features.bypass.capacity.connections <<<"$st")" 1024 "capacity.connections"
	assert_eq "$(jpath .features.bypass.capacity.sockets <<<"$st")" 2048 "capacity.sockets"
	assert_eq "$(jpath .features.bypass.capacity.slots <<<"$st")" 4096 "capacity.slots"
	assert_eq "$(jpath .features.bypass.capacity.full <<<"$st")" false "capacity.full when empty"
	assert_eq "$(bpftool -j map show pinned "$PIN/bypass/bypass_socks" | jpath .max_entries)" 2048 "sockhash max_entries"
	assert_eq "$(metric accel_bypass_capacity_sockets)" 2048 "capacity gauge"
	[ "$(metric accel_bypass_map_memory_bytes)" -gt 0 ] || fail "map memory gauge"
	fb0=$(metric accel_bypass_fallback_total reason no_slot)
	pool_server 47070
	pool_client 47070 1300 -i 2 -S 16384
	cli=$CLI
	socks=$(metric accel_bypass_sockets)
	# the last pairs may race for the last entries: a passive end refused
	# leaves its active end in alone, until that end's first send
	[ "$socks" -ge 2040 ] && [ "$socks" -le 2048 ] || fail "sockhash holds $socks sockets, capacity 2048"
	[ $(($(metric accel_bypass_fallback_total reason no_slot) - fb0)) -ge 276 ] ||
		fail "no_slot counted $(($(metric accel_bypass_fallback_total reason no_slot) - fb0)) of the 276 refused"
	st=$($A status --json) || fail "status --json"
	assert_eq "$(jpath .features.bypass.capacity.full <<<"$st")" true "capacity.full"
	$A status | grep -q "warning:  the sockhash is full" || fail "status does not say the table is full: $($A status)"
	wait_until 20 metric_gt accel_bypass_bytes_total 1000000 || fail "no bypassed replies"
	kill -USR1 "$cli"; wait_until 5 test -s "$TMP/ready.stats"
	kill -TERM "$cli"; wait "$cli" || fail "pool: $(cat "$TMP/cli")"
	assert_eq "$(field open <"$TMP/cli")" 1300 "connections open to the end"
	assert_eq "$(field mismatches <"$TMP/cli")" 0 "mismatches"
	assert_eq "$(field errors <"$TMP/cli")" 0 "errors"
	# replies came over both paths: the bypass's and the stack's
	[ "$(metric accel_bypass_bytes_total)" -lt "$(field bytes <"$TMP/cli")" ] ||
		fail "every reply byte was bypassed although 276 connections had no room: $(cat "$TMP/cli")"
	wait_until 10 metric_is accel_bypass_sockets 0 || fail "sockets left: $(metric accel_bypass_sockets)"
	wait_until 10 metric_is accel_bypass_connection_slots 0 || fail "slots still held"
	entries_is bypass_pending 0 || fail "pending left: $(map_entries bypass_pending)"
	pass
}

# Scale: 50,001 concurrent accelerated connections (3 pool servers and 3
# clients of 16,667 each: the descriptor limit is 20,000 per process), all
# in the sockhash at once while their requests flow and every reply is
# checked (SHA-256 over each reply against the expected stream); closed,
# the sockhash, the slots and bypass_pending are empty.  Prints the maps'
# memory at 0 and 50,001 connections (docs/bypass.md "Capacity").
test_bypass_scale_50k_connections() {
	local i cli=() mem0 mem1 t0 t1 per=16667
	bp_setup
	mem0=$(metric accel_bypass_map_memory_bytes)
	for i in 0 1 2; do
		pool_server $((47090 + i)) "$TMP/srv$i"
	done
	t0=$(date +%s%N)
	for i in 0 1 2; do
		in_ns_bg "$TOOLS/bypass_pool" -c -p $((47090 + i)) -n $per -i 1 -S 65536 -r $((RANDOM + i)) \
			-f "$TMP/ready$i" -q >"$TMP/cli$i" 2>&1; cli+=($!)
		defer "kill ${cli[$i]}"
	done
	for i in 0 1 2; do
		wait_until 180 test -s "$TMP/ready$i" || fail "client $i did not connect: $(cat "$TMP/cli$i")"
	done
	t1=$(date +%s%N)
	wait_until 30 metric_is accel_bypass_sockets $((6 * per)) ||
		fail "sockhash holds $(metric accel_bypass_sockets) sockets, want $((6 * per))"
	mem1=$(metric accel_bypass_map_memory_bytes)
	echo "    $((3 * per)) connections in $(((t1 - t0) / 1000000)) ms; maps $((mem0 >> 10)) KiB empty, $((mem1 >> 10)) KiB full: $(((mem1 - mem0) / (3 * per))) B per connection"
	assert_eq "$(metric accel_bypass_fallback_total reason no_slot)" 0 "no_slot fallbacks"
	wait_until 60 metric_gt accel_bypass_bytes_total 10000000 || fail "no bypassed replies"
	for i in 0 1 2; do
		kill -TERM "${cli[$i]}"
	done
	for i in 0 1 2; do
		wait "${cli[$i]}" || fail "client $i: $(cat "$TMP/cli$i")"
		assert_eq "$(field open <"$TMP/cli$i")" $per "client $i: connections open to the end"
		assert_eq "$(field mismatches <"$TMP/cli$i")" 0 "client $i: mismatches"
		assert_eq "$(field errors <"$TMP/cli$i")" 0 "client $i: errors"
		echo "    client $i: $(cat "$TMP/cli$i")"
	done
	wait_until 60 metric_is accel_bypass_sockets 0 || fail "sockets left: $(metric accel_bypass_sockets)"
	wait_until 10 metric_is accel_bypass_connection_slots 0 || fail "slots still held"
	entries_is bypass_pending 0 || fail "pending left: $(map_entries bypass_pending)"
	pass
}

test_bypass_families_ipv6_and_v4mapped() {
	local out
	bp_setup
	out=$(in_ns "$STREAM" -6 -p 47010 -n 50 -P 2 -S 300000) || fail "ipv6: $out"
	assert_eq "$(metric accel_bypass_connections_total family inet6)" 50 "IPv6 connections accelerated"
	assert_eq "$(metric accel_bypass_bytes_total)" "$(field bytes <<<"$out")" "IPv6 bytes"
	# AF_INET6 client on ::ffff:127.0.0.1 to an AF_INET server: one IPv4 key
	out=$(in_ns "$STREAM" -M -p 47020 -n 50 -P 2 -S 300000) || fail "v4-mapped: $out"
	assert_eq "$(metric accel_bypass_connections_total family inet)" 50 "v4-mapped connections accelerated"
	pass
}

# Each scenario without, then with the bypass: identical observations.
# Two kernel behaviours cannot be hidden by any BPF design and are asserted
# exactly as docs/bypass.md documents them (close with unread bypassed data
# sends FIN, not RST; splice(2) from a socket does not see bypassed bytes).
test_bypass_conformance_ab() {
	local sc plain bypass m0 m1 u0 u1 port diffs=0
	NS=$(netns_new)
	CG=$(cgroup_new)
	cgroup_enter "$CG"
	in_ns "$CONFORM" -p 47100 >"$TMP/plain" || fail "plain run: $(cat "$TMP/plain")"
	$A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" >/dev/null 2>&1
	for sc in $("$CONFORM" -l); do
		m0=$(metric accel_bypass_messages_total)
		u0=$(metric accel_bypass_fallback_total reason kernel_unsafe)
		# blocking servers are not --event-ports servers (an operator
		# would not list them): their own port, outside the list
		case "$sc" in
		blocking_*|msg_waitall|so_rcvtimeo) port=48100 ;;
		# a blocking server wrongly listed in --event-ports: the
		# port gets marked (test_bypass_blocking_event_port_learned),
		# so it has a port of its own
		nonblocking_client_blocking_server_rr) port=47101 ;;
		*) port=47100 ;;
		esac
		bypass=$(in_ns "$CONFORM" -p $port "$sc")
		m1=$(metric accel_bypass_messages_total)
		u1=$(metric accel_bypass_fallback_total reason kernel_unsafe)
		plain=$(grep "^$sc: " "$TMP/plain")
		case "$sc" in
		blocking_*|msg_waitall|so_rcvtimeo|connect_nonblocking_then_blocking_rr)
			# blocking sockets: kept on the stack on this kernel
			[ "$u1" -gt "$u0" ] || [ "$(metric_flag)" = 0 ] ||
				fail "$sc: no kernel_unsafe fallback on an affected kernel" ;;
		*)
			[ "$m1" -gt "$m0" ] || fail "$sc: nothing was redirected ($bypass)" ;;
		esac
		case "$sc" in
		close_unread)
			grep -q 'client read -> Connection reset by peer' <<<"$plain" || fail "$sc plain: $plain"
			grep -q 'client read -> EOF' <<<"$bypass" ||
				{ [ "$bypass" = "$plain" ] || fail "$sc: $bypass"; } ;;
		splice_read)
			grep -q 'spliced 4096 bytes' <<<"$plain" || fail "$sc plain: $plain"
			grep -q 'spliced 0 bytes' <<<"$bypass" ||
				{ [ "$bypass" = "$plain" ] || fail "$sc: $bypass"; } ;;
		*)
			if [ "$bypass" != "$plain" ]; then
				echo "    differs: $sc" >&2
				echo "      plain:  $plain" >&2
				echo "      bypass: $bypass" >&2
				diffs=$((diffs + 1))
			fi ;;
		esac
	done
	assert_eq "$diffs" 0 "scenarios whose observations differ with the bypass"
	pass
}

# 1 when attach's self-test found the blocking-reader problem
metric_flag() {
	$A status --json | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["features"]["bypass"]["blocking_readers_unsafe"]))'
}

test_bypass_netns_identical_tuples_never_meet() {
	local ns2 out1 out2 pid1 pid2
	bp_setup
	ns2=$(netns_new ns2)
	# The same listener 127.0.0.1:47300 and client 127.0.0.1:47301 in both
	# namespaces, each stream with its own data: a cross-delivery would be
	# a SHA-256 mismatch; both in the sockhash at once proves two keys.
	in_ns_bg "$STREAM" -p 47300 -C 47301 -n 1 -P 1 -L 8 -c 1048576 -r 1 >"$TMP/ns1" 2>&1; pid1=$!
	(exec ip netns exec "$ns2" nice -n 15 "$STREAM" -p 47300 -C 47301 -n 1 -P 1 -L 8 -c 1048576 -r 2 >"$TMP/ns2" 2>&1) & pid2=$!
	wait_until 8 metric_is accel_bypass_sockets 4 ||
		fail "expected 4 sockets (2 per namespace) in the sockhash, got $(metric accel_bypass_sockets)"
	wait $pid1 || fail "ns1: $(cat "$TMP/ns1")"
	wait $pid2 || fail "ns2: $(cat "$TMP/ns2")"
	assert_eq "$(field mismatches <"$TMP/ns1")$(field mismatches <"$TMP/ns2")" 00 "mismatches"
	assert_eq "$(metric accel_bypass_connections_total family inet)" 2 "connections accelerated"
	assert_eq "$(metric accel_bypass_bytes_total)" \
		"$(($(field bytes <"$TMP/ns1") + $(field bytes <"$TMP/ns2")))" "bytes redirected"
	pass
}

test_bypass_attach_during_traffic() {
	local pid out
	NS=$(netns_new)
	CG=$(cgroup_new)
	cgroup_enter "$CG"
	# streams that start on the stack and go on until told (SIGUSR1) ...
	in_ns_bg "$STREAM" -p 47400 -n 8 -P 8 -U -c 1048576 >"$TMP/before" 2>&1; pid=$!
	defer "kill -KILL $pid"
	wait_until 5 bash -c "[ \$(ip netns exec $NS ss -Htn state established | wc -l) -eq 16 ]" ||
		fail "streams did not start"
	$A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" >/dev/null 2>&1
	# ... and new ones that start after the attach
	out=$(in_ns "$STREAM" -p 47420 -n 200 -P 4 -S 500000) || fail "after attach: $out"
	kill -USR1 "$pid" || fail "the streams across the attach ended early: $(cat "$TMP/before")"
	wait $pid || fail "streams across the attach: $(cat "$TMP/before")"
	assert_eq "$(field mismatches <"$TMP/before")" 0 "mismatches across the attach"
	assert_eq "$(field errors <"$TMP/before")" 0 "errors across the attach"
	# established before the attach: never inserted, so the bypass bytes
	# are exactly those of the connections made after it
	assert_eq "$(metric accel_bypass_bytes_total)" "$(field bytes <<<"$out")" "bytes redirected"
	assert_eq "$(metric accel_bypass_connections_total family inet)" 200 "connections accelerated"
	pass
}

# draining generations under the pin root (detach's residue)
generations() { ls -d "$PIN"/bypass-draining-* 2>/dev/null | wc -l; }
generations_is() { [ "$(generations)" = "$1" ]; }
# status reaps (what serve does once a second)
reaped() { $A status >/dev/null; generations_is 0; }

test_bypass_detach_during_traffic_drains() {
	local pid out d0 t0 t1 gen
	bp_setup
	held_stream 47500 6 "$TMP/streams"; pid=$SPID
	# Freeze both ends mid-stream: bypassed bytes sit in psock queues,
	# nobody reads, so nothing can drain while we detach.
	freeze "$pid" "$TMP/streams"
	t0=$(date +%s%N)
	out=$($A detach --timeout 1 2>&1) || fail "detach: $out"
	t1=$(date +%s%N)
	# bounded: the timeout, the grace and the work, well under 5 s
	[ $(((t1 - t0) / 1000000)) -lt 5000 ] || fail "detach took $(((t1 - t0) / 1000000)) ms"
	grep -qE '[1-6] connections still hold [0-9]+ bypassed bytes' <<<"$out" ||
		fail "detach did not say what it keeps: $out"
	# the sockops link, the sockhash and the program: moved, not removed
	[ ! -e "$PIN/bypass" ] || fail "active pins left after detach: $(ls "$PIN/bypass")"
	generations_is 1 || fail "no draining generation: $(ls "$PIN")"
	gen=$(ls -d "$PIN"/bypass-draining-*)
	[ -e "$gen/bypass_socks" ] && [ -e "$gen/link_bypass_sockops" ] ||
		fail "draining generation incomplete: $(ls "$gen")"
	out=$($A status)
	grep -qE '^draining: +bypass-draining-[0-9]+: [1-6] connections with [1-9][0-9]* bytes unread' <<<"$out" ||
		fail "status does not show the draining generation: $out"
	grep -q 'interrupted' <<<"$out" && fail "status calls a drain interrupted: $out"
	grep -q '^attached:  no' <<<"$out" || fail "status after detach: $out"
	out=$($A status --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["features"]["bypass"]["draining"]; print(len(d), d[0]["connections"] > 0, d[0]["unread_bytes"] > 0)')
	assert_eq "$out" "1 True True" "status --json draining"
	# no new connection is accelerated by the detached generation
	in_ns "$STREAM" -p 47520 -n 5 -P 1 -S 100000 >/dev/null || fail "new connections after detach"
	# attach again while it drains: a second generation next to it
	$A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" >"$TMP/attach2" 2>&1 ||
		fail "attach while draining: $(cat "$TMP/attach2")"
	generations_is 1 || fail "attach removed the draining generation with unread bytes"
	d0=$(metric accel_bypass_bytes_total)
	in_ns "$STREAM" -p 47530 -n 5 -P 1 -s 200000 -S 400000 >"$TMP/new" || fail "new connections next to a draining generation"
	[ "$(metric accel_bypass_bytes_total)" -gt "$d0" ] || fail "the new generation accelerates nothing"
	# across the detach: every byte, in order (SHA-256 per direction)
	thaw "$pid" "$TMP/streams" "across the detach"
	# read and closed: the next command that takes the lock releases it
	wait_until 30 reaped || { $A status; fail "draining generation not released once read: $(ls "$PIN")"; }
	out=$($A detach 2>&1) || fail "second detach: $out"
	[ ! -e "$PIN" ] || fail "pins left after draining: $(ls -R "$PIN")"
	pass
}

# serve's reaper rounds (its -v line) that kept a generation with bytes
# unread, at least $1 of them.
kept_rounds_at_least() {
	[ "$(grep -c 'debug: bypass: bypass-draining-[0-9]*: released [0-9]* sockets, [1-9][0-9]* connections left, [1-9][0-9]* bytes unread' "$TMP/serve.log")" -ge "$1" ]
}

# Unread bypassed bytes at detach: kept, delivered once the reader reads,
# and the residue goes by itself: `accelctl serve` (the exporter unit)
# reaps once a second, no accelctl command is run meanwhile.
test_bypass_residue_goes_by_itself_with_serve() {
	local pid srv out
	bp_setup
	$A -v serve --listen 127.0.0.1:0 2>"$TMP/serve.log" & srv=$!
	defer "kill $srv"
	wait_until 5 grep -q 'serving http://' "$TMP/serve.log" || fail "serve did not start"
	held_stream 47560 3 "$TMP/streams"; pid=$SPID
	freeze "$pid" "$TMP/streams"
	out=$($A detach --timeout 0.5 2>&1) || fail "detach: $out"
	generations_is 1 || fail "nothing kept for the unread bytes: $out"
	# serve's reaper runs meanwhile, but the bytes are not read yet:
	# three of its rounds see them and keep the generation
	wait_until 10 kept_rounds_at_least 3 || fail "serve's reaper did not look at the generation: $(cat "$TMP/serve.log")"
	generations_is 1 || fail "serve released a generation whose bytes were unread"
	thaw "$pid" "$TMP/streams"
	wait_until 30 generations_is 0 || fail "serve did not release the drained generation: $(ls "$PIN")"
	grep -q 'has drained: released' "$TMP/serve.log" || fail "serve does not log the release: $(cat "$TMP/serve.log")"
	[ ! -e "$PIN" ] || [ -z "$(ls "$PIN")" ] || fail "pins left: $(ls -R "$PIN")"
	pass
}

# An idle pooled connection whose bytes have all been read: detach
# releases it at once (it goes on over the stack), leaves nothing pinned
# and nothing attached, and the connection keeps working.
test_bypass_detach_releases_idle_connections_at_once() {
	local pid out ours= links l t0 t1
	bp_setup
	# our links (sockops, learning's tracepoint) by id: other programs'
	# links may come and go meanwhile
	for l in $(find "$PIN/bypass" -name 'link_*'); do
		ours+=" $(bpftool -j link show pinned "$l" | jpath .id)"
	done
	[ -n "$ours" ] || fail "no pinned links"
	in_ns_bg "$TOOLS/bypass_pool" -s -p 47540 >"$TMP/srv" 2>&1; pid=$!
	defer "kill $pid"
	wait_until 5 listening 47540 || fail "pool server did not listen"
	in_ns_bg "$TOOLS/bypass_pool" -c -p 47540 -n 20 -i 50 -S 65536 -f "$TMP/ready" -q >"$TMP/cli" 2>&1
	local cli=$!
	defer "kill $cli"
	wait_until 10 test -s "$TMP/ready" || fail "pool did not connect: $(cat "$TMP/cli")"
	wait_until 10 metric_is accel_bypass_sockets 40 || fail "pool not accelerated: $(metric accel_bypass_sockets)"
	wait_until 10 metric_gt accel_bypass_bytes_total 100000 || fail "no bypassed replies"
	t0=$(date +%s%N)
	out=$($A detach 2>&1) || fail "detach: $out"
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -lt 3000 ] || fail "detach with idle connections took $(((t1 - t0) / 1000000)) ms"
	grep -q 'sockets released to the stack' <<<"$out" || fail "detach did not release: $out"
	[ ! -e "$PIN" ] || fail "pins left: $(ls -R "$PIN")"
	links=" $(bpftool -j link show | python3 -c 'import json,sys; print(" ".join(str(l["id"]) for l in json.load(sys.stdin)))') "
	for l in $ours; do
		[[ "$links" != *" $l "* ]] || fail "link $l still exists after detach"
	done
	# the pool goes on over the stack: requests still answered, checked
	kill -USR1 "$cli"; wait_until 5 test -s "$TMP/ready.stats"
	local r0; r0=$(field requests <"$TMP/ready.stats")
	wait_until 10 bash -c "kill -USR1 $cli; sleep 0.2; [ \$(awk '{for(i=1;i<NF;i++) if(\$i==\"requests\") print \$(i+1)}' $TMP/ready.stats) -gt $((r0 + 20)) ]" ||
		fail "pool stalled after detach: $(cat "$TMP/ready.stats")"
	kill -TERM "$cli"; wait "$cli" || fail "pool across detach: $(cat "$TMP/cli")"
	assert_eq "$(field mismatches <"$TMP/cli")" 0 "mismatches"
	assert_eq "$(field errors <"$TMP/cli")" 0 "errors"
	pass
}

# kill -9 inside detach (test hooks: after DRAINING is raised, after the
# idle sockets are released): the next attach repairs it, the frozen
# streams' bytes all arrive, and nothing is left once they are read.
test_bypass_detach_killed_is_repaired() {
	local hooks=${OUT:-$top/build}/tests/accelctl-testhooks point pid port=47800 out d0
	bp_setup
	for point in quiesced released; do
		held_stream $port 4 "$TMP/streams.$point"; pid=$SPID
		freeze "$pid" "$TMP/streams.$point"
		out=$(ACCELCTL_TEST_BYPASS_CRASH=$point "$hooks" --pin-root "$PIN" --state-dir "$STATE" detach --timeout 0.2 2>&1) &&
			fail "$point: the hook did not fire: $out"
		grep -q "TEST HOOK: SIGKILL at detach $point" <<<"$out" || fail "$point: $out"
		out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" 2>&1) ||
			fail "$point: attach after a killed detach: $out"
		grep -q 'an earlier detach was interrupted' <<<"$out" || fail "$point: no repair notice: $out"
		generations_is 1 || fail "$point: the interrupted detach's sockets are not draining: $(ls "$PIN")"
		d0=$(metric accel_bypass_bytes_total)
		in_ns "$STREAM" -p $((port + 50)) -n 3 -P 1 -s 200000 -S 400000 >/dev/null || fail "$point: new connections"
		[ "$(metric accel_bypass_bytes_total)" -gt "$d0" ] || fail "$point: the new attach accelerates nothing"
		# across the killed detach: every byte, in order
		thaw "$pid" "$TMP/streams.$point" "$point: across the killed detach"
		wait_until 30 reaped || fail "$point: the draining generation stays: $(ls "$PIN")"
		$A detach >/dev/null 2>&1 || fail "$point: detach"
		[ ! -e "$PIN" ] || fail "$point: pins left: $(ls -R "$PIN")"
		$A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" >/dev/null 2>&1 || fail "re-attach"
		port=$((port + 100))
	done
	pass
}

# The pool's reply check can fail: a flipped byte (the server's test
# hook) is a mismatch and exit 1, with and without the bypass.
test_bypass_pool_check_catches_a_wrong_byte() {
	local srv rc
	bp_setup
	in_ns_bg env BYPASS_POOL_TEST_CORRUPT=2 "$TOOLS/bypass_pool" -s -p 47980 >"$TMP/srv" 2>&1; srv=$!
	defer "kill $srv"
	wait_until 5 listening 47980 || fail "pool server did not listen"
	rc=0; in_ns "$TOOLS/bypass_pool" -c -p 47980 -n 4 -i 5 -S 65536 -t 1 -q >"$TMP/cli" 2>&1 || rc=$?
	assert_eq "$rc" 1 "pool client exit with a corrupted reply"
	assert_eq "$(field mismatches <<<"$(grep '^conns' "$TMP/cli")")" 1 "mismatches reported"
	[ "$(metric accel_bypass_bytes_total)" -gt 0 ] || fail "the replies did not take the bypass"
	pass
}

objects_at_most() {	# PROGS MAPS: no more programs and maps than these on the host
	local p m
	read -r p m < <(bpf_objects)
	[ "$p" -le "$1" ] && [ "$m" -le "$2" ]
}

bpf_objects() {	# programs and maps on the host
	echo "$(bpftool -j prog show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
		"$(bpftool -j map show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
}

# The unit file's own commands, with the test's accelctl and options.
unit_cmd() {	# ExecStart|ExecStop
	local line
	line=$(sed -n "s|^$1=||p" "$top/scripts/systemd/accelctl.service")
	[ -n "$line" ] || fail "no $1 in accelctl.service"
	line=${line//\/usr\/local\/sbin\/accelctl/$A}
	line=${line//\$ACCELCTL_ATTACH_OPTS/--features bypass --cgroup $CG --event-ports $EVENT_PORTS}
	line=${line//\$ACCELCTL_STOP_OPTS/$(sed -n 's|^Environment="\{0,1\}ACCELCTL_STOP_OPTS=\([^"]*\)"\{0,1\}$|\1|p' "$top/scripts/systemd/accelctl.service")}
	[ "${line#"$A"}" != "$line" ] || fail "$1 does not run accelctl: $line"
	echo "$line"
}

pool_stat() {	# field of the pool client's stats line, after SIGUSR1
	: >"$TMP/ready.stats"
	kill -USR1 "$1"
	wait_until 5 test -s "$TMP/ready.stats" || fail "pool client gives no stats"
	field "$2" <"$TMP/ready.stats"
}

# 1,000 long-lived pooled connections (event-driven client and server,
# requests now and then, SHA-256-checked replies) across 20 detach/attach
# cycles and 20 restarts through accelctl.service's own commands: each
# cycle within the bound, every reply intact, new connections accelerated
# after each attach, and nothing of any generation left at the end.
test_bypass_pool_survives_20_detach_attach_and_20_restarts() {
	local before srv cli i t0 t1 ms max=0 start stop out r0
	before=$(bpf_objects)
	bp_setup
	in_ns_bg "$TOOLS/bypass_pool" -s -p 47960 >"$TMP/srv" 2>&1; srv=$!
	defer "kill $srv"
	wait_until 5 listening 47960 || fail "pool server did not listen: $(cat "$TMP/srv")"
	in_ns_bg "$TOOLS/bypass_pool" -c -p 47960 -n 1000 -i 5 -S 16384 -f "$TMP/ready" -q >"$TMP/cli" 2>&1; cli=$!
	defer "kill $cli"
	wait_until 30 test -s "$TMP/ready" || fail "pool did not connect: $(cat "$TMP/cli")"
	wait_until 30 metric_is accel_bypass_sockets 2000 || fail "pool not accelerated: $(metric accel_bypass_sockets) sockets"
	start=$(unit_cmd ExecStart)
	stop=$(unit_cmd ExecStop)
	for i in $(seq 1 40); do
		t0=$(date +%s%N)
		if [ "$i" -le 20 ]; then
			out=$($A detach 2>&1) || fail "cycle $i: detach: $out"
		else
			out=$(eval "$stop" 2>&1) || fail "restart $((i - 20)): ExecStop: $out"
		fi
		t1=$(date +%s%N); ms=$(((t1 - t0) / 1000000)); [ $ms -gt $max ] && max=$ms
		# the bound: --timeout (5 s) plus the grace and the work
		[ $ms -lt 6500 ] || fail "cycle $i: detach took $ms ms: $out"
		if [ "$i" -le 20 ]; then
			out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" 2>&1) ||
				fail "cycle $i: attach: $out"
		else
			out=$(eval "$start" 2>&1) || fail "restart $((i - 20)): ExecStart: $out"
			# the unit's stop hands the bypass over; its start adopts it
			grep -q 'adopted the handed-over bypass' <<<"$out" || fail "restart $((i - 20)): not adopted: $out"
		fi
		# new connections are accelerated by the new attach
		in_ns "$STREAM" -p 47970 -n 2 -P 2 -s 100000 -S 200000 >"$TMP/new" ||
			fail "cycle $i: new connections: $(cat "$TMP/new")"
		[ "$(metric accel_bypass_bytes_total)" -gt 0 ] || fail "cycle $i: new connections not accelerated"
	done
	echo "    40 cycles, slowest detach $max ms"
	r0=$(pool_stat "$cli" requests)
	[ "$r0" -gt 100 ] || fail "pool made only $r0 requests"
	assert_eq "$(pool_stat "$cli" open)" 1000 "pool connections still open"
	kill -TERM "$cli"
	wait "$cli" || fail "pool across the cycles: $(cat "$TMP/cli")"
	assert_eq "$(field mismatches <"$TMP/cli")" 0 "mismatches"
	assert_eq "$(field errors <"$TMP/cli")" 0 "errors"
	out=$($A detach 2>&1) || fail "final detach: $out"
	wait_until 10 reaped || fail "generations left: $(ls "$PIN")"
	[ ! -e "$PIN" ] || fail "pins left: $(ls -R "$PIN")"
	[ -z "$(bpftool cgroup show "$CG" 2>/dev/null | tail -n +2)" ] || fail "programs left on the cgroup: $(bpftool cgroup show "$CG")"
	# no more than before (another test's objects may still have been
	# on their way out when "before" was counted)
	wait_until 10 objects_at_most $before || fail "BPF objects before $before, after $(bpf_objects)"
	pass
}

test_bypass_detach_force_says_what_it_risks() {
	local pid out
	bp_setup
	in_ns_bg "$STREAM" -p 47600 -n 2 -P 2 -L 30 -c 1048576 >"$TMP/s" 2>&1; pid=$!
	defer "kill -9 $pid"
	wait_until 5 metric_is accel_bypass_sockets 4 || fail "not accelerated: $($A stats --prometheus | grep -v "^#" | grep bypass | grep -v " 0$" | tr "\n" " ") $(cat $TMP/s)"
	kill -STOP "$pid" || fail "stream process gone: $(cat "$TMP/s" "$TMP/streams" 2>/dev/null)"
	# a thread preempted inside a long send() stops only when it leaves it
	wait_until 5 stopped "$pid" || fail "stream process did not stop"
	out=$($A detach --force 2>&1) || fail "detach --force: $out"
	grep -q 'bytes they have not read yet from the bypass are lost' <<<"$out" ||
		fail "--force does not say what it risks: $out"
	[ ! -e "$PIN" ] || fail "pins left after --force"
	kill -9 "$pid"
	pass
}

test_bypass_kill9_leaves_no_stale_entry() {
	local pid child victim
	bp_setup
	for victim in client server; do
		# throughput mode: the server reads in the parent, a forked
		# child is the client endpoint
		in_ns_bg "$STREAM" -p 47700 -m 65536 -t 60 >/dev/null 2>&1; pid=$!
		wait_until 5 metric_is accel_bypass_sockets 2 || fail "not accelerated"
		wait_until 5 metric_is accel_bypass_connection_slots 2 || fail "no shared state held"
		entries_is bypass_pending 0 || fail "second end did not withdraw the pending slot: $(map_entries bypass_pending)"
		child=$(pgrep -P "$pid" | head -1)
		[ -n "$child" ] || fail "no client process"
		if [ $victim = client ]; then kill -9 "$child"; else kill -9 "$pid"; fi
		wait_until 10 entries_is bypass_socks 0 ||
			fail "kill -9 $victim: sockhash entries left: $(map_entries bypass_socks)"
		wait_until 10 metric_is accel_bypass_connection_slots 0 ||
			fail "kill -9 $victim: connection slots still held"
		entries_is bypass_pending 0 || fail "kill -9 $victim: pending slots left: $(map_entries bypass_pending)"
		kill -9 "$pid" "$child" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	wait_until 10 metric_is accel_bypass_connections_active 0 || fail "active connections left"
	pass
}

# One end of a TCP connection, for tests that put the two ends in
# different cgroups:  ep.py server|client PORT BYTES [GATE]
# The sender sends BYTES random bytes and prints "sent SHA256"; the
# receiver prints "got N SHA256".  With GATE, the receiving client stops
# after its first 64 KiB, creates GATE.half and waits for GATE.go.
write_ep() {
	cat >"$TMP/ep.py" <<'PY'
import hashlib, os, socket, sys, time
role, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
gate = sys.argv[4] if len(sys.argv) > 4 else None
def send(s):
    h, left = hashlib.sha256(), n
    while left:
        b = os.urandom(min(left, 65536)); s.sendall(b); h.update(b); left -= len(b)
    print("sent", h.hexdigest(), flush=True)
def recv(s, gated):
    h, got = hashlib.sha256(), 0
    while True:
        b = s.recv(65536)
        if not b: break
        h.update(b); got += len(b)
        if gated and got >= 65536:
            gated = False
            open(gate + ".half", "w").close()
            for _ in range(6000):
                if os.path.exists(gate + ".go"): break
                time.sleep(0.01)
            else: sys.exit("no " + gate + ".go in 60 s")
    print("got", got, h.hexdigest(), flush=True)
if role == "server":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port)); l.listen(1)
    s, _ = l.accept()
    if gate: send(s)
    else: recv(s, False)
else:
    # a timeout keeps the file O_NONBLOCK (Python polls): a client the
    # bypass takes on an affected kernel
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    if gate: recv(s, True)
    else: send(s); s.shutdown(socket.SHUT_WR); s.recv(1)
s.close()
PY
}

# A peer outside the attach cgroup can never be redirected to or from.
# Server inside, client outside: the accepted socket finds no slot to
# join and stays out of the sockhash (off tcp_bpf's receive path).
# Client inside, server outside: the client is inserted at connect (its
# peer could still come), and leaves once bytes arrive over the stack.
test_bypass_peer_outside_cgroup_stays_off_the_sockhash() {
	local cg2 srv out s0 m0 e0 sent got
	bp_setup
	cg2=$(cgroup_new outside)
	write_ep
	s0=$(metric accel_bypass_inserted_total)
	m0=$(metric accel_bypass_fallback_total reason peer_missing)
	in_ns_bg python3 "$TMP/ep.py" server 47900 0 >"$TMP/srv" 2>&1; srv=$!
	defer "kill $srv"
	wait_until 5 listening 47900 || fail "server not listening"
	out=$(cgroup_enter "$cg2"; exec ip netns exec "$NS" python3 "$TMP/ep.py" client 47900 1048576 2>&1) ||
		fail "client: $out"
	wait "$srv" || fail "server: $(cat "$TMP/srv")"
	sent=$(awk '$1 == "sent" { print $2 }' <<<"$out")
	got=$(awk '$1 == "got" { print $2, $3 }' "$TMP/srv")
	assert_eq "$got" "1048576 $sent" "bytes and SHA-256, client outside"
	assert_eq "$(metric accel_bypass_inserted_total)" "$s0" "sockets inserted (server inside, client outside)"
	assert_eq "$(($(metric accel_bypass_fallback_total reason peer_missing) - m0))" 1 "peer_missing at accept"

	e0=$(metric accel_bypass_evicted_total)
	(cgroup_enter "$cg2"; exec ip netns exec "$NS" python3 "$TMP/ep.py" server 47901 4194304 "$TMP/gate") \
		>"$TMP/srv" 2>&1 & srv=$!
	defer "kill $srv"
	wait_until 5 listening 47901 || fail "server not listening"
	in_ns_bg python3 "$TMP/ep.py" client 47901 0 "$TMP/gate" >"$TMP/cli" 2>&1
	defer "kill $!"
	wait_until 10 test -e "$TMP/gate.half" || fail "client got nothing: $(cat "$TMP/cli")"
	assert_eq "$(($(metric accel_bypass_inserted_total) - s0))" 1 "client inserted at connect"
	wait_until 10 metric_is accel_bypass_sockets 0 ||
		fail "client still in the sockhash although its peer is not ours"
	assert_eq "$(($(metric accel_bypass_evicted_total) - e0))" 1 "client evicted"
	touch "$TMP/gate.go"
	wait "$srv" || fail "server: $(cat "$TMP/srv")"
	wait_until 10 grep -q '^got' "$TMP/cli" || fail "client did not finish: $(cat "$TMP/cli")"
	sent=$(awk '$1 == "sent" { print $2 }' "$TMP/srv")
	got=$(awk '$1 == "got" { print $2, $3 }' "$TMP/cli")
	assert_eq "$got" "4194304 $sent" "bytes and SHA-256, server outside"
	assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected"
	pass
}

# A connection aborted while both files stay open (ss -K: tcp_abort, RST
# to the peer): both ends reach TCP_CLOSE, and on this kernel they stay in
# the sockhash until their files close (no unhash hook).  Their slots are
# released at TCP_CLOSE all the same, the application sees what plain TCP
# shows (ECONNRESET), and closing the files empties the sockhash.
test_bypass_abort_with_files_open() {
	local out
	bp_setup
	cat >"$TMP/abort.py" <<'PY'
import socket, subprocess, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 47950)); l.listen(1)
c = socket.create_connection(("127.0.0.1", 47950), timeout=5)   # O_NONBLOCK
s, _ = l.accept(); s.settimeout(5)
c.sendall(b"ping"); assert s.recv(4) == b"ping"
s.sendall(b"pong"); assert c.recv(4) == b"pong"
print("exchanged", flush=True)
sys.stdin.readline()                                  # the test looks
r = subprocess.run(["ss", "-K", "-tn", "sport = :47950"], capture_output=True)
assert r.returncode == 0, r.stderr
print("aborted", flush=True)
sys.stdin.readline()
try:
    c.sendall(b"x"); c.recv(1); print("client: no error")
except OSError as e:
    print("client:", e.strerror)
c.close(); s.close(); l.close()
PY
	coproc AB { exec ip netns exec "$NS" python3 "$TMP/abort.py" 2>&1; }
	defer "kill $AB_PID"
	read -r -t 10 out <&"${AB[0]}" || fail "no exchange"
	assert_eq "$out" exchanged "abort.py"
	assert_eq "$(metric accel_bypass_sockets)" 2 "sockets in the sockhash"
	assert_eq "$(metric accel_bypass_connection_slots)" 2 "slots held"
	assert_eq "$(metric accel_bypass_bytes_total)" 8 "bytes redirected"
	echo >&"${AB[1]}"
	read -r -t 10 out <&"${AB[0]}" || fail "no abort"
	assert_eq "$out" aborted "abort.py"
	wait_until 5 metric_is accel_bypass_connection_slots 0 || fail "slots held after TCP_CLOSE"
	echo >&"${AB[1]}"
	read -r -t 10 out <&"${AB[0]}" || fail "no result"
	assert_eq "$out" "client: Connection reset by peer" "what the client sees"
	wait_until 5 metric_is accel_bypass_sockets 0 || fail "sockets left after the files closed"
	entries_is bypass_pending 0 || fail "pending slots left"
	pass
}

# accel_bypass_sockets is the sockhash's own count (the kernel's, read by
# the iterator attach pins as link_bypass_count), also after the kernel
# removed closed sockets by itself; where the link is missing (the pins of
# an older accelctl) stats walks the keys and finds the same number, and
# an attach that adopts such pins adds the link.
test_bypass_socket_count_is_the_kernels() {
	local out
	bp_setup
	[ -e "$PIN/bypass/link_bypass_count" ] || fail "no count iterator pinned: $(ls "$PIN/bypass")"
	pool_server 47580
	pool_client 47580 30 -i 50
	wait_until 10 metric_is accel_bypass_sockets 60 || fail "pool not accelerated: $(metric accel_bypass_sockets)"
	assert_eq "$(map_entries bypass_socks)" 60 "sockhash entries (bpftool)"
	kill -TERM "$CLI"; wait "$CLI" 2>/dev/null
	wait_until 10 metric_is accel_bypass_sockets 0 || fail "closed sockets counted: $(metric accel_bypass_sockets)"
	assert_eq "$(map_entries bypass_socks)" 0 "sockhash entries (bpftool) after the pool closed"
	pool_client 47580 10 -i 50
	wait_until 10 metric_is accel_bypass_sockets 20 || fail "second pool not accelerated: $(metric accel_bypass_sockets)"
	rm "$PIN/bypass/link_bypass_count"
	assert_eq "$(metric accel_bypass_sockets)" 20 "sockets counted by the walk"
	out=$($A detach --handover 30 2>&1) || fail "detach --handover: $out"
	out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" 2>&1) || fail "attach: $out"
	grep -q 'adopted the handed-over bypass: 10 connections' <<<"$out" || fail "attach did not adopt: $out"
	[ -e "$PIN/bypass/link_bypass_count" ] || fail "the adopting attach pinned no count iterator"
	assert_eq "$(metric accel_bypass_sockets)" 20 "sockets after adoption"
	pass
}

test_bypass_policy_switch_and_ports() {
	local out b0 p0
	bp_setup --exclude-ports 47810
	# excluded port: on the stack, counted as policy
	out=$(in_ns "$STREAM" -p 47810 -n 5 -P 1 -S 100000) || fail "$out"
	assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected on an excluded port"
	[ "$(metric accel_bypass_fallback_total reason policy)" -ge 10 ] || fail "policy fallbacks not counted"
	# runtime switch: off -> nothing new, on -> accelerated again
	$A bypass off >/dev/null 2>&1
	grep -q 'bypass:   off' <<<"$($A status)" || fail "status does not say off"
	out=$(in_ns "$STREAM" -p 47820 -n 5 -P 1 -S 100000) || fail "$out"
	assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected while off"
	$A bypass on >/dev/null 2>&1
	out=$(in_ns "$STREAM" -p 47820 -n 5 -P 1 -S 100000) || fail "$out"
	assert_eq "$(metric accel_bypass_bytes_total)" "$(field bytes <<<"$out")" "bytes redirected when on"
	# policy change without re-attach: --ports limits to one port
	$A bypass policy --ports 47830 --exclude-ports none >/dev/null
	b0=$(metric accel_bypass_bytes_total)
	p0=$(metric accel_bypass_fallback_total reason policy)
	in_ns "$STREAM" -p 47840 -n 3 -P 1 -S 100000 >/dev/null || fail "other port"
	assert_eq "$(metric accel_bypass_bytes_total)" "$b0" "bytes redirected outside --ports"
	[ "$(metric accel_bypass_fallback_total reason policy)" -gt "$p0" ] || fail "no policy fallback"
	out=$(in_ns "$STREAM" -p 47830 -n 3 -P 1 -S 100000) || fail "$out"
	assert_eq "$(($(metric accel_bypass_bytes_total) - b0))" "$(field bytes <<<"$out")" "bytes on --ports"
	grep -q '^ports 47830$' <<<"$($A bypass policy)" || fail "policy not shown"
	local rc=0
	$A bypass sideways 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "unknown bypass action exit code"
	pass
}

test_bypass_small_stream_demoted_in_order() {
	local out d0 c
	bp_setup
	# one direction, 1-64 byte writes: demoted to the stack mid-stream
	# (bypass -> stack, order-safe); the SHA-256 proves nothing reordered
	out=$(in_ns "$STREAM" -u -p 47900 -n 4 -P 2 -s 300000 -S 300000 -c 64) || fail "$out"
	assert_eq "$(field mismatches <<<"$out")" 0 "mismatches"
	# every stream that was accelerated is demoted.  (About 1 run in 12,
	# on the code before this test changed too, one of the four clients
	# never reaches a verdict and counts no fallback: not understood yet,
	# noted on the issue; at least 3 of 4 then.)
	c=$(metric accel_bypass_connections_total family inet)
	[ "$c" -ge 3 ] && [ "$(metric accel_bypass_fallback_total reason demoted)" -ge "$c" ] ||
		fail "small-message streams not demoted: $(metric accel_bypass_fallback_total reason demoted) of $c;" \
			"$($A stats --prometheus | grep -E '^accel_bypass' | grep -v ' 0$' | tr '\n' ' ')"
	[ "$(metric accel_bypass_bytes_total)" -gt 0 ] || fail "nothing redirected before the demotion"
	[ "$(metric accel_bypass_evicted_total)" -ge 4 ] || fail "demoted sockets not evicted from the sockhash"
	# request/response with small messages is not a stream: not demoted
	d0=$(metric accel_bypass_fallback_total reason demoted)
	in_ns "$CONFORM" -p 47910 nonblocking_rr >/dev/null
	assert_eq "$(metric accel_bypass_fallback_total reason demoted)" "$d0" "request/response demotions"
	pass
}

# Across CPUs a one-way stream of mid-size sends loses on the bypass: the
# redirect takes the reader's socket lock, which the reader holds while it
# copies, and the two sleep on each other (docs/bypass.md "Across CPUs").
# A reader on the other CPU that reads 1 MiB at a time holds it long: the
# 16 KiB stream must leave the bypass (bypass -> stack, order-safe), every
# byte checked in place (bench_stream -V: position-dependent pattern and
# exact count).  The winning kinds stay: 64 KiB sends across CPUs, and
# 16 KiB sends with both ends on one CPU (a reader never holds its socket
# while the sender runs there).
test_bypass_busy_reader_demoted_in_order() {
	local out busy d0 b0
	[ "$(nproc)" -ge 2 ] || skip "needs two CPUs (the ends run on different ones)"
	bp_setup
	# not niced (in_ns_srv is): its peeking thread must run
	(exec ip netns exec "$NS" taskset -c 1 python3 "$TOOLS_SRC/busy_reader.py" server 47930) \
		>"$TMP/busy.out" 2>"$TMP/busy.err" &
	defer "kill $! 2>/dev/null"
	wait_until 10 grep -q listening "$TMP/busy.out" || fail "busy_reader did not start: $(cat "$TMP/busy.err")"
	out=$(in_ns taskset -c 0 python3 "$TOOLS_SRC/busy_reader.py" client 47930 $((64 << 20)) 16384) ||
		fail "16 KiB stream: $out"
	assert_eq "$(field match <<<"$out")" 1 "SHA-256 of the stream as read"
	busy=$(metric accel_bypass_demoted_total cause busy_reader)
	[ "$busy" -ge 1 ] || fail "16 KiB stream to a busy reader on another CPU not demoted:" \
		"$($A stats --prometheus | grep -E '^accel_bypass_(demoted|fallback|bytes|messages)' | tr '\n' ' ')"
	assert_eq "$(metric accel_bypass_demoted_total cause small_messages)" 0 "small-message demotions"
	[ "$(metric accel_bypass_bytes_total)" -gt 0 ] || fail "nothing redirected before the demotion"
	d0=$(metric accel_bypass_fallback_total reason demoted)
	b0=$(metric accel_bypass_bytes_total)
	out=$(in_ns "$TOOLS/bench_stream" -N -p 47931 -m 64K -t 0.5 -V -C 0 -S 1) || fail "64 KiB stream: $out"
	grep -q ' verified full$' <<<"$out" || fail "not fully verified: $out"
	out=$(in_ns "$TOOLS/bench_stream" -N -p 47932 -m 16K -t 0.5 -V -C 1 -S 1) || fail "one-CPU stream: $out"
	grep -q ' verified full$' <<<"$out" || fail "not fully verified: $out"
	assert_eq "$(metric accel_bypass_fallback_total reason demoted)" "$d0" "demotions of the winning streams"
	[ "$(metric accel_bypass_bytes_total)" -gt "$b0" ] || fail "the winning streams were not redirected"
	pass
}

test_bypass_selftest_and_blocking_policy() {
	local out
	out=$($ACCELCTL bypass selftest) || fail "selftest: $out"
	grep -qE '^blocking_eagain: (ok|affected): ' <<<"$out" || fail "selftest output: $out"
	bp_setup
	if grep -q '^blocking_eagain: affected' <<<"$out"; then
		grep -q 'breaks blocking readers' "$TMP/attach.out" || fail "attach does not explain: $(cat "$TMP/attach.out")"
		# a blocking client and server (threaded: a reader and a writer
		# on each socket, the pattern that breaks on this kernel): not
		# an --event-ports server, so neither end enters the sockhash
		out=$(in_ns "$STREAM" -B -p 48950 -n 20 -P 2 -S 200000) || fail "blocking: $out"
		assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected for blocking sockets"
		assert_eq "$(metric accel_bypass_inserted_total)" 0 "blocking sockets inserted"
		[ "$(metric accel_bypass_fallback_total reason kernel_unsafe)" -ge 40 ] || fail "kernel_unsafe not counted"
		# a blocking client of an --event-ports server: the client stays
		# out; the (nonblocking, event-driven) server side never gets fed
		out=$(in_ns "$CONFORM" -p 47960 connect_nonblocking_then_blocking_rr) || fail "$out"
		grep -q '2000 rounds.*error none' <<<"$out" || fail "hiredis-style client: $out"
		assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected to a blocking client"
		[ "$(metric accel_bypass_evicted_total)" -ge 1 ] || fail "the client that turned blocking was not evicted"
		# nonblocking, but not an --event-ports server: nothing
		out=$(in_ns "$STREAM" -p 48960 -n 5 -P 1 -S 200000) || fail "$out"
		assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected to a server not in --event-ports"
	fi
	pass
}

# A blocking server listed in --event-ports (an operator error): the first
# connection starts on the bypass, is demoted when the server's first
# send shows its socket blocking, and the port is marked; later
# connections to it stay on the stack.  Every reply is checked.
test_bypass_blocking_event_port_learned() {
	local out b0 s0 u0 sc=nonblocking_client_blocking_server_rr
	bp_setup
	[ "$(metric_flag)" = 1 ] || skip "this kernel's sockmap does not break blocking readers"
	out=$(in_ns "$CONFORM" -p 47970 "$sc") || fail "$out"
	grep -q '2000 rounds.*error none' <<<"$out" || fail "first connection: $out"
	assert_eq "$(metric accel_bypass_blocking_server_sockets_total port 47970)" 1 "blocking server sockets"
	# the first 100-byte request went over the bypass, the client's
	# next send saw the server's mark and fell back (order-safe)
	assert_eq "$(metric accel_bypass_bytes_total)" 100 "bytes redirected before the demotion"
	[ "$(metric accel_bypass_evicted_total)" -ge 1 ] || fail "the blocking server socket was not evicted"
	$A status >"$TMP/status" || fail "status"
	grep -q -- '--event-ports 47970 has a blocking server' "$TMP/status" || fail "status: $(cat "$TMP/status")"
	b0=$(metric accel_bypass_bytes_total)
	s0=$(metric accel_bypass_inserted_total)
	u0=$(metric accel_bypass_fallback_total reason kernel_unsafe)
	out=$(in_ns "$CONFORM" -p 47970 "$sc") || fail "$out"
	grep -q '2000 rounds.*error none' <<<"$out" || fail "second connection: $out"
	assert_eq "$(metric accel_bypass_bytes_total)" "$b0" "bytes redirected to a marked port"
	assert_eq "$(metric accel_bypass_inserted_total)" $((s0 + 1)) "sockets inserted (the client only)"
	[ "$(metric accel_bypass_fallback_total reason kernel_unsafe)" -gt "$u0" ] || fail "kernel_unsafe not counted"
	# re-declaring the list clears the mark
	$A bypass policy --event-ports "$EVENT_PORTS" >/dev/null || fail "bypass policy"
	assert_eq "$(metric accel_bypass_blocking_server_sockets_total port 47970)" missing "mark after bypass policy"
	pass
}

# A handover's tables are adopted with the sizes they were made with
# (libbpf reuses pinned maps only when their definition matches): an
# attach asking for another --max-connections adopts them anyway, says
# when its size applies, and a plain detach and attach then gets it.
test_bypass_handover_keeps_its_capacity() {
	local out
	bp_setup --max-connections 2048
	out=$($A detach --handover 30 2>&1) || fail "detach --handover: $out"
	out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" --max-connections 4096 2>&1) ||
		fail "attach: $out"
	grep -q 'adopted the handed-over bypass' <<<"$out" || fail "attach did not adopt: $out"
	grep -q 'handed-over tables hold 2048 connections: --max-connections 4096 applies from the next attach' <<<"$out" ||
		fail "no word about the size: $out"
	assert_eq "$($A status --json | jpath .features.bypass.capacity.connections)" 2048 "adopted capacity"
	$A detach >/dev/null 2>&1 || fail "detach"
	$A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" --max-connections 4096 >/dev/null 2>&1 ||
		fail "attach afresh"
	assert_eq "$($A status --json | jpath .features.bypass.capacity.connections)" 4096 "fresh capacity"
	pass
}

# A restart that keeps the bypass: `detach --handover` leaves 20 pooled
# connections accelerated (nothing released), the next attach adopts
# them (same sockets in the sockhash, requests still bypassed, every reply
# checked); a handover nobody adopts goes back to the stack by itself at
# its deadline; a plain detach finishes a handover at once.
test_bypass_handover_keeps_connections_accelerated() {
	local srv cli out s0 b0 r0
	bp_setup
	pool_server 47560
	pool_client 47560 20 -i 20 -S 16384
	srv=$SRV cli=$CLI
	wait_until 10 metric_is accel_bypass_sockets 40 || fail "pool not accelerated: $(metric accel_bypass_sockets)"
	s0=$(metric accel_bypass_inserted_total)
	out=$($A detach --handover 30 2>&1) || fail "detach --handover: $out"
	grep -q 'handed over: 20 connections stay accelerated' <<<"$out" || fail "detach --handover: $out"
	[ -d "$PIN/bypass-handover" ] || fail "no handover: $(ls "$PIN")"
	$A status >"$TMP/status" 2>&1
	grep -q '^handover: ' "$TMP/status" || fail "status: $(cat "$TMP/status")"
	grep -q '^draining: ' "$TMP/status" && fail "status lists a draining generation: $(cat "$TMP/status")"
	assert_eq "$($A status --json | jpath .features.bypass.draining)" "[]" "status --json draining during a handover"
	out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" 2>&1) || fail "attach: $out"
	grep -q 'adopted the handed-over bypass: 20 connections' <<<"$out" || fail "attach did not adopt: $out"
	[ ! -e "$PIN/bypass-handover" ] || fail "handover left: $(ls "$PIN")"
	assert_eq "$(metric accel_bypass_sockets)" 40 "sockets in the sockhash after adoption"
	assert_eq "$(metric accel_bypass_inserted_total)" "$s0" "sockets inserted again"
	b0=$(metric accel_bypass_bytes_total)
	wait_until 10 metric_gt accel_bypass_bytes_total $((b0 + 100000)) || fail "the pool is not bypassed after adoption"
	# new connections are accelerated by the new programs
	out=$(in_ns "$STREAM" -p 47570 -n 2 -P 2 -s 100000 -S 200000) || fail "new connections: $out"
	# a handover nobody adopts: off by itself at the deadline, then drained
	out=$($A detach --handover 1 2>&1) || fail "detach --handover 1: $out"
	wait_until 10 bash -c "! $A status 2>/dev/null | grep -q '^handover: '" || fail "handover not expired: $($A status)"
	wait_until 10 bash -c "[ -z \"\$(ls $PIN 2>/dev/null | grep bypass)\" ] || { $A status >/dev/null 2>&1; false; }" ||
		fail "expired handover not drained: $(ls "$PIN")"
	# the pool goes on over the stack
	r0=$(pool_stat "$cli" requests)
	wait_until 10 bash -c "[ \$(kill -USR1 $cli; sleep 0.2; awk '{for(i=1;i<NF;i++) if(\$i==\"requests\") print \$(i+1)}' $TMP/ready.stats) -gt $((r0 + 20)) ]" ||
		fail "pool stalled after the handover expired"
	# a plain detach finishes a handover at once
	out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" 2>&1) || fail "attach: $out"
	$A detach --handover 30 >/dev/null 2>&1 || fail "detach --handover"
	out=$($A detach 2>&1) || fail "detach: $out"
	[ ! -e "$PIN/bypass-handover" ] || fail "handover left after detach: $out"
	wait_until 10 bash -c "[ ! -e $PIN ] || { $A status >/dev/null 2>&1; false; }" ||
		fail "pins left after detach: $(ls -R "$PIN")"
	kill -TERM "$cli"; wait "$cli" || fail "pool: $(cat "$TMP/cli")"
	assert_eq "$(field mismatches <"$TMP/cli")" 0 "mismatches"
	assert_eq "$(field errors <"$TMP/cli")" 0 "errors"
	pass
}

# A detach --handover killed between raising the flag and moving the
# pins is finished by the next command (and adopted by the attach); a
# handover of another BPF ABI (its config map's abi rewritten) is not
# adopted but drained, and the attach starts afresh.
test_bypass_handover_killed_and_foreign_abi() {
	local hooks=${OUT:-$top/build}/tests/accelctl-testhooks srv cli out
	bp_setup
	pool_server 47580
	pool_client 47580 10 -i 20 -S 8192
	srv=$SRV cli=$CLI
	wait_until 10 metric_is accel_bypass_sockets 20 || fail "pool not accelerated: $(metric accel_bypass_sockets)"
	out=$(ACCELCTL_TEST_BYPASS_CRASH=handover "$hooks" --pin-root "$PIN" --state-dir "$STATE" detach --handover 30 2>&1) &&
		fail "the hook did not fire: $out"
	grep -q "TEST HOOK: SIGKILL at detach handover" <<<"$out" || fail "$out"
	[ -d "$PIN/bypass" ] && [ ! -e "$PIN/bypass-handover" ] || fail "not killed half-way: $(ls "$PIN")"
	out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" 2>&1) || fail "attach: $out"
	grep -q 'detach --handover was interrupted: finished' <<<"$out" || fail "no repair notice: $out"
	grep -q 'adopted the handed-over bypass: 10 connections' <<<"$out" || fail "not adopted: $out"
	assert_eq "$(metric accel_bypass_sockets)" 20 "sockets after the repaired handover"
	# another ABI: drained, not adopted
	$A detach --handover 30 >/dev/null 2>&1 || fail "detach --handover"
	python3 - "$PIN/bypass-handover/bypass_config" <<'PY' || fail "cannot rewrite the handover's ABI"
import json, subprocess, sys
path = sys.argv[1]
v = json.loads(subprocess.run(["bpftool", "-j", "map", "lookup", "pinned", path, "key", "0", "0", "0", "0"],
                              check=True, capture_output=True, text=True).stdout)["value"]
b = [int(x, 16) for x in v]
b[32:36] = [0x63, 0, 0, 0]	# abi 99
subprocess.run(["bpftool", "map", "update", "pinned", path, "key", "0", "0", "0", "0", "value"] + [str(x) for x in b],
               check=True)
PY
	out=$($A attach --features bypass --cgroup "$CG" --event-ports "$EVENT_PORTS" 2>&1) || fail "attach: $out"
	grep -q 'it is of BPF ABI version 99, this accelctl.s is 4: its connections drain as bypass-draining-' <<<"$out" ||
		fail "a foreign handover was not drained: $out"
	! grep -q 'adopted' <<<"$out" || fail "a foreign handover was adopted: $out"
	wait_until 10 bash -c "[ -z \"\$(ls $PIN | grep draining)\" ] || { $A status >/dev/null 2>&1; false; }" ||
		fail "the drained handover stays: $(ls "$PIN")"
	kill -TERM "$cli"; wait "$cli" || fail "pool: $(cat "$TMP/cli")"
	assert_eq "$(field mismatches <"$TMP/cli")" 0 "mismatches"
	assert_eq "$(field errors <"$TMP/cli")" 0 "errors"
	pass
}

# ---- learning (no --event-ports) --------------------------------------

# Attach with learning and no --event-ports.  Sets NS, CG.
bp_learn_setup() {
	NS=$(netns_new)
	CG=$(cgroup_new)
	cgroup_enter "$CG"
	$A attach --features bypass --cgroup "$CG" "$@" >"$TMP/attach.out" 2>&1 ||
		fail "attach: $(cat "$TMP/attach.out")"
	[ "$(metric_flag)" = 1 ] || skip "this kernel's sockmap does not differ from TCP: nothing to learn"
	NSC=$(netns_cookie_of "$NS")
}

# netns_cookie_of NETNS -> its cookie (SO_NETNS_COOKIE)
netns_cookie_of() {
	ip netns exec "$1" python3 -c 'import socket, struct
print(struct.unpack("Q", socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8))[0])'
}

# verdict PORT [NETNS_COOKIE] -> the learned verdict of PORT in NS (or
# the namespace whose cookie is given), "none" when learning does not know it
verdict() {
	_verdict "$1" "${2:-$NSC}"
}
_verdict() {
	$A status --json | python3 -c '
import json, sys
d = json.load(sys.stdin); port = int(sys.argv[1]); ns = sys.argv[2] if len(sys.argv) > 2 else None
b = d["features"]["bypass"]
for p in b.get("learn", {}).get("ports", []):
    if p["port"] == port and str(p["netns_cookie"]) == ns:
        print(p["verdict"]); break
else:
    print("none")' "$@"
}
verdict_is() { [ "$(verdict "$1")" = "$2" ]; }

# in_ns_srv NAME CMD...: start a server in the netns, wait for "listening"
# on its stdout; its PID in SRV_NAME (killed at the end of the test)
in_ns_srv() {
	local name=$1; shift
	in_ns_bg "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	printf -v "SRV_$name" %s "$!"
	defer "kill $! 2>/dev/null"
	wait_until 10 grep -q listening "$TMP/$name.out" || fail "$name did not start: $(cat "$TMP/$name.err")"
}

# A nonblocking server the operator never named: its first connections
# stay on the stack while learning watches them read; after --learn-conns
# of them it is event-driven and the later ones are accelerated.  Every
# byte is checked by SHA-256 either way.
test_bypass_learns_a_nonblocking_server() {
	local out obs
	bp_learn_setup --learn-conns 4
	grep -q 'learning' "$TMP/attach.out" || fail "attach does not say it learns: $(cat "$TMP/attach.out")"
	# one process, one listener: 4 connections learn, the rest go over
	# the bypass (a connection counts once it has closed, so one or two
	# more may still start on the stack)
	out=$(in_ns "$STREAM" -p 48700 -n 16 -P 1 -S 200000) || fail "stream: $out"
	assert_eq "$(verdict 48700)" event_driven "verdict"
	obs=$(metric accel_bypass_learning_observed_total)
	[ "$obs" -ge 4 ] && [ "$obs" -le 8 ] || fail "connections observed: $obs (4 to 8 expected)"
	[ "$(metric accel_bypass_bytes_total)" -gt 0 ] || fail "no byte redirected after learning"
	[ "$(metric accel_bypass_connections_total family inet)" -ge 8 ] || fail "connections accelerated: $(metric accel_bypass_connections_total family inet)"
	assert_eq "$(metric accel_bypass_learned_ports verdict event_driven)" 1 "event-driven ports"
	assert_eq "$(metric accel_bypass_learning_verdicts_total verdict event_driven)" 1 "promotions"
	pass
}

# Blocking reads (a thread per connection): the port settles on the
# stack at its first read and is never accelerated.  A splice(2) reader
# likewise, from the bytes recvmsg never returned.
test_bypass_learning_keeps_blocking_and_splice_servers_off() {
	local out
	bp_learn_setup --learn-conns 2
	out=$(in_ns "$STREAM" -B -p 48710 -n 6 -P 1 -S 100000) || fail "$out"
	assert_eq "$(verdict 48710)" blocking "verdict of a blocking server"
	in_ns_srv splice python3 "$TOOLS_SRC/learn_peer.py" server 48711 splice
	out=$(in_ns python3 "$TOOLS_SRC/learn_peer.py" client 48711 6 300000) || fail "splice: $out"
	grep -q 'connections 6 bytes 1800000 mismatches 0' <<<"$out" || fail "splice: $out"
	assert_eq "$(verdict 48711)" splice "verdict of a splice reader"
	assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected to blocking or splice servers"
	assert_eq "$(metric accel_bypass_learning_verdicts_total verdict blocking)" 1 "blocking verdicts"
	assert_eq "$(metric accel_bypass_learning_verdicts_total verdict splice)" 1 "splice verdicts"
	$A status >"$TMP/status"
	grep -qE "port 48711 +netns $NSC: splice" "$TMP/status" || fail "status: $(cat "$TMP/status")"
	pass
}

# redis-server (Debian's) started after attach, no --event-ports: the
# first redis-benchmark run teaches accelctl, the second is accelerated.
# The values a nonblocking client stores and reads back over the bypass
# are compared by SHA-256.  Across detach and attach the verdict is
# restored and re-validated by one connection before it is used again.
test_bypass_learns_redis() {
	local b0 out
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	bp_learn_setup --learn-conns 8
	mkdir "$TMP/redis"
	in_ns_bg redis-server --bind 127.0.0.1 --port 6390 --save '' --appendonly no \
		--dir "$TMP/redis" --logfile "$TMP/redis/log" >/dev/null 2>&1
	defer "kill $! 2>/dev/null"
	wait_until 10 listening 6390 || fail "redis-server did not start: $(cat "$TMP/redis/log")"
	# 8 connections, one test: each counts when it closes, at the end
	out=$(in_ns redis-benchmark -p 6390 -c 8 -n 4000 -t set -q) || fail "benchmark: $out"
	assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected while learning"
	wait_until 5 verdict_is 6390 event_driven || fail "verdict: $(verdict 6390)"
	out=$(in_ns redis-benchmark -p 6390 -c 8 -n 4000 -t set,get -q) || fail "benchmark: $out"
	b0=$(metric accel_bypass_bytes_total)
	[ "$b0" -gt 100000 ] || fail "redis-benchmark after learning: $b0 bytes redirected"
	out=$(in_ns python3 "$TOOLS_SRC/redis_check.py" 6390 20 200000) || fail "values: $out"
	[ "$(metric accel_bypass_bytes_total)" -gt $((b0 + 20 * 200000)) ] || fail "the checking client was not accelerated"
	# detach saves what was learned; attach restores it, one connection
	# re-validates it
	$A detach >/dev/null 2>&1 || fail "detach"
	[ -s "$STATE/bypass-learned" ] || fail "nothing saved in $STATE"
	$A attach --features bypass --cgroup "$CG" --learn-conns 8 >"$TMP/attach.out" 2>&1 || fail "attach: $(cat "$TMP/attach.out")"
	grep -q '1 learned ports restored' "$TMP/attach.out" || fail "attach: $(cat "$TMP/attach.out")"
	assert_eq "$(verdict 6390)" learning "restored verdict before re-validation"
	out=$(in_ns python3 "$TOOLS_SRC/redis_check.py" 6390 1 1000) || fail "values: $out"
	wait_until 5 verdict_is 6390 event_driven || fail "not re-validated: $(verdict 6390)"
	out=$(in_ns python3 "$TOOLS_SRC/redis_check.py" 6390 10 100000) || fail "values: $out"
	[ "$(metric accel_bypass_bytes_total)" -ge 1000000 ] || fail "not accelerated after re-validation"
	pass
}

# nginx (Debian's, event-driven with epoll; sendfile on as in Debian's
# default config) started after attach, no --event-ports: curl's first
# connections teach accelctl, later ones are accelerated, keep-alive
# requests on one connection included.  Every body is compared by SHA-256
# with the file nginx serves.
test_bypass_learns_nginx() {
	local b0 out want i
	command -v nginx >/dev/null || skip "nginx is not installed"
	bp_learn_setup --learn-conns 4
	mkdir -p "$TMP/nginx/html" "$TMP/nginx/tmp"
	head -c 3000000 /dev/urandom >"$TMP/nginx/html/big"
	head -c 20000 /dev/urandom >"$TMP/nginx/html/small"
	cat >"$TMP/nginx/nginx.conf" <<-EOF
	user root;
	worker_processes 1;
	pid $TMP/nginx/pid;
	error_log $TMP/nginx/error.log;
	events { worker_connections 256; }
	http {
		sendfile on;
		keepalive_requests 1000;
		access_log off;
		client_body_temp_path $TMP/nginx/tmp/body;
		proxy_temp_path $TMP/nginx/tmp/proxy;
		fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
		uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
		scgi_temp_path $TMP/nginx/tmp/scgi;
		server { listen 127.0.0.1:6391; root $TMP/nginx/html; }
	}
	EOF
	in_ns_bg nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' \
		>"$TMP/nginx/out" 2>&1
	defer "kill $! 2>/dev/null"
	wait_until 10 listening 6391 || fail "nginx did not start: $(cat "$TMP/nginx/out" "$TMP/nginx/error.log")"
	want=$(sha256sum <"$TMP/nginx/html/small" | cut -d' ' -f1)
	for i in 1 2 3 4; do
		out=$(in_ns curl -sf http://127.0.0.1:6391/small | sha256sum | cut -d' ' -f1)
		assert_eq "$out" "$want" "body of request $i while learning"
	done
	assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected while learning"
	wait_until 5 verdict_is 6391 event_driven || fail "verdict: $(verdict 6391)"
	# keep-alive: 20 requests on one connection, then 4 connections
	in_ns curl -sf $(for i in $(seq 20); do echo http://127.0.0.1:6391/big; done) >"$TMP/bodies" ||
		fail "keep-alive requests failed"
	out=$(for i in $(seq 20); do cat "$TMP/nginx/html/big"; done | sha256sum | cut -d' ' -f1)
	assert_eq "$(sha256sum <"$TMP/bodies" | cut -d' ' -f1)" "$out" "20 keep-alive bodies"
	want=$(sha256sum <"$TMP/nginx/html/big" | cut -d' ' -f1)
	b0=$(metric accel_bypass_bytes_total)
	[ "$b0" -ge 60000000 ] || fail "keep-alive connection not accelerated: $b0 bytes redirected"
	wait_until 5 metric_is accel_bypass_connections_active 0 ||
		fail "connections left in the sockhash: $(metric accel_bypass_connections_active)"
	for i in 1 2 3 4; do
		out=$(in_ns curl -sf http://127.0.0.1:6391/big | sha256sum | cut -d' ' -f1)
		assert_eq "$out" "$want" "body of accelerated connection $i"
	done
	[ "$(metric accel_bypass_bytes_total)" -ge $((b0 + 4 * 3000000)) ] || fail "later connections not accelerated"
	pass
}

# status lists every port with what decides it: a learned verdict, or
# the operator's lists, which win over it (--exclude-ports, --ports) or
# skip learning (--event-ports).
test_bypass_learning_status_shows_operator_ports() {
	local out b0
	bp_learn_setup --learn-conns 2
	out=$(in_ns "$STREAM" -p 48730 -n 4 -P 1 -S 50000) || fail "stream: $out"
	wait_until 5 verdict_is 48730 event_driven || fail "verdict: $(verdict 48730)"
	$A bypass policy --exclude-ports 48730 --event-ports 48731-48733 >/dev/null || fail "bypass policy"
	$A status >"$TMP/status"
	grep -qE "port 48730 +netns $NSC: event_driven for [0-9]+ s; overridden: excluded" "$TMP/status" ||
		fail "learned port overridden: $(cat "$TMP/status")"
	grep -q "ports 48731-48733, every netns: operator_listed" "$TMP/status" || fail "event ports: $(cat "$TMP/status")"
	grep -q "ports 48730, every netns: excluded" "$TMP/status" || fail "excluded ports: $(cat "$TMP/status")"
	out=$($A status --json | python3 -c '
import json, sys
l = json.load(sys.stdin)["features"]["bypass"]["learn"]
p = [x for x in l["ports"] if x["port"] == 48730][0]
print(p["verdict"], p["overridden_by"], l["operator_ports"]["operator_listed"], l["operator_ports"]["excluded"], l["operator_ports"]["only"])')
	assert_eq "$out" "event_driven excluded 48731-48733 48730 all" "status --json"
	# and the override is real: the excluded port is not accelerated
	b0=$(metric accel_bypass_bytes_total)
	out=$(in_ns "$STREAM" -p 48730 -n 2 -P 1 -S 50000) || fail "stream: $out"
	assert_eq "$(metric accel_bypass_bytes_total)" "$b0" "bytes redirected on an excluded port"
	pass
}

# The same port in two namespaces: a blocking server in one, a
# nonblocking one in the other; each namespace has its own verdict.
test_bypass_learning_per_namespace() {
	local ns2 out
	bp_learn_setup --learn-conns 2
	ns2=$(netns_new b)
	out=$(in_ns "$STREAM" -B -p 48720 -n 4 -P 1 -S 50000) || fail "$out"
	out=$(ip netns exec "$ns2" "$STREAM" -p 48720 -n 6 -P 1 -S 50000) || fail "$out"
	$A status --json | python3 -c '
import json, sys
ps = [p for p in json.load(sys.stdin)["features"]["bypass"]["learn"]["ports"] if p["port"] == 48720]
vs = sorted(p["verdict"] for p in ps)
assert len({p["netns_cookie"] for p in ps}) == 2, ps
assert vs == ["blocking", "event_driven"], ps' || fail "verdicts: $($A status | grep -A3 learning:)"
	pass
}

# A learned server that turns blocking (the same listener, another way
# of serving) is caught at its first send and its port learns again;
# `bypass forget` drops a port's verdict; a corrupt state file is refused
# and nothing of it is used.
test_bypass_learning_reopens_and_forgets() {
	local out
	bp_learn_setup --learn-conns 3
	in_ns_srv sw python3 "$TOOLS_SRC/learn_peer.py" server 48730 nonblocking blocking 4
	out=$(in_ns python3 "$TOOLS_SRC/learn_peer.py" client 48730 3 1000) || fail "$out"
	wait_until 5 verdict_is 48730 event_driven || fail "verdict after 3 nonblocking connections: $(verdict 48730) $(metric accel_bypass_learning_observed_total)"
	# the 4th is accelerated (nonblocking), the 5th's server is blocking
	out=$(in_ns python3 "$TOOLS_SRC/learn_peer.py" client 48730 2 100000) || fail "$out"
	grep -q 'mismatches 0' <<<"$out" || fail "$out"
	wait_until 5 verdict_is 48730 learning || fail "verdict after the server turned blocking: $(verdict 48730)"
	assert_eq "$(metric accel_bypass_learning_reopened_total)" 1 "ports re-opened"
	# learning again: the next connection is observed, and read blocking
	out=$(in_ns python3 "$TOOLS_SRC/learn_peer.py" client 48730 1 1000) || fail "$out"
	wait_until 5 verdict_is 48730 blocking || fail "verdict after a blocking read: $(verdict 48730) $(metric accel_bypass_learning_observed_total)"
	$A bypass forget 48730 >"$TMP/forget" || fail "forget: $(cat "$TMP/forget")"
	grep -q '^port 48730: 1 learned entry forgotten' "$TMP/forget" || fail "forget: $(cat "$TMP/forget")"
	assert_eq "$(verdict 48730)" none "verdict after forget"
	$A bypass forget 0 2>"$TMP/err" && fail "forget 0 accepted"
	assert_eq "$?" 2 "exit code of a bad port"
	# a corrupt state file: refused with the reason, nothing restored
	$A detach >/dev/null 2>&1 || fail "detach"
	[ ! -e "$STATE/bypass-learned" ] || fail "saved with nothing learned: $(cat "$STATE/bypass-learned")"
	mkdir -p "$STATE"
	printf 'accelctl-bypass-learned 1\nboot_id %s\nport netns=1 port=80 verdict=event_driven\n' \
		"$(cat /proc/sys/kernel/random/boot_id)" >"$STATE/bypass-learned"
	$A attach --features bypass --cgroup "$CG" >"$TMP/attach.out" 2>&1 || fail "attach: $(cat "$TMP/attach.out")"
	grep -q 'bypass-learned' "$TMP/attach.out" || fail "corrupt state not reported: $(cat "$TMP/attach.out")"
	assert_eq "$(metric accel_bypass_learned_ports verdict event_driven)" 0 "ports restored from a corrupt file"
	pass
}

# --learn off: the old behaviour, only --event-ports servers.
test_bypass_learn_off() {
	local out
	bp_learn_setup --learn off
	out=$(in_ns "$STREAM" -p 48740 -n 12 -P 1 -S 100000) || fail "$out"
	assert_eq "$(metric accel_bypass_bytes_total)" 0 "bytes redirected with learning off"
	assert_eq "$(metric accel_bypass_learned_ports verdict learning)" missing "learning metrics with learning off"
	$A status --json | python3 -c 'import json,sys; assert not json.load(sys.stdin)["features"]["bypass"]["learning"]' ||
		fail "status says learning"
	pass
}

# The A/B suite in learning mode (no --event-ports): every scenario on a
# listener of its own, 4 rounds on it (the first ones teach the port, the
# later ones run with whatever it learned); every round's observation
# must be the plain run's, including close_unread and splice_read, which
# --event-ports mode accepts as different (learning keeps those servers on
# the stack).  Something must have been accelerated.
test_bypass_conformance_ab_learning() {
	local sc plain line port=47300 m0 m1 accel="" diffs=0
	bp_learn_setup --learn-conns 2
	in_ns "$CONFORM" -p 47299 >"$TMP/plain" || fail "plain run: $(cat "$TMP/plain")"
	for sc in $("$CONFORM" -l); do
		port=$((port + 1))
		m0=$(metric accel_bypass_messages_total)
		in_ns "$CONFORM" -p $port -r 4 "$sc" >"$TMP/rounds" 2>&1 || fail "$sc: $(cat "$TMP/rounds")"
		m1=$(metric accel_bypass_messages_total)
		[ "$m1" -gt "$m0" ] && accel+=" $sc"
		plain=$(grep "^$sc: " "$TMP/plain")
		assert_eq "$(grep -c "^$sc: " "$TMP/rounds")" 4 "$sc: rounds"
		while IFS= read -r line; do
			if [ "$line" != "$plain" ]; then
				echo "    differs: $sc" >&2
				echo "      plain:    $plain" >&2
				echo "      learning: $line" >&2
				diffs=$((diffs + 1))
			fi
		done < <(grep "^$sc: " "$TMP/rounds")
	done
	echo "    accelerated in learning mode:$accel"
	[ -n "$accel" ] || fail "learning accelerated no scenario"
	assert_eq "$diffs" 0 "rounds whose observations differ in learning mode"
	pass
}

run_tests
