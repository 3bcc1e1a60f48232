# Shared by the daemon integration tests: a private satokend on a temp
# socket and store, the real satokenctl, and pass/fail counting.  Each
# test file sources this, runs its checks and calls finish, which prints
# "N passed, N failed" and sets the exit status.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
: "${B:=build}"
SATOKEND=$ROOT/$B/daemon/satokend
CTL=$ROOT/$B/cli/satokenctl
RAWSOCK=$ROOT/$B/tests/integration/daemon/rawsock
STOREREAD=$ROOT/$B/tests/integration/daemon/storeread
NAME=$(basename "$0" .sh)
PASSED=0
FAILED=0
DPID=
# world-traversable, so that a second uid (nobody) reaches the socket;
# nothing in it is writable by anyone but root
T=$(mktemp -d "${TMPDIR:-/tmp}/satokend-test.XXXXXX")
chmod 0755 "$T"
SOCK=$T/run/satokend.sock
DB=$T/state/satoken.db
AUDIT=$T/audit.log
CONF=$T/satoken.conf
mkdir -m 0755 "$T/run" "$T/state"
CLEANUPS=()

cleanup() {
	local c
	stop_daemon
	for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
	# never through a mount point a test left behind
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL [$NAME] $*" >&2
}

# run CMD...: OUT (stdout), ERR (stderr), RC; stdin is the caller's
run() {
	OUT=$("$@" 2>"$T/stderr")
	RC=$?
	ERR=$(cat "$T/stderr")
}

# t DESCRIPTION RC CMD...: runs CMD and checks its exit code
t() {
	local desc=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" = "$want" ]; then
		pass
	else
		fail "$desc: exit $RC, expected $want; stdout: ${OUT:0:300}; stderr: ${ERR:0:300}"
	fi
}

# check DESCRIPTION EXPRESSION: a bash [[ ]] expression over OUT, ERR...
check() {
	if eval "[[ $2 ]]"; then
		pass
	else
		fail "$1: [[ $2 ]] is false; stdout: ${OUT:0:300}; stderr: ${ERR:0:300}"
	fi
}

# a top-level field of the JSON reply in $OUT ("" when absent)
jfield() {
	jq -r --arg k "$1" '.[$k] // empty | if type == "array" then join(",") else . end' <<<"$OUT" 2>/dev/null
}
jnum() { jfield "$1"; }

write_conf() {
	{
		echo "database = $DB"
		echo "socket = $SOCK"
		echo "audit = file:$AUDIT"
		echo "admin_users = root"
		# functional tests run satokenctl back to back, faster than
		# the default 50 requests/s; t_limits tests the limiter
		echo "rate_limit = 0"
		# never the system's /run/satoken/usage.sock
		echo "usage_socket = $T/run/usage.sock"
		printf '%s\n' "$@"
	} >"$CONF"
	chmod 0644 "$CONF"
}

# starts satokend in the foreground and waits until it serves (its log
# says so once the socket listens)
start_daemon() {
	local i before
	before=$(grep -c "serving" "$T/daemon.log" 2>/dev/null)
	"$SATOKEND" --foreground --config "$CONF" 2>>"$T/daemon.log" &
	DPID=$!
	for i in $(seq 1 400); do
		if [ "$(grep -c "serving" "$T/daemon.log" 2>/dev/null)" -gt "${before:-0}" ]; then
			return 0
		fi
		if ! kill -0 "$DPID" 2>/dev/null; then
			wait "$DPID" 2>/dev/null
			DPID=
			return 1
		fi
		sleep 0.025
	done
	return 1
}

# SIGTERM: the daemon must exit 0 (a sanitizer's report would not)
stop_daemon() {
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DSTATUS=$?
		DPID=
		[ "$DSTATUS" = 0 ] || fail "satokend exited $DSTATUS on SIGTERM"
	fi
}

kill_daemon() {
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=
	fi
	# the socket stays behind, stale, as after a real crash
}

ctl() { "$CTL" --socket "$SOCK" "$@"; }

# reader ACCOUNT TOKEN: the decision as a module takes it, from the GDBM
# file itself (no daemon); the reason in OUT
reader() {
	run "$STOREREAD" "$DB" <<<"$1 $2"
}

# a second real uid: nobody, with the primary group given (default nogroup)
as_nobody() {
	local g=$1
	shift
	setpriv --reuid nobody --regid "$g" --clear-groups "$@"
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "##################################################################" >&2
		echo "### [$NAME] NOT ROOT: the checks with a second uid are SKIPPED ###" >&2
		echo "### (setpriv and groupadd need root; CI runs them as root)     ###" >&2
		echo "##################################################################" >&2
		return 1
	fi
	return 0
}

finish() {
	stop_daemon
	if grep -qE "Sanitizer|runtime error:" "$T/daemon.log" 2>/dev/null; then
		fail "sanitizer report in the daemon log"
		grep -A 12 -E "Sanitizer|runtime error:" "$T/daemon.log" | head -n 40 >&2
	fi
	if [ "$FAILED" -ne 0 ] && [ -f "$T/daemon.log" ]; then
		echo "--- [$NAME] daemon log (tail) ---" >&2
		tail -n 20 "$T/daemon.log" >&2
	fi
	echo "[$NAME] $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}
