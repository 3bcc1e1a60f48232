#!/bin/bash
# The etc/ samples as the programs that read them see them:
#   - satoken.conf: every key of common/config.c once, at its default; the
#     file as shipped and with every line uncommented both pass
#     satokend --check-config;
#   - the systemd units pass systemd-analyze verify, and the service's
#     exposure (systemd-analyze security) is at most 2.0;
#   - sysusers and tmpfiles, applied to a scratch root, make the user and
#     the state directory; satokend running as that user makes the store
#     0640, group satoken, and the socket 0666 (root only);
#   - the SASL app configs (smtpd.conf, slapd.conf) drive the real
#     libsasl2 to accept a token (service smtp, ldap).
# The PAM stacks are run as written by the PAM tests (test_pam.c).
. "$(dirname "$0")/lib.sh"

ETC=$ROOT/etc

# --- satoken.conf ------------------------------------------------------
keys=$(grep -oE '^[[:space:]]*\{ "[a-z_]+", K_' "$ROOT/common/config.c" |
	sed -E 's/.*"([a-z_]+)".*/\1/')
check "common/config.c names its keys (the list this test compares with)" \
	test "$(wc -w <<<"$keys")" -ge 14
bad=
for k in $keys; do
	n=$(grep -cE "^#$k =( |$)" "$ETC/satoken.conf")
	[ "$n" = 1 ] || bad="$bad $k($n)"
done
check "satoken.conf shows every key once, commented out at its default" test -z "$bad"
[ -z "$bad" ] || echo "   keys not shown exactly once as '#key = default':$bad"
sample_keys=$(sed -nE 's/^#([a-z_]+) =( .*)?$/\1/p' "$ETC/satoken.conf" | sort)
check "  ...and no key satokend does not know" \
	test "$sample_keys" = "$(sort <<<"$keys")"
# config files must be ours (or root's) and not writable by others: copy
cp "$ETC/satoken.conf" "$T/shipped.conf"
sed -E 's/^#([a-z_]+ =( |$))/\1/' "$ETC/satoken.conf" >"$T/uncommented.conf"
chmod 0644 "$T/shipped.conf" "$T/uncommented.conf"
check "satokend --check-config accepts the sample as shipped" \
	eval '"$BIN/daemon/satokend" --check-config --config "$T/shipped.conf" >/dev/null'
check "  ...and with every key uncommented (the defaults are valid values)" \
	eval '"$BIN/daemon/satokend" --check-config --config "$T/uncommented.conf" >"$T/out"'
check "  ...which name the default store and socket" \
	grep -qF "database /var/lib/satoken/satoken.db, socket /run/satoken/satokend.sock" "$T/out"

# --- systemd units -----------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
	loud "systemd-analyze is not installed: the unit checks did not run (apt-get install systemd)"
else
	mkdir "$T/units"
	sed "s|/usr/sbin/satokend|$BIN/daemon/satokend|g" "$ETC/systemd/satokend.service" \
		>"$T/units/satokend.service"
	cp "$ETC/systemd/satokend.socket" "$T/units/"
	(cd "$T/units" && systemd-analyze verify --man=no ./satokend.socket \
		./satokend.service) >"$T/verify.out" 2>&1
	rc=$?
	check "systemd-analyze verify: both units load without a warning" \
		test "$rc" = 0 -a ! -s "$T/verify.out"
	[ -s "$T/verify.out" ] && sed 's/^/   /' "$T/verify.out"
	systemd-analyze security --offline=true "$T/units/satokend.service" \
		>"$T/security.out" 2>&1
	level=$(sed -nE 's/.*Overall exposure level for satokend.service: ([0-9]+\.[0-9]+).*/\1/p' "$T/security.out")
	if [ -z "$level" ]; then
		loud "systemd-analyze security printed no exposure level this test can read (another version?): not checked"
		tail -n 3 "$T/security.out"
	else
		check "systemd-analyze security: satokend.service's exposure $level is at most 2.0" \
			awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'
	fi
fi

# --- sysusers + tmpfiles, and satokend as the user they make ----------
if ! is_root; then
	loud "NOT ROOT: sysusers/tmpfiles into a scratch root and satokend as user satoken did not run; CI runs them as root"
