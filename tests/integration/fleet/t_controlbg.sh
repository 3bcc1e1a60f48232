#!/bin/bash
# What a control host changes by itself reaches the directory (issue 17):
# the sample provider, a real satokend with directory_role = control and
# a follower, logins through the real PAM module on each.  What a user
# would notice: a --bind-pid token whose process exited is refused on
# the follower too, also when the directory was down as it died and the
# control host restarted meanwhile; a canary used on the control host
# disables its account on the follower; a token past retain_days purged
# on the control host leaves the directory and the follower's listing.
# On a follower a --bind-pid mint is READ_ONLY, and a canary's disable
# stays local with an alert saying so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
SLEEPS=()
cleanup_bg() {
	local p
	for p in "${SLEEPS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	cleanup_hosts
}
trap cleanup_bg EXIT

start_fleet_provider control1 follower1 || { finish; exit 1; }
# host_stop NAME: SIGTERM, and it must stop cleanly
host_stop() {
	local v=PID_$1 rc
	kill "${!v}"
	wait "${!v}"
	rc=$?
	check "$1: stops cleanly on SIGTERM" test "$rc" = 0
}
# in_dir ID: the directory holds token ID's entry
in_dir() {
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=tokens,$SUB" \
		"(satokenTokenId=$1)" 1.1 | grep -q '^dn:'
}
# sleeper TAG: a process to bind a token to, its pid in SLEEP_TAG
sleeper() {
	sleep 600 &
	SLEEPS+=("$!")
	eval "SLEEP_$1=$!"
}
end_sleeper() {
	local v=SLEEP_$1
	kill "${!v}"
	wait "${!v}" 2>/dev/null
}

# retain_days = 0: a revoked token is past retention at the next sweep
# control1 reports its logins' last use to the directory every second
SATOKEND_FLEET_USAGE_MS=1000 host_start control1 control "retain_days = 0" \
	"canary_disables = yes" "usage_socket = $T/control1/usage.sock" \
	"usage_flush = 1s"
host_start follower1 follower "canary_disables = yes"

ready() { ctl control1 group create svc; }
wait_for "control1: takes changes once it holds the fleet key" ready
check "control1: an account" ctl control1 account create ci --group svc
check "control1: the group on the policy" ctl control1 policy add svc

# --- --bind-pid: the process exits, the follower refuses the token -------
sleeper a
check "control1: a token bound to a process" mint control1 ci bpa --bind-pid "$SLEEP_a"
wait_for "follower1: the bound token logs in" login follower1 ci "$T/tok.bpa"
end_sleeper a
wait_for "control1: refused once its process exited" refused control1 ci "$T/tok.bpa"
wait_for "follower1: ...and refused on the follower too" refused follower1 ci "$T/tok.bpa"
check "the directory's entry says revoked" \
	bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'ou=tokens,$SUB' \
	'(satokenTokenId=$(cat "$T/id.bpa"))' satokenRevokedAt | grep -q '^satokenRevokedAt: [0-9]'"
check "  ...and its name is free again" ctl control1 token mint ci --name bpa --ttl 1h
check "one audit line for the revocation, as before" \
	test "$(grep -c "action=token.revoke outcome=ok reason=process_exited principal=satokend .*token=$(cat "$T/id.bpa")" "$T/control1/audit.log")" = 1

expect_rc "follower1: a --bind-pid mint is READ_ONLY (exit 8)" 8 \
	ctl follower1 token mint ci --name local --bind-pid $$

# --- the same with the directory down, and a restart in between --------
sleeper b
sleeper c
check "control1: a token bound to b" mint control1 ci bpb --bind-pid "$SLEEP_b"
check "control1: a token bound to c" mint control1 ci bpc --bind-pid "$SLEEP_c"
wait_for "follower1: b's token logs in" login follower1 ci "$T/tok.bpb"
wait_for "follower1: c's token logs in" login follower1 ci "$T/tok.bpc"
kill "$PID_prov"
wait "$PID_prov" 2>/dev/null
end_sleeper b
# the revocation is local and immediate: no directory needed
wait_for "directory down: control1 refuses b's token once b exited" \
	refused control1 ci "$T/tok.bpb"
