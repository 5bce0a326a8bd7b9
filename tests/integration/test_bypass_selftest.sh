#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The bypass's kernel self-test (user/bypass_selftest.c): each probe's
# verdict agrees with what the matching A/B conformance scenario observes
# on this kernel with the bypass attached; attach names every affected
# behaviour; status records them; the self-test leaves nothing behind.
source "$(dirname "$0")/lib.sh"

CONFORM=$TOOLS/bypass_conform
STREAM=$TOOLS/bypass_stream
EVENT_PORT=47100

in_ns() { ip netns exec "$NS" "$@"; }
# field of bypass_stream's summary line: field NAME < output
field() { awk -v f="$1" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'; }

# verdict NAME < `bypass selftest --json`
verdict() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
print({p["name"]: p["verdict"] for p in d["probes"]}[sys.argv[1]])' "$1"
}

# metric NAME -> value of an unlabelled counter
metric() {
	$A stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(int(d["metrics"][sys.argv[1]]["samples"][0]["value"]))' "$1"
}

# Clear / set bits of bypass_config.flags in the pinned config map.
config_flags() {
	local v
	v=$(bpftool -j map lookup pinned "$PIN/bypass/bypass_config" key 0 0 0 0 | python3 -c '
import json, sys
v = [int(x, 16) for x in json.load(sys.stdin)["value"]]
op, bits = sys.argv[1], int(sys.argv[2])
v[4] = v[4] & ~bits if op == "clear" else v[4] | bits	# flags: bytes 4-7, little endian
print(" ".join(str(x) for x in v))' "$1" "$2")
	bpftool map update pinned "$PIN/bypass/bypass_config" key 0 0 0 0 value $v
}
config_flags_clear() { config_flags clear "$1"; }
config_flags_set() { config_flags set "$1"; }

# Run scenario $1 with the bypass attached; fail unless sockets entered
# the sockhash and bytes took the bypass: otherwise the comparison would
# prove nothing.
bypass_run() {
	local sc=$1 s0 m0
	s0=$(metric accel_bypass_inserted_total)
	m0=$(metric accel_bypass_messages_total)
	in_ns "$CONFORM" -p $EVENT_PORT "$sc" >"$TMP/bypass.$sc" || fail "$sc: $(cat "$TMP/bypass.$sc")"
	[ "$(metric accel_bypass_inserted_total)" -gt "$s0" ] || fail "$sc: no socket entered the sockhash"
	[ "$(metric accel_bypass_messages_total)" -gt "$m0" ] || fail "$sc: nothing was redirected"
	cat "$TMP/bypass.$sc"
}

test_bypass_selftest_agrees_with_conformance() {
	local st plain bypass want name v affected=() line json
	NS=$(netns_new)
	CG=$(cgroup_new)
	cgroup_enter "$CG"
	# in the test's namespace, before anything is attached
	$A --netns "$NS" bypass selftest --json >"$TMP/st.json" || fail "selftest: $(cat "$TMP/st.json")"
	st=$(cat "$TMP/st.json")
	for name in blocking_eagain close_unread_fin splice_misses; do
		v=$(verdict $name <<<"$st")
		case "$v" in
		affected) affected+=("$name") ;;
		ok) ;;
		*) fail "$name: verdict '$v'" ;;
		esac
	done
	echo "    affected: ${affected[*]:-none}"
	for sc in close_unread splice_read; do
		in_ns "$CONFORM" -p $EVENT_PORT $sc >"$TMP/plain.$sc" || fail "plain $sc: $(cat "$TMP/plain.$sc")"
	done
	# The scenarios' server port is an --event-ports port: on an affected
	# kernel that is where the operator accepts close_unread_fin and
	# splice_misses.
	$A attach --features bypass --cgroup "$CG" --event-ports $EVENT_PORT >"$TMP/attach.out" 2>&1 ||
		fail "attach: $(cat "$TMP/attach.out")"

	# close_unread_fin <-> close_unread: EOF instead of ECONNRESET
	grep -q 'client read -> Connection reset by peer' "$TMP/plain.close_unread" ||
		fail "close_unread plain: $(cat "$TMP/plain.close_unread")"
	bypass=$(bypass_run close_unread)
	if [ "$(verdict close_unread_fin <<<"$st")" = affected ]; then
		grep -q 'client read -> EOF' <<<"$bypass" || fail "close_unread_fin affected, but: $bypass"
	else
		assert_eq "$bypass" "$(cat "$TMP/plain.close_unread")" "close_unread_fin ok: close_unread"
	fi

	# splice_misses <-> splice_read: splice() sees none of the bytes
	grep -q 'spliced 4096 bytes' "$TMP/plain.splice_read" || fail "splice_read plain: $(cat "$TMP/plain.splice_read")"
	bypass=$(bypass_run splice_read)
	if [ "$(verdict splice_misses <<<"$st")" = affected ]; then
		grep -q 'spliced 0 bytes' <<<"$bypass" || fail "splice_misses affected, but: $bypass"
	else
		assert_eq "$bypass" "$(cat "$TMP/plain.splice_read")" "splice_misses ok: splice_read"
	fi

	# blocking_eagain <-> bypass_stream -B (blocking sockets, a reader and
	# a writer thread on each): restricted mode keeps blocking sockets out
	# of the sockhash, so this runs as the bypass would without it: the
	# test clears the flag in the pinned config (what attach does on a
	# kernel that passes).  On an affected kernel some reader threads get
	# EAGAIN; they never may on a correct one.
	config_flags_clear 1
	local m0 i
	for i in 1 2 3; do	# a race per connection: 3-5 of 20 lose it here
		m0=$(metric accel_bypass_messages_total)
		bypass=$(in_ns "$STREAM" -B -p 48100 -n 20 -P 2 -S 200000 2>&1) || true
		[ "$(metric accel_bypass_messages_total)" -gt "$m0" ] || fail "bypass_stream -B: nothing redirected"
		[ "$(verdict blocking_eagain <<<"$st")" = affected ] || break
		grep -q 'read: Resource temporarily unavailable' <<<"$bypass" && break
	done
	if [ "$(verdict blocking_eagain <<<"$st")" = affected ]; then
		grep -q 'read: Resource temporarily unavailable' <<<"$bypass" ||
			fail "blocking_eagain affected, but bypass_stream -B saw no EAGAIN in 3 runs: $bypass"
	else
		assert_eq "$(field errors <<<"$bypass")" 0 "blocking_eagain ok: bypass_stream -B errors ($bypass)"
	fi
	assert_eq "$(field mismatches <<<"$bypass")" 0 "bypass_stream -B mismatches"
	config_flags_set 1

	# attach names each affected behaviour on its own line, then the rule
	for name in blocking_eagain close_unread_fin splice_misses; do
		if [[ " ${affected[*]} " == *" $name "* ]]; then
			grep -q "^bypass:   $name: " "$TMP/attach.out" ||
				fail "attach does not name $name: $(cat "$TMP/attach.out")"
		else
			! grep -q "$name: " "$TMP/attach.out" || fail "attach names $name, which is ok here"
		fi
	done
	if [ ${#affected[@]} -gt 0 ]; then
		# learning is the default: attach says how a port is learned
		grep -q '^bypass: learning: connections to a listening port stay on the stack' "$TMP/attach.out" ||
			fail "attach does not say what it accelerates: $(cat "$TMP/attach.out")"
		if [[ " ${affected[*]} " == *" splice_misses "* ]]; then
			grep -q 'an event-driven port (learned or --event-ports) accepts .*splice_misses' "$TMP/attach.out" ||
				fail "attach does not say what --event-ports accepts: $(cat "$TMP/attach.out")"
		fi
	fi

	# status shows what attach recorded
	json=$($A status --json)
	want=$(python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["affected"]))' <"$TMP/st.json")
	assert_eq "$(python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["features"]["bypass"]["kernel_affected"]))' <<<"$json")" \
		"$want" "status --json kernel_affected"
	assert_eq "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["features"]["bypass"]["kernel_unchecked"]))' <<<"$json")" \
		0 "status --json kernel_unchecked"
	if [ ${#affected[@]} -gt 0 ]; then
		line=$($A status | grep 'sockmap differs from TCP') || fail "status: $($A status)"
		for name in "${affected[@]}"; do
			grep -q "$name" <<<"$line" || fail "status does not list $name: $line"
		done
	fi
	pass
}

# ids of the self-test's BPF objects above id $2 ("map" or "prog" in $1)
probe_objects() {
	bpftool -j "$1" show | python3 -c '
import json, sys
names = {"accel_selftest", "probe_socks", "bypass_p.bss", "probe_sk_msg"}
print(" ".join(str(o["id"]) for o in json.load(sys.stdin)
               if o["id"] > int(sys.argv[1]) and o.get("name") in names))' "$2"
}
max_id() { bpftool -j "$1" show | python3 -c 'import json,sys; print(max([o["id"] for o in json.load(sys.stdin)] or [0]))'; }
no_probe_objects() { [ -z "$(probe_objects map "$1")$(probe_objects prog "$2")" ]; }
no_sockets() { [ -z "$(in_ns ss -Htan state all exclude time-wait)" ]; }

test_bypass_selftest_leaves_nothing_behind() {
	local maps progs out rc=0 t0 t1
	NS=$(netns_new)
	maps=$(max_id map)
	progs=$(max_id prog)
	t0=$(date +%s%N)
	out=$($A --netns "$NS" bypass selftest) || fail "selftest: $out"
	t1=$(date +%s%N)
	echo "    accelctl bypass selftest: $(((t1 - t0) / 1000000)) ms (process included)"
	assert_eq "$(grep -cE '^(blocking_eagain|close_unread_fin|splice_misses): (ok|affected): ' <<<"$out")" 3 \
		"selftest lines: $out"
	# maps are freed asynchronously after the last fd closes
	wait_until 5 no_probe_objects "$maps" "$progs" ||
		fail "left behind: maps $(probe_objects map "$maps"), progs $(probe_objects prog "$progs")"
	wait_until 5 no_sockets || fail "sockets left: $(in_ns ss -Htan state all)"
	[ ! -e "$PIN" ] || fail "the self-test pinned something: $(ls -R "$PIN")"
	# port lists belong to `bypass policy`; --json only to selftest
	$A bypass selftest --ports 80 >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 2 "selftest with a port list"
	rc=0
	$A bypass on --json >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 2 "bypass on --json"
	pass
}

run_tests
