#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Foundation: attach → status → stats → detach, the lock, rollback, CLI.
source "$(dirname "$0")/lib.sh"

snmp_tcp() {	# field name → value from /proc/net/snmp (current netns)
	awk -v f="$1" '$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
		$1 == "Tcp:" && h { for (i = 2; i <= NF; i++) if (n[i] == f) print $i }' /proc/net/snmp
}

json_get() {	# python expression over the parsed document `d`, reading stdin
	python3 -c "$PY_JSON_UNIQ"'
d = json.load(sys.stdin, object_pairs_hook=_uniq)
print('"$1"')'
}

test_attach_stats_detach_leaves_nothing() {
	local ns before after n=37 transitions
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate
	[ -d "$PIN/tcpstate" ] || fail "pin dir missing after attach"
	[ "$(stat -c %a "$PIN")" = 700 ] || fail "pin root mode $(stat -c %a "$PIN"), want 700"
	[ "$(stat -c %a "$PIN/tcpstate/tcp_state_transitions")" = 600 ] || fail "map pin not 0600"
	$A status --json | json_get 'd["features"]["tcpstate"]["attached"]' | grep -qx True ||
		fail "status --json does not show tcpstate attached"
	grep -q 'inet_sock_set_state' <<<"$($A status)" || fail "status does not name the hook"

	# Kernel truth: ActiveOpens counts every transition into SYN_SENT.
	before=$(ip netns exec "$ns" bash -c "$(declare -f snmp_tcp); snmp_tcp ActiveOpens")
	ip netns exec "$ns" "$TOOLS/tcp_churn" -n $n >/dev/null
	after=$(ip netns exec "$ns" bash -c "$(declare -f snmp_tcp); snmp_tcp ActiveOpens")
	transitions=$($A stats --json | json_get \
		'[s["value"] for s in d["metrics"]["accel_tcp_state_transitions_total"]["samples"] if s["labels"]=={"family":"inet","state":"syn_sent"}][0]')
	assert_eq "$transitions" "$((after - before))" "syn_sent transitions vs ActiveOpens delta"
	[ "$((after - before))" -eq $n ] || fail "ActiveOpens moved by $((after - before)), expected $n"
	grep -q '^accel_tcp_state_transitions_total{family="inet",state="syn_sent"} '"$n"'$' <<<"$($A stats --prometheus)" ||
		fail "--prometheus disagrees"
	$A stats --json | json_get 'd["attached"]' | grep -qx True || fail "stats --json: attached is not true"

	local ids
	ids=$($A status --json | json_get '" ".join(str(p["link_id"]) for p in d["features"]["tcpstate"]["pins"] if p["kind"]=="link")')
	[ -n "$ids" ] || fail "no link ids in status"
	$A detach
	[ ! -e "$PIN" ] || fail "pin root left behind: $(ls -R "$PIN")"
	[ ! -e "$STATE" ] || fail "state dir left behind: $(ls -A "$STATE")"
	for id in $ids; do
		bpftool link show id "$id" >/dev/null 2>&1 && fail "link $id still exists after detach"
	done
	grep -q 'nothing is attached' <<<"$($A stats)" || fail "stats after detach does not say nothing is attached"
	$A stats --json | json_get 'd["attached"]' | grep -qx False || fail "stats --json after detach: attached is not false"
	# detach again: nothing to do, success
	grep -q 'nothing is attached' <<<"$($A detach 2>&1)" || fail "second detach did not say so"
	pass
}

