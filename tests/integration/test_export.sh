#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Export and operations: promtool-clean exposition from `stats
# --prometheus` and `serve`, a real Prometheus scraping `serve` and agreeing
# with `stats --json`, serve's behaviour under bad and slow clients and
# across attach/detach, stats --watch, systemd units, man page, completion.
#
# Metric checks follow what is attached: tcpstate must be; bypass, netacct
# and tune are checked when their attach succeeded on this build.
source "$(dirname "$0")/lib.sh"

# Metric that must be exported when a feature is attached (from the stable metric names).
declare -A FEATURE_METRIC=(
	[tcpstate]=accel_tcp_state_transitions_total
	[bypass]=accel_bypass_bytes_total
	[netacct]=accel_netacct_packets_total
	[tune]=accel_tune_applied
)

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Namespace + private cgroup + attach of every feature this build can attach,
# tuning with a profile of per-namespace sysctls only (restored by detach,
# gone with the namespace anyway).  Sets NS and CG.
export_profile() {
	cat >"$TMP/export.ini" <<-EOF
	[sysctl]
	net.ipv4.tcp_fin_timeout = 23
	net.core.somaxconn = 1000
	EOF
}

attach_in_netns() {
	NS=$(netns_new)
	CG=$(cgroup_new)
	export_profile
	$A --netns "$NS" attach --cgroup "$CG" --config "$TMP/export.ini" >"$TMP/attach.log" 2>&1 ||
		fail "attach failed: $(cat "$TMP/attach.log")"
	$A stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin)
s=[x for x in d["metrics"]["accel_feature_attached"]["samples"] if x["labels"]["feature"]=="tcpstate"]
sys.exit(0 if s and s[0]["value"]==1 else 1)' || fail "tcpstate is not attached: $(cat "$TMP/attach.log")"
}

attached_features() {	# from stats --json
	$A stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin)
print(" ".join(x["labels"]["feature"] for x in d["metrics"]["accel_feature_attached"]["samples"] if x["value"]==1))'
}

# N short TCP connections with 4 KiB each, from the private cgroup inside NS.
gen_traffic() {
	( cgroup_enter "$CG"; ip netns exec "$NS" "$TOOLS/tcp_churn" -n "$1" -s 4096 >/dev/null )
}

# Start `accelctl serve` on a kernel-chosen port.  Sets SERVE_PID, SERVE_ADDR.
serve_start() {
	local log="$TMP/serve.$RANDOM.log"
	$A serve -v --listen "${1:-127.0.0.1:0}" 2>"$log" &
	SERVE_PID=$!
	SERVE_LOG=$log
	defer "kill $SERVE_PID"
	wait_until 5 grep -q '^serving http://' "$log" || fail "serve did not start: $(cat "$log")"
	SERVE_ADDR=$(sed -n 's|^serving http://\(.*\)/metrics .*|\1|p' "$log")
	[ -n "$SERVE_ADDR" ] || fail "no address in serve's log: $(cat "$log")"
}

# SIGTERM → exit 0 with a farewell in the log, within 5 s.
serve_stop_clean() {
	local rc=0
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" || rc=$?
	assert_eq "$rc" 0 "serve exit status on SIGTERM"
	grep -q 'stopping after' "$SERVE_LOG" || fail "serve did not log a clean stop: $(tail -3 "$SERVE_LOG")"
}

scrape() {	# path [curl args] → body on stdout; fails unless 200
	local path=$1; shift
	curl -gsS --max-time 5 -f "$@" "http://$SERVE_ADDR$path"
}

# promtool check metrics: exit 0 and not a single line of output.
promtool_clean() {	# file what
	local out rc=0
	out=$(promtool check metrics <"$1" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] || fail "promtool check metrics on $2 (exit $rc): $out"
}

# Every family carries HELP and TYPE, names are documented in docs/metrics.md,
# and each attached feature exports its issue-7 metric.
exposition_contract() {	# file what
	local f fam
	for fam in $(awk '!/^#/ { sub(/[{ ].*/, ""); print }' "$1" | sort -u); do
		f=$fam
		case "$f" in *_bucket|*_sum|*_count) grep -q "^# TYPE ${f%_*} histogram" "$1" && f=${f%_*} ;; esac
		grep -q "^# HELP $f " "$1" || fail "$2: $f has no HELP"
		grep -q "^# TYPE $f " "$1" || fail "$2: $f has no TYPE"
		case "$f" in process_*) continue ;; esac
		grep -q "\`$f\`" "$top/docs/metrics.md" || fail "$2: $f is not documented in docs/metrics.md"
	done
	for f in $(attached_features); do
		[ -n "${FEATURE_METRIC[$f]:-}" ] || continue
		grep -q "^${FEATURE_METRIC[$f]}[{ ]" "$1" || fail "$2: $f is attached but ${FEATURE_METRIC[$f]} is missing"
	done
}

