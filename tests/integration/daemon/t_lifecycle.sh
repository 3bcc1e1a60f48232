#!/bin/bash
# Issue 18, a lifecycle a sysadmin can see: per-token description and
# disable/enable (reason token_disabled, through the daemon's verify and
# the store as the modules read it), token list's filters, columns and
# order, account show's expiry and token count.  One daemon.
. "$(dirname "$0")/lib.sh"

write_conf "warn_before = 1h"
# the expiry pass every 200 ms instead of every minute
export SATOKEND_EXPIRY_PASS_MS=200
start_daemon || { fail "satokend did not start: $(cat "$T/daemon.log")"; finish; }
t "setup" 0 eval 'ctl group create ci && ctl group create ops &&
	ctl policy add ci ops &&
	ctl account create bot --role viewer --group ci --days-valid 30 &&
	ctl account create a-rather-long-service-account-name-for-columns --role viewer --group ops --owner nobody'
LONG=a-rather-long-service-account-name-for-columns

# ---- --description ----
t "mint --description" 0 ctl --json token mint bot --name d1 --description "postfix relay on mx1"
ID1=$(jfield id)
TOK1=$(jfield token)
check "  ...the reply carries it" '$(jfield description) == "postfix relay on mx1"'
t "token show" 0 ctl token show "$ID1"
check "  ...shows the description" '$OUT == *"description:  postfix relay on mx1"*'
check "  ...audited with the mint" '$(grep -c "action=token.mint .*description=\"postfix relay on mx1\"" "$AUDIT") == 1'
t "a description with a control byte: VALIDATION" 2 ctl token mint bot --name d2 --description $'a\tb'
t "a description of 257 bytes: VALIDATION" 2 ctl token mint bot --name d2 --description "$(head -c 257 /dev/zero | tr '\0' x)"
# an offline budget needs a directory to be out of contact with
t "--max-offline on a standalone host: VALIDATION" 2 ctl token mint bot --name d3 --max-offline 1h
check "  ...saying why" '$ERR == *standalone*'
t "--max-offline 1x: VALIDATION" 2 ctl token mint bot --name d3 --max-offline 1x
t "  ...nothing minted" 0 ctl --json token list bot
check "  ...one token" '$(jq ".items | length" <<<"$OUT") == 1'
t "rotate keeps the description" 0 ctl --json token rotate "$ID1" --grace 1h
ID1N=$(jfield id)
TOK1N=$(jfield token)
check "  ...on the new token" '$(jfield description) == "postfix relay on mx1"'

# ---- disable / enable ----
t "mint d3" 0 ctl --json token mint bot --name d3
ID3=$(jfield id)
TOK3=$(jfield token)
t "verify before: ok" 0 ctl token verify bot <<<"$TOK3"
t "token disable" 0 ctl token disable "$ID3"
t "verify a disabled token: refused" 3 ctl token verify bot <<<"$TOK3"
check "  ...reason token_disabled" '$OUT == token_disabled'
check "  ...audited as a denied auth" '$(grep -c "action=auth outcome=denied reason=token_disabled .*token=$ID3" "$AUDIT") -ge 1'
reader bot "$TOK3"
check "the store as a module reads it: token_disabled" '$OUT == token_disabled'
t "token show" 0 ctl --json token show "$ID3"
check "  ...status disabled, disabled_at set" '$(jfield status) == disabled && -n $(jfield disabled_at)'
check "  ...audited as token.disable with the change" '$(grep -c "action=token.disable outcome=ok .*token=$ID3.*disabled=yes" "$AUDIT") == 1'
t "disable again: ok" 0 ctl token disable "$ID3"
check "  ...no second change line" '$(grep -c "action=token.disable outcome=ok .*disabled=yes" "$AUDIT") == 1'
t "token disable by a viewer: PERMISSION_DENIED" 3 as_nobody nogroup "$CTL" --socket "$SOCK" token disable "$ID1N"
t "token disable of an unknown id: NOT_FOUND" 4 ctl token disable AAAAAAAAAAAA
t "token disable of a whole token: VALIDATION" 2 ctl token disable "$TOK1N"
check "  ...the token is not echoed" '$ERR != *"$TOK1N"*'
check "  ...nor logged" '$(grep -c -- "${TOK1N:16}" "$AUDIT") == 0'
t "token enable" 0 ctl token enable "$ID3"
t "verify after enable: ok" 0 ctl token verify bot <<<"$TOK3"
reader bot "$TOK3"
check "the store as a module reads it: ok" '$OUT == ok'
t "revoke d3" 0 ctl token revoke "$ID3"
t "enable a revoked token: CONFLICT" 5 ctl token enable "$ID3"
t "disable a revoked token: CONFLICT" 5 ctl token disable "$ID3"
t "  ...still revoked" 0 ctl --json token show "$ID3"
check "  ...status revoked" '$(jfield status) == revoked'

# ---- a restart keeps it (the record's tail decodes) ----
t "disable d1's successor" 0 ctl token disable "$ID1N"
stop_daemon
start_daemon || fail "satokend did not restart"
t "after restart" 0 ctl --json token show "$ID1N"
check "  ...still disabled, description kept" '$(jfield status) == disabled && $(jfield description) == "postfix relay on mx1"'
t "  ...and refused" 3 ctl token verify bot <<<"$TOK1N"
t "enable it again" 0 ctl token enable "$ID1N"

