#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The plots of docs/benchmarks.md, drawn with gnuplot from the data files
# scripts/bench.sh writes for them (make bench runs this; it needs no
# manual step).  Each plot is drawn when its data file exists:
#
#   throughput.dat  stream MiB/s by send() size,      -> PREFIX-throughput.png
#                   cross CPU
#   latency.dat     RR p50 and p99 latency            -> PREFIX-latency.png
#   cpu.dat         CPU per unit of work / loopback   -> PREFIX-cpu.png
#   scale.dat       sk_msg ns/run and RR p50 by live  -> PREFIX-scale.png
#                   sockhash entries (bench-lifecycle.sh)
#
# Data files: one row per x value, the label first (double-quoted when
# it has spaces), then for each series its median, minimum and maximum
# (the error bar spans the repetitions), "-" where a series has no value:
#   throughput.dat, latency.dat: loopback accel floor unix (latency:
#     those 4 for p50, then those 4 for p99)
#   cpu.dat: accel floor unix, each as a ratio to loopback's median
#   scale.dat: sk_msg ns/run with the pool's traffic, RR p50 in µs, sk_msg
#     ns/run on the RR connection
#
# Usage: scripts/bench-plot.sh DIR PREFIX SUBTITLE [SCALE_SUBTITLE]
#   SUBTITLE goes into the titles (e.g. "median of 5, <kernel>"), the
#   scale plot's own where given (its runs are bench-lifecycle.sh's)
# Prints the name of each PNG it wrote.  Without gnuplot it writes none
# and says so on stderr; exit 0 either way, 1 when gnuplot failed.
set -euo pipefail
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 DIR PREFIX SUBTITLE [SCALE_SUBTITLE]" >&2; exit 2; }
dir=$1 prefix=$2 sub=$3 scale_sub=${4:-$3}

if ! command -v gnuplot >/dev/null; then
	echo "bench: gnuplot not installed: no plots (scripts/install-deps.sh bench installs it)" >&2
	exit 0
fi

rc=0
# draw NAME: the gnuplot program on stdin, for DIR/NAME.dat -> PREFIX-NAME.png
draw() {
	local png=$prefix-$1.png err
	if err=$({ cat <<-EOF; cat; } | gnuplot 2>&1 >/dev/null
		set terminal pngcairo size 1200,600 font "sans,10" noenhanced
		set output "$png"
		set datafile missing "-"
		set grid ytics
		set style fill solid 0.8 border -1
		set key outside top center horizontal maxrows 2 width -4
		EOF
	); then
		echo "$png"
	else
		echo "bench: gnuplot failed on $1: $err" >&2
		rm -f "$png"
		rc=1
	fi
}

# Columns of series i (0-based) of a median/min/max file, first at col 2.
cols() { echo "$((2 + 3 * $1)):$((3 + 3 * $1)):$((4 + 3 * $1))"; }

# bars FIRST TITLE...: the clustered bars of a histogram with error bars,
# one per title, for the series from index FIRST on
bars() {
	local i=$1 k=0 t colors=('#888888' '#1f77b4' '#ff7f0e' '#2ca02c') sep=""
	shift
	[ $# -lt 4 ] && colors=("${colors[@]:1}")	# no loopback series
	for t in "$@"; do
		printf '%s"%s" using %s%s title "%s" lc rgb "%s"' "$sep" "$DAT" "$(cols "$i")" \
			"$([ $k = 0 ] && echo ':xtic(1)')" "$t" "${colors[$k]}"
		sep=", " i=$((i + 1)) k=$((k + 1))
	done
}

# The bar plots' style: clustered bars, each with its error bar.
HIST='set style data histograms
set style histogram errorbars gap 1 lw 1
set boxwidth 0.9'

CFG_TITLES=("loopback TCP" "loopback TCP + accelctl bypass"
	    "loopback TCP + sockmap floor (redirect only, no safety)" "Unix domain socket")

if [ -s "$dir/throughput.dat" ]; then
	DAT=$dir/throughput.dat
	draw throughput <<-EOF
	set title "Stream throughput by send() size, sender and receiver on different CPUs ($sub)"
	set ylabel "MiB/s (log scale)"
	set xlabel "message size (bytes per send; bars: median of the runs; whiskers: min to max)"
	set logscale y
	$HIST
	plot $(bars 0 "${CFG_TITLES[@]}")
	EOF
fi

if [ -s "$dir/latency.dat" ]; then
	DAT=$dir/latency.dat
	# p50 and p99 side by side: the four p99 series follow the p50 ones
	draw latency <<-EOF
	set title "Request/response round trip, one request in flight ($sub)"
	set ylabel "µs (log scale; lower is better)"
	set xlabel "message size, CPU placement (bars: median of the runs; whiskers: min to max)"
	set logscale y
	$HIST
	plot newhistogram "p50", $(bars 0 "${CFG_TITLES[@]}"), \\
	     newhistogram "p99", $(bars 4 "" "" "" "" | sed 's/title ""/notitle/g')
	EOF
fi

if [ -s "$dir/cpu.dat" ]; then
	DAT=$dir/cpu.dat
	draw cpu <<-EOF
	set title "CPU per unit of work, as a ratio to loopback TCP ($sub)"
	set ylabel "CPU time / loopback's (lower is better)"
	set xlabel "bars: median of the runs; whiskers: min to max"
	$HIST
	set yrange [0:*]
	set xtics rotate by -25 left
	set rmargin 16
	set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#444444"
	plot $(bars 0 "${CFG_TITLES[@]:1}")
	EOF
fi

if [ -s "$dir/scale.dat" ]; then
	DAT=$dir/scale.dat
	draw scale <<-EOF
	set multiplot layout 1,2 title "Cost by live sockhash entries ($scale_sub)"
	set xlabel "live accelerated connections (2 sockhash entries each)"
	set yrange [0:*]
	set offsets 0.3, 0.3, graph 0.3, 0
	set key inside top left vertical Left reverse
	set title "sk_msg run time per message (bpf_stats)"
	set ylabel "ns per run (points: median; bars: min to max)"
	plot "$DAT" using 0:2:3:4:xtic(1) with yerrorlines title "pool's requests flowing" lc rgb "#1f77b4" pt 7, \
	     "" using 0:8:9:10 with yerrorlines title "the RR connection alone" lc rgb "#ff7f0e" pt 5
	set title "RR 64 B p50, one more connection, pool stopped"
	set ylabel "µs"
	plot "$DAT" using 0:5:6:7:xtic(1) with yerrorlines title "RR 64 B p50, same CPU" lc rgb "#1f77b4" pt 7
	unset multiplot
	EOF
fi
exit $rc