elif ! command -v systemd-sysusers >/dev/null 2>&1; then
	loud "systemd-sysusers is not installed: the sysusers/tmpfiles checks did not run"
else
	R=$T/root
	mkdir -p "$R/etc"
	check "systemd-sysusers creates user and group satoken" \
		eval 'systemd-sysusers --root="$R" "$ETC/systemd/satoken.sysusers" >/dev/null 2>&1'
	uid=$(awk -F: '$1 == "satoken" { print $3 }' "$R/etc/passwd" 2>/dev/null)
	gid=$(awk -F: '$1 == "satoken" { print $3 }' "$R/etc/group" 2>/dev/null)
	check "  ...a system user with no login shell" \
		grep -qE '^satoken:x:[0-9]+:[0-9]+:[^:]*:/var/lib/satoken:/usr/sbin/nologin$' "$R/etc/passwd"
	check "systemd-tmpfiles makes /var/lib/satoken 0750 satoken:satoken" \
		eval 'systemd-tmpfiles --create --root="$R" "$ETC/systemd/satoken.tmpfiles" >/dev/null 2>&1 &&
		test "$(stat -c "%a %u %g" "$R/var/lib/satoken")" = "750 $uid $gid"'
	# what the service's RuntimeDirectory= would make
	mkdir -p -m 0755 "$R/run/satoken"
	chown "$uid:$gid" "$R/run/satoken"
	cat >"$T/svc.conf" <<EOF
database = $R/var/lib/satoken/satoken.db
socket = $R/run/satoken/satokend.sock
audit = stderr
EOF
	chmod 0644 "$T/svc.conf"
	chmod 0755 "$T"
	setpriv --reuid "$uid" --regid "$gid" --clear-groups \
		"$BIN/daemon/satokend" --foreground --config "$T/svc.conf" 2>"$T/svc.log" &
	DPID=$!
	for _ in $(seq 1 100); do
		grep -q serving "$T/svc.log" && break
		sleep 0.05
	done
	check "satokend runs as user satoken in the layout tmpfiles made" grep -q serving "$T/svc.log"
	check "  ...the store is 0640, owner and group satoken (the modules' services join the group)" \
		test "$(stat -c '%a %u %g' "$R/var/lib/satoken/satoken.db" 2>/dev/null)" = "640 $uid $gid"
	check "  ...the socket is open to every local user (0666)" \
		test "$(stat -c '%a' "$R/run/satoken/satokend.sock" 2>/dev/null)" = "666"
	check "  ...and nobody else may read the store: a second user cannot" \
		eval '! setpriv --reuid nobody --regid nogroup --clear-groups cat "$R/var/lib/satoken/satoken.db" >/dev/null 2>&1'
	stop_daemon
fi

# --- the SASL app configs, through the real libsasl2 ------------------
write_conf
check "a private satokend starts" start_daemon
ctl group create robots >/dev/null && ctl policy add robots >/dev/null &&
	ctl account create ci --role viewer --group robots >/dev/null
mint "$T/ci.token" ci --name mail
ln -s "$BIN/sasl/libsatoken.so" "$T/libsatoken.so"
for app in smtpd:smtp slapd:ldap; do
	file=${app%%:*}
	svc=${app#*:}
	mkdir -p "$T/sasl-$file"
	# as installed, but pointing at the private satoken.conf
	sed "s|^satoken_conf: .*|satoken_conf: $CONF|" "$ETC/sasl/$file.conf" \
		>"$T/sasl-$file/satoken-demo.conf"
	check "etc/sasl/$file.conf names satoken_conf and offers OAUTHBEARER" \
		grep -qE '^mech_list:.*OAUTHBEARER' "$ETC/sasl/$file.conf"
	"$BIN/tools/sasl-login" --plugin-dir "$T" --conf-dir "$T/sasl-$file" \
		--service "$svc" --account ci --from 192.0.2.5 <"$T/ci.token" >"$T/out" 2>&1
	check "  ...libsasl2 with it accepts ci's token for service $svc" \
		grep -q "accepted, the server's user is ci" "$T/out"
	check "  ...and audits it" \
		grep -q "action=auth outcome=ok reason=ok account=ci token=$(token_id "$T/ci.token") service=$svc rhost=192.0.2.5" "$AUDIT"
done
summary
