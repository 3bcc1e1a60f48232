#!/bin/bash
# max_tokens_per_account across control hosts (issue 17): the sample
# provider and two real satokends with directory_role = control, each
# with max_tokens_per_account = 3, configured only through DESIGN's
# directory keys.  What a user would notice: two control hosts minting
# into one account at once never leave it more live tokens than the
# limit, in the directory or on either host; the one refused says
# QUOTA or CONFLICT and changed nothing; minting goes on once a token
# is revoked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"

start_fleet_provider "control1 control2" "" || { finish; exit 1; }
host_start control1 control "max_tokens_per_account = 3"
host_start control2 control "max_tokens_per_account = 3"

ready() { ctl control1 group create svc; }
wait_for "control1: takes changes once it holds the fleet key" ready
check "control1: the group on the policy" ctl control1 policy add svc
check "control1: an account" ctl control1 account create q --group svc
ready2() { ctl control2 account show q; }
wait_for "control2: mirrors it" ready2

# live TAG: the account's live (unrevoked, unexpired) token entries in
# the directory
live_in_dir() {
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=tokens,$SUB" \
		"(&(objectClass=satokenToken)(satokenAccount=q)(!(satokenRevokedAt=*)))" 1.1 |
		grep -c '^dn:'
}
live_on() {	# HOST: the account's active tokens as HOST lists them
	ctl "$1" --json token list q | jq '[.items[] | select(.status == "active")] | length'
}
sees() {	# HOST N: HOST lists N active tokens of q
	test "$(live_on "$1")" = "$2"
}
both_at() { sees control1 "$1" && sees control2 "$1"; }
# mint_revoke HOST ACCOUNT N: N mints into ACCOUNT on HOST, one after
# the other, each revoked at once; prints how many went through
mint_revoke() {
	local i id ok=0
	for i in $(seq 1 "$3"); do
		id=$(ctl "$1" --json token mint "$2" --name "$2$i" --ttl 1h | jq -r .id) &&
			ctl "$1" token revoke "$id" >/dev/null && ok=$((ok + 1))
	done
	echo "$ok"
}

check "control1: a first token" ctl control1 token mint q --name a --ttl 1h
check "control2: a second" ctl control2 token mint q --name b --ttl 1h
wait_for "both hosts hold both" both_at 2

# five rounds: at 2 of 3, both control hosts mint at once
for round in 1 2 3 4 5; do
	ctl control1 --json token mint q --name "r${round}x" --ttl 1h >"$T/x.$round" 2>&1 &
	a=$!
	ctl control2 --json token mint q --name "r${round}y" --ttl 1h >"$T/y.$round" 2>&1 &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	n=$(live_in_dir)
	if [ "$n" -le 3 ] && { [ $ra != 0 ] || [ $rb != 0 ]; }; then
		pass
	else
		fail "round $round: exits $ra and $rb, $n live tokens in the directory (at most 3)"
	fi
	# a refusal: QUOTA (exit 6) or CONFLICT (exit 5), nothing else
	for rc in $ra $rb; do
		case $rc in 0|5|6) ;; *) fail "round $round: exit $rc: $(cat "$T/x.$round" "$T/y.$round")" ;; esac
	done
	# a CONFLICT says why and what to do
	for f in "$T/x.$round" "$T/y.$round"; do
		if grep -q CONFLICT "$f" && ! grep -q "another control host minted into it.*try again" "$f"; then
			fail "round $round: the CONFLICT does not say why: $(cat "$f")"
		fi
	done
	# back to 2: revoke what this round minted, once both hosts see it
	for f in "$T/x.$round" "$T/y.$round"; do
		id=$(jq -r '.id // empty' "$f" 2>/dev/null)
		[ -z "$id" ] || ctl control1 token revoke "$id" >/dev/null ||
			fail "round $round: revoke $id"
	done
	wait_for "round $round: both hosts back at 2 live tokens" both_at 2
done
check "the directory holds 2 live tokens of q after the rounds" test "$(live_in_dir)" = 2

# to the limit, then over it on either host
check "control2: the third token" ctl control2 token mint q --name c --ttl 1h
wait_for "control1: holds it" sees control1 3
expect_rc "control1: a fourth is QUOTA (exit 6)" 6 ctl control1 token mint q --name d --ttl 1h
expect_rc "control2: ...and there too" 6 ctl control2 token mint q --name d --ttl 1h
check "control1: revoke c" ctl control1 token revoke "$(ctl control1 --json token list q | jq -r '.items[] | select(.name == "c") | .id')"
wait_for "control2: once it holds the revocation, a mint goes through" \
	ctl control2 token mint q --name d --ttl 1h
