#!/bin/bash
# Secrets: canary tokens, minted, rotated, verified, refused and revoked
# through the real daemon, never show up in the audit log, the daemon's
# stderr (where --foreground logs), replies other than the mint/rotate
# that hands them out, listings, any process's argv or environment; the
# daemon is not dumpable and may not write a core.
. "$(dirname "$0")/lib.sh"

OUT= ERR=
write_conf
start_daemon || { fail "satokend did not start"; finish; }
ctl group create ci >/dev/null
ctl policy add ci >/dev/null
ctl account create ci --group ci >/dev/null
mint_to "$T/c1" ci --name canary1 --service imap
mint_to "$T/c2" ci --name canary2
ctl --json token rotate "$(cut -c5-16 "$T/c2")" --grace 60 >"$T/rot.json" 2>/dev/null
jq -r .token "$T/rot.json" >"$T/c3"
check "three canaries minted" '$(cat "$T"/c1 "$T"/c2 "$T"/c3 | grep -c "^sat_") == 3'
: >"$T/replies"
for f in c1 c2 c3; do
	ctl token verify ci --service imap <"$T/$f" >>"$T/replies" 2>&1
	ctl token verify root --service smtp <"$T/$f" >>"$T/replies" 2>&1
	# a wrong secret with the canary's id: the secret must not echo
	sed 's/^\(.\{20\}\)./\1x/' "$T/$f" | ctl token verify ci >>"$T/replies" 2>&1
	ctl --token-file "$T/$f" whoami >>"$T/replies" 2>&1
	printf '{"op":"token.verify","token":"%s","account":"ci"}\n{"op":"nosuch","token":"%s"}\n{"op":"token.show","id":"%s"}\n' \
		"$(cat "$T/$f")" "$(cat "$T/$f")" "$(cat "$T/$f")" | "$RAWSOCK" "$SOCK" send >>"$T/replies" 2>&1
done
ctl token revoke "$(cut -c5-16 "$T/c1")" >>"$T/replies" 2>&1
ctl token verify ci --service imap <"$T/c1" >>"$T/replies" 2>&1
for what in "account list" "token list" "token list ci" "account show ci"; do
	ctl --json $what >>"$T/replies" 2>&1
	ctl $what >>"$T/replies" 2>&1
done
check "the refusals and listings were answered" '$(wc -l <"$T/replies") -gt 20'

CANARIES=("$T/c1" "$T/c2" "$T/c3")
check "no secret in replies, errors or listings ($(leaks_in "$T/replies"))" '$(leaks_in "$T/replies") == 0'
check "no secret in the audit log ($(leaks_in "$AUDIT"))" '$(leaks_in "$AUDIT") == 0'
check "the audit log names the canaries by id" '$(grep -c "token=$(cut -c5-16 "$T/c1")" "$AUDIT") -ge 3'
check "no secret on the daemon's stderr" '$(leaks_in "$T/daemon.log") == 0'
# every process on the machine, while the daemon runs
: >"$T/procs"
for p in /proc/[0-9]*; do
	{ tr "\0" "\n" <"$p/cmdline"; } >>"$T/procs" 2>/dev/null
	{ tr "\0" "\n" <"$p/environ"; } >>"$T/procs" 2>/dev/null
done
check "no secret in any argv or environment" '$(leaks_in "$T/procs") == 0'

# PR_SET_DUMPABLE=0 and RLIMIT_CORE=0, seen from outside
check "satokend runs" '-n "$DPID" && -d /proc/$DPID'
run grep -E '^Max core file size' "/proc/$DPID/limits"
check "RLIMIT_CORE is 0" '$OUT =~ "Max core file size"\ +0\ +0'
# a non-dumpable process's /proc files belong to root, whoever runs it:
# run the daemon as nobody and look
if need_root; then
	stop_daemon
	chown -R nobody "$T/state" "$T/run"
	chown nobody "$AUDIT"
	setpriv --reuid nobody --regid nogroup --clear-groups \
		"$SATOKEND" --foreground --config "$CONF" 2>>"$T/daemon.log" &
	DPID=$!
	for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
	run stat -c %U "/proc/$DPID/status"
	check "the daemon is not dumpable (its /proc/PID/status is root's: $OUT)" '$OUT == root'
	run stat -c %U "/proc/$DPID/cmdline"
	stop_daemon
fi
finish
