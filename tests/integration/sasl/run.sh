#!/bin/bash
# The SASL plugin as real programs see it:
#   1. saslpluginviewer lists its mechanisms from a private plugin dir;
#   2. a real OpenLDAP slapd (private config, private SASL app config, on
#      127.0.0.1 and a free high port) and the real ldapwhoami
#      -Y OAUTHBEARER, which answers through our client side and libldap's
#      SASL_INTERACT prompts: success, then refusal after revoke;
#   3. a real Postfix smtpd (a private instance: postfix -c DIR, its own
#      cyrus_sasl_config_path) and the real curl --oauth2-bearer, an
#      independent OAUTHBEARER and XOAUTH2 client (token handed over in a
#      curl -K file): success, then refusal after revoke.
# Parts 2 and 3 need root (slapd's SASL config lives at /etc/ldap/sasl2,
# which the test hides behind a private bind mount in its own mount
# namespace; Postfix's master starts as root and smtpd runs as postfix).
#
# Tokens are minted and revoked through a private satokend with
# satokenctl (tests/integration/satokend.sh), as a sysadmin would.
#
# env: SATOKEND, SATOKENCTL, SAT_PLUGIN_DIR (required), SANITIZE=1 (the plugin carries
# ASan: host programs get the runtime through LD_PRELOAD), CC.
set -u

: "${SAT_PLUGIN_DIR:?}"
. "$(dirname "$0")/../satokend.sh"
pass=0
fail=0
T=$(mktemp -d /tmp/satoken-sasl-it.XXXXXX)
[ -n "${KEEP:-}" ] && echo "keeping $T"
slapd_pid=
postfix_dir=

cleanup() {
	satd_stop
	if [ -n "$slapd_pid" ]; then
		kill "$slapd_pid" 2>/dev/null
		wait "$slapd_pid" 2>/dev/null
	fi
	if [ -n "$postfix_dir" ]; then
		postfix -c "$postfix_dir" stop >/dev/null 2>&1 ||
			postfix -c "$postfix_dir" abort >/dev/null 2>&1
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; fail=$((fail + 1)); }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

host_env=()
if [ "${SANITIZE:-}" = 1 ]; then
	host_env=(LD_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so)"
		ASAN_OPTIONS=detect_leaks=0)
fi
# runs a program that is not ours (libsasl2 loads the plugin into it)
host() { env "${host_env[@]}" SASL_PATH="$SAT_PLUGIN_DIR" "$@"; }

db=$T/satoken.db
audit=$T/audit.log
# The one minting helper: the token goes to stdout (here: into a file
# without its newline, as ldapwhoami -y reads the whole file), never argv.
#   mint FILE ACCOUNT NAME [-s SERVICE] [-f CIDR]
mint() {
	local file=$1 account=$2 name=$3
	shift 3
	satd_mint "$account" "$name" "$file.nl" "$@" || return 1
	(umask 077 && tr -d '\n' <"$file.nl" >"$file")
	rm -f "$file.nl"
	[ "$(wc -c <"$file")" -eq 54 ]
}
token_id() { cut -c5-16 "$1"; }

satd_start "$T" "$db" "$audit" &&
	ctl group create svc >/dev/null &&
	ctl policy set svc >/dev/null &&
	satd_account ci -g svc && satd_account ops -g svc ||
	not_ok "a private satokend with the accounts"

# --- 1. saslpluginviewer ---------------------------------------------
out=$(host saslpluginviewer -s -p "$SAT_PLUGIN_DIR" 2>&1)
avail=$(awk '/^Available SASL \(server side\)/ { getline; print }' <<<"$out")
check "pluginviewer: OAUTHBEARER and XOAUTH2 available on the server" \
	bash -c '[[ " $1 " == *" OAUTHBEARER "* && " $1 " == *" XOAUTH2 "* ]]' _ "$avail"
check "pluginviewer: both declare NO_ANONYMOUS" \
	test "$(grep -c 'security flags: NO_ANONYMOUS|PASS_CREDENTIALS' <<<"$out")" -eq 2
out=$(host saslpluginviewer -c -p "$SAT_PLUGIN_DIR" 2>&1)
avail=$(awk '/^Available SASL \(client side\)/ { getline; print }' <<<"$out")
check "pluginviewer: OAUTHBEARER available on the client" \
	bash -c '[[ " $1 " == *" OAUTHBEARER "* ]]' _ "$avail"
check "pluginviewer: no XOAUTH2 client is claimed" \
	bash -c '[[ " $1 " != *" XOAUTH2 "* ]]' _ "$avail"

