#!/bin/bash
# pam_satoken.so driven by pamtester (a real PAM application) through
# pam_wrapper, including the store unreadable for the service's user:
# run as root, pamtester is dropped to nobody with setpriv.
#
# Env: SATOKEND, SATOKENCTL, PAM_MODULE, PAMT_PRELOAD (LD_PRELOAD for pamtester).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/satpamtester.XXXXXX")
trap 'fixture_stop; rm -rf "$T"' EXIT
chmod 755 "$T"
fixture_init "$T"
sat group svc
sat policy svc
sat account ci -g svc
mint ci deploy "$T/tok.ok"
mint ci gone "$T/tok.rev"
revoke "$T/tok.rev"
mint ci net "$T/tok.net" -f 192.0.2.0/24
mint ci imap "$T/tok.imap" -s imap
printf 'hunter2\n' >"$T/notatoken"

mkdir "$T/pam.d"
for svc in sattest imap; do
	cat >"$T/pam.d/$svc" <<EOS
auth     required $PAM_MODULE conf=$CONF
auth     optional pam_permit.so
account  required $PAM_MODULE conf=$CONF
session  required $PAM_MODULE conf=$CONF
EOS
done
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

# pt USER TOKENFILE [pamtester args...] -- ops: run pamtester, token on stdin
pt() {
	local user=$1 tok=$2 svc=${PT_SVC:-sattest}
	shift 2
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		LD_PRELOAD="${PAMT_PRELOAD:-libpam_wrapper.so}" \
		ASAN_OPTIONS=detect_leaks=0 \
		${PT_AS:-} pamtester "$@" "$svc" "$user" authenticate <"$tok" \
		>"$T/out" 2>&1
}

check "pamtester: a token logs in" pt ci "$T/tok.ok"
check "  ...and it is audited with its id" \
	audit_has action=auth outcome=ok account=ci "token=$(token_id "$T/tok.ok")" service=sattest
check "pamtester: acct_mgmt and a session after a token login" \
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
	LD_PRELOAD="${PAMT_PRELOAD:-libpam_wrapper.so}" ASAN_OPTIONS=detect_leaks=0 \
	sh -c 'pamtester sattest ci authenticate acct_mgmt open_session close_session <"$1" >"$2" 2>&1' sh "$T/tok.ok" "$T/out"
check "  ...the session line names the token" \
	audit_has action=session.close "token=$(token_id "$T/tok.ok")"
check "pamtester: a revoked token is refused" eval '! pt ci "$T/tok.rev"'
check "  ...as revoked" audit_has outcome=denied reason=revoked
check "pamtester: a password that is not a token is refused" eval '! pt ci "$T/notatoken"'
check "  ...logged as malformed" audit_has reason=malformed
check "pamtester: another user's login with ci's token is refused" eval '! pt root "$T/tok.ok"'
check "pamtester: rhost inside the token's network" pt ci "$T/tok.net" -I rhost=192.0.2.9
check "pamtester: rhost outside it" eval '! pt ci "$T/tok.net" -I rhost=198.51.100.9'
check "  ...source_denied" audit_has reason=source_denied rhost=198.51.100.9
check "pamtester: an imap-only token on another service" eval '! pt ci "$T/tok.imap"'
pt_imap() { PT_SVC=imap pt "$@"; }
check "pamtester: the imap-only token on imap" pt_imap ci "$T/tok.imap"

# The store as the service's user sees it.  Only root can make another
# user; CI runs as root.
if [ "$(id -u)" -ne 0 ]; then
	loud "NOT ROOT: the unreadable-store checks (setpriv to nobody) did not run; CI runs them as root"
else
	mkdir "$T/nobody" && chown nobody "$T/nobody"
	cat >"$T/nobody.conf" <<EOC
database = $DB
audit = file:$T/nobody/audit.log
EOC
	sed "s|conf=$CONF|conf=$T/nobody.conf|" "$T/pam.d/sattest" >"$T/pam.d/asnobody"
	pn() { PT_SVC=asnobody PT_AS="setpriv --reuid=nobody --regid=nogroup --clear-groups" pt "$@"; }
	chgrp nogroup "$DB" && chmod 0640 "$DB"
	check "as nobody, in the store's group (0640): a token logs in" pn ci "$T/tok.ok"
	chgrp root "$DB"
	check "as nobody, not in the store's group: refused" eval '! pn ci "$T/tok.ok"'
	check "  ...as unavailable, not as a bad token" grep -q "Authentication service cannot retrieve authentication info" "$T/out"
	chmod 000 "$DB"
	check "as nobody, store mode 000: refused" eval '! pn ci "$T/tok.ok"'
	check "  ...as unavailable" grep -q "Authentication service cannot retrieve authentication info" "$T/out"
	check "  ...and audited as store_unavailable" \
		grep -q "action=auth outcome=error reason=store_unavailable account=ci" "$T/nobody/audit.log"
	chmod 0640 "$DB"
fi

# Modules live in multithreaded servers: nothing of ours may be writable
# static data (checked on the build without sanitizers, whose own
# globals would hide ours).
writable_statics() {
	objdump -t "${PAM_PLAIN_MODULE:-$PAM_MODULE}" |
		awk '$0 ~ / \.(data|bss)[ \t]/ { print $NF }' |
		grep -vxE 'completed\.0|__dso_handle|__TMC_END__|_edata|__bss_start|_end|slots|view_locks|args_cache|kept|mean_cost_ns|mac_shared|mac_slots|mac_locks|remembered_uid|remembered|usage_kept|usage_kept_lock|pid_page|pid_page_once'
}
# The exceptions DESIGN allows, state shared between calls behind a lock
# (the TSan test in tests/stress drives them from 64 threads): the cached
# views of the store (common/view.c: slots, each behind its mutex in
# view_locks, a common/lockpool.h), the parsed arguments and satoken.conf
# (pam/args.c: args_cache, behind its mutex), the open audit file
# (common/audit.c: kept, behind its mutex), the decision's running
# mean cost (common/verify.c: mean_cost_ns, an atomic), and the keyed
# HMAC contexts (common/token.c: mac_slots, each behind its mutex in
# mac_locks, and mac_shared, the algorithm set once under pthread_once
# and an atomic), and the store owner's uid (common/fileio.c:
# remembered_uid, written once before the atomic remembered publishes it;
# only the SASL plugin sets it, at load), and the usage report's kept
# socket (common/usage.c: usage_kept, behind usage_kept_lock, taken with
# trylock only), and the process's pid (common/selfpid.c: pid_page, set
# once under pid_page_once, an atomic pointer to an atomic)
check "the module has no writable static data of its own but its locked caches" \
	eval '[ -z "$(writable_statics)" ] || { writable_statics; false; }'

check "no secret in the audit log" no_secrets "$AUDIT" "$T"/tok.*
summary
