#!/bin/bash
# Real refused (and a few accepted) logins, for the fail2ban filter test:
# a private satokend with "audit = AUDIT" in DIR, then logins through the
# daemon's token verify and through pam_satoken.so under pamtester, each
# from its own address.  Addresses 192.0.2.0/24 and 2001:db8::/32 are the
# refusals fail2ban must count; 198.51.100.0/24 and the lines without an
# address are the ones it must not.  The addresses it must count go to
# DIR/expected, one per line.
#
# Usage: refusals.sh DIR AUDIT       (AUDIT: file:/path or syslog)
# env: B, DEMO_PRELOAD (pamtester's LD_PRELOAD)
set -u
D=$1
AUDIT_SPEC=$2
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$ROOT/${B:-build}
CONF=$D/satoken.conf
SOCK=$D/run/satokend.sock
umask 077
mkdir -p "$D/state" "$D/run" "$D/pam.d"
cat >"$CONF" <<EOF
database = $D/state/satoken.db
socket = $SOCK
admin_users = $(id -u)
audit = $AUDIT_SPEC
rate_limit = 0
EOF

"$BIN/daemon/satokend" --foreground --config "$CONF" 2>"$D/satokend.log" &
dpid=$!
trap 'kill -TERM $dpid 2>/dev/null; wait $dpid 2>/dev/null' EXIT
for _ in $(seq 1 200); do
	grep -q serving "$D/satokend.log" && break
	sleep 0.05
done
grep -q serving "$D/satokend.log" || { echo "refusals: satokend did not start" >&2; exit 1; }

ctl() { "$BIN/cli/satokenctl" --socket "$SOCK" "$@"; }
mint() { local f=$1; shift; ctl token mint "$@" >"$D/$f" 2>/dev/null; }
die() { echo "refusals: $*" >&2; exit 1; }

ctl group create robots >/dev/null && ctl group create other >/dev/null &&
	ctl policy add robots >/dev/null &&
	ctl account create ci --role viewer --group robots >/dev/null &&
	ctl account create ops --role viewer --group robots >/dev/null &&
	ctl account create outsider --role viewer --group robots >/dev/null ||
	die "cannot set up the accounts"
mint ci.tok ci --name a && mint ops.tok ops --name a &&
	mint gone.tok ci --name gone && mint out.tok outsider --name a &&
	mint imap.tok ci --name imap --service imap &&
	mint net.tok ci --name net --from 10.0.0.0/8 || die "cannot mint"
ctl token revoke "$(cut -c5-16 "$D/gone.tok")" >/dev/null &&
	ctl group remove-member robots outsider >/dev/null &&
	ctl group add-member other outsider >/dev/null || die "cannot set up the refusals"

# well-formed tokens that are not: the secret changed (bad_secret), the
# id changed (unknown_token), each with its checksum made right again
python3 - "$D" <<'EOF' || die "cannot make the altered tokens"
import sys, zlib
d = sys.argv[1]
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def seal(body):
    c = zlib.crc32(body.encode()) & 0xffffffff
    out = ""
    for _ in range(6):
        out = A[c % 62] + out
        c //= 62
    return body + out + "\n"
t = open(d + "/ci.tok").read().strip()
flip = "b" if t[20] == "a" else "a"
open(d + "/badsecret.tok", "w").write(seal(t[:20] + flip + t[21:48]))
open(d + "/unknown.tok", "w").write(seal("sat_" + "Zz0Zz0Zz0Zz0" + t[16:48]))
EOF
printf 'hunter2\n' >"$D/password.tok"

: >"$D/expected"
# verify TOKENFILE ACCOUNT ADDR [OPTIONS]: through satokend (token verify)
verify() {
	local tok=$1 acct=$2 addr=$3
	shift 3
	ctl token verify "$acct" ${addr:+--from "$addr"} "$@" <"$D/$tok" >/dev/null 2>&1
}
cat >"$D/pam.d/satoken-f2b" <<EOF
auth     required  $BIN/pam/pam_satoken.so conf=$CONF
account  required  $BIN/pam/pam_satoken.so conf=$CONF
EOF
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$D/pam.d/other"
# pam TOKENFILE USER ADDR: through pam_satoken.so (pamtester, pam_wrapper)
pam() {
	env LD_PRELOAD="${DEMO_PRELOAD:-libpam_wrapper.so}" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$D/pam.d" ASAN_OPTIONS=detect_leaks=0 \
		pamtester -I "rhost=$3" satoken-f2b "$2" authenticate <"$D/$1" >/dev/null 2>&1
}
counted() { echo "$1" >>"$D/expected"; }

# must count
verify badsecret.tok ci 192.0.2.1 && die "bad_secret accepted"; counted 192.0.2.1
verify unknown.tok ci 192.0.2.2 && die "unknown_token accepted"; counted 192.0.2.2
verify ops.tok ci 192.0.2.3 && die "wrong_account accepted"; counted 192.0.2.3
pam badsecret.tok ci 192.0.2.11 && die "bad_secret accepted"; counted 192.0.2.11
pam unknown.tok ci 192.0.2.12 && die "unknown_token accepted"; counted 192.0.2.12
pam ops.tok ci 192.0.2.13 && die "wrong_account accepted"; counted 192.0.2.13
pam badsecret.tok ci 2001:db8::14 && die "bad_secret accepted"; counted 2001:db8::14
# must not count: not a token, administrative states, accepted logins
verify password.tok ci 198.51.100.1 && die "a password accepted"
verify gone.tok ci 198.51.100.2 && die "revoked accepted"
verify out.tok outsider 198.51.100.3 && die "policy_denied accepted"
verify imap.tok ci 198.51.100.4 --service ssh && die "service_denied accepted"
verify net.tok ci 198.51.100.5 && die "source_denied accepted"
verify ci.tok ci 198.51.100.6 || die "a good token refused"
pam password.tok ci 198.51.100.11 && die "a password accepted"
pam gone.tok ci 198.51.100.12 && die "revoked accepted"
pam ci.tok ci 198.51.100.13 || die "a good token refused"
# no address: nothing to ban, even when a value looks like an address
verify unknown.tok ci "" && die "unknown_token accepted"
verify unknown.tok ci "" --service "x rhost=10.9.9.9 " && die "unknown_token accepted"
exit 0
