#!/bin/bash
# The SASL plugin as real programs see it:
#   1. saslpluginviewer lists its mechanisms from a private plugin dir;
#   2. a real OpenLDAP slapd (private config, private SASL app config, on
#      127.0.0.1 and a free high port) and the real ldapwhoami
#      -Y OAUTHBEARER, which answers through our client side and libldap's
#      SASL_INTERACT prompts: success, then refusal after revoke.
# Part 2 needs root (slapd's SASL config lives at /etc/ldap/sasl2, which
# the test hides behind a private bind mount in its own mount namespace).
#
# env: SATFIX, SAT_PLUGIN_DIR (required), SANITIZE=1 (the plugin carries
# ASan: host programs get the runtime through LD_PRELOAD), CC.
set -u

: "${SATFIX:?}" "${SAT_PLUGIN_DIR:?}"
pass=0
fail=0
T=$(mktemp -d /tmp/satoken-sasl-it.XXXXXX)
slapd_pid=

cleanup() {
	if [ -n "$slapd_pid" ]; then
		kill "$slapd_pid" 2>/dev/null
		wait "$slapd_pid" 2>/dev/null
	fi
	rm -rf "$T"
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
mint() {
	local file=$1
	shift
	(umask 077 && "$SATFIX" "$db" mint "$@" | tr -d '\n' >"$file")
	[ "$(wc -c <"$file")" -eq 54 ]
}
token_id() { cut -c5-16 "$1"; }

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
	"$SATFIX" "$db" init && "$SATFIX" "$db" group svc &&
		"$SATFIX" "$db" policy svc &&
		"$SATFIX" "$db" account ci -g svc &&
		"$SATFIX" "$db" account ops -g svc || not_ok "store set up"
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
		host unshare -m --propagation private sh -c \
			'mount --bind "$1" /etc/ldap/sasl2 && shift && exec "$@"' \
			_ "$T/sasl2" slapd -h "ldap://127.0.0.1:$p/" \
			-f "$T/slapd.conf" -d 0 >"$T/slapd.log" 2>&1 &
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
	check "audit: wrong_account" grep -q "reason=wrong_account account=ci token=$id1 " "$audit"

	"$SATFIX" "$db" revoke "$id1" || not_ok "revoke"
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
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