check "  ...the follower cannot know yet (it still accepts it)" \
	login follower1 ci "$T/tok.bpb"
# control1 restarts while the directory is still down: b's revocation
# is still to be written, and c exits while control1 is stopped
host_stop control1
end_sleeper c
host_start control1 control
check "control1 restarted: b's token still refused" refused control1 ci "$T/tok.bpb"
check "  ...c's, whose process exited while it was stopped, too" \
	refused control1 ci "$T/tok.bpc"
start_slapd prov "$PPORT" || { fail "provider did not restart"; finish; exit 1; }
wait_for "directory back: follower1 refuses b's token" refused follower1 ci "$T/tok.bpb"
wait_for "  ...and c's" refused follower1 ci "$T/tok.bpc"
check "control1 said once per run that changes wait for the directory" \
	test "$(grep -c "are not written yet" "$T/control1/satokend.log")" -le 2
wait_for "  ...and that they went through" \
	grep -q "the changes this host made by itself are written" "$T/control1/satokend.log"

# --- a canary used on the control host disables the account everywhere --
check "control1: an account with a token and a canary" \
	ctl control1 account create cn --group svc
check "  ...its token" mint control1 cn work
check "  ...its canary" mint control1 cn trap --canary
wait_for "follower1: the account's token logs in" login follower1 cn "$T/tok.work"
expect_rc "control1: the canary presented (token verify): refused, exit 3" 3 \
	ctl control1 token verify cn <"$T/tok.trap"
wait_for "control1: the account is disabled" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json account show cn | jq -e '.enabled == false'"
wait_for "follower1: ...and disabled there too" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json account show cn | jq -e '.enabled == false'"
check "follower1: its token is refused" refused follower1 cn "$T/tok.work"
check "the directory's entry says disabled" \
	bash -c "ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b 'satokenName=cn,ou=accounts,$SUB' \
	-s base satokenEnabled | grep -q '^satokenEnabled: FALSE'"

# --- a canary used on a follower: local, and the alert says so ---------
check "control1: a second account with a canary" \
	ctl control1 account create cf --group svc
check "  ...its canary" mint control1 cf trapf --canary
wait_for "follower1: has the canary" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json token show '$(cat "$T/id.trapf")' | jq -e '.canary == true'"
expect_rc "follower1: the canary presented: refused, exit 3" 3 \
	ctl follower1 token verify cf <"$T/tok.trapf"
wait_for "follower1: the account is disabled there" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json account show cf | jq -e '.enabled == false'"
check "  ...the alert says to disable it on a control host" \
	grep -q "canary: account cf is disabled on this host only (a follower): disable it on a control host" \
	"$T/follower1/satokend.log"
check "  ...the directory was not written by the follower" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json account show cf | jq -e '.enabled == true'"

# --- purge: a token past retain_days leaves the directory ---------------
check "control1: a token to revoke" mint control1 ci old
wait_for "follower1: lists it" \
	bash -c "'$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json token list ci | jq -e '.items[] | select(.id == \"$(cat "$T/id.old")\")'"
check "control1: it logs in there" login control1 ci "$T/tok.old"
# reports_of ID: the satokenUsage entries naming token ID, any host's
reports_of() {
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_prov" -b "ou=hosts,$SUB" \
		"(&(objectClass=satokenUsage)(satokenTokenId=$1))" 1.1 | grep -c '^dn:'
}
reported() { test "$(reports_of "$(cat "$T/id.old")")" = 1; }
wait_for "control1: its last use is reported under its host entry" reported
check "control1: revoke it" ctl control1 token revoke "$(cat "$T/id.old")"
check "  ...the directory still has its entry (revoked)" in_dir "$(cat "$T/id.old")"
# SIGHUP starts a retention sweep; retain_days = 0 purges what ended
# before the second it runs in
purged() {
	kill -HUP "$PID_control1"
	sleep 0.3
	! in_dir "$(cat "$T/id.old")"
}
wait_for "the purged token's entry leaves the directory" purged
# written just after the token entry, by the same background step
unreported() { test "$(reports_of "$(cat "$T/id.old")")" = 0; }
wait_for "  ...and its last-use report with it" unreported
check "control1: purged locally" \
	bash -c "! '$SATOKENCTL' --socket '$T/control1/satokend.sock' token show '$(cat "$T/id.old")'"
