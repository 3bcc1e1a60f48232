#!/bin/bash
# Issue 19, operable like a Debian component: compound durations through
# the CLI and satoken.conf, token mint --output, the questions before a
# destructive command (under a real pseudo-terminal, with expect), the
# backup taken while tokens are being minted and its restore, --version.
. "$(dirname "$0")/lib.sh"

TOKRE='^sat_[0-9A-Za-z]{50}$'
write_conf "default_ttl = 1h30m" "max_ttl = 2w3d"
start_daemon || { fail "satokend did not start: $(cat "$T/daemon.log")"; finish; }
t "setup" 0 eval 'ctl group create ci && ctl group create ops &&
	ctl policy add ci ops && ctl account create bot --role viewer --group ci'

# ---- --version ----
t "satokenctl --version" 0 "$CTL" --version
check "  ...one line, satoken X.Y.Z" '$OUT =~ ^satoken\ [0-9]+\.[0-9]+\.[0-9]+$'
v=$OUT
t "satokend --version" 0 "$SATOKEND" --version
check "  ...the same version" '$OUT == "$v"'

# ---- compound durations ----
now=$(date +%s)
t "mint with the config's default_ttl = 1h30m" 0 ctl --json token mint bot --name d1
exp=$(jfield expires_at)
check "  ...expires 5400 s after minting" '$exp -ge $((now + 5400)) && $exp -le $(($(date +%s) + 5400))'
now=$(date +%s)
t "mint --ttl 2w3d (max_ttl = 2w3d)" 0 ctl --json token mint bot --name d2 --ttl 2w3d
exp=$(jfield expires_at)
check "  ...expires 17 days later" '$exp -ge $((now + 17 * 86400)) && $exp -le $(($(date +%s) + 17 * 86400))'
t "mint --ttl 2w3d1s: over max_ttl" 2 ctl token mint bot --name d3 --ttl 2w3d1s
for bad in 1h30 30m1h 1hm h 1h-5m 99999999999999999999w; do
	t "mint --ttl $bad: VALIDATION" 2 ctl token mint bot --name d4 --ttl "$bad"
	check "  ...names the option" '$ERR == *"--ttl"*'
done
t "nothing minted by the refusals" 0 ctl --json token list bot
check "  ...two tokens" '$(jq ".items | length" <<<"$OUT") == 2'
write_conf "default_ttl = 1h30" 
t "satoken.conf default_ttl = 1h30 is refused with its line" 1 "$SATOKEND" --check-config --config "$CONF"
check "  ...naming the line" '$ERR == *"satoken.conf:"[0-9]*": default_ttl"*'
write_conf "default_ttl = 1h30m" "max_ttl = 2w3d"

# ---- token mint --output ----
mkdir -m 0700 "$T/out"
t "mint --output FILE" 0 ctl token mint bot --name o1 --output "$T/out/tok"
check "  ...nothing on stdout" '-z $OUT'
check "  ...says where it went" '$ERR == *"written to $T/out/tok"*'
check "  ...the file is mode 0600" '$(stat -c %a "$T/out/tok") == 600'
check "  ...the token alone, no newline" '$(wc -c <"$T/out/tok") == 54 && $(cat "$T/out/tok") =~ $TOKRE'
t "  ...and it verifies" 0 ctl token verify bot <"$T/out/tok"
(umask 0; ctl token mint bot --name o2 --output "$T/out/tok2" >/dev/null 2>&1)
check "mint --output under umask 0 is still 0600" '$(stat -c %a "$T/out/tok2") == 600'
echo keep >"$T/out/exists"
t "mint --output onto an existing file: refused" 2 ctl token mint bot --name o3 --output "$T/out/exists"
check "  ...the file is untouched" '$(cat "$T/out/exists") == keep'
run ctl --json token list bot
check "  ...and nothing was minted" '$(jq "[.items[] | select(.name == \"o3\")] | length" <<<"$OUT") == 0'
ln -s "$T/out/target" "$T/out/link"
t "mint --output onto a symlink: refused" 2 ctl token mint bot --name o4 --output "$T/out/link"
check "  ...the link's target was not created" '! -e $T/out/target'
t "mint --output for an unknown account: NOT_FOUND" 4 ctl token mint nosuch --name x --output "$T/out/nf"
check "  ...and no file is left behind" '! -e $T/out/nf'
t "mint --json --output" 0 ctl --json token mint bot --name o5 --output "$T/out/tok5"
check "  ...the JSON has no token, names the file" '$(jfield token) == "" && $(jfield output) == "$T/out/tok5" && -n $(jfield id)'
t "rotate --output" 0 ctl token rotate "$(jq -r .id <<<"$OUT")" --output "$T/out/tok6"
check "  ...the new token in the file" '$(cat "$T/out/tok6") =~ $TOKRE'

