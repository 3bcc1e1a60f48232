#!/bin/bash
# make demo: satoken's whole story on a private satokend, as the invoking
# user, in a temporary directory: nothing outside it is read or written
# (no root, no /etc).  Numbered steps; each checks what it shows, and the
# script exits 0 only when every step behaved as it should, else 1 with
# the step and the reason.
#
# A token's secret is printed once (step 4, as satokenctl shows it once);
# every other token goes from satokenctl's stdout into a 0600 file and
# from there to stdin.  No token is ever in argv or the environment.
#
# env: B (build directory, default build), DEMO_PRELOAD (pamtester's
# LD_PRELOAD, default libpam_wrapper.so), SATOKEN_DEMO_KEEP=1 keeps the
# temporary directory, SATOKEN_DEMO_GRACE (rotation grace, seconds).
set -u
umask 077

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${B:=build}"
BIN=$ROOT/$B
: "${DEMO_PRELOAD:=libpam_wrapper.so}"
GRACE=${SATOKEN_DEMO_GRACE:-5}
NSTEPS=11
STEP=0
TITLE="getting ready"
DPID=
T=

# --- output and checks -----------------------------------------------

fail() {
	echo >&2
	echo "demo FAILED at step $STEP/$NSTEPS ($TITLE): $*" >&2
	if [ -n "$T" ] && [ -s "$T/satokend.log" ]; then
		echo "satokend's log:" >&2
		sed 's/^/    /' "$T/satokend.log" >&2
	fi
	exit 1
}

step() {
	STEP=$1
	TITLE=$2
	echo
	echo "[$STEP/$NSTEPS] $TITLE"
}

say() { echo "    $*"; }
ok() { echo "    ok: $*"; }

# run 'COMMAND': prints it as typed, runs it in $T, indents what it
# prints; RC and OUT (stdout and stderr) are left for the checks.
run() {
	echo "    \$ $1"
	OUT=$(eval "$1" 2>&1)
	RC=$?
	[ -z "$OUT" ] || printf '%s\n' "$OUT" | sed 's/^Token: //; s/^/      /'
}

want_rc() {
	[ "$RC" = "$1" ] || fail "exit status $RC, expected $1${2:+ ($2)}"
}

# want_out REGEX: the last command's output matches (grep -E)
want_out() {
	grep -Eq -- "$1" <<<"$OUT" || fail "expected output matching '$1'"
}

# Audit lines written since the last mark.
AUDIT_SEEN=0
audit_new() {
	tail -n +$((AUDIT_SEEN + 1)) "$T/audit.log" 2>/dev/null
}
audit_mark() {
	AUDIT_SEEN=$(wc -l <"$T/audit.log" 2>/dev/null || echo 0)
}

# want_audit FIELD...: one new audit line holds every field (key=value,
# whole words), and it is shown
want_audit() {
	local line f hit=
	while IFS= read -r line; do
		hit=$line
		for f in "$@"; do
			case " $line " in
			*" $f "*) ;;
			*) hit= ; break ;;
			esac
		done
		[ -n "$hit" ] && break
	done < <(audit_new)
	[ -n "$hit" ] || fail "no new audit line with: $*"
	say "audit: ${hit#* }"
	audit_mark
}

token_id() { cut -c5-16 "$1"; }

# --- the stage --------------------------------------------------------

