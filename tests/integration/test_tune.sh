#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# tune: profiles applied transactionally in a test netns with a veth pair,
# restored byte for byte (sysctl -a, ethtool -k/-l/-g, MTU), after detach,
# after kill -9 mid-apply, and never half-applied on bad input; kept by
# detach --keep-tuning and adopted by the next attach.
# Only per-namespace keys are written; host-wide keys are only refused.
source "$(dirname "$0")/lib.sh"

# A netns with lo and a veth pair (4 queues: channels are settable on veth),
# named in $ns.  Not through $(netns_new): a defer registered inside a
# command substitution is lost with the subshell, and the netns leaks.
tune_ns() {
	ns="${T_ID}-ns"
	ip netns add "$ns"
	defer "ip netns del $ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add vA numrxqueues 4 numtxqueues 4 type veth peer name vB \
		numrxqueues 4 numtxqueues 4
	ip -n "$ns" link set vA up
	ip -n "$ns" link set vB up
}

# Everything tuning can touch in namespace $1: every net.* sysctl (the
# namespace's own; fs.* and the like are the host's), vA's features,
# channels, rings and MTU.
snapshot() {
	local ns=$1
	ip netns exec "$ns" sysctl -a --pattern '^net\.' 2>/dev/null | grep -v -E '^net\.netfilter\.nf_conntrack_count'
	echo "== ethtool -k"; ip netns exec "$ns" ethtool -k vA
	echo "== ethtool -l"; ip netns exec "$ns" ethtool -l vA
	echo "== ethtool -g"; ip netns exec "$ns" ethtool -g vA 2>&1 || true
	echo "== mtu"; ip -n "$ns" -o link show | sed -E 's/.*: ([^:@]+)[@:].* mtu ([0-9]+).*/\1 \2/'
}

assert_snapshot_same() {	# ns file what
	snapshot "$1" >"$TMP/now"
	diff -u "$2" "$TMP/now" >"$TMP/diff" || fail "$3: namespace state differs: $(head -40 "$TMP/diff")"
}

nsctl() { ip netns exec "$1" sysctl -n "$2" | tr -s '\t ' ' '; }

# A profile exercising every kind of setting veth has.
full_profile() {
	cat >"$1" <<-'EOF'
	[profile]
	name = test-full
	[sysctl]
	net.core.somaxconn = 1024
	net/ipv4/tcp_fin_timeout = 17
	net.ipv4.tcp_rmem = 4096 131072 8388608
	net.ipv4.ip_local_port_range = 20000 60001
	net.ipv4.tcp_slow_start_after_idle = 0
	net.ipv4.tcp_max_syn_backlog = >=8192
	# low before high on purpose: the kernel refuses a low threshold above
	# the high one, so apply (and restore, in reverse) need a second pass
	net.ipv6.ip6frag_low_thresh = 6291456
	net.ipv6.ip6frag_high_thresh = 8388608
	[nic "vA"]
	mtu = 9000
	gro = on
	tso = off
	gso = off
	rx = 2
	tx = 3
	EOF
}

test_profile_changes_every_key_and_detach_restores_exactly() {
	local ns out
	tune_ns
	full_profile "$TMP/p.ini"
	snapshot "$ns" >"$TMP/before"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/p.ini" 2>&1) || fail "attach: $out"
	assert_eq "$(nsctl "$ns" net.core.somaxconn)" 1024 somaxconn
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 17 tcp_fin_timeout
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_rmem)" "4096 131072 8388608" tcp_rmem
	assert_eq "$(nsctl "$ns" net.ipv4.ip_local_port_range)" "20000 60001" ip_local_port_range
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_slow_start_after_idle)" 0 tcp_slow_start_after_idle
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_max_syn_backlog)" 8192 tcp_max_syn_backlog
	assert_eq "$(nsctl "$ns" net.ipv6.ip6frag_high_thresh)" 8388608 ip6frag_high_thresh
	assert_eq "$(nsctl "$ns" net.ipv6.ip6frag_low_thresh)" 6291456 ip6frag_low_thresh
	grep -q 'mtu 9000 ' <<<"$(ip -n "$ns" link show vA)" || fail "mtu not 9000"
	grep -qx 'generic-receive-offload: on' <<<"$(ip netns exec "$ns" ethtool -k vA)" || fail "gro not on"
	grep -qx 'tcp-segmentation-offload: off' <<<"$(ip netns exec "$ns" ethtool -k vA)" || fail "tso not off"
	grep -qx 'generic-segmentation-offload: off' <<<"$(ip netns exec "$ns" ethtool -k vA)" || fail "gso not off"
	ip netns exec "$ns" ethtool -l vA | sed -n '/Current/,$p' | grep -qE '^RX:\s+2$' || fail "rx channels not 2"
	ip netns exec "$ns" ethtool -l vA | sed -n '/Current/,$p' | grep -qE '^TX:\s+3$' || fail "tx channels not 3"
	# The tcp_rmem max above rmem_max is a warning, not an error.
	grep -q 'warning: net.ipv4.tcp_rmem max 8388608 > net.core.rmem_max' <<<"$out" ||
		fail "no tcp_rmem/rmem_max warning: $out"
	[ -f "$STATE/tune.journal" ] || fail "no journal"
	grep -q 'net.ipv4.tcp_fin_timeout *60 *17 *17' <<<"$($A status)" || fail "status does not list original/set/now: $($A status)"
	[ "$($A stats --prometheus | grep -c '^accel_tune_applied{key=.*} 1$')" = 14 ] ||
		fail "accel_tune_applied: $($A stats --prometheus | grep accel_tune_applied)"
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "after detach"
	[ ! -e "$STATE/tune.journal" ] || fail "journal left after detach"
	pass
}

# accelctl built with its test hooks (make: tests/accelctl-testhooks), on
# this test's pin root and state dir.
hooked() {
	local bin=${OUT:-$top/build}/tests/accelctl-testhooks
	[ -x "$bin" ] || fail "$bin missing: run make test-build"
	"$bin" --pin-root "$PIN" --state-dir "$STATE" "$@"
}

