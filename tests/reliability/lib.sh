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

# mint_to FILE ACCOUNT NAME [options]: the token into FILE, never argv
mint_to() {
	local f=$1
	shift
	ctl token mint "$@" >"$f" 2>/dev/null
}
