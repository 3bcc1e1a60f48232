#!/bin/bash
# Logins on a follower while it applies a stream of changes (make
# bench-churn; README "Fleet"; issue 17: "a follower applying 1,000
# changes/s: PAM login cost ≤ 0.7× the pam_permit floor and 0 spurious
# failures").  The sample provider, one satokend follower f1, BENCH_LIVE
# (default 200) live tokens to log in with and BENCH_CHURN (default 2000)
# others the writers change: BENCH_WRITERS (default 2) ldapmodify loops,
# as the control identity, replacing each one's description in turn, as
# fast as slapd takes them, for the whole of the loaded phase.  bench_pam alternates pam_permit and
# pam_satoken login by login (the same load on both), BENCH_ITERS logins
# each (default 20000), once with the directory quiet and once under the
# stream; the stream's rate is what slapd acknowledged, and the
# follower is checked to hold the last change at the end.  One line
# appended to bench/churn-results.txt.
. "$(dirname "$0")/../tests/integration/fleet/lib.sh"
B=${B:-build}
BB=$ROOT/$B/bench
SATOKEND=$ROOT/$B/daemon/satokend
SATOKENCTL=$ROOT/$B/cli/satokenctl
FLEETTOK=$ROOT/$B/tests/integration/fleet/fleettok
NLIVE=${BENCH_LIVE:-200}
NCH=${BENCH_CHURN:-2000}
ITERS=${BENCH_ITERS:-20000}
NW=${BENCH_WRITERS:-2}
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
host_secret f1
as_root prov ldapadd -f "$LDAPDIR/base.ldif" >/dev/null
as_root prov ldappasswd -T "$T/pw.control1" "cn=control1,ou=hosts,$SUB" >/dev/null
head -c 32 /dev/urandom >"$T/fleet.key"
printf 'dn: cn=key,%s\nobjectClass: satokenKey\ncn: key\nsatokenHmacKey:: %s\n\ndn: cn=f1,ou=hosts,%s\nobjectClass: satokenHost\ncn: f1\n' \
	"$SUB" "$(base64 -w0 <"$T/fleet.key")" "$SUB" | as_root prov ldapadd >/dev/null
as_root prov ldappasswd -T "$T/pw.f1" "cn=f1,ou=hosts,$SUB" >/dev/null
now=$(date +%s)
: >"$T/pairs"
: >"$T/churn.ldif"
{
	printf 'dn: satokenName=svc,ou=groups,%s\nobjectClass: satokenGroup\nsatokenName: svc\nsatokenCreatedAt: %s\n\n' "$SUB" "$now"
	for a in ci churn; do
		printf 'dn: satokenName=%s,ou=accounts,%s\nobjectClass: satokenAccount\nsatokenName: %s\nsatokenSerial: 1f2e3d4c5b6a7988\nsatokenRole: viewer\nsatokenEnabled: TRUE\nsatokenCreatedAt: %s\nsatokenMemberOf: svc\n\n' "$a" "$SUB" "$a" "$now"
	done
	tokent() {	# ID ACCOUNT N DIGEST
		printf 'dn: satokenTokenId=%s,ou=tokens,%s\nobjectClass: satokenToken\nsatokenTokenId: %s\nsatokenAccount: %s\nsatokenTokenName: t%s\nsatokenDigest:: %s\nsatokenCreatedAt: %s\nsatokenExpiresAt: %s\n\n' \
			"$1" "$SUB" "$1" "$2" "$3" "$4" "$now" "$((now + 86400))"
	}
	for i in $(seq "$NLIVE"); do
		out=$("$FLEETTOK" "$T/fleet.key" "$T/tok")
		printf 'ci %s\n' "$(cat "$T/tok")" >>"$T/pairs"
		tokent "${out%% *}" ci "$i" "${out#* }"
	done
	i=0
	"$FLEETTOK" "$T/fleet.key" "$T/tok" "$NCH" | while read -r id dg; do
		i=$((i + 1))
		tokent "$id" churn "c$i" "$dg"
		printf 'dn: satokenTokenId=%s,ou=tokens,%s\nchangetype: modify\nreplace: description\ndescription: churn %s\n\n' \
			"$id" "$SUB" "$i" >>"$T/churn.ldif"
		echo "$id" >"$T/churn.last"
	done
} | as_host "$P" control1 ldapadd >/dev/null || { echo "bench-churn: the directory did not take the tokens" >&2; exit 1; }
printf 'dn: cn=policy,%s\nchangetype: modify\nadd: satokenPolicyGroup\nsatokenPolicyGroup: svc\n' "$SUB" |
	as_host "$P" control1 ldapmodify >/dev/null