test_kill9_mid_apply_then_detach_or_attach_recovers() {
	local ns rc
	tune_ns
	full_profile "$TMP/p.ini"
	snapshot "$ns" >"$TMP/before"
	# The operator's binary has no crash hook: the variable does nothing.
	ACCELCTL_TEST_TUNE_CRASH_AFTER=1 $A --netns "$ns" attach --features tune \
		--config "$TMP/p.ini" >"$TMP/out" 2>&1 || fail "accelctl obeyed the test hook: $(cat "$TMP/out")"
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "detach after the hook-free attach"
	# Deterministic crash: SIGKILL after the 4th write.
	rc=0; ACCELCTL_TEST_TUNE_CRASH_AFTER=4 hooked --netns "$ns" attach --features tune \
		--config "$TMP/p.ini" >"$TMP/out" 2>&1 || rc=$?
	assert_eq "$rc" 137 "exit status of the killed attach"
	[ -f "$STATE/tune.journal" ] || fail "no journal after the crash"
	[ ! -f "$STATE/instance" ] || fail "instance record written by a killed attach"
	assert_eq "$(nsctl "$ns" net.core.somaxconn)" 1024 "first write happened before the crash"
	grep -q 'attached: *tune (no instance record' <<<"$($A status)" || fail "status does not show the leftover: $($A status)"
	# detach without --netns: the journal knows the namespace
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "detach after kill -9"
	[ ! -e "$STATE/tune.journal" ] || fail "journal left"

	# Same crash, then attach again: it recovers first, then applies.
	rc=0; ACCELCTL_TEST_TUNE_CRASH_AFTER=2 hooked --netns "$ns" attach --features tune \
		--config "$TMP/p.ini" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 137 "exit status of the second killed attach"
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >"$TMP/out" 2>&1 ||
		fail "attach after crash: $(cat "$TMP/out")"
	grep -q 'leftovers of an interrupted attach (tune)' "$TMP/out" || fail "no recovery notice: $(cat "$TMP/out")"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 17 "applied after recovery"
	grep -q 'item sysctl - net.ipv4.tcp_fin_timeout 0 60 17 ' "$STATE/tune.journal" ||
		fail "journal after recovery does not hold the true original: $(cat "$STATE/tune.journal")"
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "detach after recovery"
	pass
}

# detach --keep-tuning (a restart, an upgrade): the values stay tuned and
# journaled with their originals; the next attach adopts them without
# writing a value back and forth; a plain detach restores the originals.
test_keep_tuning_across_a_restart_then_detach_restores() {
	local ns out rc
	tune_ns
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=41	# the original, X
	full_profile "$TMP/p.ini"					# tunes it to Y = 17
	snapshot "$ns" >"$TMP/before"
	$A --netns "$ns" attach --features tune,tcpstate --config "$TMP/p.ini" >/dev/null 2>&1
	snapshot "$ns" >"$TMP/tuned"
	out=$($A detach --keep-tuning 2>&1) || fail "detach --keep-tuning: $out"
	grep -q 'detached: tcpstate; kept: tune' <<<"$out" || fail "detach message: $out"
	assert_snapshot_same "$ns" "$TMP/tuned" "after detach --keep-tuning"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 17 "tuned value kept"
	[ ! -e "$STATE/instance" ] || fail "instance record left"
	[ ! -e "$PIN/tcpstate" ] || fail "tcpstate not detached"
	grep -q '^kept [0-9]*$' "$STATE/tune.journal" || fail "journal not marked kept: $(cat "$STATE/tune.journal")"
	grep -q 'item sysctl - net.ipv4.tcp_fin_timeout 0 41 17 ' "$STATE/tune.journal" || fail "original lost"
	out=$($A status)
	grep -q '^attached:  no$' <<<"$out" || fail "status: $out"
	grep -qF 'tune: kept (14 settings, originals in the journal; accelctl detach restores them)' <<<"$out" ||
		fail "status does not say kept: $out"
	out=$($A status --json)
	assert_eq "$(json_get 'd["attached"], d["features"]["tune"]["attached"], d["features"]["tune"]["kept"]' <<<"$out")" \
		"False False True" "status --json"
	grep -q '^accel_tune_kept 1$' <<<"$($A stats --prometheus)" || fail "accel_tune_kept"
	# A second --keep-tuning changes nothing.
	$A detach --keep-tuning >/dev/null 2>&1
	assert_snapshot_same "$ns" "$TMP/tuned" "after a second detach --keep-tuning"
	# Adopting with the same profile writes nothing: the crash hook, armed
	# for the first write, never fires (a restore-then-apply would write).
	rc=0; ACCELCTL_TEST_TUNE_CRASH_AFTER=1 hooked --netns "$ns" attach --features tune,tcpstate \
		--config "$TMP/p.ini" >"$TMP/out" 2>&1 || rc=$?
	assert_eq "$rc" 0 "adopting attach (a write would have tripped the hook): $(cat "$TMP/out")"
	grep -q 'net.ipv4.tcp_fin_timeout: 17 kept as applied (original 41)' "$TMP/out" ||
		fail "adopt message: $(cat "$TMP/out")"
	grep -q 'adopted the tuning kept by .detach --keep-tuning.: 0 settings changed, 14 already set, 0 restored' \
		"$TMP/out" || fail "adopt summary: $(cat "$TMP/out")"
	assert_snapshot_same "$ns" "$TMP/tuned" "after the adopting attach"
	grep -q '^kept ' "$STATE/tune.journal" && fail "journal still kept after attach"
	grep -q 'item sysctl - net.ipv4.tcp_fin_timeout 0 41 17 ' "$STATE/tune.journal" ||
		fail "the adopting attach took the tuned value for the original: $(cat "$STATE/tune.journal")"
	grep -q '^attached:  tune,tcpstate since' <<<"$($A status)" || fail "status after adopt: $($A status)"
	$A detach >/dev/null
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 41 "detach restores X"
	assert_snapshot_same "$ns" "$TMP/before" "after the plain detach"
	[ ! -e "$STATE/tune.journal" ] || fail "journal left after detach"
	pass
}

