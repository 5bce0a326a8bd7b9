#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# netacct: fragment / MTU / PMTU counters against the kernel's own, in
# network namespaces over veth; coexistence with other XDP programs and tc
# filters; the ingress hook choice (--ingress auto|xdp|tc); attach/detach
# hygiene.  Tests of XDP behaviour on veth ask for it with --ingress xdp: the
# default (auto) counts ingress at tc on veth devices.
source "$(dirname "$0")/lib.sh"

# ns NAME...: create ${T_ID}-NAME for each NAME and set the variable NAME
# to it.  (Not `x=$(netns_new x)`: the command substitution is a subshell,
# so the `defer` that deletes the namespace would be lost.)
ns() {
	local v
	for v in "$@"; do
		netns_new "$v" >/dev/null
		printf -v "$v" '%s' "${T_ID}-$v"
	done
}

# Two endpoints (and a router) per test: names from $T_ID, so parallel runs
# never collide.  veth names are limited to 15 characters: a per-test
# random stem.
stem() { printf 'na%04x' $((RANDOM % 65536)); }

# counter FILE NAME in namespace NS: /proc/net/snmp ("Ip: ... " header and
# value lines) or /proc/net/snmp6 ("Name value").
snmp() {	# NS PROTO FIELD
	ip netns exec "$1" awk -v p="$2:" -v f="$3" '$1 == p && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
		$1 == p && h { for (i = 2; i <= NF; i++) if (n[i] == f) print $i }' /proc/net/snmp
}
snmp6() { ip netns exec "$1" awk -v f="$2" '$1 == f { print $2 }' /proc/net/snmp6; }

# m ACCELCTL METRIC LABELS...: one sample of `stats --json` (0 when absent);
# labels as key=value.
m() {
	local a=$1 name=$2; shift 2
	$a stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
want = dict(kv.split("=", 1) for kv in sys.argv[2:])
fam = d["metrics"].get(sys.argv[1], {"samples": []})
v = [s for s in fam["samples"] if s["labels"] == want]
if not v:
    print(0)
elif "buckets" in v[0]:   # histogram: count, sum, per-bucket (not cumulative) counts
    le = lambda x: x if isinstance(x, str) else "%d" % x
    print("%d %d %s" % (v[0]["count"], v[0]["sum"],
          " ".join("%s=%d" % (le(b["le"]), b["count"]) for b in v[0]["buckets"])))
else:
    print(int(v[0]["value"]))' "$name" "$@"
}

frags() {	# ACCELCTL IF DIR FAMILY: first + non-first fragments
	local a b
	a=$(m "$1" accel_netacct_fragments_total ifname="$2" direction="$3" family="$4" kind=first)
	b=$(m "$1" accel_netacct_fragments_total ifname="$2" direction="$3" family="$4" kind=non_first)
	echo $((a + b))
}

# A second accelctl instance with its own pin root and state dir.
second_instance() {
	PIN2="${PIN}-2"
	B="$ACCELCTL --pin-root $PIN2 --state-dir $TMP/state-2"
	defer "rm -rf $PIN2"
	defer "$B detach"
}