chmod 0600 "$T/pairs"

d=$T/f1
mkdir -p "$d" "$T/pam.d"
cat >"$d/satoken.conf" <<EOF
database = $d/satoken.db
socket = $d/satokend.sock
audit = file:$d/audit.log
directory = $P
directory_base = $BASE
directory_bind_dn = cn=f1,ou=hosts,$SUB
directory_password_file = $T/pw.f1
host_name = f1
EOF
chmod 0644 "$d/satoken.conf"
echo "auth required $ROOT/$B/pam/pam_satoken.so conf=$d/satoken.conf" >"$T/pam.d/satoken"
echo "auth required pam_permit.so" >"$T/pam.d/permit"
"$SATOKEND" --foreground --config "$d/satoken.conf" 2>>"$d/satokend.log" &
PIDS+=($!)
last=$(cat "$T/churn.last")
for _ in $(seq 600); do
	"$SATOKENCTL" --socket "$d/satokend.sock" token show "$last" >/dev/null 2>&1 && break
	sleep 0.1
done
"$SATOKENCTL" --socket "$d/satokend.sock" token show "$last" >/dev/null ||
	{ echo "bench-churn: f1 did not sync" >&2; exit 1; }

# pass ITERS: "p50_permit_us p50_satoken_us failures"
pass() { "$BB/bench_pam" "$T/pam.d" permit,satoken "$T/pairs" "$1" 1 100; }
quiet=$(pass "$ITERS") || exit 1
# the stream: the modifications again and again, counted as slapd
# acknowledges them (ldapmodify prints a line for each)
: >"$T/acked"
WPS=()
for w in $(seq "$NW"); do
	(
		r=0
		while :; do
			r=$((r + 1))
			sed "s/^description: churn \(.*\)/description: round $w.$r \1/" "$T/churn.ldif" |
				as_host "$P" control1 ldapmodify -c 2>/dev/null |
				grep --line-buffered '^modifying entry' >>"$T/acked"
		done
	) &
	WPS+=($!)
done
sleep 1
t0=$(date +%s%N)
a0=$(wc -l <"$T/acked")
loaded=$(pass "$ITERS") || exit 1
t1=$(date +%s%N)
a1=$(wc -l <"$T/acked")
kill "${WPS[@]}" 2>/dev/null
wait "${WPS[@]}" 2>/dev/null
pkill -f "ldapmodify -x -H $P" 2>/dev/null
rate=$(awk -v a="$a0" -v b="$a1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d", (b - a) / ((t1 - t0) / 1e9) }')
# the follower holds the stream's last change (a full round: what it
# applied is what the directory has)
desc=$(as_host "$P" control1 ldapsearch -LLL -b "satokenTokenId=$last,ou=tokens,$SUB" -s base description |
	sed -n 's/^description: //p')
ok=
for _ in $(seq 300); do
	got=$("$SATOKENCTL" --socket "$d/satokend.sock" --json token show "$last" | jq -r .description)
	[ "$got" = "$desc" ] && { ok=yes; break; }
	sleep 0.1
done
read -r qp qs qf <<<"$quiet"
read -r lp ls lf <<<"$loaded"
line="$(date -u +%FT%TZ) live=$NLIVE churn=$NCH writers=$NW logins=$ITERS each; quiet: permit ${qp} us, satoken ${qs} us, $(awk -v a="$qs" -v b="$qp" 'BEGIN { printf "%.2f", a / b }')x floor, failures $qf; under ${rate} changes/s: permit ${lp} us, satoken ${ls} us, $(awk -v a="$ls" -v b="$lp" 'BEGIN { printf "%.2f", a / b }')x floor, failures $lf; follower caught up: ${ok:-NO}"
echo "$line"
echo "$line" >>"$ROOT/bench/churn-results.txt"
