#!/bin/bash
# "Authorization and audit, second edition": the outside audit's attacks
# replayed through the real socket and the real satokenctl, with real
# second uids (a contributor made with useradd, nobody as a viewer).
. "$(dirname "$0")/lib.sh"

need_root || finish
CG=sata2c$$
AG=sata2a$$
CU=sata2u$$		# a contributor by its primary group
VU=sata2v$$		# a Unix user a contributor must not impersonate
groupadd "$CG" && CLEANUPS+=("groupdel $CG")
groupadd "$AG" && CLEANUPS+=("groupdel $AG")
useradd -M -N -g "$CG" -s /usr/sbin/nologin "$CU" && CLEANUPS=("userdel $CU" "${CLEANUPS[@]}")
useradd -M -N -g "$AG" -s /usr/sbin/nologin "$VU" && CLEANUPS=("userdel $VU" "${CLEANUPS[@]}")
write_conf "contributor_groups = $CG" "admin_groups = $AG"
start_daemon || { fail "satokend did not start"; finish; }

C() { setpriv --reuid "$CU" --regid "$CG" --clear-groups "$CTL" --socket "$SOCK" "$@"; }
# the second admin is $VU, by its primary group
A() { setpriv --reuid "$VU" --regid "$AG" --clear-groups "$CTL" --socket "$SOCK" "$@"; }
tokfile() { printf '%s\n' "$2" >"$T/$1"; chmod 0644 "$T/$1"; }

ctl group create ci >/dev/null
ctl policy add ci >/dev/null

# ---- 1. a contributor becomes admin ----
t "admin: an admin account owned by a contributor" 3 ctl account create boss --role admin --owner "$CU" --group ci
check "refused, saying why" '$ERR == *"owner'"'"'s role contributor is below the account'"'"'s role admin"*'
t "nothing was created" 4 ctl account show boss
t "admin: a contributor account for it" 0 ctl account create boss --role contributor --owner "$CU" --group ci
t "admin: raising it above its owner" 3 ctl account update boss --role admin
t "still contributor" 0 ctl --json account show boss
check "role unchanged" '$(jfield role) == contributor'
# an admin's own account, and the admin demoted to contributor since
t "admin (by group) creates an admin account" 0 A account create boss2 --role admin
t "... in the policy" 0 ctl group add-member ci boss2
write_conf "contributor_groups = $CG,$AG"
kill -HUP "$DPID"
sleep 0.3
t "the former admin" 0 A --json whoami
check "is a contributor now" '$(jfield role) == contributor'
t "former admin: mint for the admin account it owns" 3 A token mint boss2 --name x
check "the ceiling" '$ERR == *"service account boss2 has the admin role, above"*'
t "former admin: disable it" 3 A account disable boss2
t "former admin: delete it" 3 A account delete boss2
t "no token was minted" 0 ctl --json token list boss2
check "none" '$OUT == *"\"items\":[]"*'
write_conf "contributor_groups = $CG" "admin_groups = $AG"
kill -HUP "$DPID"
sleep 0.3
# a contributor cannot undo an admin's disable
t "contributor creates its own" 0 C account create c1
t "admin disables it" 0 ctl account disable c1
t "contributor: enable" 3 C account enable c1
check "names who disabled it" '$ERR == *"disabled by an admin"*'
t "still disabled" 0 ctl --json account show c1
check "disabled" '$OUT == *"\"enabled\":false"*'
t "contributor disables its own" 0 ctl account enable c1
t "... and disables" 0 C account disable c1
t "... and enables again" 0 C account enable c1
# ...nor when it had disabled it first: the admin's disable is the one
# that stands
t "contributor disables its own first" 0 C account disable c1
t "... then the admin disables it too" 0 ctl account disable c1
t "contributor: enable" 3 C account enable c1
check "names the admin" '$ERR == *"disabled by an admin"*'
t "admin enables it" 0 ctl account enable c1

# ---- 2. ownership is by identity ----
ctl account create parent --role contributor --group ci >/dev/null
tokfile parent.tok "$(ctl token mint parent --name p 2>/dev/null)"
t "parent's token creates child" 0 ctl --token-file "$T/parent.tok" account create child
t "child's owner" 0 ctl --json account show child
check "account:parent" '$(jfield owner) == "account:parent"'
t "parent manages child" 0 ctl --token-file "$T/parent.tok" account update child --description mine
t "delete parent" 0 ctl account delete parent
t "child after parent's deletion" 0 ctl --json account show child
check "no owner" '$OUT == *"\"owner\":null"*'
t "child listed" 0 ctl account list
check "owner listed as -" '$(grep "^child " <<<"$OUT") =~ ^child\ +contributor\ +enabled\ +-\ '
ctl account create parent --role contributor --group ci >/dev/null
tokfile parent2.tok "$(ctl token mint parent --name p 2>/dev/null)"
t "the re-created parent" 3 ctl --token-file "$T/parent2.tok" account update child --description stolen
t "inherits nothing" 0 ctl --json account show child
check "still no owner, description kept" '$OUT == *"\"owner\":null"* && $(jfield description) == mine'
t "an owner that does not exist" 4 ctl account create orphan --owner account:nosuch
t "an admin gives child to the new parent" 0 ctl account update child --owner account:parent
t "which manages it now" 0 ctl --token-file "$T/parent2.tok" account update child --description again

