# SPDX-License-Identifier: GPL-2.0-only
#
# Integration test library.  A test file sources this, defines functions
# named test_*, and ends with `run_tests`.  Each test runs in its own
# subshell with `set -eE -o pipefail`; it passes only if it reaches `pass`.
# So test output with `grep -q PATTERN <<<"$(cmd)"`, not `cmd | grep -q`:
# grep -q exits at the first match, and a cmd that writes again after that
# (bpftool does, ~1 run in 70) dies of SIGPIPE and fails the pipeline.
# Everything a test creates is registered with `defer` and undone in
# reverse order in an EXIT trap, also when the test fails.
#
# Per test: $T_ID (unique name), $PIN (private pin root), $STATE (private
# state dir), $A (accelctl with those), $TMP (scratch dir).
# Helpers: netns_new, cgroup_new, cgroup_enter, assert_eq, fail, skip; veth,
# udp and pmtu_path for traffic between namespaces.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ACCELCTL=${ACCELCTL:-$top/build/accelctl}
TOOLS=${OUT:-$top/build}/tests/tools

# Deferred commands go to a file, not a shell array, so that helpers called
# in a command substitution (ns=$(netns_new)) register their cleanup too.
defer() { printf '%s\n' "$*" >>"$T_DEFER"; }

_cleanup() {
	local cmds=() i
	[ -f "$T_DEFER" ] || return 0
	mapfile -t cmds <"$T_DEFER"
	rm -f "$T_DEFER"
	for ((i = ${#cmds[@]} - 1; i >= 0; i--)); do
		eval "${cmds[$i]}" >/dev/null 2>&1 || true
	done
}

fail() { echo "    error: $*" >&2; exit 1; }
skip() { echo "SKIP:$*" >"$T_MARK"; exit 77; }
pass() { echo PASS >"$T_MARK"; exit 0; }

assert_eq() {	# actual expected what
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# Wait until a command succeeds, up to $1 seconds (polled every 50 ms).
wait_until() {
	local t=$1 i; shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

cg2_mount() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }

# A private network namespace with lo up; echo its name.
# jpath PATH < JSON: the value at a dotted path (.a.b.c), scalars bare
# (true/false/null as JSON spells them), anything else as JSON
# (a key twice in one object fails: every JSON document accelctl writes
# has unique keys, which json.load alone would not check)
PY_JSON_UNIQ='
import json, sys
def _uniq(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            sys.exit("duplicate JSON key %r" % k)
        d[k] = v
    return d
'
jpath() {
	python3 -c "$PY_JSON_UNIQ"'
v = json.load(sys.stdin, object_pairs_hook=_uniq)
for k in sys.argv[1].strip(".").split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

netns_new() {
	local ns="${T_ID}-${1:-ns}"
	ip netns add "$ns"
	defer "ip netns del $ns"
	ip -n "$ns" link set lo up
	# the tests' fixed ports (47000-48999) lie in the ephemeral range: a
	# client's source port could take one before its listener binds it
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_reserved_ports=47000-48999
	echo "$ns"
}

# A private cgroup below the cgroup2 mount; echo its path.
cgroup_new() {
	local root cg
	root=$(cg2_mount)
	[ -n "$root" ] || skip "no cgroup2 mount"
	cg="$root/${T_ID}${1:+-$1}"
	mkdir "$cg"
	defer "cgroup_rm $cg"
	echo "$cg"
}

# Move processes out, then remove.
# Move what is left in the cgroup out and remove it.  A task that is
# exiting (a server the test just killed) still populates it for a moment
# and rmdir says EBUSY: poll until it has gone, up to 5 s.
cgroup_rm() {
	local cg=$1 root p i
	root=$(cg2_mount)
	for ((i = 0; i < 100; i++)); do
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do
			echo "$p" >"$root/cgroup.procs" 2>/dev/null || true
		done
		rmdir "$cg" 2>/dev/null || [ ! -d "$cg" ] && return 0
		sleep 0.05
	done
	rmdir "$cg"
}

# Move this (sub)shell into cgroup $1: its children inherit it.
cgroup_enter() { echo "$BASHPID" >"$1/cgroup.procs"; }

_run_one() {
	local fn=$1
	T_ID="accel-test-$$-${fn#test_}"
	T_ID=${T_ID:0:40}
	PIN="/sys/fs/bpf/$T_ID"
	TMP=$(mktemp -d "/tmp/$T_ID.XXXXXX")
	STATE="$TMP/state"
	A="$ACCELCTL --pin-root $PIN --state-dir $STATE"
	T_MARK="$TMP.mark"
	T_DEFER="$TMP.defer"
	: >"$T_DEFER"
	export T_ID PIN STATE TMP A T_MARK T_DEFER
	(
		set -eE -o pipefail
		trap '_cleanup' EXIT
		defer "rm -rf $TMP"
		# Last resort: whatever the test attached goes away with it.
		defer "$ACCELCTL --pin-root $PIN --state-dir $STATE detach --force"
		defer "rm -rf $PIN"
		"$fn"
	)
	local rc=$? mark
	mark=$(cat "$T_MARK" 2>/dev/null || true)
	rm -f "$T_MARK"
	case "$mark" in
	PASS) echo "PASS $fn" ;;
	SKIP:*) echo "SKIP $fn: ${mark#SKIP:}" ;;
	*) echo "FAIL $fn${rc:+ (exit $rc)}${mark:+ $mark}"
	   [ "$rc" -eq 0 ] && echo "    (returned without reaching pass)" ;;
	esac
}

run_tests() {
	local fn
	if [ "$(id -u)" -ne 0 ]; then
		for fn in $(declare -F | awk '$3 ~ /^test_/ { print $3 }'); do
			echo "SKIP $fn: needs root"
		done
		return 0
	fi
	local ran=0
	for fn in $(declare -F | awk '$3 ~ /^test_/ { print $3 }'); do
		if [ -n "${TESTS:-}" ] && ! grep -qE "$TESTS" <<<"$fn$0"; then continue; fi
		_run_one "$fn"
		ran=1
	done
	if [ "$ran" -eq 1 ]; then _leak_check; fi
}

# After a file's tests: nothing named after them may remain on the host.
# A leak fails the check (and is then removed so the next run starts clean).
_leak_check() {
	local me="accel-test-$$-" left="" cg2 x
	cg2=$(cg2_mount)
	x=$(ip netns list | awk -v p="$me" 'index($1, p) == 1 { print $1 }')
	[ -n "$x" ] && left+=" netns:$(echo $x)" && for n in $x; do ip netns del "$n"; done
	x=$(ls -d /sys/fs/bpf/"$me"* 2>/dev/null)
	[ -n "$x" ] && left+=" pins:$(echo $x)" && rm -rf $x
	x=$([ -n "$cg2" ] && find "$cg2" -maxdepth 2 -type d -name "$me*" 2>/dev/null)
	[ -n "$x" ] && left+=" cgroups:$(echo $x)" && for c in $x; do cgroup_rm "$c"; done
	x=$(ls -d /tmp/"$me"* 2>/dev/null)
	[ -n "$x" ] && left+=" tmp:$(echo $x)" && rm -rf $x
	if [ -n "$left" ]; then
		echo "FAIL leak_check_$(basename "$0" .sh): left behind:$left"
	else
		echo "PASS leak_check_$(basename "$0" .sh)"
	fi
}

# veth NS1 IF1 NS2 IF2 MTU: a veth pair between two namespaces, up.
veth() {
	ip link add "$2" type veth peer name "$4"
	ip link set "$2" netns "$1"
	ip link set "$4" netns "$3"
	ip -n "$1" link set "$2" mtu "$5" up
	ip -n "$3" link set "$4" mtu "$5" up
}

# udp NS DST SIZE COUNT [pmtu]: COUNT datagrams of SIZE bytes to DST port 9;
# to an x.x.x.255 address as broadcast; with "probe", sent with DF at the interface MTU whatever the PMTU cache
# says (IP(V6)_PMTUDISC_PROBE), so every one reaches the bottleneck.
udp() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" "${5:-}" <<'EOF'
import socket, sys
dst, size, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
six = ':' in dst
s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_DGRAM)
if dst.endswith('.255'):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
if mode == 'probe':
    if six:
        s.setsockopt(socket.IPPROTO_IPV6, 23, 3)   # IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE
    else:
        s.setsockopt(socket.IPPROTO_IP, 10, 3)     # IP_MTU_DISCOVER, IP_PMTUDISC_PROBE
for _ in range(count):
    try:
        s.sendto(b'x' * size, (dst, 9))
    except OSError:
        pass
EOF
}

# pmtu_path H1 R H2 STEM: H1 (10.78.1.1, fd78:1::1) -- R -- H2 (10.78.2.1,
# fd78:2::1) over veths STEMh1/STEMr1 (MTU 1500) and STEMr2/STEMh2 (MTU
# 1280): R forwards and answers every packet too big for its 1280 hop
# (ICMP rate limits off) with frag-needed / Packet Too Big.
pmtu_path() {
	local h1=$1 r=$2 h2=$3 s=$4
	veth "$h1" "${s}h1" "$r" "${s}r1" 1500
	veth "$r" "${s}r2" "$h2" "${s}h2" 1280
	ip -n "$h1" addr add 10.78.1.1/24 dev "${s}h1"
	ip -n "$r" addr add 10.78.1.254/24 dev "${s}r1"
	ip -n "$r" addr add 10.78.2.254/24 dev "${s}r2"
	ip -n "$h2" addr add 10.78.2.1/24 dev "${s}h2"
	ip -n "$h1" addr add fd78:1::1/64 dev "${s}h1" nodad
	ip -n "$r" addr add fd78:1::fe/64 dev "${s}r1" nodad
	ip -n "$r" addr add fd78:2::fe/64 dev "${s}r2" nodad
	ip -n "$h2" addr add fd78:2::1/64 dev "${s}h2" nodad
	ip -n "$h1" route add default via 10.78.1.254
	ip -n "$h2" route add default via 10.78.2.254
	ip -n "$h1" -6 route add default via fd78:1::fe
	ip -n "$h2" -6 route add default via fd78:2::fe
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000
}

# For the tests of TCP counters (test_doctor.sh, test_tcpstate.sh).
LQ=$TOOLS/tcp_lq

# Kernel counter NAME (nstat spelling, e.g. TcpExtListenOverflows) in netns $1.
kstat() {
	ip netns exec "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}

# Start `tcp_lq ARGS` in netns $1 in the background, its stdin a pipe we
# hold open (closing it ends the tool, a line on it is a command), and
# wait for its first line.  Sets LQ_PID, LQ_FD, LQ_OUT; the tool ends with
# the test.
lq_start() {
	local ns=$1 out fifo
	shift
	out="$TMP/lq.$RANDOM"
	fifo="$out.in"
	mkfifo "$fifo"
	ip netns exec "$ns" "$LQ" "$@" <"$fifo" >"$out" 2>&1 &
	LQ_PID=$!
	exec {LQ_FD}>"$fifo"
	LQ_OUT=$out
	defer "kill $LQ_PID"
	wait_until 5 grep -qE '^(ready|started)' "$out" || fail "tcp_lq $*: $(cat "$out")"
}

# A netns with an address 198.51.100.1/24 on a veth whose peer drops what
# it gets: SYN-ACKs to 198.51.100.2 leave and never come back.
netns_blackhole_peer() {
	local ns=$1
	ip -n "$ns" link add va type veth peer name vb
	ip -n "$ns" link set va up
	ip -n "$ns" link set vb up
	ip -n "$ns" addr add 198.51.100.1/24 dev va
	ip -n "$ns" neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev va nud permanent
}
