#!/bin/bash
# Control hosts: the sample provider, two real satokends with
# directory_role = control and a follower, configured only through
# DESIGN's directory keys; every change is made with satokenctl on a
# control host, and logins go through the real PAM module (pamtester
# under pam_wrapper) on the follower.  What a user would notice: a token
# minted on a control host logs in on the follower; a revocation, an
# account disabled, a group taken off the policy are refused there; with
# the directory down a change is UNAVAILABLE and changes nothing, while
# logins go on; two control hosts minting one name: one CONFLICT; a
# viewer cannot change anything; a follower still answers READ_ONLY.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"

start_fleet_provider "control1 control2" follower1 || { finish; exit 1; }

# mint HOST ACCOUNT NAME [TAG] (hosts.sh's, with a TAG naming the files):
# the token in $T/tok.TAG, its id in
# $T/id.TAG (TAG: NAME unless given)
mint() {
	local f=${4:-$3}
	ctl "$1" --json token mint "$2" --name "$3" --ttl 1h >"$T/mint.$f" &&
		jq -j .token "$T/mint.$f" >"$T/tok.$f" &&
		jq -j .id "$T/mint.$f" >"$T/id.$f"
}

host_start control1 control
host_start control2 control
# follower1 reports its logins' last use to the directory every second,
# and passes over its copy (counts, expiry warnings) five times a second
SATOKEND_EXPIRY_PASS_MS=200 SATOKEND_FLEET_USAGE_MS=1000 host_start follower1 follower \
	"usage_socket = $T/follower1/usage.sock" "usage_flush = 1s"

# the control hosts mint under the fleet's key only: until it is in
# their store a change is refused, so wait for it as a script would
ready() { ctl control1 group create svc; }
wait_for "control1: takes changes once it holds the fleet key" ready
check "control1: an account in the group" ctl control1 account create ci --group svc
check "control1: the group on the policy" ctl control1 policy add svc
check "control1: a token minted" mint control1 ci one
check "  ...the reply names no secret but the token itself" \
	test "$(jq -r .token "$T/mint.one" | cut -c1-4)" = sat_
wait_for "follower1: the token minted on control1 logs in" login follower1 ci "$T/tok.one"
check "control1: ...and on the control host itself" login control1 ci "$T/tok.one"
check "the directory holds the token's entry, digest only" \
	bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'ou=tokens,$SUB' \
	'(satokenTokenId=$(cat "$T/id.one"))' satokenDigest satokenTokenName | grep -q '^satokenTokenName: one'"
check "  ...and its account's version, moved on by the mint" \
	bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'satokenName=ci,ou=accounts,$SUB' \
	-s base satokenLiveCount | grep -q '^satokenLiveCount: 1$'"
wait_for "follower1: the account as control1 wrote it" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json account show ci | jq -e '.groups == [\"svc\"] and .role == \"admin\"'"
wait_for "control2: mirrors what control1 wrote" \
	bash -c "'$SATOKENCTL' --socket '$T/control2/satokend.sock' --json token show '$(cat "$T/id.one")' | jq -e '.name == \"one\"'"

# --- revocation on a control host: refused on the follower ------------
check "control2: a second token" mint control2 ci two
wait_for "follower1: the token minted on control2 logs in" login follower1 ci "$T/tok.two"
check "control1: revoke one" ctl control1 token revoke "$(cat "$T/id.one")"
check "control1: refused at once on the control host" refused control1 ci "$T/tok.one"
wait_for "follower1: the revoked token is refused" refused follower1 ci "$T/tok.one"
check "follower1: ...the other still logs in" login follower1 ci "$T/tok.two"
check "control1: the revoked token's name is free again" mint control1 ci one one2

check "control1: a token with an offline budget" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token mint ci --name budget --max-offline 1h >'$T/mint.budget'"
wait_for "follower1: ...mirrored with its budget" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json token show \$(jq -r .id '$T/mint.budget') | jq -e '.max_offline == 3600'"

# --- rotation: the name moves to the new token ---------------------------
check "control2: rotate two, with a grace period" \
	bash -c "'$SATOKENCTL' --socket '$T/control2/satokend.sock' --json token rotate '$(cat "$T/id.two")' --grace 1h >'$T/rot.json'"
