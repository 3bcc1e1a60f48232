#!/bin/bash
# The man pages: each renders with man --warnings silent (and a broken
# page is caught, so the check can fail), and each covers what its
# program really takes: every satokenctl command and option (from
# satokenctl --help), every satokend option, every satoken.conf key with
# its default (from common/config.c and the sample), every PAM module
# argument, every exit code and the files; the satoken pages named in
# SEE ALSO exist; README puts make demo first and explains every audit
# reason.
. "$(dirname "$0")/lib.sh"

MAN=$ROOT/man
pages=$(cd "$MAN" && ls ./*.[1-8] | sed 's|^\./||')
for p in satokenctl.1 satoken.conf.5 satokend.8 pam_satoken.8 satoken-sasl.8; do
	check "man/$p exists" test -f "$MAN/$p"
done

# man --warnings as a user would run it; silence means no warning
warnings() {
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null
}
for p in $pages; do
	w=$(warnings "$MAN/$p")
	check "man --warnings -l man/$p is silent" test -z "$w"
	[ -z "$w" ] || printf '%s\n' "$w" | head -n 5 | sed 's/^/   /'
done
printf '.TH BROKEN 1\n.SH NAME\nbroken \\- a test\n.SH DESCRIPTION\n\\fXoops\\fR\n.foo\n' \
	>"$T/broken.1"
check "a broken page is not silent (the check above can fail)" \
	test -n "$(warnings "$T/broken.1")"

# the rendered text, ASCII, wide and unhyphenated, for the checks below
text() {
	LC_ALL=C MANWIDTH=250 MANROFFOPT=-rHY=0 man -l "$MAN/$1" 2>/dev/null | col -bx
}
# covers PAGE WHAT STRING...: every string appears in the page's text
covers() {
	local page=$1 what=$2 s missing=
	shift 2
	local body
	body=$(text "$page")
	for s in "$@"; do
		grep -qF -- "$s" <<<"$body" || missing="$missing '$s'"
	done
	check "$page covers $what" test -z "$missing"
	[ -z "$missing" ] || echo "   missing:$missing"
}

for p in $pages; do
	covers "$p" "NAME, SYNOPSIS, DESCRIPTION, SEE ALSO" NAME SYNOPSIS DESCRIPTION "SEE ALSO"
done

# --- satokenctl(1), from the binary's own help -------------------------
CTL=$BIN/cli/satokenctl
cmds=$("$CTL" --help | sed -nE 's/^  ((whoami|backup)|([a-z]+ [a-z-]+))( .*)?$/\1/p')
check "satokenctl --help lists its commands (the list compared below)" \
	test "$(wc -l <<<"$cmds")" -ge 24
mapfile -t cmdlist <<<"$cmds"
covers satokenctl.1 "every command of satokenctl --help" "${cmdlist[@]}"
opts=$( { "$CTL" --help; for c in "${cmdlist[@]}"; do
	# shellcheck disable=SC2086
	"$CTL" $c --help; done; echo --limit --cursor; } 2>/dev/null |
	grep -oE -- '--[a-z][a-z-]+' | sort -u)
mapfile -t optlist <<<"$opts"
covers satokenctl.1 "every option of every command (${#optlist[@]})" "${optlist[@]}"
covers satokenctl.1 "every exit code and error name" \
	VALIDATION PERMISSION_DENIED NOT_FOUND CONFLICT QUOTA_EXCEEDED \
	THROTTLED UNAVAILABLE INTERNAL "EXIT STATUS"
exits=$(text satokenctl.1 | sed -n '/^EXIT STATUS/,/^[A-Z]/p')
absent=
for n in 0 1 2 3 4 5 6 7; do
	grep -qE "^ +$n +[A-Za-z]" <<<"$exits" || absent="$absent $n"
done
check "satokenctl.1 lists exit statuses 0 to 7 in EXIT STATUS" test -z "$absent"
[ -z "$absent" ] || echo "   absent:$absent"
covers satokenctl.1 "its environment and files" ENVIRONMENT SATOKEN_CONF FILES \
	/etc/satoken/satoken.conf /run/satoken/satokend.sock
covers satokenctl.1 "durations and times" 45s 15m 12h 30d "RFC 3339"

# --- satokend(8) --------------------------------------------------------
dopts=$("$BIN/daemon/satokend" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
mapfile -t doptlist <<<"$dopts"
covers satokend.8 "every option of satokend --help" "${doptlist[@]}" --help
covers satokend.8 "its signals, exit status, environment" SIGHUP SIGTERM \
	"EXIT STATUS" SATOKEN_CONF LISTEN_FDS NOTIFY_SOCKET
covers satokend.8 "every file it uses" /etc/satoken/satoken.conf \
	/var/lib/satoken/satoken.db .journal .base .lock /run/satoken/satokend.sock
covers satokend.8 "every error code of the protocol" VALIDATION \
	PERMISSION_DENIED NOT_FOUND CONFLICT QUOTA_EXCEEDED THROTTLED \
	UNAVAILABLE INTERNAL

# --- satoken.conf(5): every key, with the sample's default -------------
keys=$(grep -oE '^[[:space:]]*\{ "[a-z_]+", K_' "$ROOT/common/config.c" |
	sed -E 's/.*"([a-z_]+)".*/\1/')
mapfile -t keylist <<<"$keys"
covers satoken.conf.5 "every key of common/config.c (${#keylist[@]})" "${keylist[@]}"
body=$(text satoken.conf.5)
missing=
while read -r k v; do
	[ -n "$v" ] || continue
	# the key's paragraph, up to the next key
	para=$(awk -v k="$k" '$1 == k { on = 1; print; next } on && /^       [a-z_]+ [a-z]/ { exit } on { print }' <<<"$body")
	grep -qF -- "$v" <<<"$para" || missing="$missing $k=$v"
done < <(sed -nE 's/^#([a-z_]+) = ?(.*)$/\1 \2/p' "$ROOT/etc/satoken.conf")
check "satoken.conf.5 gives every key's default, as the sample does" test -z "$missing"
[ -z "$missing" ] || echo "   missing:$missing"
covers satoken.conf.5 "the environment and the modules' ways of naming it" \
	SATOKEN_CONF conf= satoken_conf FILES

# --- pam_satoken(8), satoken-sasl(8) -----------------------------------
covers pam_satoken.8 "every module argument" conf= db= use_first_pass \
	try_first_pass ignore_non_token debug
covers pam_satoken.8 "its return codes" PAM_SUCCESS PAM_AUTH_ERR \
	PAM_AUTHINFO_UNAVAIL PAM_SERVICE_ERR PAM_IGNORE PAM_PERM_DENIED \
	PAM_ACCT_EXPIRED PAM_USER_UNKNOWN
covers satoken-sasl.8 "its mechanisms and option" OAUTHBEARER XOAUTH2 \
	satoken_conf mech_list SASL_UNAVAIL SASL_BADAUTH

# --- SEE ALSO names pages that exist ------------------------------------
dangling=
for p in $pages; do
	for ref in $(text "$p" | grep -oE '\b(satoken[a-z.-]*|satokend|satokenctl|pam_satoken)\([1-8]\)' | sort -u); do
		name=${ref%(*}
		sec=${ref#*(}
		sec=${sec%)}
		[ -f "$MAN/$name.$sec" ] || dangling="$dangling $p:$ref"
	done
done
check "every satoken page a page refers to exists" test -z "$dangling"
[ -z "$dangling" ] || echo "   not in man/:$dangling"

# --- README: the two commands first, every audit reason explained ------
README=$ROOT/README.md
check "README: the first commands are make demo, then make check" \
	test "$(grep -m 2 -oE '^make (demo|check)' "$README" | tr '\n' ' ')" = "make demo make check "
reasons=$(sed -nE 's/.*return "([a-z_]+)";.*/\1/p' "$ROOT/common/verify.c" | grep -vx ok | sort -u)
check "common/verify.c names its reasons (the list compared below)" \
	test "$(wc -w <<<"$reasons")" -ge 12
absent=
for r in $reasons store_unavailable internal_error; do
	grep -qE "^\| \`$r\` " "$README" || absent="$absent $r"
done
check "README: the troubleshooting table explains every audit reason" test -z "$absent"
[ -z "$absent" ] || echo "   not explained:$absent"
summary