test_export_promtool_clean_stats_and_serve() {
	# Nothing attached: still a valid exposition, every feature at 0.
	$A stats --prometheus >"$TMP/empty.prom"
	promtool_clean "$TMP/empty.prom" "stats --prometheus (nothing attached)"
	grep -q '^accel_feature_attached{feature="tcpstate"} 0$' "$TMP/empty.prom" ||
		fail "accel_feature_attached 0 missing when detached"

	attach_in_netns
	gen_traffic 25
	$A stats --prometheus >"$TMP/stats.prom"
	promtool_clean "$TMP/stats.prom" "stats --prometheus"
	exposition_contract "$TMP/stats.prom" "stats --prometheus"

	serve_start
	scrape /metrics -D "$TMP/headers" >"$TMP/serve.prom"
	grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/headers" ||
		fail "wrong Content-Type: $(cat "$TMP/headers")"
	promtool_clean "$TMP/serve.prom" "/metrics"
	exposition_contract "$TMP/serve.prom" "/metrics"
	grep -q '^accel_exporter_collect_duration_seconds ' "$TMP/serve.prom" || fail "no scrape cost metric"
	# Same model, same text: /metrics = stats --prometheus + serve's own.
	diff <(grep -v -e '^accel_exporter_' -e '^process_' -e '^# .* accel_exporter_' -e '^# .* process_' "$TMP/serve.prom") \
		"$TMP/stats.prom" || fail "/metrics and stats --prometheus disagree"
	serve_stop_clean
	pass
}

# The query side of the end-to-end test: wait for a scrape newer than a
# stats --json snapshot, then require Prometheus' values = the snapshot's,
# sample for sample, with the snapshot unchanged afterwards (traffic frozen).
prom_compare() {	# prometheus-addr min-syn-sent
	python3 - "$1" "$2" <<'PY'
import json, os, shlex, subprocess, sys, time, urllib.parse, urllib.request

prom, min_syn = sys.argv[1], int(sys.argv[2])
stats = shlex.split(os.environ["A"]) + ["stats", "--json"]
required = {"tcpstate": "accel_tcp_state_transitions_total", "bypass": "accel_bypass_bytes_total",
            "netacct": "accel_netacct_packets_total", "tune": "accel_tune_applied"}

def query(q):
    url = "http://%s/api/v1/query?%s" % (prom, urllib.parse.urlencode({"query": q}))
    r = json.load(urllib.request.urlopen(url, timeout=5))
    assert r["status"] == "success", r
    return r["data"]["result"]

def key(name, labels):
    l = dict(labels)
    if "le" in l:
        l["le"] = repr(float(l["le"]))
    return (name, tuple(sorted(l.items())))

def snapshot():
    d = json.loads(subprocess.run(stats, check=True, capture_output=True).stdout)["metrics"]
    want = {}
    for name, fam in d.items():
        for s in fam["samples"]:
            if fam["type"] == "histogram":
                cum = 0
                for b in s["buckets"]:
                    cum += b["count"]
                    want[key(name + "_bucket", dict(s["labels"], le=str(b["le"])))] = cum
                want[key(name + "_count", s["labels"])] = s["count"]
                want[key(name + "_sum", s["labels"])] = s["sum"]
            else:
                want[key(name, s["labels"])] = s["value"]
    return want

why = "no attempt"
for attempt in range(5):
    t0 = time.time()
    a = snapshot()
    deadline = time.time() + 15
    while True:
        r = query('timestamp(accel_build_info{job="accel"})')
        if r and float(r[0]["value"][1]) > t0:
            break
        if time.time() > deadline:
            sys.exit("prometheus did not scrape accelctl serve within 15 s")
        time.sleep(0.1)
    got = {}
    for res in query('{__name__=~"accel_.+", __name__!~"accel_exporter_.+", job="accel"}'):
        m = dict(res["metric"])
        name = m.pop("__name__")
        m.pop("job", None)
        m.pop("instance", None)
        got[key(name, m)] = float(res["value"][1])
    b = snapshot()
    if a != b:
        why = "counters still moving: %s" % sorted(k for k in a if a[k] != b.get(k))[:5]
        continue
    missing = sorted(set(a) - set(got))
    extra = sorted(set(got) - set(a))
    differ = sorted((k, a[k], got[k]) for k in set(a) & set(got) if float(a[k]) != got[k])
    if missing or extra or differ:
        why = "missing in prometheus %s; only in prometheus %s; different %s" % (missing[:5], extra[:5], differ[:5])
        continue
    attached = [dict(k[1])["feature"] for k, v in a.items() if k[0] == "accel_feature_attached" and v == 1]
    if "tcpstate" not in attached:
        sys.exit("tcpstate is not attached")
    for f in attached:
        if f in required and not any(k[0] == required[f] for k in got):
            sys.exit("%s attached, but prometheus has no %s" % (f, required[f]))
    syn = got.get(key("accel_tcp_state_transitions_total", {"family": "inet", "state": "syn_sent"}), 0)
    if syn < min_syn:
        sys.exit("traffic not seen: syn_sent transitions %d < %d" % (syn, min_syn))
    print("equal: %d samples, features %s, syn_sent %d" % (len(a), ",".join(attached), syn))
    sys.exit(0)
sys.exit(why)
PY
}

