#!/bin/bash
# make demo's script, tools/demo.sh, against the already-built tree, as an
# unprivileged user: as root it runs as nobody (setpriv) on a copy of what
# it needs, in a directory nobody may use; otherwise as the caller.
#   - it exits 0 and tells the whole story, step by step;
#   - it shows exactly one token, once, and leaves no process, socket or
#     temporary directory behind;
#   - with a PAM module that accepts everything in place of ours, it
#     fails, naming the step.
. "$(dirname "$0")/lib.sh"

# the demo's tree: tools/demo.sh and the five things it runs, laid out
# as in the source tree, readable by everyone
copy_tree() {
	local dst=$1 f
	mkdir -p "$dst/tools"
	cp "$ROOT/tools/demo.sh" "$dst/tools/"
	for f in daemon/satokend cli/satokenctl pam/pam_satoken.so \
	    sasl/libsatoken.so tools/sasl-login; do
		mkdir -p "$dst/$B/$(dirname "$f")"
		cp "$BIN/$f" "$dst/$B/$f"
	done
	chmod -R a+rX "$dst"
}

# demo DIR OUTFILE: runs DIR/tools/demo.sh as the unprivileged user, its
# temporary directory under $T/tmp; returns its exit status
demo() {
	local dir=$1 out=$2
	local -a as=()
	is_root && as=(setpriv --reuid nobody --regid nogroup --clear-groups)
	"${as[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TMPDIR="$T/tmp" \
		B="$B" DEMO_PRELOAD="${DEMO_PRELOAD:-libpam_wrapper.so}" \
		bash "$dir/tools/demo.sh" >"$out" 2>&1
}

# the output with every token's secret masked, for failure reports
show() {
	sed -E 's/(sat_[0-9A-Za-z]{12})[0-9A-Za-z]{38}/\1.../g' "$1" | tail -n "${2:-40}"
}

mkdir -m 0755 "$T/tmp"
is_root && chown nobody "$T/tmp"
if ! is_root; then
	loud "NOT ROOT: the demo runs as $(id -un), not as a second, unprivileged uid; CI runs it as nobody"
fi

copy_tree "$T/tree"
demo "$T/tree" "$T/out"
rc=$?
check "the demo exits 0 as $(is_root && echo nobody || id -un)" test "$rc" = 0
[ "$rc" = 0 ] || show "$T/out"
check "it says it runs as that user" \
	grep -q "^satoken demo, as uid $(is_root && echo 65534 || id -u) " "$T/out"
check "it numbers its 11 steps in order" \
	test "$(grep -oE '^\[[0-9]+/11\]' "$T/out" | tr -d '[]' | cut -d/ -f1 | tr '\n' ' ')" = \
	"1 2 3 4 5 6 7 8 9 10 11 "
check "every step ends with its ok line" \
	test "$(grep -c '^    ok: ' "$T/out")" = 11
check "it ends saying every step behaved" \
	test "$(tail -n 2 "$T/out" | head -n 1)" = "demo: all 11 steps behaved as they should."
check "a login went through PAM (pamtester under pam_wrapper)" \
	grep -q '^      pamtester: successfully authenticated$' "$T/out"
check "a login went through SASL OAUTHBEARER" \
	grep -q "^      OAUTHBEARER: accepted, the server's user is ci$" "$T/out"
for r in expired revoked policy_denied; do
	check "the refusal for $r is read back from the audit log" \
		grep -q "action=auth outcome=denied reason=$r account=ci" "$T/out"
done
check "minting outside the policy is refused with DESIGN's message" \
	grep -q 'PERMISSION_DENIED: Service account ci does not have permission to use tokens' "$T/out"
check "exactly one token secret is shown, once (of the three it mints)" \
	test "$(grep -oE 'sat_[0-9A-Za-z]{50}' "$T/out" | wc -l)" = 1
check "  ...on a line of its own" \
	grep -qE '^        sat_[0-9A-Za-z]{50}$' "$T/out"
demo_dir=$(sed -n 's/^Everything lives in T=\([^ ]*\) .*/\1/p' "$T/out")
check "it worked in a temporary directory under TMPDIR" \
	test -n "$demo_dir" -a "${demo_dir#"$T"/tmp/satoken-demo.}" != "$demo_dir"
check "  ...and removed it" test ! -e "${demo_dir:-/nonexistent}"
check "no process of the demo is left running" \
	eval '! pgrep -f "$T/tree/" >/dev/null'

# The demo must notice when a step misbehaves: pam_permit.so in place of
# our module accepts every token (and writes no audit line).
permit=$(find /lib /usr/lib -name pam_permit.so -path '*security*' 2>/dev/null | head -n 1)
if [ -z "$permit" ]; then
	not_ok "pam_permit.so not found (libpam-modules is essential on Debian)"
else
	copy_tree "$T/bad"
	cp "$permit" "$T/bad/$B/pam/pam_satoken.so"
	demo "$T/bad" "$T/bad.out"
	rc=$?
	check "with a module that accepts everything, the demo fails (exit 1)" test "$rc" = 1
	check "  ...naming the PAM step" \
		grep -q '^demo FAILED at step 5/11 (Log in through PAM' "$T/bad.out"
	check "  ...and it does not claim success" \
		eval '! grep -q "behaved as they should" "$T/bad.out"'
	check "  ...and cleans up after itself" \
		eval '! pgrep -f "$T/bad/" >/dev/null'
	[ "$rc" = 1 ] || show "$T/bad.out" 20
fi

check "no temporary directory of the demo is left" \
	test -z "$(ls -A "$T/tmp")"
summary
