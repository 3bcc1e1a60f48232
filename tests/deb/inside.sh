#!/bin/bash
# deb-check's second half, run as root inside the overlay (deb-check.sh):
# install the four packages, enable the pam-auth-update profile, mint and
# log in through common-auth, remove, purge, and check at each step that
# a human password login (pam_unix) works and the stacks are as before.
set -u
version=$1
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL [deb] $*" >&2; }
check() {
	local desc=$1
	shift
	if "$@"; then pass; else fail "$desc"; fi
}

human=dh$$
svc=ds$$
svcname=satdeb$$
mkdir -m 0700 /tmp/w
W=/tmp/w
for f in common-auth common-account common-session common-password; do
	cp "/etc/pam.d/$f" "$W/$f.orig"
done
stacks_as_before() {
	local f
	for f in common-auth common-account common-session common-password; do
		cmp -s "/etc/pam.d/$f" "$W/$f.orig" || return 1
	done
}

# a syslog receiver on /dev/log: the daemon and the module audit there by
# default, and refuse what they cannot audit
python3 /tmp/syslogd.py /dev/log "$W/syslog" "$W/syslog.pri" "$W/syslog.ready" &
SYSLOGD=$!
for _ in $(seq 1 200); do [ -e "$W/syslog.ready" ] && break; sleep 0.05; done

# a human with a password, and a PAM service that is the Debian default
# stack and nothing else
useradd -m "$human"
echo "$human:Pw-$$-human" | chpasswd
cat >"/etc/pam.d/$svcname" <<EOS
@include common-auth
@include common-account
EOS
# pamtester USER SECRET [ops]: the secret on stdin
pt() {
	local user=$1 secret=$2
	shift 2
	printf '%s\n' "$secret" | pamtester "$svcname" "$user" "${@:-authenticate}" \
		>"$W/pt.out" 2>&1
}
# nothing of ours may change a device node (a run once left the host's
# /dev/null 0600, when deb-check still bound the host's nodes in)
devnull_ok() { [ "$(stat -c %a /dev/null)" = 666 ]; }
human_ok() { pt "$human" "Pw-$$-human" authenticate acct_mgmt; }
human_wrong_refused() { ! pt "$human" "wrong-$$"; }

check "before: a human password login works" human_ok

