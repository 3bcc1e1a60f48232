#!/bin/bash
# The rate limit, the quotas and ttl bounds, configuration reload,
# retention, the daemon's start-up rules (config check, directory
# permissions, one writer, daemon mode, systemd socket and readiness),
# and the connection bound.
. "$(dirname "$0")/lib.sh"
raw() { "$RAWSOCK" "$SOCK" "$@"; }

# ---- the rate limit: a token bucket of rate_limit per second ----
write_conf "rate_limit = 5"
start_daemon || { fail "satokend did not start"; finish; }
for i in $(seq 1 20); do echo '{"op":"whoami"}'; done >"$T/burst"
run raw send <"$T/burst"
okc=$(jq -r .ok <<<"$OUT" | grep -c true)
check "a burst of 20: the first 5 pass ($okc did)" '$okc -ge 5 && $okc -le 6'
check "the rest are THROTTLED" '$(jq -r "select(.ok == false) | .error" <<<"$OUT" | sort -u) == THROTTLED'
check "with retry_after_ms" '$(jq -r "select(.ok == false) | .retry_after_ms" <<<"$OUT" | sort -n | tail -n 1) -le 200 && $(jq -r "select(.ok == false) | .retry_after_ms" <<<"$OUT" | sort -n | head -n 1) -ge 1'
# one request a second, and root's bucket kept empty by a client
# sending all the while: however long satokenctl takes to start (a
# sanitizer build on a busy machine), its request finds it empty
write_conf "rate_limit = 1"
kill -HUP "$DPID"
sleep 0.3
echo '{"op":"whoami"}' >"$T/one"
# not through raw(): the pid must be rawsock's, to stop it
"$RAWSOCK" "$SOCK" pump 1 <"$T/one" >"$T/drain.out" &
DRAIN=$!
for i in $(seq 1 400); do grep -q pumping "$T/drain.out" && break; sleep 0.05; done
throttled=0
for i in $(seq 1 5); do
	run ctl whoami
	[ "$RC" = 7 ] && [[ $ERR == "satokenctl: THROTTLED: "* ]] && throttled=$((throttled + 1))
done
check "satokenctl exits 7 when throttled ($throttled of 5)" '$throttled -ge 4'
t "--json shows retry_after_ms" 7 ctl --json whoami
check "retry_after_ms in the reply" '$(jfield error) == THROTTLED && $(jfield retry_after_ms) -ge 1'
kill -TERM "$DRAIN"
wait "$DRAIN"
sleep 1.2
t "after a second the bucket is full again" 0 ctl whoami
# a listing throttled is refused as any request is (DESIGN: exit 7)
run raw send <"$T/burst"
t "a throttled listing exits THROTTLED" 7 ctl group list
sleep 1.2
if [ "$(id -u)" = 0 ]; then
	run raw send <"$T/burst"
	t "another principal has its own bucket" 0 as_nobody nogroup "$CTL" --socket "$SOCK" whoami
fi
# in aggregate: one line a second at most, not one per refusal (t_fair)
check "audit: throttled requests, counted" '$(grep -c "action=throttled outcome=denied reason=THROTTLED principal=uid:0(root) count=[0-9]" "$AUDIT") -ge 1'
check "audit: no line per refusal" '$(grep -c "action=whoami outcome=denied reason=THROTTLED" "$AUDIT") == 0'

# ---- reload: SIGHUP applies a good config, keeps the old on a bad one ----
write_conf "rate_limit = 0" "max_accounts = 3" "max_tokens_per_account = 2" \
	"max_ttl = 1h" "default_ttl = 10m"
kill -HUP "$DPID"
sleep 0.3
run raw send <"$T/burst"
check "reloaded: no rate limit" '$(jq -r .ok <<<"$OUT" | sort -u) == true'
ctl group create ci >/dev/null
ctl policy add ci >/dev/null

