#!/bin/bash
# How long --wait takes (make bench-wait; README "Confirmed everywhere"):
# the sample provider, one control satokend and BENCH_FOLLOWERS (default
# 10) follower satokends with the default heartbeat, one account with
# BENCH_WAITS (default 30) tokens; each token revoked with --wait, first
# one right after the other, then one every 1.5 s (a quiet fleet, as an
# admin's revocation usually meets it).  Measured: the wall time of each
# satokenctl call (revocation, its directory writes, the fence, the
# polling), and every call's outcome: a NOT_CONFIRMED is a miss.  One
# line appended to bench/wait-results.txt.
. "$(dirname "$0")/../tests/integration/fleet/lib.sh"
B=${B:-build}
SATOKEND=$ROOT/$B/daemon/satokend
SATOKENCTL=$ROOT/$B/cli/satokenctl
PAM_MODULE=$ROOT/$B/pam/pam_satoken.so
. "$ROOT/tests/integration/fleet/hosts.sh"
NF=${BENCH_FOLLOWERS:-10}
R=${BENCH_WAITS:-30}
HEARTBEAT_MS=10000

fl=$(seq -f 'f%g' "$NF" | tr '\n' ' ')
start_fleet_provider control1 "$fl" || exit 1
host_start control1 control "max_tokens_per_account = 100000"
for h in $fl; do host_start "$h" follower || exit 1; done
until ctl control1 group create svc >/dev/null 2>&1; do sleep 0.2; done
ctl control1 account create ci --group svc >/dev/null
ctl control1 policy add svc >/dev/null
until [ "$(ctl control1 --json fleet status | jq '.items | length')" = $((NF + 1)) ]; do
	sleep 0.5
done
for i in $(seq $((2 * R))); do
	mint control1 ci "t$i" >/dev/null || { echo "mint $i failed" >&2; exit 1; }
done
sleep 2

# revoke FIRST LAST GAP-S: each with --wait, its wall ms to $T/ms.FIRST
revoke() {
	local i id t0 t1 rc miss=0
	: >"$T/ms.$1"
	for i in $(seq "$1" "$2"); do
		id=$(<"$T/id.t$i")
		t0=${EPOCHREALTIME/./}
		ctl control1 token revoke "$id" --wait=30s >/dev/null 2>"$T/err"
		rc=$?
		t1=${EPOCHREALTIME/./}
		[ $rc -eq 0 ] || { miss=$((miss + 1)); cat "$T/err" >&2; }
		echo $(((t1 - t0) / 1000)) >>"$T/ms.$1"
		[ "$3" = 0 ] || sleep "$3"
	done
	echo "$miss" >"$T/miss.$1"
}
# stats FILE: p50 p99 max of the numbers in it
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		p50 = v[int((NR + 1) / 2)]; i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
		printf "p50 %d ms, p99 %d ms, max %d ms", p50, v[i], v[NR] }'
}
revoke 1 "$R" 0
# the spaced rounds start spaced too: the back-to-back rounds' last
# positions were written within the second, and DESIGN holds the next
# one back until it is up (every earlier run's one slow spaced round)
sleep 1.5
revoke $((R + 1)) $((2 * R)) 1.5
line="$(date -u +%FT%TZ) followers=$NF rounds=$R back-to-back: $(stats "$T/ms.1"), misses $(cat "$T/miss.1"); spaced 1.5 s: $(stats "$T/ms.$((R + 1))"), misses $(cat "$T/miss.$((R + 1))") commit=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
echo "$line"
echo "$line" >>"$ROOT/bench/wait-results.txt"
