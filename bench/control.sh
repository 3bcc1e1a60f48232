#!/bin/bash
# Mints through a control host (make bench-control; README "Fleet: the
# control host"): the sample provider, one control satokend, and 16
# clients each creating an account and minting into it, one request in
# flight each (bench_mint own), for BENCH_SECONDS (default 20); then the
# same on a standalone satokend on the same machine, for comparison; then
# the directory alone: 16 ldapmodify clients, each sending a mint's two
# writes (a token entry, its account's satokenLiveCount) one after
# the other, as many pairs as the control host made in the whole run,
# so that the control host's rate reads against what the provider can
# take on this disk at that moment; and again with each client's pairs
# in one LDAP transaction.  Between them, the control host
# deletes one of the 16 accounts, timed with its token entries, and
# another after revoking its tokens (their entries go after the reply).
# One line appended to bench/control-results.txt.
. "$(dirname "$0")/../tests/integration/fleet/lib.sh"
B=${B:-build}
BB=$ROOT/$B/bench
SATOKEND=$ROOT/$B/daemon/satokend
SATOKENCTL=$ROOT/$B/cli/satokenctl
SECS=${BENCH_SECONDS:-20}
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

# start NAME [ROLE]: a satokend in $T/NAME, a control host when ROLE
start() {
	local d=$T/$1 i
	mkdir -p "$d"
	chmod 755 "$d"
	{
		echo "database = $d/satoken.db"
		echo "socket = $d/satokend.sock"
		echo "audit = file:$d/audit.log"
		echo "admin_users = $(id -u)"
		echo "rate_limit = 0"
		echo "max_tokens_per_account = 100000"
		echo "max_accounts = 100000"
		if [ -n "${2:-}" ]; then
			echo "directory = $URI_prov"
			echo "directory_base = $BASE"
			echo "directory_bind_dn = cn=$1,ou=hosts,$SUB"
			echo "directory_password_file = $T/pw.$1"
			echo "directory_role = $2"
			echo "host_name = $1"
		fi
	} >"$d/satoken.conf"
	"$SATOKEND" --foreground --config "$d/satoken.conf" 2>>"$d/satokend.log" &
	PIDS+=("$!")
	for i in $(seq 200); do
		"$SATOKENCTL" --socket "$d/satokend.sock" whoami >/dev/null 2>&1 && break
		sleep 0.05
	done
	# the control host takes changes once it holds the fleet's key
	for i in $(seq 200); do
		"$SATOKENCTL" --socket "$d/satokend.sock" group create bench >/dev/null 2>&1 && break
		sleep 0.1
	done
	"$SATOKENCTL" --socket "$d/satokend.sock" policy add bench >/dev/null
}

start control1 control
ctl=$("$BB/bench_mint" own "$T/control1/satokend.sock" 16 "$SECS" own)
entries=$(as_root prov ldapsearch -LLL -b "ou=tokens,$SUB" '(objectClass=satokenToken)' 1.1 | grep -c '^dn:')
# account delete through the control host: every token entry of the
# account deleted in the request, one after the other
acct_tokens=$(as_root prov ldapsearch -LLL -b "ou=tokens,$SUB" '(satokenAccount=own1)' 1.1 | grep -c '^dn:')
t0=$(date +%s%N)
"$SATOKENCTL" --socket "$T/control1/satokend.sock" account delete own1 --yes >/dev/null ||
	{ echo "account delete own1 failed" >&2; exit 1; }
t1=$(date +%s%N)
left=$(as_root prov ldapsearch -LLL -b "ou=tokens,$SUB" '(satokenAccount=own1)' 1.1 | grep -c '^dn:')
[ "$left" = 0 ] || { echo "account delete own1 left $left token entries" >&2; exit 1; }
del="$(( (t1 - t0) / 1000000 )) ms for $acct_tokens tokens"
# and an account whose tokens were all revoked first: the reply comes
# before their entries go (control_bg_step deletes them after it); the
# time until the last is gone, polled every 100 ms
"$SATOKENCTL" --socket "$T/control1/satokend.sock" --json token list own2 --status active |
	jq -r '.items[].id' | while read -r id; do
		"$SATOKENCTL" --socket "$T/control1/satokend.sock" token revoke "$id" >/dev/null ||
			{ echo "revoke $id failed" >&2; exit 1; }
	done || exit 1
