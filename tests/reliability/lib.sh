# Shared by the reliability tests: the daemon tests' harness (a private
# satokend on a temp socket and store, satokenctl, pass/fail counting,
# finish printing "N passed, N failed"), plus what these tests add.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/daemon/lib.sh"
RELB=$ROOT/$B/tests/reliability

# loud, so that nobody mistakes a skip for a pass
loud_skip() {
	echo "######################################################################" >&2
	echo "### [$NAME] SKIPPED: $*" >&2
	echo "######################################################################" >&2
}

# show_run: what the last run printed, each line tagged with the test's
# name, and the head of what it said on stderr
show_run() {
	printf '%s\n' "$OUT" | sed "s/^/[$NAME] /"
	[ -n "$ERR" ] && printf '%s\n' "$ERR" | head -n 20 | sed "s/^/[$NAME] /" >&2
	return 0
}

# mint_to FILE ACCOUNT NAME [options]: the token into FILE, never argv
mint_to() {
	local f=$1
	shift
	ctl token mint "$@" >"$f" 2>/dev/null
}

# tok_sum <<<BODY: BODY ("sat_", 12-character id, 32-character secret)
# with its checksum (CRC-32 in 6 base62 digits), so that a made-up token
# gets past the format check to the lookup and the hash.  On stdin, not
# argv: a body may be a canary's secret with one character changed.
tok_sum() {
	python3 -c '
import sys, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
body = sys.stdin.readline().strip()
n, s = zlib.crc32(body.encode()), ""
for _ in range(6):
    s, n = A[n % 62] + s, n // 62
print(body + s)'
}
# b62_random N: N random base62 characters
b62_random() { LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1"; }

# leaks_in FILE...: how many of the secrets of the token files in
# CANARIES (the 32 characters after "sat_" and the id) occur in FILE...
CANARIES=()
leaks_in() {
	local f s n=0
	for f in "${CANARIES[@]}"; do
		s=$(cut -c17-48 "$f")
		grep -aqF -- "$s" "$@" 2>/dev/null && n=$((n + 1))
	done
	echo $n
}