jq -j .token "$T/rot.json" >"$T/tok.rot"
jq -j .id "$T/rot.json" >"$T/id.rot"
wait_for "follower1: the rotated token logs in" login follower1 ci "$T/tok.rot"
check "follower1: ...the old one too, in its grace period" login follower1 ci "$T/tok.two"
check "the directory's old token names the new one" \
	bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'ou=tokens,$SUB' \
	'(satokenTokenId=$(cat "$T/id.two"))' satokenReplacedBy | grep -q '$(cat "$T/id.rot")'"
check "control1: rotate the new one, ending it at once" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token rotate '$(cat "$T/id.rot")' >'$T/rot2.json'"
jq -j .token "$T/rot2.json" >"$T/tok.rot2"
wait_for "follower1: the token ended by rotation is refused" refused follower1 ci "$T/tok.rot"
wait_for "follower1: ...its successor logs in" login follower1 ci "$T/tok.rot2"

# --- account, group and policy changes mirrored -------------------------
check "control1: disable ci" ctl control1 account disable ci
wait_for "follower1: the disabled account's token is refused" refused follower1 ci "$T/tok.two"
check "control2: enable ci" ctl control2 account enable ci
wait_for "follower1: ...enabled again, accepted" login follower1 ci "$T/tok.two"
check "control1: the policy without svc" ctl control1 policy set
wait_for "follower1: a group off the policy: refused" refused follower1 ci "$T/tok.two"
check "control1: svc back on the policy" ctl control1 policy add svc
wait_for "follower1: ...back on it, accepted" login follower1 ci "$T/tok.two"
check "control2: a group" ctl control2 group create ops --description "the ops team"
wait_for "follower1: the group mirrored" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json group list | jq -e '[.items[].name] | index(\"ops\")'"
check "control2: a member" ctl control2 group add-member ops ci
wait_for "follower1: the membership mirrored" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json account show ci | jq -e '.groups | index(\"ops\")'"
check "control2: the group deleted" ctl control2 group delete ops
wait_for "follower1: ...and gone from the account's groups" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json account show ci | jq -e '.groups == [\"svc\"]'"
check "control1: token create, an account and its first token in one request" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token create batch --group svc --ttl 1h | jq -j .token >'$T/tok.batch'"
wait_for "follower1: its token logs in" login follower1 batch "$T/tok.batch"
check "control1: an account of its own, with a token" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' account create web --group svc --description 'web tier' &&
	'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token mint web --name deploy --ttl 1h | jq -j .token >'$T/tok.web'"
wait_for "follower1: its token logs in" login follower1 web "$T/tok.web"
# its expiry is within warn_before (7 days): the control host that
# minted it warns once; a follower counts it in its pass, and is silent
web_id=$(ctl control1 --json token list web | jq -r '.items[0].id')
t_seen=$(($(date +%s) + 1))
counted() { ctl follower1 --json status | jq -e ".tokens_counted_at >= $t_seen" >/dev/null; }
wait_for "follower1: a pass over its copy since" counted
check "control1: token.expiring for it, once" \
	test "$(grep -c "action=token.expiring .*token=$web_id" "$T/control1/audit.log")" = 1
check "follower1: none" \
	test "$(grep -c "action=token.expiring .*token=$web_id" "$T/follower1/audit.log")" = 0
# reports_of ID: the satokenUsage entries naming token ID, any host's
reports_of() {
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=hosts,$SUB" \
		"(&(objectClass=satokenUsage)(satokenTokenId=$1))" 1.1 | grep -c '^dn:'
}
web_id=$(ctl control1 --json token list web | jq -r '.items[0].id')
reported() { test "$(reports_of "$web_id")" = 1; }
wait_for "follower1: its last use is reported under its host entry" reported
check "control1: the account deleted" ctl control1 account delete web
check "  ...and with its token, the token's last-use reports" \
	test "$(reports_of "$web_id")" = 0
# more tokens than one search names (64): every report goes
check "control1: an account with 70 tokens" ctl control1 account create many --group svc
for i in $(seq 70); do
	ctl control1 --json token mint many --name "m$i" --ttl 1h | jq -r .id
done >"$T/many.ids"
# as follower1 writes them (its own entry, tokens the directory holds)
while read -r id; do
	printf 'dn: satokenTokenId=%s,cn=follower1,ou=hosts,%s\nobjectClass: satokenUsage\nsatokenTokenId: %s\nsatokenLastUsedAt: %s\n\n' \
		"$id" "$SUB" "$id" "$(date +%s)"
done <"$T/many.ids" >"$T/many.ldif"
check "follower1: a last-use report for each" \
	as_host "$P" follower1 ldapadd -f "$T/many.ldif"
