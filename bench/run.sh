#!/bin/bash
# make bench: fills a private satokend through its socket to each size,
# times logins through PAM and SASL against the peers on the same
# machine in alternated rounds, and writes bench/results.txt and
# bench/login-cost.png.  Figures are medians of the rounds; the ratios
# come from the same run.
set -euo pipefail
ROOT=$(pwd)
B=${B:-build}
SIZES=${BENCH_SIZES:-1000 100000 1000000}
ROUNDS=${BENCH_ROUNDS:-5}
ITERS=${BENCH_ITERS:-2000}
BB=$ROOT/$B/bench
OUT=$ROOT/bench
T=$(mktemp -d /tmp/satoken-bench.XXXXXX)
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }

DB=$T/satoken.db SOCK=$T/satokend.sock CONF=$T/satoken.conf
cat >"$CONF" <<CONF
database = $DB
socket = $SOCK
audit = file:$T/audit.log
admin_users = root
rate_limit = 0
max_accounts = 10000000
# the history and own-account runs put up to ~100k live tokens in one
# account; the fill still makes accounts of 100
max_tokens_per_account = 100000
CONF
chmod 0644 "$CONF"
"$ROOT/$B/daemon/satokend" --foreground --config "$CONF" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 200); do grep -qs serving "$T/daemon.log" && break; sleep 0.05; done
ctl() { "$ROOT/$B/cli/satokenctl" --socket "$SOCK" "$@" >/dev/null; }
ctl group create bench
ctl policy add bench

# PAM services (private directory, pam_start_confdir) and a SASL plugin
# directory holding ours and Debian's PLAIN + sasldb
mkdir -p "$T/pam.d" "$T/sasl"
echo "auth required $ROOT/$B/pam/pam_satoken.so conf=$CONF" >"$T/pam.d/satoken"
echo "auth required pam_permit.so" >"$T/pam.d/permit"
SASLSYS=$(pkg-config --variable=libdir libsasl2 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/sasl2
ln -s "$ROOT/$B/sasl/libsatoken.so" "$T/sasl/libsatoken.so"
for p in libplain libsasldb; do ln -s "$SASLSYS/$p.so" "$T/sasl/$p.so"; done

fsync_us=$("$BB/bench_mint" fsync "$T" 200)
log "fdatasync on this disk: $fsync_us us"

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# peers' files for n users, "uK pK", with a 1000-pair sample
peer_files() {
	local n=$1
	awk -v n="$n" 'BEGIN { print "VERSION=3\nformat=print\ntype=hash\nHEADER=END";
		for (i = 1; i <= n; i++) printf " u%d\n p%d\n", i, i; print "DATA=END" }' |
		db_load "$T/userdb-$n.db"
	awk -v n="$n" 'BEGIN { print "VERSION=3\nformat=print\ntype=hash\nHEADER=END";
		for (i = 1; i <= n; i++) printf " u%d\\00bench\\00userPassword\n p%d\n", i, i;
		print "DATA=END" }' | db_load "$T/sasldb-$n.db"
	awk -v n="$n" 'BEGIN { s = n > 1000 ? int(n / 1000) : 1;
		for (i = 1; i <= n; i += s) printf "u%d p%d\n", i, i }' >"$T/peer-pairs"
	echo "auth required pam_userdb.so db=$T/userdb-$n" >"$T/pam.d/userdb"
}

# one variant, one round: prints its p50 in us
run_variant() {
	case $1 in
	permit)  "$BB/bench_pam" "$T/pam.d" permit "$T/peer-pairs" "$ITERS" 1 100 ;;
	satoken) "$BB/bench_pam" "$T/pam.d" satoken "$T/pairs" "$ITERS" 1 100 ;;
	userdb)  "$BB/bench_pam" "$T/pam.d" userdb "$T/peer-pairs" "$ITERS" 1 100 ;;
	oauth)   SATOKEN_CONF=$CONF "$BB/bench_sasl" "$T/sasl" OAUTHBEARER "$T/pairs" "$((ITERS * 5))" 1 200 ;;
	plain)   SASLDB=$T/sasldb-$CUR.db "$BB/bench_sasl" "$T/sasl" PLAIN "$T/peer-pairs" "$((ITERS * 5))" 1 200 ;;
	esac
}