# ---- install ----
if ! dpkg -i /tmp/debs/*.deb >"$W/dpkg.log" 2>&1; then
	cat "$W/dpkg.log" >&2
	fail "dpkg -i of the four packages"
fi
check "the four packages are installed at $version" test \
	"$(dpkg-query -W -f '${Status} ${Version}\n' satokend satoken-cli libpam-satoken libsasl2-modules-satoken | sort -u)" = \
	"install ok installed $version"
check "user and group satoken exist" eval 'getent passwd satoken >/dev/null && getent group satoken >/dev/null'
check "  ...a system user without a login shell" eval \
	'[ "$(getent passwd satoken | cut -d: -f3)" -lt 1000 ] && [ "$(getent passwd satoken | cut -d: -f7)" = /usr/sbin/nologin ]'
check "/var/lib/satoken is 0750 satoken:satoken" test \
	"$(stat -c '%a %U %G' /var/lib/satoken)" = "750 satoken satoken"
check "satoken.conf is a conffile" eval \
	'dpkg-query -W -f "\${Conffiles}" satokend | grep -q "/etc/satoken/satoken.conf"'
check "satokend --version names the package version" test \
	"$(satokend --version)" = "satoken $version"
check "satokenctl --version too" test "$(satokenctl --version)" = "satoken $version"
check "the profile is in /usr/share/pam-configs" test -f /usr/share/pam-configs/satoken
check "installing does not enable it (Default: no)" stacks_as_before
check "a human password login still works" human_ok

check "/dev/null still 0666 before: enable" devnull_ok
# ---- enable ----
check "pam-auth-update --enable satoken" pam-auth-update --enable satoken
check "  ...puts pam_satoken in common-auth" grep -q pam_satoken.so /etc/pam.d/common-auth
check "  ...before pam_unix" eval \
	'[ "$(grep -n pam_satoken.so /etc/pam.d/common-auth | cut -d: -f1)" -lt "$(grep -n pam_unix.so /etc/pam.d/common-auth | cut -d: -f1)" ]'
check "a human password login works with satoken in the stack" human_ok
check "  ...a wrong password is still refused" human_wrong_refused

# the daemon as the unit runs it: user satoken, the packaged config
install -d -o satoken -g satoken -m 0755 /run/satoken
setpriv --reuid satoken --regid satoken --init-groups \
	satokend --foreground 2>"$W/satokend.log" &
DPID=$!
for _ in $(seq 1 400); do [ -S /run/satoken/satokend.sock ] && break; sleep 0.05; done
check "satokend starts from the packaged config as user satoken" test -S /run/satoken/satokend.sock
useradd --system --no-create-home --shell /usr/sbin/nologin "$svc"
satokenctl group create robots >/dev/null &&
	satokenctl policy add robots >/dev/null &&
	satokenctl account create "$svc" --role viewer --group robots >/dev/null
check "satokenctl sets up an account" test $? = 0
tok=$(satokenctl token mint "$svc" --name deb --ttl 1h 2>/dev/null)
check "a token is minted" eval '[[ $tok == sat_* ]]'
check "the service account logs in with its token through common-auth" \
	pt "$svc" "$tok" authenticate acct_mgmt
check "  ...audited on syslog" grep -qE "action=auth outcome=ok .*account=$svc " "$W/syslog"
check "  ...with no secret on syslog" eval '! grep -qF "${tok:16:32}" "$W/syslog"'
# the token with one secret character changed and a valid checksum is
# the fair test; a reused-but-revoked token is simpler and as telling
id=$(satokenctl --json token list "$svc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
satokenctl token revoke "$id" >/dev/null
check "a revoked token is refused, not passed to pam_unix" eval '! pt "$svc" "$tok"'
check "  ...as revoked" grep -qE "action=auth outcome=denied reason=revoked .*account=$svc " "$W/syslog"
check "a human password login still works with the daemon up" human_ok
kill -TERM "$DPID"; wait "$DPID"
check "satokend stops on SIGTERM" test $? = 0
mv /var/lib/satoken/satoken.db /var/lib/satoken/satoken.db.away
check "store missing: a human password login still works" human_ok
mv /var/lib/satoken/satoken.db.away /var/lib/satoken/satoken.db

check "/dev/null still 0666 before: upgrade in place" devnull_ok
# ---- upgrade in place: the admin's config and the store stay ----
echo "# edited by the admin $$" >>/etc/satoken/satoken.conf
if ! dpkg -i /tmp/debs/satokend_*.deb /tmp/debs/satoken-cli_*.deb >"$W/dpkg.log" 2>&1; then
	cat "$W/dpkg.log" >&2
	fail "reinstalling satokend"
fi
check "reinstalling keeps the edited conffile" grep -q "edited by the admin $$" /etc/satoken/satoken.conf
check "  ...and the store" test -s /var/lib/satoken/satoken.db
check "  ...and leaves the stacks as the admin set them" grep -q pam_satoken.so /etc/pam.d/common-auth

check "/dev/null still 0666 before: remove" devnull_ok
# ---- remove ----
if ! dpkg -r libpam-satoken >"$W/dpkg.log" 2>&1; then
	cat "$W/dpkg.log" >&2
	fail "dpkg -r libpam-satoken"
fi
check "removing the module takes it out of the stacks" stacks_as_before
check "  ...and the module is gone" eval '! ls /lib/*/security/pam_satoken.so >/dev/null 2>&1'
check "a human password login works after the removal" human_ok
check "  ...and a wrong password is refused" human_wrong_refused

if ! dpkg -r satokend satoken-cli libsasl2-modules-satoken >"$W/dpkg.log" 2>&1; then
	cat "$W/dpkg.log" >&2
	fail "dpkg -r satokend"
fi
check "remove (not purge) keeps the store" test -s /var/lib/satoken/satoken.db
check "  ...the edited config" grep -q "edited by the admin $$" /etc/satoken/satoken.conf
check "  ...and user satoken" eval 'getent passwd satoken >/dev/null'

check "/dev/null still 0666 before: purge" devnull_ok
# ---- purge ----
if ! dpkg --purge satokend satoken-cli libpam-satoken libsasl2-modules-satoken \
    >"$W/dpkg.log" 2>&1; then
	cat "$W/dpkg.log" >&2
	fail "dpkg --purge"
fi
check "purge: no package left" eval \
	'! dpkg-query -W -f "\${Status}\n" satokend satoken-cli libpam-satoken libsasl2-modules-satoken 2>/dev/null | grep -q installed'
check "  ...user satoken gone" eval '! getent passwd satoken >/dev/null'
check "  ...group satoken gone" eval '! getent group satoken >/dev/null'
check "  .../var/lib/satoken gone" test ! -e /var/lib/satoken
check "  .../etc/satoken gone" test ! -e /etc/satoken
check "  ...the profile gone" test ! -e /usr/share/pam-configs/satoken
check "  ...the stacks exactly as before" stacks_as_before
check "a human password login works after the purge" human_ok

check "/dev/null still 0666 at the end" devnull_ok
kill "$SYSLOGD" 2>/dev/null
wait "$SYSLOGD" 2>/dev/null
echo "[deb] $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