test_export_prometheus_scrapes_serve_equal_to_stats_json() {
	local port cfg="$TMP/prometheus.yml" before n=40 i
	command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/install-deps.sh test)"
	attach_in_netns
	serve_start
	# Prometheus on a free loopback port; retry if another test took it.
	for i in 1 2 3; do
		port=$(free_port)
		cat >"$cfg" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		scrape_configs:
		  - job_name: accel
		    static_configs:
		      - targets: ['$SERVE_ADDR']
		EOF
		prometheus --config.file="$cfg" --storage.tsdb.path="$TMP/tsdb$i" \
			--web.listen-address="127.0.0.1:$port" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
		PROM_PID=$!
		defer "kill $PROM_PID; wait $PROM_PID"
		wait_until 30 bash -c "curl -sf http://127.0.0.1:$port/-/ready >/dev/null || ! kill -0 $PROM_PID" || true
		kill -0 "$PROM_PID" 2>/dev/null && break
	done
	curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null || fail "prometheus not ready: $(tail -5 "$TMP/prometheus.log")"
	wait_until 20 bash -c "curl -sfG http://127.0.0.1:$port/api/v1/query --data-urlencode 'query=up{job=\"accel\"} == 1' |
		grep -q '\"value\"'" || fail "prometheus never scraped serve: $(tail -5 "$TMP/prometheus.log")"

	before=$($A stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin)
print(int([s["value"] for s in d["metrics"]["accel_tcp_state_transitions_total"]["samples"] if s["labels"]=={"family":"inet","state":"syn_sent"}][0]))')
	gen_traffic $n
	# Traffic has stopped (tcp_churn exited); counters in NS are frozen.
	out=$(A="$A" prom_compare "127.0.0.1:$port" $((before + n))) || fail "prometheus vs stats --json: $out"
	echo "    $out"
	pass
}