acct_tokens=$(as_root prov ldapsearch -LLL -b "ou=tokens,$SUB" '(satokenAccount=own2)' 1.1 | grep -c '^dn:')
t0=$(date +%s%N)
"$SATOKENCTL" --socket "$T/control1/satokend.sock" account delete own2 --yes >/dev/null ||
	{ echo "account delete own2 failed" >&2; exit 1; }
t1=$(date +%s%N)
while left=$(as_root prov ldapsearch -LLL -b "ou=tokens,$SUB" '(satokenAccount=own2)' 1.1 | grep -c '^dn:'); [ "$left" != 0 ]; do
	[ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 600 ] ||
		{ echo "account delete own2 left $left token entries after 10 minutes" >&2; exit 1; }
	sleep 0.1
done
t2=$(date +%s%N)
del="$del; of revoked: $(( (t1 - t0) / 1000000 )) ms for $acct_tokens tokens, all gone after $(( (t2 - t0) / 1000000 )) ms"

# floor N PREFIX [LDAPMODIFY OPTIONS]: the directory's own rate for a
# mint's two writes, 16 writers of N pairs each, in pairs/s
floor() {
	local c i n=$1 p=$2 pids=() t0 t1 digest
	shift 2
	# a digest is 32 bytes; the directory does not ask them to differ
	digest=$(printf '%032d' 0 | base64 -w0)
	for c in $(seq 16); do
		{
			printf 'dn: satokenName=%s%s,ou=accounts,%s\nchangetype: add\n' "$p" "$c" "$SUB"
			printf 'objectClass: satokenAccount\nsatokenName: %s%s\nsatokenSerial: %x\n' "$p" "$c" "$c"
			printf 'satokenRole: viewer\nsatokenEnabled: TRUE\nsatokenCreatedAt: 1\n\n'
			for i in $(seq "$n"); do
				printf 'dn: satokenTokenId=%s%02d%08d,ou=tokens,%s\nchangetype: add\n' "$p" "$c" "$i" "$SUB"
				printf 'objectClass: satokenToken\nsatokenTokenId: %s%02d%08d\n' "$p" "$c" "$i"
				printf 'satokenAccount: %s%s\nsatokenTokenName: t%s\n' "$p" "$c" "$i"
				printf 'satokenDigest:: %s\n' "$digest"
				printf 'satokenCreatedAt: 1\nsatokenExpiresAt: 2000000000\n\n'
				printf 'dn: satokenName=%s%s,ou=accounts,%s\nchangetype: modify\n' "$p" "$c" "$SUB"
				printf 'replace: satokenLiveCount\nsatokenLiveCount: %s\n-\n\n' "$i"
			done
		} >"$T/$p$c.ldif"
	done
	t0=$(date +%s%N)
	for c in $(seq 16); do
		as_root prov ldapmodify "$@" -f "$T/$p$c.ldif" >/dev/null &
		pids+=("$!")
	done
	for c in "${pids[@]}"; do wait "$c" || return 1; done
	t1=$(date +%s%N)
	echo $((16 * n * 1000000000 / (t1 - t0)))
}
# as many pairs, over the 16 writers, as the control host minted
ctl_tokens=$(echo "$ctl" | awk '{print $5}')
per=$(( (ctl_tokens + 15) / 16 ))
[ "$per" -ge 20 ] || per=20
dir=$(floor "$per" floor) || { echo "the directory refused a write" >&2; exit 1; }
# the same, each writer's pairs in one LDAP transaction (RFC 5805): what
# the provider could take if a control host wrote a batch of requests
# in one commit, an upper bound (one commit per writer, not per batch)
dirtxn=$(floor "$per" txn -E txn=commit) || { echo "the directory refused a transaction" >&2; exit 1; }
start alone
alone=$("$BB/bench_mint" own "$T/alone/satokend.sock" 16 "$SECS" own)
# tokens_per_s p50_us p99_us failures tokens
line="$(date -u +%Y-%m-%dT%H:%MZ) clients=16 seconds=$SECS control: $ctl (directory token entries $entries) standalone: $alone directory alone: $dir write pairs/s ($dirtxn in transactions) account delete: $del"
echo "$line"
echo "$line" >>"$ROOT/bench/control-results.txt"
