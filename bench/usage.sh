#!/bin/bash
# make bench-usage (and the last part of make bench): what last-use
# reporting costs a PAM login.  One private satokend with 1000 tokens;
# the same PAM login with usage_socket = none (off), reporting to the
# running daemon (on), to a path where nothing listens (satokend down:
# the socket gone), and to the daemon SIGSTOPped so its queue is full
# (stopped).  Alternated rounds, medians; prints one block for
# bench/results.txt.
set -euo pipefail
ROOT=$(pwd)
B=${B:-build}
ROUNDS=${BENCH_ROUNDS:-5}
ITERS=${BENCH_ITERS:-2000}
BB=$ROOT/$B/bench
T=$(mktemp -d /tmp/satoken-bench-usage.XXXXXX)
DPID=
cleanup() {
	if [ -n "$DPID" ]; then
		kill -CONT "$DPID" 2>/dev/null || true
		kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

DB=$T/satoken.db SOCK=$T/satokend.sock USOCK=$T/usage.sock
mkconf() {	# FILE USAGE_SOCKET
	cat >"$1" <<CONF
database = $DB
socket = $SOCK
audit = file:$T/audit.log
admin_users = root
rate_limit = 0
usage_socket = $2
CONF
	chmod 0644 "$1"
}
mkconf "$T/d.conf" "$USOCK"
mkconf "$T/off.conf" none
mkconf "$T/on.conf" "$USOCK"
mkconf "$T/down.conf" "$T/nobody-listens.sock"
"$ROOT/$B/daemon/satokend" --foreground --config "$T/d.conf" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 200); do grep -qs serving "$T/daemon.log" && break; sleep 0.05; done
ctl() { "$ROOT/$B/cli/satokenctl" --socket "$SOCK" "$@" >/dev/null; }
ctl group create bench
ctl policy add bench
: >"$T/pairs"
chmod 0600 "$T/pairs"
"$BB/bench_mint" fill "$SOCK" 0 10 100 4 "$T/pairs"
mkdir -p "$T/pam.d"
for v in off on down; do
	echo "auth required $ROOT/$B/pam/pam_satoken.so conf=$T/$v.conf" >"$T/pam.d/$v"
done

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
run() {	# VARIANT: one round's p50 in us
	local svc=$1 line
	[ "$1" = stopped ] && { svc=on; kill -STOP "$DPID"; }
	line=$("$BB/bench_pam" "$T/pam.d" "$svc" "$T/pairs" "$ITERS" 1 100)
	[ "$1" = stopped ] && kill -CONT "$DPID"
	set -- $line
	[ "$4" = 0 ] || echo "bench: WARNING: $svc: $4 unexpected answers" >&2
	echo "$1"
}
VARIANTS="off on down stopped"
declare -A got=()
for r in $(seq 1 "$ROUNDS"); do
	vs=$(echo $VARIANTS | awk -v r="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
	for v in $vs; do
		got[$v]="${got[$v]:-} $(run "$v")"
	done
done
declare -A med=()
for v in $VARIANTS; do
	med[$v]=$(echo ${got[$v]} | tr ' ' '\n' | median)
done
pct() { awk -v a="$1" -v b="${med[off]}" 'BEGIN { printf "%+.1f%%", (a - b) / b * 100 }'; }
echo "last-use reporting (usage_socket), PAM login p50 at 1000 tokens, medians of $ROUNDS alternated rounds of $ITERS:"
echo "  off (usage_socket = none)           ${med[off]} us"
echo "  on, satokend running                ${med[on]} us ($(pct "${med[on]}"))"
echo "  on, satokend down (no socket)       ${med[down]} us ($(pct "${med[down]}"))"
echo "  on, satokend stopped (queue full)   ${med[stopped]} us ($(pct "${med[stopped]}"))"
