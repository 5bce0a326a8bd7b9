#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What a scrape of `accelctl serve` costs: latency (p50/p99 over N
# keep-alive requests) and CPU time of the serve process per scrape, with
# nothing attached and with every feature this build can attach (in a
# private network namespace and cgroup, private pin root; all removed at
# the end).  Also the cost of one `accelctl stats --prometheus` run.
#
# Usage: scripts/bench-scrape.sh [SCRAPES]      (default 2000; needs root)
#   OUT=build   where accelctl was built
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/build}
N=${1:-2000}
id="accel-bench-scrape-$$"
pin="/sys/fs/bpf/$id"
tmp=$(mktemp -d "/tmp/$id.XXXXXX")
A="$OUT/accelctl --pin-root $pin --state-dir $tmp/state"
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
serve_pid=

cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	$A detach --force >/dev/null 2>&1 || true
	ip netns del "$id" 2>/dev/null || true
	[ -n "$cg2" ] && rmdir "$cg2/$id" 2>/dev/null || true
	rm -rf "$tmp" "$pin"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "bench-scrape: needs root" >&2; exit 1; }

# serve's CPU (user + system) in seconds, from /proc/PID/stat.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.6f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

measure() {	# label
	local log="$tmp/serve.log" addr c0 c1
	$A serve --listen 127.0.0.1:0 2>"$log" &
	serve_pid=$!
	for _ in $(seq 100); do grep -q '^serving' "$log" && break; sleep 0.05; done
	addr=$(sed -n 's|^serving http://\(.*\)/metrics .*|\1|p' "$log")
	c0=$(cpu_of "$serve_pid")
	python3 - "$addr" "$N" "$1" "$c0" "$serve_pid" <<'PY'
import http.client, os, sys, time
addr, n, label, c0, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
host, port = addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=10)
lat, size, collect = [], 0, []
for i in range(n):
    t = time.perf_counter()
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    body = r.read()
    lat.append(time.perf_counter() - t)
    assert r.status == 200
    size = len(body)
    for line in body.split(b"\n"):
        if line.startswith(b"accel_exporter_collect_duration_seconds "):
            collect.append(float(line.split()[1]))
hz = os.sysconf("SC_CLK_TCK")
st = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
c1 = (int(st[11]) + int(st[12])) / hz
lat.sort()
collect.sort()
pct = lambda a, p: a[min(len(a) - 1, int(len(a) * p))]
print("%-22s %6d scrapes  %6d bytes  latency p50 %6.3f ms  p99 %6.3f ms  "
      "collect p50 %6.3f ms  serve CPU %6.3f ms/scrape"
      % (label, n, size, pct(lat, .5) * 1e3, pct(lat, .99) * 1e3,
         pct(collect, .5) * 1e3, (c1 - c0) / n * 1e3))
PY
	kill "$serve_pid"
	wait "$serve_pid" 2>/dev/null || true
	serve_pid=
}

echo "accelctl serve scrape cost ($(nproc) CPUs, kernel $(uname -r))"
measure "nothing attached"

ip netns add "$id"
ip -n "$id" link set lo up
mkdir -p "$cg2/$id"
$A --netns "$id" attach --cgroup "$cg2/$id" --no-tune >"$tmp/attach.log" 2>&1 ||
	{ cat "$tmp/attach.log" >&2; exit 1; }
feats=$($A status --json | python3 -c 'import json,sys; d=json.load(sys.stdin)
print(",".join(k for k, v in d["features"].items() if v["attached"]))')
# some traffic so that every map has entries
ip netns exec "$id" "$OUT/tests/tools/tcp_churn" -n 200 >/dev/null 2>&1 || true
measure "attached: $feats"

t0=$(date +%s%N)
for _ in $(seq 100); do $A stats --prometheus >/dev/null; done
t1=$(date +%s%N)
printf '%-22s %6d runs     %.3f ms per run (process start, collect, render)\n' \
	"stats --prometheus" 100 "$(echo "($t1 - $t0) / 100 / 1000000" | bc -l)"