# ---- quotas and ttl bounds ----
t "account 1" 0 ctl account create q1 --group ci
t "account 2" 0 ctl account create q2 --group ci
t "account 3" 0 ctl account create q3
t "account 4: QUOTA_EXCEEDED" 6 ctl account create q4
check "quota line" '$ERR == "satokenctl: QUOTA_EXCEEDED: max_accounts (3) reached"'
t "token create at max_accounts" 6 ctl token create q5 --group ci
t "default ttl from the config" 0 ctl --json token mint q1 --name a
check "10 minutes" '$(( $(jnum expires_at) - $(jnum created_at) )) == 600'
IDA=$(jfield id)
t "ttl over max_ttl" 2 ctl token mint q1 --name b --ttl 2h
check "names the bound" '$ERR == *"3600s (max_ttl)"*'
t "ttl at max_ttl" 0 ctl token mint q1 --name b --ttl 1h
t "a third token: QUOTA_EXCEEDED" 6 ctl token mint q1 --name c
check "token quota line" '$ERR == "satokenctl: QUOTA_EXCEEDED: max_tokens_per_account (2) reached for q1"'
t "rotation with grace at the quota: QUOTA_EXCEEDED" 6 ctl token rotate "$IDA" --grace 1m
check "rotation quota line" '$ERR == "satokenctl: QUOTA_EXCEEDED: max_tokens_per_account (2) reached for q1"'
t "the refused rotation left the old token alone" 0 ctl --json token show "$IDA"
check "still live, not replaced" '-z "$(jfield replaced_by)" && -z "$(jfield revoked_at)"'
t "old-expires at the quota: QUOTA_EXCEEDED" 6 ctl token rotate "$IDA" --old-expires "$(( $(date +%s) + 60 ))"
t "rotation at the quota is fine" 0 ctl --json token rotate "$IDA"
t "revoke frees a slot" 0 ctl token revoke "$(jfield id)"
t "mint again" 0 ctl token mint q1 --name c
t "another account has its own quota" 0 ctl token mint q2 --name a
t "delete frees an account slot" 0 ctl account delete q3
t "account 4 now" 0 ctl account create q4

printf 'bogus_key = 1\n' >>"$CONF"
kill -HUP "$DPID"
sleep 0.3
check "a bad config is logged" '$(grep -c "reload: .*bogus_key.*keeping the running configuration" "$T/daemon.log") == 1'
t "and the old one stays" 6 ctl account create q6
mv "$AUDIT" "$AUDIT.1"
write_conf "max_accounts = 3" "audit_reads = yes"
kill -HUP "$DPID"
sleep 0.3
t "after log rotation" 0 ctl whoami
check "the audit file was reopened" '-f $AUDIT && $(grep -c "action=whoami" "$AUDIT") == 1'

# ---- retention: expired and revoked tokens go after retain_days ----
write_conf "retain_days = 0"
kill -HUP "$DPID"
sleep 0.3
ctl account create ret --group ci >/dev/null
ctl token mint ret --name live >/dev/null 2>&1
IDL=$(ctl --json token list ret | jq -r '.items[0].id')
IDR=$(ctl --json token mint ret --name gone | jq -r .id)
IDE=$(ctl --json token mint ret --name short --ttl 1s | jq -r .id)
ctl token revoke "$IDR" >/dev/null
sleep 1.2
kill -HUP "$DPID"	# restarts the sweep
sleep 0.5
t "a revoked token is purged" 4 ctl token show "$IDR"
t "an expired token is purged" 4 ctl token show "$IDE"
t "a live token stays" 0 ctl token show "$IDL"
check "audit: the purge" '$(grep -c "action=token.purge outcome=ok principal=satokend account=ret detail=\"2 tokens past retain_days\"" "$AUDIT") == 1'
write_conf
kill -HUP "$DPID"
sleep 0.3
IDK=$(ctl --json token mint ret --name kept | jq -r .id)
ctl token revoke "$IDK" >/dev/null
kill -HUP "$DPID"
sleep 0.5
t "with retain_days 30 a revoked token stays" 0 ctl --json token show "$IDK"
check "shown as revoked" '$(jfield status) == revoked'

# ---- SIGTERM: a clean stop ----
stop_daemon
check "SIGTERM exits 0" '$DSTATUS == 0'
check "the socket is removed" '! -e $SOCK'
check "stopped is logged" '$(grep -c "stopped" "$T/daemon.log") -ge 1'