# --- 2. slapd + ldapwhoami ---------------------------------------------
can_run_slapd() {
	if [ "$(id -u)" != 0 ]; then
		echo "NOT ROOT"
		return 1
	fi
	for p in slapd ldapwhoami unshare; do
		command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
			{ echo "$p not installed"; return 1; }
	done
	[ -d /etc/ldap/sasl2 ] || { echo "no /etc/ldap/sasl2"; return 1; }
	unshare -m --propagation private true 2>/dev/null ||
		{ echo "cannot make a mount namespace"; return 1; }
}

why=$(can_run_slapd)
if [ -n "$why" ]; then
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
	echo "!!! SKIPPED: the real slapd + ldapwhoami test did not run: $why"
	echo "!!! (it needs root; CI runs it as root)"
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
else
	PATH=$PATH:/usr/sbin
	cat >"$T/satoken.conf" <<-EOF
		database = $db
		audit = file:$audit
	EOF
	mkdir "$T/sasl2" "$T/run"
	# slapd reads its SASL app config from /etc/ldap/sasl2/slapd.conf:
	# the test bind-mounts this private directory there
	cat >"$T/sasl2/slapd.conf" <<-EOF
		satoken_conf: $T/satoken.conf
		mech_list: OAUTHBEARER XOAUTH2
	EOF
	# noplain is dropped from slapd's default secprops because this test
	# speaks LDAP without TLS; the token crosses in clear, as with PLAIN
	cat >"$T/slapd.conf" <<-EOF
		pidfile $T/run/slapd.pid
		argsfile $T/run/slapd.args
		sasl-secprops noanonymous
	EOF

	port=
	for attempt in 1 2 3 4 5; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		# exec all the way down (subshell, env, unshare, sh), so that
		# $! is slapd itself and cleanup stops the server, not a shell
		(exec env "${host_env[@]}" SASL_PATH="$SAT_PLUGIN_DIR" \
			unshare -m --propagation private sh -c \
			'mount --bind "$1" /etc/ldap/sasl2 && shift && exec "$@"' \
			_ "$T/sasl2" slapd -h "ldap://127.0.0.1:$p/" \
			-f "$T/slapd.conf" -d 0) >"$T/slapd.log" 2>&1 &
		slapd_pid=$!
		for _ in $(seq 50); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
				port=$p
				break
			fi
			kill -0 "$slapd_pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$port" ] && break
		kill "$slapd_pid" 2>/dev/null
		wait "$slapd_pid" 2>/dev/null
		slapd_pid=
	done
	check "slapd started on 127.0.0.1:${port:-?}" test -n "$port"
	[ -n "$port" ] || cat "$T/slapd.log"

	# the client: libldap answers the plugin's SASL_INTERACT prompts
	# with -U (account) and -y (token file); noplain off as on the server
	whoami() {
		host ldapwhoami -H "ldap://127.0.0.1:$port" -Y OAUTHBEARER \
			-O noanonymous -Q "$@"
	}

	mint "$T/tok1" ci t1 || not_ok "mint t1"
	id1=$(token_id "$T/tok1")
	out=$(whoami -U ci -y "$T/tok1" 2>&1)
	rc=$?
	echo "  ldapwhoami with a live token: rc=$rc: $out"
	check "ldapwhoami -Y OAUTHBEARER succeeds with a live token" test "$rc" -eq 0
	check "slapd sees the account as the SASL user" \
		grep -qx 'dn:uid=ci,cn=oauthbearer,cn=auth' <<<"$out"
	check "audit: one ok line for service=ldap from 127.0.0.1" grep -q \
		"action=auth outcome=ok reason=ok account=ci token=$id1 service=ldap rhost=127.0.0.1\$" \
		"$audit"

	out=$(whoami -U ci -X ci -y "$T/tok1" 2>&1)
	check "an authzid equal to the account is accepted ($out)" \
		grep -qx 'dn:uid=ci,cn=oauthbearer,cn=auth' <<<"$out"
	out=$(whoami -U ci -X ops -y "$T/tok1" 2>&1)
	rc=$?
	check "another account as authzid is refused (rc=$rc)" test "$rc" -eq 49
	check "audit: wrong_account names the claimed and the token's" grep -q "reason=wrong_account account=ops token=$id1 .*token_account=ci" "$audit"

	ctl token revoke "$id1" >/dev/null || not_ok "revoke"
	n_before=$(wc -l <"$audit")
	out=$(whoami -U ci -y "$T/tok1" 2>&1)
	rc=$?
	echo "  ldapwhoami after revoke: rc=$rc: $(tr '\n' ' ' <<<"$out")"
	check "after revoke ldapwhoami is refused: invalid credentials (49)" \
		test "$rc" -eq 49
	check "audit: exactly one line, denied revoked" bash -c \
		'[ "$(wc -l <"$1")" -eq $(($2 + 1)) ] &&
		 tail -n1 "$1" | grep -q "outcome=denied reason=revoked account=ci token=$3 service=ldap"' \
		_ "$audit" "$n_before" "$id1"

	mint "$T/tok2" ci t2 -s imap || not_ok "mint t2"
	out=$(whoami -U ci -y "$T/tok2" 2>&1)
	rc=$?
	check "a token scoped to imap is refused by ldap (rc=$rc)" test "$rc" -eq 49
	check "audit: service_denied" grep -q "reason=service_denied account=ci token=$(token_id "$T/tok2") service=ldap" "$audit"

	mint "$T/tok3" ops t3 -s ldap -f 127.0.0.0/8 || not_ok "mint t3"
	out=$(whoami -U ops -y "$T/tok3" 2>&1)
	check "a token scoped to ldap from 127/8 is accepted ($out)" \
		grep -qx 'dn:uid=ops,cn=oauthbearer,cn=auth' <<<"$out"

	check "no token secret in slapd's output or the audit log" bash -c \
		'for f in "$1"/tok*; do s=$(cut -c17-48 "$f");
		 grep -qF "$s" "$1/slapd.log" "$1/audit.log" && exit 1; done; exit 0' _ "$T"
	check "slapd is still running" kill -0 "$slapd_pid"
	check "the pid we hold is slapd's own" test \
		"$(cat "$T/run/slapd.pid" 2>/dev/null)" = "$slapd_pid"
	kill "$slapd_pid"
	wait "$slapd_pid" 2>/dev/null
	check "slapd stopped" bash -c '! kill -0 "$1" 2>/dev/null' _ "$slapd_pid"
	slapd_pid=