# Every feature at once, in a private netns and cgroup: attach, status,
# stats, detach, and nothing — pin, lock, state file, journal, cgroup
# attachment, qdisc, XDP program, sysctl — is left behind.
test_all_features_attach_detach_leaves_nothing() {
	local ns cg sysctl_before sysctl_after features
	ns=$(netns_new)
	cg=$(cgroup_new)
	sysctl_before=$(ip netns exec "$ns" sysctl -a 2>/dev/null | grep '^net\.' | sort)
	$A --netns "$ns" attach --cgroup "$cg" --iface lo --event-ports 6379 >"$TMP/attach.log" 2>&1 ||
		fail "attach failed: $(cat "$TMP/attach.log")"
	features=$($A status --json | json_get '",".join(sorted(k for k, v in d["features"].items() if v["attached"]))')
	assert_eq "$features" "bypass,netacct,tcpstate,tune" "attached features"
	grep -q sock_ops <<<"$(bpftool cgroup show "$cg")" || fail "no sockops program on the private cgroup"
	# every pin reported as what it is, each id checked against bpftool
	local kinds
	kinds=$($A status --json | json_get '" ".join(sorted("%s:%s" % (p["kind"], p.get("prog_type") or p.get("map_type") or p.get("link_type")) for p in d["features"]["bypass"]["pins"]))')
	grep -qw 'prog:sk_msg' <<<"$kinds" || fail "bypass sk_msg pin not shown as a program: $kinds"
	grep -qw 'map:sockhash' <<<"$kinds" || fail "sockhash pin not shown as a map: $kinds"
	grep -q 'cpumap' <<<"$kinds" && fail "a pin shown with the wrong type: $kinds"
	local pid
	pid=$($A status --json | json_get '[p["prog_id"] for p in d["features"]["bypass"]["pins"] if p["kind"] == "prog"][0]')
	grep -q 'sk_msg' <<<"$(bpftool prog show id "$pid")" || fail "prog id $pid is not the sk_msg program"
	$A stats --json | json_get 'len(d["metrics"])' >/dev/null || fail "stats --json"
	# doctor's exit status says what it found; its JSON must parse either way
	{ $A doctor --json || true; } | json_get 'len(d["findings"])' >/dev/null ||
		fail "doctor --json with every feature attached"
	[ "$(ip netns exec "$ns" sysctl -a 2>/dev/null | grep '^net\.' | sort)" != "$sysctl_before" ] ||
		fail "the default profile changed nothing in the namespace"

	$A detach >"$TMP/detach.log" 2>&1 || fail "detach failed: $(cat "$TMP/detach.log")"
	[ ! -e "$PIN" ] || fail "pin root left behind: $(ls -R "$PIN")"
	[ ! -e "$STATE" ] || fail "state left behind: $(ls -A "$STATE")"
	[ -z "$(bpftool cgroup show "$cg")" ] || fail "cgroup attachment left: $(bpftool cgroup show "$cg")"
	[ -z "$(ip netns exec "$ns" tc filter show dev lo ingress)$(ip netns exec "$ns" tc filter show dev lo egress)" ] ||
		fail "tc filters left on the namespace's lo"
	ip -n "$ns" link show lo | grep -q xdp && fail "XDP program left on the namespace's lo"
	sysctl_after=$(ip netns exec "$ns" sysctl -a 2>/dev/null | grep '^net\.' | sort)
	[ "$sysctl_after" = "$sysctl_before" ] ||
		fail "sysctls not restored: $(diff <(echo "$sysctl_before") <(echo "$sysctl_after") | head -5)"
	pass
}

# A host without cgroup2 (pure cgroup v1): attach mounts one of its own
# under the state dir to open the cgroup, and leaves no mount behind.
test_attach_without_cgroup2_mount_mounts_its_own() {
	local cg name
	cg=$(cgroup_new)
	name=$(basename "$cg")
	unshare -m --propagation private bash -ec '
		umount -l "$(awk '\''$3 == "cgroup2" { print $2; exit }'\'' /proc/mounts)"
		! grep -q " cgroup2 " /proc/mounts
		$0 attach --features bypass --cgroup "$1" >/dev/null 2>&1
		! grep -q " cgroup2 " /proc/mounts	# its own mount is gone again
	' "$A" "$name" || fail "attach without a cgroup2 mount"
	grep -q sock_ops <<<"$(bpftool cgroup show "$cg")" || fail "no sockops program on $cg"
	$A detach >/dev/null 2>&1
	[ ! -e "$STATE" ] || fail "state dir left behind: $(ls -A "$STATE")"
	[ -z "$(bpftool cgroup show "$cg")" ] || fail "sockops left on $cg"
	pass
}

