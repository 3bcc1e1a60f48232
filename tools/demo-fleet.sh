#!/bin/bash
# make demo-fleet: the fleet on one machine, no root.  The sample
# provider (Debian's slapd with etc/ldap/), a satokend control host and
# three satokend followers,
# each with its own store and socket, logins through pam_satoken.so
# (pamtester under pam_wrapper) on each; the directory stopped and
# logins going on; a revocation made after it is back refused on every
# follower; fleet status.  Every change is made with satokenctl on a
# satokend control host, which writes it to the directory.
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
{
	printf 'dn: cn=key,%s\nobjectClass: satokenKey\ncn: key\nsatokenHmacKey:: %s\n\n' \
		"$SUB" "$(head -c 32 /dev/urandom | base64 -w0)"
	for n in 2 3; do
		printf 'dn: cn=follower%s,ou=hosts,%s\nobjectClass: satokenHost\ncn: follower%s\n\n' "$n" "$SUB" "$n"
	done
} | as_root prov ldapadd >/dev/null
for h in control1 follower1 follower2 follower3; do
	host_secret $h
	as_root prov ldappasswd -T "$T/pw.$h" "cn=$h,ou=hosts,$SUB" >/dev/null
done

# host NAME ROLE: a satokend with the DESIGN keys, its store and socket in $T/NAME
host() {
	local n=$1 d=$T/$1 i
	mkdir -p "$d/pam.d"
	chmod 755 "$d"
	cat >"$d/satoken.conf" <<EOF
database = $d/satoken.db
socket = $d/satokend.sock
audit = file:$d/audit.log
admin_users = $(id -u)
directory = $P
directory_base = $BASE
directory_bind_dn = cn=$n,ou=hosts,$SUB
directory_password_file = $T/pw.$n
directory_role = $2
host_name = $n
EOF
	chmod 0644 "$d/satoken.conf"
	printf 'auth required %s conf=%s\n' "$BIN/pam/pam_satoken.so" "$d/satoken.conf" >"$d/pam.d/demo"
	printf 'auth required pam_deny.so\n' >"$d/pam.d/other"
	SATOKEND_FLEET_HEARTBEAT_MS=2000 "$BIN/daemon/satokend" --foreground \
		--config "$d/satoken.conf" 2>>"$d/satokend.log" &
	PIDS+=($!)
	for i in $(seq 200); do
		"$BIN/cli/satokenctl" --socket "$d/satokend.sock" whoami >/dev/null 2>&1 && break
		sleep 0.05
	done
}
ctl() { local n=$1; shift; "$BIN/cli/satokenctl" --socket "$T/$n/satokend.sock" "$@"; }

say "a control host (directory_role = control) and three followers, each its own satokend, store and socket"
host control1 control
sed -n '/^directory/,$p' "$T/control1/satoken.conf"
for n in 1 2 3; do host follower$n follower; done

say "on the control host, satokenctl as everywhere: a group, the policy, an account, a token"
# it takes changes once the fleet's HMAC key has reached its store
for i in $(seq 100); do ctl control1 group create svc >/dev/null 2>&1 && break; sleep 0.1; done
run "$BIN/cli/satokenctl" --socket "$T/control1/satokend.sock" policy add svc
run "$BIN/cli/satokenctl" --socket "$T/control1/satokend.sock" account create ci --role viewer --group svc
printf '$ %s\n' "satokenctl --socket .../control1/satokend.sock --json token mint ci --name deploy --ttl 1h"
ctl control1 --json token mint ci --name deploy --ttl 1h >"$T/mint.json"
jq -j .token "$T/mint.json" >"$T/tok.deploy"
chmod 0600 "$T/tok.deploy"
ID=$(jq -r .id "$T/mint.json")
echo "token $ID for account ci, acknowledged once in the directory and in the control host's store"
echo "(its secret in a file of mode 0600, never in argv)"

login() {	# N: the token through the PAM module on follower N
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/follower$1/pam.d" LD_PRELOAD="$PRELOAD" \
		ASAN_OPTIONS=detect_leaks=0 pamtester demo ci authenticate <"$T/tok.deploy" >/dev/null 2>&1
}
logins() {	# ok or refused, on every follower
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
run "$BIN/cli/satokenctl" --socket "$T/control1/satokend.sock" token revoke "$ID"
echo "(exit $?: UNAVAILABLE, nothing changed)"
run "$BIN/cli/satokenctl" --socket "$T/follower2/satokend.sock" token revoke "$ID"
echo "(exit $?: READ_ONLY, a follower takes no changes)"

say "the directory is back; the control host revokes the token"
start_slapd prov "$PPORT" >/dev/null || exit 1
for i in $(seq 100); do ctl control1 token revoke "$ID" >/dev/null 2>&1 && break; sleep 0.1; done
echo "\$ satokenctl --socket .../control1/satokend.sock token revoke $ID   (ok after $i tries: the control host reconnects)"
t0=$(date +%s%N)
until_all refused
echo "refused on all three within $((($(date +%s%N) - t0) / 1000000)) ms of the control host's answer"
logins

say "a change confirmed everywhere: --wait returns once every host has applied it"
sleep 1.5
run "$BIN/cli/satokenctl" --socket "$T/control1/satokend.sock" group create ops --wait=10s
echo "(exit $?: 0 once all four hosts wrote a position that covers the change; 9, NOT_CONFIRMED, naming the others, if the time runs out)"

say "fleet status, on the control host"
sleep 2.5
run "$BIN/cli/satokenctl" --socket "$T/control1/satokend.sock" fleet status
