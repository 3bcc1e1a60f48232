#!/bin/bash
# make bench-servers (and the last part of make bench): logins per second
# inside real servers, the figures a sysadmin compares (issue 21).
#
#   IMAP through Debian's Dovecot, the same configuration four times, the
#   passdb alone differing:
#     satoken   passdb pam, a stack of pam_satoken.so (etc/pam.d/satoken-only)
#     unix      passdb pam, Debian's /etc/pam.d/dovecot (pam_unix), a
#               yescrypt password (Debian's default hash, cost j9T)
#     pwfile    passdb passwd-file, the hash `doveadm pw` makes by
#               default ({CRYPT} bcrypt, cost 5)
#     pwplain   passdb passwd-file, {PLAIN}: Dovecot without any hash
#   SMTP AUTH through Postfix's smtpd (Cyrus SASL): OAUTHBEARER with the
#   satoken plugin against PLAIN with sasldb2.
#
# Every server keeps Debian's defaults where the figure depends on them
# (Dovecot: imap-login service_count = 1, auth_cache_size = 0, pam
# max_requests = 100; Postfix: smtpd max_use = 100); no TLS, on loopback.
# The client is bench/bench_srv.c: THREADS concurrent clients, one
# login per connection (LOGIN then LOGOUT; EHLO, AUTH, QUIT), as a mail
# client does.  Beside each, what the figure is made of: the connection
# alone (imap0: greeting and LOGOUT; smtp0: EHLO and QUIT), Dovecot's
# auth process alone (dauth: AUTH PLAIN on its auth-client socket, one
# kept connection per client, as imap-login asks it), the processes
# created per login (ns_last_pid of the private pid namespace), and a
# perf profile by process when perf is installed.
#
# Nothing of this touches the host: the script re-runs itself in a
# private mount namespace (with_devlog.sh: /dev/log read by syslogd.py,
# where the audit lines go, as with audit = syslog on a real host), a
# private network namespace (only lo) and a private pid namespace.  The
# throwaway Unix user lives in private copies of /etc/passwd, /etc/group
# and /etc/shadow bind-mounted there; the PAM services in a private copy
# of /etc/pam.d; Dovecot and Postfix run from their own configuration
# directories under a temporary directory, removed at the end.
#
# Results: medians of BENCH_ROUNDS alternated rounds (default 5), logins
# per second; ratios within this one run.  Appended to
# bench/servers-results.txt, written to bench/servers.dat for the chart
# (bench/plot.sh), printed.
#   BENCH_SRV_THREADS  concurrent clients (default 4)
#   BENCH_SRV_ITERS    logins per client per round (default 100)
#   BENCH_SRV_PERF=0   no profile
set -euo pipefail
ROOT=$(pwd)
B=${B:-build}
here=$ROOT/bench
nc=$ROOT/tests/integration/newcomer

if [ -z "${SAT_SERVERS_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || {
		echo "bench-servers: needs root (Dovecot and Postfix switch users; private namespaces)" >&2
		exit 1
	}
	for p in dovecot doveadm postfix saslpasswd2 unshare ip python3; do
		command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || {
			echo "bench-servers: $p is not installed (bench/packages; make bench installs it as root)" >&2
			exit 1
		}
	done
	D=$(mktemp -d /tmp/satoken-servers.XXXXXX)
	chmod 0755 "$D"
	rc=0
	SAT_SERVERS_NS=$D bash "$nc/with_devlog.sh" "$D/log.sock" \
		unshare -n -p -f --mount-proc env PATH="$PATH:/usr/sbin:/sbin" \
		B="$B" bash "$0" || rc=$?
	rm -rf "$D"
	[ "$rc" = 0 ] && [ -s "$here/servers.dat" ] && bash "$here/plot.sh"
	exit "$rc"
fi

