#!/bin/bash
# A/B: a base build against this tree (NEW, BASE: build directories),
# alternated rounds on one store; each variant's logins against its own
# satokend (a module trusts only the counter its own daemon keeps).
set -u
NEW=${NEW:-build} BASE=${BASE:?a build of the base commit} BB=$NEW/bench
ROUNDS=${ROUNDS:-5}
T=$(mktemp -d /tmp/satoken-ab.XXXXXX)
DPID=
stop() { [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; DPID=; }
trap 'stop; rm -rf "$T"' EXIT
DB=$T/satoken.db SOCK=$T/satokend.sock CONF=$T/satoken.conf
cat >"$CONF" <<CONF
database = $DB
socket = $SOCK
audit = file:$T/audit.log
admin_users = root
rate_limit = 0
max_accounts = 10000000
max_tokens_per_account = 100000
CONF
chmod 0644 "$CONF"
start() { "$1/daemon/satokend" --foreground --config "$CONF" 2>"$T/daemon.log" & DPID=$!
	for _ in $(seq 1 200); do grep -qs serving "$T/daemon.log" && break; sleep 0.05; done; : >"$T/daemon.log"; }
start $NEW
$NEW/cli/satokenctl --socket "$SOCK" group create bench >/dev/null
$NEW/cli/satokenctl --socket "$SOCK" policy add bench >/dev/null
: >"$T/pairs"; chmod 0600 "$T/pairs"
$BB/bench_mint fill "$SOCK" 0 100 100 8 "$T/pairs"
mkdir -p "$T/pam.d" "$T/sasl-new" "$T/sasl-base"
echo "auth required $NEW/pam/pam_satoken.so conf=$CONF" >"$T/pam.d/new"
echo "auth required $BASE/pam/pam_satoken.so conf=$CONF" >"$T/pam.d/base"
ln -s "$NEW/sasl/libsatoken.so" "$T/sasl-new/libsatoken.so"
ln -s "$BASE/sasl/libsatoken.so" "$T/sasl-base/libsatoken.so"
for r in $(seq 1 "${LROUNDS:-$ROUNDS}"); do
	for v in new base; do
		[ $((r % 2)) = 0 ] && v=$([ $v = new ] && echo base || echo new)
		d=$NEW; [ $v = base ] && d=$BASE
		stop; start $d
		p=$($BB/bench_pam "$T/pam.d" $v "$T/pairs" 2000 1 100 | awk '{print $1}')
		s=$(SATOKEN_CONF=$CONF $BB/bench_sasl "$T/sasl-$v" OAUTHBEARER "$T/pairs" 10000 1 200 | awk '{print $1}')
		echo "login $v pam_p50_us $p sasl_p50_us $s"
	done
done
stop
for r in $(seq 1 "$ROUNDS"); do
	for v in new base; do
		[ $((r % 2)) = 0 ] && v=$([ $v = new ] && echo base || echo new)
		d=$NEW; [ $v = base ] && d=$BASE
		start $d
		m1=$([ "${C1:-1}" = 1 ] && $BB/bench_mint thr "$SOCK" 1 3 "a$r$v")
		m16=$($BB/bench_mint thr "$SOCK" 16 3 "b$r$v")
		stop
		echo "mint $v c1 $m1 c16 $m16"
	done
done