check "  ...3 live in the directory" test "$(live_in_dir)" = 3

# one control host minting into one account again and again, each token
# revoked at once: every mint goes through, however far behind the
# directory's echo of the one before is
check "control1: an account for a script" ctl control1 account create seq --group svc
check "control1: 12 mint-and-revoke in a row, none refused" \
	test "$(mint_revoke control1 seq 12)" = 12

# an account whose satokenLiveCount an admin set to 0 (as an increment
# scheme would start it): its version is 0, and mints go on from it
check "control1: an account for a hand-set count" ctl control1 account create zero --group svc
printf 'dn: satokenName=zero,ou=accounts,%s\nchangetype: modify\nreplace: satokenLiveCount\nsatokenLiveCount: 0\n-\n' "$SUB" |
	as_root prov ldapmodify >/dev/null || fail "satokenLiveCount 0 by hand"
wait_for "control2: mints into it once it holds the 0" \
	ctl control2 token mint zero --name z --ttl 1h
check "  ...the directory's version moved on to 1" test "$(as_root prov ldapsearch -LLL \
	-b "satokenName=zero,ou=accounts,$SUB" -s base satokenLiveCount |
	sed -n 's/^satokenLiveCount: //p')" = 1

# a count set by hand to what is no version (negative, past 64 bits):
# the next mint replaces it with 1 rather than be CONFLICT for ever
for bad in -1 123456789012345678901234567890; do
	a=bad${#bad}
	check "control1: an account for a count of $bad" ctl control1 account create "$a" --group svc
	printf 'dn: satokenName=%s,ou=accounts,%s\nchangetype: modify\nreplace: satokenLiveCount\nsatokenLiveCount: %s\n-\n' \
		"$a" "$SUB" "$bad" | as_root prov ldapmodify >/dev/null || fail "satokenLiveCount $bad by hand"
	wait_for "control2: mints into it once it holds $bad" \
		ctl control2 token mint "$a" --name z --ttl 1h
	check "  ...the directory's count is 1 after it" test "$(as_root prov ldapsearch -LLL \
		-b "satokenName=$a,ou=accounts,$SUB" -s base satokenLiveCount |
		sed -n 's/^satokenLiveCount: //p')" = 1
	wait_for "  ...and control1 mints into it from there" \
		ctl control1 token mint "$a" --name y --ttl 1h
done

# a copy kept by a satokend from before versions: it has no version of
# any account and no "F:qv".  Started, it is refreshed whole and mints
# go on; without that, every mint into seq would be CONFLICT until the
# account changed again.
host_stop control2
{ "$SATFIX" "$T/control2/satoken.db" delete-key F:qv &&
	"$SATFIX" "$T/control2/satoken.db" delete-key F:q:seq; } >/dev/null ||
	fail "satfix: the versions out of control2's store"
host_start control2 control
check "control2: logs that it refreshes whole" \
	grep -q "predates account versions" "$T/control2/satokend.log"
wait_for "control2: mints into seq once refreshed" \
	ctl control2 token mint seq --name after --ttl 1h

# several clients of one control host minting into fresh accounts at
# once, up to the limit: none is refused (the host's own earlier
# versions, echoed back late, do not count against it)
for a in p1 p2 p3 p4; do
	ctl control1 account create "$a" --group svc >/dev/null || fail "account $a"
done
pids=()
for a in p1 p2 p3 p4; do
	for n in 1 2 3; do
		ctl control1 token mint "$a" --name "t$n" --ttl 1h >/dev/null 2>"$T/par.$a.$n" &
		pids+=($!)
	done
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check "control1: 12 concurrent mints into 4 accounts of 3, none refused ($(cat "$T"/par.* | sort | uniq -c | head -3))" test "$bad" = 0

# control1's follower slowed down (each batch from the directory handed
# to its loop 300 ms late, as on a host far behind): mints into one
# account, each revoked, one after the other, each batch of echoes
# applied older than what the host has written by then.  Every one goes
# through: the directory's echo of an earlier version does not take the
# copy back
host_stop control1
FLEET_DELAY_MS=300 host_start control1 control
check "control1 (slowed): an account" ctl control1 account create burst --group svc
check "control1 (slowed): 16 mint-and-revoke while the echoes lag, none refused" \
	test "$(mint_revoke control1 burst 16)" = 16

