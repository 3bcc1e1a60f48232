#!/bin/bash
# The directory side of the fleet, as shipped in etc/ldap/: the schema in
# both forms loads into Debian's slapd and the two say the same; the
# sample provider's access rules hold against each kind of identity (a
# follower reads all it needs, the HMAC key included, and writes only its
# own confirmation and usage reports; a control host writes the fleet's
# entries but not the key nor the control group; anybody else reads
# nothing); a live token name taken twice and a quota past its limit are
# refused by the directory itself; the sample hub replicates the subtree
# (RFC 4533 refreshAndPersist), serves followers, and forwards a
# follower's own write to the provider as that follower.
. "$(dirname "$0")/lib.sh"

# --- the schema: slapd.conf form and cn=config form say the same -------
mkdir "$T/conv"
printf 'include /etc/ldap/schema/core.schema\ninclude %s\n' "$LDAPDIR/satoken.schema" >"$T/conv.conf"
check "satoken.schema loads into slapd" slaptest -f "$T/conv.conf" -F "$T/conv" -n 0
# the definitions slapd made of satoken.schema, against satoken.ldif's,
# each unfolded and without slapd's {N} ordering prefixes
defs() { sed -e ':a;N;$!ba;s/\n //g' "$1" | grep -E '^olc(AttributeTypes|ObjectClasses):' | sed -E 's/^(olc[A-Za-z]+): \{[0-9]+\}/\1: /'; }
conv=$(ls "$T/conv/cn=config/cn=schema/"*satoken.ldif 2>/dev/null)
if [ -n "$conv" ] && [ "$(defs "$conv")" = "$(defs "$LDAPDIR/satoken.ldif")" ] &&
	[ "$(defs "$LDAPDIR/satoken.ldif" | wc -l)" -ge 40 ]; then
	pass
else
	fail "satoken.ldif does not say what satoken.schema says"
fi
# and the LDIF form loads into a cn=config server as a sysadmin would
mkdir -p "$T/cfg/slapd.d" "$T/cfg/db"
cat >"$T/cfg/init.ldif" <<-EOF
	dn: cn=config
	objectClass: olcGlobal
	cn: config
	olcPidFile: $T/cfg/slapd.pid

	dn: cn=schema,cn=config
	objectClass: olcSchemaConfig
	cn: schema

	include: file:///etc/ldap/schema/core.ldif

	include: file://$LDAPDIR/satoken.ldif
EOF
check "satoken.ldif loads into cn=config with slapadd" slapadd -n 0 -F "$T/cfg/slapd.d" -l "$T/cfg/init.ldif"
check "  ...and slaptest accepts the result" slaptest -F "$T/cfg/slapd.d" -u

# --- the sample provider -----------------------------------------------
mkdir -p "$T/prov"
sample_conf provider.conf prov >"$T/prov/slapd.conf"
check "the sample provider.conf passes slaptest" slaptest -u -f "$T/prov/slapd.conf"
start_slapd prov || { fail "provider did not start"; finish; exit 1; }
check "base.ldif loads" as_root prov ldapadd -f "$LDAPDIR/base.ldif"
for h in control1 follower1 follower2 replicator; do host_secret "$h"; done
cat >"$T/more.ldif" <<-EOF
	dn: cn=follower2,ou=hosts,$SUB
	objectClass: satokenHost
	cn: follower2
	userPassword: {CRYPT}!

	dn: cn=key,$SUB
	objectClass: satokenKey
	cn: key
	satokenHmacKey:: $(openssl rand -base64 32)
EOF
check "a second follower and the HMAC key" as_root prov ldapadd -f "$T/more.ldif"
for h in control1 follower1 follower2; do
	check "password for $h" as_root prov ldappasswd -T "$T/pw.$h" "cn=$h,ou=hosts,$SUB"
done
check "password for the replicator" as_root prov ldappasswd -T "$T/pw.replicator" "cn=replicator,$SUB"
P=$URI_prov

# the control host writes the fleet's entries
digest=$(openssl rand -base64 32)
cat >"$T/acct.ldif" <<-EOF
	dn: satokenName=ci,ou=accounts,$SUB
	objectClass: satokenAccount
	satokenName: ci
	satokenSerial: $(openssl rand -hex 16)
	satokenRole: viewer
	satokenEnabled: TRUE
	satokenCreatedAt: $(date +%s)
	satokenLiveCount: 0

	dn: satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB
	objectClass: satokenToken
	satokenTokenId: AAAAAAAAAAAA
	satokenAccount: ci
	satokenTokenName: deploy
	satokenDigest:: $digest
	satokenCreatedAt: $(date +%s)
	satokenExpiresAt: $(($(date +%s) + 3600))
	satokenService: imap

	dn: satokenLiveName=deploy,satokenName=ci,ou=accounts,$SUB
	objectClass: satokenLiveName
	satokenLiveName: deploy
	satokenTokenId: AAAAAAAAAAAA
