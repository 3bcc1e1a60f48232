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
PAM_MODULE=$ROOT/$B/pam/pam_satoken.so
. "$ROOT/tests/integration/fleet/hosts.sh"
N=${BENCH_TOKENS:-20000}
S=${BENCH_SMALL:-60}

start_fleet_provider control1 "" || exit 1
host_start control1 control "max_tokens_per_account = 100000" || exit 1
c() { ctl control1 "$@"; }
until c group create bench >/dev/null 2>&1; do sleep 0.1; done
c policy add bench >/dev/null
c account create deep --group bench >/dev/null
# revoked a minute ago: past use, so the delete leaves them to the writer
revoked_tokens_ldif deep "$N" >"$T/deep.ldif"
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
