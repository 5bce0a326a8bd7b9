#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# doctor: provoke each condition in a private network namespace (a
# listener that never accepts, a SYN burst with syncookies off, TIME_WAIT
# churn in a narrowed port range and past tcp_max_tw_buckets, fragments
# with the reassembly limits lowered) and require the finding with the
# kernel's own numbers (nstat: /proc/net/netstat and snmp; ss; sockstat)
# as its evidence and the right fix; a quiet namespace must have no
# finding at all.  Nothing is attached: doctor reads the kernel's
# counters only.  Sysctls are set inside the test namespaces only.
source "$(dirname "$0")/lib.sh"

# `accelctl doctor --json` in netns $1 (more options after it) into
# $TMP/doctor.json; fails unless it exits 0 with valid JSON.
doctor_json() {
	local ns=$1 rc=0
	shift
	$A --netns "$ns" doctor --json "$@" >"$TMP/doctor.json" 2>"$TMP/doctor.err" || rc=$?
	[ "$rc" -eq 0 ] || fail "doctor --json $* exited $rc: $(cat "$TMP/doctor.err")"
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$TMP/doctor.json" ||
		fail "doctor --json is not JSON: $(cat "$TMP/doctor.json")"
}

# doctor_json NS while the kernel's counter NAME holds still (doctor's
# count is the kernel's at one moment: retry while one lands in between);
# the counter's value in STABLE.
doctor_json_stable() {
	local ns=$1 name=$2 k0 k1 i
	for ((i = 0; i < 20; i++)); do
		k0=$(kstat "$ns" "$name")
		doctor_json "$ns"
		k1=$(kstat "$ns" "$name")
		[ "$k0" = "$k1" ] && { STABLE=$k0; return 0; }
		sleep 0.05
	done
	fail "$name kept moving ($k0 -> $k1)"
}

test_doctor_accept_queue_overflow_names_listener() {
	local ns port=7301 lpid cpid cfd k0 q
	ns=$(netns_new)
	lq_start "$ns" listen -a 127.0.0.1 -p $port -b 4
	lpid=$LQ_PID
	lq_start "$ns" listen -a 127.0.0.1 -p $((port + 1)) -b 4	# never hit: must not be named
	lq_start "$ns" connect -a 127.0.0.1 -p $port -n 50
	cpid=$LQ_PID cfd=$LQ_FD
	# 5 fit (full is more than the backlog), every other SYN overflows
	wait_until 10 bash -c "[ \$(ip netns exec $ns nstat -asz TcpExtListenOverflows | awk '{print \$2}') -ge 45 ]" ||
		fail "the accept queue did not overflow: TcpExtListenOverflows $(kstat "$ns" TcpExtListenOverflows)"
	exec {cfd}>&-			# the clients close: no more SYNs
	wait "$cpid" || true
	doctor_json_stable "$ns" TcpExtListenOverflows
	k0=$STABLE
	q=$(ip netns exec "$ns" ss -Hltn "sport = :$port" | awk '{ print $2 "/" $3 }')
	python3 - "$TMP/doctor.json" "$port" "$lpid" "$k0" "$(kstat "$ns" TcpExtListenDrops)" "$q" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
port, pid, ovf, drops = (int(x) for x in sys.argv[2:6])
qlen, qmax = (int(x) for x in sys.argv[6].split("/"))
f = [x for x in d["findings"] if x["id"] == "accept-queue-overflow"]
assert len(f) == 1, f"one accept-queue finding, got {d['findings']}"
f = f[0]
assert f["severity"] == "warning", f
assert f["scope"] == "namespace", f
assert f["subject"] == f"listener 127.0.0.1:{port}", f["subject"]
ep = f["endpoint"]
assert ep == {"role": "listener", "address": "127.0.0.1", "port": port, "pid": pid, "comm": "tcp_lq"}, ep
v = f["evidence"]["values"]
assert v["ListenOverflows"] == ovf, (v, ovf)
assert v["ListenDrops"] == drops, (v, drops)
assert (v["accept_queue_len"], v["accept_queue_max"]) == (qlen, qmax) == (5, 4), (v, qlen, qmax)
assert f["evidence"]["interval_s"] is None and d["counters"] == "since-creation", d
assert f"TcpExtListenOverflows +{ovf}" in f["evidence"]["text"], f["evidence"]
fixes = " | ".join(x["text"] for x in f["fix"])
assert f"listen(..., 4) in pid {pid} (tcp_lq) caps the accept queue below net.core.somaxconn" in fixes, fixes
assert not any(x.get("sysctl") == "net.core.somaxconn" for x in f["fix"]), f["fix"]
assert f["doc"] == "docs/doctor.md#accept-queue-overflow", f["doc"]
assert d["summary"]["warning"] >= 1, d["summary"]
assert not any(str(port + 1) in x["subject"] for x in d["findings"]), d["findings"]
EOF
		fail "doctor --json: $(cat "$TMP/doctor.json")"
	# the text rendering says the same
	grep -q "^WARNING  accept-queue-overflow: listener 127.0.0.1:$port" <<<"$($A --netns "$ns" doctor)" ||
		fail "doctor text lacks the finding: $($A --netns "$ns" doctor)"
	pass
}

