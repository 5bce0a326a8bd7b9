#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages accelctl needs to build, test and benchmark.
# Idempotent: installs only what is missing, runs `apt-get update` at most
# once and only when something is missing, prints nothing when all is there.
#
# Usage: scripts/install-deps.sh [build|test|bench|all]   (default: all)
set -euo pipefail

BUILD_PKGS=(clang llvm libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
	    pkg-config make gcc libmnl-dev libinih-dev libmicrohttpd-dev)
TEST_PKGS=(libcmocka-dev iproute2 ethtool procps coreutils python3
	   prometheus curl systemd man-db groff-base redis-server redis-tools)
BENCH_PKGS=(iperf3 sockperf redis-server redis-tools gnuplot-nox)

want=()
case "${1:-all}" in
build) want=("${BUILD_PKGS[@]}") ;;
test)  want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
bench) want=("${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
all)   want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
-h|--help)
	sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'
	exit 0 ;;
*)
	echo "install-deps: unknown set '$1' (use build, test, bench or all)" >&2
	exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (sudo $0) to install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! apt-get update -qq >"$log" 2>&1 ||
   ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed installing: ${missing[*]}" >&2
	echo "install-deps: check the package sources (/etc/apt/sources.list) and retry" >&2
	exit 1
fi
# Debian's redis-server package starts a system instance; benchmarks run
# their own on a private port, so leave the system one as the admin set it.
