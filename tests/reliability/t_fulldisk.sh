#!/bin/bash
# A full disk during commits, simulated with a file-size limit
# (RLIMIT_FSIZE through prlimit; it needs no root and no mount): the
# client gets a clear error, nothing acknowledged earlier is lost, the
# daemon keeps serving reads, and after a restart without the limit the
# store opens with every acknowledged token and nothing half-made.
. "$(dirname "$0")/lib.sh"

OUT= ERR=
if ! command -v prlimit >/dev/null 2>&1; then
	fail "prlimit is missing (package util-linux)"
	finish
fi
# audit to syslog: a file sink would hit the same limit and blur which
# write failed.  Its sends are checked (no line, no change), so a
# stand-in syslogd listens on a private socket
write_conf "audit = syslog" "max_tokens_per_account = 100000"
sed -i '/^audit = file:/d' "$CONF"
export SATOKEN_SYSLOG_SOCKET=$T/log.sock
python3 "$ROOT/tests/integration/newcomer/syslogd.py" "$SATOKEN_SYSLOG_SOCKET" \
	"$T/syslog.log" "$T/syslog.pri" "$T/syslog.ready" &
CLEANUPS+=("kill $! 2>/dev/null")
for _ in $(seq 1 200); do [ -e "$T/syslog.ready" ] && break; sleep 0.05; done
start_daemon || { fail "satokend did not start"; finish; }
ctl group create ci >/dev/null
ctl policy add ci >/dev/null
ctl account create ci --group ci >/dev/null
for i in $(seq 1 20); do
	mint_to "$T/early$i" ci --name "early$i" || fail "mint early$i"
done
stop_daemon

# the limit: a little above the largest file the daemon keeps, so the
# next few commits fit and then the store or its journal cannot grow
largest=$(stat -c %s "$DB" "$DB".* 2>/dev/null | sort -n | tail -n 1)
limit=$((largest + 6000))
prlimit --fsize="$limit" "$SATOKEND" --foreground --config "$CONF" \
	2>>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 200); do
	ctl whoami >/dev/null 2>&1 && break
	sleep 0.05
done
acked=0 refused=0 rc=0
for i in $(seq 1 3000); do
	if mint_to "$T/late$i" ci --name "late$i" 2>"$T/err$i"; then
		acked=$((acked + 1))
		echo "$i" >>"$T/acked"
	else
		refused=$((refused + 1))
		run ctl token mint ci --name "probe$i"
		break
	fi
done
check "the limit was reached after $acked more commits" '$refused -eq 1'
check "the client is told the store is unavailable (exit $RC: $ERR)" \
	'$RC -eq 1 && $ERR == "satokenctl: UNAVAILABLE: "*'
check "the daemon is still running" '$(kill -0 $DPID 2>/dev/null && echo yes) == yes'
run ctl token list ci
check "it still serves reads (token list)" '$RC -eq 0'
ok_all=1
for i in $(seq 1 20); do
	run ctl token verify ci <"$T/early$i"
	[ "$OUT" = ok ] || ok_all=0
done
check "every token from before the limit still verifies" '$ok_all -eq 1'
stop_daemon

# no limit: the store opens, every acknowledged token is there, nothing
# refused half-exists
start_daemon || fail "satokend did not restart"
ok_all=1
for i in $(seq 1 20) $(cat "$T/acked" 2>/dev/null); do
	f=$T/early$i
	[ -s "$T/late$i" ] && [ "$i" -le "$acked" ] && f=$T/late$i
	run ctl token verify ci <"$f"
	[ "$OUT" = ok ] || ok_all=0
done
check "after a restart every acknowledged token verifies" '$ok_all -eq 1'
run ctl --json token list ci
n=$(jq '.items | length' <<<"$OUT")
check "the store holds exactly the acknowledged tokens ($n)" \
	'$n -eq $((20 + acked))'
run ctl token mint ci --name after
check "and takes new tokens again" '$RC -eq 0'
stop_daemon
finish
