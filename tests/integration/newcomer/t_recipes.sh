#!/bin/bash
# README's wiring recipes, run exactly as README shows them: each block
# between "<!-- recipe:NAME -->" and "<!-- /recipe -->" is extracted and
# run as root with sh -e, unchanged, against the real Postfix (Debian's
# chrooted smtpd, submission with STARTTLS and a generated certificate),
# the real slapd (cn=config over ldapi, StartTLS), the real curl and
# ldapwhoami, the installed plugin and a satokend running as user
# satoken.  Each recipe's outcome is checked as a user would notice it:
# curl's exit code (0 only when the mail was accepted, which the
# submission service does for authenticated clients alone; a wrong token
# and no token fail) and the audit line, ldapwhoami's identity.  Then
# make uninstall refuses while /etc/pam.d names pam_satoken.so.
#
# Nothing of this survives the test: it re-runs itself in a private
# mount namespace (with_devlog.sh: its own /dev/log, read by syslogd.py,
# a stand-in for rsyslog), a private network namespace (only lo, so
# Postfix and slapd use their standard ports and no packet leaves) and a
# private pid namespace (whatever is left is killed with it), and
# there puts overlays on /etc, /usr, /var, /run and /home: make install
# PREFIX=/usr, useradd, adduser, postconf, fstab and slapd's cn=config all write
# into the overlays, which are thrown away.  What the test adds around
# the recipes, and only that: the install (make install PREFIX=/usr and
# the satoken sysusers/tmpfiles entries), satokend started as its unit
# would, /etc/hosts naming mail.example.org and ldap.example.org,
# Postfix and slapd running before the recipes as after their packages'
# installation, account ci with a group on the policy, and systemctl,
# which the recipes call but which does not run here: a shell function
# doing what Debian's units do (postfix@.service: configure-instance.sh,
# then postmulti start; slapd: /etc/init.d/slapd).
here=$(cd "$(dirname "$0")" && pwd)
RECIPES="postfix postfix-chroot postfix-client postfix-unchrooted slapd slapd-client sshd sshd-user"

if [ -z "${SAT_RECIPES_NS:-}" ]; then
	why=
	if [ "$(id -u)" != 0 ]; then
		why="NOT ROOT"
	elif [ "${SANITIZE:-}" = 1 ]; then
		# ASan's runtime must come first in every process that loads
		# the module or the plugin; preloaded into Debian's sshd,
		# Postfix and slapd as their packages start them, curl's first
		# login to the chrooted smtpd got no answer at all.
		# sasl/run.sh and pam/sshd.sh drive the sanitized modules in
		# those servers, started privately.
		why="SANITIZE=1: the recipes run the installed, uninstrumented build"
	else
		for p in postfix postmulti slapd ldapmodify ldapwhoami curl openssl \
		    adduser useradd unshare ip python3 systemd-sysusers \
		    systemd-tmpfiles setpriv; do
			command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
				{ why="$p is not installed"; break; }
		done
		grep -qw overlay /proc/filesystems || why="no overlayfs"
	fi
	if [ -n "$why" ]; then
		. "$here/lib.sh"
		loud "$why: README's recipes were not run (CI runs them as root)"
		summary
	fi
	D=$(mktemp -d "${TMPDIR:-/tmp}/satoken-recipes.XXXXXX")
	chmod 0755 "$D"
	SAT_RECIPES_NS=$D bash "$here/with_devlog.sh" "$D/log.sock" \
		unshare -n -p -f --mount-proc env PATH="$PATH:/usr/sbin:/sbin" \
		SYSTEMCTL_SKIP_REDIRECT=1 bash "$0"
	rc=$?
	# the namespace is gone with its mounts: $D/olddev is an empty
	# directory again here (its propagation was private)
	rm -rf "$D"
	exit "$rc"
fi

# --- inside the namespaces ---------------------------------------------
. "$here/lib.sh"
D=$SAT_RECIPES_NS
SYSLOG=$D/syslog
mkdir -p "$D/work"

