#!/bin/bash
# What a hostile or broken client sends: garbage, truncated JSON, wrong
# types, NUL bytes, oversized lines, slow and idle connections, floods.
# Each is answered VALIDATION (or cut off), and a normal request right
# after it succeeds; the daemon never dies.
. "$(dirname "$0")/lib.sh"

write_conf
start_daemon || { fail "satokend did not start"; finish; }
raw() { "$RAWSOCK" "$SOCK" "$@"; }
WHO='{"op":"whoami"}'

# slow and idle clients, checked at the end (their deadlines are 10 s
# and 30 s): one sends half a request and stalls, one sends nothing
printf '{"op":"who' | raw hold 45 >"$T/slow.out" &
SLOW=$!
raw hold 45 </dev/null >"$T/idle.out" &
IDLE=$!
# and one that sends requests without ever reading the replies
echo "$WHO" | raw noread 40 >"$T/noread.out" &
NOREAD=$!

# hostile LINE DESC: LINE then a normal request on the same connection:
# the first reply is VALIDATION, the second ok (the connection stays sane)
hostile() {
	local desc=$2
	run raw send < <(printf '%s\n%s\n' "$1" "$WHO")
	check "$desc: two replies" '$(wc -l <<<"$OUT") == 2'
	check "$desc: VALIDATION" '$(head -n 1 <<<"$OUT" | jq -r .error) == VALIDATION && $(head -n 1 <<<"$OUT" | jq -r .ok) == false'
	check "$desc: then ok" '$(tail -n 1 <<<"$OUT" | jq -r .role) == admin'
}
hostile 'hello' "garbage"
hostile '{"op":"whoami"' "truncated JSON"
hostile '{"op":"account.show","name":' "cut in a value"
hostile '' "empty line"
hostile '[1,2,3]' "an array"
hostile '"whoami"' "a string"
hostile 'null' "null"
hostile '{}' "no op"
hostile '{"op":5}' "op of the wrong type"
hostile '{"op":"no.such"}' "unknown op"
hostile '{"op":"whoami","extra":1}' "unknown field"
hostile '{"op":"whoami","op":"whoami"}' "duplicate key"
hostile '{"op":"account.show","name":5}' "name of the wrong type"
hostile '{"op":"account.show"}' "required field missing"
hostile '{"op":"token.mint","account":"a","name":"b","ttl":"1h"}' "ttl as a string"
hostile '{"op":"token.mint","account":"a","name":"b","ttl":-5}' "negative ttl"
hostile '{"op":"token.mint","account":"a","name":"b","ttl":1.5}' "fractional ttl"
hostile '{"op":"token.mint","account":"a","name":"b","ttl":99999999999999999999999}' "huge ttl"
hostile '{"op":"policy.add","groups":"ci"}' "list as a string"
hostile '{"op":"policy.add","groups":[1,2]}' "list of numbers"
hostile '{"op":"policy.add","groups":[["x"]]}' "nested list"
hostile '{"op":"account.create","name":"a\u0000b"}' "escaped NUL"
hostile "{\"op\":\"whoami\",\"auth_token\":7}" "auth_token of the wrong type"
hostile "$(printf '{"op":"account.show","name":"\xff\xfe"}')" "invalid UTF-8"
hostile "$(printf '[%.0s' $(seq 1 5000))" "deep nesting"
hostile "{\"op\":\"policy.add\",\"groups\":[$(printf '"g",%.0s' $(seq 1 1100))\"g\"]}" "list too long"

# NUL bytes on the wire, inside and between requests
run raw send < <(printf '{"op":"who\0ami"}\n\0\0\0\n%s\n' "$WHO")
check "NUL bytes: VALIDATION twice then ok" '$(jq -r .error <<<"$OUT" | head -n 2 | sort -u) == VALIDATION && $(tail -n 1 <<<"$OUT" | jq -r .role) == admin'

