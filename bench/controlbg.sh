#!/bin/bash
# A control host's own purge reaching the directory (make bench-controlbg;
# README "Fleet: the control host"): the sample provider, one control
# satokend with retain_days = 0; BENCH_TOKENS (default 2000) minted
# through it into one account, every other one with ttl 1 s; a SIGHUP
# then purges the expired half, which the loop writes to the directory
# (control_bg_step).  Measured: seconds from the SIGHUP until the
# directory holds only the live half, and the latency of mints sent one
# after the other meanwhile (each a directory write of its own, on the
# loop the flush also holds), beside the same mints with nothing to
# flush.  One line appended to bench/controlbg-results.txt.
. "$(dirname "$0")/../tests/integration/fleet/lib.sh"
B=${B:-build}
BB=$ROOT/$B/bench
SATOKEND=$ROOT/$B/daemon/satokend
SATOKENCTL=$ROOT/$B/cli/satokenctl
N=${BENCH_TOKENS:-2000}
PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	cleanup
}
trap stop_all EXIT

mkdir -p "$T/prov"
sample_conf provider.conf prov >"$T/prov/slapd.conf"
start_slapd prov || exit 1
host_secret control1
as_root prov ldapadd -f "$LDAPDIR/base.ldif" >/dev/null
as_root prov ldappasswd -T "$T/pw.control1" "cn=control1,ou=hosts,$SUB" >/dev/null
as_root prov ldapadd >/dev/null <<EOF2
dn: cn=key,$SUB
objectClass: satokenKey
cn: key
satokenHmacKey:: $(head -c 32 /dev/urandom | base64 -w0)
EOF2

d=$T/control1
mkdir -p "$d"
chmod 755 "$d"
cat >"$d/satoken.conf" <<EOF2
database = $d/satoken.db
socket = $d/satokend.sock
audit = file:$d/audit.log
admin_users = $(id -u)
rate_limit = 0
retain_days = 0
max_tokens_per_account = 100000
directory = $URI_prov
directory_base = $BASE
directory_bind_dn = cn=control1,ou=hosts,$SUB
directory_password_file = $T/pw.control1
directory_role = control
host_name = control1
EOF2
"$SATOKEND" --foreground --config "$d/satoken.conf" 2>>"$d/satokend.log" &
PID=$!
PIDS+=("$PID")
sock=$d/satokend.sock
for i in $(seq 200); do
	"$SATOKENCTL" --socket "$sock" group create bench >/dev/null 2>&1 && break
	sleep 0.1
done
"$SATOKENCTL" --socket "$sock" policy add bench >/dev/null
"$SATOKENCTL" --socket "$sock" account create deep --group bench >/dev/null
"$SATOKENCTL" --socket "$sock" account create lat --group bench >/dev/null

count() {
	as_root prov ldapsearch -LLL -b "ou=tokens,$SUB" '(satokenAccount=deep)' 1.1 |
		grep -c '^dn:'
}
"$BB/bench_mint" deep "$sock" deep "$N" 4 >/dev/null
before=$(count)
base=$("$BB/bench_mint" mlat "$sock" lat 200 a)
sleep 1.5
t0=$(date +%s.%N)
kill -HUP "$PID"
"$BB/bench_mint" mlat "$sock" lat 200 b >"$T/during" &
mp=$!
want=$((N / 2))
while [ "$(count)" -gt "$want" ]; do sleep 0.05; done
t1=$(date +%s.%N)
wait "$mp"
during=$(cat "$T/during")
secs=$(echo "$t1 - $t0" | bc)
after=$(count)
load=$(cut -d' ' -f1 /proc/loadavg)
# mint latencies: p50_us p99_us failures
line="$(date -u +%Y-%m-%dT%H:%MZ) load=$load tokens=$N directory_before=$before after=$after purge_to_directory_s=$secs mints_idle: $base mints_during_flush: $during"
echo "$line"
echo "$line" >>"$ROOT/bench/controlbg-results.txt"
