#!/bin/bash
# --wait across the two-provider sample: a control host writes on
# provider 1, followers read from provider 1 and from provider 2.  A
# host's position then holds one CSN per provider, and a change is
# confirmed only by a CSN of the provider that made it, so --wait
# returns when the follower of provider 2 has it too, not before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"

p1=$(free_port)
p2=$(free_port)
while [ "$p2" = "$p1" ]; do p2=$(free_port); done
host_secret replicator
for n in mp1 mp2; do
	mkdir -p "$T/$n"
	sample_conf multi-provider.conf "$n" \
		"s|ldap://provider1.example.org/|ldap://127.0.0.1:$p1/|g" \
		"s|ldap://provider2.example.org/|ldap://127.0.0.1:$p2/|g" \
		"s|REPLICATOR-SECRET|$(cat "$T/pw.replicator")|g" >"$T/$n/slapd.conf"
	chmod 0600 "$T/$n/slapd.conf"
done
start_slapd mp1 "$p1" || { fail "provider 1 did not start"; finish; exit 1; }
as_root mp1 ldapadd -f "$LDAPDIR/base.ldif" >/dev/null || fail "base.ldif"
as_root mp1 ldappasswd -T "$T/pw.replicator" "cn=replicator,$SUB" >/dev/null ||
	fail "the replicator's password"
as_root mp1 ldapadd >/dev/null <<EOF || fail "the entries of control2 and follower2"
dn: cn=follower2,ou=hosts,$SUB
objectClass: satokenHost
cn: follower2

dn: cn=control2,ou=hosts,$SUB
objectClass: satokenHost
cn: control2
EOF
as_root mp1 ldapmodify >/dev/null <<EOF || fail "control2 in cn=control"
dn: cn=control,$SUB
changetype: modify
add: member
member: cn=control2,ou=hosts,$SUB
EOF
for h in control1 control2 follower1 follower2; do
	host_secret $h
	as_root mp1 ldappasswd -T "$T/pw.$h" "cn=$h,ou=hosts,$SUB" >/dev/null ||
		fail "password of $h"
done
as_root mp1 ldapadd >/dev/null <<EOF || fail "the fleet key"
dn: cn=key,$SUB
objectClass: satokenKey
cn: key
satokenHmacKey:: $(head -c 32 /dev/urandom | base64 -w0)
EOF
start_slapd mp2 "$p2" || { fail "provider 2 did not start"; finish; exit 1; }
U1=ldap://127.0.0.1:$p1/
U2=ldap://127.0.0.1:$p2/
bind_ok() { as_host "$U2" follower1 ldapwhoami >/dev/null 2>&1; }
wait_for "provider 2 has the subtree" bind_ok

DIRECTORY=$U1 host_start control1 control
DIRECTORY=$U2 host_start follower1 follower
DIRECTORY=$U1 host_start follower2 follower
DIRECTORY=$U2 host_start control2 control
ready() { ctl control1 group create svc; }
wait_for "control1: takes changes once it holds the fleet key" ready
check "an account in a group on the policy" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' account create ci --group svc >/dev/null &&
	'$SATOKENCTL' --socket '$T/control1/satokend.sock' policy add svc >/dev/null"
known() { [ "$(ctl control1 --json fleet status | jq '.items | length')" = 4 ]; }
wait_for "control1 knows the four hosts" known

check "token mint --wait through provider 1: exit 0" mint control1 ci one --wait=30s
check "  ...the position is one CSN, provider 1's" \
	jq -e '.confirmed == true and (.csn | test("#00[0-9a-f]#") and (test(";") | not))' "$T/mint.one"
check "  ...it logs in at once on the follower of provider 2" login follower1 ci "$T/tok.one"
check "  ...and of provider 1" login follower2 ci "$T/tok.one"
check "token revoke --wait: exit 0" ctl control1 token revoke "$(cat "$T/id.one")" --wait=30s
check "  ...refused at once on the follower of provider 2" refused follower1 ci "$T/tok.one"
check "  ...and of provider 1" refused follower2 ci "$T/tok.one"
check "control2, through provider 2: token mint --wait, exit 0" \
	mint control2 ci two --wait=30s
check "  ...the position is provider 2's CSN, not provider 1's" \
	bash -c "[ \"\$(jq -r .csn '$T/mint.two' | cut -d'#' -f3)\" != \"\$(jq -r .csn '$T/mint.one' | cut -d'#' -f3)\" ]"
check "  ...it logs in at once on the follower of provider 1" login follower2 ci "$T/tok.two"
applied_both() {
	[ "$(ldapsearch -LLL -o ldif-wrap=no -x -H "$U1" -D "cn=follower2,ou=hosts,$SUB" \
		-y "$T/pw.follower2" -b "ou=positions,$SUB" satokenApplied |
		grep -cE '^satokenApplied: [^;]+#00[0-9a-f]#[^;]+;[^;]+$')" = 4 ]
}
wait_for "every host's position comes to hold a CSN of each provider" applied_both

# provider 2 down: the hosts that read from it cannot confirm, and are named
kill "$PID_mp2" && wait "$PID_mp2" 2>/dev/null
expect_rc "provider 2 down: --wait=3s names its hosts, exit 9" 9 \
	ctl control1 group create later --wait=3s
check "  ...control2 and follower1, no other" \
	bash -c "grep -q 'NOT_CONFIRMED: 2 of 4 hosts.*: control2, follower1 (' <<<'$OUT'"
start_slapd mp2 "$p2" || fail "provider 2 did not restart"
check "provider 2 back: a new --wait confirms on every host" \
	ctl control1 group create again --wait=60s

finish
