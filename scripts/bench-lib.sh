# SPDX-License-Identifier: GPL-2.0-only
#
# What the bench-*.sh scripts share; sourced (not run) after `set -euo
# pipefail`, with bench_name set to the name that starts their messages:
#
#   top, OUT (default build, made absolute), ACCELCTL   set on sourcing
#   bench_opts_rt "$@"        -r REPS and -t SECONDS into reps and secs
#   bench_need_root           exit 1 unless root
#   bench_need_built FILE...  exit 1 unless accelctl and each FILE are built
# shellcheck shell=bash
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-build}
case "$OUT" in /*) ;; *) OUT="$top/$OUT" ;; esac
ACCELCTL=$OUT/accelctl

bench_opts_rt() {
	local c OPTIND=1

	while getopts "r:t:" c; do
		case $c in
		r) reps=$OPTARG ;;
		t) secs=$OPTARG ;;
		*) echo "usage: $0 [-r REPS] [-t SECONDS]" >&2; exit 2 ;;
		esac
	done
}

bench_need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "$bench_name: needs root" >&2; exit 1; }
}

bench_need_built() {
	local f

	for f in "$ACCELCTL" "$@"; do
		[ -x "$f" ] || { echo "$bench_name: build first (make; make test-build)" >&2; exit 1; }
	done
}
