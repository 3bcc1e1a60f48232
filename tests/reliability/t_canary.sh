#!/bin/bash
# Canaries at debug level, through the modules and into syslog and cores:
# tokens minted by the real daemon are used to log in through
# pam_satoken.so (with `debug`, under pam_wrapper and plain libpam) and
# the SASL plugin, accepted and refused; the daemon and the modules audit
# to syslog, which is caught on a private /dev/log.  The secrets must not
# appear in the syslog stream, any stderr or stdout, nor in a core taken
# (gcore) of the daemon and of processes that just logged in.
#
# /dev/log is replaced only inside a private mount namespace, so the
# host's logging is untouched; that and gcore of a non-dumpable daemon
# need root: elsewhere this group says loudly what it skipped.
if [ "$(id -u)" = 0 ] && [ -z "${CANARY_NS:-}" ] &&
    unshare --mount --propagation private true 2>/dev/null; then
	exec unshare --mount --propagation private env CANARY_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
CANARY=$RELB/canary_login
PAM_MODULE=$ROOT/$B/pam/pam_satoken.so
SASL_PLUGIN=$ROOT/$B/sasl/libsatoken.so
SYSLOG=$T/syslog
OUT= ERR=

# ---- a private /dev/log (root, in our own mount namespace) ----
have_syslog=0
LISTENER=
if [ -n "${CANARY_NS:-}" ]; then
	python3 -u - "$T/log.sock" "$SYSLOG" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
PY
	LISTENER=$!
	CLEANUPS+=("kill $LISTENER 2>/dev/null")
	for i in $(seq 1 100); do [ -S "$T/log.sock" ] && break; sleep 0.02; done
	# a fresh tmpfs over /dev, seen by nothing outside this namespace,
	# with the few nodes the programs use made anew (never bind-mount
	# the host's /dev anywhere: a recursive rm of the test directory
	# would go through it) and our socket as /dev/log
	if mount -t tmpfs -o mode=0755 none /dev; then
		mknod -m 0666 /dev/null c 1 3
		mknod -m 0666 /dev/zero c 1 5
		mknod -m 0666 /dev/full c 1 7
		mknod -m 0666 /dev/random c 1 8
		mknod -m 0666 /dev/urandom c 1 9
		mknod -m 0666 /dev/tty c 5 0
		mkdir -m 1777 /dev/shm
		ln -s /proc/self/fd /dev/fd
		ln -s /proc/self/fd/0 /dev/stdin
		ln -s /proc/self/fd/1 /dev/stdout
		ln -s /proc/self/fd/2 /dev/stderr
		ln -s "$T/log.sock" /dev/log
		logger -p auth.info "satoken canary test: syslog reaches us"
		for i in $(seq 1 50); do grep -q "syslog reaches us" "$SYSLOG" 2>/dev/null && break; sleep 0.02; done
		grep -q "syslog reaches us" "$SYSLOG" && have_syslog=1
	fi
fi
if [ "$have_syslog" = 1 ]; then
	pass
	AUDIT_SPEC=syslog
else
	loud_skip "no private /dev/log (needs root and mount namespaces): the syslog" \
		"stream is not checked; audit goes to a file instead"
	AUDIT_SPEC=file:$AUDIT
fi

{
	echo "database = $DB"
	echo "socket = $SOCK"
	echo "audit = $AUDIT_SPEC"
	echo "admin_users = root"
	echo "rate_limit = 0"
} >"$CONF"
chmod 0644 "$CONF"
start_daemon || { fail "satokend did not start"; finish; }
ctl group create ci >/dev/null
ctl policy add ci >/dev/null
ctl account create ci --group ci >/dev/null
mint_to "$T/c1" ci --name canary1
mint_to "$T/c2" ci --name canary2 --service imap
mint_to "$T/c3" ci --name canary3
check "three canaries minted" '$(cat "$T"/c1 "$T"/c2 "$T"/c3 | grep -c "^sat_") == 3'
ctl token revoke "$(cut -c5-16 "$T/c3")" >/dev/null
# a wrong secret with the live canary's id, and a password that is not a
# token but holds canary 1's secret (a typo'd paste)
# (with a correct checksum, so it reaches the lookup and the hash)
live=$(cat "$T/c1")
tok_sum <<<"${live:0:20}$([ "${live:20:1}" = x ] && echo y || echo x)${live:21:27}" >"$T/wrong"
{ printf 'hunter2'; cut -c17-48 "$T/c1"; } >"$T/notatoken"
chmod 600 "$T"/c? "$T/wrong" "$T/notatoken"

