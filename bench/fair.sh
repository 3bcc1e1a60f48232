#!/bin/bash
# make bench-fair (and the end of make bench): root's whoami latency
# while three unprivileged users flood satokend at far above their rate
# limit, each with 64 pipelining connections sending the dearest request
# they can: token.list of an account of 100 tokens, authenticated by
# that account's token (a verification, its timing pad, and a listing
# for every request let through).  Real daemon (default rate_limit, 50
# a second per principal), real uids (nobody and two numbered ones).
# Prints the bench_fair lines; FAIR_OUT=FILE also writes them there.
set -euo pipefail
ROOT=$(pwd)
B=${B:-build}
SATOKEND=${SATOKEND:-$ROOT/$B/daemon/satokend}
SECS=${FAIR_SECONDS:-10}
T=$(mktemp -d /tmp/satoken-fair.XXXXXX)
chmod 0755 "$T"
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "bench-fair: needs root (it runs flooders as other uids)" >&2; exit 1; }

SOCK=$T/satokend.sock CONF=$T/satoken.conf
mkdir -m 0750 "$T/state"
cat >"$CONF" <<CONF
database = $T/state/satoken.db
socket = $SOCK
audit = file:$T/audit.log
admin_users = root
CONF
chmod 0644 "$CONF"
"$SATOKEND" --foreground --config "$CONF" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 200); do grep -qs serving "$T/daemon.log" && break; sleep 0.05; done
ctl() { "$ROOT/$B/cli/satokenctl" --socket "$SOCK" "$@"; }
ctl group create fair >/dev/null
ctl policy add fair >/dev/null
ctl account create flood --group fair >/dev/null
# 100 tokens, minted in bursts under root's own limit
TOK=$(ctl token mint flood --name t0 2>/dev/null)
for i in $(seq 1 99); do
	until ctl token mint flood --name "t$i" >/dev/null 2>&1; do sleep 0.2; done
done
printf '{"op":"token.list","account":"flood","limit":1000,"auth_token":"%s"}\n' "$TOK" >"$T/req"
chmod 0600 "$T/req"
sleep 1.1	# root's bucket full again
raw=$("$ROOT/$B/bench/bench_fair" "$SOCK" "$T/req" 65534,61001,61002 64 "$SECS")
out=$(awk -v secs="$SECS" 'BEGIN {
	print "root whoami (one at a time, 40/s), microseconds, while 3 users flood at"
	print "far above their rate limit, 64 pipelining connections each (bench/fair.sh):"
	printf "%20s %6s %10s %10s %10s\n", "", "n", "p50_us", "p99_us", "max_us" }
$1 == "idle" { printf "%20s %6d %10.1f %10.1f %10.1f\n", "alone", $2, $3, $4, $5 }
$1 == "flood" { printf "%20s %6d %10.1f %10.1f %10.1f\n", "during the flood", $2, $3, $4, $5
	printf "flood: %d replies/s, %d of them THROTTLED\n", $6, $7 }' <<<"$raw")
echo "$out"
if [ -n "${FAIR_OUT:-}" ]; then echo "$out" >"$FAIR_OUT"; fi