# ---- 3. Unix names ----
for n in root nobody daemon bin; do
	t "admin: account named $n" 2 ctl account create "$n"
	check "VALIDATION names allow_system_names" '$ERR == *"allow_system_names"*'
done
t "contributor: account named after a Unix user" 3 C account create "$VU"
check "names it" '$ERR == *"$VU is the name of a Unix user"*'
t "not created" 4 ctl account show "$VU"
t "admin: the same name" 0 ctl account create "$VU" --role viewer
write_conf "contributor_groups = $CG" "admin_groups = $AG" "allow_system_names = daemon,bin"
kill -HUP "$DPID"
sleep 0.3
t "allow_system_names lets an admin" 0 ctl account create daemon --role viewer
t "but not a contributor" 3 C account create bin
t "root stays refused" 2 ctl account create root

# ---- 9. a change's line says what changed; reads are not audited ----
al() { grep -- "$1" "$AUDIT" | tail -n 1; }
t "create with fields" 0 ctl account create aud1 --role contributor --owner "$CU" --group ci --days-valid 30 --external-id E1
L=$(al "action=account.create outcome=ok .*account=aud1")
check "create: role, owner, groups, days_valid" '$L == *" account_role=contributor"* && $L == *" owner=uid:$(id -u "$CU")"* && $L == *" groups=ci"* && $L == *" days_valid=30"* && $L == *" external_id=E1"*'
t "update" 0 ctl account update aud1 --role viewer --description "new text"
L=$(al "action=account.update outcome=ok .*account=aud1")
check "update: the changed fields" '$L == *" account_role=viewer"* && $L == *" description=\"new text\""* && $L != *" groups="*'
t "mint" 0 ctl token mint aud1 --name m --ttl 1h --service imap --from 10.0.0.0/8
AT=$OUT
L=$(al "action=token.mint outcome=ok .*account=aud1")
check "mint: ttl, expires_at, services, sources" '$L == *" ttl=3600"* && $L == *" expires_at="* && $L == *" services=imap"* && $L == *" sources=10.0.0.0/8"*'
t "rotate with grace" 0 ctl token rotate "${AT:4:12}" --grace 60
L=$(al "action=token.rotate outcome=ok .*account=aud1")
check "rotate: grace and the old end" '$L == *" grace=60"* && $L == *" old_expires_at="* && $L == *" replaces=${AT:4:12}"*'
t "disable" 0 ctl account disable aud1
check "disable: enabled=no" '$(al "action=account.disable outcome=ok .*account=aud1") == *" enabled=no"*'
check "no secret in any line" '"$(grep -c -- "${AT:16:32}" "$AUDIT")" == 0'
ctl account create aud2 --role viewer --group ci >/dev/null
AT2=$(ctl token mint aud2 --name w 2>/dev/null)
t "verify claiming another account" 3 ctl token verify aud1 <<<"$AT2"
L=$(al "action=auth outcome=denied reason=wrong_account")
check "wrong_account names the claimed and the token's" '$L == *" account=aud1 "* && $L == *" token_account=aud2"*'
before=$(wc -l <"$AUDIT")
ctl account list >/dev/null; ctl account show aud1 >/dev/null; ctl token list >/dev/null
ctl group list >/dev/null; ctl policy show >/dev/null; ctl whoami >/dev/null
check "reads write no line" '$(wc -l <"$AUDIT") == $before'
write_conf "contributor_groups = $CG" "admin_groups = $AG" "audit_reads = yes"
kill -HUP "$DPID"
sleep 0.3
t "with audit_reads = yes" 0 ctl account show aud1
check "a read is audited" '$(al "action=account.show outcome=ok") == *"account=aud1"*'
write_conf "contributor_groups = $CG" "admin_groups = $AG"
kill -HUP "$DPID"
sleep 0.3