all_reports() {	# of many's tokens, under any host's entry
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=hosts,$SUB" \
		"(objectClass=satokenUsage)" satokenTokenId |
		sed -n 's/^satokenTokenId: //p' | grep -c -x -F -f "$T/many.ids"
}
check "  ...70 of them" test "$(all_reports)" = 70
check "control1: the account deleted" ctl control1 account delete many
check "  ...and all 70 reports with its tokens" test "$(all_reports)" = 0
wait_for "follower1: a deleted account's token is refused" refused follower1 web "$T/tok.web"
wait_for "follower1: ...and the account is gone" \
	bash -c "! '$SATOKENCTL' --socket '$T/follower1/satokend.sock' account show web"
check "the directory keeps none of its tokens" \
	bash -c "test -z \"\$(ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b '$SUB' '(|(satokenAccount=web)(satokenName=web))' 1.1)\""
# a deleted account's revoked tokens: their entries go after the reply,
# in the background (an account that held 100,000 tokens is not as many
# deletions before it), its live tokens' before it
entries_of() {	# ACCOUNT: its token entries in the directory
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=tokens,$SUB" \
		"(satokenAccount=$1)" 1.1 | grep -c '^dn:'
}
check "control1: an account with a live token and four revoked" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' account create deep --group svc >/dev/null &&
	for i in 1 2 3 4; do
		'$SATOKENCTL' --socket '$T/control1/satokend.sock' token revoke \
			\$('$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token mint deep --name old\$i --ttl 1h | jq -r .id) >/dev/null || exit 1
	done &&
	'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token mint deep --name live --ttl 1h >'$T/mint.deep'"
jq -j .token "$T/mint.deep" >"$T/tok.deep"
deep_id=$(jq -r .id "$T/mint.deep")
check "  ...five entries in the directory" test "$(entries_of deep)" = 5
wait_for "follower1: the live one logs in" login follower1 deep "$T/tok.deep"
wait_for "  ...and it lists all five" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json token list deep | jq -e '.items | length == 5'"
check "control1: the account deleted" ctl control1 account delete deep
check "  ...the live token's entry gone with the reply" bash -c "test -z \"\$(ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'ou=tokens,$SUB' '(satokenTokenId=$deep_id)' 1.1)\""
check "  ...made again at once under the name" ctl control1 account create deep --group svc
gone() { test "$(entries_of deep)" = 0; }
wait_for "  ...the revoked tokens' entries go too" gone
wait_for "follower1: the new account holds none of the old tokens" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json token list deep | jq -e '.items == []'"
check "  ...and the old live token is refused there" refused follower1 deep "$T/tok.deep"
# more than an account delete reclaims at once here (TINDEX_DELETE_NOW,
# 1,024: the rest go a few pages at a time after the reply), written
# to the directory as a control host would, all revoked
check "control1: an account of 1,100 revoked tokens" ctl control1 account create deeper --group svc
revoked_tokens_ldif deeper 1100 >"$T/deeper.ldif"
check "  ...added on the provider" bash -c "ldapadd -Q -Y EXTERNAL -H '$LDAPI_prov' -f '$T/deeper.ldif' >/dev/null"
held() { ctl control1 --json account show deeper | jq -e '.tokens == 1100'; }
wait_for "  ...control1 holds them" held
check "control1: the account deleted" ctl control1 account delete deeper
deeper_gone() { test "$(entries_of deeper)" = 0; }
wait_for "  ...every token entry goes from the directory" deeper_gone

# --- two control hosts racing for one name: exactly one wins ----------
for round in 1 2 3 4 5; do
	ctl control1 token mint ci --name "race$round" >/dev/null 2>&1 &
	a=$!
	ctl control2 token mint ci --name "race$round" >/dev/null 2>&1 &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	if { [ $ra = 0 ] && [ $rb = 5 ]; } || { [ $ra = 5 ] && [ $rb = 0 ]; }; then
		pass
	else
		fail "race$round: exits $ra and $rb, expected one 0 and one 5 (CONFLICT)"
	fi
	n=$(ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=tokens,$SUB" \
		"(&(satokenTokenName=race$round)(!(satokenRevokedAt=*)))" 1.1 | grep -c '^dn:')
	check "race$round: one live token of that name in the directory" test "$n" = 1
done

# --- two control hosts rotating one token at once: exactly one wins,
# and the old token's entry names the winner's token (the loser never
# wrote it, so taking its rotation back cannot undo the winner's).
# Each token is minted with --wait, so both copies hold it and its
# account's version before the race.
for round in 1 2 3; do
	ctl control1 --json token mint ci --name "rr$round" --ttl 1h --wait >"$T/mint.rr" 2>"$T/mint.rr.err" ||
		fail "rr$round: mint --wait: $(cat "$T/mint.rr.err")"
	id=$(jq -r .id "$T/mint.rr")
	ctl control1 --json token rotate "$id" --grace 1h >"$T/rr.control1" 2>"$T/rr.err1" &
	a=$!
	ctl control2 --json token rotate "$id" --grace 1h >"$T/rr.control2" 2>"$T/rr.err2" &
	b=$!
	wait $a
	r1=$?
	wait $b
	r2=$?
	if [ $r1 = 0 ] && [ $r2 = 5 ]; then
		win=control1
	elif [ $r1 = 5 ] && [ $r2 = 0 ]; then
		win=control2
	else
		win=
	fi
	check "rr$round: one rotation went through, the other was CONFLICT (exits $r1 and $r2: $(cat "$T/rr.err1" "$T/rr.err2"))" test -n "$win"
	check "rr$round:   ...the old token's entry names the winner's new token" \
		bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'ou=tokens,$SUB' \
		'(satokenTokenId=$id)' satokenReplacedBy | grep -q \"\$(jq -r .id '$T/rr.$win' 2>/dev/null)\""
	check "rr$round:   ...two live tokens have the name: the old (in its grace period) and the winner's" \
		test "$(ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=tokens,$SUB" \
		"(&(satokenTokenName=rr$round)(!(satokenRevokedAt=*)))" 1.1 | grep -c '^dn:')" = 2
done

# --- who may: a viewer on a control host, a follower ------------------
check "control1: a viewer account and its token" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' account create ro --role viewer --group svc &&
	'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token mint ro --name r --ttl 1h | jq -j .token >'$T/tok.ro'"
expect_rc "control1: the viewer cannot mint (PERMISSION_DENIED, exit 3)" 3 \
	ctl control1 --token-file "$T/tok.ro" token mint ci --name viewer
expect_rc "control1: ...nor create an account" 3 \
	ctl control1 --token-file "$T/tok.ro" account create byviewer
check "  ...and the directory has neither" \
	bash -c "test -z \"\$(ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b '$SUB' '(|(satokenTokenName=viewer)(satokenName=byviewer))' 1.1)\""

expect_rc "follower1: a mint is READ_ONLY (exit 8)" 8 \
	ctl follower1 token mint ci --name local
expect_rc "follower1: an account create is READ_ONLY" 8 \
	ctl follower1 account create other

# --- the directory down ---------------------------------------------------
before=$(ctl control1 --json token list ci | jq '.items | length')
kill "$PID_prov"
wait "$PID_prov" 2>/dev/null
expect_rc "directory down: a mint is UNAVAILABLE (exit 1)" 1 \
	ctl control1 token mint ci --name down
check "  ...naming the directory" grep -q "directory" <<<"$OUT"
expect_rc "directory down: an account create is UNAVAILABLE" 1 \
	ctl control2 account create down
expect_rc "directory down: a revocation is UNAVAILABLE" 1 \
	ctl control1 token revoke "$(cat "$T/id.two")"
check "  ...and nothing changed: no token added" \
	test "$(ctl control1 --json token list ci | jq '.items | length')" = "$before"
expect_rc "  ...no account created" 4 ctl control2 account show down
check "  ...the token not revoked: it logs in on the control host" \
	login control1 ci "$T/tok.two"
check "directory down: logins go on on the follower" login follower1 ci "$T/tok.two"
check "  ...and the revoked token is still refused" refused follower1 ci "$T/tok.one"

start_slapd prov "$PPORT" || { fail "provider did not restart"; finish; exit 1; }
back() { ctl control1 token revoke "$(cat "$T/id.two")"; }
wait_for "directory back: control1 takes changes again" back
wait_for "follower1: the revocation made after is refused" refused follower1 ci "$T/tok.two"

for h in control1 control2 follower1; do
	v=PID_$h
	kill "${!v}"
	wait "${!v}"
	rc=$?
	check "$h: stops cleanly on SIGTERM" test "$rc" = 0
done
check "the hosts logged no sanitizer report" \
	bash -c "! grep -qE 'Sanitizer|runtime error' '$T'/*/satokend.log"

finish