# control1 far behind (each batch handed 3 s late): what it writes from
# its stale copy takes nothing back that another control host did
host_stop control1
FLEET_DELAY_MS=3000 host_start control1 control
wait_for "control1 (3 s behind): serves" ctl control1 account show burst
check "control2: a token" \
	bash -c "'$SATOKENCTL' --socket '$T/control2/satokend.sock' --json token mint burst --name late --ttl 1h >'$T/late.json'"
late=$(jq -r .id "$T/late.json")
wait_for "control1: holds it" ctl control1 token show "$late"
check "control2: revokes it" ctl control2 token revoke "$late"
# (exit 5 only if this machine stalled past the 3 s: control1 then
# holds the revocation and refuses; the directory must be right either way)
ctl control1 token disable "$late" >/dev/null 2>&1
rc=$?
check "control1 (not yet holding the revocation): disables it (exit $rc)" test "$rc" = 0 -o "$rc" = 5
check "  ...the directory still has it revoked" \
	bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'ou=tokens,$SUB' \
	'(satokenTokenId=$late)' satokenRevokedAt | grep -q '^satokenRevokedAt: '"
check "control2: an account" ctl control2 account create shut --group svc
wait_for "control1: holds it" ctl control1 account show shut
check "control2: disables it" ctl control2 account disable shut
check "control1 (not yet holding that): gives it a description" \
	ctl control1 account update shut --description "set while behind"
check "  ...the directory has both: disabled, and the description" \
	bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'satokenName=shut,ou=accounts,$SUB' \
	-s base satokenEnabled description | tr '\n' ' ' | grep 'satokenEnabled: FALSE' | grep -q 'description: set while behind'"
check "control2: a token named dup" ctl control2 token mint burst --name dup --ttl 1h
expect_rc "control1 (not yet holding it): a second token named dup is CONFLICT (exit 5)" 5 \
	ctl control1 token mint burst --name dup --ttl 1h
check "  ...the directory has one live token named dup" \
	test "$(ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=tokens,$SUB" \
	"(&(satokenTokenName=dup)(!(satokenRevokedAt=*)))" 1.1 | grep -c '^dn:')" = 1

# an account and a group control2 created that control1 does not hold
# yet: control1's create is CONFLICT, and says the directory has it
check "control2: an account named twin" ctl control2 account create twin --group svc
expect_rc "control1 (not yet holding it): creating twin too is CONFLICT (exit 5)" 5 \
	ctl control1 account create twin --group svc
check "  ...saying the directory has it" \
	grep -q "service account twin already exists (in the directory)" <<<"$OUT"
check "control2: a group named twins" ctl control2 group create twins
expect_rc "control1 (not yet holding it): creating twins too is CONFLICT (exit 5)" 5 \
	ctl control1 group create twins
check "  ...saying the directory has it" \
	grep -q "group twins already exists (in the directory)" <<<"$OUT"
# a count deleted by hand while control1's copy still holds the version
# it wrote (the directory's echo 3 s away): the next mint starts the
# version again at 1, rather than be CONFLICT until the echo comes, or
# for ever when the copy is refreshed whole and never sees the value
live_count() {
	as_root prov ldapsearch -LLL -b "satokenName=$1,ou=accounts,$SUB" -s base \
		satokenLiveCount | sed -n 's/^satokenLiveCount: //p'
}
check "control1: an account whose count will be deleted" ctl control1 account create gone --group svc
check "  ...a mint into it" ctl control1 token mint gone --name a --ttl 1h
printf 'dn: satokenName=gone,ou=accounts,%s\nchangetype: modify\ndelete: satokenLiveCount\n-\n' "$SUB" |
	as_root prov ldapmodify >/dev/null || fail "satokenLiveCount deleted by hand"
check "control1 (its own version not yet echoed): mints into it" \
	ctl control1 token mint gone --name b --ttl 1h
check "  ...the directory's version starts again at 1" test "$(live_count gone)" = 1
wait_for "control2: mints into it from there" ctl control2 token mint gone --name c --ttl 1h
check "  ...version 2" test "$(live_count gone)" = 2

finish