# Requests a well-behaved client never sends, slow clients and floods.
http_abuse() {	# addr
	python3 - "$1" <<'PY'
import socket, sys, time

addr = sys.argv[1]
host, port = addr.rsplit(":", 1)
host, port = host.strip("[]"), int(port)

def conn(src=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    return s

def response(s):
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except (socket.timeout, ConnectionResetError):
        pass
    head = data.split(b"\r\n\r\n")[0].decode("latin1").split("\r\n")
    return head[0], [h.lower() for h in head[1:]]

def exchange(raw, src=None):
    s = conn(src)
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = response(s)
    s.close()
    return r

def expect(raw, code, what):
    line, headers = exchange(raw)
    if not line.startswith("HTTP/1.1 %d" % code):
        sys.exit("%s: expected %d, got %r" % (what, code, line))
    return headers

def metrics_ok(what, src=None):
    t = time.time()
    line, _ = exchange(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", src)
    if not line.startswith("HTTP/1.1 200"):
        sys.exit("%s: /metrics answered %r" % (what, line))
    return time.time() - t

def closed_by_server(s, within):
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False

host_hdr = b"Host: t\r\n"
expect(b"GET /nope HTTP/1.1\r\n" + host_hdr + b"\r\n", 404, "unknown path")
expect(b"GET /metrics/../etc/passwd HTTP/1.1\r\n" + host_hdr + b"\r\n", 404, "path traversal")
h = expect(b"POST /metrics HTTP/1.1\r\n" + host_hdr + b"Content-Length: 5\r\n\r\nhello", 405, "POST")
if not any(x.startswith("allow:") and "get" in x for x in h):
    sys.exit("405 without an Allow header: %s" % h)
expect(b"DELETE /healthz HTTP/1.1\r\n" + host_hdr + b"\r\n", 405, "DELETE")
expect(b"GET /metrics HTTP/1.1\r\n" + host_hdr + b"Content-Length: 3\r\n\r\nabc", 400, "GET with a body")
expect(b"GET /metrics HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host")
expect(b"GET /metrics HTTP/1.1\r\n" + host_hdr + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n", 431, "40 KB header")
expect(b"GET /metrics HTTP/1.1\r\n" + host_hdr + b"".join(b"X-%d: 0123456789abcdef\r\n" % i for i in range(3000)) + b"\r\n",
       431, "3000 headers")
expect(b"GET /" + b"m" * 40000 + b" HTTP/1.1\r\n" + host_hdr + b"\r\n", 414, "40 KB URI")
line, _ = exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n")
if line.startswith("HTTP/1.1 2"):
    sys.exit("TLS hello answered %r" % line)
line, _ = exchange(b"GARBAGE\r\n\r\n")
if line.startswith("HTTP/1.1 2"):
    sys.exit("garbage request line answered %r" % line)
metrics_ok("after bad requests")

# Slowloris from 127.0.0.2: 40 half-sent requests.  The per-address limit
# (16) refuses the excess at once; /metrics from another address is served
# meanwhile; the timeout (10 s) closes the rest.
slow = []
for i in range(40):
    s = conn("127.0.0.2")
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    slow.append(s)
time.sleep(0.3)
refused = [s for s in slow if closed_by_server(s, 0.05)]
if len(refused) < 40 - 16:
    sys.exit("per-address limit: only %d of 40 slow connections refused" % len(refused))
dt = metrics_ok("during slowloris")
if dt > 2:
    sys.exit("/metrics took %.1f s during slowloris" % dt)
held = [s for s in slow if s not in refused]
t = time.time()
for s in held:
    if not closed_by_server(s, max(0.1, t + 16 - time.time())):
        sys.exit("a slow client was still connected after %.1f s" % (time.time() - t))
print("slowloris: %d refused at once, %d timed out after %.1f s" % (len(refused), len(held), time.time() - t))
for s in slow:
    s.close()
metrics_ok("after slowloris")

# Flood: 4 addresses x 16 idle connections = the global limit (64).  One
# more is closed at once instead of waiting; after the flood, service is back.
flood = []
for a in ("127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"):
    for i in range(16):
        flood.append(conn(a))
time.sleep(0.3)
extra = conn("127.0.0.7")
extra.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
line, _ = response(extra)
if line.startswith("HTTP/1.1 200"):
    sys.exit("connection limit not applied: 65th connection served")
for s in flood:
    s.close()
extra.close()
deadline = time.time() + 5
while True:
    try:
        metrics_ok("after the flood")
        break
    except SystemExit:
        if time.time() > deadline:
            raise
        time.sleep(0.1)
print("flood: 65th connection refused, service back after the flood")
PY
}

test_export_serve_survives_bad_and_slow_clients() {
	local out
	serve_start
	out=$(http_abuse "$SERVE_ADDR") || fail "$out"
	echo "$out" | sed 's/^/    /'
	kill -0 "$SERVE_PID" || fail "serve died"
	grep -qx ok <<<"$(scrape /healthz)" || fail "/healthz"
	# HEAD: headers of /metrics, no body
	[ "$(curl -gsI --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' "http://$SERVE_ADDR/metrics")" = "200 0" ] ||
		fail "HEAD /metrics"
	grep -qx 200 <<<"$(curl -gs -o /dev/null -w '%{http_code}' "http://$SERVE_ADDR/")" || fail "/ not 200"
	serve_stop_clean
	pass
}

value_of() {	# file metric-with-labels → value
	awk -v m="$2" '$1 == m { print $2 }' "$1"
}

test_export_serve_independent_of_attach() {
	local v json prom
	# Started first, on IPv6 loopback; nothing attached.
	serve_start '[::1]:0'
	case "$SERVE_ADDR" in '[::1]:'*) ;; *) fail "not on [::1]: $SERVE_ADDR" ;; esac
	scrape /metrics >"$TMP/m0"
	assert_eq "$(value_of "$TMP/m0" 'accel_feature_attached{feature="tcpstate"}')" 0 "attached before attach"

	attach_in_netns
	gen_traffic 10
	scrape /metrics >"$TMP/m1"
	assert_eq "$(value_of "$TMP/m1" 'accel_feature_attached{feature="tcpstate"}')" 1 "attached after attach"
	json=$($A stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin)
print(int([s["value"] for s in d["metrics"]["accel_tcp_state_transitions_total"]["samples"] if s["labels"]=={"family":"inet","state":"syn_sent"}][0]))')
	prom=$(value_of "$TMP/m1" 'accel_tcp_state_transitions_total{family="inet",state="syn_sent"}')
	assert_eq "$prom" "$json" "syn_sent: /metrics vs stats --json"
	[ "$json" -ge 10 ] || fail "traffic not counted: $json"

	# Restart serve while attached: same values (nothing is reset).
	serve_stop_clean
	serve_start
	scrape /metrics >"$TMP/m2"
	assert_eq "$(value_of "$TMP/m2" 'accel_tcp_state_transitions_total{family="inet",state="syn_sent"}')" "$json" \
		"syn_sent after a serve restart"

	# The attach's namespace vanishes: 503 (no numbers from the wrong
	# namespace), and service resumes when a namespace of that name is back.
	ip netns del "$NS"
	assert_eq "$(curl -gs -o /dev/null -w '%{http_code}' "http://$SERVE_ADDR/metrics")" 503 "/metrics without the netns"
	grep -q "cannot enter network namespace '$NS'" "$SERVE_LOG" || fail "no log line for the missing netns"
	ip netns add "$NS"
	scrape /metrics >"$TMP/m2b"
	assert_eq "$(value_of "$TMP/m2b" accel_exporter_scrape_errors_total)" 1 "scrape errors after the 503"

	# Detach under a running serve: it keeps serving, features at 0.
	$A detach
	scrape /metrics >"$TMP/m3"
	assert_eq "$(value_of "$TMP/m3" 'accel_feature_attached{feature="tcpstate"}')" 0 "attached after detach"
	grep -q '^accel_tcp_' "$TMP/m3" && fail "tcpstate samples after detach"
	promtool_clean "$TMP/m3" "/metrics after detach"
	# Port taken: a second serve on the same address fails with exit 1.
	local rc=0 err
	err=$($A serve --listen "$SERVE_ADDR" 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit code of serve on a busy port"
	grep -q 'another process has this port' <<<"$err" || fail "busy port message: $err"
	rc=0; $A serve --listen 127.0.0.1 2>/dev/null || rc=$?
	assert_eq "$rc" 2 "exit code of serve with a bad --listen"
	# :PORT is every address, IPv4 and IPv6 on one socket.
	serve_stop_clean
	serve_start ':0'
	local port=${SERVE_ADDR##*:}
	assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" 200 ":PORT over IPv4"
	assert_eq "$(curl -gs -o /dev/null -w '%{http_code}' "http://[::1]:$port/healthz")" 200 ":PORT over IPv6"
	rc=0; err=$($A --netns "$T_ID-missing" serve --listen 127.0.0.1:0 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit code of serve --netns with a missing namespace"
	grep -q 'not found' <<<"$err" || fail "missing netns message: $err"
	serve_stop_clean
	pass
}

# A taken port: serve exits 1 and names the process that holds it, says
# that the old default 9435 is also ebpf_exporter's, and how to pick
# another address.  The holder is a python3 listener in a private netns
# (an IPv6 wildcard socket, which also takes the IPv4 port).
test_export_serve_names_the_port_holder() {
	local ns holder rc=0 err
	ns=$(netns_new)
	ip netns exec "$ns" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 9435)); s.listen()
print("listening", flush=True)
time.sleep(60)' >"$TMP/holder.out" 2>&1 &
	holder=$!
	defer "kill $holder"
	wait_until 10 grep -q listening "$TMP/holder.out" || fail "holder: $(cat "$TMP/holder.out")"
	err=$(timeout 10 ip netns exec "$ns" $A serve --listen 127.0.0.1:9435 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit code of serve on a port python3 holds"
	grep -q "cannot listen on 127.0.0.1:9435: Address already in use (another process has this port: python3, pid $holder)" \
		<<<"$err" || fail "holder not named: $err"
	grep -q "9435 is also cloudflare ebpf_exporter's default port" <<<"$err" || fail "no word about ebpf_exporter: $err"
	grep -q -- '--listen ADDR:PORT' <<<"$err" || fail "no fix: $err"
	grep -q 'ACCELCTL_LISTEN=ADDR:PORT in /etc/default/accelctl' <<<"$err" || fail "no unit fix: $err"
	pass
}

test_export_stats_watch() {
	local lines
	attach_in_netns
	# --watch --json: one JSON document per line, timestamps advancing.
	timeout -s INT 2.6 $A stats --watch 1 --json >"$TMP/watch.jsonl" || true
	lines=$(wc -l <"$TMP/watch.jsonl")
	[ "$lines" -ge 2 ] && [ "$lines" -le 4 ] || fail "--watch 1 --json for 2.6 s gave $lines lines"
	python3 -c 'import json,sys
docs=[json.loads(l) for l in open(sys.argv[1])]
assert all("accel_feature_attached" in d["metrics"] for d in docs)
assert docs[-1]["timestamp"] > docs[0]["timestamp"]' "$TMP/watch.jsonl" || fail "--watch --json lines are not JSON documents"
	# Human --watch (not a tty): frames with rates, no escape codes.
	( sleep 1.2; gen_traffic 20 ) &
	timeout -s INT 3.6 $A stats --watch 1 >"$TMP/watch.txt" || true
	wait
	[ "$(grep -c '^--- ' "$TMP/watch.txt")" -ge 3 ] || fail "--watch frames: $(cat "$TMP/watch.txt")"
	grep -q $'\033' "$TMP/watch.txt" && fail "escape codes written to a pipe"
	grep -q 'syn_sent} .*/s$' "$TMP/watch.txt" || fail "no rates: $(cat "$TMP/watch.txt")"
	grep -Eq 'state=syn_sent} +[0-9]+ +[1-9][0-9.]*/s$' "$TMP/watch.txt" || fail "rate never moved with traffic"
	pass
}

test_export_units_manpage_completion() {
	local root="$TMP/root" u out sec
	make -s -C "$top" install DESTDIR="$root" PREFIX=/usr/local OUT="${OUT:-build}" >/dev/null
	[ -x "$root/usr/local/sbin/accelctl" ] || fail "make install did not install accelctl"
	# The installed units, pointed at the installed binary (systemd-analyze
	# checks that ExecStart exists) and at the installed man page.
	mkdir -p "$TMP/units"
	for u in "$top"/scripts/systemd/*.service; do
		sed "s|/usr/local/sbin/accelctl|$root/usr/local/sbin/accelctl|g" "$u" >"$TMP/units/$(basename "$u")"
	done
	[ -f "$TMP/units/accelctl.service" ] && [ -f "$TMP/units/accelctl-serve.service" ] || fail "units missing"
	out=$(MANPATH="$root/usr/local/share/man" SYSTEMD_LOG_LEVEL=notice \
		systemd-analyze verify "$TMP"/units/*.service 2>&1) || fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
	grep -q '^ExecStop=.* detach $ACCELCTL_STOP_OPTS$' "$top/scripts/systemd/accelctl.service" || fail "no ExecStop=detach"
	grep -q '^Environment="ACCELCTL_STOP_OPTS=--keep-tuning --handover 30"$' "$top/scripts/systemd/accelctl.service" ||
		fail "the unit's stop does not keep the tuning and hand the bypass over"
	grep -q '^RemainAfterExit=yes' "$top/scripts/systemd/accelctl.service" || fail "not RemainAfterExit"

	# man renders without warnings, with the sections an operator needs.
	out=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$top/docs/accelctl.8" 2>&1 >"$TMP/man.txt") ||
		fail "man failed: $out"
	[ -z "$out" ] || fail "man warns: $out"
	for sec in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS OVERHEAD "EXIT STATUS" FILES ENVIRONMENT EXAMPLES "SEE ALSO"; do
		grep -qx "$sec" "$TMP/man.txt" || fail "man page lacks $sec"
	done
	# Every command and option accelctl knows is in the man page.
	for c in $($ACCELCTL help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { on = 0 }'); do
		grep -q "^ *$c\b" "$TMP/man.txt" || fail "man page does not document command $c"
		for o in $($ACCELCTL help "$c" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "$o" "$TMP/man.txt" || fail "man page does not document $o ($c)"
		done
	done

	# bash completion: commands, a command's options, feature names.
	out=$(bash -c '
		source "$1"; PATH="$(dirname "$2"):$PATH"
		complete -p accelctl >/dev/null || exit 1
		fn=$(complete -p accelctl | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		t() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); $fn; echo "${COMPREPLY[*]}"; }
		t accelctl st; t accelctl stats --; t accelctl attach --features ""; t accelctl serve --l
	' _ "$top/scripts/accelctl.bash-completion" "$ACCELCTL")
	sed -n 1p <<<"$out" | grep -qw stats || fail "completion of 'st': $out"
	sed -n 1p <<<"$out" | grep -qw status || fail "completion of 'st': $out"
	sed -n 2p <<<"$out" | grep -qw -- --prometheus || fail "completion of 'stats --': $out"
	sed -n 2p <<<"$out" | grep -qw -- --watch || fail "completion of 'stats --': $out"
	sed -n 3p <<<"$out" | grep -qw bypass || fail "completion of --features: $out"
	sed -n 4p <<<"$out" | grep -qw -- --listen || fail "completion of 'serve --l': $out"
	pass
}

# The stable metric names: the contract dashboards rely on.
ISSUE7_METRICS="accel_bypass_connections_active accel_bypass_connections_total accel_bypass_bytes_total
accel_bypass_messages_total accel_bypass_fallback_total accel_netacct_packets_total
accel_netacct_fragments_total accel_netacct_mtu_exceeded_total accel_netacct_pmtu_messages_total
accel_netacct_pmtu_advertised_mtu_bytes accel_tcp_timewait_sockets accel_tcp_timewait_entries_total
accel_tcp_accept_queue_length accel_tcp_accept_queue_overflows_total accel_tcp_syn_queue_overflows_total
accel_tcp_synack_retransmits_total accel_tune_applied accel_build_info"

# AccelctlFeatureDetached, per feature: bypass attached for 30 min, then
# detached, fires after its 10 min; netacct never attached never fires.
test_export_feature_detached_alert_per_feature() {
	cp "$top/docs/deploy/accelctl-rules.yml" "$TMP/rules.yml"
	cat >"$TMP/rules-test.yml" <<-'YML'
	rule_files: [rules.yml]
	evaluation_interval: 1m
	tests:
	  - interval: 1m
	    input_series:
	      - series: 'accel_feature_attached{instance="h1", job="accelctl", feature="bypass"}'
	        values: '1x30 0x30'
	      - series: 'accel_feature_attached{instance="h1", job="accelctl", feature="netacct"}'
	        values: '0x60'
	      - series: 'up{instance="h1", job="accelctl"}'
	        values: '1x60'
	    alert_rule_test:
	      - eval_time: 35m
	        alertname: AccelctlFeatureDetached
	        exp_alerts: []
	      - eval_time: 45m
	        alertname: AccelctlFeatureDetached
	        exp_alerts:
	          - exp_labels: {severity: warning, instance: h1, job: accelctl, feature: bypass}
	            exp_annotations:
	              summary: "accelctl bypass is no longer attached on h1"
	              description: "accel_feature_attached{feature=\"bypass\"} went from 1 to 0: run `accelctl status`; `systemctl start accelctl` attaches."
	              runbook: "docs/accelctl.8 (status): `accelctl status`, `journalctl -u accelctl`; `accelctl check` says what the host lacks"
	YML
	out=$(cd "$TMP" && promtool test rules rules-test.yml 2>&1) || fail "promtool test rules: $out"
	pass
}

test_export_deploy_files() {
	local d="$top/docs/deploy" out m
	out=$(cd "$d" && promtool check config prometheus-scrape.yml 2>&1) || fail "promtool check config: $out"
	grep -qi warn <<<"$out" && fail "promtool check config warns: $out"
	out=$(promtool check rules "$d/accelctl-rules.yml" 2>&1) || fail "promtool check rules: $out"
	# every alert says where to look and what to run first
	python3 - "$d/accelctl-rules.yml" "$top" <<-'PY' || fail "alert runbooks"
	import os, re, sys
	text = open(sys.argv[1]).read()
	alerts = re.findall(r"- alert: (\w+)((?:\n(?!\s*- (?:alert|record):).*)*)", text)
	assert alerts, "no alerts"
	for name, body in alerts:
	    m = re.search(r'runbook: "([\w./-]+\.(?:md|8))', body)
	    assert m, f"{name} has no runbook annotation naming a doc"
	    doc = m.group(1)
	    assert os.path.exists(os.path.join(sys.argv[2], doc)), f"{name}: runbook names {doc}, which does not exist"
	PY
	# Dashboard: valid JSON, PromQL that parses (promtool, through a rules
	# file), only documented metrics, and every issue-7 metric on a panel.
	python3 - "$d/grafana-dashboard.json" "$TMP/dash-rules.yml" <<-'PY' || fail "dashboard"
	import json, sys
	d = json.load(open(sys.argv[1]))
	exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
	with open(sys.argv[2], "w") as f:
	    f.write("groups:\n  - name: dashboard\n    rules:\n")
	    for i, e in enumerate(exprs):
	        e = e.replace("$__rate_interval", "1m").replace("$instance", ".*")
	        f.write("      - record: dashboard:expr%d\n        expr: %s\n" % (i, json.dumps(e)))
	PY
	out=$(promtool check rules "$TMP/dash-rules.yml" 2>&1) || fail "dashboard PromQL does not parse: $out"
	local used
	# (recording rule names, level:metric:operation, are not metrics)
	used=$(cat "$d/grafana-dashboard.json" "$d/accelctl-rules.yml" | grep -o '[a-z:]*accel_[a-z_:]*[a-z]' |
		grep -v : | sed 's/_bucket$//' | sort -u)
	for m in $used; do
		grep -q "\`$m\`" "$top/docs/metrics.md" || fail "deploy files use $m, not in docs/metrics.md"
	done
	for m in $ISSUE7_METRICS; do
		grep -q "\`$m\`" "$top/docs/metrics.md" || fail "docs/metrics.md lacks $m"
		grep -q "$m" "$d/grafana-dashboard.json" || fail "the dashboard has no panel with $m"
	done
	# DaemonSet: the host resources it needs (docs/deploy/README.md).
	python3 - "$d/accelctl-daemonset.yaml" "$d/accelctl-podmonitor.yaml" <<-'PY' || fail "DaemonSet lacks what it needs (assertion above)"
	import sys
	try:
	    import yaml
	except ImportError:          # Debian's python3 without PyYAML: text checks
	    t = open(sys.argv[1]).read()
	    for want in ("kind: DaemonSet", "hostNetwork: true", "privileged: true", "path: /sys/fs/bpf",
	                 "mountPropagation: Bidirectional", "path: /sys/fs/cgroup", "path: /healthz"):
	        assert want in t, want
	    sys.exit(0)
	docs = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x]
	ds = [x for x in docs if x["kind"] == "DaemonSet"][0]
	spec = ds["spec"]["template"]["spec"]
	assert spec["hostNetwork"] is True
	c = spec["containers"][0]
	assert c["securityContext"]["privileged"] is True
	mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
	assert mounts["/sys/fs/bpf"]["mountPropagation"] == "Bidirectional"
	assert "/sys/fs/cgroup" in mounts and "/run/accelctl" in mounts
	vols = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
	assert vols[mounts["/sys/fs/bpf"]["name"]] == "/sys/fs/bpf"
	assert c["lifecycle"]["preStop"]["exec"]["command"][1:] == ["detach", "--keep-tuning", "--handover", "30"]
	assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
	assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()
	# admitted under Pod Security, no API token, no system-* priority
	# outside kube-system, /metrics on the node address only
	ns = [x for x in docs if x["kind"] == "Namespace"][0]
	assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
	assert ns["metadata"]["name"] == ds["metadata"]["namespace"] != "kube-system"
	assert spec["automountServiceAccountToken"] is False
	pc = [x for x in docs if x["kind"] == "PriorityClass"]
	assert not spec["priorityClassName"].startswith("system-")
	assert [p["metadata"]["name"] for p in pc] == [spec["priorityClassName"]]
	assert pc[0]["preemptionPolicy"] == "Never" and pc[0]["value"] < 1000000000
	env = {e["name"]: e for e in c["env"]}
	assert env["NODE_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
	script = c["args"][0]
	assert 'serve --listen "$addr:7435"' in script and 'addr="$NODE_IP"' in script, script
	assert c["ports"][0]["containerPort"] == 7435
	# the PodMonitor selects the DaemonSet's pods on its metrics port
	pm = [x for x in yaml.safe_load_all(open(sys.argv[2])) if x][0]
	assert pm["kind"] == "PodMonitor" and pm["metadata"]["namespace"] == ds["metadata"]["namespace"]
	assert pm["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()
	assert pm["spec"]["podMetricsEndpoints"][0]["port"] == c["ports"][0]["name"]
	PY
	# the shell line that picks the listen address, run as the pod would
	for ip in 10.1.2.3 fd00::7; do
		out=$(NODE_IP=$ip sh -c "$(sed -n 's/^ *\(case "\$NODE_IP".*\)$/\1/p' "$d/accelctl-daemonset.yaml"); echo \"\$addr:7435\"")
		case $ip in *:*) assert_eq "$out" "[$ip]:7435" "listen address for $ip" ;; *) assert_eq "$out" "$ip:7435" "listen address for $ip" ;; esac
	done
	# the image: the build set of install-deps.sh, the runtime libraries
	# the README lists, the binary make install puts in place
	local cf=$d/Containerfile want have closure lib pkg ip
	grep -q '^RUN scripts/install-deps.sh build' "$cf" || fail "Containerfile does not build with install-deps.sh build"
	grep -q 'make install DESTDIR=/out PREFIX=/usr' "$cf" || fail "Containerfile does not use make install"
	want=$(tr '\n' ' ' <"$top/README.md" | sed -n 's/.*only the libraries it links: `\([^`]*\)`.*/\1/p' |
		tr ' ' '\n' | grep . | sort | paste -sd' ')
	have=$(sed -n '/^FROM .*slim/,$p' "$cf" | tr ' ' '\n' | grep -E '^z?lib[a-z0-9]*[0-9]g?$' | sort -u | paste -sd' ')
	[ -n "$want" ] && assert_eq "$have" "$want" "runtime libraries in the Containerfile vs the README"
	# every library the binary links comes with one of them
	closure=$(apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $have 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u)
	for lib in $(ldd "$ACCELCTL" | awk '$3 ~ /^\// { print $3 }'); do
		pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null) || continue
		pkg=${pkg%%:*}
		grep -qx "$pkg" <<<"$closure" || fail "$lib ($pkg) is linked but not in the image's packages"
	done
	pass
}

# CapabilityBoundingSet of a unit file as a setpriv(1) --bounding-set value.
unit_caps() {
	sed -n 's/^CapabilityBoundingSet=//p' "$1" | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\L\1/p' |
		paste -sd, | sed 's/^/-all,/'
}

test_export_unit_capabilities_suffice() {
	local acaps scaps v
	acaps=$(unit_caps "$top/scripts/systemd/accelctl.service")
	scaps=$(unit_caps "$top/scripts/systemd/accelctl-serve.service")
	[ "$acaps" != "-all," ] && [ "$scaps" != "-all," ] || fail "no CapabilityBoundingSet in the units"
	# attach, serve and detach with only what the units leave them.
	NS=$(netns_new)
	CG=$(cgroup_new)
	export_profile
	setpriv --bounding-set="$acaps" $A --netns "$NS" attach --cgroup "$CG" --config "$TMP/export.ini" \
		>"$TMP/attach.log" 2>&1 ||
		fail "attach with the unit's capabilities ($acaps): $(cat "$TMP/attach.log")"
	gen_traffic 7
	A="setpriv --bounding-set=$scaps $A" serve_start
	scrape /metrics >"$TMP/caps.prom"
	v=$(value_of "$TMP/caps.prom" 'accel_tcp_state_transitions_total{family="inet",state="syn_sent"}')
	[ "${v:-0}" -ge 7 ] || fail "serve with $scaps read syn_sent '$v'"
	assert_eq "$(value_of "$TMP/caps.prom" accel_exporter_scrape_errors_total)" 0 "scrape errors with $scaps"
	[ "$(awk '/^CapBnd/ { print $2 }' "/proc/$SERVE_PID/status")" != "$(awk '/^CapBnd/ { print $2 }' /proc/self/status)" ] ||
		fail "setpriv did not narrow serve's capabilities"
	serve_stop_clean
	grep -q 'tune' <<<"$(attached_features)" || fail "tune not attached with the unit's capabilities"
	setpriv --bounding-set="$acaps" $A detach >/dev/null 2>&1 || fail "detach with the unit's capabilities"
	[ ! -e "$PIN" ] || fail "detach left $PIN"
	pass
}

run_tests