test_fragments_equal_kernel_counters() {
	local a b s n=25 d
	ns a b; s=$(stem)
	veth "$a" "${s}a" "$b" "${s}b" 1500
	ip -n "$a" addr add 10.77.0.1/24 dev "${s}a"
	ip -n "$b" addr add 10.77.0.2/24 dev "${s}b"
	ip -n "$a" addr add fd77::1/64 dev "${s}a" nodad
	ip -n "$b" addr add fd77::2/64 dev "${s}b" nodad
	second_instance
	$A --netns "$a" attach --features netacct --iface "${s}a"
	defer "$A detach"
	# the receiver counts at XDP (native on veth): fragments as on the wire
	$B --netns "$b" attach --features netacct --iface "${s}b" --ingress xdp

	local fc0 rr0 fc60 rr60
	fc0=$(snmp "$a" Ip FragCreates); rr0=$(snmp "$b" Ip ReasmReqds)
	fc60=$(snmp6 "$a" Ip6FragCreates); rr60=$(snmp6 "$b" Ip6ReasmReqds)
	udp "$a" 10.77.0.2 4000 $n
	udp "$a" fd77::2 4000 $n
	# all fragments in: the receiver's reassembly requests stop moving at
	# the sender's fragment count
	wait_until 10 bash -c "[ \$(( \$($(declare -f snmp); snmp $b Ip ReasmReqds) - $rr0 )) -ge \$(( \$($(declare -f snmp); snmp $a Ip FragCreates) - $fc0 )) ]" ||
		fail "IPv4 fragments did not all arrive"
	wait_until 10 bash -c "[ \$(( \$($(declare -f snmp6); snmp6 $b Ip6ReasmReqds) - $rr60 )) -ge \$(( \$($(declare -f snmp6); snmp6 $a Ip6FragCreates) - $fc60 )) ]" ||
		fail "IPv6 fragments did not all arrive"

	d=$(( $(snmp "$a" Ip FragCreates) - fc0 ))
	[ "$d" -eq $((3 * n)) ] || fail "kernel created $d IPv4 fragments for $n datagrams of 4000 bytes, expected $((3 * n))"
	assert_eq "$(frags "$A" "${s}a" egress inet)" "$d" "sender egress IPv4 fragments vs FragCreates"
	assert_eq "$(frags "$B" "${s}b" ingress inet)" "$(( $(snmp "$b" Ip ReasmReqds) - rr0 ))" \
		"receiver ingress IPv4 fragments vs ReasmReqds"
	assert_eq "$(m "$A" accel_netacct_fragments_total ifname="${s}a" direction=egress family=inet kind=first)" "$n" \
		"first IPv4 fragments vs datagrams sent"

	d=$(( $(snmp6 "$a" Ip6FragCreates) - fc60 ))
	[ "$d" -eq $((3 * n)) ] || fail "kernel created $d IPv6 fragments, expected $((3 * n))"
	assert_eq "$(frags "$A" "${s}a" egress inet6)" "$d" "sender egress IPv6 fragments vs Ip6FragCreates"
	assert_eq "$(frags "$B" "${s}b" ingress inet6)" "$(( $(snmp6 "$b" Ip6ReasmReqds) - rr60 ))" \
		"receiver ingress IPv6 fragments vs Ip6ReasmReqds"
	assert_eq "$(m "$A" accel_netacct_mtu_exceeded_total ifname="${s}a" direction=egress family=inet)" 0 \
		"fragments are not MTU violations"

	# An MTU change after attach is followed by the programs.
	ip -n "$a" link set "${s}a" mtu 1400
	udp "$a" 10.77.0.2 100 1
	wait_until 5 bash -c "[ \"\$($(declare -f m); m '$A' accel_netacct_interface_mtu_bytes ifname=${s}a)\" = 1400 ]" ||
		fail "interface MTU in the map did not follow the device to 1400"
	grep -q "${s}a (mtu 1400)" <<<"$($A stats)" || fail "stats table does not show the new MTU"
	pass
}