ip link set lo up
# with_devlog.sh's /dev has pts/ but no ptmx, which sshpass needs
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
for d in etc usr var run home; do
	mkdir -p "$D/ov/$d/u" "$D/ov/$d/w"
	mount -t overlay "satoken-recipes-$d" \
		-o "lowerdir=/$d,upperdir=$D/ov/$d/u,workdir=$D/ov/$d/w" "/$d" ||
		{ not_ok "overlay on /$d"; summary; }
done
# The machine's own Postfix and slapd may be running (Debian starts
# them on installation): their pid files, seen through the overlays,
# must not stop ours from starting, nor name processes ours would stop
# (the pid namespace hides those processes; the files go too).  With
# /run/systemd hidden, Debian's init scripts do not hand over to the
# machine's systemd.
rm -f /var/spool/postfix/pid/master.pid
mkdir -p /run/slapd &&
	mount -t tmpfs -o mode=0755 satoken-recipes-slapd /run/slapd &&
	chown openldap:openldap /run/slapd
[ -d /run/systemd ] && mount -t tmpfs -o mode=0755 satoken-recipes-nosystemd /run/systemd
python3 "$here/syslogd.py" "$D/log.sock" "$SYSLOG" "$D/pri" "$D/syslog.ready" &
SYSLOGD=$!
CLEANUPS+=("kill $SYSLOGD")
for _ in $(seq 100); do [ -e "$D/syslog.ready" ] && break; sleep 0.05; done

stop_services() {
	postmulti -i - -p stop >/dev/null 2>&1 || postfix abort >/dev/null 2>&1
	/etc/init.d/slapd stop >/dev/null 2>&1
	return 0
}
CLEANUPS+=("stop_services")

# recipe NAME: the shell lines of README's block NAME
recipe() {
	awk -v name="$1" '
		$0 == "<!-- recipe:" name " -->" { inr = 1; next }
		inr && $0 == "<!-- /recipe -->" { exit }
		inr && $0 == "```sh" { inf = 1; next }
		inr && inf && $0 == "```" { inf = 0; next }
		inr && inf { print }
	' "$ROOT/README.md"
}

# The systemctl the recipes call: what Debian's units run.
cat >"$D/prelude.sh" <<'EOF'
systemctl() {
	case "$1 $2" in
	"restart postfix")
		postmulti -i - -p stop >/dev/null 2>&1
		/usr/lib/postfix/configure-instance.sh - &&
			postmulti -i - -p start ;;
	"restart slapd") /etc/init.d/slapd restart ;;
	*) echo "systemctl stand-in: $* is not known here" >&2; return 1 ;;
	esac
}
EOF

# run_recipe NAME [DIR]: README's block NAME, as written, in DIR
run_recipe() {
	local name=$1 dir=${2:-$D/work}
	recipe "$name" >"$D/recipe-$name.sh"
	[ -s "$D/recipe-$name.sh" ] || { echo "   README has no recipe $name"; return 1; }
	(cd "$dir" && timeout 300 sh -e -c '. "$1"; . "$2"' _ "$D/prelude.sh" "$D/recipe-$name.sh") \
		>"$D/out-$name" 2>&1
	local rc=$?
	[ "$rc" = 0 ] || sed 's/^/   | /' "$D/out-$name" | tail -n 15
	return "$rc"
}