# ---- filters ----
t "mint imap-only, 1h" 0 ctl --json token mint bot --name imap --service imap --ttl 1h
IDI=$(jfield id)
t "mint on the long account, 2d, from a CIDR" 0 ctl --json token mint "$LONG" --name a-long-token-name-that-does-not-fit-twenty --ttl 2d --from 192.0.2.0/24
IDL=$(jfield id)
t "list --status revoked" 0 ctl --json token list --status revoked
check "  ...d3 only" '$(jq -r "[.items[].id] | join(\",\")" <<<"$OUT") == "$ID3"'
t "list --status disabled (none now)" 0 ctl --json token list --status disabled
check "  ...none" '$(jq ".items | length" <<<"$OUT") == 0'
t "list --status bogus: VALIDATION" 2 ctl token list --status bogus
t "list --expiring 2h" 0 ctl --json token list --expiring 2h
check "  ...the 1h imap token and d1 (grace 1h)" '$(jq -r "[.items[].id] | sort | join(\",\")" <<<"$OUT") == "$(printf "%s\n" "$IDI" "$ID1" | sort | paste -sd,)"'
t "list --expiring 3d" 0 ctl --json token list --expiring 3d
check "  ...sorted by expiry" '$(jq "[.items[].expires_at] == ([.items[].expires_at] | sort)" <<<"$OUT") == true'
check "  ...the 2d token included" '$(jq "[.items[] | select(.id == \"$IDL\")] | length" <<<"$OUT") == 1'
t "list --expiring 1x: VALIDATION" 2 ctl token list --expiring 1x
t "list --service smtp" 0 ctl --json token list --service smtp
check "  ...not the imap-only token" '$(jq "[.items[] | select(.id == \"$IDI\")] | length" <<<"$OUT") == 0'
check "  ...unscoped tokens are" '$(jq "[.items[] | select(.id == \"$IDL\")] | length" <<<"$OUT") == 1'
t "list --service imap" 0 ctl --json token list --service imap
check "  ...the imap token" '$(jq "[.items[] | select(.id == \"$IDI\")] | length" <<<"$OUT") == 1'
t "list --group ops" 0 ctl --json token list --group ops
check "  ...the long account's only" '$(jq -r "[.items[].account] | unique | join(\",\")" <<<"$OUT") == "$LONG"'
t "list --owner nobody" 0 ctl --json token list --owner nobody
check "  ...the long account's only" '$(jq -r "[.items[].account] | unique | join(\",\")" <<<"$OUT") == "$LONG"'
t "list --owner no-such-user: NOT_FOUND" 4 ctl token list --owner no-such-user-$$
t "list bot --group ops: none" 0 ctl --json token list bot --group ops
check "  ...empty" '$(jq ".items | length" <<<"$OUT") == 0'
t "filters page with the cursor" 0 ctl --json token list --status active --limit 1
check "  ...one item and a cursor" '$(jq ".items | length" <<<"$OUT") == 1 && -n $(jfield cursor)'

# ---- columns ----
t "token list (text)" 0 ctl token list
hdr=$(head -1 <<<"$OUT")
check "  ...SERVICES, SOURCES and LAST USED columns" '$hdr == *SERVICES*SOURCES*"LAST USED"'
line=$(grep "$IDL" <<<"$OUT")
check "  ...a long account and name are whole" '$line == *"$LONG a-long-token-name-that-does-not-fit-twenty "*'
check "  ...columns line up (LAST USED at the same offset)" '$(awk -v h="$hdr" "BEGIN{print index(h, \"LAST USED\")}") == $(awk "{print index(\$0, \"never\")}" <<<"$line")'

# ---- expiry warnings ----
# wait_line PATTERN N: polls the audit log until N lines match
wait_line() {
	local i
	for i in $(seq 1 200); do
		[ "$(grep -c -- "$1" "$AUDIT")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
t "mint 30m (within warn_before = 1h)" 0 ctl --json token mint bot --name soon --ttl 30m
IDS=$(jfield id)
EXPS=$(jfield expires_at)
t "  ...token.expiring at once" 0 wait_line "action=token.expiring outcome=ok principal=satokend account=bot token=$IDS .*expires_at=$EXPS" 1
t "mint 1h+2s (not yet within it)" 0 ctl --json token mint bot --name later --ttl 3602
IDN=$(jfield id)
check "  ...no line yet" '$(grep -c "action=token.expiring .*token=$IDN" "$AUDIT") == 0'
t "  ...one once it comes within 1h (the pass)" 0 wait_line "action=token.expiring .*token=$IDN" 1
t "the imap token (1h, minted before) was warned once" 0 wait_line "action=token.expiring .*token=$IDI" 1
stop_daemon
start_daemon || fail "satokend did not restart"
t "after a restart and passes" 0 ctl token list
sleep 0.5
check "  ...each token warned once, never twice" '$(grep "action=token.expiring" "$AUDIT" | grep -o "token=[0-9A-Za-z]*" | sort | uniq -d | wc -l) == 0'
check "  ...not the rotated-away d1 in its grace" '$(grep -c "action=token.expiring .*token=$ID1 " "$AUDIT") == 0'
check "  ...no secret in those lines" '$(grep "action=token.expiring" "$AUDIT" | grep -c sat_) == 0'

# ---- account show ----
t "account show bot" 0 ctl --json account show bot
check "  ...expires_at and a token count" '-n $(jfield expires_at) && $(jfield tokens) -ge 4'
t "account show (text)" 0 ctl account show bot
check "  ...says valid until and tokens" '$OUT == *"valid until:"* && $OUT == *"tokens:"*'
t "account show the long one" 0 ctl account show "$LONG"
check "  ...valid until never, 1 live" '$OUT == *"valid until:  never"* && $OUT == *"tokens:       1 live, 1 held"*'

finish