EOF
check "a control host adds an account, a token and its live name" \
	as_host "$P" control1 ldapadd -f "$T/acct.ldif"
cat >"$T/dupname.ldif" <<-EOF
	dn: satokenLiveName=deploy,satokenName=ci,ou=accounts,$SUB
	objectClass: satokenLiveName
	satokenLiveName: deploy
	satokenTokenId: BBBBBBBBBBBB
EOF
expect_rc "a second control host taking the same live name: alreadyExists" 68 \
	as_host "$P" control1 ldapadd -f "$T/dupname.ldif"
# the quota: an increment asserted against the limit (2 here)
incr() {
	printf 'dn: satokenName=ci,ou=accounts,%s\nchangetype: modify\nincrement: satokenLiveCount\nsatokenLiveCount: 1\n-\n' "$SUB" |
		as_host "$P" control1 ldapmodify -e 'assert=(satokenLiveCount<=1)'
}
check "quota: the first increment under the limit" incr
check "quota: the second" incr
expect_rc "quota: a third past the limit fails its assertion" 122 incr
count=$(as_host "$P" control1 ldapsearch -LLL -b "satokenName=ci,ou=accounts,$SUB" -s base satokenLiveCount | sed -n 's/^satokenLiveCount: //p')
if [ "$count" = 2 ]; then pass; else fail "live count is '$count' after two increments and one refusal, expected 2"; fi
expect_rc "a follower cannot move an account's version (satokenLiveCount)" 50 \
	as_host "$P" follower1 ldapmodify <<-EOF
	dn: satokenName=ci,ou=accounts,$SUB
	changetype: modify
	delete: satokenLiveCount
	satokenLiveCount: 2
	-
	add: satokenLiveCount
	satokenLiveCount: 3
EOF
expect_rc "a control host cannot change the key" 50 \
	as_host "$P" control1 ldapmodify <<-EOF
	dn: cn=key,$SUB
	changetype: modify
	replace: satokenHmacKey
	satokenHmacKey:: $(openssl rand -base64 32)
EOF
expect_rc "a control host cannot delete the key" 50 as_host "$P" control1 ldapdelete "cn=key,$SUB"
expect_rc "a control host cannot add a member to the control group" 50 \
	as_host "$P" control1 ldapmodify <<-EOF
	dn: cn=control,$SUB
	changetype: modify
	add: member
	member: cn=follower1,ou=hosts,$SUB
EOF

# a follower reads everything it needs to mirror, the key included
key_of() {
	as_host "$1" "$2" ldapsearch -LLL -b "cn=key,$SUB" -s base satokenHmacKey | grep -q '^satokenHmacKey::'
}
check "a follower reads the HMAC key" key_of "$P" follower1
got=$(as_host "$P" follower1 ldapsearch -LLL -b "$SUB" '(objectClass=satokenToken)' satokenTokenId | grep -c '^satokenTokenId:')
if [ "$got" = 1 ]; then pass; else fail "a follower sees $got tokens, expected 1"; fi
# ...and writes nothing of the fleet's
expect_rc "a follower cannot revoke a token" 50 as_host "$P" follower1 ldapmodify <<-EOF
	dn: satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB
	changetype: modify
	replace: satokenRevokedAt
	satokenRevokedAt: 1
EOF
cat >"$T/newtok.ldif" <<-EOF
	dn: satokenTokenId=CCCCCCCCCCCC,ou=tokens,$SUB
	objectClass: satokenToken
	satokenTokenId: CCCCCCCCCCCC
	satokenAccount: ci
	satokenTokenName: mine
	satokenDigest:: $digest
	satokenCreatedAt: $(date +%s)
	satokenExpiresAt: $(($(date +%s) + 3600))
