#!/bin/bash
# No change without its audit line (issue 15, item 8): with the audit
# file at its size limit, or nothing listening on the syslog socket, a
# mutation, a request made with a token and a token verify are refused
# UNAVAILABLE, nothing of them is committed, and no partial line is left;
# once the sink takes lines again, they go through and are logged, the
# syslog ones as RFC 3164 datagrams with facility authpriv.
. "$(dirname "$0")/lib.sh"
SYSLOGD=$ROOT/tests/integration/newcomer/syslogd.py

write_conf
start_daemon || { fail "satokend did not start"; finish; }
ctl group create ci >/dev/null
ctl policy add ci >/dev/null
ctl account create ci --group ci >/dev/null
mint_to "$T/tok" ci --name a
stop_daemon

# ---- the audit file at its size limit ----
# old lines fill it to well past what the store's files weigh, and the
# limit leaves room for less than one more line: the store can still
# grow, the audit file cannot
yes "Jan  1 00:00:00 satokend[1]: action=old outcome=ok padding" |
	head -n 40000 >>"$AUDIT"
full=$(stat -c %s "$AUDIT")
prlimit --fsize=$((full + 40)) "$SATOKEND" --foreground --config "$CONF" \
	2>>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 200); do
	[ -S "$SOCK" ] && ctl whoami >/dev/null 2>&1 && break
	sleep 0.05
done
run ctl account create x --group ci
check "a mutation is refused UNAVAILABLE (exit $RC: $ERR)" \
	'$RC -eq 1 && $ERR == "satokenctl: UNAVAILABLE: "*'
run ctl token mint ci --name b
check "a mint is refused UNAVAILABLE (exit $RC)" '$RC -eq 1 && -z $OUT'
t "a request made with a token is refused" 1 ctl --token-file "$T/tok" whoami
t "a token verify is refused" 1 ctl token verify ci <"$T/tok"
check "the daemon is still running" '$(kill -0 $DPID 2>/dev/null && echo yes) == yes'
check "no partial line was left ($(stat -c %s "$AUDIT") bytes, was $full)" \
	'$(stat -c %s "$AUDIT") -eq $full && "$(tail -c 1 "$AUDIT" | od -An -c | tr -d " ")" == "\n"'
stop_daemon
start_daemon || fail "satokend did not restart"
t "the refused account was not made" 4 ctl account show x
run ctl --json token list ci
check "the refused token was not made" '$(jq ".items | length" <<<"$OUT") -eq 1'
t "with room again, a mutation goes through" 0 ctl account create y --group ci
check "and its line is in the file" '$(tail -n 1 "$AUDIT") == *"action=account.create outcome=ok"*"account=y"*'
stop_daemon

# ---- syslog with nothing listening (no /dev/log) ----
LOGSOCK=$T/log.sock
write_conf "audit = syslog"
sed -i '/^audit = file:/d' "$CONF"
export SATOKEN_SYSLOG_SOCKET=$LOGSOCK
start_daemon || { fail "satokend did not start with audit = syslog"; finish; }
t "syslog unreachable: a mutation is refused" 1 ctl account create z --group ci
t "syslog unreachable: a request made with a token is refused" 1 \
	ctl --token-file "$T/tok" whoami
t "syslog unreachable: a token verify is refused" 1 ctl token verify ci <"$T/tok"
t "and the account was not made" 4 ctl account show z

python3 "$SYSLOGD" "$LOGSOCK" "$T/syslog.log" "$T/syslog.pri" "$T/syslog.ready" &
SPID=$!
CLEANUPS+=("kill $SPID 2>/dev/null")
for _ in $(seq 1 200); do [ -e "$T/syslog.ready" ] && break; sleep 0.05; done
t "syslog back: a mutation goes through" 0 ctl account create z --group ci
t "syslog back: a token verify goes through" 0 ctl token verify ci <"$T/tok"
for _ in $(seq 1 100); do grep -q "action=auth" "$T/syslog.pri" 2>/dev/null && break; sleep 0.05; done
# syslogd.py: "FACILITY SEVERITY ident[pid]: message"
check "the change reached syslog, facility authpriv (10)" \
	'$(grep -c "^10 6 satokend\[[0-9]*\]: action=account.create outcome=ok .*account=z" "$T/syslog.pri") -eq 1'
check "the login too" '$(grep -c "^10 6 satokend\[[0-9]*\]: action=auth outcome=ok" "$T/syslog.pri") -eq 1'
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
rm -f "$LOGSOCK"
t "syslog gone again: refused again" 1 ctl account delete z
t "and z is still there" 0 ctl account show z
stop_daemon
unset SATOKEN_SYSLOG_SOCKET
finish