# ---- PAM with debug: pamtester under pam_wrapper, logging to syslog ----
mkdir "$T/pam.d"
cat >"$T/pam.d/sattest" <<EOS
auth     required $PAM_MODULE conf=$CONF debug
account  required $PAM_MODULE conf=$CONF debug
session  required $PAM_MODULE conf=$CONF debug
EOS
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
: >"$T/outputs"
pt() {
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" PAM_WRAPPER_USE_SYSLOG=1 \
		LD_PRELOAD="${PAMT_PRELOAD:-libpam_wrapper.so}" ASAN_OPTIONS=detect_leaks=0 \
		pamtester -v sattest "$1" authenticate acct_mgmt open_session close_session \
		<"$2" >>"$T/outputs" 2>&1
}
pt ci "$T/c1"; rc_ok=$?
pt ci "$T/wrong"; rc_wrong=$?
pt ci "$T/c3"; rc_revoked=$?
pt root "$T/c1"; rc_other=$?
pt ci "$T/notatoken"; rc_nat=$?
OUT="$rc_ok $rc_wrong $rc_revoked $rc_other $rc_nat"
check "pamtester with debug: canary 1 in, wrong secret, revoked, other user, non-token out" \
	'$rc_ok == 0 && $rc_wrong != 0 && $rc_revoked != 0 && $rc_other != 0 && $rc_nat != 0'

# ---- SASL: the plugin from a private directory ----
mkdir "$T/plugins" "$T/saslconf"
ln -s "$SASL_PLUGIN" "$T/plugins/libsatoken.so"
printf 'mech_list: OAUTHBEARER XOAUTH2\nsatoken_conf: %s\n' "$CONF" >"$T/saslconf/canary.conf"

# core_after_login TOKENFILE MODE ARGS...: one login by canary_login, then
# a core of the process (gcore), stopped after; the result line in OUT,
# the core in $T/core.PID
core_after_login() {
	local tok=$1 fifo=$T/cl.out pid line
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	# a background job's stdin is /dev/null unless redirected
	ASAN_OPTIONS=detect_leaks=0 "$CANARY" "$@" <"$tok" >"$fifo" 2>>"$T/outputs" &
	pid=$!
	exec 7<"$fifo"
	OUT=
	while read -r -t 10 line <&7; do
		[ "$line" = ready ] && break
		OUT=$line
	done
	if [ "$CORES" = 1 ] && gcore -o "$T/core" "$pid" >/dev/null 2>&1; then
		CORE_FILES+=("$T/core.$pid")
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	exec 7<&-
}

# core_memory CORE: the bytes of the core's PT_LOAD segments (the
# process's memory), without its notes (registers, file names)
core_memory() {
	python3 - "$1" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb")
h = f.read(64)
phoff, = struct.unpack_from("<Q", h, 32)
phentsize, phnum = struct.unpack_from("<HH", h, 54)
out = sys.stdout.buffer
for i in range(phnum):
    f.seek(phoff + i * phentsize)
    ptype, _, off, _, _, filesz = struct.unpack("<IIQQQQ", f.read(40))
    if ptype == 1:
        f.seek(off)
        out.write(f.read(filesz))
PY
}

# cores: gcore (gdb) attaches with ptrace; the daemon is not dumpable,
# which only root may override; sanitizer builds map terabytes of shadow
CORES=0
CORE_FILES=()
if ! command -v gcore >/dev/null; then
	loud_skip "gcore (gdb) is not installed: no core files are checked"
elif [ "$(id -u)" != 0 ]; then
	loud_skip "not root: gcore cannot attach to the non-dumpable daemon; no core files are checked"
