# Shared by the fleet tests: private slapd instances built from the
# samples in etc/ldap/ (only the lines the samples mark "adjust" are
# rewritten), LDAP clients as a given host, and pass/fail counting in the
# daemon tests' format ("[t_NAME] N passed, N failed").
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
LDAPDIR=$ROOT/etc/ldap
NAME=$(basename "$0" .sh)
PASSED=0
FAILED=0
PATH=$PATH:/usr/sbin
T=$(mktemp -d "${TMPDIR:-/tmp}/satfleet.XXXXXX")
SLAPD_PIDS=()
BASE=dc=example,dc=org
SUB=ou=satoken,$BASE
# the uid running the test administers its slapds over ldapi (peercred)
ROOTDN="gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth"

cleanup() {
	local p
	for p in "${SLAPD_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL [$NAME] $*" >&2
}
# check DESCRIPTION CMD...: CMD must succeed
check() {
	local desc=$1
	shift
	if OUT=$("$@" 2>&1); then pass; else fail "$desc: ${OUT:0:400}"; fi
}
# expect_rc DESCRIPTION RC CMD...: CMD must exit with RC (ldap* exit with
# the LDAP result code: 50 insufficientAccess, 68 alreadyExists,
# 122 assertionFailed, 49 invalidCredentials)
expect_rc() {
	local desc=$1 want=$2 rc
	shift 2
	OUT=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then pass; else fail "$desc: exit $rc, expected $want: ${OUT:0:400}"; fi
}
finish() {
	echo "[$NAME] $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# sample_conf SAMPLE NAME [SED-EXPR...]: the sample with its "adjust"
# lines pointed at $T/NAME, printed on stdout
sample_conf() {
	local sample=$1 n=$2
	shift 2
	local e=() x
	for x in "$@"; do e+=(-e "$x"); done
	mkdir -p "$T/$n/db" "$T/$n/log" "$T/$n/positions"
	sed -e "s|^include\([[:space:]]*\)/etc/ldap/schema/satoken.schema.*|include\1$LDAPDIR/satoken.schema|" \
		-e "s|^pidfile.*|pidfile $T/$n/slapd.pid|" \
		-e "s|^argsfile.*|argsfile $T/$n/slapd.args|" \
		-e "\\%^directory.*-\(log\|positions\)\$%!s|^directory.*|directory $T/$n/db|" \
		-e "s|^directory.*-log\$|directory $T/$n/log|" \
		-e "s|^directory.*-positions\$|directory $T/$n/positions|" \
		-e "s|^rootdn\([[:space:]]*\)\"gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth\"|rootdn \"$ROOTDN\"|" \
		"${e[@]}" "$LDAPDIR/$sample"
}

# free_port: a loopback port nobody listens on now
free_port() {
	local p
	while :; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# start_slapd NAME [PORT]: starts $T/NAME/slapd.conf on ldapi://$T/NAME/ldapi
# and PORT, or a free loopback port; sets PORT and URI_<NAME>, LDAPI_<NAME>.
# SLAPD_DEBUG: slapd's -d level (default 0; "stats" logs every operation
# to $T/NAME/slapd.log)
start_slapd() {
	local n=$1 fixed=${2:-} p attempt pid
	mkdir -p "$T/$n/db"
	PORT=
	for attempt in 1 2 3 4 5 6 7 8; do
		p=${fixed:-$((20000 + (RANDOM * 32768 + RANDOM) % 40000))}
		slapd -f "$T/$n/slapd.conf" -d "${SLAPD_DEBUG:-0}" \
			-h "ldap://127.0.0.1:$p/ ldapi://$(printf %s "$T/$n/ldapi" | sed 's|/|%2F|g')" \
			>"$T/$n/slapd.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
				PORT=$p
				break
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if [ -n "$PORT" ]; then
			SLAPD_PIDS+=("$pid")
			eval "PID_$n=$pid"
			break
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# a restart on its port: Debian's slapd 2.5 has aborted on
		# one, once (syncprov_play_accesslog's assertion, consumers
		# coming back with cookies at once); a service manager would
		# start it again, and so does this, up to three times, saying so
		[ -z "$fixed" ] && continue
		grep -q 'Assertion' "$T/$n/slapd.log" && [ "$attempt" -lt 3 ] ||
			break
		echo "$n: slapd aborted on start, started again: $(grep Assertion "$T/$n/slapd.log")" >&2
	done
	[ -n "$PORT" ] || { cat "$T/$n/slapd.log" >&2; return 1; }
	eval "URI_$n=ldap://127.0.0.1:$PORT/"
	eval "LDAPI_$n=ldapi://$(printf %s "$T/$n/ldapi" | sed 's|/|%2F|g')"
}

# as_root NAME TOOL ARGS...: an ldap* tool as the database's root (ldapi)
as_root() {
	local n=$1 tool=$2 v
	shift 2
	v=LDAPI_$n
	"$tool" -Q -Y EXTERNAL -H "${!v}" "$@"
}
# as_host URI HOST TOOL ARGS...: an ldap* tool bound as cn=HOST,ou=hosts
as_host() {
	local uri=$1 h=$2 tool=$3
	shift 3
	"$tool" -x -H "$uri" -D "cn=$h,ou=hosts,$SUB" -y "$T/pw.$h" "$@"
}
# host_secret NAME: a random password for host NAME in $T/pw.NAME (no
# newline: ldap* -y sends the file as is)
host_secret() {
	openssl rand -hex 16 | tr -d '\n' >"$T/pw.$1"
	chmod 0600 "$T/pw.$1"
}
# wait_for DESCRIPTION CMD...: polls CMD until it succeeds (60 s at most:
# replication on a busy machine is slow, but it happens)
wait_for() {
	local desc=$1 i
	shift
	for i in $(seq 600); do
		if "$@" >/dev/null 2>&1; then pass; return 0; fi
		sleep 0.1
	done
	fail "$desc: not within 60 s"
	return 1
}
