#!/bin/bash
# etc/fail2ban/filter.d/satoken.conf against real audit lines: refused
# and accepted logins through satokend's token verify and through
# pam_satoken.so (refusals.sh), written by audit = file: and, as root,
# through syslog(3) to a stand-in syslogd (syslogd.py, rsyslog's file
# format) behind a private /dev/log.  fail2ban-regex must count exactly
# the refusals a guesser causes (unknown_token, bad_secret,
# wrong_account), each with its own address, and nothing else.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
FILTER=$ROOT/etc/fail2ban/filter.d/satoken.conf

if ! command -v fail2ban-regex >/dev/null 2>&1; then
	not_ok "fail2ban-regex is missing (apt-get install fail2ban; it is in .ci/packages)"
	summary
fi
# the filter includes common.conf, found next to it, as once installed
mkdir -p "$T/fail2ban/filter.d"
cp /etc/fail2ban/filter.d/common.conf "$FILTER" "$T/fail2ban/filter.d/"

# f2b LOG: runs fail2ban-regex; MATCHED and the ADDRS it found (sorted)
f2b() {
	fail2ban-regex -v "$1" "$T/fail2ban/filter.d/satoken.conf" >"$T/f2b.out" 2>&1
	MATCHED=$(sed -nE 's/^Lines: [0-9]+ lines, [0-9]+ ignored, ([0-9]+) matched.*/\1/p' "$T/f2b.out")
	ADDRS=$(sed -nE 's/^\|  +([0-9a-fA-F.:]+)  +[A-Z][a-z]{2} [A-Z][a-z]{2} .*/\1/p' "$T/f2b.out" | sort)
}

# judge WHAT DIR LOG: the filter over LOG, from refusals.sh run in DIR
judge() {
	local what=$1 d=$2 log=$3 n
	n=$(wc -l <"$d/expected")
	check "$what: the logins left their audit lines" \
		test "$(grep -c 'action=auth outcome=' "$log")" -ge 18
	f2b "$log"
	check "$what: fail2ban-regex counts exactly the $n refusals it should" \
		test "${MATCHED:-x}" = "$n"
	check "$what: each with its own address, nothing else" \
		test "$ADDRS" = "$(sort "$d/expected")"
	if [ "${MATCHED:-x}" != "$n" ] || [ "$ADDRS" != "$(sort "$d/expected")" ]; then
		echo "   found: $(echo $ADDRS); expected: $(sort "$d/expected" | tr '\n' ' ')"
		tail -n 25 "$T/f2b.out" | sed 's/^/   /'
	fi
}

# --- audit = file: ------------------------------------------------------
D=$T/file
mkdir -m 0700 "$D"
check "refused logins through token verify and PAM (audit = file:)" \
	bash "$here/refusals.sh" "$D" "file:$D/audit.log"
judge "file" "$D" "$D/audit.log"
check "file: an address inside a quoted value is never taken" \
	grep -q 'service="x rhost=10.9.9.9 "' "$D/audit.log"
check "file: the IPv6 refusal is there" grep -q 'rhost=2001:db8::14$' "$D/audit.log"
check "file: the ok, malformed, revoked, policy, service and source lines are there" \
	eval 'for r in ok malformed revoked policy_denied service_denied source_denied; do
		grep -q "action=auth outcome=[a-z]* reason=$r " "$D/audit.log" || exit 1; done'

# --- audit = syslog -----------------------------------------------------
if ! is_root; then
	loud "NOT ROOT: the syslog-format check (a private /dev/log needs unshare -m) did not run; CI runs it as root"
elif ! unshare -m --propagation private true 2>/dev/null; then
	loud "unshare -m is not allowed here: the syslog-format check did not run"
else
	D=$T/syslog
	mkdir -m 0755 "$D"
	python3 "$here/syslogd.py" "$D/log.sock" "$D/auth.log" "$D/pri" "$D/ready" &
	spid=$!
	CLEANUPS+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
	for _ in $(seq 1 100); do [ -e "$D/ready" ] && break; sleep 0.05; done
	check "refused logins through token verify and PAM (audit = syslog)" \
		bash "$here/with_devlog.sh" "$D/log.sock" bash "$here/refusals.sh" "$D" syslog
	sleep 0.3	# the last datagrams
	judge "syslog" "$D" "$D/auth.log"
	check "syslog: every audit line went to facility authpriv (10)" \
		eval '[ "$(grep -c " action=" "$D/pri")" -ge 18 ] &&
			! grep " action=" "$D/pri" | grep -qv "^10 "'
	check "syslog: refusals at notice, acceptances at info" \
		eval 'grep "action=auth outcome=denied" "$D/pri" | grep -q "^10 5 " &&
			! grep "action=auth outcome=denied" "$D/pri" | grep -qv "^10 5 " &&
			grep "action=auth outcome=ok" "$D/pri" | grep -q "^10 6 "'
	check "syslog: the lines are as rsyslog writes them (date, host, ident[pid])" \
		grep -qE '^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [^ ]+ (satokend|pamtester)(\[[0-9]+\])?: action=auth outcome=denied reason=bad_secret ' "$D/auth.log"
fi
summary
