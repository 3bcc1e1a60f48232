# Shell helpers for the PAM test scripts: counters, a private directory,
# and the one way the scripts mint (switch mint/revoke to satokenctl
# here, and only here).  Tokens live in files, never in argv or the
# environment of another process.
#
# Needs: SATFIX, PAM_MODULE (absolute paths).

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

: "${SATFIX:?set SATFIX}" "${PAM_MODULE:?set PAM_MODULE}"

# fixture_init DIR: a store, its config and an audit log under DIR
fixture_init() {
	T=$1
	DB=$T/satoken.db
	CONF=$T/satoken.conf
	AUDIT=$T/audit.log
	cat >"$CONF" <<EOC
database = $DB
audit = file:$AUDIT
lock_timeout_ms = ${LOCK_TIMEOUT_MS:-1000}
EOC
	"$SATFIX" "$DB" init
}

# sat ARGS...: a store change other than minting (group, account, policy)
sat() {
	"$SATFIX" "$DB" "$@"
}

# mint ACCOUNT NAME FILE [satfix mint options]: the token into FILE (0600)
mint() {
	local account=$1 name=$2 file=$3
	shift 3
	(umask 077 && "$SATFIX" "$DB" mint "$account" "$name" "$@" >"$file")
}

# token_id FILE: the public id of the token in FILE
token_id() {
	cut -c5-16 <"$1"
}

# revoke FILE: revoke the token in FILE
revoke() {
	"$SATFIX" "$DB" revoke "$(token_id "$1")"
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