cleanup() {
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	if [ -n "$T" ]; then
		if [ "${SATOKEN_DEMO_KEEP:-0}" = 1 ]; then
			echo "(kept $T)" >&2
		else
			rm -rf "$T"
		fi
	fi
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

for f in daemon/satokend cli/satokenctl pam/pam_satoken.so \
    sasl/libsatoken.so tools/sasl-login; do
	[ -e "$BIN/$f" ] || fail "$BIN/$f is missing: run 'make demo', which builds first"
done
command -v pamtester >/dev/null ||
	fail "pamtester is missing: apt-get install --no-install-recommends pamtester libpam-wrapper"

T=$(mktemp -d "${TMPDIR:-/tmp}/satoken-demo.XXXXXX") || fail "mktemp failed"
cd "$T" || fail "cannot enter $T"
mkdir -m 0700 state run pam.d sasl || fail "cannot make directories in $T"
export PATH="$BIN/daemon:$BIN/cli:$BIN/tools:$PATH"
export SATOKEN_CONF=$T/satoken.conf

# pamtester runs under pam_wrapper, which points libpam at ./pam.d/
# instead of /etc/pam.d; the module is named there by absolute path.
pamtester() {
	env LD_PRELOAD="$DEMO_PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		ASAN_OPTIONS=detect_leaks=0 pamtester "$@"
}

USER_NAME=$(id -un 2>/dev/null || echo "?")
echo "satoken demo, as uid $(id -u) ($USER_NAME): no root needed, nothing in /etc touched."
echo "Everything lives in T=$T (removed at the end);"
echo "satokenctl finds the daemon through SATOKEN_CONF=\$T/satoken.conf."

# --- 1 ----------------------------------------------------------------
step 1 "Start a private satokend; the generated config makes you admin"
cat >satoken.conf <<EOF
# written by make demo: a private store, socket and audit log
database = $T/state/satoken.db
socket = $T/run/satokend.sock
admin_users = $(id -u)
audit = file:$T/audit.log
EOF
chmod 0600 satoken.conf
run 'cat satoken.conf'
run 'satokend --check-config --config "$T/satoken.conf"'
want_rc 0
echo "    \$ satokend --foreground --config \"\$T/satoken.conf\" 2>satokend.log &"
satokend --foreground --config "$T/satoken.conf" 2>"$T/satokend.log" &
DPID=$!
for _ in $(seq 1 200); do
	grep -q serving "$T/satokend.log" 2>/dev/null && break
	kill -0 "$DPID" 2>/dev/null || { wait "$DPID"; DPID=; fail "satokend did not start"; }
	sleep 0.05
done
grep -q serving "$T/satokend.log" || fail "satokend did not say it is serving within 10 s"
sed 's/^/      /' "$T/satokend.log"
run 'satokenctl whoami'
want_rc 0
want_out 'role: +admin'
ok "satokend serves on \$T/run/satokend.sock and takes you for an admin"

# --- 2 ----------------------------------------------------------------
step 2 "A group, and the token-usage policy that lets it use tokens"
run 'satokenctl group create robots --description "CI and deploy robots"'
want_rc 0
run 'satokenctl policy add robots'
want_rc 0
run 'satokenctl policy show'
want_rc 0
want_out '^robots$'
ok "the accounts of group robots may hold and use tokens"

# --- 3 ----------------------------------------------------------------
step 3 "A service account in that group"
run 'satokenctl account create ci --role viewer --group robots --description "deploys the web site"'
want_rc 0
run 'satokenctl account show ci'
want_rc 0
want_out '^groups: +robots$'
want_out '^state: +enabled$'
want_out '^role: +viewer$'
ok "ci is the login name PAM and SASL will see; as a viewer its tokens manage nothing"

# --- 4 ----------------------------------------------------------------
step 4 "Mint a token: its secret is shown once"
audit_mark
run 'satokenctl token mint ci --name deploy --ttl 1h >ci.token'
want_rc 0
want_out 'shown once'
grep -Eqx 'sat_[0-9A-Za-z]{50}' ci.token || fail "ci.token does not hold one token"
ID1=$(token_id ci.token)
say "The token, this once (satokenctl printed it alone on stdout, into ci.token, mode 0600):"
echo
echo "        $(cat ci.token)"
echo
say "sat_ + id $ID1 + secret + checksum. satoken keeps only an HMAC of it; from now on"
say "it appears by its id alone:"
run 'satokenctl token list ci'
want_out "^$ID1 +ci +deploy +active"
grep -qF -- "$(cut -c17-48 ci.token)" <<<"$OUT" && fail "the listing shows the secret"
want_audit action=token.mint outcome=ok account=ci "token=$ID1" name=deploy
ok "minted $ID1; listings and the audit log name it by id only"

# --- 5 ----------------------------------------------------------------
step 5 "Log in through PAM: pamtester, the real libpam, pam_satoken.so"
cat >pam.d/satoken-demo <<EOF
auth     required  $BIN/pam/pam_satoken.so conf=$T/satoken.conf
account  required  $BIN/pam/pam_satoken.so conf=$T/satoken.conf
EOF
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >pam.d/other
say "pamtester runs under pam_wrapper (LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1), which"
say "makes libpam read its service files from \$T/pam.d instead of /etc/pam.d:"
run 'cat pam.d/satoken-demo'
say "The login name is the account, the password is the token (on stdin):"
run 'pamtester -I rhost=192.0.2.10 satoken-demo ci authenticate acct_mgmt <ci.token'
want_rc 0 "pamtester should log ci in"
want_out 'successfully authenticated'
want_audit action=auth outcome=ok reason=ok account=ci "token=$ID1" service=satoken-demo rhost=192.0.2.10
ok "libpam accepted ci's token; one audit line says who, with which token, from where"

# --- 6 ----------------------------------------------------------------
step 6 "Log in through SASL OAUTHBEARER: the real libsasl2, libsatoken.so"
ln -s "$BIN/sasl/libsatoken.so" sasl/libsatoken.so
cat >sasl/satoken-demo.conf <<EOF
mech_list: OAUTHBEARER XOAUTH2
satoken_conf: $T/satoken.conf
EOF
say "libsasl2 loads plugins from \$T/sasl only, and reads the application's SASL config there:"
run 'cat sasl/satoken-demo.conf'
say "sasl-login runs an IMAP-like libsasl2 server and an OAUTHBEARER client in one process:"
run 'sasl-login --plugin-dir sasl --conf-dir sasl --service imap --account ci --from 192.0.2.20 <ci.token'
want_rc 0 "the SASL server should accept ci's token"
want_out 'accepted, the server.s user is ci'
want_audit action=auth outcome=ok reason=ok account=ci "token=$ID1" service=imap rhost=192.0.2.20
ok "libsasl2 accepted the same token for service imap"

# --- 7 ----------------------------------------------------------------
step 7 "Rotate the token with a ${GRACE} s grace period: old and new both work"
run "satokenctl token rotate $ID1 --grace ${GRACE}s >ci-new.token"
want_rc 0
want_out "replaces: $ID1 \\(valid until"
grep -Eqx 'sat_[0-9A-Za-z]{50}' ci-new.token || fail "ci-new.token does not hold one token"
ID2=$(token_id ci-new.token)
[ "$ID2" != "$ID1" ] || fail "the rotation returned the old id"
say "(the new token went into ci-new.token; it is not shown here)"
want_audit action=token.rotate outcome=ok account=ci
run 'pamtester -I rhost=192.0.2.10 satoken-demo ci authenticate <ci.token'
want_rc 0 "the old token should still work during the grace period"
want_audit action=auth outcome=ok reason=ok account=ci "token=$ID1"
run 'pamtester -I rhost=192.0.2.10 satoken-demo ci authenticate <ci-new.token'
want_rc 0 "the new token should work at once"
want_audit action=auth outcome=ok reason=ok account=ci "token=$ID2"
ok "during the grace period the workload may switch from $ID1 to $ID2 without downtime"

# --- 8 ----------------------------------------------------------------
step 8 "The grace period ends: the old token stops, the new one goes on"
say "(waiting $((GRACE + 1)) s)"
sleep $((GRACE + 1))
run 'pamtester -I rhost=192.0.2.10 satoken-demo ci authenticate <ci.token'
[ "$RC" != 0 ] || fail "the old token still logs in after its grace period"
want_out 'Authentication failure'
want_audit action=auth outcome=denied reason=expired account=ci "token=$ID1"
run 'pamtester -I rhost=192.0.2.10 satoken-demo ci authenticate <ci-new.token'
want_rc 0 "the new token should go on working"
want_audit action=auth outcome=ok reason=ok account=ci "token=$ID2"
ok "$ID1 is refused as expired, $ID2 works"

# --- 9 ----------------------------------------------------------------
step 9 "Revoke the token: the very next login is refused"
run "satokenctl token revoke $ID2"
want_rc 0
want_audit action=token.revoke outcome=ok "token=$ID2"
run 'pamtester -I rhost=192.0.2.10 satoken-demo ci authenticate <ci-new.token'
[ "$RC" != 0 ] || fail "a revoked token still logs in"
want_out 'Authentication failure'
say "The client is only told 'Authentication failure'; the audit log says why:"
run "grep 'token=$ID2' audit.log | tail -n 1"
want_out 'action=auth outcome=denied reason=revoked account=ci'
audit_mark
ok "the reason, revoked, is in the audit log, for the sysadmin and not for the client"

# --- 10 ---------------------------------------------------------------
step 10 "Take the policy away: the group's tokens stop at once"
run 'satokenctl token mint ci --name nightly >ci-nightly.token'
want_rc 0
ID3=$(token_id ci-nightly.token)
say "(a fresh token for ci, into ci-nightly.token, not shown)"
run 'sasl-login --plugin-dir sasl --conf-dir sasl --service imap --account ci <ci-nightly.token'
want_rc 0 "the fresh token should log in while robots is on the policy"
audit_mark
run 'satokenctl policy remove robots'
want_rc 0
want_out 'no group may use tokens'
run 'sasl-login --plugin-dir sasl --conf-dir sasl --service imap --account ci <ci-nightly.token'
[ "$RC" = 1 ] || fail "exit status $RC: the login should be refused (1) once the policy is gone"
want_out '"status":"invalid_token"'
want_audit action=auth outcome=denied reason=policy_denied account=ci "token=$ID3" service=imap
run 'satokenctl token mint ci --name another >/dev/null'
want_rc 3 "minting outside the policy is PERMISSION_DENIED (exit 3)"
want_out 'PERMISSION_DENIED: Service account ci does not have permission to use tokens'
ok "outside the policy ci can neither log in nor get a new token"

# --- 11 ---------------------------------------------------------------
step 11 "Shut down cleanly"
echo "    \$ kill -TERM \$satokend_pid; wait \$satokend_pid"
kill -TERM "$DPID"
wait "$DPID"
RC=$?
DPID=
tail -n 1 satokend.log | sed 's/^/      /'
[ "$RC" = 0 ] || fail "satokend exited with status $RC after SIGTERM"
grep -q '^satokend: stopped$' satokend.log || fail "satokend did not log that it stopped"
[ ! -e run/satokend.sock ] || fail "satokend left its socket behind"
for t in ci.token ci-new.token ci-nightly.token; do
	s=$(cut -c17-48 "$t")
	if grep -qF -- "$s" audit.log satokend.log; then
		fail "a token's secret ($t) is in the audit log or the daemon's log"
	fi
done
say "The audit log has $(wc -l <audit.log) lines, and no token secret appears in it or in"
say "satokend's log. Refused logins, by reason:"
grep -o 'action=auth outcome=denied reason=[a-z_]*' audit.log | sort | uniq -c |
	sed 's/^ */      /'
ok "satokend finished what it had acknowledged, removed its socket and exited 0"

echo
echo "demo: all $NSTEPS steps behaved as they should."
echo "Next: README.md (wiring sshd, Dovecot, Postfix, slapd), man satokenctl, man satoken.conf."
exit 0