test_pmtu_messages_equal_router_counters() {
	local h1 r h2 s n=12 out
	ns h1 r h2; s=$(stem)
	pmtu_path "$h1" "$r" "$h2" "$s"

	# h1's interface (ingress: messages received) and the router's
	# interface towards h1 (egress: messages sent)
	second_instance
	$A --netns "$h1" attach --features netacct --iface "${s}h1" --ingress xdp
	defer "$A detach"
	$B --netns "$r" attach --features netacct --iface "${s}r1"

	local o4 o6 d4 d6
	o4=$(snmp "$r" Icmp OutDestUnreachs); o6=$(snmp6 "$r" Icmp6OutPktTooBigs)
	# first packets also resolve neighbours; send until messages flow
	udp "$h1" 10.78.2.1 1400 $n probe
	udp "$h1" fd78:2::1 1400 $n probe
	wait_until 5 bash -c "[ \$(( \$($(declare -f snmp); snmp $r Icmp OutDestUnreachs) - $o4 )) -ge 1 ]" ||
		fail "router sent no frag-needed"
	wait_until 5 bash -c "[ \"\$($(declare -f m); m '$A' accel_netacct_pmtu_messages_total ifname=${s}h1 direction=ingress family=inet)\" = \$(( \$($(declare -f snmp); snmp $r Icmp OutDestUnreachs) - $o4 )) ]" ||
		true	# compared exactly below
	wait_until 5 bash -c "[ \"\$($(declare -f m); m '$A' accel_netacct_pmtu_messages_total ifname=${s}h1 direction=ingress family=inet6)\" = \$(( \$($(declare -f snmp6); snmp6 $r Icmp6OutPktTooBigs) - $o6 )) ]" ||
		true
	d4=$(( $(snmp "$r" Icmp OutDestUnreachs) - o4 ))
	d6=$(( $(snmp6 "$r" Icmp6OutPktTooBigs) - o6 ))
	[ "$d4" -ge $((n - 2)) ] || fail "router sent only $d4 frag-needed for $n DF datagrams"
	[ "$d6" -ge $((n - 2)) ] || fail "router sent only $d6 packet-too-big for $n datagrams"

	assert_eq "$(m "$A" accel_netacct_pmtu_messages_total ifname="${s}h1" direction=ingress family=inet)" "$d4" \
		"h1 ingress frag-needed vs router IcmpOutDestUnreachs"
	assert_eq "$(m "$A" accel_netacct_pmtu_messages_total ifname="${s}h1" direction=ingress family=inet6)" "$d6" \
		"h1 ingress PTB vs router Icmp6OutPktTooBigs"
	assert_eq "$(m "$B" accel_netacct_pmtu_messages_total ifname="${s}r1" direction=egress family=inet)" "$d4" \
		"router egress frag-needed vs IcmpOutDestUnreachs"
	assert_eq "$(m "$B" accel_netacct_pmtu_messages_total ifname="${s}r1" direction=egress family=inet6)" "$d6" \
		"router egress PTB vs Icmp6OutPktTooBigs"
	# advertised MTU: every message said 1280 (bucket le=1280, sum = 1280 n)
	out=$(m "$A" accel_netacct_pmtu_advertised_mtu_bytes ifname="${s}h1" direction=ingress family=inet)
	assert_eq "$out" "$d4 $((1280 * d4)) 1280=$d4 1400=0 1450=0 1480=0 1492=0 1500=0 9000=0 +Inf=0" \
		"IPv4 advertised-MTU histogram (count sum buckets)"
	out=$(m "$A" accel_netacct_pmtu_advertised_mtu_bytes ifname="${s}h1" direction=ingress family=inet6)
	assert_eq "$out" "$d6 $((1280 * d6)) 1280=$d6 1400=0 1450=0 1480=0 1492=0 1500=0 9000=0 +Inf=0" \
		"IPv6 advertised-MTU histogram (count sum buckets)"
	# on h1's egress the 1400-byte DF packets fit its 1500 MTU
	assert_eq "$(m "$A" accel_netacct_mtu_exceeded_total ifname="${s}h1" direction=egress family=inet)" 0 \
		"1400-byte packets on a 1500 link"
	pass
}

# prog_count PROG_ID: the other program's own counter (its only map).
prog_count() {
	local map
	map=$(bpftool prog show id "$1" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["map_ids"][0])')
	bpftool map lookup id "$map" key 0 0 0 0 -j | python3 -c 'import json,sys
d = json.load(sys.stdin)
v = d.get("formatted", d)["value"]
print(v if isinstance(v, int) else int.from_bytes(bytes(int(x, 16) for x in v), "little"))'
}

