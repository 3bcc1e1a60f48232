#!/bin/bash
# Issue 18 through the real module: pam_satoken.so under pamtester (a
# real PAM application, pam_wrapper for the service directory) against
# the real satokend.  Last use reaches token show/list without a store
# write at login; a login's outcome does not depend on the report
# (satokend stopped, its socket missing, its queue full); a hostile
# sender cannot make records for tokens that do not exist nor pin a use
# in the future; the old token's use shows during a rotation's grace.
#
# Env: SATOKEND, SATOKENCTL, PAM_MODULE, PAMT_PRELOAD, B.
. "$(dirname "$0")/../daemon/lib.sh"
SATOKEND=${SATOKEND:-$SATOKEND}
CTL=${SATOKENCTL:-$CTL}
USOCK=$T/run/usage.sock

PROM=$T/satoken.prom
write_conf "usage_flush = 1s" "metrics_file = $PROM" "metrics_interval = 1s"
# the pass that counts tokens by state every 200 ms, not every minute
export SATOKEND_EXPIRY_PASS_MS=200
start_daemon || { fail "satokend did not start: $(cat "$T/daemon.log")"; finish; }
t "setup" 0 eval 'ctl group create ci && ctl policy add ci &&
	ctl account create bot --role viewer --group ci'
t "the usage socket exists" 0 test -S "$USOCK"
check "  ...mode 0660 (the store's group may report, others not)" '$(stat -c %a "$USOCK") == 660'

mkdir "$T/pam.d"
cat >"$T/pam.d/sattest" <<EOS
auth     required $PAM_MODULE conf=$CONF
account  required $PAM_MODULE conf=$CONF
EOS
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

# pt USER TOKEN [pamtester args]: one login; a send that blocked would
# hang pamtester, so timeout turns that into a failure
pt() {
	local user=$1 tok=$2
	shift 2
	printf '%s\n' "$tok" | env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		LD_PRELOAD="${PAMT_PRELOAD:-libpam_wrapper.so}" \
		ASAN_OPTIONS=detect_leaks=0 \
		timeout 20 pamtester "$@" sattest "$user" authenticate
}

# wait_used ID: polls token show until last_used_at is set (the flush is
# 1 s; the bound only keeps a broken daemon from hanging the test)
wait_used() {
	local i
	for i in $(seq 1 200); do
		run ctl --json token show "$1"
		[ -n "$(jfield last_used_at)" ] && return 0
		sleep 0.05
	done
	return 1
}

t "mint" 0 ctl --json token mint bot --name relay
ID=$(jfield id)
TOK=$(jfield token)
t "token show before any login" 0 ctl --json token show "$ID"
check "  ...last_used_at is null" '$(jq -r ".last_used_at" <<<"$OUT") == null'
t "token list before any login" 0 ctl token list bot
check "  ...LAST USED says never" '$(grep "$ID" <<<"$OUT") == *never'
t "a PAM login with rhost" 0 pt bot "$TOK" -I rhost=192.0.2.9
wait_used "$ID"
check "  ...last use arrives within usage_flush" '$(jfield last_used_at) -gt 0'
check "  ...last_used_at is now" '$(jfield last_used_at) -ge $(($(date +%s) - 30))'
check "  ...service and rhost" '$(jfield last_used_service) == sattest && $(jfield last_used_rhost) == 192.0.2.9'
t "token list" 0 ctl token list bot
check "  ...LAST USED is a time" '$(grep "$ID" <<<"$OUT") != *never'
t "list --json carries it" 0 ctl --json token list bot
check "  ...last_used_rhost in the item" '$(jq -r ".items[0].last_used_rhost" <<<"$OUT") == 192.0.2.9'
check "no secret in the audit log" '$(grep -c -- "${TOK:16:32}" "$AUDIT") == 0'