# ---- questions before destructive commands ----
# ask EXPECT_ANSWER CMD...: runs CMD on a pseudo-terminal (expect); when
# it asks, answers; prints "asked" or "not asked", then the exit code
ask() {
	local answer=$1
	shift
	expect -f - "$answer" "$@" <<'EOX' 2>&1
set timeout 60
set answer [lindex $argv 0]
spawn -noecho {*}[lrange $argv 1 end]
expect {
	-ex "Continue? \[y/N\] " { puts "\nASKED"; send "$answer\r"; exp_continue }
	timeout { puts "\nTIMEOUT"; close }
	eof
}
lassign [wait] pid spawnid oserr status
puts "\nEXIT $status"
EOX
}
ctl account create gone --role viewer >/dev/null
run ask n "$CTL" --socket "$SOCK" account delete gone
check "account delete on a terminal asks" '$OUT == *ASKED* && $OUT == *"account gone"*'
check "  ...'n' aborts, exit 1" '$OUT == *"ABORTED"* && $OUT == *"EXIT 1"*'
t "  ...and the account is still there" 0 ctl account show gone
run ask y "$CTL" --socket "$SOCK" account delete gone
check "  ...'y' deletes it" '$OUT == *ASKED* && $OUT == *"EXIT 0"*'
t "  ...it is gone" 4 ctl account show gone
ctl account create gone2 --role viewer >/dev/null
run ask n "$CTL" --socket "$SOCK" account delete gone2 --yes
check "account delete --yes on a terminal does not ask" '$OUT != *ASKED* && $OUT == *"EXIT 0"*'
ctl account create gone3 --role viewer >/dev/null
t "account delete without a terminal does not ask" 0 ctl account delete gone3 </dev/null
check "  ...no question on stderr" '$ERR != *Continue*'

run ask n "$CTL" --socket "$SOCK" policy set ci
check "policy set that removes a group asks, naming it" '$OUT == *ASKED* && $OUT == *"(ops)"* && $OUT == *"EXIT 1"*'
t "  ...'n' leaves the policy" 0 ctl policy show
check "  ...still ci and ops" '$OUT == $'"'"'ci\nops'"'"
run ask n "$CTL" --socket "$SOCK" policy set ci ops
check "policy set that removes nothing does not ask" '$OUT != *ASKED* && $OUT == *"EXIT 0"*'
run ask n "$CTL" --socket "$SOCK" policy set
check "policy set with no group asks (nobody may use tokens)" '$OUT == *ASKED* && $OUT == *"nobody"* && $OUT == *"EXIT 1"*'
t "  ...and nothing changed" 0 ctl policy show
check "  ...still ci and ops" '$OUT == $'"'"'ci\nops'"'"
run ask n "$CTL" --socket "$SOCK" policy set ops --yes
check "policy set --yes does not ask" '$OUT != *ASKED* && $OUT == *"EXIT 0"*'
ctl policy add ci >/dev/null
ctl group create spare >/dev/null
run ask n "$CTL" --socket "$SOCK" group delete spare
check "group delete of a group off the policy does not ask" '$OUT != *ASKED* && $OUT == *"EXIT 0"*'
run ask n "$CTL" --socket "$SOCK" group delete ops
check "group delete of a group on the policy asks" '$OUT == *ASKED* && $OUT == *"ops is on the token-usage policy"* && $OUT == *"EXIT 1"*'
t "  ...'n' keeps it" 0 ctl group list
check "  ...ops is still there" '$OUT == *ops*'

