#!/bin/bash
# make demo and make check on a machine that lacks a package: run as an
# unprivileged user they print the one apt-get line to run and stop, before
# building anything; demo asks for its own short list, check for all of
# .ci/packages.  Run on a copy of the Makefile and tools/ whose lists name
# packages that do not exist, so nothing is ever installed.
. "$(dirname "$0")/lib.sh"

check "tools/demo.packages is a subset of .ci/packages (CI installs the demo's too)" \
	test -z "$(comm -23 <(grep -v '^[[:space:]]*\(#\|$\)' "$ROOT/tools/demo.packages" | sort -u) \
		<(grep -v '^[[:space:]]*\(#\|$\)' "$ROOT/.ci/packages" | sort -u))"
check "tools/ensure-deps passes with every package of .ci/packages installed" \
	"$ROOT/tools/ensure-deps" check
check "  ...and of tools/demo.packages" "$ROOT/tools/ensure-deps" demo

C=$T/tree
mkdir -p "$C/tools" "$C/.ci"
cp "$ROOT/Makefile" "$C/"
cp "$ROOT/tools/ensure-deps" "$C/tools/"
{ cat "$ROOT/tools/demo.packages"; echo satoken-test-demo-only; } >"$C/tools/demo.packages"
{ cat "$ROOT/.ci/packages"; echo satoken-test-demo-only; echo satoken-test-check-only; } \
	>"$C/.ci/packages"
chmod -R a+rX "$T"
as_user=()
is_root && as_user=(setpriv --reuid nobody --regid nogroup --clear-groups)
is_root || loud "NOT ROOT: ensure-deps runs as $(id -un); as root it would run as nobody"

# mk GOAL...: make in the copy, unprivileged; RC, ERR
mk() {
	"${as_user[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		make --no-print-directory -C "$C" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	ERR=$(cat "$T/err")
}

mk demo
check "make demo without a package stops (exit 2)" test "$RC" = 2
check "  ...with the one apt-get line, naming only what demo needs" \
	test "$(grep -c 'apt-get' "$T/err")" = 1 -a \
	"$(grep 'apt-get' "$T/err" | sed 's/.*--no-install-recommends//')" = " satoken-test-demo-only"
check "  ...saying to run it as root" grep -q 'run as root:  apt-get update && apt-get install -y --no-install-recommends' "$T/err"
check "  ...before building anything" test ! -e "$C/build"
mk check
check "make check without packages stops too" test "$RC" = 2
check "  ...naming everything check needs that is missing" \
	test "$(grep 'apt-get' "$T/err" | sed 's/.*--no-install-recommends//')" = " satoken-test-demo-only satoken-test-check-only"
mk demo check
check "make demo check asks for check's list" \
	grep -q 'satoken-test-check-only' "$T/err"
mk -n install DESTDIR="$T/stage"
check "make install checks no packages" eval '! grep -q apt-get "$T/err"'
[ "$fail" -eq 0 ] || sed 's/^/   /' "$T/err"
summary