VARIANTS="permit satoken userdb oauth plain"
RES=$T/results.dat
echo "# tokens permit_us satoken_us userdb_us oauth_us plain_us" >"$RES"
: >"$T/pairs"
chmod 0600 "$T/pairs"
acc=0
for n in $SIZES; do
	want=$((n / 100))
	if [ "$want" -gt "$acc" ]; then
		t0=$(date +%s.%N)
		"$BB/bench_mint" fill "$SOCK" "$acc" "$want" 100 8 "$T/pairs"
		t1=$(date +%s.%N)
		log "filled to $n tokens: $(awk -v a="$t0" -v b="$t1" -v k=$(( (want - acc) * 101 )) 'BEGIN { printf "%.0f requests/s", k / (b - a) }')"
		acc=$want
	fi
	CUR=$n
	peer_files "$n"
	declare -A got=()
	for r in $(seq 1 "$ROUNDS"); do
		# alternate the order: a round-robin start per round
		vs=$(echo $VARIANTS | awk -v r="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
		for v in $vs; do
			line=$(run_variant "$v")
			set -- $line
			[ "$4" = 0 ] || log "WARNING: $v at $n: $4 unexpected answers"
			got[$v]="${got[$v]:-} $1"
		done
	done
	row="$n"
	for v in $VARIANTS; do
		row="$row $(echo ${got[$v]} | tr ' ' '\n' | median)"
	done
	echo "$row" >>"$RES"
	log "at $n tokens: $row"
	unset got
done
db_bytes=$(stat -c %s "$DB")
rss_kb=$(awk '/VmRSS/ { print $2 }' "/proc/$DPID/status")

# threads at the largest size
THR=$T/threads.dat
for k in 1 2 8; do
	p=$("$BB/bench_pam" "$T/pam.d" satoken "$T/pairs" $((ITERS / k + 1)) "$k" 20)
	s=$(SATOKEN_CONF=$CONF "$BB/bench_sasl" "$T/sasl" OAUTHBEARER "$T/pairs" $((ITERS * 5 / k + 1)) "$k" 50)
	echo "$k $p $s" >>"$THR"
done

# minting
lat=$("$BB/bench_mint" lat "$SOCK" 300 ml)
MINT=$T/mint.dat
for c in 1 4 16; do
	echo "$c $("$BB/bench_mint" thr "$SOCK" "$c" 3 "mt$c")" >>"$MINT"
done

# history: mint p50 into an account holding DEEP tokens (half expired,
# so retained, half live) against a fresh account each round, alternated
DEEP=${BENCH_DEEP:-100000}
ctl account create deep --group bench
deep_fill=$("$BB/bench_mint" deep "$SOCK" deep "$DEEP" 8)
log "deep account: $DEEP tokens at $deep_fill mints/s"
sleep 1.2	# the ttl-1s half is expired now
HIST=$T/hist.dat
for r in $(seq 1 "$ROUNDS"); do
	ctl account create "fresh$r" --group bench
	if [ $((r % 2)) = 1 ]; then
		f=$("$BB/bench_mint" mlat "$SOCK" "fresh$r" 500 "h$r")
		d=$("$BB/bench_mint" mlat "$SOCK" deep 500 "h$r")
	else
		d=$("$BB/bench_mint" mlat "$SOCK" deep 500 "h$r")
		f=$("$BB/bench_mint" mlat "$SOCK" "fresh$r" 500 "h$r")
	fi
	echo "$f $d" >>"$HIST"
	log "history round $r: fresh p50/p99 $(cut -d' ' -f1-2 <<<"$f"), deep $(cut -d' ' -f1-2 <<<"$d")"
done
# a page of token list, 100 items, at the start and deep in the account
# (through satokenctl: the process start is most of it)
page_ms() {
	local t0 t1 i
	t0=$(date +%s%N)
	for i in 1 2 3 4 5 6 7 8 9 10; do "$ROOT/$B/cli/satokenctl" --socket "$SOCK" --json "$@" >/dev/null; done
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e7 / 100 }'
}
# the cursor is ACCOUNT/PAGE.SLOT, pages of 64 in mint order
deepcur="deep/$(( (DEEP - 200) / 64 )).0"
list_fresh=$(page_ms token list fresh1 --limit 100)
list_deep=$(page_ms token list deep --limit 100 --cursor "$deepcur")
# account.delete takes every token in one request: how long at DEEP
t0=$(date +%s%N)
ndel=$("$ROOT/$B/cli/satokenctl" --socket "$SOCK" --json account delete deep | jq -r .tokens_deleted)
del_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

# 16 clients, each minting into its own account, for OWN_S seconds;
# the store's growth over it, per token
OWN_S=${BENCH_OWN_SECONDS:-60}
own_before=$(stat -c %s "$DB")
own=$("$BB/bench_mint" own "$SOCK" 16 "$OWN_S" own)
own_after=$(stat -c %s "$DB")
log "own accounts: $own"

