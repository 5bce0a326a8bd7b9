#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# check: what accelctl says this host supports, held against what the
# host really does (an attach of the features it calls available, the
# bypass self-test, the kernel's BTF, the program a real netacct attach
# leaves on an interface), and with a feature made unavailable for real
# (/proc/sys read-only in a private mount namespace; no capabilities).
# check itself must change nothing: no mount, no scratch directory, no
# program left behind.
source "$(dirname "$0")/lib.sh"

# check_json [WRAPPER...]: `accelctl check --json` into $TMP/check.json;
# its exit status in CHECK_RC.
check_json() {
	CHECK_RC=0
	"$@" $A check --json >"$TMP/check.json" 2>"$TMP/check.err" || CHECK_RC=$?
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$TMP/check.json" ||
		fail "check --json is not JSON: $(cat "$TMP/check.json" "$TMP/check.err")"
}

# field of $TMP/check.json: a Python expression over d
jq_() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$TMP/check.json" "$1"; }

# programs of the kinds check's XDP probe loads (netacct's, libxdp's)
xdp_progs() { bpftool prog show | grep -cE 'name (netacct_xdp|xdp_dispatcher|xdp_pass) ' || true; }

# check: NAME -> "True detail" or "False detail"
row_of() { jq_ "[(c['ok'], c['detail']) for c in d['checks'] if c['name'] == '$1'][0]"; }

# The mounts check could leave: bpffs, cgroup2, anything under /tmp.
# (Not the whole table: other programs' netns and overlay mounts come and
# go while the test runs.)
our_mounts() { awk '$3 == "bpf" || $3 == "cgroup2" || $2 ~ /^\/tmp\//' /proc/self/mounts | sort; }

test_check_matches_what_the_host_does() {
	local mounts0 progs0 avail want got out NS CG id name
	mounts0=$(our_mounts)
	progs0=$(xdp_progs)
	check_json
	assert_eq "$CHECK_RC" 0 "exit status on this host"
	assert_eq "$(jq_ "d['attach_would_succeed']")" True "attach_would_succeed"
	# nothing changed: mounts, leftover scratch dirs, programs
	assert_eq "$(our_mounts)" "$mounts0" "bpf, cgroup2 and scratch mounts after check"
	[ -z "$(ls -d /tmp/accelctl-check.* 2>/dev/null)" ] || fail "check left $(ls -d /tmp/accelctl-check.*)"
	assert_eq "$(xdp_progs)" "$progs0" "XDP programs loaded after check"
	# learning's tracepoint: as the kernel's BTF has it or not
	bpftool btf dump file /sys/kernel/btf/vmlinux >"$TMP/btf.txt"
	if grep -q "TYPEDEF 'btf_trace_sock_recv_length'" "$TMP/btf.txt"; then
		want=True; else want=False; fi
	assert_eq "$(jq_ "[c['ok'] for c in d['checks'] if c['name'] == 'bypass_learning'][0]")" "$want" "bypass_learning"
	# the self-test's verdicts: those of `bypass selftest`
	out=$($A bypass selftest --json | python3 -c 'import json, sys; print(sorted((p["name"], p["verdict"]) for p in json.load(sys.stdin)["probes"]))')
	assert_eq "$(jq_ "sorted((p['name'], p['verdict']) for p in d['bypass_selftest'])")" "$out" "self-test verdicts"
	# the features it calls available are what an attach attaches
	avail=$(jq_ "','.join(d['features_available'])")
	[ -n "$avail" ] || fail "no feature available: $(cat "$TMP/check.json")"
	NS=$(netns_new)
	CG=$(cgroup_new)
	ip -n "$NS" link set lo up
	$A --netns "$NS" attach --features "$avail" --cgroup "$CG" --iface lo --ingress xdp >"$TMP/attach.out" 2>&1 ||
		fail "attach --features $avail: $(cat "$TMP/attach.out")"
	got=$($A status --json | python3 -c 'import json, sys; print(",".join(f for f, v in json.load(sys.stdin)["features"].items() if v.get("attached")))' 2>/dev/null ||
		$A status | sed -n 's/^attached: *\([a-z, ]*\) since.*/\1/p' | tr -d ' ')
	for f in ${avail//,/ }; do
		grep -qw "$f" <<<"$got" || fail "check says $f is available, attach did not attach it: $got"
	done
	# XDP: the program on lo is libxdp's dispatcher exactly when check
	# says the dispatcher works
	if grep -qw netacct <<<"$avail"; then
		id=$(ip -n "$NS" -d link show dev lo | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n 1)
		[ -n "$id" ] || fail "no XDP program on lo after attach: $(ip -n "$NS" -d link show dev lo)"
		name=$(bpftool prog show id "$id" | sed -n 's/.*name \([^ ]*\).*/\1/p')
		want=exclusive; [ "$name" = xdp_dispatcher ] && want=dispatcher
		assert_eq "$(jq_ "d['xdp_mode']")" "$want" "xdp_mode (the program on lo is $name)"
	fi
	$A detach >/dev/null 2>&1 || fail "detach"
	# the text form says the same
	$A check >"$TMP/check.txt" || fail "check (text) exited $?"
	grep -q '^attach: would succeed' "$TMP/check.txt" || fail "check text: $(cat "$TMP/check.txt")"
	grep -qE '^xdp +ok' "$TMP/check.txt" || fail "check text: $(cat "$TMP/check.txt")"
	pass
}

# /proc/sys read-only (a private mount namespace): tune is unavailable,
# with the reason; the rest still is, and attach would still succeed.
test_check_with_tune_unavailable() {
	local r
	command -v unshare >/dev/null || skip "no unshare(1)"
	CHECK_RC=0
	unshare -m --propagation private sh -c 'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys &&
		exec "$@"' sh $A check --json >"$TMP/check.json" 2>"$TMP/check.err" || CHECK_RC=$?
	assert_eq "$CHECK_RC" 0 "exit status with tune unavailable"
	r=$(row_of tune)
	[[ "$r" == "(False, '/proc/sys/net/core/somaxconn is not writable"* ]] || fail "tune row: $r"
	grep -qw tune <<<"$(jq_ "d['features_available']")" && fail "tune listed as available"
	grep -qw tcpstate <<<"$(jq_ "d['features_available']")" || fail "tcpstate not available: $(cat "$TMP/check.json")"
	pass
}

# No capabilities at all: nothing can be attached; check says so, exit 1.
test_check_without_capabilities() {
	local out rc=0
	out=$(setpriv --bounding-set=-all --inh-caps=-all $A check 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit status without capabilities"
	grep -qE '^bpf +no .*bpf\(2\) system call is not usable' <<<"$out" || fail "bpf row: $out"
	grep -q '^attach: would fail' <<<"$out" || fail "verdict: $out"
	pass
}

run_tests
