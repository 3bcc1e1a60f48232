# Shared by the newcomer tests (make demo, make install, man pages, the
# etc/ samples): counters, a private directory, a private satokend.
# Each test file sources this, runs its checks and calls summary, which
# prints "N passed, N failed" and sets the exit status.
#
# env: B (build directory), MAKE, SANITIZE, DEMO_PRELOAD.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
: "${B:=build}"
BIN=$ROOT/$B
NAME=$(basename "$0" .sh)
pass=0
fail=0
DPID=
T=$(mktemp -d "${TMPDIR:-/tmp}/satoken-newcomer.XXXXXX")
chmod 0755 "$T"
CLEANUPS=()

cleanup() {
	local c
	stop_daemon
	for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "FAIL [$NAME] - $*"
}

# check "what" command...: passes when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# loud, so that nobody mistakes a skip for a pass
loud() {
	echo "************************************************************"
	echo "*** [$NAME] $*"
	echo "************************************************************"
}

summary() {
	stop_daemon
	echo "[$NAME] $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

is_root() { [ "$(id -u)" = 0 ]; }

# --- a private satokend, as the demo makes one -------------------------

CONF=$T/satoken.conf
AUDIT=$T/audit.log
SOCK=$T/run/satokend.sock

# write_conf [EXTRA LINE...]: the calling user is admin; audit to a file
write_conf() {
	mkdir -p -m 0700 "$T/state" "$T/run"
	{
		echo "database = $T/state/satoken.db"
		echo "socket = $SOCK"
		echo "admin_users = $(id -u)"
		echo "audit = file:$AUDIT"
		echo "rate_limit = 0"
		printf '%s\n' "$@"
	} >"$CONF"
	chmod 0600 "$CONF"
}

start_daemon() {
	local i
	"$BIN/daemon/satokend" --foreground --config "$CONF" 2>>"$T/satokend.log" &
	DPID=$!
	for i in $(seq 1 200); do
		grep -q serving "$T/satokend.log" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || { wait "$DPID"; DPID=; return 1; }
		sleep 0.05
	done
	return 1
}

stop_daemon() {
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=
	fi
}

ctl() { "$BIN/cli/satokenctl" --socket "$SOCK" "$@"; }

# mint FILE ACCOUNT NAME [OPTIONS]: the token into FILE (0600), never argv
mint() {
	local file=$1
	shift
	(umask 077 && ctl token mint "$@" >"$file" 2>/dev/null)
}

token_id() { cut -c5-16 "$1"; }