test_second_attach_says_so() {
	$A attach --features tcpstate
	out=$($A attach --features tcpstate 2>&1) || fail "second attach failed: $out"
	grep -q 'already attached' <<<"$out" || fail "second attach did not say so: $out"
	$A detach
	# a feature that leaves nothing behind (tune with --no-tune) is no
	# sign of an interrupted detach
	$A attach --features tcpstate,tune --no-tune >/dev/null 2>&1 || fail "attach --no-tune"
	out=$($A attach --features tcpstate,tune --no-tune 2>&1) || fail "second attach failed: $out"
	grep -q 'already attached' <<<"$out" || fail "second attach with --no-tune did not say so: $out"
	grep -q 'interrupted' <<<"$out" && fail "a complete attach taken for an interrupted detach: $out"
	$A detach
	pass
}

# The instance record carries ACCEL_ABI_VERSION: an accelctl of another

# version names the commit the binary was built from (this checkout's).
test_version_names_the_commit() {
	local want got
	want=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null) || skip "not a git checkout"
	got=$($A version --json | json_get 'd["commit"]')
	[ "$got" = "$want" ] || [ "$got" = "$want-dirty" ] || fail "version --json commit '$got', HEAD is $want"
	$A version | grep -q "^accelctl [0-9.]* (commit $got; libbpf " || fail "version: $($A version)"
	pass
}
# ABI refuses to touch the pins (exit 2, both versions and the fix named)
# until the instance is detached, by the old binary or with --force.
test_instance_of_another_abi_is_refused() {
	local ns abi rc out
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate
	abi=$($A status --json | json_get 'd["abi_version"]')
	[ "$abi" -ge 1 ] || fail "status --json has no abi_version"
	grep -qx "abi=$abi" "$STATE/instance" || fail "instance record without abi=$abi: $(cat "$STATE/instance")"
	assert_eq "$($A status --json | json_get 'd["instance_abi_version"]')" "$abi" "instance_abi_version"

	sed -i "s/^abi=.*/abi=$((abi + 98))/" "$STATE/instance"
	for cmd in stats attach detach; do
		rc=0; out=$($A $cmd 2>&1) || rc=$?
		assert_eq "$rc" 2 "exit code of $cmd on an ABI $((abi + 98)) instance"
		grep -q "BPF ABI version $((abi + 98)); this accelctl has ABI version $abi" <<<"$out" ||
			fail "$cmd does not name both ABI versions: $out"
		grep -q 'detach --force' <<<"$out" || fail "$cmd does not name the fix: $out"
	done
	[ -e "$PIN/tcpstate/tcp_state_transitions" ] || fail "a refused command removed pins"
	grep -q "^ABI: *$((abi + 98)), this accelctl has $abi" <<<"$($A status)" || fail "status does not show the mismatch: $($A status)"

	# A record from before the abi= line is ABI 1's.
	sed -i '/^abi=/d' "$STATE/instance"
	rc=0; $A stats >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" "$([ "$abi" = 1 ] && echo 0 || echo 2)" "stats on a record without abi="
	echo "abi=2x" >>"$STATE/instance"
	rc=0; out=$($A stats 2>&1) || rc=$?
	assert_eq "$rc" 2 "stats on an unreadable abi="
	grep -q 'BPF ABI version 0;' <<<"$out" || fail "unreadable abi= not shown as 0: $out"

	$A detach --force
	[ ! -e "$PIN" ] || fail "detach --force left the pin root: $(ls -R "$PIN")"
	[ ! -e "$STATE" ] || fail "detach --force left the state dir: $(ls -A "$STATE")"
	pass
}