# a line over 64 KiB: VALIDATION, then the connection is closed
head -c 100000 /dev/zero | tr '\0' 'x' >"$T/big"
run raw send < <(cat "$T/big"; printf '\n%s\n' "$WHO")
check "100 KB line: one VALIDATION, then closed" '$(wc -l <<<"$OUT") == 1 && $(jq -r .error <<<"$OUT") == VALIDATION && $OUT == *"longer than 65536"*'
# the limit is exact: 65536 bytes of request are fine, 65537 are not
pad() { printf '{"op":"whoami"%*s}' $(( $1 - 15 )) ""; }
check "the pad helper is exact" '$(pad 65536 | wc -c) == 65536'
run raw send < <(pad 65536; printf '\n')
check "65536 bytes accepted" '$(jq -r .role <<<"$OUT") == admin'
run raw send < <(pad 65537; printf '\n%s\n' "$WHO")
check "65537 bytes refused and closed" '$(wc -l <<<"$OUT") == 1 && $(jq -r .error <<<"$OUT") == VALIDATION'
t "after the big lines" 0 ctl whoami

# binary noise, and many requests in one write, answered in order
head -c 200000 /dev/urandom | tr -d '\n' | fold -b -w 1000 >"$T/noise"
run raw send <"$T/noise"
check "noise: one VALIDATION per line" '$(jq -r .error <<<"$OUT" | sort -u) == VALIDATION && $(wc -l <<<"$OUT") -ge 190'
for i in $(seq 1 300); do printf '{"op":"account.show","name":"n%d"}\n' "$i"; done >"$T/pipeline"
run raw send <"$T/pipeline"
check "300 pipelined requests, 300 replies in order" '$(wc -l <<<"$OUT") == 300 && $(sed -n 1p <<<"$OUT" | jq -r .message) == "no such account: n1" && $(sed -n 300p <<<"$OUT" | jq -r .message) == "no such account: n300"'
# the last request of a client may lack its newline
run raw send < <(printf '%s' "$WHO")
check "a final request without newline" '$(jq -r .role <<<"$OUT") == admin'
# a random walk over valid requests with bytes flipped
ctl group create ci >/dev/null
for i in $(seq 1 400); do
	l='{"op":"account.create","name":"fz","role":"viewer","groups":["ci"],"days_valid":3}'
	p=$(( RANDOM % ${#l} ))
	printf '%s%s%s\n' "${l:0:$p}" "$(printf "\\x$(printf %x $(( RANDOM % 255 + 1 )))")" "${l:$((p + 1))}"
done >"$T/mutants"
run raw send <"$T/mutants"
check "400 mutants, 400 replies" '$(wc -l <<<"$OUT") -ge 399 && $(jq -r .ok <<<"$OUT" | sort -u | tr "\n" " ") == *false*'
t "daemon alive after the mutants" 0 ctl whoami

# too many connections from one user: the surplus is refused, at once
run raw flood 80
check "the per-user cap refuses the surplus" '$OUT == "refused "* && ${OUT#refused } -ge 13'
t "a normal request after the flood" 0 ctl whoami

# a client that sends a request and never reads does not stall others
printf '%s\n' "$WHO" | raw hold 1 >/dev/null
t "after a client that left" 0 ctl whoami

wait "$SLOW" "$IDLE" "$NOREAD"
check "a client that never reads is cut off" '$(cat "$T/noread.out") =~ ^closed\ (9|1[0-9])$'
check "a stalled request is cut off after 10 s" '$(tail -n 1 "$T/slow.out") =~ ^closed\ (9|10|11|12)$'
check "an idle connection is cut off after 30 s" '$(tail -n 1 "$T/idle.out") =~ ^closed\ (29|30|31|32)$'
check "the daemon never died" '-n $DPID && $(kill -0 "$DPID" 2>/dev/null; echo $?) == 0'
t "and still serves" 0 ctl whoami
check "every request was audited" '$(grep -c "action=invalid outcome=error reason=VALIDATION" "$AUDIT") -ge 200'
finish
