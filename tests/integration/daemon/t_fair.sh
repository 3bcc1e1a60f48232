#!/bin/bash
# Cost before work (DESIGN, "Authorization and audit, second edition"):
# the rate limit is taken from the socket's uid before a request is
# parsed or its token verified, so no uid escapes it by presenting
# tokens; refused requests are audited in aggregate, one
# action=throttled count=N line per principal per second at most; and
# while three other uids flood the daemon, root is served.  Nothing
# here is timed: the checks are on what was answered and what the
# audit file says.
. "$(dirname "$0")/lib.sh"
raw() { "$RAWSOCK" "$SOCK" "$@"; }

need_root || finish
# uids with no passwd entry: SO_PEERCRED is all the daemon goes by
U0=$((61000 + ($$ % 1000) * 3))
as_uid() { local u=$1; shift; setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }

write_conf
start_daemon || { fail "satokend did not start"; finish; }
ctl group create ci >/dev/null
ctl policy add ci >/dev/null
ctl account create svc --group ci >/dev/null
TOK=$(ctl token mint svc --name a 2>/dev/null)
ctl account create gone --group ci >/dev/null
GONE=$(ctl token mint gone --name a 2>/dev/null)
ctl account delete gone >/dev/null
run ctl token verify gone <<<"$GONE"
check "a well-formed token nobody holds any more" '$RC == 3 && $OUT == unknown_token'
write_conf "rate_limit = 2"
kill -HUP "$DPID"
sleep 0.3

# ---- a uid pays for its token requests ----
{
	for i in $(seq 1 20); do
		printf '{"op":"whoami","auth_token":"%s"}\n' "$TOK"
	done
	echo '{"op":"whoami"}'
} >"$T/tokburst"
printf '{"op":"whoami"}\n{"op":"whoami","auth_token":"%s"}\n' "$TOK" >"$T/other"
# back to back, the checks after
t_a=$(date +%s%N)
as_uid "$U0" "$RAWSOCK" "$SOCK" send <"$T/tokburst" >"$T/tokburst.out"
as_uid "$((U0 + 1))" "$RAWSOCK" "$SOCK" send <"$T/other" >"$T/other.out"
t_b=$(date +%s%N)
OUT=$(cat "$T/tokburst.out")
check "21 replies" '$(wc -l <<<"$OUT") == 21'
okc=$(jq -r 'select(.ok) | .principal' <<<"$OUT" | grep -c '^account:svc$')
check "the first 2 act as the account ($okc did)" '$okc -ge 2 && $okc -le 3'
check "the uid's own request after them: THROTTLED" '$(tail -n 1 <<<"$OUT" | jq -r .error) == THROTTLED'
# and the account is one principal, whoever holds its token: both uids'
# token requests together get no more than its bucket (2, and 2 a second)
OUT=$(cat "$T/other.out")
check "another uid: its own request passes" '$(head -n 1 <<<"$OUT" | jq -r .principal) == "uid:$((U0 + 1))"'
both=$(cat "$T/tokburst.out" "$T/other.out" | jq -r 'select(.ok) | .principal' | grep -c '^account:svc$')
bound=$((2 + (t_b - t_a) * 2 / 1000000000 + 1))
check "the account's bucket is shared by the uids ($both, at most $bound)" '$both -le $bound'

# ---- three uids flood with an unknown token; root is served ----
sleep 1.1	# every bucket full again
lines_before=$(wc -l <"$AUDIT")
t0=$(date +%s)
printf '{"op":"token.list","auth_token":"%s"}\n' "$GONE" >"$T/flood"
pids=()
for k in 0 1 2; do
	# not through as_uid: the pid must be the flooder's, to stop it
	setpriv --reuid "$((U0 + k))" --regid "$((U0 + k))" --clear-groups \
	    "$RAWSOCK" "$SOCK" pump 16 <"$T/flood" >"$T/pump$k.out" &
	pids+=($!)
done
for k in 0 1 2; do
	for i in $(seq 1 400); do
		grep -q pumping "$T/pump$k.out" 2>/dev/null && break
		sleep 0.05
	done
	check "flooder $k is pumping" '$(grep -c pumping "$T/pump$k.out") == 1'
done
served=0
for i in 1 2; do
	run ctl --json whoami
	[ "$RC" = 0 ] && [ "$(jfield principal)" = uid:0 ] && served=$((served + 1))
done
check "root's 2 whoami (its burst) during the flood are answered, not THROTTLED ($served)" '$served == 2'
# the flooders are still at it: root was not served after them
alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check "the flood was still running" '$alive == 3'
sleep 1
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
wait "${pids[@]}"
t1=$(date +%s)
# the last counts reach the audit within a second of the flood's end
sleep 1.5
for k in 0 1 2; do
	tail -n 1 "$T/pump$k.out" >"$T/pump$k.last"
	read -r _ okn _ thr _ oth <"$T/pump$k.last"
	u="uid:$((U0 + k))"
	check "flooder $k: its requests are THROTTLED ($thr) or refused ($oth), none done ($okn)" '$thr -gt 100 && $okn == 0 && $oth -le $(( (t1 - t0 + 2) * 2 + 2 ))'
	sum=$(sed -n "$((lines_before + 1)),\$p" "$AUDIT" | grep " action=throttled outcome=denied reason=THROTTLED principal=$u count=" |
		sed 's/.* count=\([0-9]*\).*/\1/' | paste -sd+ | bc)
	check "flooder $k: the audit counts every refusal ($sum of $thr)" '${sum:-0} == $thr'
	n=$(sed -n "$((lines_before + 1)),\$p" "$AUDIT" | grep -c " action=throttled .*principal=$u ")
	check "flooder $k: at most one line a second ($n in $((t1 - t0 + 2)) s)" '$n -ge 1 && $n -le $((t1 - t0 + 3))'
	dup=$(sed -n "$((lines_before + 1)),\$p" "$AUDIT" | grep " action=throttled .*principal=$u " | cut -d' ' -f1 | uniq -d | wc -l)
	check "flooder $k: never two in the same second" '$dup == 0'
done
check "no refused request has a line of its own" '$(grep -v " action=throttled " "$AUDIT" | grep -c "reason=THROTTLED") == 0'
total=$(($(wc -l <"$AUDIT") - lines_before))
check "the audit grew by a few lines, not one per request ($total)" '$total -le $(( (t1 - t0 + 3) * 3 * 3 + 10 ))'
finish