fi

# --- 3. Postfix smtpd + curl ---------------------------------------------
can_run_postfix() {
	if [ "$(id -u)" != 0 ]; then
		echo "NOT ROOT"
		return 1
	fi
	for p in postfix curl; do
		command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
			{ echo "$p not installed"; return 1; }
	done
	id postfix >/dev/null 2>&1 || { echo "no postfix user"; return 1; }
}

# a port p with p+1 and p+2 free too
free_ports() {
	local p i
	for _ in $(seq 20); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		for i in 0 1 2; do
			(exec 3<>"/dev/tcp/127.0.0.1/$((p + i))") 2>/dev/null &&
				continue 2
		done
		echo "$p"
		return 0
	done
	return 1
}

# SMTP AUTH by hand, to see the protocol replies themselves:
# smtp_auth PORT MECH TOKENFILE ANSWER prints the reply to AUTH and, if
# it is a 334 challenge, the reply to ANSWER.  The token goes from its
# file into the socket through shell builtins only.
smtp_auth() {
	local line msg
	exec 5<>"/dev/tcp/127.0.0.1/$1" || return 1
	read -r -t 10 line <&5
	printf 'EHLO satoken-test\r\n' >&5
	while read -r -t 10 line <&5; do
		[[ $line == 250\ * ]] && break
	done
	msg=$(printf 'n,,\001auth=Bearer %s\001\001' "$(<"$3")" | base64 -w0)
	printf 'AUTH %s %s\r\n' "$2" "$msg" >&5
	msg=
	read -r -t 10 line <&5
	echo "${line%$'\r'}"
	if [[ $line == 334* ]]; then
		printf '%s\r\n' "$4" >&5
		read -r -t 10 line <&5
		echo "${line%$'\r'}"
	fi
	printf 'QUIT\r\n' >&5
	exec 5>&-
}

# curl -K FILE: the token goes to curl in a file, not argv
curl_cfg() {
	(umask 077 && {
		printf 'user = "%s:"\n' "$2"
		printf 'oauth2-bearer = "'
		cat "$3"
		printf '"\n'
	} >"$1")
}

