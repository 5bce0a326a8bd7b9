#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages accelctl needs to build, test and benchmark.
# Idempotent: installs only what is missing, runs `apt-get update` at most
# once and only when something is missing, prints nothing when all is there.
#
# Usage: scripts/install-deps.sh [build|test|bench|all]   (default: all)
#   build: compile and run accelctl (what `make`, `make attach` need)
#   test:  build + the test tools (`make test`); bench: build + benchmarks
# Packages that ship a service (redis-server, prometheus, nginx) are
# installed without starting it and, when this script installed them, with
# the service disabled: the tests run their own instances on private ports
# and must not leave a system redis, prometheus or nginx behind.
set -euo pipefail

BUILD_PKGS=(clang llvm libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
	    pkg-config make gcc libmnl-dev libinih-dev libmicrohttpd-dev)
TEST_PKGS=(libcmocka-dev iproute2 ethtool procps coreutils python3
	   prometheus curl systemd man-db groff-base redis-server redis-tools
	   nginx)
BENCH_PKGS=(iperf3 sockperf redis-server redis-tools gnuplot-nox)

want=()
case "${1:-all}" in
build) want=("${BUILD_PKGS[@]}") ;;
test)  want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
bench) want=("${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
all)   want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
-h|--help)
	sed -n '3,/^set /{/^set /d;p}' "$0" | sed 's/^# \{0,1\}//'
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
cleanup() { rm -f "$log"; }
trap cleanup EXIT
# invoke-rc.d asks policy-rc.d whether a maintainer script may start a
# service; 101 means "no".  Only when the host has no policy of its own.
SERVICES=(redis-server:redis-server prometheus:prometheus nginx:nginx)
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# installed by accelctl install-deps.sh for one apt-get run\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	cleanup() { rm -f "$log" "$policy"; }
fi
if ! apt-get update -qq >"$log" 2>&1 ||
   ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed installing: ${missing[*]}" >&2
	echo "install-deps: check the package sources (/etc/apt/sources.list) and retry" >&2
	exit 1
fi
# Services of packages installed just now stay disabled: nothing starts
# them at the next boot either.  A package that was already there keeps
# whatever the admin set.
for m in "${missing[@]}"; do
	for s in "${SERVICES[@]}"; do
		[ "${s%%:*}" = "$m" ] || continue
		if command -v systemctl >/dev/null; then
			systemctl disable --now "${s#*:}.service" >/dev/null 2>&1 || true
		fi
		command -v update-rc.d >/dev/null && update-rc.d "${s#*:}" disable >/dev/null 2>&1 || true
		echo "install-deps: ${s#*:} installed for the tests, its service left disabled"
	done
done
