#!/bin/bash
# Draws bench/fleet.png from bench/fleet-results.txt (bench/fleet.sh): for
# each shape run (followers, hubs, how often each follower writes its
# position when not every second, a prototype's name), its newest line's
# time until every
# follower refused a revocation, p50, p99 and max, against the issue's
# targets. Run by bench/fleet.sh after it appends its line.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
command -v gnuplot >/dev/null || { echo "bench: no gnuplot, no chart" >&2; exit 0; }
DAT=$(mktemp)
trap 'rm -f "$DAT"' EXIT
# the newest line of each shape; lines without figures (a lost run) skipped
awk '/refused_everywhere_p50_ms=/ {
	f = ""; h = 0; pm = 1000; pt = ""; r = ""; p50 = ""; p99 = ""; mx = ""
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "followers") f = kv[2]
		else if (kv[1] == "hubs") h = kv[2]
		else if (kv[1] == "position_ms") pm = kv[2]
		else if (kv[1] == "prototype") pt = kv[2]
		else if (kv[1] == "revocations") r = kv[2]
		else if (kv[1] == "refused_everywhere_p50_ms") p50 = kv[2]
		else if (kv[1] == "p99_ms") p99 = kv[2]
		else if (kv[1] == "max_ms") mx = kv[2]
	}
	key = f " " h " " pm " " pt
	if (!(key in line)) order[n++] = key
	line[key] = sprintf("\"%s followers%s%s\\n%s revocations\\n%s\" %s %s %s", f,
	    h ? ", " h " hubs" : "", (pm != 1000 ? "\\npositions every " pm / 1000 " s" : "") \
	    (pt != "" ? "\\nprototype\\n" pt : ""), r, $1, p50, p99, mx)
	fol[key] = f + h / 100 + pm / 1e9 + (pt != "") / 1e10
}
END {
	# fewest followers first, hubs after the same count without
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (fol[order[j]] < fol[order[i]]) {
				t = order[i]; order[i] = order[j]; order[j] = t
			}
	for (i = 0; i < n; i++) print line[order[i]]
}' "$OUT/fleet-results.txt" >"$DAT"
[ -s "$DAT" ] || { echo "bench: no fleet figures, no chart" >&2; exit 0; }
gnuplot <<PLOT
set terminal pngcairo size 900,560 noenhanced
set output "$OUT/fleet.png"
set title "a revocation refused by every follower's local store (bench/fleet.sh, $(nproc) cores, all on one machine)"
set logscale y
set ylabel "milliseconds (log scale)"
set yrange [1:10000]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set boxwidth 0.9
set xtics font ",9"
set bmargin 5
set xrange [-0.6:$(wc -l <"$DAT") - 0.4]
set key top left reverse Left
set grid ytics
set arrow from graph 0, first 100 to graph 1, first 100 nohead dt 2 lc rgb "#b03030"
set label "p99 target: 100 ms" at graph 0.01, first 118 left front tc rgb "#b03030" font ",9"
set arrow from graph 0, first 500 to graph 1, first 500 nohead dt 3 lc rgb "#b03030"
set label "max target: 500 ms" at graph 0.01, first 590 left front tc rgb "#b03030" font ",9"
plot "$DAT" using 2:xtic(1) title "p50" lc rgb "#4a7ab5", \
     "" using 3 title "p99" lc rgb "#e0a030", \
     "" using 4 title "max" lc rgb "#808080"
PLOT
echo "bench: chart: bench/fleet.png" >&2
