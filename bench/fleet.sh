#!/bin/bash
# make bench-fleet: revocation on a fleet, on one machine.  The sample
# provider (etc/ldap/provider.conf), BENCH_FOLLOWERS satokend followers
# (default 5), BENCH_REVOCATIONS tokens (default 200) revoked one after
# another in the directory as the control identity; bench_fleet times
# each until every follower's local store refuses it, read as the PAM
# module reads it.  Then follower f1 is stopped while BENCH_CATCHUP
# tokens (default 1000) are added, and restarted once the other
# followers hold them all: the time from its start until it holds the
# last one (and, beside it, how long the others took).  Then the directory is stopped BENCH_OUTAGE_S
# (default 60) while every follower logs 20 live tokens in, ten rounds a
# second, and a revocation right after it is back is timed like the
# others.  Last, BENCH_REFRESH tokens (default 100,000) are added with
# the followers down, f1's store is removed, and f1 is timed to a full
# refresh; its RSS and store size are taken there.  Appends its line to
# bench/fleet-results.txt and redraws bench/fleet.png (fleet-plot.sh).
# With BENCH_HUBS=H (default 0), H sample hubs (etc/ldap/hub.conf)
# replicate the provider and the followers are spread over them, as a
# fleet too big for one provider would be; "the directory" stopped is
# then the provider and the hubs.  SATOKEND_FLEET_POSITION_MS (default
# 1000) reaches the followers: how often each writes its position.
# BENCH_FLEET_TRACE=FILE: every revocation's time, in order (bench_fleet.c;
# the first revocation after the outage is its own series of one).
# BENCH_SATOKEND=PATH: the followers run that satokend (another build, to
# compare two in alternated runs); the line still names this commit.
. "$(dirname "$0")/../tests/integration/fleet/lib.sh"
B=${B:-build}
NF=${BENCH_FOLLOWERS:-5}
NH=${BENCH_HUBS:-0}
NR=${BENCH_REVOCATIONS:-200}
NLIVE=20
SATOKEND=${BENCH_SATOKEND:-$ROOT/$B/daemon/satokend}
FLEETTOK=$ROOT/$B/tests/integration/fleet/fleettok
PROBE=$ROOT/$B/bench/bench_fleet
[ -x "$SATOKEND" ] && [ -x "$PROBE" ] && [ -x "$FLEETTOK" ] || { echo "bench-fleet: build first (make bench-fleet)" >&2; exit 1; }
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
P=$URI_prov
host_secret control1
as_root prov ldapadd -f "$LDAPDIR/base.ldif" >/dev/null
as_root prov ldappasswd -T "$T/pw.control1" "cn=control1,ou=hosts,$SUB" >/dev/null
head -c 32 /dev/urandom >"$T/fleet.key"
{
	printf 'dn: cn=key,%s\nobjectClass: satokenKey\ncn: key\nsatokenHmacKey:: %s\n\n' \
		"$SUB" "$(base64 -w0 <"$T/fleet.key")"
	for n in $(seq "$NF"); do
		printf 'dn: cn=f%s,ou=hosts,%s\nobjectClass: satokenHost\ncn: f%s\n\n' "$n" "$SUB" "$n"
	done
} | as_root prov ldapadd >/dev/null
for n in $(seq "$NF"); do
	host_secret "f$n"
	as_root prov ldappasswd -T "$T/pw.f$n" "cn=f$n,ou=hosts,$SUB" >/dev/null
