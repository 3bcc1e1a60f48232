#!/bin/bash
# make bench-scan: how fast `satokenctl scan` sweeps a source tree, the
# pre-commit hook's cost.  Offline (no daemon: --socket to nowhere), so
# the figure is the finding alone.  Four shapes: a real source tree
# (/usr/include, with 100 tokens planted), one big text file, and two
# hostile files: "sat_" every 5 bytes (a candidate refused at once), and
# a well-formed candidate with a wrong checksum every 54 bytes (each
# one's CRC computed).  Median of BENCH_ROUNDS runs, as MiB/s of wall
# time and of CPU time (a busy machine stretches the first); writes
# bench/scan-results.txt.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${B:=build}"
: "${BENCH_ROUNDS:=5}"
CTL=$ROOT/$B/cli/satokenctl
T=$(mktemp -d "${TMPDIR:-/tmp}/satscan-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# tokens with valid checksums, made the way DESIGN says (no daemon needed)
python3 - "$T/tokens" <<'EOF'
import random, sys, zlib
a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
r = random.Random(1)
with open(sys.argv[1], "w") as f:
    for _ in range(100):
        s = "sat_" + "".join(r.choice(a) for _ in range(44))
        c = zlib.crc32(s.encode()); d = ""
        for _ in range(6): d = a[c % 62] + d; c //= 62
        f.write(s + d + "\n")
EOF
cp -r /usr/include "$T/tree"
i=0
find "$T/tree" -type f -name '*.h' | head -n 100 | while read -r f; do
	i=$((i + 1))
	sed -n "${i}p" "$T/tokens" >>"$f"
done
head -c $((64 * 1024 * 1024)) /dev/urandom | base64 >"$T/big.txt"
python3 -c 'import sys; sys.stdout.write("sat_x" * (64 * 1024 * 1024 // 5))' >"$T/hostile.txt"
python3 -c 'import sys; sys.stdout.write(("sat_" + "a" * 50) * (64 * 1024 * 1024 // 54))' >"$T/hostile-crc.txt"

measure() {	# NAME PATH: MiB/s over wall-clock and over CPU (user+sys) time
	local bytes mb
	bytes=$(du -sb --apparent-size "$2" | cut -f1)
	mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
	for _ in $(seq "$BENCH_ROUNDS"); do
		/usr/bin/time -f '%e %U %S' -o "$T/secs" \
			"$CTL" --socket "$T/none.sock" scan "$2" >"$T/out" 2>/dev/null
		tail -n 1 "$T/secs"
	done >"$T/runs"
	printf '%-30s %7s MiB %8s MiB/s wall %8s MiB/s cpu %4s found\n' "$1" "$mb" \
		"$(awk -v m="$mb" '{ s = $1 < 0.01 ? 0.01 : $1; print int(m / s) }' "$T/runs" | median)" \
		"$(awk -v m="$mb" '{ s = $2 + $3; s = s < 0.01 ? 0.01 : s; print int(m / s) }' "$T/runs" | median)" \
		"$(grep -c . "$T/out")"
}
{
	echo "satokenctl scan, offline, median of $BENCH_ROUNDS runs ($(nproc) cores, $(date -u +%Y-%m-%d))"
	measure "/usr/include + 100 tokens" "$T/tree"
	measure "one base64 text file" "$T/big.txt"
	measure "hostile: sat_ every 5 bytes" "$T/hostile.txt"
	measure "hostile: a bad checksum every 54" "$T/hostile-crc.txt"
} | tee "$ROOT/bench/scan-results.txt"