why=$(can_run_postfix)
if [ -n "$why" ]; then
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
	echo "!!! SKIPPED: the real Postfix smtpd + curl test did not run: $why"
	echo "!!! (it needs root; CI runs it as root)"
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
else
	PATH=$PATH:/usr/sbin
	pf=$T/postfix
	smtp_audit=$T/audit-smtp.log
	mkdir -p "$pf/sasl" "$pf/queue" "$pf/data"
	# smtpd runs as postfix: it reads the store through the store's
	# group (DESIGN: put the service in it) and appends to its audit file
	chmod 755 "$T"
	chgrp postfix "$db" && chmod 0640 "$db"
	touch "$smtp_audit" && chown postfix "$smtp_audit" &&
		chmod 0600 "$smtp_audit"
	chown postfix "$pf/data"
	cat >"$T/satoken-smtp.conf" <<-EOF
		database = $db
		audit = file:$smtp_audit
	EOF
	chmod 0644 "$T/satoken-smtp.conf"
	# two smtpd services: "smtpd" offers both mechanisms (curl then picks
	# OAUTHBEARER), "smtpx" only XOAUTH2 (curl then uses XOAUTH2)
	printf 'satoken_conf: %s\nmech_list: OAUTHBEARER XOAUTH2\n' \
		"$T/satoken-smtp.conf" >"$pf/sasl/smtpd.conf"
	printf 'satoken_conf: %s\nmech_list: XOAUTH2\n' \
		"$T/satoken-smtp.conf" >"$pf/sasl/smtpx.conf"
	# a third service whose store cannot be read
	printf 'database = %s\naudit = file:%s\n' "$T/missing.db" \
		"$smtp_audit" >"$T/satoken-nodb.conf"
	chmod 0644 "$T/satoken-nodb.conf"
	printf 'satoken_conf: %s\nmech_list: OAUTHBEARER\n' \
		"$T/satoken-nodb.conf" >"$pf/sasl/smtpu.conf"
	envs="SASL_PATH=$SAT_PLUGIN_DIR"
	if [ "${SANITIZE:-}" = 1 ]; then
		envs="$envs ${host_env[*]}"
	fi
	sport=$(free_ports) || not_ok "no free ports"
	cat >"$pf/main.cf" <<-EOF
		compatibility_level = 3.6
		queue_directory = $pf/queue
		data_directory = $pf/data
		mail_owner = postfix
		inet_interfaces = 127.0.0.1
		inet_protocols = ipv4
		myhostname = satoken-test.localdomain
		mydestination =
		maillog_file_prefixes = $pf
		maillog_file = $pf/maillog
		smtpd_sasl_auth_enable = yes
		smtpd_sasl_type = cyrus
		smtpd_sasl_path = smtpd
		cyrus_sasl_config_path = $pf/sasl
		smtpd_sasl_security_options = noanonymous
		smtpd_tls_security_level = none
		smtpd_relay_restrictions = permit_sasl_authenticated, reject
		import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C $envs
	EOF
	cat >"$pf/master.cf" <<-EOF
		127.0.0.1:$sport inet n - n - - smtpd
		127.0.0.1:$((sport + 1)) inet n - n - - smtpd -o smtpd_sasl_path=smtpx
		127.0.0.1:$((sport + 2)) inet n - n - - smtpd -o smtpd_sasl_path=smtpu
		postlog unix-dgram n - n - 1 postlogd
		anvil unix - - n - 1 anvil
		rewrite unix - - n - - trivial-rewrite
		cleanup unix n - n - 0 cleanup
		bounce unix - - n - 0 bounce
		defer unix - - n - 0 bounce
		trace unix - - n - 0 bounce
		proxymap unix - - n - - proxymap
	EOF
	postfix_dir=$pf
	postfix -c "$pf" start >"$T/postfix-start.log" 2>&1
	up=
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null &&
			(exec 3<>"/dev/tcp/127.0.0.1/$((sport + 1))") 2>/dev/null; then
			up=1
			break
		fi
		sleep 0.1
	done
	check "postfix smtpd listening on 127.0.0.1:$sport and :$((sport + 1))" \
		test -n "$up"
	[ -n "$up" ] || { cat "$T/postfix-start.log"; tail "$pf/maillog"; }

	smtp() {
		local port=$1
		shift
		curl -sS --max-time 20 --url "smtp://127.0.0.1:$port/" "$@"
	}
	printf 'Subject: satoken test\n\nhello\n' >"$T/mail.txt"
	mint "$T/tok5" ci t5 || not_ok "mint t5"
	id5=$(token_id "$T/tok5")
	curl_cfg "$T/curl5.cfg" ci "$T/tok5"

	out=$(smtp "$sport" --mail-from ci@example.org \
		--mail-rcpt someone@example.net -T "$T/mail.txt" -K "$T/curl5.cfg" 2>&1)
	rc=$?
	check "curl --oauth2-bearer: OAUTHBEARER to smtpd accepted, mail relayed (rc=$rc $out)" \
		test "$rc" -eq 0
	check "postfix logs sasl_method=OAUTHBEARER, sasl_username=ci" \
		grep -q 'sasl_method=OAUTHBEARER, sasl_username=ci$' "$pf/maillog"
	check "audit: ok for service=smtp from 127.0.0.1" grep -q \
		"action=auth outcome=ok reason=ok account=ci token=$id5 service=smtp rhost=127.0.0.1\$" \
		"$smtp_audit"
	out=$(smtp "$((sport + 1))" --mail-from ci@example.org \
		--mail-rcpt someone@example.net -T "$T/mail.txt" -K "$T/curl5.cfg" 2>&1)
	rc=$?
	check "curl: XOAUTH2 to smtpd accepted and mail relayed as the account (rc=$rc $out)" \
		test "$rc" -eq 0
	check "postfix logs sasl_method=XOAUTH2, sasl_username=ci" \
		grep -q 'sasl_method=XOAUTH2, sasl_username=ci$' "$pf/maillog"
	out=$(smtp "$sport" --mail-from ci@example.org \
		--mail-rcpt someone@example.net -T "$T/mail.txt" 2>&1)
	rc=$?
	check "without a token the relay is refused (rc=$rc)" test "$rc" -ne 0

	ctl token revoke "$id5" >/dev/null || not_ok "revoke t5"
	out=$(smtp "$sport" -X NOOP -K "$T/curl5.cfg" 2>&1)
	rc=$?
	echo "  curl OAUTHBEARER after revoke: rc=$rc: $out"
	check "after revoke OAUTHBEARER is refused: curl login denied (67)" \
		test "$rc" -eq 67
	out=$(smtp "$((sport + 1))" -X NOOP -K "$T/curl5.cfg" 2>&1)
	rc=$?
	check "after revoke XOAUTH2 is refused: curl login denied (67)" \
		test "$rc" -eq 67
	# the RFC 7628 exchange as it crosses the wire: the error challenge
	# (base64 of {"status":"invalid_token"}), the client's \x01, then 535
	out=$(smtp_auth "$sport" OAUTHBEARER "$T/tok5" AQ== 2>&1)
	echo "  raw SMTP AUTH OAUTHBEARER after revoke: $(tr '\n' '|' <<<"$out")"
	check "raw SMTP: error challenge then 535 after the client's \\x01" \
		grep -qzE '^334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=