done
now=$(date +%s)
{
	printf 'dn: satokenName=svc,ou=groups,%s\nobjectClass: satokenGroup\nsatokenName: svc\nsatokenCreatedAt: %s\n\n' "$SUB" "$now"
	printf 'dn: satokenName=ci,ou=accounts,%s\nobjectClass: satokenAccount\nsatokenName: ci\nsatokenSerial: 1f2e3d4c5b6a7988\nsatokenRole: viewer\nsatokenEnabled: TRUE\nsatokenCreatedAt: %s\nsatokenMemberOf: svc\n\n' "$SUB" "$now"
	: >"$T/pairs"
	: >"$T/live"
	for i in $(seq "$((NR + NLIVE))"); do
		out=$("$FLEETTOK" "$T/fleet.key" "$T/tok")
		if [ "$i" -le "$NR" ]; then
			printf '%s %s\n' "${out%% *}" "$(cat "$T/tok")" >>"$T/pairs"
		else
			printf '%s %s\n' "${out%% *}" "$(cat "$T/tok")" >>"$T/live"
		fi
		printf 'dn: satokenTokenId=%s,ou=tokens,%s\nobjectClass: satokenToken\nsatokenTokenId: %s\nsatokenAccount: ci\nsatokenTokenName: t%s\nsatokenDigest:: %s\nsatokenCreatedAt: %s\nsatokenExpiresAt: %s\n\n' \
			"${out%% *}" "$SUB" "${out%% *}" "$i" "${out#* }" "$now" "$((now + 86400))"
	done
} | as_host "$P" control1 ldapadd >/dev/null
printf 'dn: cn=policy,%s\nchangetype: modify\nadd: satokenPolicyGroup\nsatokenPolicyGroup: svc\n' "$SUB" |
	as_host "$P" control1 ldapmodify >/dev/null
chmod 0600 "$T/pairs" "$T/live"
PROV_PORT=$PORT

HUB_PORT=()
HUB_URI=()
HUB_PIDS=()
if [ "$NH" -gt 0 ]; then
	host_secret replicator
	as_root prov ldappasswd -T "$T/pw.replicator" "cn=replicator,$SUB" >/dev/null
	for h in $(seq "$NH"); do
		mkdir -p "$T/hub$h"
		sample_conf hub.conf "hub$h" \
			"s|ldap://provider.example.org/|$P|g" \
			"s|REPLICATOR-SECRET|$(cat "$T/pw.replicator")|g" >"$T/hub$h/slapd.conf"
		chmod 0600 "$T/hub$h/slapd.conf"
		start_slapd "hub$h" || exit 1
		HUB_PORT[h]=$PORT
		v=URI_hub$h
		HUB_URI[h]=${!v}
		v=PID_hub$h
		HUB_PIDS+=("${!v}")
	done
fi
# where follower N reads: the provider, or its hub
dir_of() {
	if [ "$NH" -gt 0 ]; then echo "${HUB_URI[$((($1 - 1) % NH + 1))]}"; else echo "$P"; fi
}

confs=()
for n in $(seq "$NF"); do
	d=$T/f$n
	mkdir -p "$d"
	cat >"$d/satoken.conf" <<EOF
database = $d/satoken.db
socket = $d/satokend.sock
audit = file:$d/audit.log
directory = $(dir_of "$n")
directory_base = $BASE
directory_bind_dn = cn=f$n,ou=hosts,$SUB
directory_password_file = $T/pw.f$n
host_name = f$n
EOF
	chmod 0644 "$d/satoken.conf"
	"$SATOKEND" --foreground --config "$d/satoken.conf" 2>>"$d/satokend.log" &
	PIDS+=($!)
	confs+=("$d/satoken.conf")
done
last=$(tail -1 "$T/pairs" | cut -d' ' -f1)
for n in $(seq "$NF"); do
	ok=
	for _ in $(seq 600); do
		"$ROOT/$B/cli/satokenctl" --socket "$T/f$n/satokend.sock" \
			token show "$last" >/dev/null 2>&1 && { ok=1; break; }
		sleep 0.1
	done
	[ -n "$ok" ] || { echo "bench-fleet: follower f$n did not sync:" >&2; tail -3 "$T/f$n/satokend.log" >&2; exit 1; }