test_doctor_accept_queue_exact_with_tcpstate() {
	local ns port=7311 cpid cfd exact
	ns=$(netns_new)
	$A --netns "$ns" attach --features tcpstate >/dev/null
	defer "$A detach"
	lq_start "$ns" listen -a 127.0.0.1 -p $port -b 4
	lq_start "$ns" connect -a 127.0.0.1 -p $port -n 50
	cpid=$LQ_PID cfd=$LQ_FD
	wait_until 10 bash -c "[ \$(ip netns exec $ns nstat -asz TcpExtListenOverflows | awk '{print \$2}') -ge 45 ]" ||
		fail "the accept queue did not overflow: TcpExtListenOverflows $(kstat "$ns" TcpExtListenOverflows)"
	exec {cfd}>&-
	wait "$cpid" || true
	doctor_json_stable "$ns" TcpExtListenOverflows
	exact=$($A --netns "$ns" stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [x for x in d["metrics"]["accel_tcp_accept_queue_overflows_total"]["samples"]
     if x["labels"] == {"listener": sys.argv[1]}]
print(int(s[0]["value"]) if s else 0)' "127.0.0.1:$port")
	[ "$exact" -ge 1 ] || fail "tcpstate counted no overflow for 127.0.0.1:$port"
	python3 - "$TMP/doctor.json" "$port" "$exact" <<'EOF' || fail "doctor --json: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1])); port, exact = int(sys.argv[2]), int(sys.argv[3])
f = [x for x in d["findings"] if x["id"] == "accept-queue-overflow"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["subject"] == f"listener 127.0.0.1:{port}", f
assert "exact (tcpstate)" in f["evidence"]["text"], f["evidence"]
assert f["evidence"]["values"]["accept_queue_overflows"] == exact, (f["evidence"], exact)
c = {x["check"]: x["detail"] for x in d["checked"]}
assert "exact (tcpstate)" in c["accept-queue-overflow"], c
EOF
	pass
}

test_doctor_syn_queue_overflow_without_syncookies() {
	local ns port=7201 lpid qfull drops i ok=0
	ns=$(netns_new)
	netns_blackhole_peer "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.tcp_max_syn_backlog=128
	lq_start "$ns" listen -a 198.51.100.1 -p $port -b 8	# request queue full at 8
	lpid=$LQ_PID
	ip netns exec "$ns" "$LQ" syn -s 198.51.100.2 -a 198.51.100.1 -p $port -n 30 -P 20000 >/dev/null
	# every SYN handled: queued (ss syn-recv) or dropped (ListenDrops)
	wait_until 5 bash -c "[ \$(( \$(ip netns exec $ns nstat -asz TcpExtListenDrops | awk '{print \$2}') + \
		\$(ip netns exec $ns ss -Htn state syn-recv src 198.51.100.1:$port | wc -l) )) -eq 30 ]" ||
		fail "SYNs not all handled: ListenDrops $(kstat "$ns" TcpExtListenDrops)"
	for ((i = 0; i < 20; i++)); do
		qfull=$(kstat "$ns" TcpExtTCPReqQFullDrop)
		doctor_json "$ns"
		[ "$qfull" = "$(kstat "$ns" TcpExtTCPReqQFullDrop)" ] && { ok=1; break; }
	done
	[ $ok = 1 ] || fail "TcpExtTCPReqQFullDrop kept moving"
	[ "$qfull" -gt 0 ] || fail "no TCPReqQFullDrop: the burst did not fill the SYN queue"
	drops=$(kstat "$ns" TcpExtListenDrops)
	python3 - "$TMP/doctor.json" "$port" "$lpid" "$qfull" "$drops" \
		"$(ip netns exec "$ns" ss -Htn state syn-recv src 198.51.100.1:$port | wc -l)" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
port, pid, qfull, drops, synq = (int(x) for x in sys.argv[2:7])
f = [x for x in d["findings"] if x["id"] == "syn-queue-overflow"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["severity"] == "warning", f		# the queue is full now
assert f["subject"] == f"listener 198.51.100.1:{port}", f["subject"]
assert f["endpoint"]["port"] == port and f["endpoint"]["pid"] == pid, f["endpoint"]
v = f["evidence"]["values"]
assert v["TCPReqQFullDrop"] == qfull, (v, qfull)
assert v["syn_drops"] == drops, (v, drops)		# no accept-queue overflow here
# the backlog, or one more where the kernel checks the SYN queue as the accept queue (> limit)
assert v["syn_queue_len"] == synq and synq in (8, 9), (v, synq)
fix = [x for x in f["fix"] if x.get("sysctl") == "net.ipv4.tcp_syncookies"]
assert fix and fix[0]["value"] == "1" and fix[0]["current"] == "0", f["fix"]
assert "syncookies were off" in f["cause"], f["cause"]
assert not [x for x in d["findings"] if x["id"] in ("accept-queue-overflow", "syncookies-sent")], d["findings"]
EOF
		fail "doctor --json: $(cat "$TMP/doctor.json")"
	pass
}

test_doctor_ephemeral_port_pressure() {
	local ns tw
	ns=$(netns_new)
	# 20 ports: tcp_churn's listener takes one, its 18 clients leave 18 in TIME_WAIT
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="40000 40019" net.ipv4.tcp_tw_reuse=0
	ip netns exec "$ns" "$TOOLS/tcp_churn" -n 18 >/dev/null
	wait_until 5 bash -c "[ \$(ip netns exec $ns ss -Htan state time-wait | wc -l) -eq 18 ]" ||
		fail "TIME_WAIT sockets: $(ip netns exec "$ns" ss -Htan state time-wait | wc -l), expected 18"
	tw=$(ip netns exec "$ns" awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' /proc/net/sockstat)
	assert_eq "$tw" 18 "sockstat tw"
	doctor_json "$ns"
	python3 - "$TMP/doctor.json" "$(ip netns exec "$ns" ss -Htan state time-wait | awk '{ print $4 }' | sort | uniq -c)" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
(n, dest), = [l.split() for l in sys.argv[2].strip().splitlines()]	# one destination
f = [x for x in d["findings"] if x["id"] == "ephemeral-ports"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["severity"] == "critical", f			# 18 of 20 ports: 90 %
assert f["subject"] == f"destination {dest}", (f["subject"], dest)
assert f"{f['endpoint']['address']}:{f['endpoint']['port']}" == dest, f["endpoint"]
v = f["evidence"]["values"]
assert (v["sockets"], v["time_wait"], v["range_size"], v["used_pct"]) == (int(n), int(n), 20, 90), v
fx = {x.get("sysctl"): x for x in f["fix"]}
assert fx["net.ipv4.tcp_tw_reuse"]["value"] == "1" and fx["net.ipv4.tcp_tw_reuse"]["current"] == "0", f["fix"]
assert fx["net.ipv4.ip_local_port_range"]["value"] == "16384 65535", f["fix"]
assert fx["net.ipv4.ip_local_port_range"]["current"].split() == ["40000", "40019"], f["fix"]
assert any("keep connections to " + dest + " open" in x["text"] for x in f["fix"]), f["fix"]
assert len(d["findings"]) == 1, d["findings"]
EOF
		fail "doctor --json: $(cat "$TMP/doctor.json")"
	pass
}

test_doctor_timewait_overflow() {
	local ns tw ovf
	ns=$(netns_new)
	# room for 5 TIME_WAIT sockets: 15 of tcp_churn's 20 closes go without
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_tw_buckets=5
	ip netns exec "$ns" "$TOOLS/tcp_churn" -n 20 >/dev/null
	wait_until 5 bash -c "[ \$(ip netns exec $ns nstat -asz TcpExtTCPTimeWaitOverflow | awk '{print \$2}') -eq 15 ]" ||
		fail "TcpExtTCPTimeWaitOverflow $(kstat "$ns" TcpExtTCPTimeWaitOverflow), expected 15"
	tw=$(ip netns exec "$ns" awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' /proc/net/sockstat)
	assert_eq "$tw" 5 "sockstat tw at tcp_max_tw_buckets"
	doctor_json "$ns"
	ovf=$(kstat "$ns" TcpExtTCPTimeWaitOverflow)
	python3 - "$TMP/doctor.json" "$ovf" "$tw" <<'EOF2' || fail "doctor --json: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
ovf, tw = int(sys.argv[2]), int(sys.argv[3])
f = [x for x in d["findings"] if x["id"] == "timewait-overflow"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["severity"] == "warning", f			# at the limit now
v = f["evidence"]["values"]
assert (v["TCPTimeWaitOverflow"], v["time_wait"], v["max_tw_buckets"]) == (ovf, tw, 5), v
fx = [x for x in f["fix"] if x.get("sysctl") == "net.ipv4.tcp_max_tw_buckets"]
assert fx and fx[0]["value"] == "65536" and fx[0]["current"] == "5", f["fix"]
assert f["doc"] == "docs/doctor.md#timewait-overflow", f
assert len(d["findings"]) == 1, d["findings"]
EOF2
	pass
}

# Fragments on lo (MTU 1280) with reassembly memory of 1 byte and a 1 s
# timeout: the first fragment of a datagram is queued, the other two are
# refused (memory above ipfrag_high_thresh), and the queue times out.
# doctor --since 4 sees it happen between its samples.
test_doctor_fragment_reassembly_timeout_and_fail() {
	local ns pid t0 f0 r0 t1 f1 rc=0
	ns=$(netns_new)
	ip -n "$ns" link set lo mtu 1280
	ip netns exec "$ns" sysctl -qw net.ipv4.ipfrag_low_thresh=0 net.ipv4.ipfrag_high_thresh=1 \
		net.ipv4.ipfrag_time=1
	t0=$(kstat "$ns" IpReasmTimeout) f0=$(kstat "$ns" IpReasmFails) r0=$(kstat "$ns" IpReasmReqds)
	$A --netns "$ns" doctor --json --since 4 >"$TMP/doctor.json" 2>"$TMP/doctor.err" &
	pid=$!
	defer "kill $pid"
	wait_until 5 grep -q "first sample taken" "$TMP/doctor.err" || fail "doctor: $(cat "$TMP/doctor.err")"
	# one 3000-byte UDP datagram, fragmented locally (IP_PMTUDISC_DONT)
	ip netns exec "$ns" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)
s.sendto(b"x" * 3000, ("127.0.0.1", 9))'
	wait_until 3 bash -c "[ \$(ip netns exec $ns nstat -asz IpReasmTimeout | awk '{print \$2}') -gt $t0 ]" ||
		fail "no reassembly timeout: IpReasmTimeout $(kstat "$ns" IpReasmTimeout)"
	wait "$pid" || rc=$?
	assert_eq "$rc" 0 "doctor --since 4 exit status"
	t1=$(kstat "$ns" IpReasmTimeout) f1=$(kstat "$ns" IpReasmFails)
	assert_eq "$((t1 - t0)) $((f1 - f0))" "1 3" "IpReasmTimeout, IpReasmFails deltas"
	python3 - "$TMP/doctor.json" "$((t1 - t0))" "$((f1 - f0))" "$(( $(kstat "$ns" IpReasmReqds) - r0 ))" <<'EOF2' ||
import json, sys
d = json.load(open(sys.argv[1]))
tmo, fails, reqds = (int(x) for x in sys.argv[2:5])
assert d["counters"] == "interval" and 4 <= d["interval_s"] < 5, d
f = {x["id"]: x for x in d["findings"] if x["scope"] == "namespace"}
assert set(f) == {"frag-reasm-timeout", "frag-reasm-fail"}, d["findings"]
t, x = f["frag-reasm-timeout"], f["frag-reasm-fail"]
assert t["severity"] == x["severity"] == "warning", (t, x)	# grew over the interval
assert t["evidence"]["values"] == {"IpReasmTimeout": tmo, "IpReasmFails": fails, "IpReasmReqds": reqds}, t
assert "over 4 s" in t["evidence"]["text"], t["evidence"]
tf = {y.get("sysctl"): y for y in t["fix"]}
assert tf["net.ipv4.ipfrag_time"]["value"] == "30" and tf["net.ipv4.ipfrag_time"]["current"] == "1", t["fix"]
v = x["evidence"]["values"]
assert (v["IpReasmFails"], v["not_timeout"]) == (fails, fails - tmo), v
xf = {y.get("sysctl"): y for y in x["fix"]}
h = xf["net.ipv4.ipfrag_high_thresh"]
assert h["value"] == "4194304" and h["current"] == "1", x["fix"]
EOF2
		fail "doctor --json --since 4: $(cat "$TMP/doctor.json")"
	# one sample later: the same counts, nothing shows them now: info
	doctor_json "$ns"
	python3 - "$TMP/doctor.json" <<'EOF2' || fail "doctor --json: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
sev = {x["id"]: x["severity"] for x in d["findings"]}
assert sev == {"frag-reasm-timeout": "info", "frag-reasm-fail": "info"}, d["findings"]
EOF2
	pass
}

# No false positives: ordinary traffic, listeners with room, TIME_WAIT far
# below the port range.  With --since, the host-wide softnet counters may
# move with whatever else the host does: only the namespace's findings
# must be absent then.
# 20 connections whose server closes them with the client's request
# unread: 20 resets (TCPAbortOnClose), told as info with the kernel's
# counts and the application fix.
test_doctor_resets_sent_on_close_with_unread_data() {
	local ns
	ns=$(netns_new)
	ip netns exec "$ns" python3 - <<'EOF' || fail "reset provoker failed"
import select, socket
srv = socket.socket(); srv.bind(("127.0.0.1", 7501)); srv.listen(32)
for _ in range(20):
    c = socket.create_connection(("127.0.0.1", 7501)); c.sendall(b"x" * 1000)
    a, _ = srv.accept()
    select.select([a], [], [], 5)      # the request is there, unread
    a.close()                          # -> RST, not FIN
    c.close()
EOF
	doctor_json "$ns"
	python3 - "$TMP/doctor.json" "$(kstat "$ns" TcpExtTCPAbortOnClose)" "$(kstat "$ns" TcpOutRsts)" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
onclose, rsts = int(sys.argv[2]), int(sys.argv[3])
assert onclose == 20, f"the kernel counted {onclose} resets on close, not 20"
f = [x for x in d["findings"] if x["id"] == "resets-sent"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["subject"] == "reason close-unread" and f["severity"] == "info", f
v = f["evidence"]["values"]
assert v["TCPAbortOnClose"] == onclose and v["OutRsts"] == rsts, (v, onclose, rsts)
assert any("lingering close" in x["text"] for x in f["fix"]), f["fix"]
assert f["doc"] == "docs/doctor.md#resets-sent", f["doc"]
EOF
		fail "doctor --json: $(cat "$TMP/doctor.json")"
	pass
}

# A process with 180 of its 200 descriptors open: a warning naming it,
# with the count /proc/PID/fd shows and the limit's fix.
test_doctor_process_near_fd_limit() {
	local ns fifo out pid fds hold
	ns=$(netns_new)
	fifo=$TMP/fdhog.in out=$TMP/fdhog.out
	mkfifo "$fifo"
	ip netns exec "$ns" python3 -c '
import os, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(180 - 4)]
print("ready", os.getpid(), flush=True)
sys.stdin.read()' <"$fifo" >"$out" 2>&1 &
	pid=$!
	exec {hold}>"$fifo"
	defer "kill $pid"
	wait_until 5 grep -q '^ready' "$out" || fail "fd hog: $(cat "$out")"
	pid=$(awk '{ print $2 }' "$out")
	doctor_json "$ns"
	fds=$(ls /proc/"$pid"/fd | wc -l)
	python3 - "$TMP/doctor.json" "$pid" "$fds" <<'EOF' || fail "doctor --json: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
pid, fds = int(sys.argv[2]), int(sys.argv[3])
f = [x for x in d["findings"] if x["id"] == "fd-limit"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["subject"] == f"pid {pid} (python3)", f
assert f["severity"] == ("critical" if fds * 100 >= 200 * 95 else "warning"), (f, fds)
assert f["evidence"]["values"] == {"fds": fds, "soft_limit": 200}, (f["evidence"], fds)
assert any("LimitNOFILE=800" in x["text"] for x in f["fix"]), f["fix"]
assert f["doc"] == "docs/doctor.md#fd-limit", f["doc"]
EOF
	exec {hold}>&-
	pass
}

# --profile-out: the timewait-overflow fix as a raise-only setting under
# its finding; the file passes `profile check`, a --dry-run changes
# nothing, attach applies it and detach restores the namespace's value.
test_doctor_profile_out_attaches_and_detaches() {
	local ns out
	ns=$(netns_new)
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_tw_buckets=5
	ip netns exec "$ns" "$TOOLS/tcp_churn" -n 20 >/dev/null
	wait_until 5 bash -c "[ \$(ip netns exec $ns nstat -asz TcpExtTCPTimeWaitOverflow | awk '{print \$2}') -ge 1 ]" ||
		fail "no TIME_WAIT overflow"
	out=$($A --netns "$ns" doctor --profile-out "$TMP/doctor.ini" 2>&1 >/dev/null) || fail "doctor --profile-out: $out"
	grep -q "doctor.ini: 1 sysctl setting " <<<"$out" || fail "doctor did not say what it wrote: $out"
	grep -B5 '^net.ipv4.tcp_max_tw_buckets = >=65536$' "$TMP/doctor.ini" | grep -q '^; timewait-overflow (warning): namespace$' ||
		fail "profile: $(cat "$TMP/doctor.ini")"
	grep -q '^;   now:      net.ipv4.tcp_max_tw_buckets = 5$' "$TMP/doctor.ini" || fail "profile: $(cat "$TMP/doctor.ini")"
	$A profile check "$TMP/doctor.ini" >/dev/null 2>&1 || fail "profile check: $($A profile check "$TMP/doctor.ini" 2>&1)"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/doctor.ini" --dry-run 2>&1) || fail "dry-run: $out"
	grep -q 'net.ipv4.tcp_max_tw_buckets.*5.*65536' <<<"$out" || fail "dry-run does not show the change: $out"
	assert_eq "$(ip netns exec "$ns" sysctl -n net.ipv4.tcp_max_tw_buckets)" 5 "after --dry-run"
	out=$($A --netns "$ns" attach --features tune --config "$TMP/doctor.ini" 2>&1) || fail "attach: $out"
	assert_eq "$(ip netns exec "$ns" sysctl -n net.ipv4.tcp_max_tw_buckets)" 65536 "after attach"
	out=$($A --netns "$ns" detach 2>&1) || fail "detach: $out"
	assert_eq "$(ip netns exec "$ns" sysctl -n net.ipv4.tcp_max_tw_buckets)" 5 "after detach"
	# an unwritable place: exit 1, nothing written
	out=$($A --netns "$ns" doctor --profile-out /proc/accelctl-no/x.ini 2>&1 >/dev/null) && fail "wrote to /proc: $out"
	grep -q "cannot write /proc/accelctl-no/x.ini" <<<"$out" || fail "no reason given: $out"
	pass
}

# With the bypass attached (learning, in a private cgroup): one listener
# under --event-ports is accelerated, one under --exclude-ports and one
# still learning are named with why and what to do.
test_doctor_bypass_servers() {
	local ns cg
	ns=$(netns_new)
	cg=$(cgroup_new)
	$A --netns "$ns" attach --features bypass --cgroup "$cg" --event-ports 7601 --exclude-ports 7602 \
		>"$TMP/attach.out" 2>&1 || fail "attach: $(cat "$TMP/attach.out")"
	defer "$A detach"
	lq_start "$ns" listen -a 127.0.0.1 -p 7601 -b 16
	lq_start "$ns" listen -a 127.0.0.1 -p 7602 -b 16
	lq_start "$ns" listen -a 127.0.0.1 -p 7603 -b 16
	doctor_json "$ns"
	python3 - "$TMP/doctor.json" "$(grep -c 'learning' "$TMP/attach.out")" <<'EOF' || fail "doctor --json: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
learning = int(sys.argv[2]) > 0
c = [x for x in d["checked"] if x["check"] == "bypass-servers"]
assert c and "3 listening ports: 1 accelerated (7601), 2 on the stack" in c[0]["detail"], d["checked"]
f = {x["subject"]: x for x in d["findings"] if x["id"] == "bypass-servers"}
assert set(f) == {"listener 127.0.0.1:7602", "listener 127.0.0.1:7603"}, f
assert "--exclude-ports lists it" in f["listener 127.0.0.1:7602"]["cause"], f
l = f["listener 127.0.0.1:7603"]
if learning:
    assert l["evidence"]["values"] == {"connections_seen": 0, "connections_needed": 8}, l["evidence"]
    assert "learning" in l["cause"], l
else:
    assert "learning is off" in l["cause"], l
assert all(x["severity"] == "info" and x["endpoint"]["comm"] == "tcp_lq" for x in f.values()), f
EOF
	pass
}

# SYNs from a peer whose SYN-ACKs are black-holed: the kernel retransmits
# each SYN-ACK (1 s, then 3 s after the SYN); doctor reports them with the
# kernel's count and the half-open sockets as a warning.
test_doctor_syn_retransmits() {
	local ns port=7211 n=4
	ns=$(netns_new)
	netns_blackhole_peer "$ns"
	lq_start "$ns" listen -a 198.51.100.1 -p $port -b 64
	ip netns exec "$ns" "$LQ" syn -s 198.51.100.2 -a 198.51.100.1 -p $port -n $n -P 21000 >/dev/null
	wait_until 10 bash -c "[ \$(ip netns exec $ns nstat -asz TcpExtTCPSynRetrans | awk '{print \$2}') -ge $((2 * n)) ]" ||
		fail "SYN-ACKs not retransmitted: TcpExtTCPSynRetrans $(kstat "$ns" TcpExtTCPSynRetrans)"
	doctor_json_stable "$ns" TcpExtTCPSynRetrans
	python3 - "$TMP/doctor.json" "$STABLE" "$(ip netns exec "$ns" ss -Htn state syn-recv | wc -l)" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
k, synrecv = int(sys.argv[2]), int(sys.argv[3])
f = [x for x in d["findings"] if x["id"] == "syn-retransmits"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["severity"] == "warning", f				# half-open now
assert f["evidence"]["values"] == {"TCPSynRetrans": k, "syn_recv": synrecv} and synrecv > 0, (f["evidence"], k, synrecv)
assert any("tcp_synack_retries from 5 to 2" in x["text"] for x in f["fix"]), f["fix"]
assert f["doc"] == "docs/doctor.md#syn-retransmits", f["doc"]
EOF
		fail "doctor --json: $(cat "$TMP/doctor.json")"
	pass
}

test_doctor_pmtu_narrowed_path() {
	local h1 r h2 s ptb
	h1=$(netns_new h1); r=$(netns_new r); h2=$(netns_new h2)
	s=$(printf 'dr%04x' $((RANDOM % 65536)))
	pmtu_path "$h1" "$r" "$h2" "$s"
	udp "$h1" 10.78.2.1 1400 8 probe
	udp "$h1" fd78:2::1 1400 8 probe
	wait_until 5 bash -c "[ \$(ip netns exec $h1 nstat -asz Icmp6InPktTooBigs | awk '\$1 == \"Icmp6InPktTooBigs\" { print \$2 }') -ge 1 ]" ||
		fail "h1 received no Packet Too Big"
	# without netacct: the kernel's ICMPv6 counter, for the namespace
	doctor_json_stable "$h1" Icmp6InPktTooBigs
	ptb=$STABLE
	python3 - "$TMP/doctor.json" "$ptb" "${s}h1" <<'EOF' || fail "doctor --json (kernel counters): $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1])); ptb = int(sys.argv[2]); dev = sys.argv[3]
f = [x for x in d["findings"] if x["id"] == "pmtu-narrowed"]
assert len(f) == 1, d["findings"]
f = f[0]
assert f["subject"] == "namespace" and f["severity"] == "info", f
assert f["evidence"]["values"]["Icmp6InPktTooBigs"] == ptb, (f, ptb)
assert "coarse" in f["evidence"]["text"], f
assert any("--features netacct" in x["text"] for x in f["fix"]), f["fix"]
assert f["doc"] == "docs/doctor.md#pmtu-narrowed", f
c = {x["check"]: x["detail"] for x in d["checked"]}
assert "netacct not attached" in c["pmtu"], c
# a veth has no rings, no hardware queues, no IRQs: nothing to check, nothing found
for k in ("nic-ring-drops", "rx-queues", "irq-spread"):
    assert c[k].startswith("nothing to check") and dev + " (veth)" in c[k], (k, c[k])
assert [x for x in d["findings"] if x["id"] != "pmtu-narrowed"] == [], d["findings"]
EOF
	# with netacct on h1's interface: exact, per interface, the advertised MTU
	$A --netns "$h1" attach --features netacct --iface "${s}h1"
	defer "$A detach"
	udp "$h1" 10.78.2.1 1400 8 probe
	udp "$h1" fd78:2::1 1400 8 probe
	wait_until 5 bash -c "$A --netns $h1 doctor --json 2>/dev/null | grep -q '\"subject\": \"interface ${s}h1\"'" ||
		fail "no per-interface finding: $($A --netns "$h1" doctor)"
	doctor_json "$h1"
	python3 - "$TMP/doctor.json" "${s}h1" <<'EOF' || fail "doctor --json (netacct): $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1])); dev = sys.argv[2]
f = [x for x in d["findings"] if x["id"] == "pmtu-narrowed"]
assert len(f) == 1, d["findings"]
f = f[0]
v = f["evidence"]["values"]
assert f["subject"] == "interface " + dev, f
assert "(exact)" in f["evidence"]["text"], f
assert v["advertised_mtu_le"] == 1280 and v["interface_mtu"] == 1500, v
assert 1 <= v["pmtu_below_mtu"] <= v["pmtu_messages"], v
c = {x["check"]: x["detail"] for x in d["checked"]}
assert "netacct on 1 interface(s), exact" in c["pmtu"], c
assert not [x for x in d["findings"] if x["id"] == "pmtu-blackhole"], d["findings"]
EOF
	# the far end saw nothing too big: no PMTU finding there
	doctor_json "$h2"
	python3 - "$TMP/doctor.json" <<'EOF' || fail "doctor --json h2: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert not [x for x in d["findings"] if x["id"].startswith("pmtu")], d["findings"]
EOF
	pass
}

test_doctor_quiet_namespace_has_no_findings() {
	local ns out
	ns=$(netns_new)
	lq_start "$ns" listen -a 127.0.0.1 -p 7401 -b 128
	ip netns exec "$ns" "$TOOLS/tcp_churn" -n 20 >/dev/null
	lq_start "$ns" connect -a 127.0.0.1 -p 7401 -n 10
	doctor_json "$ns"
	python3 - "$TMP/doctor.json" <<'EOF' || fail "doctor --json: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["findings"] == [], d["findings"]
assert d["summary"] == {"critical": 0, "warning": 0, "info": 0}, d["summary"]
checked = {c["check"] for c in d["checked"]}
for c in ("ephemeral-ports", "timewait-overflow", "accept-queue-overflow", "syn-queue-overflow", "syncookies-sent",
	  "frag-reasm-timeout", "frag-reasm-fail", "frag6-reasm-timeout", "frag6-reasm-fail"):
	assert c in checked, (c, d["checked"])
nc = {c["check"]: c["reason"] for c in d["not_checked"]}
assert set(nc) == {"softnet-drops", "softnet-squeeze"}, nc
assert all("--since" in r for r in nc.values()), nc
EOF
	out=$($A --netns "$ns" doctor)
	grep -q "^no findings$" <<<"$out" || fail "doctor text: $out"
	doctor_json "$ns" --since 1
	python3 - "$TMP/doctor.json" <<'EOF' || fail "doctor --json --since 1: $(cat "$TMP/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["counters"] == "interval" and 1 <= d["interval_s"] < 2, d
assert [f for f in d["findings"] if f["scope"] != "host"] == [], d["findings"]
assert {"softnet-drops", "softnet-squeeze"} <= {c["check"] for c in d["checked"]}, d["checked"]
assert d["not_checked"] == [], d["not_checked"]
EOF
	grep -q "first sample taken" "$TMP/doctor.err" || fail "--since did not say it sampled twice"
	pass
}

test_doctor_bad_usage_exits_2() {
	local rc
	for args in "--since 0" "--since 3601" "--since x" "--bogus" "extra"; do
		rc=0
		# shellcheck disable=SC2086
		$A doctor $args >/dev/null 2>&1 || rc=$?
		assert_eq "$rc" 2 "doctor $args"
	done
	pass
}

run_tests