EOF
expect_rc "a follower cannot add a token" 50 as_host "$P" follower1 ldapadd -f "$T/newtok.ldif"
# a host's position: its own entry under ou=positions, a database that
# no follower's search follows (provider.conf says why)
position_add() {	# URI WHO TARGET [LDIF LINE...]
	local uri=$1 who=$2 target=$3
	shift 3
	as_host "$uri" "$who" ldapadd <<-EOF
	dn: cn=$target,ou=positions,$SUB
	objectClass: satokenHost
	cn: $target
	satokenLastContact: $(date +%s)
	$(printf '%s\n' "$@")
EOF
}
confirm() {
	local uri=$1 who=$2 target=$3
	as_host "$uri" "$who" ldapmodify <<-EOF
	dn: cn=$target,ou=positions,$SUB
	changetype: modify
	replace: satokenApplied
	satokenApplied: 20261204000000.000000Z#000000#001#000000
	-
	replace: satokenLastContact
	satokenLastContact: $(date +%s)
EOF
}
expect_rc "a follower cannot add another host's position" 50 position_add "$P" follower1 follower2
# slapd checks the rights on each attribute of an add only with
# add_content_acl; without it a host could park anything in its entry
expect_rc "a follower cannot add its position with a password in it" 50 \
	position_add "$P" follower1 follower1 "userPassword: {CRYPT}x"
expect_rc "...nor with attributes of another class" 50 position_add "$P" follower1 follower1 \
	"objectClass: extensibleObject" "description: anything"
check "a follower adds its own position" position_add "$P" follower1 follower1
check "  ...and another follower its own" position_add "$P" follower2 follower2
check "a follower writes its own confirmation" confirm "$P" follower1 follower1
expect_rc "a follower cannot write another host's confirmation" 50 confirm "$P" follower1 follower2
expect_rc "a follower cannot delete another host's position" 50 \
	as_host "$P" follower1 ldapdelete "cn=follower2,ou=positions,$SUB"
expect_rc "a follower cannot add a position entry of another kind" 50 as_host "$P" follower1 ldapadd <<-EOF
	dn: ou=follower1,ou=positions,$SUB
	objectClass: organizationalUnit
	ou: follower1
EOF
expect_rc "a follower no longer writes a position into its host entry" 50 as_host "$P" follower1 ldapmodify <<-EOF
	dn: cn=follower1,ou=hosts,$SUB
	changetype: modify
	replace: satokenApplied
	satokenApplied: 20261204000000.000000Z#000000#001#000000
EOF
positions_seen() {	# WHO: how many positions WHO reads
	as_host "$P" "$1" ldapsearch -LLL -b "ou=positions,$SUB" -s one cn 2>/dev/null | grep -c '^cn:'
}
if [ "$(positions_seen control1)" = 2 ]; then pass; else fail "a control host reads $(positions_seen control1) positions, not 2"; fi
expect_rc "a follower cannot change its own description" 50 as_host "$P" follower1 ldapmodify <<-EOF
	dn: cn=follower1,ou=hosts,$SUB
	changetype: modify
	replace: description
	description: control
EOF
# ldappasswd exits 1 whatever the LDAP result, and names it
OUT=$(as_host "$P" follower1 ldappasswd -s other "cn=follower1,ou=hosts,$SUB" 2>&1)
if [ $? -ne 0 ] && grep -q 'Insufficient access (50)' <<<"$OUT"; then pass; else fail "a follower set its own password: $OUT"; fi
usage() {	# URI WHO UNDER [ID [LDIF LINE...]]
	local uri=$1 who=$2 under=$3 id=${4:-AAAAAAAAAAAA}
	shift 4 2>/dev/null || shift $#
	as_host "$uri" "$who" ldapadd <<-EOF
	dn: satokenTokenId=$id,cn=$under,ou=hosts,$SUB
	objectClass: satokenUsage
	satokenTokenId: $id
	satokenLastUsedAt: $(date +%s)
	satokenLastUsedService: imap
	$(printf '%s\n' "$@")
EOF
}
expect_rc "a follower cannot add a report with a password in it" 50 usage "$P" follower1 follower1 \
	AAAAAAAAAAAA "objectClass: simpleSecurityObject" "userPassword: {CRYPT}x"
expect_rc "...nor with attributes of another class" 50 usage "$P" follower1 follower1 \
	AAAAAAAAAAAA "objectClass: extensibleObject" "description: anything"
check "a follower reports a token's use under its own entry" usage "$P" follower1 follower1
expect_rc "a follower cannot report under another host's entry" 50 usage "$P" follower1 follower2
expect_rc "...nor a token the directory does not hold" 50 usage "$P" follower1 follower1 BBBBBBBBBBBB
expect_rc "...nor an entry not named by a token" 50 as_host "$P" follower1 ldapadd <<EOF
dn: satokenLastUsedAt=1,cn=follower1,ou=hosts,$SUB
objectClass: satokenUsage
satokenTokenId: AAAAAAAAAAAA
satokenLastUsedAt: 1
EOF
expect_rc "a follower cannot delete another host's report" 50 \
	as_host "$P" follower2 ldapdelete "satokenTokenId=AAAAAAAAAAAA,cn=follower1,ou=hosts,$SUB"