done
# cpu_ms PID...: user+system CPU the processes used so far, in ms
cpu_ms() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + v))
	done
	echo $((t * 1000 / $(getconf CLK_TCK)))
}
sleep 2	# the start's own host writes settle
s0=$(cpu_ms "$PID_prov")
f0=$(cpu_ms "${PIDS[@]}")
h0=$(cpu_ms "${HUB_PIDS[@]}")
line=$("$PROBE" "$P" "cn=control1,ou=hosts,$SUB" "$T/pw.control1" "$SUB" \
	"$T/pairs" "${confs[@]}") || exit 1
read -r nl nf p50 p99 max misses <<<"$line"
# what one revocation cost the provider, and all followers together
# (their position writes included): the scaling model's inputs
slapd_ms=$((($(cpu_ms "$PID_prov") - s0) * 1000 / (nl > 0 ? nl : 1)))
fol_ms=$((($(cpu_ms "${PIDS[@]}") - f0) * 1000 / (nl > 0 ? nl : 1)))
hub_ms=$((($(cpu_ms "${HUB_PIDS[@]}") - h0) * 1000 / (nl > 0 ? nl : 1)))
cpu="hubs=$NH slapd_cpu_us_per_revocation=$slapd_ms hubs_cpu_us_per_revocation=$hub_ms followers_cpu_us_per_revocation=$fol_ms"
# said now: a catch-up that fails below must not lose these
echo "revocations=$nl followers=$nf refused_everywhere_p50_ms=$p50 p99_ms=$p99 max_ms=$max misses=$misses $cpu"

# catch-up: f1 down while BENCH_CATCHUP tokens are added, then restarted;
# the time from its start until it holds the last one
NC=${BENCH_CATCHUP:-1000}
kill "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
now=$(date +%s)
for i in $(seq "$NC"); do
	out=$("$FLEETTOK" "$T/fleet.key" "$T/tok")
	printf 'dn: satokenTokenId=%s,ou=tokens,%s\nobjectClass: satokenToken\nsatokenTokenId: %s\nsatokenAccount: ci\nsatokenTokenName: c%s\nsatokenDigest:: %s\nsatokenCreatedAt: %s\nsatokenExpiresAt: %s\n\n' \
		"${out%% *}" "$SUB" "${out%% *}" "$i" "${out#* }" "$now" "$((now + 86400))"
done >"$T/catchup.ldif"
last=$(sed -n 's/^satokenTokenId: //p' "$T/catchup.ldif" | tail -1)
as_host "$P" control1 ldapadd -f "$T/catchup.ldif" >/dev/null
# the other followers apply the same changes at once, on the same cores:
# f1 restarts once they hold the last, so that its figure is its own
# catch-up, not theirs (it took 0.4 to 65 s with them still at it)
t0=$(date +%s%N)
for i in $(seq 2 "$NF"); do
	until "$ROOT/$B/cli/satokenctl" --socket "$T/f$i/satokend.sock" token show "$last" >/dev/null 2>&1; do
		sleep 0.1
		if [ $((($(date +%s%N) - t0) / 1000000000)) -ge 600 ]; then
			echo "bench-fleet: f$i did not apply the additions in 600 s" >&2
			break 2
		fi
	done
done
settled_ms=$((($(date +%s%N) - t0) / 1000000))
t0=$(date +%s%N)
"$SATOKEND" --foreground --config "$T/f1/satoken.conf" 2>>"$T/f1/satokend.log" &
PIDS[0]=$!
catchup_ms=
until "$ROOT/$B/cli/satokenctl" --socket "$T/f1/satokend.sock" token show "$last" >/dev/null 2>&1; do
	sleep 0.02
	if [ $((($(date +%s%N) - t0) / 1000000000)) -ge 120 ]; then
		echo "bench-fleet: no catch-up in 120 s" >&2
		catchup_ms=">120000"
		break
	fi
done
[ -n "$catchup_ms" ] || catchup_ms=$((($(date +%s%N) - t0) / 1000000))
echo "catchup_${NC}_changes_ms=$catchup_ms others_applied_ms=$settled_ms"