# ---- start-up rules ----
t "--check-config" 0 "$SATOKEND" --check-config --config "$CONF"
check "says OK" '$OUT == "satokend: configuration OK"*'
printf 'database = %s\nmax_ttl = forever\n' "$DB" >"$T/bad.conf"
t "--check-config, bad" 1 "$SATOKEND" --check-config --config "$T/bad.conf"
check "names the line" '$ERR == *"bad.conf:2: max_ttl: expected a duration"*'
t "a missing config given" 1 "$SATOKEND" --check-config --config "$T/nosuch.conf"
t "SATOKEN_CONF" 0 env SATOKEN_CONF="$CONF" "$SATOKEND" --check-config
t "unknown option" 2 "$SATOKEND" --bogus
mkdir -m 0777 "$T/open"
printf 'database = %s/open/s.db\nsocket = %s\n' "$T" "$SOCK" >"$T/open.conf"
t "a world-writable state directory" 1 "$SATOKEND" --foreground --config "$T/open.conf"
check "refused" '$ERR == *"state directory $T/open must be"*"not writable by group or others"*'
mkdir -m 0775 "$T/gsock"
printf 'database = %s\nsocket = %s/gsock/s.sock\n' "$DB" "$T" >"$T/gsock.conf"
t "a group-writable socket directory" 1 "$SATOKEND" --foreground --config "$T/gsock.conf"
check "refused" '$ERR == *"socket directory $T/gsock must be"*'
start_daemon || fail "restart"
printf 'database = %s\nsocket = %s/other.sock\n' "$DB" "$T/run" >"$T/second.conf"
t "a second daemon on the same store" 1 "$SATOKEND" --foreground --config "$T/second.conf"
check "says why" '$ERR == *"held by another writer"*'
mkdir -m 0755 "$T/state2"
printf 'database = %s/state2/s.db\nsocket = %s\n' "$T" "$SOCK" >"$T/third.conf"
t "another store on the same socket" 1 "$SATOKEND" --foreground --config "$T/third.conf"
check "says why" '$ERR == *"another daemon serves on $SOCK"*'
t "the first daemon still serves" 0 ctl whoami
stop_daemon

# daemon mode: returns once it serves
t "daemon mode" 0 "$SATOKEND" --config "$CONF"
t "serves at once" 0 ctl whoami
BGPID=
for p in /proc/[0-9]*; do
	if [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "$SATOKEND --config $CONF " ]; then
		BGPID=${p#/proc/}
	fi
done
check "found the daemon" '-n $BGPID'
[ -n "$BGPID" ] && kill -TERM "$BGPID"
for i in $(seq 1 100); do [ -e "$SOCK" ] || break; sleep 0.05; done
check "daemon mode stops on SIGTERM" '! -e $SOCK'

# systemd: a socket handed over as fd 3, readiness on NOTIFY_SOCKET
run "$RAWSOCK" "$SOCK" activate "$SATOKEND" --foreground --config "$CONF"
SDPID=$(sed -n 's/^pid //p' <<<"$OUT")
check "READY=1 notified" '$OUT == *"notify READY=1"* && $OUT != *"exited early"*'
t "serves on the inherited socket" 0 ctl whoami
[ -n "$SDPID" ] && kill -TERM "$SDPID"
for i in $(seq 1 100); do kill -0 "$SDPID" 2>/dev/null || break; sleep 0.05; done
check "stopped" '$(kill -0 "$SDPID" 2>/dev/null; echo $?) != 0'

# ---- connections: 16384 at most (64 per user: t_hostile), fewer when
# the descriptor limit is lower; when full the longest-idle connection
# makes room; when none is idle the newcomer is refused ----
hard=$(ulimit -Hn)
ulimit -Sn 1024
start_daemon || fail "start with a soft descriptor limit of 1024"
soft=$(sed -n 's/^Max open files *\([0-9a-z]*\).*/\1/p' "/proc/$DPID/limits")
check "the soft limit of 1024 is raised ($soft, hard $hard)" '$soft == $((16384 + 64)) || ($hard != unlimited && $soft == $hard)'
stop_daemon
ulimit -Sn "$hard"
# last in the file: the shell cannot raise its hard limit again.  100
# descriptors leave 36 connections, the daemon keeping 64 for itself.
ulimit -n 100
start_daemon || fail "start with a descriptor limit of 100"
pids=()
for i in 1 2 3; do
	raw hold 20 </dev/null >"$T/idle$i.out" &
	pids+=($!)
done
printf '{"op":"who' | raw hold 20 >"$T/busy.out" &
pids+=($!)
sleep 1.5
# 32 fill the daemon, 3 replace the idle three, 5 find nobody idle
run raw flood 40
check "full: the idle made room, the rest refused at once" '$OUT == "refused 5"'
wait "${pids[@]}"
for i in 1 2 3; do
	check "idle connection $i closed for a newcomer" '$(tail -n 1 "$T/idle$i.out") =~ ^closed\ [123]$'
done
check "a request in progress is not evicted: cut off at its 10 s" '$(tail -n 1 "$T/busy.out") =~ ^closed\ (9|1[0-2])$'
check "the refusal is logged" '$(grep -c "36 connections, none idle: refusing new ones" "$T/daemon.log") == 1'
t "serves after being full" 0 ctl whoami
finish