expect_rc "a control host cannot write a report under a host's entry" 50 \
	usage "$P" control1 follower2
expect_rc "...nor change the host's confirmation" 50 confirm "$P" control1 follower1
check "a control host deletes a host's report" \
	as_host "$P" control1 ldapdelete "satokenTokenId=AAAAAAAAAAAA,cn=follower1,ou=hosts,$SUB"

# anybody else: a bind and nothing more
anon_sees=$(ldapsearch -x -LLL -H "$P" -b "$SUB" '(objectClass=*)' dn 2>/dev/null | grep -c '^dn:')
if [ "$anon_sees" = 0 ]; then pass; else fail "an anonymous search sees $anon_sees entries"; fi
anon_sees=$(ldapsearch -x -LLL -H "$P" -b "ou=positions,$SUB" '(objectClass=*)' dn 2>/dev/null | grep -c '^dn:')
if [ "$anon_sees" = 0 ]; then pass; else fail "an anonymous search sees $anon_sees positions"; fi
printf wrong >"$T/pw.wrong"
expect_rc "a wrong host password is refused" 49 \
	ldapwhoami -x -H "$P" -D "cn=follower1,ou=hosts,$SUB" -y "$T/pw.wrong"
hashes=$(as_host "$P" follower2 ldapsearch -LLL -b "ou=hosts,$SUB" userPassword | grep -c '^userPassword')
if [ "$hashes" = 0 ]; then pass; else fail "a follower reads $hashes password hashes"; fi

# --- the sample hub ----------------------------------------------------
mkdir -p "$T/hub"
rsecret=$(cat "$T/pw.replicator")
sample_conf hub.conf hub \
	"s|ldap://provider.example.org/|$P|g" \
	"s|REPLICATOR-SECRET|$rsecret|g" >"$T/hub/slapd.conf"
chmod 0600 "$T/hub/slapd.conf"
check "the sample hub.conf passes slaptest" slaptest -u -f "$T/hub/slapd.conf"
if start_slapd hub; then
	H=$URI_hub
	tok_on() {
		as_host "$1" "$2" ldapsearch -LLL -b "satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB" -s base "$3" | grep -q "$4"
	}
	wait_for "the hub replicates the token (refresh)" tok_on "$H" follower1 satokenTokenName 'deploy'
	check "a follower binds at the hub and reads the key there" key_of "$H" follower1
	not_revoked_at_hub() { ! tok_on "$H" follower1 satokenRevokedAt satokenRevokedAt; }
	check "  ...the revocation it is about to see is not there yet" not_revoked_at_hub
	check "a control host revokes on the provider" as_host "$P" control1 ldapmodify <<-EOF
	dn: satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB
	changetype: modify
	add: satokenRevokedAt
	satokenRevokedAt: $(date +%s)
EOF
	wait_for "the hub has the revocation (persist)" tok_on "$H" follower1 satokenRevokedAt satokenRevokedAt
	expect_rc "the hub refuses a follower's write to the fleet's entries" 50 \
		as_host "$H" follower1 ldapdelete "satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB"
	# a follower's own confirmation, written to the hub, lands on the provider
	as_root prov ldapmodify >/dev/null <<-EOF
	dn: cn=follower2,ou=positions,$SUB
	changetype: modify
	replace: satokenApplied
	satokenApplied: before
EOF
	applied_is() {	# URI-or-"prov" VALUE
		if [ "$1" = prov ]; then
			as_root prov ldapsearch -LLL -b "cn=follower2,ou=positions,$SUB" -s base satokenApplied
		else
			as_host "$1" follower2 ldapsearch -LLL -b "cn=follower2,ou=positions,$SUB" -s base satokenApplied
		fi | grep -q "^satokenApplied: $2"
	}
	wait_for "the hub has follower2's position" applied_is "$H" before
	check "a follower confirms through the hub" confirm "$H" follower2 follower2
	check "  ...and the provider has it" applied_is prov 2026
	expect_rc "  ...but not another host's, even through the hub" 50 confirm "$H" follower2 follower1
	# a host behind a hub adds its position entry through it (its first
	# write), and no other host's
	position_on_prov() { as_root prov ldapsearch -LLL -b "cn=$1,ou=positions,$SUB" -s base 1.1 2>/dev/null | grep -q '^dn:'; }
	check "a host adds its own position through the hub" position_add "$H" control1 control1
	check "  ...and the provider has it" position_on_prov control1
	expect_rc "  ...but not another host's" 50 position_add "$H" follower1 nosuchhost
else
	fail "the hub did not start: $(tail -n 5 "$T/hub/slapd.log")"
fi

finish