# ---- --unused-for ----
t "mint a token nobody uses" 0 ctl --json token mint bot --name idle
IDLE=$(jfield id)
t "list --unused-for 1h: neither (one used now, one minted now)" 0 ctl --json token list --unused-for 1h
check "  ...empty" '$(jq ".items | length" <<<"$OUT") == 0'
for i in $(seq 1 100); do
	run ctl --json token list --unused-for 1s
	[ "$(jq "[.items[] | select(.id == \"$IDLE\")] | length" <<<"$OUT")" = 1 ] && break
	sleep 0.05
done
check "list --unused-for 1s: the idle one, once a second has passed" '$(jq "[.items[] | select(.id == \"$IDLE\")] | length" <<<"$OUT") == 1'

# ---- rotation grace: who has not switched ----
t "rotate with a grace period" 0 ctl --json token rotate "$ID" --grace 1h
NEW=$(jfield id)
NEWTOK=$(jfield token)
t "the new token: never used" 0 ctl --json token show "$NEW"
check "  ...null" '$(jq -r ".last_used_at" <<<"$OUT") == null'
t "the old token still logs in during grace" 0 pt bot "$TOK" -I rhost=192.0.2.77
for i in $(seq 1 200); do
	run ctl --json token show "$ID"
	[ "$(jfield last_used_rhost)" = 192.0.2.77 ] && break
	sleep 0.05
done
check "token show OLD: who still uses it (rhost 192.0.2.77)" '$(jfield last_used_rhost) == 192.0.2.77'
t "token show OLD, as a person reads it" 0 ctl token show "$ID"
check "  ...a last used line with the service and host" '$OUT == *"last used:    "*" by sattest from 192.0.2.77"*'
t "token show NEW, never used yet" 0 ctl token show "$NEW"
check "  ...says never" '$OUT == *"last used:    never"*'
t "a login with the new one" 0 pt bot "$NEWTOK"
wait_used "$NEW"
check "  ...shows on the new token" '$(jfield last_used_service) == sattest'

# ---- expiry notice at login (warn_before, default 7d) ----
t "mint a token that ends in 1h" 0 ctl --json token mint bot --name soon --ttl 1h
SOONTOK=$(jfield token)
SOONEXP=$(date -u -d "@$(jfield expires_at)" +%Y-%m-%dT%H:%M:%SZ)
t "a PAM login with it" 0 pt bot "$SOONTOK"
check "  ...gets pam_info: satoken: this token expires at TIME" '$OUT == *"satoken: this token expires at $SOONEXP"*'
t "a PAM login with a 30-day token" 0 pt bot "$NEWTOK"
check "  ...no notice" '$OUT != *"expires at"*'

# ---- status and the Prometheus textfile ----
t "revoke the 1h token" 0 ctl token revoke "$(ctl --json token list bot | jq -r '.items[] | select(.name == "soon") | .id')"
t "a PAM login with it: refused" 1 pt bot "$SOONTOK"
# polls status until the refusal and the revoked token both show
for i in $(seq 1 200); do
	run ctl --json status
	[ "$(jq '[.logins_last_hour[] | select(.reason == "revoked")][0].count' <<<"$OUT")" = 1 ] &&
		[ "$(jq '.tokens.revoked // 0' <<<"$OUT")" -ge 1 ] && break
	sleep 0.05
done
VERSION=$(jfield version)
check "satokenctl status --json: the version" '$VERSION == "$("$SATOKEND" --version | cut -d" " -f2)"'
check "  ...logins: denied/revoked 1" '$(jq "[.logins_last_hour[] | select(.outcome == \"denied\" and .reason == \"revoked\")][0].count" <<<"$OUT") == 1'
check "  ...logins: ok, as many as were accepted" '$(jq "[.logins_last_hour[] | select(.reason == \"ok\")][0].count" <<<"$OUT") -ge 5'
check "  ...tokens by state: the revoked one" '$(jq ".tokens.revoked" <<<"$OUT") -ge 1 && $(jq ".tokens.active" <<<"$OUT") -ge 3'
check "  ...store size, accounts, a commit latency" '$(jfield store_bytes) -gt 0 && $(jfield accounts) == 1 && -n $(jfield last_commit_ms)'
t "satokenctl status (text)" 0 ctl status
check "  ...reads as a summary" '$OUT == *"version:      satoken "* && $OUT == *"denied  revoked"*'
for i in $(seq 1 100); do
	grep -q 'satoken_logins_total{outcome="denied",reason="revoked"} 1' "$PROM" 2>/dev/null && break
	sleep 0.05
done
t "metrics_file is written" 0 test -f "$PROM"
check "  ...with the refusal counted" '$(grep -c "^satoken_logins_total{outcome=\"denied\",reason=\"revoked\"} 1$" "$PROM") == 1'
check "  ...and the version" '$(grep -c "^satoken_build_info{version=\"$VERSION\"} 1$" "$PROM") == 1'
check "  ...mode 0644, no temporary left" '$(stat -c %a "$PROM") == 644 && ! -e $PROM.tmp'
t "  ...a valid exposition (strict parser)" 0 python3 "$ROOT/tests/integration/promcheck.py" "$PROM"
if command -v promtool >/dev/null; then
	t "  ...promtool check metrics" 0 sh -c 'promtool check metrics <"$1"' sh "$PROM"
fi
printf 'satoken_x 1\n' >"$T/bad.prom"
t "  ...the parser refuses a sample without TYPE" 1 python3 "$ROOT/tests/integration/promcheck.py" "$T/bad.prom"
printf '# TYPE satoken_c counter\nsatoken_c 1\n' >"$T/bad.prom"
t "  ...and a counter not named _total" 1 python3 "$ROOT/tests/integration/promcheck.py" "$T/bad.prom"
# token verify through the daemon is an authentication too (DESIGN:
# action=auth): counted with the modules' logins
printf %s "$SOONTOK" >"$T/soon.tok"
t "token verify of the revoked token: refused" 3 sh -c '"$1" --socket "$2" token verify bot <"$3"' sh "$CTL" "$SOCK" "$T/soon.tok"
t "status" 0 ctl --json status
check "  ...logins: denied/revoked 2, the verify with the PAM login" '$(jq "[.logins_last_hour[] | select(.reason == \"revoked\")][0].count" <<<"$OUT") == 2'

# ---- a hostile sender ----
now=$(date +%s)
python3 - "$USOCK" "$NEW" "$IDLE" <<'EOF'
import socket, sys
path, new, idle = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in [b"garbage", b"satu1 " + b"A" * 12 + b" 1 x y ok", b"\x00" * 200,
          ("satu1 %s 99999999999 evil 1.2.3.4 ok" % idle).encode(),
          ("satu1 %s 5 old 1.2.3.4 ok" % new).encode(), b"satu1 " + b"x" * 300]:
    try:
        s.sendto(m, path)
    except OSError:
        pass
EOF
wait_used "$IDLE"
check "satokend still serves after hostile datagrams, and takes the good one" '$(jfield last_used_service) == evil'
check "  ...a use from the future is taken as now" '$(jfield last_used_at) -le $(($(date +%s) + 60)) && $(jfield last_used_at) -ge $((now - 5))'
t "  ...an older report does not move a newer use back" 0 ctl --json token show "$NEW"
check "  ...not 5" '$(jfield last_used_at) -gt 5 && $(jfield last_used_service) == sattest'
check "  ...no record for a token that does not exist" '$(grep -c AAAAAAAAAAAA "$AUDIT") == 0'

# ---- a login never depends on the report ----
kill -STOP "$DPID"
ok=0
for i in $(seq 1 15); do
	pt bot "$NEWTOK" >/dev/null 2>&1 && ok=$((ok + 1))
done
kill -CONT "$DPID"
check "satokend stopped (SIGSTOP), its queue (10) full: 15 of 15 logins accepted" '$ok == 15'
check "  ...each audited ok" '$(grep -c "action=auth outcome=ok .*token=$NEW" "$AUDIT") -ge 16'
t "satokend serves again after SIGCONT" 0 ctl token show "$NEW"
stop_daemon
check "satokend gone: its usage socket is removed" '! -e $USOCK'
t "a login with satokend down and no socket: accepted" 0 pt bot "$NEWTOK"
t "  ...a refused one still refused" 1 pt bot "sat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
start_daemon || fail "satokend did not restart"
t "last use survives a restart" 0 ctl --json token show "$ID"
check "  ...rhost 192.0.2.77" '$(jfield last_used_rhost) == 192.0.2.77'

finish
