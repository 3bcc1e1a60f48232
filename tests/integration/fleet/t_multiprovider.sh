#!/bin/bash
# The two-provider sample (etc/ldap/multi-provider.conf, provider.conf
# with the replication added): each provider takes writes and the other
# has them, so the fleet keeps taking mutations with one provider down,
# and a write made while one was down reaches it when it comes back.
. "$(dirname "$0")/lib.sh"

# one set of access rules: an edit of provider.conf not made in
# multi-provider.conf too would leave two providers unlike one
if diff <(sed '/^# multi-provider: begin/,/^# multi-provider: end/d' "$LDAPDIR/multi-provider.conf") \
	"$LDAPDIR/provider.conf" >"$T/sample.diff"; then
	pass
else
	fail "multi-provider.conf is not provider.conf and its marked replication lines: $(head -n 5 "$T/sample.diff")"
fi

p1=$(free_port)
p2=$(free_port)
while [ "$p2" = "$p1" ]; do p2=$(free_port); done
host_secret replicator
host_secret control1
for n in mp1 mp2; do
	mkdir -p "$T/$n"
	sample_conf multi-provider.conf "$n" \
		"s|ldap://provider1.example.org/|ldap://127.0.0.1:$p1/|g" \
		"s|ldap://provider2.example.org/|ldap://127.0.0.1:$p2/|g" \
		"s|REPLICATOR-SECRET|$(cat "$T/pw.replicator")|g" >"$T/$n/slapd.conf"
	chmod 0600 "$T/$n/slapd.conf"
	check "$n: the sample multi-provider.conf passes slaptest" slaptest -u -f "$T/$n/slapd.conf"
done
start_slapd mp1 "$p1" || { fail "provider 1 did not start"; finish; exit 1; }
# the subtree is made once, on one provider, the replicator's password
# included: the other gets everything by replication
check "base.ldif on provider 1" as_root mp1 ldapadd -f "$LDAPDIR/base.ldif"
check "the replicator's password" as_root mp1 ldappasswd -T "$T/pw.replicator" "cn=replicator,$SUB"
check "control1's password" as_root mp1 ldappasswd -T "$T/pw.control1" "cn=control1,ou=hosts,$SUB"
start_slapd mp2 "$p2" || { fail "provider 2 did not start"; finish; exit 1; }
U1=ldap://127.0.0.1:$p1/
U2=ldap://127.0.0.1:$p2/

group_on() {	# URI GROUP: GROUP exists there, as control1 reads it
	as_host "$1" control1 ldapsearch -LLL -b "satokenName=$2,ou=groups,$SUB" -s base dn 2>/dev/null | grep -q '^dn:'
}
add_group() {	# URI GROUP
	as_host "$1" control1 ldapadd <<-EOF
	dn: satokenName=$2,ou=groups,$SUB
	objectClass: satokenGroup
	satokenName: $2
	satokenCreatedAt: $(date +%s)
EOF
}
bind_ok() { as_host "$1" control1 ldapwhoami >/dev/null 2>&1; }
wait_for "provider 2 has the subtree: control1 binds there" bind_ok "$U2"
check "a control host writes on provider 1" add_group "$U1" g1
wait_for "  ...provider 2 has it" group_on "$U2" g1
check "a control host writes on provider 2" add_group "$U2" g2
wait_for "  ...provider 1 has it" group_on "$U1" g2
expect_rc "the same name on the other provider: alreadyExists" 68 add_group "$U1" g2

# provider 2 down: provider 1 takes writes; provider 2 has them when back
kill "$PID_mp2" && wait "$PID_mp2" 2>/dev/null
check "with provider 2 down, provider 1 takes a write" add_group "$U1" g3
start_slapd mp2 "$p2" || fail "provider 2 did not restart"
wait_for "provider 2, back, catches up" group_on "$U2" g3

finish