# --- inside the namespaces ------------------------------------------------
D=$SAT_SERVERS_NS
ROUNDS=${BENCH_ROUNDS:-5}
THREADS=${BENCH_SRV_THREADS:-4}
ITERS=${BENCH_SRV_ITERS:-100}
BB=$ROOT/$B/bench
log() { echo "bench-servers: $*" >&2; }
PIDS=()
POSTFIX_DIR=
cleanup() {
	local p
	[ -n "$POSTFIX_DIR" ] && { postfix -c "$POSTFIX_DIR" stop >/dev/null 2>&1 || true; }
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

ip link set lo up
python3 "$nc/syslogd.py" "$D/log.sock" "$D/syslog" "$D/pri" "$D/syslog.ready" &
PIDS+=($!)
for _ in $(seq 100); do [ -e "$D/syslog.ready" ] && break; sleep 0.05; done

free_port() {
	local p
	while :; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
wait_port() {
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	log "nothing listens on $1"
	return 1
}

# --- satokend and the tokens ---------------------------------------------
mkdir -p -m 0755 "$D/state"
CONF=$D/satoken.conf SOCK=$D/satokend.sock
cat >"$CONF" <<CONF
database = $D/state/satoken.db
socket = $SOCK
usage_socket = $D/usage.sock
audit = syslog
admin_users = root
rate_limit = 0
CONF
chmod 0644 "$CONF"
"$ROOT/$B/daemon/satokend" --foreground --config "$CONF" 2>"$D/satokend.log" &
PIDS+=($!)
for _ in $(seq 200); do grep -qs serving "$D/satokend.log" && break; sleep 0.05; done
ctl() { "$ROOT/$B/cli/satokenctl" --socket "$SOCK" "$@"; }
ctl group create bench >/dev/null
ctl policy add bench >/dev/null
: >"$D/pairs-satoken"
chmod 0600 "$D/pairs-satoken"
for i in 1 2 3 4 5 6 7 8; do
	ctl account create "svc$i" --group bench >/dev/null
	printf 'svc%s %s\n' "$i" "$(ctl token mint "svc$i" --name bench 2>/dev/null)" >>"$D/pairs-satoken"
done
[ "$(grep -c ' sat_' "$D/pairs-satoken")" = 8 ] || { log "minting failed"; exit 1; }
# smtpd runs as postfix: it reads the store through the store's group
chgrp postfix "$D/state/satoken.db" && chmod 0640 "$D/state/satoken.db"

# --- the throwaway Unix user, in private copies of the account files -----
BUSER=satbench
buid=64123
while getent passwd "$buid" >/dev/null || getent group "$buid" >/dev/null; do buid=$((buid + 1)); done
(umask 077 && head -c 15 /dev/urandom | base64 | tr -d '/+=' >"$D/pw")
for f in passwd group shadow; do cp -p "/etc/$f" "$D/etc-$f"; done
echo "$BUSER:x:$buid:$buid:satoken bench:$D/mail:/usr/sbin/nologin" >>"$D/etc-passwd"
echo "$BUSER:x:$buid:" >>"$D/etc-group"
# yescrypt at Debian's default cost (login.defs YESCRYPT_COST_FACTOR 5:
# "j9T", as passwd and chpasswd write it), bcrypt cost 5 as `doveadm pw`
# writes it; the password goes through a file, never argv
hash() {
	python3 -W ignore -c '
import crypt, sys
pw = open(sys.argv[1]).read().strip()
salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32) if sys.argv[2] == "bcrypt" else \
    "$y$j9T$" + crypt.mksalt(crypt.METHOD_SHA512)[3:19]
h = crypt.crypt(pw, salt)
assert h and crypt.crypt(pw, h) == h
print(h)' "$D/pw" "$1"
}
yes_hash=$(hash yescrypt)
bf_hash=$(hash bcrypt)
echo "$BUSER:$yes_hash:20000:0:99999:7:::" >>"$D/etc-shadow"
for f in passwd group shadow; do mount --bind "$D/etc-$f" "/etc/$f"; done
printf '%s %s\n' "$BUSER" "$(cat "$D/pw")" >"$D/pairs-unix"
chmod 0600 "$D/pairs-unix"
mkdir -p -m 0755 "$D/mail"
chown "$buid:$buid" "$D/mail"

# PAM services: Debian's, plus satoken-only for the satoken passdb
cp -a /etc/pam.d "$D/pam.d"
sed "s|pam_satoken.so|$ROOT/$B/pam/pam_satoken.so conf=$CONF|" \
	"$ROOT/etc/pam.d/satoken-only" >"$D/pam.d/satbench-satoken"
mount --bind "$D/pam.d" /etc/pam.d
cp -a "$D/pam.d" "$D/pam.d-lean"
printf '%s\n' "auth required pam_deny.so" "account required pam_deny.so" \
	"password required pam_deny.so" "session required pam_deny.so" >"$D/pam.d-lean/other"

# --- Dovecot: one instance per passdb --------------------------------------
SASLSYS=$(pkg-config --variable=libdir libsasl2 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/sasl2
declare -A PORT
IMAP_VARIANTS="satoken unix pwfile pwplain satlean"
(umask 077
	echo "$BUSER:{CRYPT}$bf_hash" >"$D/users-pwfile"
	echo "$BUSER:{PLAIN}$(cat "$D/pw")" >"$D/users-pwplain")
chown root:dovecot "$D/users-pwfile" "$D/users-pwplain"
chmod 0640 "$D/users-pwfile" "$D/users-pwplain"
for v in $IMAP_VARIANTS; do
	case $v in
	satoken | satlean) pdb="driver = pam
  args = satbench-satoken" ;;
	unix) pdb="driver = pam
  args = dovecot" ;;
	*) pdb="driver = passwd-file
  args = $D/users-$v" ;;
	esac
	PORT[$v]=$(free_port)
	dv=$D/dovecot-$v
	mkdir -p "$dv/state"
	cat >"$dv/dovecot.conf" <<CONF
