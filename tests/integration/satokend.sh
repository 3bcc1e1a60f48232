# Shell fixture shared by the end-to-end tests of the modules: a private
# satokend on a socket in the test's directory, and satokenctl against
# it, so that tokens are minted, revoked and scoped the way a sysadmin
# does it.  Source it; it needs SATOKEND and SATOKENCTL (absolute paths).
#
#   satd_start DIR DATABASE AUDIT   start it (its own config in DIR)
#   ctl ARGS...                     satokenctl against it
#   satd_stop                       SIGTERM and wait
#   satd_mint ACCOUNT NAME FILE [-t TTL] [-s SERVICE]... [-f CIDR]...
#                                   the token into FILE (mode 0600), with
#                                   its newline; never through argv
#   satd_account NAME [-g GROUP]... [-d]
#                                   create or update, enabled unless -d
: "${SATOKEND:?set SATOKEND}" "${SATOKENCTL:?set SATOKENCTL}"
SATD_PID=
SATD_SOCK=

ctl() {
	"$SATOKENCTL" --socket "$SATD_SOCK" "$@"
}

satd_start() {
	local dir=$1 db=$2 audit=$3 i
	SATD_SOCK=$dir/satokend.sock
	# its own file: the modules' config stays as each test wrote it
	cat >"$dir/satokend.conf" <<EOF
database = $db
socket = $SATD_SOCK
audit = file:$audit
admin_users = $(id -u)
rate_limit = 0
EOF
	chmod 0644 "$dir/satokend.conf"
	"$SATOKEND" --foreground --config "$dir/satokend.conf" \
		2>>"$dir/satokend.log" &
	SATD_PID=$!
	for i in $(seq 1 200); do
		if ctl whoami >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	echo "satokend did not start:" >&2
	cat "$dir/satokend.log" >&2
	return 1
}

satd_stop() {
	if [ -n "$SATD_PID" ]; then
		kill "$SATD_PID" 2>/dev/null
		wait "$SATD_PID" 2>/dev/null
		SATD_PID=
	fi
}

satd_mint() {
	local account=$1 name=$2 file=$3 opts=()
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		-t) opts+=(--ttl "$2"); shift 2 ;;
		-s) opts+=(--service "$2"); shift 2 ;;
		-f) opts+=(--from "$2"); shift 2 ;;
		*) echo "satd_mint: unknown option $1" >&2; return 2 ;;
		esac
	done
	(umask 077 && ctl token mint "$account" --name "$name" "${opts[@]}" \
		>"$file" 2>/dev/null)
}

satd_account() {
	local name=$1 groups=() gopts=() disabled=0 g
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-g) groups+=("$2"); shift 2 ;;
		-d) disabled=1; shift ;;
		*) echo "satd_account: unknown option $1" >&2; return 2 ;;
		esac
	done
	for g in "${groups[@]}"; do gopts+=(--group "$g"); done
	if ctl account show "$name" >/dev/null 2>&1; then
		ctl account update "$name" "${gopts[@]}" >/dev/null || return 1
	else
		ctl account create "$name" "${gopts[@]}" >/dev/null || return 1
	fi
	if [ "$disabled" = 1 ]; then
		ctl account disable "$name" >/dev/null
	else
		ctl account enable "$name" >/dev/null
	fi
}
