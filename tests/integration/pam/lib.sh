# Shell helpers for the PAM test scripts: counters, a private directory,
# and the one way the scripts change the store: a private satokend driven
# with satokenctl (tests/integration/satokend.sh), as a sysadmin would.
# Tokens live in files, never in argv or the environment of another
# process.
#
# Needs: PAM_MODULE, and for fixture_init SATOKEND and SATOKENCTL
# (absolute paths).

pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "FAIL - $*"
}

# check "what" command...: passes when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# loud, so that nobody mistakes a skip for a pass
loud() {
	echo "************************************************************"
	echo "*** $*"
	echo "************************************************************"
}

: "${PAM_MODULE:?set PAM_MODULE}"
SAT_LIB_DIR=$(dirname "${BASH_SOURCE[0]}")

# fixture_init DIR: a store, its config, an audit log and the daemon
# that writes the store, under DIR.  fixture_stop ends the daemon.
fixture_init() {
	# the daemon fixture only for the scripts that change the store
	. "$SAT_LIB_DIR/../satokend.sh"
	T=$1
	DB=$T/satoken.db
	CONF=$T/satoken.conf
	AUDIT=$T/audit.log
	cat >"$CONF" <<EOC
database = $DB
audit = file:$AUDIT
lock_timeout_ms = ${LOCK_TIMEOUT_MS:-1000}
EOC
	satd_start "$T" "$DB" "$AUDIT"
}

fixture_stop() {
	if declare -F satd_stop >/dev/null; then
		satd_stop
	fi
}

# sat group NAME | sat policy GROUP... | sat account NAME [-g G]... [-d]
sat() {
	case $1 in
	group) ctl group create "$2" >/dev/null ;;
	policy) shift; ctl policy set "$@" >/dev/null ;;
	account) shift; satd_account "$@" ;;
	*) echo "sat: unknown change $1" >&2; return 2 ;;
	esac
}

# mint ACCOUNT NAME FILE [-t TTL] [-s SVC] [-f CIDR]: the token into FILE
mint() {
	satd_mint "$@"
}

# token_id FILE: the public id of the token in FILE
token_id() {
	cut -c5-16 <"$1"
}

# revoke FILE: revoke the token in FILE
revoke() {
	ctl token revoke "$(token_id "$1")" >/dev/null
}

# audit_last: the last audit line
audit_last() {
	tail -n 1 "$AUDIT" 2>/dev/null
}

# audit_has PATTERN...: the last audit line holds every fixed string
audit_has() {
	local line
	line=$(audit_last)
	for p in "$@"; do
		case " $line " in
		*" $p "*) ;;
		*) echo "   audit line lacks '$p': $line"; return 1 ;;
		esac
	done
}

# no_secrets FILE TOKENFILE...: no token's secret part appears in FILE
no_secrets() {
	local f=$1 t s
	shift
	for t in "$@"; do
		s=$(cut -c17-48 <"$t")
		if grep -qF -- "$s" "$f" || grep -qF -- "$(cut -c17-24 <"$t")" "$f"; then
			echo "   a secret of $t is in $f"
			return 1
		fi
	done
}