# Debian's defaults, but for where it lives, the listener and the passdb
base_dir = $dv/run
state_dir = $dv/state
instance_name = satbench-$v
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
log_path = $dv/log
mail_location = maildir:$D/mail/%u
service imap-login {
  inet_listener imap {
    port = ${PORT[$v]}
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener auth-client {
    mode = 0600
  }
}
passdb {
  $pdb
}
userdb {
  driver = static
  args = uid=$buid gid=$buid home=$D/mail/%u
}
CONF
	# satlean: the same, but in a mount namespace of its own where
	# /etc/pam.d/other is pam_deny alone instead of Debian's common-*
	# stacks, which libpam reads and dlopens at every pam_start
	start=(dovecot -c "$dv/dovecot.conf")
	[ "$v" = satlean ] && start=(unshare -m --propagation private sh -c \
		'mount --bind "$1" /etc/pam.d && shift && exec "$@"' _ "$D/pam.d-lean" "${start[@]}")
	"${start[@]}" || { log "dovecot $v did not start"; cat "$dv/log" >&2; exit 1; }
	wait_port "${PORT[$v]}"
done

# --- Postfix: one private instance, two smtpd listeners ---------------------
pf=$D/postfix
POSTFIX_DIR=$pf
mkdir -p "$pf/sasl" "$pf/queue" "$pf/data" "$D/saslplug"
chown postfix "$pf/data"
ln -s "$ROOT/$B/sasl/libsatoken.so" "$D/saslplug/libsatoken.so"
for p in libplain libsasldb; do ln -s "$SASLSYS/$p.so" "$D/saslplug/$p.so"; done
printf 'satoken_conf: %s\nmech_list: OAUTHBEARER\n' "$CONF" >"$pf/sasl/smtpd.conf"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN\n' \
	"$D/sasldb2" >"$pf/sasl/smtpp.conf"
: >"$D/pairs-sasldb"
chmod 0600 "$D/pairs-sasldb"
for i in 1 2 3 4 5 6 7 8; do
	head -c 15 /dev/urandom | base64 | tr -d '/+=' >"$D/spw"
	saslpasswd2 -p -c -f "$D/sasldb2" -u bench "user$i" <"$D/spw"
	printf 'user%s %s\n' "$i" "$(cat "$D/spw")" >>"$D/pairs-sasldb"
done
rm -f "$D/spw"
chown root:postfix "$D/sasldb2" && chmod 0640 "$D/sasldb2"
SP_OAUTH=$(free_port) SP_PLAIN=$(free_port)
cat >"$pf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = satbench.localdomain
mydestination =
maillog_file_prefixes = $pf
maillog_file = $pf/maillog
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = bench
cyrus_sasl_config_path = $pf/sasl
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C SASL_PATH=$D/saslplug
CONF
cat >"$pf/master.cf" <<CONF
127.0.0.1:$SP_OAUTH inet n - n - - smtpd
127.0.0.1:$SP_PLAIN inet n - n - - smtpd -o smtpd_sasl_path=smtpp
postlog unix-dgram n - n - 1 postlogd
anvil unix - - n - 1 anvil
rewrite unix - - n - - trivial-rewrite
cleanup unix n - n - 0 cleanup
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
proxymap unix - - n - - proxymap
CONF
postfix -c "$pf" start >"$D/postfix-start.log" 2>&1 ||
	{ log "postfix did not start"; cat "$D/postfix-start.log" >&2; exit 1; }
wait_port "$SP_OAUTH"
wait_port "$SP_PLAIN"

# --- the measurements --------------------------------------------------------
# name: client mode, address, pairs file, logins per client
declare -A MODE ADDR PAIRS
for v in $IMAP_VARIANTS; do
	MODE[imap-$v]=imap ADDR[imap-$v]=${PORT[$v]}
	MODE[auth-$v]=dauth ADDR[auth-$v]=$D/dovecot-$v/run/auth-client
	case $v in
	satoken | satlean) PAIRS[imap-$v]=$D/pairs-satoken ;;
	*) PAIRS[imap-$v]=$D/pairs-unix ;;
	esac
	PAIRS[auth-$v]=${PAIRS[imap-$v]}