test_coexists_with_other_xdp_and_tc() {
	local a b s id tid hook n=30 x0 t0
	ns a b; s=$(stem)
	veth "$a" "${s}a" "$b" "${s}b" 1500
	# IPv4 only, static neighbours, datagrams to the broadcast address (no
	# ICMP errors in reply): the only frames are the test's own
	for ns in "$a" "$b"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
	ip -n "$a" addr add 10.79.0.1/24 dev "${s}a"
	ip -n "$b" addr add 10.79.0.2/24 dev "${s}b"
	ip -n "$a" neigh add 10.79.0.2 lladdr "$(ip -n "$b" -j link show "${s}b" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')" dev "${s}a" nud permanent
	ip -n "$b" neigh add 10.79.0.1 lladdr "$(ip -n "$a" -j link show "${s}a" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')" dev "${s}b" nud permanent

	# someone else's XDP program (through libxdp) and tc filter (priority 1,
	# the one accelctl prefers) on a's interface, each with its own counter
	clang -O2 -g -target bpf -I"/usr/include/$(gcc -dumpmachine)" -c \
		"$top/tests/integration/bpf/other.bpf.c" -o "$TMP/other.o"
	id=$("$TOOLS/xdp_other" attach "$a" "${s}a" "$TMP/other.o")
	defer "$TOOLS/xdp_other detach $a ${s}a $id"
	tc -n "$a" qdisc add dev "${s}a" clsact
	tc -n "$a" filter add dev "${s}a" egress prio 1 bpf da obj "$TMP/other.o" sec tc
	tid=$(tc -n "$a" -j filter show dev "${s}a" egress | python3 -c 'import json,sys
print([f["options"]["prog"]["id"] for f in json.load(sys.stdin) if "options" in f][0])')

	# With libxdp's dispatcher both XDP programs share the hook.  Where the
	# kernel cannot run the dispatcher (no freplace), the other program owns
	# the hook alone: --ingress xdp must then fail and leave nothing behind,
	# and the default (auto) counts ingress at tc.
	defer "$A detach"
	if ip -n "$a" link show "${s}a" | grep -q xdp_dispatcher; then
		$A --netns "$a" attach --features netacct --iface "${s}a" --ingress xdp
		hook=xdp-native
	else
		local rc=0 out
		out=$($A --netns "$a" attach --features netacct --iface "${s}a" --ingress xdp 2>&1) || rc=$?
		assert_eq "$rc" 1 "exit code of --ingress xdp next to a program without dispatcher"
		grep -q "no XDP program can be added" <<<"$out" || fail "the failure is not explained: $out"
		[ ! -e "$PIN/netacct" ] || fail "pins left after the failed --ingress xdp"
		tc -n "$a" filter show dev "${s}a" egress | grep -q netacct && fail "netacct tc filter left after the failed attach"
		grep -q "id $tid " <<<"$(tc -n "$a" filter show dev "${s}a" egress)" || fail "the other tc filter is gone"
		grep -q "^$id " <<<"$("$TOOLS/xdp_other" ids "$a" "${s}a")" || fail "the other XDP program is gone"
		$A --netns "$a" attach --features netacct --iface "${s}a"
		hook=tc
	fi
	$A status --json | python3 -c 'import json,sys
i = json.load(sys.stdin)["features"]["netacct"]["interfaces"][0]
assert i["ingress"] == sys.argv[1], i' "$hook" || fail "status does not say ingress $hook: $($A status)"

	# both XDP programs see every ingress frame, both tc filters every egress one
	x0=$(prog_count "$id"); t0=$(prog_count "$tid")
	udp "$b" 10.79.0.255 200 $n
	udp "$a" 10.79.0.255 200 $n
	wait_until 5 bash -c "[ \$(( \$($(declare -f prog_count); prog_count $id) - $x0 )) -ge $n ]" ||
		fail "the other XDP program stopped counting after attach"
	assert_eq "$(( $(prog_count "$id") - x0 ))" "$n" "other XDP program, after attach"
	assert_eq "$(m "$A" accel_netacct_packets_total ifname="${s}a" direction=ingress family=inet)" "$n" \
		"netacct ingress, next to the other XDP program"
	assert_eq "$(( $(prog_count "$tid") - t0 ))" "$n" "other tc filter, after attach"
	assert_eq "$(m "$A" accel_netacct_packets_total ifname="${s}a" direction=egress family=inet)" "$n" \
		"netacct egress, next to the other tc filter"

	$A detach
	grep -q "^$id " <<<"$("$TOOLS/xdp_other" ids "$a" "${s}a")" || fail "the other XDP program is gone after detach"
	"$TOOLS/xdp_other" ids "$a" "${s}a" | grep -q netacct && fail "netacct XDP program left after detach"
	tc -n "$a" filter show dev "${s}a" egress | grep -q netacct && fail "netacct tc filter left after detach"
	tc -n "$a" filter show dev "${s}a" ingress | grep -q netacct && fail "netacct tc ingress filter left after detach"
	x0=$(prog_count "$id"); t0=$(prog_count "$tid")
	udp "$b" 10.79.0.255 200 $n
	udp "$a" 10.79.0.255 200 $n
	wait_until 5 bash -c "[ \$(( \$($(declare -f prog_count); prog_count $id) - $x0 )) -ge $n ]" ||
		fail "the other XDP program stopped counting after detach"
	assert_eq "$(( $(prog_count "$id") - x0 ))" "$n" "other XDP program, after detach"
	assert_eq "$(( $(prog_count "$tid") - t0 ))" "$n" "other tc filter, after detach"
	pass
}

test_tso_super_packets_are_not_mtu_violations() {
	local a b s pk by mx
	ns a b; s=$(stem)
	veth "$a" "${s}a" "$b" "${s}b" 1500
	ip -n "$a" addr add 10.82.0.1/24 dev "${s}a"
	ip -n "$b" addr add 10.82.0.2/24 dev "${s}b"
	ip netns exec "$a" ethtool -K "${s}a" tso on gso on >/dev/null
	$A --netns "$a" attach --features netacct --iface "${s}a"
	defer "$A detach"
	ip netns exec "$b" iperf3 -s -B 10.82.0.2 -p 5201 >/dev/null 2>&1 &
	defer "kill $! 2>/dev/null"
	wait_until 5 ip netns exec "$a" bash -c 'exec 3<>/dev/tcp/10.82.0.2/5201' ||
		fail "iperf3 server did not start"
	ip netns exec "$a" iperf3 -c 10.82.0.2 -p 5201 -n 64M >/dev/null
	pk=$(m "$A" accel_netacct_packets_total ifname="${s}a" direction=egress family=inet)
	by=$(m "$A" accel_netacct_bytes_total ifname="${s}a" direction=egress family=inet)
	mx=$(m "$A" accel_netacct_mtu_exceeded_total ifname="${s}a" direction=egress family=inet)
	# tc saw super-packets (mean size above the MTU)...
	[ "$pk" -gt 0 ] && [ $((by / pk)) -gt 1514 ] ||
		fail "no GSO super-packets seen on egress: $pk packets, $by bytes"
	# ... and judged them by their segments
	assert_eq "$mx" 0 "MTU violations among TSO packets whose segments fit"
	pass
}

# ingress NAME: "ingress ingress_reason" of interface NAME in `status --json`
ingress() {
	$A status --json | python3 -c 'import json,sys
for i in json.load(sys.stdin)["features"]["netacct"]["interfaces"]:
    if i["ifname"] == sys.argv[1]: print(i["ingress"], i["ingress_reason"])' "$1"
}

test_legacy_xdp_owner_means_tc_ingress() {
	local a b s n=20 rc=0 out
	ns a b; s=$(stem)
	veth "$a" "${s}a" "$b" "${s}b" 1500
	ip -n "$a" addr add 10.80.0.1/24 dev "${s}a"
	ip -n "$b" addr add 10.80.0.2/24 dev "${s}b"
	clang -O2 -g -target bpf -I"/usr/include/$(gcc -dumpmachine)" -c \
		"$top/tests/integration/bpf/other.bpf.c" -o "$TMP/other.o"
	# attached without libxdp: not ours to replace
	ip -n "$a" link set dev "${s}a" xdpgeneric obj "$TMP/other.o" sec xdp

	# --ingress xdp cannot be honoured: exit 1, and lo (attached first,
	# with XDP) is rolled back
	out=$($A --netns "$a" attach --features netacct --iface lo --iface "${s}a" --ingress xdp 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit code of --ingress xdp on an interface with a legacy XDP owner"
	grep -q "${s}a: --ingress xdp: no XDP program can be added" <<<"$out" || fail "failure not explained: $out"
	ip -n "$a" link show lo | grep -q xdp && fail "XDP left on lo after the rollback"
	tc -n "$a" qdisc show | grep -q clsact && fail "clsact left after the rollback: $(tc -n "$a" qdisc show)"
	[ ! -e "$PIN/netacct" ] || fail "pins left after the rollback"
	[ ! -e "$STATE/netacct" ] || fail "state record left after the rollback"
	grep -q xdpgeneric <<<"$(ip -n "$a" link show "${s}a")" || fail "the legacy XDP program was removed by the rollback"

	# auto: lo (not a veth) tries XDP, finds a legacy owner there too and
	# falls back to tc; the veth is counted at tc anyway
	ip -n "$a" link set dev lo xdpgeneric obj "$TMP/other.o" sec xdp
	$A --netns "$a" attach --features netacct --iface lo --iface "${s}a"
	defer "$A detach"
	assert_eq "$(ingress lo)" "tc auto-no-xdp" "lo with a legacy XDP owner"
	assert_eq "$(ingress "${s}a")" "tc auto-veth" "veth with a legacy XDP owner"
	grep -q "ingress tc prio .*(auto-no-xdp)" <<<"$($A status)" || fail "status does not show the tc fallback: $($A status)"
	local first
	first=$(m "$A" accel_netacct_fragments_total ifname="${s}a" direction=ingress family=inet kind=first)
	udp "$b" 10.80.0.1 4000 $n
	wait_until 5 bash -c "[ \"\$($(declare -f m); m '$A' accel_netacct_fragments_total ifname=${s}a direction=ingress family=inet kind=first)\" -ge $((first + n)) ]" ||
		fail "tc ingress did not count the fragments"
	assert_eq "$(m "$A" accel_netacct_fragments_total ifname="${s}a" direction=ingress family=inet kind=non_first)" $((2 * n)) \
		"non-first fragments through tc ingress"
	$A detach
	grep -q "xdpgeneric" <<<"$(ip -n "$a" link show "${s}a")" || fail "the legacy XDP program was removed"
	grep -q "xdpgeneric" <<<"$(ip -n "$a" link show lo)" || fail "the legacy XDP program on lo was removed"
	tc -n "$a" qdisc show dev "${s}a" | grep -q clsact && fail "clsact qdisc accelctl created is left"
	pass
}

# auto (the default) on a veth: tc ingress, no XDP (which would turn GSO off
# on the peer); on lo: generic XDP.  --ingress xdp: native XDP on the veth.
test_ingress_auto_tc_on_veth_xdp_on_lo() {
	local a b s n=20 rr0 out
	ns a b; s=$(stem)
	veth "$a" "${s}a" "$b" "${s}b" 1500
	ip -n "$a" addr add 10.83.0.1/24 dev "${s}a"
	ip -n "$b" addr add 10.83.0.2/24 dev "${s}b"
	ip -n "$a" link set lo up
	out=$($A --netns "$a" attach --features netacct --iface lo --iface "${s}a" 2>&1)
	defer "$A detach"
	grep -q "lo: ingress xdp-generic (auto: XDP can be added)" <<<"$out" || fail "attach does not say why lo uses XDP: $out"
	grep -q "${s}a: ingress tc (auto: veth device" <<<"$out" || fail "attach does not say why ${s}a uses tc: $out"
	assert_eq "$(ingress lo)" "xdp-generic auto" "lo: ingress hook and reason"
	assert_eq "$(ingress "${s}a")" "tc auto-veth" "veth: ingress hook and reason"
	grep -q "xdpgeneric.*" <<<"$(ip -n "$a" link show lo)" || fail "no generic XDP on lo: $(ip -n "$a" link show lo)"
	grep -q "name netacct_xdp" <<<"$(ip -n "$a" link show lo)" || fail "lo's XDP program is not netacct's"
	ip -n "$a" link show "${s}a" | grep -q "xdp" && fail "XDP on the veth with auto: $(ip -n "$a" link show "${s}a")"
	grep -q "name netacct_tc_ingr" <<<"$(tc -n "$a" filter show dev "${s}a" ingress)" ||
		fail "no tc ingress filter on the veth: $(tc -n "$a" filter show dev "${s}a" ingress)"
	tc -n "$a" filter show dev lo ingress | grep -q netacct && fail "tc ingress filter on lo next to XDP"

	# both hooks count: fragments into the veth equal the kernel's
	# reassembly requests; on lo, XDP sees every frame tc egress sent
	rr0=$(snmp "$a" Ip ReasmReqds)
	udp "$b" 10.83.0.1 4000 $n
	udp "$a" 127.0.0.1 100 $n
	wait_until 5 bash -c "[ \$(( \$($(declare -f snmp); snmp $a Ip ReasmReqds) - $rr0 )) -ge $((3 * n)) ]" ||
		fail "fragments did not arrive"
	assert_eq "$(frags "$A" "${s}a" ingress inet)" "$(( $(snmp "$a" Ip ReasmReqds) - rr0 ))" \
		"veth tc ingress fragments vs ReasmReqds"
	out=$(m "$A" accel_netacct_packets_total ifname=lo direction=egress family=inet)
	[ "$out" -ge "$n" ] || fail "lo egress saw $out packets, sent $n"
	wait_until 5 bash -c "[ \"\$($(declare -f m); m '$A' accel_netacct_packets_total ifname=lo direction=ingress family=inet)\" = $out ]" ||
		fail "lo XDP ingress $(m "$A" accel_netacct_packets_total ifname=lo direction=ingress family=inet) != egress $out"
	$A detach

	# --ingress xdp: native XDP on the veth
	$A --netns "$a" attach --features netacct --iface "${s}a" --ingress xdp
	assert_eq "$(ingress "${s}a")" "xdp-native requested" "veth with --ingress xdp"
	grep -q "prog/xdp" <<<"$(ip -n "$a" link show "${s}a")" || fail "no XDP on the veth with --ingress xdp"
	tc -n "$a" filter show dev "${s}a" ingress | grep -q netacct && fail "tc ingress filter next to XDP"
	$A detach
	ip -n "$a" link show | grep -q xdp && fail "XDP left after detach: $(ip -n "$a" link show)"
	tc -n "$a" qdisc show | grep -q clsact && fail "clsact left after detach"
	pass
}

test_default_ifaces_and_bad_iface() {
	local a b s rc=0 out
	ns a b; s=$(stem)
	veth "$a" "${s}a" "$b" "${s}b" 1500
	ip -n "$a" addr add 10.81.0.1/24 dev "${s}a"
	ip -n "$a" route add default via 10.81.0.2

	out=$($A --netns "$a" attach --features netacct --iface lo --iface nosuch0 2>&1) || rc=$?
	assert_eq "$rc" 2 "exit code for a nonexistent interface"
	grep -q "no interface 'nosuch0'" <<<"$out" || fail "message does not name the interface: $out"
	[ ! -e "$PIN/netacct" ] || fail "pins left after a configuration error"
	ip -n "$a" link show lo | grep -q xdp && fail "XDP attached to lo despite the error"
	tc -n "$a" qdisc show dev lo | grep -q clsact && fail "clsact created on lo despite the error"

	$A --netns "$a" attach --features netacct
	defer "$A detach"
	out=$($A status --json | python3 -c 'import json,sys
print(" ".join(i["ifname"] for i in json.load(sys.stdin)["features"]["netacct"]["interfaces"]))')
	assert_eq "$out" "lo ${s}a" "default interfaces (lo + default route)"
	# lo's XDP hook: shared through libxdp's dispatcher or exclusive, as
	# `check` found for this host; the text status says what exclusive means
	want=$($A check --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["xdp_mode"])')
	out=$($A status --json | python3 -c 'import json,sys
print([i.get("xdp_mode") for i in json.load(sys.stdin)["features"]["netacct"]["interfaces"] if i["ifname"] == "lo"][0])')
	assert_eq "$out" "$want" "lo's XDP mode in status vs check"
	if [ "$want" = exclusive ]; then
		$A status | grep -q "lo: XDP exclusive: libxdp's dispatcher cannot run here" || fail "status: $($A status)"
	fi
	$A detach

	# --ingress tc: no XDP at all
	$A --netns "$a" attach --features netacct --ingress tc
	out=$($A status --json | python3 -c 'import json,sys
print(" ".join(i["ingress"] for i in json.load(sys.stdin)["features"]["netacct"]["interfaces"]))')
	assert_eq "$out" "tc tc" "ingress hooks with --ingress tc"
	ip -n "$a" link show | grep -q xdp && fail "XDP attached despite --ingress tc"
	$A detach
	ip -n "$a" link show lo | grep -q xdp && fail "XDP left on lo"
	ip -n "$a" link show "${s}a" | grep -q xdp && fail "XDP left on ${s}a"
	tc -n "$a" qdisc show | grep -q clsact && fail "clsact left: $(tc -n "$a" qdisc show)"
	[ ! -e "$PIN" ] || fail "pin root left"
	pass
}

# Each interface counts into its own slot of the per-CPU counters array:
# traffic on one interface moves its counters and no other's.  Pins of the
# ABI 1 layout (a per-CPU hash keyed by ifindex and direction) left by an
# interrupted attach are replaced, not reused: the next attach cleans them
# up first, and the maps it pins have the current layout.
test_slots_separate_interfaces_and_old_layout_pins() {
	local a b s out
	ns a b; s=$(stem)
	veth "$a" "${s}a" "$b" "${s}b" 1500
	ip -n "$a" addr add 10.82.0.1/24 dev "${s}a"
	ip -n "$b" addr add 10.82.0.2/24 dev "${s}b"

	# what an ABI 1 accelctl pinned, without its instance record
	mkdir -p "$PIN"
	defer "umount $PIN 2>/dev/null; rm -rf $PIN"
	# (bpffs where accelctl has not mounted it yet: a private one)
	[ "$(stat -f -c %T "$PIN")" = bpf_fs ] || mount -t bpf bpf "$PIN"
	mkdir -p "$PIN/netacct"
	bpftool map create "$PIN/netacct/netacct_counters" type percpu_hash key 8 value 360 \
		entries 128 name netacct_counters
	bpftool map create "$PIN/netacct/netacct_ifaces" type hash key 4 value 24 entries 128 \
		name netacct_ifaces
	out=$($A --netns "$a" attach --features netacct --iface lo --iface "${s}a" 2>&1)
	defer "$A detach"
	grep -q 'leftovers of an interrupted attach' <<<"$out" || fail "old pins not cleaned up: $out"
	# (grep on a here-string: `bpftool | grep -q` can die of SIGPIPE
	# under pipefail when bpftool writes after grep has matched)
	out=$(bpftool map show pinned "$PIN/netacct/netacct_counters")
	grep -q percpu_array <<<"$out" || fail "counters map not replaced: $out"

	udp "$a" 10.82.0.2 100 3
	assert_eq "$(m "$A" accel_netacct_packets_total ifname="${s}a" direction=egress family=inet)" 3 \
		"${s}a egress packets after 3 datagrams over it"
	assert_eq "$(m "$A" accel_netacct_packets_total ifname=lo direction=egress family=inet)" 0 \
		"lo egress packets after 3 datagrams over ${s}a"
	udp "$a" 127.0.0.1 100 3
	# the datagrams (and the port-unreachable errors) go out and come
	# back in through lo, and nothing of it through the veth
	out=$(m "$A" accel_netacct_packets_total ifname=lo direction=egress family=inet)
	[ "$out" -ge 3 ] || fail "lo egress packets $out after 3 datagrams to 127.0.0.1"
	assert_eq "$(m "$A" accel_netacct_packets_total ifname=lo direction=ingress family=inet)" "$out" \
		"lo ingress packets (egress: $out)"
	assert_eq "$(m "$A" accel_netacct_packets_total ifname="${s}a" direction=egress family=inet)" 3 \
		"${s}a egress packets after datagrams to 127.0.0.1"
	$A detach
	[ ! -e "$PIN/netacct" ] || fail "pins left: $(ls -R "$PIN")"
	pass
}

run_tests
