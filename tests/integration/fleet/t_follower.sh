#!/bin/bash
# Followers: the sample provider and two real satokends configured only
# through DESIGN's directory keys, logins through the real PAM module
# (pamtester under pam_wrapper) on each.  The directory is written with
# ldap* tools bound as the control host, as a control host would write
# it.  What a user would notice: a token added in the directory logs in
# on every follower; a revocation is refused on every follower; with the
# directory down logins go on and mutations are refused; a follower that
# was away converges, and never keeps a token the directory deleted
# meanwhile (ITS#9823's class), also when its cookie is past the
# provider's session log.
. "$(dirname "$0")/lib.sh"
: "${SATOKEND:?}" "${SATOKENCTL:?}" "${PAM_MODULE:?}" "${FLEETTOK:?}"
SATD_PIDS=()
cleanup_followers() {
	local p
	for p in "${SATD_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	cleanup
}
trap cleanup_followers EXIT

mkdir -p "$T/prov"
# a session log of 4 changes: a follower away for more is past it
sample_conf provider.conf prov 's|^syncprov-sessionlog.*|syncprov-sessionlog 4|' \
	>"$T/prov/slapd.conf"
start_slapd prov || { fail "provider did not start"; finish; exit 1; }
P=$URI_prov
PPORT=$PORT
for h in control1 follower1 follower2; do host_secret $h; done
as_root prov ldapadd -f "$LDAPDIR/base.ldif" >/dev/null || fail "base.ldif"
as_root prov ldapadd >/dev/null <<EOF || fail "follower2's entry"
dn: cn=follower2,ou=hosts,$SUB
objectClass: satokenHost
cn: follower2
EOF
for h in control1 follower1 follower2; do
	as_root prov ldappasswd -T "$T/pw.$h" "cn=$h,ou=hosts,$SUB" >/dev/null ||
		fail "password of $h"
done
head -c 32 /dev/urandom >"$T/fleet.key"
as_root prov ldapadd >/dev/null <<EOF || fail "the fleet key"
dn: cn=key,$SUB
objectClass: satokenKey
cn: key
satokenHmacKey:: $(base64 -w0 <"$T/fleet.key")
EOF

ctl_ldap() { as_host "$P" control1 "$@" >/dev/null; }
now=$(date +%s)
ctl_ldap ldapadd <<EOF || fail "group, account, policy"
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
EOF
ctl_ldap ldapmodify <<EOF || fail "policy"
dn: cn=policy,$SUB
changetype: modify
add: satokenPolicyGroup
satokenPolicyGroup: svc
EOF

