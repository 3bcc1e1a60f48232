#!/bin/bash
# Logins from many threads in one process, through the real libpam and
# libsasl2, with the module and plugin built under ThreadSanitizer.
#   threads.sh BUILD_DIR THREADS ITERATIONS
# Passes when TSan reports nothing and the per-case answers of the
# threaded run equal those of a serial run and the expectations.
set -u
B=$1 THREADS=$2 ITERS=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "$top/$B" 2>/dev/null && pwd || echo "$B")
pass=0 failc=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { failc=$((failc + 1)); echo "FAIL - $*"; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"
fix="$B/tests/fixture/satfix"
db="$T/satoken.db"
"$fix" "$db" init
"$fix" "$db" group ci
"$fix" "$db" group ops
"$fix" "$db" account svc -g ci
"$fix" "$db" account other -g ci
"$fix" "$db" account outsider -g ops
"$fix" "$db" account off -g ci -d
"$fix" "$db" policy ci
tok_ok=$("$fix" "$db" mint svc a)
tok_rev=$("$fix" "$db" mint svc b)
tok_other=$("$fix" "$db" mint other c)
tok_out=$("$fix" "$db" mint outsider d)
tok_off=$("$fix" "$db" mint off e)
tok_smtp=$("$fix" "$db" mint svc f -s smtp)
"$fix" "$db" revoke "${tok_rev:4:12}"
# the same id with another secret and a valid checksum: bad_secret
tok_bad=$(python3 - "$tok_ok" <<'PY'
import sys, zlib
t = sys.argv[1]
a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
body = t[:16] + "".join(a[(a.index(c) + 1) % 62] for c in t[16:48])
crc = zlib.crc32(body.encode())
s = ""
for _ in range(6):
    s = a[crc % 62] + s
    crc //= 62
print(body + s)
PY
)
cat > "$T/cases" <<EOF2
svc $tok_ok ok
svc $tok_rev no
svc $tok_bad no
svc $tok_other no
outsider $tok_out no
off $tok_off no
svc $tok_smtp no
svc hunter2 no
EOF2
cat > "$T/satoken.conf" <<EOF2
database = $db
audit = file:$T/audit.log
lock_timeout_ms = 10000
EOF2
mkdir -p "$T/pam" "$T/sasl" "$T/conf"
echo "auth required $B/pam/pam_satoken.so conf=$T/satoken.conf" > "$T/pam/satoken-threads"
cp "$B/sasl/libsatoken.so" "$T/sasl/"
printf 'mech_list: OAUTHBEARER\nsatoken_conf: %s/satoken.conf\n' "$T" > "$T/conf/satoken-threads.conf"

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0 suppressions=$top/tests/stress/tsan.supp ${TSAN_OPTIONS:-}"
"$B/tests/stress/threads" "$T" 1 1 > "$T/serial.out" 2> "$T/serial.err"
rc=$?
[ $rc -eq 0 ] && ok "serial run: every case answered as expected" || { bad "serial run exit $rc"; cat "$T/serial.out" "$T/serial.err" | head -40; }
start=$(date +%s)
"$B/tests/stress/threads" "$T" "$THREADS" "$ITERS" > "$T/threads.out" 2> "$T/threads.err"
rc=$?
end=$(date +%s)
logins=$(( THREADS * ITERS * $(wc -l < "$T/cases") ))
[ $rc -eq 0 ] && ok "$THREADS threads x $ITERS rounds: $logins PAM + $logins SASL logins in $((end - start)) s, all as expected" || { bad "threaded run exit $rc (66: ThreadSanitizer report)"; head -60 "$T/threads.err"; }
if grep -q "ThreadSanitizer" "$T/threads.err" "$T/serial.err"; then
	bad "ThreadSanitizer reported"; grep -m5 -A12 "WARNING: ThreadSanitizer" "$T/threads.err"
else
	ok "no ThreadSanitizer report"
fi
cmp -s "$T/serial.out" "$T/threads.out" && ok "threaded answers identical to the serial run" || { bad "answers differ"; diff "$T/serial.out" "$T/threads.out"; }
if grep -q "${tok_ok:16:32}" "$T/audit.log" "$T/threads.err" "$T/threads.out"; then bad "a secret reached a log"; else ok "no secret in the audit log or output"; fi
lines=$(wc -l < "$T/audit.log")
[ "$lines" -ge $(( 2 * logins )) ] && ok "one audit line per attempt ($lines)" || bad "audit lines $lines < $(( 2 * logins ))"
echo "$pass passed, $failc failed"
[ $failc -eq 0 ]