# ---- backup and restore ----
t "backup by an admin" 0 ctl backup "$T/b0"
check "  ...mode 0600" '$(stat -c %a "$T/b0") == 600'
t "backup onto an existing file: refused" 2 ctl backup "$T/b0"
check "  ...says it is not overwritten" '$ERR == *"not overwritten"*'
if need_root; then
	mkdir -m 0777 "$T/pub"
	t "backup by a viewer: PERMISSION_DENIED" 3 as_nobody nogroup "$CTL" --socket "$SOCK" backup "$T/pub/b"
	check "  ...and no file is left" '! -e $T/pub/b'
fi

# mint continuously; a line per acknowledged token in acked (id, token)
: >"$T/acked"
(
	i=0
	# ends with the test, however it ends: its directory gone or its
	# shell dead, it would otherwise mint (and fail) for ever
	while [ ! -e "$T/stop" ] && [ -d "$T" ] && kill -0 $$ 2>/dev/null; do
		i=$((i + 1))
		tok=$("$CTL" --socket "$SOCK" token mint bot --name "m$i" 2>/dev/null) &&
			echo "$tok" >>"$T/acked"
	done
) &
MINTER=$!
# counts, not time: on a loaded machine minting is slow, so wait for the
# tokens themselves (up to 10 minutes, a hang rather than a pace)
for _ in $(seq 1 6000); do [ "$(wc -l <"$T/acked")" -ge 20 ] && break; sleep 0.1; done
# everything acknowledged before the backup starts must be in it
cp "$T/acked" "$T/acked.before"
t "backup while tokens are being minted" 0 ctl backup "$T/b1"
for _ in $(seq 1 6000); do
	[ "$(wc -l <"$T/acked")" -ge $(($(wc -l <"$T/acked.before") + 10)) ] && break
	sleep 0.1
done
touch "$T/stop"
wait "$MINTER"
cp "$T/acked" "$T/acked.all"
before=$(wc -l <"$T/acked.before")
check "the minter had tokens acknowledged before the backup ($before)" '$before -ge 20'
check "  ...and after it" '$(wc -l <"$T/acked.all") -gt $before'
check "the backup holds no token" '$(grep -caF -f <(cut -c5-54 "$T/acked.all") "$T/b1") == 0'

# restore into a fresh store, with satokend stopped
mkdir -m 0755 "$T/state2"
sed "s|^database = .*|database = $T/state2/satoken.db|" "$CONF" >"$T/conf2"
t "satokend --restore FILE into a fresh store" 0 "$SATOKEND" --restore "$T/b1" --config "$T/conf2"
check "  ...says what it restored" '$OUT == *"restored"*"records"*'
run "$STOREREAD" "$T/state2/satoken.db" < <(sed 's/^/bot /' "$T/acked.before")
miss=$(grep -cvx ok <<<"$OUT")
check "every token acknowledged before the backup verifies in the restored store" '$miss == 0'
# a token minted after the backup finished is not in it
last=$(tail -n 1 "$T/acked.all")
run "$STOREREAD" "$T/state2/satoken.db" <<<"bot $last"
check "a token minted after the backup does not" '$OUT == unknown_token'
cp "$CONF" "$CONF.main"
cp "$T/conf2" "$CONF"
stop_daemon
start_daemon
check "satokend opens the restored store" '-n $DPID'
t "  ...and serves it" 0 ctl account show bot
t "  ...a restored token verifies through the daemon" 0 ctl token verify bot <<<"$(head -n 1 "$T/acked.before")"
t "restore while satokend runs: refused" 1 "$SATOKEND" --restore "$T/b0" --config "$CONF"
check "  ...says to stop it" '$ERR == *"stop it first"*'
t "  ...and the store is unchanged" 0 ctl token verify bot <<<"$(head -n 1 "$T/acked.before")"
stop_daemon