test_concurrent_attach_fails_cleanly_on_lock() {
	local rc=0 out holder
	mkdir -p "$PIN"
	# Hold the lock the way a running accelctl would, then try to attach.
	(exec 9<"$PIN"; flock 9; exec sleep 30) &
	holder=$!
	defer "kill $holder"
	wait_until 5 bash -c "! flock -n '$PIN' true" || fail "helper did not take the lock"
	out=$(ACCELCTL_LOCK_WAIT=1 $A attach --features tcpstate 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit code of attach while locked"
	grep -q 'locked by another accelctl' <<<"$out" || fail "message does not name the lock: $out"
	[ ! -e "$PIN/tcpstate" ] || fail "attach changed things while locked"
	kill "$holder"; wait "$holder" 2>/dev/null || true

	# A short holder: attach waits for it instead of failing.
	(exec 9<"$PIN"; flock 9; exec sleep 1) &
	holder=$!
	wait_until 5 bash -c "! flock -n '$PIN' true" || fail "helper did not take the lock"
	ACCELCTL_LOCK_WAIT=20 $A attach --features tcpstate || fail "attach did not wait for the lock"
	[ -d "$PIN/tcpstate" ] || fail "attach after waiting attached nothing"
	$A detach
	pass
}

test_partial_attach_rolls_back() {
	local rc=0 out
	# bypass cannot attach to a cgroup that does not exist: tcpstate,
	# attached first, must be rolled back.
	out=$($A attach --features tcpstate,bypass --cgroup /nonexistent-accel-cg 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit code of a failing attach"
	grep -qi 'bypass' <<<"$out" || fail "failure does not name the feature: $out"
	[ ! -e "$PIN" ] || fail "pin root left after rollback: $(ls -R "$PIN")"
	[ ! -e "$STATE/instance" ] || fail "instance record left after rollback"
	pass
}

test_cli_usage_and_help() {
	local rc out
	grep -q 'usage: accelctl' <<<"$($ACCELCTL --help)" || fail "--help"
	grep -q -- '--features' <<<"$($ACCELCTL help attach)" || fail "help attach lacks --features"
	grep -q -- '--pin-root' <<<"$($ACCELCTL attach --help)" || fail "attach --help lacks global options"
	rc=0; out=$($ACCELCTL attach --bogus 2>&1) || rc=$?
	assert_eq "$rc" 2 "attach --bogus exit code"
	grep -q '^usage: accelctl attach' <<<"$out" || fail "attach --bogus gives no usage line: $out"
	rc=0; $ACCELCTL frobnicate 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "unknown command exit code"
	rc=0; $ACCELCTL attach --features nope 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "unknown feature exit code"
	rc=0; $ACCELCTL attach --ports 0-99999 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "bad port list exit code"
	rc=0; $ACCELCTL stats --watch 0 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "--watch 0 exit code"
	rc=0; $ACCELCTL --pin-root relative status 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "relative --pin-root exit code"
	rc=0; out=$($A --netns "$T_ID-missing" status 2>&1) || rc=$?
	assert_eq "$rc" 1 "missing netns exit code"
	grep -q 'not found' <<<"$out" || fail "missing netns message: $out"
	rc=0; out=$($A status --json) || rc=$?
	assert_eq "$rc" 3 "status --json when detached: exit code"
	json_get 'd["attached"]' <<<"$out" | grep -qx False || fail "status --json when detached"
	rc=0; out=$(ACCELCTL_PIN_ROOT=$PIN-env $ACCELCTL status --json) || rc=$?
	assert_eq "$rc" 3 "status --json with ACCELCTL_PIN_ROOT, detached: exit code"
	json_get 'd["pin_root"]' <<<"$out" | grep -qx "$PIN-env" || fail "ACCELCTL_PIN_ROOT ignored"
	grep -q "^accelctl " <<<"$($ACCELCTL version)" || fail "version"
	pass
}

# Under systemd (JOURNAL_STREAM names stderr) every stderr line carries its
# sd-daemon priority, once; libbpf's lines have one "libbpf: " each.  With
# stderr elsewhere nothing changes.
test_journal_priorities_on_every_line() {
	local ns err="$TMP/stderr" js rc=0 out
	ns=$(netns_new)
	: >"$err"
	js=$(stat -c '%d:%i' "$err")
	JOURNAL_STREAM=$js $A --netns "$ns" -vv attach --features tcpstate 2>>"$err" >/dev/null
	JOURNAL_STREAM=$js $A -v detach 2>>"$err" >/dev/null
	JOURNAL_STREAM=$js $A attach --bogus 2>>"$err" >/dev/null || rc=$?
	assert_eq "$rc" 2 "attach --bogus exit code"
	[ -s "$err" ] || fail "nothing on stderr"
	grep -vqE '^<[3467]>' "$err" && fail "lines without a priority: $(grep -vE '^<[3467]>' "$err" | head -3)"
	grep -q '^<7>libbpf: ' "$err" || fail "no libbpf debug line at -vv: $(head -5 "$err")"
	grep -q 'libbpf: libbpf:' "$err" && fail "libbpf lines prefixed twice: $(grep -m1 'libbpf: libbpf:' "$err")"
	grep -q '^<6>attached: ' "$err" || fail "the attach's action is not at info: $(grep -v libbpf "$err" | head -5)"
	grep -q "^<3>accelctl attach: unknown option '--bogus'" "$err" || fail "usage error not at err: $(tail -3 "$err")"
	grep -q '^<3>usage: accelctl attach' "$err" || fail "usage line not at err: $(tail -3 "$err")"
	# stderr not the journal (stale JOURNAL_STREAM inherited): as before
	out=$(JOURNAL_STREAM=$js $A attach --bogus 2>&1) || true
	grep -q '^<' <<<"$out" && fail "priorities on a stderr that is not the journal: $out"
	grep -q "^accelctl attach: unknown option '--bogus'" <<<"$out" || fail "plain usage error: $out"
	pass
}

# A user who cannot read the pins and records is told so (exit 1, which
# path, the fix), never "attached: no" or zeros for a host with features
# attached; with the capabilities the message names, it works.
as_nobody() {	# [CAPS] -- command...
	local caps=$1; shift 2
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		${caps:+--inh-caps=$caps --ambient-caps=$caps} "$@"
}

test_nonroot_status_and_stats_say_why_not() {
	local ns rc out c
	command -v setpriv >/dev/null || fail "setpriv (util-linux) missing"
	id nobody >/dev/null || fail "no user nobody"
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate 2>/dev/null
	for c in status "status --json" stats "stats --json" "stats --prometheus"; do
		rc=0; out=$(as_nobody "" -- $A $c 2>"$TMP/err") || rc=$?
		assert_eq "$rc" 1 "'$c' as nobody: exit code"
		[ -z "$out" ] || fail "'$c' as nobody printed a result: $(head -3 <<<"$out")"
		grep -q "^accelctl: ${c%% *}: cannot read the state dir $STATE: Permission denied" "$TMP/err" ||
			fail "'$c' as nobody: no reason naming the state dir: $(cat "$TMP/err")"
		grep -q '^Fix: run it as root' "$TMP/err" || fail "'$c' as nobody: no fix: $(cat "$TMP/err")"
	done
	# The records readable: entering the attach's namespace is refused ...
	chmod 755 "$TMP" "$STATE"
	chmod 644 "$STATE"/*
	rc=0; as_nobody "" -- $A status >/dev/null 2>"$TMP/err" || rc=$?
	assert_eq "$rc" 1 "status as nobody, records readable: exit code"
	grep -q "cannot enter network namespace '$ns': Operation not permitted (it takes CAP_SYS_ADMIN" "$TMP/err" ||
		fail "status as nobody, records readable: $(cat "$TMP/err")"
	# ... and with CAP_SYS_ADMIN the pin root (under 0700 /sys/fs/bpf) is
	rc=0; out=$(as_nobody +sys_admin -- $A stats --prometheus 2>"$TMP/err") || rc=$?
	assert_eq "$rc" 1 "stats --prometheus with CAP_SYS_ADMIN only: exit code"
	[ -z "$out" ] || fail "stats --prometheus with CAP_SYS_ADMIN only printed: $(head -3 <<<"$out")"
	grep -q "^accelctl: stats: cannot read the pin root $PIN: Permission denied" "$TMP/err" ||
		fail "stats with CAP_SYS_ADMIN only: $(cat "$TMP/err")"
	# The capabilities the fix names are enough (access(2) would not be).
	out=$(as_nobody +dac_override,+sys_admin -- $A status)
	grep -q '^attached:  tcpstate since' <<<"$out" || fail "status with the named capabilities: $out"
	grep -q '^accel_feature_attached{feature="tcpstate"} 1$' \
		<<<"$(as_nobody +dac_override,+sys_admin -- $A stats --prometheus)" ||
		fail "stats --prometheus with the named capabilities does not see tcpstate"
	pass
}

# `status` exits so that scripts can test it: 3 when nothing is attached,
# 0 when something is, 1 when it cannot tell (no rights, an unreadable
# instance record); it prints the same in every case it can answer.
test_status_exit_codes() {
	local ns rc out c
	for c in status "status --json"; do
		rc=0; out=$($A $c 2>&1) || rc=$?
		assert_eq "$rc" 3 "'$c' with nothing attached: exit code"
		grep -qE '^attached: +no$|"attached": false' <<<"$out" || fail "'$c' with nothing attached: $out"
	done
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate 2>/dev/null
	for c in status "status --json"; do
		rc=0; out=$($A $c 2>&1) || rc=$?
		assert_eq "$rc" 0 "'$c' with tcpstate attached: exit code"
		grep -qE '^attached: +tcpstate since|"attached": true' <<<"$out" || fail "'$c' attached: $out"
		rc=0; as_nobody "" -- $A $c >/dev/null 2>&1 || rc=$?
		assert_eq "$rc" 1 "'$c' as nobody: exit code"
	done
	cp "$STATE/instance" "$TMP/instance"
	echo "abi=2x" >>"$STATE/instance"
	rc=0; out=$($A status 2>"$TMP/err") || rc=$?
	assert_eq "$rc" 1 "status on an unreadable instance record: exit code"
	grep -q '^instance: *unreadable record' <<<"$out" || fail "status does not show the unreadable record: $out"
	grep -q 'detach --force' "$TMP/err" || fail "status does not name the fix: $(cat "$TMP/err")"
	cp "$TMP/instance" "$STATE/instance"
	$A detach >/dev/null 2>&1
	rc=0; $A status >/dev/null || rc=$?
	assert_eq "$rc" 3 "status after detach: exit code"
	pass
}

# --netns by netns file and by PID, as for containers: a namespace that
# `ip netns` does not know, held by a process (unshare --net), addressed as
# /proc/PID/ns/net, pid:PID and a bind mount of it; commands report that
# namespace (its inode, as readlink shows it) and count in it.
ns_of_differs() { [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }

test_netns_by_path_and_pid() {
	local pid ino s out rc n=5 nsfile="$TMP/nsfile" transitions
	unshare --net -- sleep 600 </dev/null >/dev/null 2>&1 &
	pid=$!
	defer "kill $pid"
	wait_until 5 ns_of_differs "$pid" || fail "unshare --net: process $pid not in a new namespace"
	ino=$(readlink "/proc/$pid/ns/net")
	ino=${ino#net:[}
	ino=${ino%]}
	nsenter --net="/proc/$pid/ns/net" ip link set lo up
	: >"$nsfile"
	mount --bind "/proc/$pid/ns/net" "$nsfile"
	defer "umount $nsfile"

	for s in "/proc/$pid/ns/net" "pid:$pid" "$nsfile"; do
		assert_eq "$($A --netns "$s" status --json | json_get 'd["netns_ino"]')" "$ino" "status --netns $s: netns_ino"
	done
	[ "$($A status --json | json_get 'd["netns_ino"]')" != "$ino" ] || fail "status without --netns in the held namespace"

	# Attached by pid: later commands use it, and count in it.
	$A --netns "pid:$pid" attach --features tcpstate 2>/dev/null
	out=$($A status)
	grep -qxF "netns:     pid:$pid (net:[$ino])" <<<"$out" || fail "status does not name the namespace: $out"
	assert_eq "$($A status --json | json_get 'd["netns"]')" "pid:$pid" "status --json netns"
	nsenter --net="/proc/$pid/ns/net" "$TOOLS/tcp_churn" -n $n >/dev/null
	transitions=$($A stats --json | json_get \
		'[s["value"] for s in d["metrics"]["accel_tcp_state_transitions_total"]["samples"] if s["labels"]=={"family":"inet","state":"syn_sent"}][0]')
	assert_eq "$transitions" "$n" "syn_sent transitions in the namespace of pid:$pid"
	$A detach >/dev/null

	# Never a netns file: bad usage (exit 2), with the reason.
	for s in "pid:abc" "pid:0" "pid:0x10" "relative/net" "/etc/hostname" "/proc/$pid/ns/mnt"; do
		rc=0; out=$($A --netns "$s" status 2>&1) || rc=$?
		assert_eq "$rc" 2 "--netns '$s' exit code"
		grep -qE "not pid:PID|relative path|is not a network namespace file" <<<"$out" ||
			fail "--netns '$s': $out"
	done
	# Not there (now): failure (exit 1), as for a missing name.
	for s in "pid:2147483647" "/nonexistent/$T_ID"; do
		rc=0; out=$($A --netns "$s" status 2>&1) || rc=$?
		assert_eq "$rc" 1 "--netns '$s' exit code"
		grep -q "not found" <<<"$out" || fail "--netns '$s': $out"
	done
	pass
}

# Every place that promises what detach does says what the code does
# (docs/bypass.md "Detach and restart"): bounded, releases idle
# connections, keeps unread bytes as a draining generation.
test_detach_promises_match_the_code() {
	local rc f out
	# the old promise: detach waits until connections drain
	out=$(grep -rnE 'waits? (for )?(bypassed|accelerated) connections to drain|TimeoutStopSec=120|grace period 150' \
		"$top/README.md" "$top/docs" "$top/scripts/systemd" "$top/user" || true)
	[ -z "$out" ] || fail "stale detach promises: $out"
	out=$($ACCELCTL detach --help)
	grep -q -- '--timeout SECONDS' <<<"$out" || fail "detach --help lacks --timeout: $out"
	grep -q 'draining generation' <<<"$out" || fail "detach --help does not say what it keeps: $out"
	for f in "$top/docs/accelctl.8" "$top/docs/bypass.md" "$top/README.md"; do
		grep -q 'bypass-draining-' "$f" || fail "$f does not name the draining generation"
	done
	grep -q 'timeout' "$top/docs/accelctl.8" || fail "man page lacks --timeout"
	grep -q 'releases what a detach kept' "$top/scripts/systemd/accelctl-serve.service" ||
		fail "serve unit does not say it reaps"
	# the stop bound covers detach's: timeout (5 s) plus the work
	f=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$top/scripts/systemd/accelctl.service")
	[ -n "$f" ] && [ "$f" -ge 15 ] || fail "TimeoutStopSec '$f' shorter than detach's bound"
	f=$(sed -n 's/^ *terminationGracePeriodSeconds: *\([0-9]*\)$/\1/p' "$top/docs/deploy/accelctl-daemonset.yaml")
	[ -n "$f" ] && [ "$f" -ge 15 ] || fail "terminationGracePeriodSeconds '$f' shorter than detach's bound"
	for bad in 601 -1 x 1s; do
		rc=0; $A detach --timeout "$bad" 2>/dev/null || rc=$?
		assert_eq "$rc" 2 "detach --timeout $bad exit code"
	done
	rc=0; $A attach --timeout 1 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "attach --timeout exit code"
	pass
}

test_make_install_honours_prefix_and_destdir() {
	local dest="$TMP/dest"
	make -C "$top" --no-print-directory -s OUT="${OUT:-$top/build}" install DESTDIR="$dest" PREFIX=/opt/accel
	[ -x "$dest/opt/accel/sbin/accelctl" ] || fail "binary not installed under DESTDIR/PREFIX"
	grep -q '^accelctl ' <<<"$("$dest/opt/accel/sbin/accelctl" version)" || fail "installed binary does not run"
	[ -z "$(find "$dest" -path "$dest/opt" -prune -o -type f -print)" ] || fail "files outside PREFIX"
	grep -q '^ExecStart=/opt/accel/sbin/accelctl attach' "$dest/opt/accel/lib/systemd/system/accelctl.service" ||
		fail "installed unit does not run the installed binary"
	# the example profile is installed and is a valid profile
	"$dest/opt/accel/sbin/accelctl" profile check "$dest/opt/accel/share/accelctl/profiles/example.ini" >/dev/null ||
		fail "installed example profile: $("$dest/opt/accel/sbin/accelctl" profile check "$dest/opt/accel/share/accelctl/profiles/example.ini" 2>&1)"
	make -C "$top" --no-print-directory -s OUT="${OUT:-$top/build}" uninstall DESTDIR="$dest" PREFIX=/opt/accel
	[ -z "$(find "$dest" -type f)" ] || fail "uninstall left: $(find "$dest" -type f | tr '\n' ' ')"
	pass
}

run_tests