# The adopting attach with another profile: a dropped setting goes back to
# its original, a changed one keeps its original, a new one is journaled.
test_keep_tuning_adopt_with_a_changed_profile() {
	local ns out
	tune_ns
	full_profile "$TMP/p.ini"
	sed -e '/somaxconn/d' -e '/^mtu/d' -e 's/tcp_fin_timeout = 17/tcp_fin_timeout = 19/' \
		-e 's/^\[sysctl\]$/[sysctl]\nnet.ipv4.tcp_keepalive_time = 600/' "$TMP/p.ini" >"$TMP/p2.ini"
	snapshot "$ns" >"$TMP/before"
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >/dev/null 2>&1
	$A detach --keep-tuning >/dev/null 2>&1
	out=$($A --netns "$ns" attach --features tune --config "$TMP/p2.ini" 2>&1) || fail "attach: $out"
	assert_eq "$(nsctl "$ns" net.core.somaxconn)" 4096 "dropped sysctl restored"
	grep -q 'mtu 1500 ' <<<"$(ip -n "$ns" link show vA)" || fail "dropped mtu not restored: $out"
	grep -q 'net.core.somaxconn: 1024 -> 4096 (restored: the profile no longer changes it)' <<<"$out" ||
		fail "restore not reported: $out"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 19 "changed setting"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_keepalive_time)" 600 "new setting"
	grep -q 'item sysctl - net.ipv4.tcp_fin_timeout 0 60 19 ' "$STATE/tune.journal" || fail "fin original"
	grep -q 'item sysctl - net.ipv4.tcp_keepalive_time 0 7200 600 ' "$STATE/tune.journal" || fail "new entry"
	grep -q '^item sysctl - net.core.somaxconn \|^item mtu ' "$STATE/tune.journal" && fail "restored settings left in the journal"
	$A detach >/dev/null
	assert_snapshot_same "$ns" "$TMP/before" "after detach"
	pass
}

# kill -9 in the adopting attach (after 1 and after 3 of its writes): the
# journal is an interrupted attach's, and restores the true originals.
test_keep_tuning_kill9_in_adopting_attach_restores_originals() {
	local ns rc n
	tune_ns
	full_profile "$TMP/p.ini"
	sed -e '/somaxconn/d' -e '/^mtu/d' -e 's/tcp_fin_timeout = 17/tcp_fin_timeout = 19/' "$TMP/p.ini" >"$TMP/p2.ini"
	snapshot "$ns" >"$TMP/before"
	for n in 1 3; do
		$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >/dev/null 2>&1
		$A detach --keep-tuning >/dev/null 2>&1
		rc=0; ACCELCTL_TEST_TUNE_CRASH_AFTER=$n hooked --netns "$ns" attach --features tune \
			--config "$TMP/p2.ini" >"$TMP/out" 2>&1 || rc=$?
		assert_eq "$rc" 137 "exit status of the adopting attach killed after $n writes"
		grep -q '^kept ' "$STATE/tune.journal" && fail "journal still marked kept after the crash"
		grep -q 'attached: *tune (no instance record' <<<"$($A status)" || fail "status: $($A status)"
		$A detach >/dev/null 2>&1
		assert_snapshot_same "$ns" "$TMP/before" "detach after kill -9 after $n writes"
		[ ! -e "$STATE/tune.journal" ] || fail "journal left"
	done
	# Killed, then attach again: the leftover is repaired first (to the
	# true originals), then the profile applies over them.
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >/dev/null 2>&1
	$A detach --keep-tuning >/dev/null 2>&1
	rc=0; ACCELCTL_TEST_TUNE_CRASH_AFTER=2 hooked --netns "$ns" attach --features tune \
		--config "$TMP/p2.ini" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 137 "exit status of the third killed attach"
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >"$TMP/out" 2>&1 ||
		fail "attach after crash: $(cat "$TMP/out")"
	grep -q 'leftovers of an interrupted attach (tune)' "$TMP/out" || fail "no recovery: $(cat "$TMP/out")"
	grep -q 'item sysctl - net.ipv4.tcp_fin_timeout 0 60 17 ' "$STATE/tune.journal" ||
		fail "journal after recovery: $(cat "$STATE/tune.journal")"
	$A detach >/dev/null
	assert_snapshot_same "$ns" "$TMP/before" "detach after recovery"
	pass
}

# An attach without tuning restores the kept tuning first; --keep-tuning
# does not keep an interrupted attach's leftover; it is a detach option.
test_keep_tuning_edges_and_only_for_detach() {
	local ns out rc cmd
	tune_ns
	full_profile "$TMP/p.ini"
	snapshot "$ns" >"$TMP/before"
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >/dev/null 2>&1
	$A detach --keep-tuning >/dev/null 2>&1
	out=$($A --netns "$ns" attach --features tcpstate 2>&1) || fail "attach tcpstate: $out"
	grep -q 'this attach leaves out tune, kept by .detach --keep-tuning.: restoring the original values first' \
		<<<"$out" || fail "no notice: $out"
	assert_snapshot_same "$ns" "$TMP/before" "after an attach without tune"
	[ ! -e "$STATE/tune.journal" ] || fail "journal left"
	$A detach >/dev/null
	# an interrupted attach is restored, not kept
	rc=0; ACCELCTL_TEST_TUNE_CRASH_AFTER=2 hooked --netns "$ns" attach --features tune \
		--config "$TMP/p.ini" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 137 "exit status of the killed attach"
	out=$($A detach --keep-tuning 2>&1) || fail "detach --keep-tuning: $out"
	grep -q 'tune is the leftover of an interrupted attach, not a complete one: restoring it' <<<"$out" ||
		fail "message: $out"
	assert_snapshot_same "$ns" "$TMP/before" "detach --keep-tuning of an interrupted attach"
	[ ! -e "$STATE/tune.journal" ] || fail "journal left"
	for cmd in attach status stats autotune; do
		rc=0; out=$($A $cmd --keep-tuning 2>&1) || rc=$?
		assert_eq "$rc" 2 "exit status of $cmd --keep-tuning"
		grep -qF -- "--keep-tuning is only valid for \`accelctl detach\`" <<<"$out" || fail "$cmd: $out"
	done
	assert_snapshot_same "$ns" "$TMP/before" "after the refused commands"
	pass
}

# Each bad profile must fail with the expected exit code and a message
# naming the culprit, and leave the namespace exactly as it was.
bad_case() {	# ns expected_rc message_regex profile_text
	local ns=$1 want=$2 re=$3 rc=0 out
	printf '%s\n' "$4" >"$TMP/bad.ini"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/bad.ini" 2>&1) || rc=$?
	assert_eq "$rc" "$want" "exit code for: $4"
	grep -qE "$re" <<<"$out" || fail "message for '$4' does not match /$re/: $out"
	assert_snapshot_same "$ns" "$TMP/before" "after failed attach ($4)"
	[ ! -e "$STATE/tune.journal" ] || fail "journal left after a failed attach ($4)"
	[ ! -e "$STATE/instance" ] || fail "instance left after a failed attach ($4)"
}