# the copy in many replies (a cursor each), as a large store is sent
SATOKEND_BACKUP_CHUNK=97 start_daemon
t "backup in 97-byte replies" 0 ctl backup "$T/b-chunked"
check "  ...as large as the one-reply backup of the same store" \
	'$(stat -c %s "$T/b1") == $(stat -c %s "$T/b-chunked")'
check "  ...audited once per reply" '$(grep -c "action=backup outcome=ok" "$AUDIT") -gt 10'
stop_daemon
t "  ...and it restores" 0 "$SATOKEND" --restore "$T/b-chunked" --config "$CONF"
run "$STOREREAD" "$T/state2/satoken.db" < <(sed 's/^/bot /' "$T/acked.before")
check "  ...with every token of the backup" '$(grep -cvx ok <<<"$OUT") == 0'

# damaged or foreign files change nothing
cp "$T/b1" "$T/bad"
printf 'X' | dd of="$T/bad" bs=1 seek=200 conv=notrunc 2>/dev/null
t "restore of an altered backup: refused" 1 "$SATOKEND" --restore "$T/bad" --config "$CONF"
check "  ...as damaged" '$ERR == *"damaged"*'
head -c 300 "$T/b1" >"$T/short"
t "restore of a truncated backup: refused" 1 "$SATOKEND" --restore "$T/short" --config "$CONF"
t "restore of a file that is not a backup: refused" 1 "$SATOKEND" --restore "$CONF" --config "$CONF"
check "  ...as such" '$ERR == *"not a satoken backup"*'
run "$STOREREAD" "$T/state2/satoken.db" <<<"bot $(head -n 1 "$T/acked.before")"
check "  ...none of them changed the store" '$OUT == ok'

# restoring the older backup over a live store takes later tokens away
t "restore b0 (taken before the minting) over it" 0 "$SATOKEND" --restore "$T/b0" --config "$CONF"
run "$STOREREAD" "$T/state2/satoken.db" <<<"bot $(head -n 1 "$T/acked.before")"
check "  ...tokens minted after b0 no longer verify" '$OUT == unknown_token'
run "$STOREREAD" "$T/state2/satoken.db" <<<"bot $(cat "$T/out/tok")"
check "  ...tokens minted before b0 do" '$OUT == ok'
check "restores are audited" '$(grep -c "action=restore outcome=ok" "$AUDIT") -ge 2'
check "backups are audited" '$(grep -c "action=backup outcome=ok" "$AUDIT") -ge 2'
start_daemon
check "satokend starts on the restored store" '-n $DPID'
t "  ...and serves it" 0 ctl token verify bot <"$T/out/tok"
stop_daemon

# a backup hands out the HMAC key: it is given only once audited.  The
# audit file is padded past every store file, and the daemon started
# with a file-size limit at that size, so the next audit line cannot be
# written while the store still can be read.
head -c 3000000 /dev/zero | tr '\0' '#' >>"$AUDIT"
echo >>"$AUDIT"
prlimit --fsize="$(stat -c %s "$AUDIT")" "$SATOKEND" --foreground --config "$CONF" \
	2>>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 3000); do
	ctl whoami >/dev/null 2>&1 && break
	sleep 0.1
done
# a read is answered even when its audit line cannot be written, so
# this shows the daemon serves: the refusal below is the audit's doing
t "the daemon under the limit serves" 0 ctl account show bot
t "backup when its audit line cannot be written: UNAVAILABLE" 1 ctl backup "$T/b-unaudited"
check "  ...and no file is left" '! -e $T/b-unaudited'
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=
cp "$CONF.main" "$CONF"
finish