# add_token NAME: a token for ci, its secret in $T/tok.NAME, its id in ID_NAME
add_token() {
	local out id dg
	out=$("$FLEETTOK" "$T/fleet.key" "$T/tok.$1") || { fail "fleettok"; return 1; }
	id=${out%% *}
	dg=${out#* }
	eval "ID_$1=$id"
	ctl_ldap ldapadd <<-EOF || fail "token $1"
	dn: satokenTokenId=$id,ou=tokens,$SUB
	objectClass: satokenToken
	satokenTokenId: $id
	satokenAccount: ci
	satokenTokenName: $1
	satokenDigest:: $dg
	satokenCreatedAt: $(date +%s)
	satokenExpiresAt: $(($(date +%s) + 3600))
	EOF
}
revoke_token() {
	ctl_ldap ldapmodify <<-EOF
	dn: satokenTokenId=$1,ou=tokens,$SUB
	changetype: modify
	add: satokenRevokedAt
	satokenRevokedAt: $(date +%s)
	EOF
}
add_token one
add_token two
add_token three

# follower_start N: satokend as cn=followerN, its store and socket in $T/fN
follower_start() {
	local n=$1 d=$T/f$1 i
	mkdir -p "$d"
	chmod 755 "$d"
	cat >"$d/satoken.conf" <<EOF
database = $d/satoken.db
socket = $d/satokend.sock
audit = file:$d/audit.log
admin_users = $(id -u)
rate_limit = 0
directory = $P
directory_base = $BASE
directory_bind_dn = cn=follower$n,ou=hosts,$SUB
directory_password_file = $T/pw.follower$n
directory_role = follower
host_name = follower$n
usage_socket = $d/usage.sock
usage_flush = 1s
EOF
	chmod 0644 "$d/satoken.conf"
	mkdir -p "$d/pam.d"
	printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
		"$PAM_MODULE" "$d/satoken.conf" "$PAM_MODULE" "$d/satoken.conf" \
		>"$d/pam.d/sattest"
	printf 'auth required pam_deny.so\naccount required pam_deny.so\n' \
		>"$d/pam.d/other"
	SATOKEND_FLEET_BACKOFF_MS=200 SATOKEND_FLEET_HEARTBEAT_MS=600000 \
		SATOKEND_FLEET_USAGE_MS=1000 SATOKEND_FLEET_CONTACT_MS=1000 \
		"$SATOKEND" --foreground \
		--config "$d/satoken.conf" 2>>"$d/satokend.log" &
	eval "FPID_$n=$!"
	SATD_PIDS+=("$!")
	for i in $(seq 200); do
		"$SATOKENCTL" --socket "$d/satokend.sock" whoami >/dev/null 2>&1 &&
			return 0
		sleep 0.05
	done
	fail "follower$n did not start: $(tail -5 "$d/satokend.log")"
	return 1
}
follower_stop() {
	local v=FPID_$1
	kill "${!v}" 2>/dev/null
	wait "${!v}" 2>/dev/null
}
# login N TOKEN: the token through pam_satoken.so on follower N
login() {
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/f$1/pam.d" \
		LD_PRELOAD="${PAMT_PRELOAD:-libpam_wrapper.so}" \
		ASAN_OPTIONS=detect_leaks=0 \
		pamtester sattest ci authenticate <"$T/tok.$2" >/dev/null 2>&1
}
refused() { ! login "$@"; }
fctl() {
	local n=$1
	shift
	"$SATOKENCTL" --socket "$T/f$n/satokend.sock" "$@"
}

follower_start 1
follower_start 2
for n in 1 2; do
	wait_for "follower$n: a token added in the directory logs in" login $n one
	check "follower$n: ...and another" login $n two
done

# --- revocation: refused everywhere --------------------------------------
revoke_token "$ID_one" >/dev/null || fail "revoke one"
for n in 1 2; do
	wait_for "follower$n: the revoked token is refused" refused $n one
	check "follower$n: ...the others still log in" login $n two
	check "follower$n: ...the store is the directory's copy" \
		bash -c "'$SATOKENCTL' --socket '$T/f$n/satokend.sock' --json token show '$ID_one' | grep -q revoked_at"
done

# --- each follower reports in its position how far it has applied -------
csn_of() {	# DN ATTR
	as_root prov ldapsearch -LLL -b "$1" -s base "$2" | sed -n "s/^$2: //p"
}
rev_csn=$(csn_of "satokenTokenId=$ID_one,ou=tokens,$SUB" entryCSN)
applied_past() {	# N: its position's satokenApplied at or past the revocation
	local a
	a=$(csn_of "cn=follower$1,ou=positions,$SUB" satokenApplied)
	[ -n "$a" ] && [[ ! "$a" < "$rev_csn" ]]
}
for n in 1 2; do
	wait_for "follower$n: its position (added by itself) names the revocation applied" applied_past $n
	check "follower$n: ...and its last contact" \
		test -n "$(csn_of "cn=follower$n,ou=positions,$SUB" satokenLastContact)"
done
# no host follows the positions (each would bring every follower every
# host's position, N*N in a fleet): asked for fleet status, it reads
# them from the directory (t_wait checks the figures); at most once a
# second, however often it is asked
check "follower1: fleet status names both followers" \
	bash -c "'$SATOKENCTL' --socket '$T/f1/satokend.sock' --json fleet status | jq -e '[.items[].host] | index(\"follower1\") and index(\"follower2\")'"

# a host's own writes must not count as applied changes, or every host
# would write for every other, forever
h1=$(csn_of "cn=follower1,ou=hosts,$SUB" entryCSN)
a1=$(csn_of "cn=follower1,ou=positions,$SUB" satokenApplied)
sleep 2.5
check "a quiet fleet writes no host entry" \
	test "$h1" = "$(csn_of "cn=follower1,ou=hosts,$SUB" entryCSN)"
check "  ...and moves no position" \
	test "$a1" = "$(csn_of "cn=follower1,ou=positions,$SUB" satokenApplied)"

# --- last use over the fleet: each host folds its own logins' use into
# the directory under its entry; every host keeps the latest ----------
used_on() {	# N ID: follower N shows a last use of ID through sattest
	fctl "$1" --json token show "$2" |
		jq -e '.last_used_at != null and .last_used_service == "sattest"' >/dev/null
}
unused_on() { ! used_on "$@"; }
reported_by() {	# N ID: follower N's entry holds a report of ID
	test -n "$(csn_of "satokenTokenId=$2,cn=follower$1,ou=hosts,$SUB" satokenLastUsedAt 2>/dev/null)"
}
check "follower2: token three has no last use yet" unused_on 2 "$ID_three"
check "follower1: token three logs in" login 1 three
wait_for "follower1: its last use is recorded" used_on 1 "$ID_three"
wait_for "the directory holds it under follower1's own entry" \
	reported_by 1 "$ID_three"
wait_for "follower2: the last use on follower1 reaches it" used_on 2 "$ID_three"
u1=$(fctl 1 --json token show "$ID_three" | jq -r .last_used_at)
check "follower2: ...the same time follower1 recorded" \
	test "$(fctl 2 --json token show "$ID_three" | jq -r .last_used_at)" = "$u1"
not_reported_by() { ! reported_by "$@"; }
check "follower2's own entry holds no report of it" \
	not_reported_by 2 "$ID_three"

# --- followers do not take mutations -------------------------------------
expect_rc "follower1: a mint is READ_ONLY (exit 8)" 8 \
	fctl 1 token mint ci --name local
check "  ...naming the directory" grep -q "$P" <<<"$OUT"
expect_rc "follower1: an account create is READ_ONLY" 8 fctl 1 account create other

# --- an offline budget (--max-offline): a token with 5 s of it -----------
add_token off
ctl_ldap ldapmodify <<EOF || fail "satokenMaxOffline on off"
dn: satokenTokenId=$ID_off,ou=tokens,$SUB
changetype: modify
add: satokenMaxOffline
satokenMaxOffline: 5
EOF
budget_5() { fctl 1 --json token show "$ID_off" | jq -e '.max_offline == 5'; }
wait_for "follower1: the token's offline budget is copied" budget_5
check "follower1: in contact, the token with a budget logs in" login 1 off
stale() {	# N: follower N refuses off, as store_stale
	fctl "$1" token verify ci <"$T/tok.off" | grep -qx store_stale
}

# --- the directory down --------------------------------------------------
kill "$PID_prov"
wait "$PID_prov" 2>/dev/null
for n in 1 2; do
	check "follower$n: directory down, a valid token still logs in" login $n two
	check "follower$n: ...and the revoked one is still refused" refused $n one
done
wait_for "follower1: out of contact past its budget, the token is refused" \
	refused 1 off
check "follower1: ...as store_stale" stale 1
check "follower1: ...while a token without a budget still logs in" login 1 two
expect_rc "directory down: a mutation is still refused" 8 fctl 2 token revoke "$ID_two"
# the last read is at least a second old by now (the budget's wait)
expect_rc "directory down: fleet status on a follower is UNAVAILABLE (exit 1)" 1 \
	fctl 1 fleet status
check "  ...naming the directory" grep -q "the directory $P" <<<"$OUT"
# a viewer asking again cannot hold the daemon on a silent directory:
# asked within the wait after a failure (1 s, doubling; a busy machine
# may be slower than the first), it answers without trying
not_tried() {
	local i
	for i in 1 2 3 4 5; do
		OUT=$(fctl 1 fleet status 2>&1)
		[ $? = 1 ] || return 1
		grep -q "asked again in [0-9]* s" <<<"$OUT" && return 0
	done
	return 1
}
check "  ...asked again at once: UNAVAILABLE without trying, saying when" not_tried

# --- back, with a follower away meanwhile --------------------------------
start_slapd prov "$PPORT" || { fail "provider did not restart"; finish; exit 1; }
revoke_token "$ID_two" >/dev/null || fail "revoke two"
for n in 1 2; do
	wait_for "follower$n: reconnected, a revocation made after is refused" \
		refused $n two
done
wait_for "follower1: in contact again, the budget token logs in" login 1 off
# seconds of retries: one warning and one notice, not a line a try
unreached_logged_once() {
	[ "$(grep -c "Can't contact LDAP server" "$T/f1/satokend.log")" = 1 ] &&
		grep -q "bound again after [0-9]* attempts in [0-9]* s" \
			"$T/f1/satokend.log"
}
check "follower1: the directory away was logged once, and its return" \
	unreached_logged_once
follower_stop 2
ctl_ldap ldapdelete "satokenTokenId=$ID_three,ou=tokens,$SUB" || fail "delete three"
add_token four
follower_start 2
wait_for "follower2: back, the token added while it was away logs in" login 2 four
check "follower2: ...the token deleted while it was away is refused" refused 2 three
check "follower1: ...as on the follower that stayed" refused 1 three

# --- away past the provider's session log: a full refresh ---------------
follower_stop 2
add_token five
for x in a b c d e f; do add_token "x$x"; done
ctl_ldap ldapdelete "satokenTokenId=$ID_four,ou=tokens,$SUB" || fail "delete four"
follower_start 2
wait_for "follower2: past the session log, it converges" login 2 five
check "follower2: ...and the token deleted meanwhile is gone" refused 2 four
check "follower2: ...revocations made before still hold" refused 2 two

# --- the account's state and a malformed entry, as the directory says ---
set_enabled() {
	ctl_ldap ldapmodify <<-EOF
	dn: satokenName=ci,ou=accounts,$SUB
	changetype: modify
	replace: satokenEnabled
	satokenEnabled: $1
	EOF
}
set_enabled FALSE || fail "disable ci"
wait_for "follower1: the account disabled in the directory, its token is refused" refused 1 five
set_enabled TRUE || fail "enable ci"
wait_for "follower1: ...and enabled again, accepted" login 1 five
# a digest of the wrong length cannot be a token's: the entry does not
# decode, and its last good copy must not go on authenticating
ctl_ldap ldapmodify <<EOF || fail "bad digest"
dn: satokenTokenId=$ID_xa,ou=tokens,$SUB
changetype: modify
replace: satokenDigest
satokenDigest:: AAAA
EOF
wait_for "follower1: a token entry that no longer decodes is refused" refused 1 xa
check "  ...and said so in the log" grep -q "does not decode" "$T/f1/satokend.log"
check "  ...the others still log in" login 1 xb

# --- a SIGHUP that drops the directory keys does not open the store ------
cp "$T/f1/satoken.conf" "$T/f1/fleet.conf"
grep -vE '^(directory|host_name)' "$T/f1/fleet.conf" >"$T/f1/satoken.conf"
kill -HUP "$FPID_1"
wait_for "follower1 reloads a configuration without the directory keys" \
	grep -q 'configuration reloaded' "$T/f1/satokend.log"
check "  ...and says they change on restart" \
	grep -q 'directory changes take effect on restart' "$T/f1/satokend.log"
expect_rc "  ...and still refuses changes (READ_ONLY)" 8 fctl 1 token mint ci --name hup
cp "$T/f1/fleet.conf" "$T/f1/satoken.conf"

# --- a lost store: rebuilt from nothing ---------------------------------
follower_stop 1
rm -f "$T"/f1/satoken.db*
follower_start 1
wait_for "follower1: a lost store is rebuilt from the directory" login 1 five
check "follower1: ...without the tokens deleted or revoked" refused 1 four

# --- a token the directory disables, a canary: refused for what they are
add_token six
add_token seven
wait_for "follower1: two more tokens log in" login 1 six
check "follower1: ...both" login 1 seven
ctl_ldap ldapmodify >/dev/null <<EOF || fail "disable six, canary seven"
dn: satokenTokenId=$ID_six,ou=tokens,$SUB
changetype: modify
add: satokenDisabled
satokenDisabled: TRUE

dn: satokenTokenId=$ID_seven,ou=tokens,$SUB
changetype: modify
add: satokenCanary
satokenCanary: TRUE
EOF
wait_for "follower1: the disabled token is refused" refused 1 six
check "follower1: ...as disabled, not revoked" \
	bash -c "'$SATOKENCTL' --socket '$T/f1/satokend.sock' --json token show '$ID_six' | grep -q '\"status\": *\"disabled\"'"
wait_for "follower1: the canary is refused" refused 1 seven
check "follower1: ...as a canary" \
	bash -c "'$SATOKENCTL' --socket '$T/f1/satokend.sock' --json token show '$ID_seven' | grep -q '\"canary\": *true'"

# a login is a local read (DESIGN "Fleet"): under strace, the one on
# follower1 opens Unix sockets only (the last-use report), no network one
check "follower1: a login under strace succeeds" \
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/f1/pam.d" \
	LD_PRELOAD="${PAMT_PRELOAD:-libpam_wrapper.so}" ASAN_OPTIONS=detect_leaks=0 \
	strace -f -qq -e trace=socket,connect,sendto,sendmsg -o "$T/strace" \
	pamtester sattest ci authenticate <"$T/tok.five"
check "  ...it opened a Unix socket (strace saw the module)" \
	grep -q 'socket(AF_UNIX' "$T/strace"
check "  ...and no other kind: no network call" \
	bash -c "! grep -E 'socket\\(' '$T/strace' | grep -v 'socket(AF_UNIX'"

# stopped as a service manager stops them: cleanly, and (under
# SANITIZE=1) with nothing for ASan or UBSan to report
for n in 1 2; do
	v=FPID_$n
	kill "${!v}"
	wait "${!v}"
	rc=$?
	check "follower$n: stops cleanly on SIGTERM" test "$rc" = 0
done
check "the followers logged no sanitizer report" \
	bash -c "! grep -qE 'Sanitizer|runtime error' '$T'/f*/satokend.log"

finish
