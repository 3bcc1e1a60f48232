#!/bin/bash
# A control host while an account that held many tokens drains (make
# bench-controldeep; README "Fleet: the control host"): the sample
# provider, one control satokend; BENCH_TOKENS (default 20000) revoked
# token entries of one account added to the directory directly (the
# control host's follower brings them in), and BENCH_SMALL (default 60)
# small accounts with one revoked token each.  The big account is then
# deleted: its entries are left to the background writer
# (control_bg_step).  Measured: the delete's reply, the latency of the
# small accounts' deletes sent one after the other meanwhile (each a
# directory write of its own), and the seconds until the directory holds
# none of the big account's entries.  One line appended to
# bench/controldeep-results.txt.
. "$(dirname "$0")/../tests/integration/fleet/lib.sh"
B=${B:-build}
SATOKEND=$ROOT/$B/daemon/satokend
SATOKENCTL=$ROOT/$B/cli/satokenctl
N=${BENCH_TOKENS:-20000}
S=${BENCH_SMALL:-60}
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
max_tokens_per_account = 100000
directory = $URI_prov
directory_base = $BASE
directory_bind_dn = cn=control1,ou=hosts,$SUB
directory_password_file = $T/pw.control1
directory_role = control
host_name = control1
EOF2
"$SATOKEND" --foreground --config "$d/satoken.conf" 2>>"$d/satokend.log" &
PIDS+=("$!")
c() { "$SATOKENCTL" --socket "$d/satokend.sock" "$@"; }
for i in $(seq 200); do c group create bench >/dev/null 2>&1 && break; sleep 0.1; done
c policy add bench >/dev/null
c account create deep --group bench >/dev/null
# revoked a minute ago: past use, so the delete leaves them to the writer
python3 - "$SUB" "$(date +%s)" "$N" >"$T/deep.ldif" <<'PY'
import random, string, sys
sub, now, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
b62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
for i in range(n):
    tid = ''.join(random.choice(b62) for _ in range(12))
    print(f"dn: satokenTokenId={tid},ou=tokens,{sub}\nobjectClass: satokenToken\n"
          f"satokenTokenId: {tid}\nsatokenAccount: deep\nsatokenTokenName: t{i}\n"
          f"satokenDigest:: {'A' * 43}=\nsatokenCreatedAt: {now - 100}\n"
          f"satokenExpiresAt: {now + 3600}\nsatokenRevokedAt: {now - 50}\n")
PY
as_root prov ldapadd -f "$T/deep.ldif" >/dev/null
until [ "$(c --json account show deep | jq .tokens)" = "$N" ]; do sleep 0.5; done
for i in $(seq "$S"); do
	c account create "s$i" --group bench >/dev/null
	id=$(c --json token mint "s$i" --name a | jq -r .id)
	c token revoke "$id" >/dev/null
done
count() {
	as_root prov ldapsearch -LLL -b "ou=tokens,$SUB" '(satokenAccount=deep)' 1.1 |
		grep -c '^dn:'
}
t0=${EPOCHREALTIME/./}
c account delete deep --yes >/dev/null || { echo "the delete failed" >&2; exit 1; }
t1=${EPOCHREALTIME/./}
fails=0
: >"$T/lat"
for i in $(seq "$S"); do
	a=${EPOCHREALTIME/./}
	c account delete "s$i" --yes >/dev/null || fails=$((fails + 1))
	b=${EPOCHREALTIME/./}
	echo $(((b - a) / 1000)) >>"$T/lat"
done
left=$(count)
while [ "$(count)" != 0 ]; do sleep 0.5; done
t2=${EPOCHREALTIME/./}
small=$(sort -n "$T/lat" | awk '{ v[NR] = $1 } END {
	printf "p50 %d ms, p90 %d ms, max %d ms", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.999)], v[NR] }')
line="$(date -u +%Y-%m-%dT%H:%MZ) load=$(cut -d' ' -f1 /proc/loadavg) tokens=$N delete_reply_ms=$(((t1 - t0) / 1000)) small_deletes_meanwhile: $small, $fails failed, $left entries still to go after them; drained_s=$(((t2 - t0) / 1000000)) commit=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
echo "$line"
echo "$line" >>"$ROOT/bench/controldeep-results.txt"
