#!/bin/bash
# One real service end to end: OpenSSH sshd on 127.0.0.1 on a free high
# port, with a private sshd_config and host key, authenticating through a
# PAM service that uses pam_satoken.so; the real ssh client (sshpass -d,
# the token on a file descriptor) logs in as a service account with its
# token, and is refused once the token is revoked.
#
# Needs root (sshd, a PAM service file in /etc/pam.d, a system user for
# the service account); without it, says so loudly and runs nothing.
# Everything it adds is removed on exit.
#
# Env: SATOKEND, SATOKENCTL, PAM_MODULE.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	loud "NOT ROOT: the sshd end-to-end test did NOT run (it needs root; CI runs it)"
	summary
	exit 0
fi
for tool in sshd ssh sshpass ssh-keygen useradd userdel; do
	if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
		not_ok "$tool is missing (packages: openssh-server openssh-client sshpass)"
		summary
		exit 1
	fi
done
SSHD=$(command -v sshd || echo /usr/sbin/sshd)

# sshd names its PAM service after the program: a symlink with a name of
# our own gives a PAM service of our own, unique per run.
SVC=satoken-test-sshd-$$
USER_=satssh$$
T=$(mktemp -d "${TMPDIR:-/tmp}/satsshd.XXXXXX")
created_run_sshd=
sshd_pid=
cleanup() {
	fixture_stop
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
	rm -f "/etc/pam.d/$SVC"
	userdel "$USER_" 2>/dev/null
	[ -n "$created_run_sshd" ] && rmdir /run/sshd 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 755 "$T"

fixture_init "$T"
sat group svc
sat policy svc
sat account "$USER_" -g svc
mint "$USER_" deploy "$T/tok.ok"
mint "$USER_" lan "$T/tok.lan" -f 127.0.0.0/8
mint "$USER_" far "$T/tok.far" -f 10.0.0.0/8
mint "$USER_" svc "$T/tok.svc" -s "$SVC"
mint "$USER_" imap "$T/tok.imap" -s imap
printf 'hunter2\n' >"$T/notatoken"

useradd --system --no-create-home --home-dir "$T" --shell /bin/sh "$USER_" ||
	{ not_ok "useradd $USER_"; summary; exit 1; }
# sshd refuses to start without its privilege separation directory
if [ ! -d /run/sshd ]; then
	mkdir -m 0755 /run/sshd && created_run_sshd=1
fi
cat >"/etc/pam.d/$SVC" <<EOS
# written by tests/integration/pam/sshd.sh; removed when it ends
auth     required $PAM_MODULE conf=$CONF
account  required $PAM_MODULE conf=$CONF
session  required $PAM_MODULE conf=$CONF
password required pam_deny.so
EOS
ln -s "$SSHD" "$T/$SVC"
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"

start_sshd() {
	local port=$1
	cat >"$T/sshd_config" <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
AllowUsers $USER_
StrictModes no
UseDNS no
MaxAuthTries 2
LogLevel VERBOSE
EOC
	: >"$T/sshd.log"
	"$T/$SVC" -D -e -f "$T/sshd_config" 2>"$T/sshd.log" &
	sshd_pid=$!
	for _ in $(seq 50); do
		grep -q "Server listening on 127.0.0.1 port $port" "$T/sshd.log" && return 0
		kill -0 "$sshd_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$sshd_pid" 2>/dev/null
	wait "$sshd_pid" 2>/dev/null
	sshd_pid=
	return 1
}

# a free high port: try random ones until sshd binds
PORT=
for _ in 1 2 3 4 5 6 7 8; do
	p=$((20000 + RANDOM % 40000))
	if start_sshd "$p"; then PORT=$p; break; fi
done
if [ -z "$PORT" ]; then
	not_ok "sshd did not start"; cat "$T/sshd.log"; summary; exit 1
fi
echo "   sshd ($SVC) listening on 127.0.0.1:$PORT"

# login TOKENFILE: run `echo` over ssh as the service account, the token
# on fd 3 (never in argv or the environment)
login() {
	sshpass -d 3 ssh -F /dev/null -p "$PORT" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o PreferredAuthentications=password -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o LogLevel=ERROR \
		"$USER_@127.0.0.1" "echo satoken-login-ok-\$(id -un)" \
		3<"$1" >"$T/ssh.out" 2>"$T/ssh.err"
}
logged_in() {
	grep -qx "satoken-login-ok-$USER_" "$T/ssh.out"
}

id_ok=$(token_id "$T/tok.ok")
check "ssh: the service account logs in with its token" login "$T/tok.ok"
check "  ...and runs a command as itself" logged_in
check "  ...audited: auth ok, service $SVC, rhost 127.0.0.1" \
	grep -q "action=auth outcome=ok reason=ok account=$USER_ token=$id_ok service=$SVC rhost=127.0.0.1" "$AUDIT"
check "  ...the account phase passed" \
	grep -q "action=account outcome=ok reason=ok account=$USER_ service=$SVC" "$AUDIT"
check "  ...the session was opened with that token" \
	grep -q "action=session.open outcome=ok account=$USER_ token=$id_ok service=$SVC" "$AUDIT"

check "ssh: a token scoped to 127.0.0.0/8" login "$T/tok.lan"
check "ssh: a token scoped to 10.0.0.0/8 is refused" eval '! login "$T/tok.far"'
check "  ...source_denied" audit_has reason=source_denied rhost=127.0.0.1
check "ssh: a token scoped to this sshd's service" login "$T/tok.svc"
check "ssh: a token scoped to imap is refused" eval '! login "$T/tok.imap"'
check "  ...service_denied" grep -q "reason=service_denied account=$USER_ token=$(token_id "$T/tok.imap")" "$AUDIT"
check "ssh: a password that is not a token is refused" eval '! login "$T/notatoken"'
check "  ...nothing ran" eval '! logged_in'

revoke "$T/tok.ok"
check "ssh: the same token, revoked, is refused" eval '! login "$T/tok.ok"'
check "  ...nothing ran" eval '! logged_in'
check "  ...audited as revoked" \
	grep -q "action=auth outcome=denied reason=revoked account=$USER_ token=$id_ok service=$SVC rhost=127.0.0.1" "$AUDIT"
check "ssh: another token of the account still works" login "$T/tok.lan"

sat account "$USER_" -g svc -d
check "ssh: the account disabled, its tokens are refused" eval '! login "$T/tok.lan"'
check "  ...account_disabled" grep -q "reason=account_disabled account=$USER_" "$AUDIT"

check "no secret in the audit log" no_secrets "$AUDIT" "$T"/tok.*
check "no secret in sshd's log" no_secrets "$T/sshd.log" "$T"/tok.*
summary