535 5\.7\.8 ' <<<"$out"
	check "audit: three denied revoked lines for service=smtp" test \
		"$(grep -c "outcome=denied reason=revoked account=ci token=$id5 service=smtp" "$smtp_audit")" \
		-eq 3

	mint "$T/tok6" ci t6 -s imap || not_ok "mint t6"
	curl_cfg "$T/curl6.cfg" ci "$T/tok6"
	out=$(smtp "$sport" -X NOOP -K "$T/curl6.cfg" 2>&1)
	rc=$?
	check "a token scoped to imap is refused by smtp (rc=$rc)" test "$rc" -eq 67
	check "audit: service_denied for smtp" grep -q \
		"reason=service_denied account=ci token=$(token_id "$T/tok6") service=smtp" \
		"$smtp_audit"
	# a store that cannot be read: a temporary failure, never success
	out=$(smtp_auth "$((sport + 2))" OAUTHBEARER "$T/tok6" AQ== 2>&1)
	echo "  raw SMTP AUTH with the store unreadable: $out"
	check "store unreadable: SMTP 454 temporary failure" \
		grep -q '^454 4\.7\.0 ' <<<"$out"
	check "audit: error store_unavailable" grep -q \
		"action=auth outcome=error reason=store_unavailable account= service=smtp rhost=127.0.0.1" \
		"$smtp_audit"

	check "no token secret in postfix's log or the audit log" bash -c \
		'for f in "$1"/tok*; do s=$(cut -c17-48 "$f");
		 grep -qF "$s" "$2" "$3" && exit 1; done; exit 0' \
		_ "$T" "$pf/maillog" "$smtp_audit"
	master=$(tr -d ' ' <"$pf/queue/pid/master.pid" 2>/dev/null)
	postfix -c "$pf" stop >/dev/null 2>&1
	for _ in $(seq 50); do
		kill -0 "$master" 2>/dev/null || break
		sleep 0.1
	done
	check "postfix master ($master) stopped" \
		bash -c '[ -n "$1" ] && ! kill -0 "$1" 2>/dev/null' _ "$master"
	postfix_dir=
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