# the directory down: logins on every follower from its copy alone, then
# the first revocation once it is back (from its write: the followers are
# still reconnecting)
NO=${BENCH_OUTAGE_S:-60}
kill "$PID_prov" "${HUB_PIDS[@]}"
wait "$PID_prov" "${HUB_PIDS[@]}" 2>/dev/null
read -r ologins orefused <<<"$("$PROBE" check "$NO" "$T/live" "${confs[@]}")"
start_slapd prov "$PROV_PORT" || exit 1
HUB_PIDS=()
for h in $(seq "$NH"); do
	start_slapd "hub$h" "${HUB_PORT[h]}" || exit 1
	v=PID_hub$h
	HUB_PIDS+=("${!v}")
done
head -1 "$T/live" >"$T/first"
read -r _ _ after_ms _ _ after_miss <<<"$("$PROBE" "$P" "cn=control1,ou=hosts,$SUB" \
	"$T/pw.control1" "$SUB" "$T/first" "${confs[@]}")"
echo "outage_s=$NO logins=$ologins refused=$orefused first_revocation_after_ms=$after_ms misses=$after_miss"

# a full refresh: BENCH_REFRESH tokens more with every follower down, f1
# started without its store
NB=${BENCH_REFRESH:-100000}
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
PIDS=()
now=$(date +%s)
"$FLEETTOK" "$T/fleet.key" "$T/tok" "$NB" | awk -v sub_="$SUB" -v now="$now" '{
	printf "dn: satokenTokenId=%s,ou=tokens,%s\nobjectClass: satokenToken\nsatokenTokenId: %s\nsatokenAccount: ci\nsatokenTokenName: r%d\nsatokenDigest:: %s\nsatokenCreatedAt: %s\nsatokenExpiresAt: %s\n\n", $1, sub_, $1, NR, $2, now, now + 86400
	last = $1 } END { print last > "/dev/stderr" }' >"$T/refresh.ldif" 2>"$T/refresh.last"
last=$(cat "$T/refresh.last")
t0=$(date +%s%N)
as_host "$P" control1 ldapadd -f "$T/refresh.ldif" >/dev/null
load_s=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
rm -f "$T"/f1/satoken.db*
t0=$(date +%s%N)
"$SATOKEND" --foreground --config "$T/f1/satoken.conf" 2>>"$T/f1/satokend.log" &
PIDS=($!)
refresh_ms=
until "$ROOT/$B/cli/satokenctl" --socket "$T/f1/satokend.sock" token show "$last" >/dev/null 2>&1; do
	sleep 0.05
	if [ $((($(date +%s%N) - t0) / 1000000000)) -ge 300 ]; then
		refresh_ms=">300000"
		break
	fi
done
[ -n "$refresh_ms" ] || refresh_ms=$((($(date +%s%N) - t0) / 1000000))
ntok=$((NR + NLIVE + NC + NB))
rss_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/${PIDS[0]}/status")
store_b=$(cat "$T"/f1/satoken.db* | wc -c)
echo "full_refresh_tokens=$ntok ms=$refresh_ms (directory loaded in ${load_s} s) rss_kib=$rss_kib store_bytes=$store_b"

res="$(date -u +%F) revocations=$nl followers=$nf position_ms=${SATOKEND_FLEET_POSITION_MS:-1000} refused_everywhere_p50_ms=$p50 p99_ms=$p99 max_ms=$max misses=$misses $cpu catchup_${NC}_changes_ms=$catchup_ms others_applied_ms=$settled_ms outage_s=$NO outage_logins=$ologins outage_refused=$orefused first_revocation_after_ms=$after_ms full_refresh_${ntok}_tokens_ms=$refresh_ms follower_rss_kib=$rss_kib follower_store_bytes=$store_b ($(nproc) cores) commit=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
echo "$res"
echo "$res" >>"$ROOT/bench/fleet-results.txt"
bash "$ROOT/bench/fleet-plot.sh" || echo "bench: the fleet chart failed; the figures above stand" >&2