elif [ "$B" != build ]; then
	loud_skip "a sanitizer build ($B): its shadow memory makes cores huge; cores are checked in the plain build"
else
	CORES=1
fi

printf '{"op":"token.verify","token":"%s","account":"ci"}\n' "$(cat "$T/c1")" |
	"$RAWSOCK" "$SOCK" send >>"$T/outputs" 2>&1
core_after_login "$T/c1" pam "$T/pam.d" sattest ci
check "plain libpam: canary 1 accepted" '$OUT == accepted'
core_after_login "$T/wrong" pam "$T/pam.d" sattest ci
check "plain libpam: the wrong secret refused" '$OUT == refused'
core_after_login "$T/c1" sasl "$T/plugins" "$T/saslconf" canary ci
check "SASL: canary 1 accepted" '$OUT == accepted'
core_after_login "$T/c3" sasl "$T/plugins" "$T/saslconf" canary ci
check "SASL: the revoked canary refused" '$OUT == refused'
if [ "$CORES" = 1 ] && gcore -o "$T/dcore" "$DPID" >/dev/null 2>&1; then
	CORE_FILES+=("$T/dcore.$DPID")
fi
stop_daemon

CANARIES=("$T/c1" "$T/c2" "$T/c3")
if [ "$have_syslog" = 1 ]; then
	check "the modules' debug lines reached syslog" \
		'$(grep -ac "pam_satoken.*auth: " "$SYSLOG") -ge 4'
	check "the wrong secret was decided as one (after the lookup and hash)" \
		'$(grep -ac "reason=bad_secret" "$SYSLOG") -ge 1'
	check "logins and refusals were audited to syslog" \
		'$(grep -ac "outcome=denied" "$SYSLOG") -ge 4 && $(grep -ac "outcome=ok" "$SYSLOG") -ge 2'
	check "the daemon's changes were audited to syslog" '$(grep -ac "action=token.revoke" "$SYSLOG") -ge 1'
	check "no secret in the syslog stream ($(leaks_in "$SYSLOG") of 3)" '$(leaks_in "$SYSLOG") == 0'
fi
check "no secret in any stdout or stderr ($(leaks_in "$T/outputs" "$T/daemon.log"))" \
	'$(leaks_in "$T/outputs" "$T/daemon.log") == 0'
check "no secret in the audit file" '$(leaks_in "$AUDIT") == 0'
if [ "$CORES" = 1 ]; then
	check "cores taken of 4 module logins and the daemon (${#CORE_FILES[@]})" '${#CORE_FILES[@]} == 5'
	# memory only: the core's PT_LOAD segments.  Its notes hold each
	# thread's saved registers, and the vector registers of the thread
	# that last copied a reply may still hold a piece of it (glibc's
	# memcpy moves 32 bytes at a time through them); a register is not
	# a buffer that can be wiped, and the daemon never writes a core
	# itself (not dumpable, RLIMIT_CORE 0): root's gcore is the only way
	for c in "${CORE_FILES[@]}"; do
		core_memory "$c" >"$c.mem"
		check "no secret in the memory of $(basename "$c") ($(leaks_in "$c.mem") of 3)" \
			'$(leaks_in "$c.mem") == 0 && -s "$c.mem"'
	done
	# the instrument works: the token file's bytes, read into a buffer
	# nobody wiped, do show in a core
	python3 -c 'import sys,time; d=open(sys.argv[1]).read(); print("ready", flush=True); time.sleep(60)' "$T/c2" >"$T/py.out" &
	ppid=$!
	for i in $(seq 1 100); do grep -q ready "$T/py.out" 2>/dev/null && break; sleep 0.05; done
	gcore -o "$T/pycore" "$ppid" >/dev/null 2>&1
	kill "$ppid" 2>/dev/null
	core_memory "$T/pycore.$ppid" >"$T/pycore.mem"
	check "control: an unwiped copy is found in a core's memory" '$(leaks_in "$T/pycore.mem") -ge 1'
	rm -f "$T"/core.* "$T"/dcore.* "$T"/pycore.*
fi
finish