test_bad_input_exit_codes_and_nothing_changed() {
	local ns
	tune_ns
	snapshot "$ns" >"$TMP/before"
	local ok='net.core.somaxconn = 1000
net.ipv4.tcp_fin_timeout = 21'
	bad_case "$ns" 2 'no_such_key: no such sysctl' "[sysctl]
$ok
net.ipv4.no_such_key = 1"
	bad_case "$ns" 2 'tcp_syncookies: 7 is out of range \(0-2\)' "[sysctl]
$ok
net.ipv4.tcp_syncookies = 7"
	bad_case "$ns" 2 'ip_local_port_range.*must not be above' "[sysctl]
$ok
net.ipv4.ip_local_port_range = 50000 40000"
	bad_case "$ns" 2 'bad.ini:4: malformed line' "[sysctl]
$ok
this line is not ini"
	bad_case "$ns" 2 'bad.ini:3: unknown section \[sysctls\]' "
[sysctls]
a = 1"
	bad_case "$ns" 2 'tcp_tw_recycle was removed in Linux 4.12' "[sysctl]
net.ipv4.tcp_tw_recycle = 1"
	bad_case "$ns" 2 'nope0: no such interface in this network namespace' "[sysctl]
$ok
[nic \"nope0\"]
mtu = 1400"
	bad_case "$ns" 2 'vA rx: 64 is over the device maximum 4' "[sysctl]
$ok
[nic \"vA\"]
mtu = 1400
rx = 64"
	bad_case "$ns" 2 'vA mtu: 70000 is outside the device.s range' "[nic \"vA\"]
mtu = 70000"
	bad_case "$ns" 2 'net.core.netdev_max_backlog is not writable in a network namespace' "[sysctl]
$ok
net.core.netdev_max_backlog = 2000"
	bad_case "$ns" 2 'net.core.rmem_max is not writable in a network namespace: the kernel makes it read-only' "[sysctl]
$ok
net.core.rmem_max = 8388608"
	bad_case "$ns" 2 'fs.file-max is host-wide' "[sysctl]
$ok
fs.file-max = 100000"
	bad_case "$ns" 2 'ipfrag_low_thresh 9000000 is above net.ipv4.ipfrag_high_thresh' "[sysctl]
net.ipv4.ipfrag_low_thresh = 9000000"
	local rc=0 out
	out=$($A --netns "$ns" attach --profile no-such-profile 2>&1) || rc=$?
	assert_eq "$rc" 2 "exit code for an unknown built-in profile"
	grep -q "no profile 'no-such-profile': neither .*/no-such-profile.ini nor a built-in" <<<"$out" || fail "message: $out"
	rc=0; out=$($A --netns "$ns" attach --config "$TMP/does-not-exist.ini" 2>&1) || rc=$?
	assert_eq "$rc" 2 "exit code for a missing profile file"
	grep -q "does-not-exist.ini: No such file" <<<"$out" || fail "message: $out"
	assert_snapshot_same "$ns" "$TMP/before" "after unknown profiles"
	# Validation cannot know every kernel's congestion controls: the write
	# fails, what was written before is rolled back, exit 1.
	bad_case "$ns" 1 'applying net.ipv4.tcp_congestion_control failed.*rolled back|rolled back' "[sysctl]
$ok
net.ipv4.ip_local_port_range = 20000 60001
net.ipv4.tcp_congestion_control = no-such-cc
[nic \"vA\"]
mtu = 1400"
	pass
}

test_unsupported_nic_setting_is_reported_not_fatal() {
	local ns out
	tune_ns
	snapshot "$ns" >"$TMP/before"
	# veth has no rings and LRO is fixed off: reported, the rest applied.
	printf '[nic "vA"]\nrx-ring = 256\ntx-ring = 256\nlro = on\nmtu = 4000\n' >"$TMP/p.ini"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/p.ini" 2>&1) || fail "attach: $out"
	grep -q 'nic vA rx-ring: skipped: vA: rings not supported by this device' <<<"$out" || fail "rings: $out"
	grep -q 'nic vA lro: skipped: vA: lro not supported by this device (fixed' <<<"$out" || fail "lro: $out"
	grep -q 'mtu 4000 ' <<<"$(ip -n "$ns" link show vA)" || fail "mtu not applied next to unsupported settings"
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "after detach"
	pass
}

# vA's per-queue settings in sysfs (RPS, XPS, RFS) and its interrupt
# coalescing, as the namespace sees them.
queues() {
	ip netns exec "$1" sh -c 'cd /sys/class/net/vA/queues && grep -H . rx-*/rps_cpus rx-*/rps_flow_cnt tx-*/xps_cpus'
	echo "== ethtool -c"; ip netns exec "$1" ethtool -c vA 2>&1 || true
}

qread() { ip netns exec "$1" sh -c "cat /sys/class/net/vA/queues/$2" | tr '\n' ' '; }

# RPS/XPS masks and RFS flow counts are written per queue and read back
# exactly; detach gives every queue its own original back (here not the
# same on every queue).  Coalescing: veth has none on this kernel, so
# each key is reported as skipped with the reason and the rest is
# applied; a kernel whose veth has some must round-trip those.
test_queue_settings_and_coalescing_round_trip() {
	local ns out k
	tune_ns
	ip netns exec "$ns" sh -c 'echo 1 >/sys/class/net/vA/queues/rx-2/rps_cpus &&
		echo 2 >/sys/class/net/vA/queues/tx-3/xps_cpus' || fail "cannot set the originals"
	queues "$ns" >"$TMP/q-before"
	snapshot "$ns" >"$TMP/before"
	cat >"$TMP/p.ini" <<-'EOF'
	[nic "vA"]
	rps-cpus = 3
	xps-cpus = 0=1 1=2
	rps-flow-cnt = 256
	rx-usecs = 30
	tx-usecs = 30
	rx-frames = 16
	tx-frames = 16
	adaptive-rx = on
	adaptive-tx = off
	EOF
	out=$($A --netns "$ns" attach --features tune --config "$TMP/p.ini" --dry-run 2>&1) || fail "dry run: $out"
	grep -qE '^  nic vA rps-cpus +0=0 1=0 2=1 3=0 +3 +change$' <<<"$out" || fail "dry run rps-cpus: $out"
	grep -qE '^  nic vA xps-cpus +0=0 1=0 2=0 3=2 +0=1 1=2 2=0 3=2 +change$' <<<"$out" ||
		fail "dry run xps-cpus: $out"
	assert_eq "$(queues "$ns")" "$(cat "$TMP/q-before")" "queues after --dry-run"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/p.ini" 2>&1) || fail "attach: $out"
	assert_eq "$(qread "$ns" 'rx-[0-3]/rps_cpus')" "3 3 3 3 " "rps_cpus after attach"
	assert_eq "$(qread "$ns" 'tx-[0-3]/xps_cpus')" "1 2 0 2 " "xps_cpus after attach"
	assert_eq "$(qread "$ns" 'rx-[0-3]/rps_flow_cnt')" "256 256 256 256 " "rps_flow_cnt after attach"
	for k in rx-usecs tx-usecs rx-frames tx-frames adaptive-rx adaptive-tx; do
		if ip netns exec "$ns" ethtool -c vA >/dev/null 2>&1; then
			grep -qE "nic vA $k: (skipped: vA: $k not supported by this device|.* -> )" <<<"$out" ||
				fail "$k neither applied nor reported: $out"
		else
			grep -q "nic vA $k: skipped: vA: $k not supported by this device (the driver does not implement it)" \
				<<<"$out" || fail "$k not reported as unsupported: $out"
		fi
	done
	out=$($A --netns "$ns" status 2>&1)
	grep -qE 'nic vA xps-cpus +0=0 1=0 2=0 3=2 +0=1 1=2 2=0 3=2 +0=1 1=2 2=0 3=2 +profile' <<<"$out" ||
		fail "status xps-cpus: $out"
	! grep -q conflict <<<"$out" || fail "a setting reads back otherwise than written: $out"
	$A detach >/dev/null 2>&1 || fail "detach"
	assert_eq "$(queues "$ns")" "$(cat "$TMP/q-before")" "queues after detach"
	assert_snapshot_same "$ns" "$TMP/before" "after detach"
	pass
}

# Bad queue values are a configuration error (exit 2) before anything is
# written: a mask that is not hex, a CPU this host does not have, a queue
# the device does not have, a flow count the kernel would round, a
# negative coalescing time.
test_bad_queue_and_coalescing_values_change_nothing() {
	local ns out rc bad v
	tune_ns
	queues "$ns" >"$TMP/q-before"
	snapshot "$ns" >"$TMP/before"
	bad=$(printf '%x' $((1 << $(getconf _NPROCESSORS_CONF))))
	for v in 'rps-cpus = 0xg' "rps-cpus = $bad" "xps-cpus = 0=1 9=1" 'rps-flow-cnt = 100' \
		 'rx-usecs = -5' 'adaptive-tx = sometimes'; do
		printf '[nic "vA"]\nmtu = 4000\n%s\n' "$v" >"$TMP/bad.ini"
		rc=0; out=$($A --netns "$ns" attach --features tune --config "$TMP/bad.ini" 2>&1) || rc=$?
		assert_eq "$rc" 2 "exit code for '$v'"
		grep -q "${v%% *}" <<<"$out" || fail "'$v': the message does not name the key: $out"
		[ ! -e "$STATE/tune.journal" ] || fail "'$v' left a journal"
	done
	printf '[nic "vA"]\nrps-cpus = %s\n' "$bad" >"$TMP/bad.ini"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/bad.ini" 2>&1) || true
	grep -q "vA rps-cpus: mask '$bad' names CPU $(getconf _NPROCESSORS_CONF)" <<<"$out" ||
		fail "no CPU range message: $out"
	assert_eq "$(queues "$ns")" "$(cat "$TMP/q-before")" "queues after refused attaches"
	assert_snapshot_same "$ns" "$TMP/before" "after refused attaches"
	pass
}

# RFS's socket flow table (net.core.rps_sock_flow_entries) is host-wide:
# refused from --netns, and shown (never written) by --dry-run in the
# initial namespace; a size the kernel would round up is refused.
test_rfs_sock_flow_entries_dry_run_only() {
	local ns out rc host
	tune_ns
	host=$(cat /proc/sys/net/core/rps_sock_flow_entries)
	printf '[sysctl]\nnet.core.rps_sock_flow_entries = 32768\n[nic "lo"]\nrps-flow-cnt = 0\n' >"$TMP/rfs.ini"
	rc=0; out=$($A --netns "$ns" attach --features tune --config "$TMP/rfs.ini" --dry-run 2>&1) || rc=$?
	assert_eq "$rc" 2 "rps_sock_flow_entries from --netns"
	grep -q 'net.core.rps_sock_flow_entries is not writable in a network namespace' <<<"$out" ||
		fail "netns message: $out"
	printf '[sysctl]\nnet.core.rps_sock_flow_entries = 32768\n' >"$TMP/rfs.ini"
	out=$($A attach --features tune --config "$TMP/rfs.ini" --dry-run 2>&1) || fail "dry run: $out"
	grep -qE "^  net.core.rps_sock_flow_entries +$host +32768 +(change|kept \(already set\))$" <<<"$out" ||
		grep -qE "^  net.core.rps_sock_flow_entries +32768 +32768 +unchanged" <<<"$out" ||
		fail "dry run plan: $out"
	printf '[sysctl]\nnet.core.rps_sock_flow_entries = 30000\n' >"$TMP/rfs.ini"
	rc=0; out=$($A attach --features tune --config "$TMP/rfs.ini" --dry-run 2>&1) || rc=$?
	assert_eq "$rc" 2 "a size that is not a power of two"
	grep -q 'not 0 or a power of two' <<<"$out" || fail "rounding message: $out"
	assert_eq "$(cat /proc/sys/net/core/rps_sock_flow_entries)" "$host" "host rps_sock_flow_entries"
	[ ! -e "$PIN" ] && [ ! -e "$STATE" ] || fail "--dry-run attached something"
	pass
}

# --profile NAME finds $ACCELCTL_PROFILE_DIR/NAME.ini (default
# /etc/accelctl/profiles) before the built-ins; a sysctl.d file imports
# as a profile that attaches and detaches exactly, and exports back to
# the same keys and values.  Bad sysctl.d input is refused by file and
# line with nothing printed.
test_profile_dir_and_sysctl_d_round_trip() {
	local ns out rc dir=$TMP/profiles
	tune_ns
	mkdir "$dir"
	printf '[sysctl]\nnet.ipv4.tcp_fin_timeout = 21\n' >"$dir/web.ini"
	out=$(ACCELCTL_PROFILE_DIR=$dir $A profile list) || fail "profile list: $out"
	grep -qx "web ($dir/web.ini)" <<<"$out" || fail "profile list lacks web: $out"
	grep -q '^loopback (built-in' <<<"$out" || fail "profile list lacks the built-in: $out"
	snapshot "$ns" >"$TMP/before"
	out=$(ACCELCTL_PROFILE_DIR=$dir $A --netns "$ns" attach --features tune --profile web 2>&1) || fail "attach: $out"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 21 "fin_timeout from $dir/web.ini"
	$A --netns "$ns" detach >/dev/null 2>&1 || fail "detach"
	assert_snapshot_same "$ns" "$TMP/before" "after detach of --profile web"
	rc=0; out=$(ACCELCTL_PROFILE_DIR=$dir $A --netns "$ns" attach --features tune --profile nosuch 2>&1) || rc=$?
	assert_eq "$rc" 2 "--profile of no file and no built-in"
	grep -q "neither $dir/nosuch.ini nor a built-in" <<<"$out" || fail "message: $out"
	# sysctl.d: comments, dots and slashes, '-' prefix, spaces or none
	cat >"$TMP/60-web.conf" <<-'EOF'
	# web tier
	net.ipv4.tcp_fin_timeout = 19
	net/ipv4/tcp_keepalive_time=600
	; the other comment syntax
	-net.ipv4.tcp_max_tw_buckets = 4096
	EOF
	$A profile import "$TMP/60-web.conf" >"$TMP/imp.ini" 2>"$TMP/imp.err" || fail "import: $(cat "$TMP/imp.err")"
	grep -qx 'net.ipv4.tcp_keepalive_time = 600' "$TMP/imp.ini" || fail "import: $(cat "$TMP/imp.ini")"
	grep -q '^; sysctl.d: -net.ipv4.tcp_max_tw_buckets' "$TMP/imp.ini" || fail "import lost the '-': $(cat "$TMP/imp.ini")"
	grep -q ': ok$' <<<"$($A --netns "$ns" profile check "$TMP/imp.ini")" || fail "check of the import"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/imp.ini" 2>&1) || fail "attach import: $out"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 19 "fin_timeout"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_keepalive_time)" 600 "keepalive_time"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_max_tw_buckets)" 4096 "max_tw_buckets"
	$A --netns "$ns" detach >/dev/null 2>&1 || fail "detach"
	assert_snapshot_same "$ns" "$TMP/before" "after detach of the import"
	# export and import again: the same settings
	$A profile export --sysctl-d "$TMP/imp.ini" >"$TMP/exp.conf" || fail "export"
	grep -v '^#' "$TMP/exp.conf" | sort >"$TMP/exp.keys"
	printf '%s\n' 'net.ipv4.tcp_fin_timeout = 19' 'net.ipv4.tcp_keepalive_time = 600' \
		'net.ipv4.tcp_max_tw_buckets = 4096' | sort >"$TMP/want.keys"
	diff -u "$TMP/want.keys" "$TMP/exp.keys" >&2 || fail "export differs"
	grep -q '# accelctl raises net.core.somaxconn only (>= 8192)' <<<"$($A profile export --sysctl-d loopback)" ||
		fail "export of a raise-only key does not say so"
	rc=0; $A profile export loopback >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 2 "export without --sysctl-d"
	# refused: a glob, a line without '=', a missing file; stdout empty
	for bad in 'net.ipv4.conf.*.rp_filter = 2' 'net.ipv4.tcp_fin_timeout 30'; do
		printf '%s\n' '# ok' "$bad" >"$TMP/bad.conf"
		rc=0; out=$($A profile import "$TMP/bad.conf" 2>"$TMP/bad.err") || rc=$?
		assert_eq "$rc" 2 "import of '$bad'"
		[ -z "$out" ] || fail "import printed a half profile: $out"
		grep -q "bad.conf:2: " "$TMP/bad.err" || fail "no file:line: $(cat "$TMP/bad.err")"
	done
	rc=0; $A profile import "$TMP/nosuch.conf" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 2 "import of a missing file"
	pass
}

# attach --dry-run covers every feature attach would attach, each with
# what it would do (tune's plan, tcpstate's hooks, netacct's interfaces
# and their hooks, bypass's cgroup, mode and capacity), and changes
# nothing: no pin, no record, no filter or XDP program, the namespace as
# before.  --features narrows it: netacct alone shows no sysctl plan.
test_dry_run_covers_every_feature() {
	local ns out cg rc
	tune_ns
	cg=$(cgroup_new)
	snapshot "$ns" >"$TMP/before"
	out=$($A --netns "$ns" attach --iface vA --cgroup "$cg" --event-ports 7000-7010 --max-connections 2048 \
		--dry-run 2>&1) || fail "dry run: $out"
	grep -qE '^  net.ipv4.tcp_fin_timeout +[0-9]+ +30 +change$' <<<"$out" || fail "no tuning plan: $out"
	grep -q '^tcpstate: would attach tracepoints' <<<"$out" || fail "no tcpstate line: $out"
	grep -q '^netacct: vA: ingress tc (auto: veth device' <<<"$out" || fail "no netacct line: $out"
	grep -qx "bypass: would accelerate local TCP connections of cgroup $cg" <<<"$out" || fail "no bypass cgroup: $out"
	grep -qx 'bypass: --event-ports 7000-7010' <<<"$out" || fail "no port list: $out"
	grep -q '^bypass: capacity 2048 connections (4096 sockets, 8192 slots)' <<<"$out" || fail "no capacity: $out"
	grep -qx 'dry run: nothing changed' <<<"$out" || fail "no closing line: $out"
	assert_snapshot_same "$ns" "$TMP/before" "after --dry-run"
	[ ! -e "$PIN" ] && [ ! -e "$STATE" ] || fail "--dry-run attached something"
	[ -z "$(ip netns exec "$ns" tc filter show dev vA ingress)" ] || fail "a tc filter on vA"
	ip -n "$ns" link show vA | grep -q xdp && fail "an XDP program on vA"
	out=$($A --netns "$ns" attach --features netacct --iface vA --dry-run 2>&1) || fail "netacct dry run: $out"
	grep -q 'net\.\|profile ' <<<"$out" && fail "--features netacct shows the sysctl plan: $out"
	grep -q '^netacct: vA:' <<<"$out" || fail "netacct dry run: $out"
	# what attach would refuse, the dry run refuses the same way
	rc=0; out=$($A --netns "$ns" attach --features netacct --iface nosuch0 --dry-run 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "dry run accepted a missing interface: $out"
	grep -q "nosuch0" <<<"$out" || fail "no reason: $out"
	rc=0; out=$($A --netns "$ns" attach --features bypass --cgroup /nonexistent --dry-run 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "dry run accepted a bad cgroup: $out"
	[ ! -e "$PIN" ] && [ ! -e "$STATE" ] || fail "a failed --dry-run attached something"
	pass
}

test_dry_run_and_profile_check_change_nothing() {
	local ns out rc
	tune_ns
	full_profile "$TMP/p.ini"
	snapshot "$ns" >"$TMP/before"
	out=$($A --netns "$ns" attach --config "$TMP/p.ini" --dry-run 2>&1) || fail "dry run: $out"
	grep -qE '^  net.ipv4.tcp_fin_timeout +60 +17 +change$' <<<"$out" || fail "dry run lacks key/current/new: $out"
	grep -qE '^  nic vA mtu +1500 +9000 +change$' <<<"$out" || fail "dry run lacks the mtu: $out"
	assert_snapshot_same "$ns" "$TMP/before" "after --dry-run"
	[ ! -e "$PIN" ] && [ ! -e "$STATE" ] || fail "--dry-run attached something"
	grep -q ': ok$' <<<"$($A --netns "$ns" profile check "$TMP/p.ini")" || fail "profile check of a good file"
	printf '[sysctl]\nnet.core.netdev_max_backlog = 5000\n' >"$TMP/global.ini"
	rc=0; out=$($A --netns "$ns" profile check "$TMP/global.ini" 2>&1) || rc=$?
	assert_eq "$rc" 2 "profile check of a host-wide key in a netns"
	grep -q 'not writable in a network namespace' <<<"$out" || fail "check message: $out"
	assert_snapshot_same "$ns" "$TMP/before" "after profile check"
	grep -q 'tcp_tw_recycle: removed in Linux 4.12' <<<"$($ACCELCTL profile show loopback)" || fail "show loopback"
	grep -q '^net.ipv4.tcp_max_syn_backlog = >=8192$' <<<"$($ACCELCTL profile show "$TMP/p.ini")" || fail "show FILE"
	pass
}

# One file configures the whole attach: its [tcpstate] section turns that
# feature off; features the file does not name stay optional.
test_profile_sections_configure_the_attach() {
	local out
	tune_ns
	printf '[tcpstate]\nenable = off\n[sysctl]\nnet.ipv4.tcp_fin_timeout = 33\n' >"$TMP/p.ini"
	# all default features: the bypass attaches too, so give it a private
	# cgroup (never the cgroup2 root in a test)
	out=$($A --netns "$ns" attach --config "$TMP/p.ini" --cgroup "$(cgroup_new)" 2>&1) || fail "attach: $out"
	[ ! -e "$PIN/tcpstate" ] || fail "[tcpstate] enable = off ignored"
	$A status --json | json_get 'd["features"]["tune"]["attached"]' | grep -qx True || fail "tune not attached"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 33 "profile applied"
	$A detach >/dev/null
	# --features on the command line wins over the file
	$A --netns "$ns" attach --features tcpstate,tune --config "$TMP/p.ini" >/dev/null 2>&1
	[ -e "$PIN/tcpstate" ] || fail "--features did not win over the profile"
	$A detach >/dev/null
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 60 "restored"
	pass
}

json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

test_builtin_loopback_profile_in_netns() {
	local ns out
	tune_ns
	snapshot "$ns" >"$TMP/before"
	ip netns exec "$ns" sysctl -qw net.core.somaxconn=100000	# an operator's higher value
	snapshot "$ns" >"$TMP/before"
	out=$($A --netns "$ns" attach --features tune 2>&1) || fail "attach: $out"
	grep -q 'net.core.netdev_max_backlog: skipped: host-wide key' <<<"$out" || fail "host-wide key not skipped: $out"
	grep -q 'net.core.somaxconn: skipped: already 100000' <<<"$out" || fail ">= lowered a value: $out"
	assert_eq "$(nsctl "$ns" net.ipv4.ip_local_port_range)" "16384 65535" "loopback port range"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 30 "loopback fin timeout"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_max_syn_backlog)" 8192 "loopback syn backlog"
	grep -q '^item mtu\|^item gro\|^item rx ' "$STATE/tune.journal" && fail "the default profile touched a NIC"
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "after detach"
	pass
}

test_operator_change_is_a_conflict_kept_unless_force() {
	local ns out
	tune_ns
	full_profile "$TMP/p.ini"
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >/dev/null 2>&1
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=44
	grep -q '^accel_tune_applied{key="net.ipv4.tcp_fin_timeout"} 0$' <<<"$($A stats --prometheus)" ||
		fail "drift not shown in accel_tune_applied"
	out=$($A detach 2>&1) || fail "detach: $out"
	grep -q 'conflict: net.ipv4.tcp_fin_timeout: changed after attach (now .44., accelctl set .17.)' <<<"$out" ||
		fail "no conflict report: $out"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 44 "operator value kept"
	assert_eq "$(nsctl "$ns" net.core.somaxconn)" 4096 "other keys restored"
	# --force puts the original back
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=60
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >/dev/null 2>&1
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=44
	$A detach --force >/dev/null 2>&1
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_fin_timeout)" 60 "--force restores the original"
	pass
}

listen_overflows() {
	ip netns exec "$1" awk '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
		$1 == "TcpExt:" && h { for (i = 2; i <= NF; i++) if (n[i] == "ListenOverflows") print $i }' /proc/net/netstat
}

# A listener on 127.0.0.1:PORT in netns NS that never accepts, with a
# backlog above somaxconn (so the cap is somaxconn's), and 40 clients:
# returns once the accept queue overflowed.  Sets OVERFLOW_PID.
accept_queue_overflow() {
	local ns=$1 port=$2
	ip netns exec "$ns" python3 -c '
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(4096)
cs = []
for i in range(40):
    c = socket.socket(); c.setblocking(False); c.connect_ex(("127.0.0.1", int(sys.argv[1]))); cs.append(c)
time.sleep(120)' "$port" &
	OVERFLOW_PID=$!
	defer "kill $OVERFLOW_PID"
	wait_until 10 bash -c "[ \"\$(ip netns exec $ns awk '\$1 == \"TcpExt:\" && !h { for (i = 2; i <= NF; i++) n[i] = \$i; h = 1; next } \$1 == \"TcpExt:\" && h { for (i = 2; i <= NF; i++) if (n[i] == \"ListenOverflows\") print \$i }' /proc/net/netstat)\" -gt 0 ]" ||
		fail "no accept-queue overflow provoked"
}

test_autotune_raises_somaxconn_on_accept_queue_overflow() {
	local ns out rc port=$((20000 + RANDOM % 20000)) pid
	tune_ns
	snapshot "$ns" >"$TMP/before"
	printf '[sysctl]\nnet.core.somaxconn = 16\n[auto]\nsomaxconn-max = 64\n' >"$TMP/p.ini"
	$A --netns "$ns" attach --features tune --auto --config "$TMP/p.ini" >/dev/null 2>&1
	accept_queue_overflow "$ns" "$port"
	pid=$OVERFLOW_PID
	# The daemon mode: a loop every second, until SIGTERM.
	$A autotune --interval 1 >"$TMP/autotune.log" 2>&1 &
	local loop=$!
	defer "kill $loop"
	wait_until 10 bash -c "[ \"\$(ip netns exec $ns sysctl -n net.core.somaxconn)\" = 32 ]" ||
		fail "the autotune loop did not act: $(cat "$TMP/autotune.log")"
	kill -TERM "$loop"
	rc=0; wait "$loop" || rc=$?
	assert_eq "$rc" 0 "autotune loop exit status on SIGTERM"
	out=$(cat "$TMP/autotune.log")
	grep -qE 'autotune: net.core.somaxconn: 16 -> 32 \(cause: TcpExtListenOverflows \+[0-9]+, inet port '"$port"' accept queue 17/16\)' <<<"$out" ||
		fail "no logged action with its cause: $out"
	assert_eq "$(nsctl "$ns" net.core.somaxconn)" 32 "somaxconn after autotune"
	grep -q 'net.core.somaxconn .*auto: TcpExtListenOverflows' <<<"$($A status)" || fail "status does not show the auto action"
	grep -q '^accel_tune_auto_adjusted_settings 1$' <<<"$($A stats --prometheus)" || fail "metric"
	# No new overflow since the last step: no action.
	out=$($A autotune --once 2>&1)
	assert_eq "$(nsctl "$ns" net.core.somaxconn)" 32 "somaxconn after a quiet step"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "after detach (auto action undone)"
	# Without attach --auto, autotune refuses.
	$A --netns "$ns" attach --features tune --config "$TMP/p.ini" >/dev/null 2>&1
	rc=0; out=$($A autotune --once 2>&1) || rc=$?
	assert_eq "$rc" 2 "autotune without --auto"
	grep -q 'auto-tune was not enabled at attach' <<<"$out" || fail "message: $out"
	$A detach
	pass
}

# With tcpstate attached, autotune takes the listener queues from
# tcpstate's iterator instead of /proc/net/tcp, and acts the same.
test_autotune_reads_listener_queues_from_tcpstate() {
	local ns out port=$((20000 + RANDOM % 20000)) pid
	tune_ns
	snapshot "$ns" >"$TMP/before"
	printf '[sysctl]\nnet.core.somaxconn = 16\n[auto]\nsomaxconn-max = 64\n' >"$TMP/p.ini"
	out=$($A --netns "$ns" attach --features tune,tcpstate --auto --config "$TMP/p.ini" 2>&1) ||
		fail "attach: $out"
	accept_queue_overflow "$ns" "$port"
	pid=$OVERFLOW_PID
	out=$($A -v autotune --once 2>&1) || fail "autotune: $out"
	grep -q 'autotune: sockets from tcpstate' <<<"$out" || fail "not from tcpstate's iterator: $out"
	grep -qE 'autotune: net.core.somaxconn: 16 -> 32 \(cause: TcpExtListenOverflows \+[0-9]+, inet port '"$port"' accept queue 17/16\)' <<<"$out" ||
		fail "no action with its cause: $out"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	$A detach >/dev/null 2>&1 || fail "detach"
	assert_snapshot_same "$ns" "$TMP/before" "after detach"
	pass
}

snmp6() { ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/snmp6; }

test_autotune_port_pressure_and_reassembly_drops() {
	local ns out
	tune_ns
	snapshot "$ns" >"$TMP/before"
	cat >"$TMP/p.ini" <<-'EOF'
	[sysctl]
	net.ipv4.ip_local_port_range = 40000 40099
	net.ipv6.ip6frag_time = 1
	[auto]
	port-pressure-pct = 50
	tw-reuse = on
	port-low-min = 39000
	ip6frag-high-max = 16777216
	EOF
	$A --netns "$ns" attach --features tune --auto --config "$TMP/p.ini" >/dev/null 2>&1
	# 70 client-closed connections: 70 of the 100 ports sit in TIME_WAIT.
	ip netns exec "$ns" "$TOOLS/tcp_churn" -n 70 -c >/dev/null
	out=$($A autotune --once 2>&1) || fail "autotune: $out"
	grep -qE 'autotune: net.ipv4.tcp_tw_reuse: 2 -> 1 \(cause: ephemeral ports in use [0-9]+/100 \([0-9]+%, [0-9]+ TIME_WAIT\)\)' <<<"$out" ||
		fail "tw_reuse action: $out"
	assert_eq "$(nsctl "$ns" net.ipv4.tcp_tw_reuse)" 1 "tcp_tw_reuse"
	out=$($A autotune --once 2>&1) || fail "autotune: $out"
	grep -q 'autotune: net.ipv4.ip_local_port_range: 40000 40099 -> 39974 40099 (cause: ephemeral ports' <<<"$out" ||
		fail "port range action: $out"
	assert_eq "$(nsctl "$ns" net.ipv4.ip_local_port_range)" "39974 40099" "widened range"
	# An IPv6 first fragment whose rest never comes: reassembly times out
	# after ip6frag_time (1 s) and Ip6ReasmFails counts it.
	ip netns exec "$ns" python3 -c '
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 44)
for ident in (1, 2, 3):
    s.sendto(struct.pack("!BBHI", 17, 0, 1, ident) + bytes(24), ("::1", 0))'
	wait_until 10 bash -c "[ \"\$(ip netns exec $ns awk '\$1 == \"Ip6ReasmFails\" { print \$2 }' /proc/net/snmp6)\" -ge 3 ]" ||
		fail "no reassembly failure provoked (Ip6ReasmFails $(snmp6 "$ns" Ip6ReasmFails))"
	out=$($A autotune --once 2>&1) || fail "autotune: $out"
	grep -q 'autotune: net.ipv6.ip6frag_high_thresh: 4194304 -> 8388608 (cause: Ip6ReasmFails +3)' <<<"$out" ||
		fail "ip6frag action: $out"
	$A detach
	assert_snapshot_same "$ns" "$TMP/before" "after detach (auto actions undone)"
	pass
}

run_tests
