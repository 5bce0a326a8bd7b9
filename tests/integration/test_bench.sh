#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The benchmark's plots (scripts/bench-plot.sh, run by `make bench`):
# drawn from data files in the format scripts/bench.sh writes, each a
# PNG; without gnuplot none is drawn, the bench is told why, and it goes on.
source "$(dirname "$0")/lib.sh"

PLOT=$top/scripts/bench-plot.sh

# Data files as bench.sh writes them: label, then median min max per series.
plot_fixture() {
	local d=$1
	mkdir -p "$d"
	cat >"$d/throughput.dat" <<-'DAT'
	64 19.7 15 22 20.1 18 21 10.3 9 12 28.6 25 30
	64K 1877 1500 2500 4063 3800 4200 3762 3500 4000 4910 4800 5000
	DAT
	cat >"$d/latency.dat" <<-'DAT'
	"64 B same" 21.3 20 22 19.1 18 20 18.5 18 19 18.8 18 19 46.1 40 50 43.2 40 45 51.4 45 55 41.5 40 43
	"4 KiB cross" 33.4 30 35 30.5 29 32 29 28 30 32.8 31 34 70 60 75 79 70 85 64 60 70 67 60 70
	DAT
	cat >"$d/cpu.dat" <<-'DAT'
	"stream 64 B" 1.03 0.9 1.1 1.52 1.4 1.6 0.75 0.7 0.8
	"stream 64 KiB (blocking)" 0.76 0.6 0.8 - - - 0.5 0.45 0.55
	DAT
	cat >"$d/scale.dat" <<-'DAT'
	"0" - - - 20.1 19 21 301 290 310
	"50,000" 2869 2500 3000 20.5 20 21 318 300 330
	DAT
}

test_bench_plot_draws_every_plot() {
	local out p
	command -v gnuplot >/dev/null || skip "gnuplot not installed (a bench dependency: scripts/install-deps.sh bench)"
	plot_fixture "$TMP/data"
	mkdir -p "$TMP/out"
	out=$("$PLOT" "$TMP/data" "$TMP/out/bench" "median of 5, test" 2>"$TMP/err") ||
		fail "bench-plot.sh: $(cat "$TMP/err")"
	for p in throughput latency cpu scale; do
		grep -qx "$TMP/out/bench-$p.png" <<<"$out" || fail "$p not reported: $out"
		[ "$(head -c 4 "$TMP/out/bench-$p.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] ||
			fail "bench-$p.png is not a PNG"
	done
	# only the plots whose data exist
	rm "$TMP/data/scale.dat" "$TMP/out/"*.png
	out=$("$PLOT" "$TMP/data" "$TMP/out/bench" "median of 5, test" 2>"$TMP/err") ||
		fail "bench-plot.sh: $(cat "$TMP/err")"
	[ ! -e "$TMP/out/bench-scale.png" ] || fail "a scale plot without scale data"
	assert_eq "$(wc -l <<<"$out")" 3 "plots drawn without scale data"
	pass
}

test_bench_plot_without_gnuplot_says_so() {
	local out
	plot_fixture "$TMP/data"
	mkdir -p "$TMP/out"
	out=$(PATH=/nonexistent /bin/bash "$PLOT" "$TMP/data" "$TMP/out/bench" "test" 2>"$TMP/err") ||
		fail "bench-plot.sh without gnuplot failed: $(cat "$TMP/err")"
	assert_eq "$out" "" "plots reported"
	grep -q 'gnuplot not installed: no plots' "$TMP/err" || fail "no message: $(cat "$TMP/err")"
	[ -z "$(ls "$TMP/out")" ] || fail "files written: $(ls "$TMP/out")"
	pass
}

run_tests