# ---- 12. a token is only ever in the token field ----
ctl account create leaky --role viewer --group ci >/dev/null
LTOK=$(ctl token mint leaky --name l 2>/dev/null)
LSEC=${LTOK:16:32}
raw() { "$RAWSOCK" "$SOCK" "$@"; }
for args in "token mint leaky --name $LTOK" "token mint leaky --name x$LTOK" \
    "account create leak2 --description $LTOK" "account create $LTOK" \
    "account update leaky --external-id $LTOK" "group create $LTOK" \
    "token mint leaky --name y --service $LTOK" "token list $LTOK" \
    "token create leak3 --description $LTOK"; do
	# shellcheck disable=SC2086
	t "a token in a field: ${args%% *}" 2 ctl --json $args
	check "VALIDATION, not echoed" '$(jfield error) == VALIDATION && $OUT != *"$LSEC"* && $ERR != *"$LSEC"*'
done
for line in '{"op":"'"$LTOK"'"}' '{"op":"whoami","'"$LTOK"'":1}' \
    '{"op":"group.add-member","group":"ci","accounts":["'"$LTOK"'"]}'; do
	run raw send <<<"$line"
	check "raw: VALIDATION" '$(jq -r .error <<<"$OUT") == VALIDATION && $OUT != *"$LSEC"*'
done
t "nothing was stored" 0 ctl --json token list leaky
check "one token, named l" '$(jq -r ".items | length" <<<"$OUT") == 1 && $OUT != *"$LSEC"*'
t "no account made" 4 ctl account show leak2
t "the secret is in no log line" 0 true
check "audit holds no secret" '"$(grep -c -- "$LSEC" "$AUDIT")" == 0'
check "nor the daemon's log" '"$(grep -c -- "$LSEC" "$T/daemon.log")" == 0'
t "a token-shaped typo is no token" 0 ctl account update leaky --description "sat_$(printf "A%.0s" $(seq 1 50))"

# ---- 14. the smaller ones ----
ctl account create small --role viewer --group ci --days-valid 1 >/dev/null
ST=$(ctl token mint small --name s 2>/dev/null)
t "rotate without grace" 0 ctl token rotate "${ST:4:12}"
check "shows when it was revoked, not the old expiry" '$ERR == *"replaces: ${ST:4:12} (revoked $(date -u +%Y-%m-%d)"*'
t "invalid UTF-8 in an argument" 2 ctl account create small2 --description $'\xff\xfe'
check "VALIDATION, not out of memory" '$ERR == "satokenctl: VALIDATION: "*"not valid UTF-8"'
N128=$(printf '\xc3\xa9%.0s' $(seq 1 128))
t "128 characters of 2 bytes" 0 ctl token mint small --name "$N128"
t "129 characters" 2 ctl token mint small --name "${N128}e"
check "says characters" '$ERR == *"1 to 128 characters"*'
t "a name of spaces" 2 ctl token mint small --name "   "
t "a description of spaces" 2 ctl account update small --description "   "
t "a group description of spaces" 2 ctl group create gsp --description "  "
t "an empty description clears" 0 ctl account update small --description ""
ctl account create m1 --role viewer >/dev/null
ctl account create m2 --role viewer --group ci >/dev/null
t "add-member with one already in" 0 ctl group add-member ci m1 m2
check "says which changed and which not" '$OUT == *"changed:   m1"* && $OUT == *"unchanged: m2"*'
t "an unknown account: NOT_FOUND, nothing changed" 4 ctl group remove-member ci m1 nosuchacct
t "remove-member reports" 0 ctl --json group remove-member ci m1
check "m1 removed once" '$(jfield changed) == m1'
t "again" 0 ctl --json group remove-member ci m1
check "nothing changed" '$(jfield changed) == "" && $(jfield unchanged) == m1'
t "--limit 0" 2 ctl account list --limit 0
t "--limit 1001" 2 ctl account list --limit 1001
t "--limit 1" 0 ctl --json account list --limit 1
check "one item" '$(jq -r ".items | length" <<<"$OUT") == 1'
: >"$T/empty.pem"
t "--public-key of an empty file" 2 ctl account update small --public-key "$T/empty.pem"
check "says empty" '$ERR == *"the file is empty"*'
t "--public-key /dev/null" 2 ctl account update small --public-key /dev/null
t "a ttl past the account's expiry" 0 ctl --json token mint small --name long --ttl 5d
check "clipped to it, and said" '$(jfield ttl_clipped) == true && $(jnum expires_at) -le $(( $(date +%s) + 86400 + 5 ))'
t "the CLI says it too" 0 ctl token mint small --name long2 --ttl 5d
check "on stderr" '$ERR == *"ttl was cut to the account'"'"'s expiry"*'
check "and the audit line" '$(grep "action=token.mint outcome=ok .*name=long2" "$AUDIT") == *" ttl_clipped=account_expiry"*'

finish
