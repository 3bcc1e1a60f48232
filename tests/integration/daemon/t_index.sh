#!/bin/bash
# The token index (common/tindex.h): an account that has held thousands
# of tokens still mints, counts its quota, lists and pages exactly; the
# first stores' one-record index is upgraded at start; account.delete
# takes every token.  Sizes are kept small for CI: what is checked is
# correctness at a size the old index already paid for, not speed
# (bench/ measures that).
. "$(dirname "$0")/lib.sh"
SATFIX=$ROOT/$B/tests/fixture/satfix
raw() { "$RAWSOCK" "$SOCK" "$@"; }
N=3000

write_conf "max_tokens_per_account = 100000" "max_ttl = 1h" "default_ttl = 1h"
start_daemon || { fail "satokend did not start"; finish; }
ctl() { "$CTL" --socket "$SOCK" "$@"; }
ctl group create ci >/dev/null
ctl policy add ci >/dev/null
t "account" 0 ctl account create big --group ci

# N mints, pipelined a few hundred to a connection
for c in $(seq 0 $((N / 500 - 1))); do
	for i in $(seq $((c * 500)) $((c * 500 + 499))); do
		printf '{"op":"token.mint","account":"big","name":"t%d","ttl":3600}\n' "$i"
	done >"$T/mint$c"
	run raw send <"$T/mint$c"
	jq -r 'select(.ok == true) | .id' <<<"$OUT" >>"$T/ids"
	jq -r 'select(.ok == true) | "big \(.token)"' <<<"$OUT" >>"$T/secrets"
done
check "$N mints acknowledged" '$(wc -l <"$T/ids") == $N && $(sort -u "$T/ids" | wc -l) == $N'
# revoke every third
awk 'NR % 3 == 1' "$T/ids" | while read -r id; do
	printf '{"op":"token.revoke","id":"%s"}\n' "$id"
done >"$T/revoke"
run raw send <"$T/revoke"
check "1000 revoked" '$(jq -r "select(.ok == true) | .status" <<<"$OUT" | grep -c revoked) == 1000'

t "a live name is still taken" 5 ctl token mint big --name t1
check "named" '$ERR == *"already has a live token named '"'"'t1'"'"'"*'
t "a revoked one's name is free" 0 ctl --json token mint big --name t0
check "t0 again" '$(jfield name) == t0'
jfield id >>"$T/ids"

# every token, once, in pages of 700 through the cursor
: >"$T/listed"
CUR=
for p in $(seq 1 20); do
	if [ -z "$CUR" ]; then
		run ctl --json token list big --limit 700
	else
		run ctl --json token list big --limit 700 --cursor "$CUR"
	fi
	[ "$RC" = 0 ] || break
	jq -r '.items[].id' <<<"$OUT" >>"$T/listed"
	CUR=$(jfield cursor)
	[ -n "$CUR" ] || break
done
check "$((N + 1)) listed in 5 pages, each once" '$p == 5 && $(wc -l <"$T/listed") == $((N + 1)) && $(sort -u "$T/listed" | wc -l) == $((N + 1))'
check "the same tokens that were minted" '"$(sort "$T/listed")" == "$(sort "$T/ids")"'
check "in mint order" '"$(head -n 3 "$T/listed")" == "$(head -n 3 "$T/ids")"'
t "a cursor of another shape" 2 ctl token list big --cursor "big/$(head -n 1 "$T/ids")"
t "a cursor past the end" 0 ctl --json token list big --cursor "big/4000000000.63"
check "is an empty page" '$(jq ".items | length" <<<"$OUT") == 0'

# the quota counts live tokens only: 2001 now
write_conf "max_tokens_per_account = 2001" "max_ttl = 1h" "default_ttl = 1h"
kill -HUP "$DPID"
sleep 0.3
t "at the quota" 6 ctl token mint big --name over
check "quota line" '$ERR == "satokenctl: QUOTA_EXCEEDED: max_tokens_per_account (2001) reached for big"'
t "revoke one" 0 ctl token revoke "$(sed -n 2p "$T/ids")"
t "room for one" 0 ctl token mint big --name over
t "full again" 6 ctl token mint big --name over2

# account.delete: more than 1024 tokens are deleted after the reply, in
# steps; re-creating the name first finishes that
LIVE=$(sed -n 3p "$T/ids")
sed -n 3p "$T/secrets" >"$T/one"
run "$STOREREAD" "$DB" <"$T/one"
check "a token logs in before" '$OUT == ok'
t "delete the account" 0 ctl --json account delete big
check "every token counted" '$(jfield tokens_deleted) == $((N + 2))'
t "its tokens are gone" 4 ctl token show "$LIVE"
run "$STOREREAD" "$DB" <"$T/one"
check "and do not log in" '$OUT != ok && -n $OUT'
t "re-created at once, it starts empty" 0 ctl account create big --group ci
t "and lists nothing" 0 ctl --json token list big
check "empty" '$(jq ".items | length" <<<"$OUT") == 0'
t "t5 is free in the new account" 0 ctl token mint big --name t5
run "$STOREREAD" "$DB" <"$T/secrets"
check "no old token is left in the store" '$(sort -u <<<"$OUT") == unknown_token'

# a large account left alone after its delete: the daemon deletes its
# tokens in the background, a few hundred at a time
t "account 2" 0 ctl account create big2 --group ci
for i in $(seq 1 1100); do
	printf '{"op":"token.mint","account":"big2","name":"u%d"}\n' "$i"
done >"$T/mint2"
run raw send <"$T/mint2"
jq -r 'select(.ok == true) | "big2 \(.token)"' <<<"$OUT" >"$T/secrets2"
check "1100 minted" '$(wc -l <"$T/secrets2") == 1100'
t "delete it" 0 ctl --json account delete big2
check "1100 counted" '$(jfield tokens_deleted) == 1100'
t "the daemon still answers meanwhile" 0 ctl --json token list big
for i in $(seq 1 600); do
	run "$STOREREAD" "$DB" <"$T/secrets2"
	[ "$(sort -u <<<"$OUT")" = unknown_token ] && break
	sleep 0.1
done
check "all 1100 reclaimed, after a while" '$(sort -u <<<"$OUT") == unknown_token'
stop_daemon

# a store of the first kind: its one-record index is upgraded at start
rm -f "$DB"*
"$SATFIX" "$DB" group ci && "$SATFIX" "$DB" policy ci &&
	"$SATFIX" "$DB" account old -g ci || fail "satfix"
for i in $(seq 1 70); do
	"$SATFIX" "$DB" mint old "o$i" -t 3600 -x >/dev/null || fail "satfix mint $i"
done
OLDTOK=$("$SATFIX" "$DB" mint old o71 -t 3600 -x)
start_daemon || { fail "satokend did not start on a first-kind store"; finish; }
t "the old tokens are listed" 0 ctl --json token list old
check "all 71" '$(jq ".items | length" <<<"$OUT") == 71'
t "and still log in" 0 ctl --json token verify old <<<"$OLDTOK"
check "valid" '$(jfield valid) == true'
t "their names are still taken" 5 ctl token mint old --name o7
t "a new one" 0 ctl token mint old --name o72
stop_daemon
start_daemon || { fail "satokend did not restart"; finish; }
t "after a restart: the same" 0 ctl --json token list old
check "72" '$(jq ".items | length" <<<"$OUT") == 72'
t "delete it" 0 ctl --json account delete old
check "72 deleted" '$(jfield tokens_deleted) == 72'
finish
