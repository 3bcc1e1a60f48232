#!/bin/bash
# make demo-fleet: the fleet on one machine, no root.  The sample
# provider (Debian's slapd with etc/ldap/), three satokend followers,
# each with its own store and socket, logins through pam_satoken.so
# (pamtester under pam_wrapper) on each; the directory stopped and
# logins going on; a revocation made after it is back refused on every
# follower; fleet status.  The control-host role of satokend is not
# built yet: here the control identity writes the directory with the
# ldap tools, as a control host will.
. "$(dirname "$0")/../tests/integration/fleet/lib.sh"
B=${B:-build}
BIN=$ROOT/$B
PRELOAD=${DEMO_PRELOAD:-libpam_wrapper.so}
PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	cleanup
}
trap stop_all EXIT
say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "a provider: slapd with etc/ldap/provider.conf and satoken.schema"
mkdir -p "$T/prov"
sample_conf provider.conf prov >"$T/prov/slapd.conf"
start_slapd prov || exit 1
P=$URI_prov
PPORT=$PORT
echo "listening on $P"
as_root prov ldapadd -f "$LDAPDIR/base.ldif" >/dev/null
head -c 32 /dev/urandom >"$T/fleet.key"
{
	printf 'dn: cn=key,%s\nobjectClass: satokenKey\ncn: key\nsatokenHmacKey:: %s\n\n' \
		"$SUB" "$(base64 -w0 <"$T/fleet.key")"
	for n in 2 3; do
		printf 'dn: cn=follower%s,ou=hosts,%s\nobjectClass: satokenHost\ncn: follower%s\n\n' "$n" "$SUB" "$n"
	done
} | as_root prov ldapadd >/dev/null
for h in control1 follower1 follower2 follower3; do
	host_secret $h
	as_root prov ldappasswd -T "$T/pw.$h" "cn=$h,ou=hosts,$SUB" >/dev/null
done

say "the control identity (cn=control1) writes an account, its group, the policy and a token"
now=$(date +%s)
out=$("$BIN/tests/integration/fleet/fleettok" "$T/fleet.key" "$T/tok.deploy")
ID=${out%% *}
as_host "$P" control1 ldapadd >/dev/null <<EOF
dn: satokenName=svc,ou=groups,$SUB
objectClass: satokenGroup
satokenName: svc
satokenCreatedAt: $now

dn: satokenName=ci,ou=accounts,$SUB
objectClass: satokenAccount
satokenName: ci
satokenSerial: 1f2e3d4c5b6a7988
satokenRole: viewer
satokenEnabled: TRUE
satokenCreatedAt: $now
satokenMemberOf: svc

dn: satokenTokenId=$ID,ou=tokens,$SUB
objectClass: satokenToken
satokenTokenId: $ID
satokenAccount: ci
satokenTokenName: deploy
satokenDigest:: ${out#* }
satokenCreatedAt: $now
satokenExpiresAt: $((now + 3600))
EOF
printf 'dn: cn=policy,%s\nchangetype: modify\nadd: satokenPolicyGroup\nsatokenPolicyGroup: svc\n' "$SUB" |
	as_host "$P" control1 ldapmodify >/dev/null
echo "token $ID for account ci (its secret in a file of mode 0600, never in argv)"

say "three followers: satokend with the DESIGN keys, each its own store and socket"
for n in 1 2 3; do
	d=$T/f$n
	mkdir -p "$d/pam.d"
	chmod 755 "$d"
	cat >"$d/satoken.conf" <<EOF
database = $d/satoken.db
socket = $d/satokend.sock
audit = file:$d/audit.log
admin_users = $(id -u)
directory = $P
directory_base = $BASE
directory_bind_dn = cn=follower$n,ou=hosts,$SUB
directory_password_file = $T/pw.follower$n
host_name = follower$n
EOF
	chmod 0644 "$d/satoken.conf"
	printf 'auth required %s conf=%s\n' "$BIN/pam/pam_satoken.so" "$d/satoken.conf" >"$d/pam.d/demo"
	printf 'auth required pam_deny.so\n' >"$d/pam.d/other"
	SATOKEND_FLEET_HEARTBEAT_MS=2000 "$BIN/daemon/satokend" --foreground \
		--config "$d/satoken.conf" 2>>"$d/satokend.log" &
	PIDS+=($!)
	[ "$n" = 1 ] && cat "$d/satoken.conf" | sed -n '/^directory/,$p'
done
login() {	# N: the token through the PAM module on follower N
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/f$1/pam.d" LD_PRELOAD="$PRELOAD" \
		ASAN_OPTIONS=detect_leaks=0 pamtester demo ci authenticate <"$T/tok.deploy" >/dev/null 2>&1
}
ctl() { local n=$1; shift; "$BIN/cli/satokenctl" --socket "$T/f$n/satokend.sock" "$@"; }
logins() {	# WANT: ok or refused on every follower
	local n
	for n in 1 2 3; do
		if login $n; then echo "follower$n: login ok"; else echo "follower$n: login refused"; fi
	done
}
until_all() {	# ok|refused
	local n i
	for n in 1 2 3; do
		for i in $(seq 300); do
			if login $n; then [ "$1" = ok ] && break; else [ "$1" = refused ] && break; fi
			sleep 0.05
		done
	done
}

say "the token logs in through pam_satoken.so on every follower (a local read)"
until_all ok
logins

say "the directory stops: logins go on, changes are refused"
kill "$PID_prov"; wait "$PID_prov" 2>/dev/null
logins
run "$BIN/cli/satokenctl" --socket "$T/f2/satokend.sock" token revoke "$ID"
echo "(exit $?: READ_ONLY)"

say "the directory is back; the control identity revokes the token"
start_slapd prov "$PPORT" >/dev/null || exit 1
t0=$(date +%s%N)
printf 'dn: satokenTokenId=%s,ou=tokens,%s\nchangetype: modify\nreplace: satokenRevokedAt\nsatokenRevokedAt: %s\n' \
	"$ID" "$SUB" "$(date +%s)" | as_host "$P" control1 ldapmodify >/dev/null
until_all refused
echo "refused on all three within $((($(date +%s%N) - t0) / 1000000)) ms of the directory's answer (reconnect included)"
logins

say "fleet status, from any follower"
sleep 2.5
run "$BIN/cli/satokenctl" --socket "$T/f3/satokend.sock" fleet status