done
PAIRS[auth-satlean]=$D/pairs-satoken
MODE[imap-none]=imap0 ADDR[imap-none]=${PORT[pwplain]} PAIRS[imap-none]=$D/pairs-unix
MODE[smtp-oauth]=smtp-oauth ADDR[smtp-oauth]=$SP_OAUTH PAIRS[smtp-oauth]=$D/pairs-satoken
MODE[smtp-plain]=smtp-plain ADDR[smtp-plain]=$SP_PLAIN PAIRS[smtp-plain]=$D/pairs-sasldb
MODE[smtp-none]=smtp0 ADDR[smtp-none]=$SP_PLAIN PAIRS[smtp-none]=$D/pairs-sasldb
NAMES="imap-satoken imap-unix imap-pwfile imap-pwplain imap-none auth-satoken auth-satlean auth-unix auth-pwfile auth-pwplain smtp-oauth smtp-plain smtp-none"

# yescrypt at ~100 ms a hash: a quarter of the logins, the same rounds
declare -A NITER
for n in $NAMES; do NITER[$n]=$ITERS; done
NITER[imap-unix]=$(( (ITERS + 3) / 4 )) NITER[auth-unix]=$(( (ITERS + 3) / 4 ))

# run NAME: one measurement; prints "logins_per_s p50_us p99_us failures
# processes_per_login"
run() {
	local n=$1 before after line
	before=$(cat /proc/sys/kernel/ns_last_pid)
	line=$("$BB/bench_srv" "${MODE[$n]}" "${ADDR[$n]}" "${PAIRS[$n]}" "${NITER[$n]}" "$THREADS" 5)
	after=$(cat /proc/sys/kernel/ns_last_pid)
	set -- $line
	# the client's own process and threads are not the server's
	awk -v s="$3" -v a="$1" -v b="$2" -v f="$4" -v d="$((after - before - THREADS - 2))" \
		-v n="$(( (NITER[$n] + 5) * THREADS ))" \
		'BEGIN { printf "%s %s %s %s %.2f\n", s, a, b, f, (d < 0 ? 0 : d) / n }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A got procs fails p50 p99
load0=$(cut -d' ' -f1-3 /proc/loadavg)
log "$ROUNDS rounds of $THREADS clients x $ITERS logins per figure"
for r in $(seq 1 "$ROUNDS"); do
	order=$(echo $NAMES | awk -v r="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r * 5) % NF + 1) }')
	for n in $order; do
		set -- $(run "$n")
		got[$n]="${got[$n]:-} $1"
		p50[$n]="${p50[$n]:-} $2"
		p99[$n]="${p99[$n]:-} $3"
		fails[$n]=$(( ${fails[$n]:-0} + $4 ))
		procs[$n]="${procs[$n]:-} $5"
	done
	log "round $r done"
done
declare -A M
for n in $NAMES; do
	M[$n]=$(echo ${got[$n]} | tr ' ' '\n' | median)
	[ "${fails[$n]}" = 0 ] || log "WARNING: $n: ${fails[$n]} logins failed"
done
# every satoken login audited: the syslog holds its lines
audited=$(grep -c 'action=auth outcome=ok' "$D/syslog" || true)
denied=$(grep -c 'action=auth outcome=\(denied\|error\)' "$D/syslog" || true)

# --- where the time goes: perf by process, one pass each -----------------------
PROF=$D/profile.txt
: >"$PROF"
if [ "${BENCH_SRV_PERF:-1}" = 1 ] && command -v perf >/dev/null 2>&1 &&
	perf record -o "$D/perf.probe" -a -- true >/dev/null 2>&1; then
	for n in imap-satoken imap-unix imap-pwfile smtp-oauth smtp-plain; do
		perf record -q -F 499 -a -o "$D/perf.$n" -- \
			"$BB/bench_srv" "${MODE[$n]}" "${ADDR[$n]}" "${PAIRS[$n]}" "${NITER[$n]}" "$THREADS" 5 \
			>/dev/null 2>&1 || continue
		{
			echo "$n: share of this run's CPU samples in the server's processes, by process and object"
			# the host's other processes are in the samples too: only
			# the names of Dovecot's, Postfix's and the client's count
			perf report -i "$D/perf.$n" --stdio --sort comm,dso --percentage relative \
				--comms imap-login,imap,auth,auth-worker,anvil,dovecot,log,config,stats,smtpd,master,proxymap,bench_srv,python3,satokend,tlsmgr \
				2>/dev/null | awk '/^ *[0-9.]+%/ && n < 8 { print "  " $0; n++ }'
		} >>"$PROF"
	done
fi

# --- the report ---------------------------------------------------------------
ratio() { awk -v a="${M[$1]}" -v b="${M[$2]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
med_of() { echo $1 | tr ' ' '\n' | median; }
host="$(uname -srm), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
OUTF=$D/block.txt
{
	echo "satoken make bench-servers, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "machine: $host; load before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "Dovecot $(dovecot --version | cut -d' ' -f1), Postfix $(postconf -h mail_version), no TLS, loopback; $THREADS concurrent clients,"
	echo "medians of $ROUNDS alternated rounds of $((THREADS * (ITERS + 5))) logins each ($((THREADS * (NITER[imap-unix] + 5))) with yescrypt); one login per connection"
	printf '%-14s %-44s %10s %9s %9s %10s\n' figure what logins/s p50_ms p99_ms procs/login
	for n in $NAMES; do
		case $n in
		imap-satoken) w="IMAP LOGIN, passdb pam: pam_satoken" ;;
		imap-unix) w="IMAP LOGIN, passdb pam: pam_unix, yescrypt" ;;
		imap-pwfile) w="IMAP LOGIN, passdb passwd-file, bcrypt(5)" ;;
		imap-pwplain) w="IMAP LOGIN, passdb passwd-file, {PLAIN}" ;;
		imap-none) w="IMAP connection alone (no LOGIN)" ;;
		auth-satoken) w="Dovecot auth alone: pam_satoken" ;;
		auth-satlean) w="  the same, /etc/pam.d/other = pam_deny" ;;
		auth-unix) w="Dovecot auth alone: pam_unix, yescrypt" ;;
		auth-pwfile) w="Dovecot auth alone: passwd-file, bcrypt" ;;
		auth-pwplain) w="Dovecot auth alone: passwd-file, {PLAIN}" ;;
		smtp-oauth) w="SMTP AUTH OAUTHBEARER: satoken plugin" ;;
		smtp-plain) w="SMTP AUTH PLAIN: sasldb2" ;;
		smtp-none) w="SMTP connection alone (EHLO, QUIT)" ;;
		esac
		printf '%-14s %-44s %10.0f %9.2f %9.2f %10.2f\n' "$n" "$w" "${M[$n]}" \
			"$(awk -v x="$(med_of "${p50[$n]}")" 'BEGIN { print x / 1000 }')" \
			"$(awk -v x="$(med_of "${p99[$n]}")" 'BEGIN { print x / 1000 }')" \
			"$(med_of "${procs[$n]}")"
	done
	echo "ratios (logins/s, this run): IMAP satoken / pam_unix yescrypt $(ratio imap-satoken imap-unix),"
	echo "  satoken / passwd-file bcrypt $(ratio imap-satoken imap-pwfile), satoken / passwd-file plain $(ratio imap-satoken imap-pwplain);"
	echo "  Dovecot auth alone: satoken / yescrypt $(ratio auth-satoken auth-unix), satoken / bcrypt $(ratio auth-satoken auth-pwfile), satoken / plain $(ratio auth-satoken auth-pwplain),"
	echo "  satoken with a lean /etc/pam.d/other / with Debian's $(ratio auth-satlean auth-satoken);"
	echo "  SMTP OAUTHBEARER / PLAIN sasldb2 $(ratio smtp-oauth smtp-plain); SMTP with AUTH / without: OAUTHBEARER $(ratio smtp-oauth smtp-none), PLAIN $(ratio smtp-plain smtp-none)"
	echo "satoken logins audited (action=auth outcome=ok lines in the private syslog): $audited; refused or errors: $denied"
	[ -s "$PROF" ] && cat "$PROF"
	echo
} >"$OUTF"
cat "$OUTF" >>"$ROOT/bench/servers-results.txt"
{
	echo "# name logins_per_s (medians, bench/servers.sh $(date -u +%Y-%m-%dT%H:%MZ))"
	for n in $NAMES; do echo "$n ${M[$n]}"; done
} >"$ROOT/bench/servers.dat"
cat "$OUTF"
