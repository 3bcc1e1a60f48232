# Sourced after lib.sh by the tests that run satokends in a fleet: the
# sample provider with base.ldif, host entries and the fleet key; a
# satokend per host configured only through DESIGN's directory keys,
# with a PAM service of its own; satokenctl and logins on a given host.
: "${SATOKEND:?}" "${SATOKENCTL:?}" "${PAM_MODULE:?}"
SATD_PIDS=()
cleanup_hosts() {
	local p
	for p in "${SATD_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	cleanup
}
trap cleanup_hosts EXIT

# start_fleet_provider CONTROL-HOSTS FOLLOWER-HOSTS: the sample provider
# ($P), every host's entry with a password in $T/pw.HOST, the control
# hosts in cn=control, the fleet key
start_fleet_provider() {
	local h
	mkdir -p "$T/prov"
	sample_conf provider.conf prov >"$T/prov/slapd.conf"
	start_slapd prov || { fail "provider did not start"; return 1; }
	P=$URI_prov
	PPORT=$PORT
	as_root prov ldapadd -f "$LDAPDIR/base.ldif" >/dev/null || fail "base.ldif"
	# base.ldif holds control1 and follower1; the others are added
	for h in $1 $2; do
		host_secret "$h"
		[ "$h" = control1 ] || [ "$h" = follower1 ] ||
			as_root prov ldapadd >/dev/null <<-EOF || fail "$h's entry"
			dn: cn=$h,ou=hosts,$SUB
			objectClass: satokenHost
			cn: $h
			EOF
		as_root prov ldappasswd -T "$T/pw.$h" "cn=$h,ou=hosts,$SUB" \
			>/dev/null || fail "password of $h"
	done
	# a host entry nobody runs would be a host that never confirms
	case " $1 $2 " in
	*" follower1 "*) ;;
	*) as_root prov ldapdelete "cn=follower1,ou=hosts,$SUB" || fail "follower1's entry" ;;
	esac
	for h in $1; do
		[ "$h" = control1 ] ||
			as_root prov ldapmodify >/dev/null <<-EOF || fail "$h in cn=control"
			dn: cn=control,$SUB
			changetype: modify
			add: member
			member: cn=$h,ou=hosts,$SUB
			EOF
	done
	as_root prov ldapadd >/dev/null <<-EOF || fail "the fleet key"
	dn: cn=key,$SUB
	objectClass: satokenKey
	cn: key
	satokenHmacKey:: $(head -c 32 /dev/urandom | base64 -w0)
	EOF
}

# revoked_tokens_ldif ACCOUNT N: N token entries of ACCOUNT, revoked a
# minute ago (so past use), random ids, as LDIF for the provider
revoked_tokens_ldif() {
	python3 - "$SUB" "$(date +%s)" "$1" "$2" <<-'PY'
	import random, string, sys
	sub, now, account, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
	b62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
	for i in range(n):
	    tid = ''.join(random.choice(b62) for _ in range(12))
	    print(f"dn: satokenTokenId={tid},ou=tokens,{sub}\nobjectClass: satokenToken\n"
	          f"satokenTokenId: {tid}\nsatokenAccount: {account}\nsatokenTokenName: t{i}\n"
	          f"satokenDigest:: {'A' * 43}=\nsatokenCreatedAt: {now - 100}\n"
	          f"satokenExpiresAt: {now + 3600}\nsatokenRevokedAt: {now - 50}\n")
	PY
}

# host_start NAME ROLE [CONF-LINE...]: satokend as cn=NAME, its store and
# socket in $T/NAME (the conf is kept across restarts), against
# $DIRECTORY (default $P)
host_start() {
	local n=$1 role=$2 d=$T/$1 i x
	shift 2
	mkdir -p "$d"
	chmod 755 "$d"
	if [ ! -f "$d/satoken.conf" ]; then
		cat >"$d/satoken.conf" <<-EOF
		database = $d/satoken.db
		socket = $d/satokend.sock
		audit = file:$d/audit.log
		admin_users = $(id -u)
		rate_limit = 0
		directory = ${DIRECTORY:-$P}
		directory_base = $BASE
		directory_bind_dn = cn=$n,ou=hosts,$SUB
		directory_password_file = $T/pw.$n
		directory_role = $role
		host_name = $n
		EOF
		for x in "$@"; do echo "$x" >>"$d/satoken.conf"; done
		chmod 0644 "$d/satoken.conf"
	fi
	mkdir -p "$d/pam.d"
	printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
		"$PAM_MODULE" "$d/satoken.conf" "$PAM_MODULE" "$d/satoken.conf" \
		>"$d/pam.d/sattest"
	printf 'auth required pam_deny.so\naccount required pam_deny.so\n' \
		>"$d/pam.d/other"
	SATOKEND_FLEET_BACKOFF_MS=200 \
		SATOKEND_FLEET_HEARTBEAT_MS=${HEARTBEAT_MS:-600000} \
		SATOKEND_FLEET_DELAY_MS=${FLEET_DELAY_MS:-0} \
		"$SATOKEND" --foreground \
		--config "$d/satoken.conf" 2>>"$d/satokend.log" &
	eval "PID_$n=$!"
	SATD_PIDS+=("$!")
	for i in $(seq 200); do
		"$SATOKENCTL" --socket "$d/satokend.sock" whoami >/dev/null 2>&1 &&
			return 0
		sleep 0.05
	done
	fail "$n did not start: $(tail -5 "$d/satokend.log")"
	return 1
}
# host_stop NAME: stops its satokend (SIGTERM) and waits for it
host_stop() {
	local v=PID_$1
	kill "${!v}" 2>/dev/null && wait "${!v}" 2>/dev/null
	return 0
}
ctl() {
	local n=$1
	shift
	"$SATOKENCTL" --socket "$T/$n/satokend.sock" "$@"
}
# login HOST ACCOUNT TOKEN-FILE: through pam_satoken.so on HOST
login() {
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/$1/pam.d" \
		LD_PRELOAD="${PAMT_PRELOAD:-libpam_wrapper.so}" \
		ASAN_OPTIONS=detect_leaks=0 \
		pamtester sattest "$2" authenticate <"$3" >/dev/null 2>&1
}
refused() { ! login "$@"; }
# mint HOST ACCOUNT NAME [ARGS...]: the token in $T/tok.NAME, its id in
# $T/id.NAME, the JSON reply in $T/mint.NAME
mint() {
	local h=$1 a=$2 n=$3
	shift 3
	ctl "$h" --json token mint "$a" --name "$n" --ttl 1h "$@" >"$T/mint.$n" &&
		jq -j .token "$T/mint.$n" >"$T/tok.$n" &&
		jq -j .id "$T/mint.$n" >"$T/id.$n"
}
