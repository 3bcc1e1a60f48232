#!/bin/bash
# Draws bench/login-cost.png: login cost against store size from
# bench/results.dat (bench/run.sh) and, under it when bench/servers.dat
# exists (bench/servers.sh), logins per second inside real servers.
# Run by both scripts after they write their figures.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
command -v gnuplot >/dev/null || { echo "bench: no gnuplot, no chart" >&2; exit 0; }
[ -s "$OUT/results.dat" ] || { echo "bench: no results.dat, no chart" >&2; exit 0; }
top='set title "login cost against store size (medians, '"$(nproc)"' cores)"
set logscale xy
set xlabel "live tokens / users in the store"
set ylabel "microseconds per login (log scale)"
set yrange [5:1000]
set key outside right
set grid
plot "'"$OUT"'/results.dat" using 1:2 with linespoints title "PAM pam_permit (floor)", \
     "" using 1:3 with linespoints title "PAM pam_satoken", \
     "" using 1:4 with linespoints title "PAM pam_userdb (BDB)", \
     "" using 1:5 with linespoints title "SASL OAUTHBEARER satoken", \
     "" using 1:6 with linespoints title "SASL PLAIN sasldb"'
if [ -s "$OUT/servers.dat" ]; then
	stamp=$(sed -n '1s/.*servers.sh \(.*\))$/\1/p' "$OUT/servers.dat")
	gnuplot <<PLOT
set terminal pngcairo size 900,1060 noenhanced
set output "$OUT/login-cost.png"
set multiplot layout 2,1
$top
unset logscale
set logscale y
set title "logins per second inside real servers (bench/servers.sh, medians, $stamp)"
set xlabel ""
set ylabel "logins per second (log scale)"
set yrange [1:50000]
set style fill solid 0.6 border -1
set boxwidth 0.7
set xtics rotate by -35 left font ",9"
unset key
plot "$OUT/servers.dat" using 0:2:xtic(1) with boxes lc rgb "#4a7ab5", \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,0.7 font ",8"
unset multiplot
PLOT
else
	gnuplot <<PLOT
set terminal pngcairo size 900,560 noenhanced
set output "$OUT/login-cost.png"
$top
PLOT
fi
echo "bench: chart: bench/login-cost.png" >&2