# wait_port PORT: something listens on 127.0.0.1:PORT (within 30 s: the
# machine is shared)
wait_port() {
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# a full stop and start, as the systemctl stand-in does: no smtpd of
# the previous configuration, with its kept store view, is left to
# answer the next connection
systemctl_restart_postfix() {
	postmulti -i - -p stop >/dev/null 2>&1
	/usr/lib/postfix/configure-instance.sh - >/dev/null 2>&1 &&
		postmulti -i - -p start >/dev/null 2>&1 && wait_port 587
}

# every recipe README marks is one this test runs
marked=$(sed -nE 's/^<!-- recipe:([a-z-]+) -->$/\1/p' "$ROOT/README.md" | sort | tr '\n' ' ')
check "README marks exactly the recipes this test runs ($marked)" \
	test "$marked" = "$(tr ' ' '\n' <<<"$RECIPES" | sort | tr '\n' ' ')"

# --- the install, as README's "Build and install" does it -------------
check "make install PREFIX=/usr (into the overlays)" \
	eval '"${MAKE:-make}" --no-print-directory -C "$ROOT" B="$B" SANITIZE="${SANITIZE:-}" install PREFIX=/usr >"$D/install.log" 2>&1'
check "  ...systemd-sysusers and systemd-tmpfiles make user satoken and /var/lib/satoken" \
	eval 'systemd-sysusers /usr/lib/sysusers.d/satoken.conf >/dev/null 2>&1 &&
	systemd-tmpfiles --create /usr/lib/tmpfiles.d/satoken.conf'
# satokend as satokend.service runs it: user satoken, RuntimeDirectory
install -d -m 0755 -o satoken -g satoken /run/satoken
setpriv --reuid satoken --regid satoken --init-groups \
	/usr/sbin/satokend --foreground 2>"$D/satokend.log" &
DPID=$!
for _ in $(seq 600); do
	grep -q serving "$D/satokend.log" && break
	sleep 0.05
done
check "the installed satokend serves, as user satoken, with the installed satoken.conf" \
	grep -q serving "$D/satokend.log"
check "  ...the store is satoken's, group satoken, 0640" \
	test "$(stat -c '%U %G %a' /var/lib/satoken/satoken.db 2>/dev/null)" = "satoken satoken 640"
ctl() { satokenctl "$@"; }
check "account ci, in group robots, which the policy lets use tokens" \
	eval 'ctl group create robots >/dev/null && ctl policy add robots >/dev/null &&
	ctl account create ci --role viewer --group robots >/dev/null'
echo "127.0.0.1 mail.example.org ldap.example.org" >>/etc/hosts

# --- sshd: the Unix user -------------------------------------------------
check "recipe sshd-user runs" run_recipe sshd-user
home=$(getent passwd ci | cut -d: -f6)
check "  ...ci is a system user whose home ($home) exists and is its own (no chdir warning from sshd)" \
	eval '[ "$(getent passwd ci | cut -d: -f3)" -lt 1000 ] &&
	test -d "$home" -a "$(stat -c %U "$home" 2>/dev/null)" = ci'

check "recipe sshd runs" run_recipe sshd
check "  ...both lines are in /etc/pam.d/sshd, each before its @include" eval '
	awk "/pam_satoken.so ignore_non_token/ { a = NR } /^@include common-auth/ { b = NR }
	     /^account .*pam_satoken.so/ { c = NR } /^@include common-account/ { d = NR }
	     END { exit !(a && a < b && c && c < d) }" /etc/pam.d/sshd'
# Debian's sshd with its own sshd_config (UsePAM yes; passwords allowed
# by default), as its unit starts it, on port 22 of the private network
mkdir -p -m 0755 /run/sshd
/usr/sbin/sshd -D -e 2>"$D/sshd.log" &
SSHD_PID=$!
CLEANUPS+=("kill $SSHD_PID")
check "sshd runs, Debian's configuration" wait_port 22
# a person with a password, for the stack shared with pam_unix
useradd --create-home --shell /bin/sh "human$$" && echo "human$$:pw-$$-x" | chpasswd
printf 'pw-%s-x\n' "$$" >"$D/human.pw"
satokenctl token mint ci --name ssh --service sshd 2>/dev/null >"$D/ssh.token"
chmod 0600 "$D/ssh.token" "$D/human.pw"
# ssh_login USER SECRETFILE: a command over ssh, the secret on fd 3
ssh_login() {
	timeout 120 sshpass -d 3 ssh -F /dev/null -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o PreferredAuthentications=password \
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
		-o ConnectTimeout=20 -o LogLevel=ERROR \
		"$1@127.0.0.1" 'echo "in as $(id -un), in $(pwd)"' 3<"$2"
}
ssh_login ci "$D/ssh.token" >"$D/ssh-ci.out" 2>&1
rc=$?
check "ssh: ci logs in with its token (rc=$rc)" grep -qx "in as ci, in $home" "$D/ssh-ci.out"
check "  ...in its home: no \"Could not chdir to home directory\"" \
	eval '! grep -q "Could not chdir" "$D/ssh-ci.out"'
check "  ...audit: action=auth outcome=ok service=sshd" \
	grep -q "action=auth outcome=ok reason=ok account=ci token=$(cut -c5-16 "$D/ssh.token") service=sshd rhost=127.0.0.1" "$SYSLOG"
ssh_login "human$$" "$D/human.pw" >"$D/ssh-human.out" 2>&1
check "ssh: a person still logs in with a password, through pam_unix" \
	grep -qx "in as human$$, in /home/human$$" "$D/ssh-human.out"
grep -q "^in as" "$D/ssh-ci.out" "$D/ssh-human.out" ||
	{ cat "$D/ssh-ci.out" "$D/ssh-human.out"; tail -n 20 "$D/sshd.log"; } | sed 's/^/   | /'

# --- Postfix ---------------------------------------------------------------
check "Postfix runs as after its installation (configure-instance.sh, postmulti start)" \
	eval '/usr/lib/postfix/configure-instance.sh - >/dev/null 2>&1 &&
	postmulti -i - -p start >"$D/postfix-start" 2>&1 && wait_port 25'
check "recipe postfix runs" run_recipe postfix
check "  ...smtpd is chrooted in master.cf, as Debian ships it (the case the chroot recipe is for)" \
	eval 'postconf -F submission/inet/chroot | grep -qx "submission/inet/chroot = y"'

mkdir -p "$D/client"
cp /etc/postfix/smtpd.crt "$D/client/smtpd.crt"
printf 'Subject: satoken recipe\n\nhello\n' >"$D/client/message.txt"
smtp_ok_lines() { grep -c 'action=auth outcome=ok reason=ok account=ci .*service=smtp' "$SYSLOG"; }

# the client before the chroot recipe: what the outside audit saw
systemctl_restart_postfix
n0=$(grep -c 'action=auth' "$SYSLOG")
run_recipe postfix-client "$D/client" >/dev/null 2>&1
rc=$?
check "without the chroot recipe, the client is refused (curl rc=$rc), not let through" \
	test "$rc" -eq 67
check "  ...and no audit line was written (which is why README has the chroot recipe)" \
	test "$(grep -c 'action=auth' "$SYSLOG")" -eq "$n0"
grep 'configuration error' "$SYSLOG" | tail -n 1 | sed 's/^/   mail log: /'
# that token stays unused: revoke it, so that the recipe's name is free
ctl token revoke "$(sed -nE 's/^oauth2-bearer = "sat_(.{12}).*/\1/p' "$D/client/ci.curl")" >/dev/null

check "recipe postfix-chroot runs" run_recipe postfix-chroot
check "  ...smtpd listens on the submission port" wait_port 587
n0=$(smtp_ok_lines)
check "recipe postfix-client: curl exits 0, the mail accepted" \
	run_recipe postfix-client "$D/client"
check "  ...after AUTH: audit action=auth outcome=ok service=smtp from 127.0.0.1" \
	test "$(smtp_ok_lines)" -gt "$n0"
id=$(sed -nE 's/^oauth2-bearer = "sat_(.{12}).*/\1/p' "$D/client/ci.curl")
check "  ...naming the token minted in the recipe ($id)" \
	grep -q "action=auth outcome=ok reason=ok account=ci token=$id service=smtp rhost=127.0.0.1" "$SYSLOG"
check "  ...and Postfix logs the SASL login" \
	grep -q 'sasl_method=OAUTHBEARER, sasl_username=ci' "$SYSLOG"
check "  ...the token file is 0600 (the recipe's umask)" \
	test "$(stat -c %a "$D/client/ci.curl")" = 600

# Postfix logging elsewhere (maillog_file): it no longer opens syslog
# before its chroot, and the plugin's audit line goes through the
# chroot's /dev/log, which the recipe bound there
postconf -e maillog_file=/var/log/postfix.log
systemctl_restart_postfix
good=$(cat "$D/client/ci.curl")
curl_cmd=$(recipe postfix-client | sed -n '/^curl /,$p')
n0=$(smtp_ok_lines)
(cd "$D/client" && timeout 120 sh -c "$curl_cmd") >"$D/out-maillog" 2>&1
rc=$?
check "with maillog_file set, the same token still logs in (rc=$rc)" test "$rc" -eq 0
check "  ...and is audited, through the chroot's /dev/log" test "$(smtp_ok_lines)" -gt "$n0"
postconf -X maillog_file
systemctl_restart_postfix

# the same client command with a wrong token (one character of the
# secret changed), then with none
tok=$(sed -nE 's/^oauth2-bearer = "(sat_.{50})"$/\1/p' <<<"$good")
c=${tok:30:1}
[ "$c" = A ] && c=B || c=A
printf 'user = "ci:"\noauth2-bearer = "%s"\n' "${tok:0:30}$c${tok:31}" >"$D/client/ci.curl"
tok=
(cd "$D/client" && timeout 120 sh -c "$curl_cmd") >"$D/out-wrong" 2>&1
rc=$?
check "a wrong token: the same curl fails (rc=$rc, 67 = login denied)" test "$rc" -eq 67
check "  ...audit: a denied line for ci, service=smtp" \
	grep -qE 'action=auth outcome=denied reason=[a-z_]+ account=ci .*service=smtp' "$SYSLOG"
(cd "$D/client" && timeout 120 sh -c "$(sed 's/ -K ci.curl//' <<<"$curl_cmd")") >"$D/out-none" 2>&1
rc=$?
check "no token at all: the same curl fails (rc=$rc), the mail refused" test "$rc" -ne 0

# revoke: the chrooted smtpd sees the change at once
ctl token revoke "$id" >/dev/null
printf 'user = "ci:"\noauth2-bearer = "' >"$D/client/ci.curl"
satokenctl token mint ci --name mail2 --service smtp 2>/dev/null | tr -d '\n' >>"$D/client/ci.curl"
printf '"\n' >>"$D/client/ci.curl"
id2=$(sed -nE 's/^oauth2-bearer = "sat_(.{12}).*/\1/p' "$D/client/ci.curl")
ctl token revoke "$id2" >/dev/null
(cd "$D/client" && timeout 120 sh -c "$curl_cmd") >"$D/out-revoked" 2>&1
rc=$?
check "a revoked token: curl fails (rc=$rc)" test "$rc" -eq 67
check "  ...audit, from inside the chroot: denied revoked" \
	grep -q "action=auth outcome=denied reason=revoked account=ci token=$id2 service=smtp" "$SYSLOG"

# the store hidden from the chroot: the documented temporary error,
# audited.  Lazily unmounted (smtpd processes hold it open), then a
# restart, so that the next smtpd opens the store afresh.
umount -l /var/spool/postfix/var/lib/satoken
systemctl_restart_postfix
n_err=$(grep -c 'reason=store_unavailable' "$SYSLOG")
out=$(cd "$D/client" && curl -v --max-time 60 --ssl-reqd --cacert smtpd.crt \
	--url smtp://mail.example.org:587 -K ci.curl -X NOOP 2>&1)
check "store not visible in the chroot: SMTP 454, a temporary failure" \
	grep -q '^< 454 4\.7\.0 ' <<<"$out"
grep '^< 454' <<<"$out" | sed 's/^/   /'
check "  ...with an audit line, outcome=error reason=store_unavailable" \
	test "$(grep -c 'reason=store_unavailable' "$SYSLOG")" -gt "$n_err"
mount /var/spool/postfix/var/lib/satoken
systemctl_restart_postfix
out=

# the alternative: smtpd unchrooted, the bind mounts gone
umount -l /var/spool/postfix/etc/satoken /var/spool/postfix/var/lib/satoken \
	/var/spool/postfix/dev/log
check "recipe postfix-unchrooted runs" run_recipe postfix-unchrooted
check "  ...smtpd listens on the submission port" wait_port 587
printf 'user = "ci:"\noauth2-bearer = "' >"$D/client/ci.curl"
satokenctl token mint ci --name mail3 --service smtp 2>/dev/null | tr -d '\n' >>"$D/client/ci.curl"
printf '"\n' >>"$D/client/ci.curl"
id3=$(sed -nE 's/^oauth2-bearer = "sat_(.{12}).*/\1/p' "$D/client/ci.curl")
(cd "$D/client" && timeout 120 sh -c "$curl_cmd") >"$D/out-unchrooted" 2>&1
rc=$?
check "  ...the client's curl exits 0 (rc=$rc)" test "$rc" -eq 0
check "  ...audit: outcome=ok for that token, service=smtp" \
	grep -q "action=auth outcome=ok reason=ok account=ci token=$id3 service=smtp rhost=127.0.0.1" "$SYSLOG"

secret=$(sed -nE 's/^oauth2-bearer = "sat_.{12}(.{32}).*/\1/p' <<<"$good")
check "no token secret in the syslog (satokend, the plugin, Postfix)" \
	eval '[ -n "$secret" ] && ! grep -qF "$secret" "$SYSLOG"'

# --- slapd -----------------------------------------------------------------
check "slapd runs as after its installation (/etc/init.d/slapd start)" \
	eval '/etc/init.d/slapd start >"$D/slapd-start" 2>&1 && wait_port 389'
check "recipe slapd runs" run_recipe slapd
check "  ...slapd is back on 389" wait_port 389
cp /etc/ldap/slapd.crt "$D/client/slapd.crt"
check "recipe slapd-client: ldapwhoami -ZZ -Y OAUTHBEARER succeeds" \
	run_recipe slapd-client "$D/client"
check "  ...as the account" grep -qx 'dn:uid=ci,cn=oauthbearer,cn=auth' "$D/out-slapd-client"
check "  ...the token file holds the token alone, no newline" \
	test "$(wc -c <"$D/client/ci.token")" = 54
lid=$(cut -c5-16 "$D/client/ci.token")
check "  ...audit: action=auth outcome=ok service=ldap" \
	grep -q "action=auth outcome=ok reason=ok account=ci token=$lid service=ldap rhost=127.0.0.1" "$SYSLOG"
ctl token revoke "$lid" >/dev/null
(cd "$D/client" && LDAPTLS_CACERT=slapd.crt timeout 60 ldapwhoami -H ldap://ldap.example.org -ZZ \
	-Y OAUTHBEARER -U ci -y ci.token) >"$D/out-ldap-revoked" 2>&1
rc=$?
check "a revoked token: ldapwhoami fails, invalid credentials (rc=$rc)" test "$rc" -eq 49

# --- make uninstall with the sshd recipe's PAM lines in place ------------
pamdir=$(dirname "$(find /usr/lib /lib -name pam_unix.so -print -quit)")
"${MAKE:-make}" --no-print-directory -C "$ROOT" B="$B" SANITIZE="${SANITIZE:-}" uninstall PREFIX=/usr >"$D/uninstall.log" 2>&1
rc=$?
check "make uninstall refuses while /etc/pam.d/sshd names pam_satoken.so (rc=$rc)" test "$rc" -ne 0
check "  ...naming the file and line" grep -q '/etc/pam.d/sshd:[0-9]*:auth .*pam_satoken.so' "$D/uninstall.log"
check "  ...and removes nothing" \
	test -f "$pamdir/pam_satoken.so" -a -x /usr/sbin/satokend -a -x /usr/bin/satokenctl
# what the refusal prevents: the module gone, the lines still there
mv "$pamdir/pam_satoken.so" "$D/pam_satoken.so.away"
ssh_login "human$$" "$D/human.pw" >"$D/ssh-human.out" 2>&1
check "  ...(without the module, the person's password login fails: libpam refuses the whole stack)" \
	eval '! grep -q "^in as human" "$D/ssh-human.out"'
mv "$D/pam_satoken.so.away" "$pamdir/pam_satoken.so"
sed -i '/pam_satoken\.so/d' /etc/pam.d/sshd
ssh_login "human$$" "$D/human.pw" >"$D/ssh-human.out" 2>&1
check "with the lines gone, the person logs in again" \
	grep -qx "in as human$$, in /home/human$$" "$D/ssh-human.out"
check "  ...and make uninstall succeeds" \
	eval '"${MAKE:-make}" --no-print-directory -C "$ROOT" B="$B" SANITIZE="${SANITIZE:-}" uninstall PREFIX=/usr >"$D/uninstall.log" 2>&1'
check "  ...and removes the module" test ! -e "$pamdir/pam_satoken.so"

stop_daemon
summary