# logins while 16 clients mint at full rate
"$BB/bench_mint" thr "$SOCK" 16 8 mx >"$T/bg-mint" &
BGP=$!
sleep 1
under=$("$BB/bench_pam" "$T/pam.d" satoken "$T/pairs" 3000 2 10)
wait "$BGP"
bg=$(cat "$T/bg-mint")

# root's latency while three users flood at their rate limit (own daemon)
fair=$(B=$B bash "$ROOT/bench/fair.sh")
# what last-use reporting costs a login (own daemon)
usage=$(B=$B BENCH_ROUNDS=$ROUNDS BENCH_ITERS=$ITERS bash "$ROOT/bench/usage.sh")

host="$(uname -srm), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
{
	echo "satoken make bench, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "machine: $host; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "medians of $ROUNDS alternated rounds ($ITERS PAM / $((ITERS * 5)) SASL logins each), microseconds per login"
	echo
	echo "PAM login (pam_start_confdir + pam_authenticate + pam_end)"
	printf '%10s %10s %10s %10s %12s %12s\n' tokens pam_permit satoken userdb "satoken/floor" "userdb/floor"
	awk 'NR > 1 { printf "%10d %10.1f %10.1f %10.1f %12.2f %12.2f\n", $1, $2, $3, $4, $3 / $2, $4 / $2 }' "$RES"
	awk 'NR == 2 { a = $3 } END { printf "satoken cost at largest / smallest size: %.2f\n", $3 / a }' "$RES"
	echo
	echo "SASL (sasl_server_new + sasl_server_start + sasl_dispose)"
	printf '%10s %12s %12s %10s\n' tokens oauthbearer sasldb_plain ratio
	awk 'NR > 1 { printf "%10d %12.1f %12.1f %10.2f\n", $1, $5, $6, $5 / $6 }' "$RES"
	echo
	echo "threads in one process, at the largest size: logins/s and p99 us"
	printf '%8s %12s %10s %12s %10s\n' threads pam_per_s pam_p99 sasl_per_s sasl_p99
	awk '{ printf "%8d %12d %10.1f %12d %10.1f\n", $1, $4, $3, $8, $7 }' "$THR"
	echo
	echo "minting (token.create, one request in flight per client)"
	echo "fdatasync on the same disk: $fsync_us us"
	set -- $lat
	echo "1 client latency: p50 $2 us, p99 $3 us"
	printf '%8s %12s %10s %10s %8s\n' clients tokens_per_s p50_us p99_us failed
	awk '{ printf "%8d %12d %10.1f %10.1f %8d\n", $1, $2, $3, $4, $5 }' "$MINT"
	echo
	set -- $under
	echo "PAM logins (2 threads) while 16 clients mint: p50 $1 us, p99 $2 us, $4 spurious failures; minting meanwhile: $(echo "$bg" | cut -d' ' -f1) tokens/s"
	echo
	last=$(tail -1 "$RES" | cut -d' ' -f1)
	echo "store: $db_bytes bytes for $last tokens = $((db_bytes / last)) bytes per token (accounts of 100 tokens)"
	echo
	echo "history (token.mint one at a time, 500 per round, medians of $ROUNDS alternated rounds)"
	echo "account holding $DEEP tokens (half expired, half live), filled at $deep_fill mints/s"
	hf=$(cut -d' ' -f1 "$HIST" | median) hd=$(cut -d' ' -f4 "$HIST" | median)
	hfp=$(cut -d' ' -f2 "$HIST" | median) hdp=$(cut -d' ' -f5 "$HIST" | median)
	echo "mint p50: fresh account $hf us, deep $hd us, deep/fresh $(awk -v a="$hf" -v b="$hd" 'BEGIN { printf "%.2f", b / a }') (p99 $hfp / $hdp us)"
	echo "rounds (fresh p50 p99 failed, deep p50 p99 failed):"
	sed 's/^/  /' "$HIST"
	echo "token list --limit 100 through satokenctl: fresh account $list_fresh ms, $((DEEP - 200)) tokens deep $list_deep ms"
	echo "account delete of it: $ndel tokens in $del_ms ms (one request, one commit)"
	set -- $own
	echo "16 clients, each minting into its own account for $OWN_S s: $1 durable mints/s, p50 $2 us, p99 $3 us, $4 failed"
	echo "store growth over it: $((own_after - own_before)) bytes for $5 tokens = $(( (own_after - own_before) / ($5 > 0 ? $5 : 1) )) bytes per token (16 accounts of $(( $5 / 16 )))"
	echo "daemon RSS at $last tokens: $((rss_kb / 1024)) MiB"
	echo
	echo "$fair"
	echo
	echo "$usage"
} >"$OUT/results.txt"
cp "$RES" "$OUT/results.dat"
cat "$OUT/results.txt"

bash "$ROOT/bench/plot.sh"