wait_for "follower1: ...and it leaves the follower's listing" \
	bash -c "! '$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json token list ci | jq -e '.items[] | select(.id == \"$(cat "$T/id.old")\")'"
check "audit: the purge's line, as before" \
	grep -q "action=token.purge outcome=ok principal=satokend account=ci" "$T/control1/audit.log"

# --- marked again while its write is out: written again ----------------
# The revocation of e's token is sent to a directory that does not
# answer (stopped); the purge deletes the token meanwhile and marks it
# again.  The revocation's answer must not take the purge's mark with it.
sleeper e
check "control1: a token bound to e" mint control1 ci bpe --bind-pid "$SLEEP_e"
wait_for "follower1: it logs in" login follower1 ci "$T/tok.bpe"
kill -STOP "$PID_prov"
end_sleeper e
wait_for "control1: refused once e exited (the directory stalled)" \
	refused control1 ci "$T/tok.bpe"
sleep 1.1	# retain_days = 0: revoked before the second the sweep runs in
kill -HUP "$PID_control1"
wait_for "control1: purged locally" \
	bash -c "! '$SATOKENCTL' --socket '$T/control1/satokend.sock' token show '$(cat "$T/id.bpe")'"
kill -CONT "$PID_prov"
not_in_dir() { ! in_dir "$1"; }
wait_for "the directory: the purged token's entry goes" \
	not_in_dir "$(cat "$T/id.bpe")"
wait_for "follower1: ...and it leaves the follower's listing" \
	bash -c "! '$SATOKENCTL' --socket '$T/follower1/satokend.sock' --json token list ci | jq -e '.items[] | select(.id == \"$(cat "$T/id.bpe")\")'"

# --- an entry already gone in the directory counts as written ----------
check "control1: an account with a bound token" ctl control1 account create gone --group svc
sleeper d
check "  ...the token" mint control1 gone bpd --bind-pid "$SLEEP_d"
wait_for "follower1: it logs in" login follower1 gone "$T/tok.bpd"
kill "$PID_prov"
wait "$PID_prov" 2>/dev/null
end_sleeper d
wait_for "directory down: control1 refuses it once d exited" \
	refused control1 gone "$T/tok.bpd"
host_stop control1
start_slapd prov "$PPORT" || { fail "provider did not restart"; finish; exit 1; }
# behind the hosts' backs, before control1 writes its revocation
check "the account and its token deleted in the directory directly" \
	as_root prov ldapdelete -r "satokenName=gone,ou=accounts,$SUB" \
	"satokenTokenId=$(cat "$T/id.bpd"),ou=tokens,$SUB"
warned=$(grep -c "are not written yet" "$T/control1/satokend.log")
host_start control1 control
wait_for "control1: the account is gone here too" \
	bash -c "! '$SATOKENCTL' --socket '$T/control1/satokend.sock' account show gone"
check "  ...its pending revocation counted as written (no new warning)" \
	test "$(grep -c "are not written yet" "$T/control1/satokend.log")" = "$warned"
check "  ...and nothing was written back" \
	bash -c "test -z \"\$(ldapsearch -LLL -Q -Y EXTERNAL -H '$LDAPI_prov' -b '$SUB' '(|(satokenAccount=gone)(satokenName=gone))' 1.1)\""

host_stop control1
host_stop follower1
check "the hosts logged no sanitizer report" \
	bash -c "! grep -qE 'Sanitizer|runtime error' '$T'/*/satokend.log"
for f in "$T"/tok.*; do
	if grep -qF "$(cat "$f")" "$T"/*/satokend.log "$T"/*/audit.log; then
		fail "the token of $f is in a log"
	else
		pass
	fi
done

finish
