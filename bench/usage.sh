#!/bin/bash
# make bench-usage (and the last part of make bench): what last-use
# reporting costs a PAM login.  One private satokend with 1000 tokens;
# the same PAM login with usage_socket = none (off), reporting to the
# running daemon (on), to a path where nothing listens (satokend down:
# the socket gone), and to the daemon SIGSTOPped so its queue is full
# (stopped).  Each variant is timed against off in the same process,
# login by login; the ratio's median over rounds; prints one block for
# bench/results.txt.
set -euo pipefail
# A datagram socket queues net.unix.max_dgram_qlen reports: 512 on a
# Debian host (systemd's sysctl.d), the kernel's 10 in a bare container.
# As root the bench runs in a network namespace of its own, set as a host.
if [ -z "${SATOKEN_BENCH_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
    command -v unshare >/dev/null; then
	exec env SATOKEN_BENCH_NETNS=1 unshare -n sh -c \
	    'sysctl -qw net.unix.max_dgram_qlen=512 && exec bash "$0" "$@"' "$0" "$@"
fi
QLEN=$(cat /proc/sys/net/unix/max_dgram_qlen)
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
# One process alternates off and VARIANT login by login (bench_pam's
# paired mode), so both are timed under the same load; prints
# "p50_off p50_variant".
run() {	# VARIANT
	local svc=$1 line
	[ "$1" = stopped ] && { svc=on; kill -STOP "$DPID"; }
	line=$("$BB/bench_pam" "$T/pam.d" "off,$svc" "$T/pairs" "$ITERS" 1 100)
	[ "$1" = stopped ] && kill -CONT "$DPID"
	set -- $line
	[ "$3" = 0 ] || echo "bench: WARNING: off,$svc: $3 unexpected answers" >&2
	echo "$1 $2"
}
oks() {	# accepted logins satokend counted from the reports it received
	"$ROOT/$B/cli/satokenctl" --socket "$SOCK" --json status |
	    jq '[.logins_last_hour[] | select(.reason == "ok") | .count] | add // 0'
}
sent=0 received=0
VARIANTS="on down stopped"
declare -A off=() got=() ratio=()
for r in $(seq 1 "$ROUNDS"); do
	vs=$(echo $VARIANTS | awk -v r="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
	for v in $vs; do
		if [ "$v" = on ]; then
			sleep 0.2	# what an earlier round queued is drained
			sent=$((sent + ITERS + 50)) n0=$(oks)
		fi
		set -- $(run "$v")
		if [ "$v" = on ]; then
			sleep 0.2
			received=$((received + $(oks) - n0))
		fi
		off[$v]="${off[$v]:-} $1"
		got[$v]="${got[$v]:-} $2"
		ratio[$v]="${ratio[$v]:-} $(awk -v a="$2" -v b="$1" 'BEGIN { printf "%.4f", a / b }')"
	done
done
med() { echo $1 | tr ' ' '\n' | median; }
line() {	# LABEL VARIANT
	local r
	r=$(med "${ratio[$2]}")
	printf '  %-34s %8s us against off %8s us: %+.1f%% (rounds %s)\n' "$1" \
	    "$(med "${got[$2]}")" "$(med "${off[$2]}")" \
	    "$(awk -v r="$r" 'BEGIN { print (r - 1) * 100 }')" \
	    "$(echo ${ratio[$2]} | tr ' ' '\n' | sort -g | awk '{ printf "%s%+.1f%%", (NR > 1 ? " " : ""), ($1 - 1) * 100 }')"
}
echo "last-use reporting (usage_socket), PAM login p50 at 1000 tokens; each round one process alternates"
echo "usage_socket = none (off) and the variant login by login, $ITERS each; median over $ROUNDS rounds of the ratio:"
line "on, satokend running" on
line "on, satokend down (no socket)" down
line "on, satokend stopped (queue full)" stopped
echo "  reports satokend received of the $sent logins with it running: $received (max_dgram_qlen $QLEN)"
# what is left of "on": the report's two system calls, against the
# cheapest one, on this kernel
set -- $("$BB/bench_report" "$USOCK" 90000)
echo "  a report's system calls: cookie check $1 ns, send $2 ns; getppid $3 ns (medians of 9 runs of 10,000; $4 sends refused)"
