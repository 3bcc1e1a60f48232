#!/bin/bash
# satokenctl scan, the leak sweep, against the real daemon: tokens found
# offline by their checksum wherever they sit in a tree (nested, binary,
# cut by the reader's chunk boundary, on stdin), near-misses and .git
# left alone, symlinks not followed; each reported as FILE:LINE: ID
# ACCOUNT STATE with its state from satokend; the exit code a pre-commit
# hook can use (3 while a live or unknown token is found, 0 when all are
# dead); with satokend down, still found, states unknown, exit 3.  No
# secret in what it prints.
. "$(dirname "$0")/lib.sh"

write_conf
start_daemon || { fail "satokend did not start: $(cat "$T/daemon.log")"; finish; }
ctl group create g >/dev/null
ctl policy add g >/dev/null
ctl account create ci --group g >/dev/null
live=$(ctl token mint ci --name live 2>/dev/null)
dead=$(ctl token mint ci --name dead 2>/dev/null)
short=$(ctl token mint ci --name short --ttl 1 2>/dev/null)
ctl token revoke "${dead:4:12}" >/dev/null 2>&1
id() { printf %s "${1:4:12}"; }
[[ $live =~ ^sat_ && $dead =~ ^sat_ && $short =~ ^sat_ ]] || fail "minting for the test"

tree=$T/tree
mkdir -p "$tree/src/deep" "$tree/.git/objects" "$T/outside"
printf 'a\nb\npassword = "%s"\n' "$live" >"$tree/src/app.conf"
printf 'revoked here: %s\n' "$dead" >"$tree/src/deep/old.txt"
# one character off: its checksum fails, it is not a token (a token
# whose 31st character is already X, one in 62, would be itself)
off=X
[ "${live:30:1}" != X ] || off=Y
printf 'near miss: %s\n' "${live:0:30}$off${live:31}" >"$tree/src/miss.txt"
printf '\0\1\2%s\0\377' "$live" >"$tree/src/blob.bin"
printf '%s\n' "$live" >"$tree/.git/objects/ab"
printf '%s\n' "$live" >"$T/outside/secret"
ln -s "$T/outside/secret" "$tree/src/link"
# a token across the reader's 1 MiB chunk boundary, on line 3
{
	printf 'x\ny\n'
	head -c $((1048576 - 30)) /dev/zero | tr '\0' 'z'
	printf '%s\nend\n' "$live"
} >"$tree/big.txt"

sleep 1.2	# let "short" expire
t "scan over a tree with a live token: exit 3" 3 ctl scan "$tree"
check "the live token, its file, line, account and state" \
	'$OUT == *"$tree/src/app.conf:3: $(id "$live") ci active"*'
check "the revoked one" '$OUT == *"$tree/src/deep/old.txt:1: $(id "$dead") ci revoked"*'
check "inside a binary file" '$OUT == *"$tree/src/blob.bin:1: $(id "$live") ci active"*'
check "across the reader's chunk boundary, on its line" \
	'$OUT == *"$tree/big.txt:3: $(id "$live") ci active"*'
check "exactly four finds: no near miss, nothing under .git, no symlink followed" \
	'$(grep -c . <<<"$OUT") == 4'
check "no secret in what it prints" '$OUT$ERR != *"${live:16:32}"* && $OUT$ERR != *"${dead:16:32}"*'

printf 'expired: %s\n' "$short" >"$T/expired.txt"
t "only dead tokens: exit 0" 0 ctl scan "$tree/src/deep/old.txt" "$T/expired.txt"
check "  ...the expired one says so" '$OUT == *"$T/expired.txt:1: $(id "$short") ci expired"*'
t "nothing found: exit 0, nothing printed" 0 ctl scan "$tree/src/miss.txt"
check "  ...silent" '-z $OUT'
run ctl scan <<<"deploy with $live please"
check "stdin: found, named -" '$RC == 3 && $OUT == "-:1: $(id "$live") ci active"'
# a token minted by no store this daemon knows
# (DESIGN's checksum: zlib's CRC-32 of the first 48 characters, 6 base62)
other=$(python3 -c '
import zlib
a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
s = "sat_" + "Q" * 12 + "w" * 32
c = zlib.crc32(s.encode()); d = ""
for _ in range(6): d = a[c % 62] + d; c //= 62
print(s + d)')
run ctl scan <<<"$other"
check "a token this store does not have: not_found, exit 3" \
	'$RC == 3 && $OUT == "-:1: QQQQQQQQQQQQ - not_found"'
t "a missing path beside a live token: the live token decides, exit 3" 3 \
	ctl scan /nonexistent/x "$tree/src/app.conf"
check "  ...the missing path named on stderr" '$ERR == *"/nonexistent/x"*'
t "a missing path alone: exit 1" 1 ctl scan /nonexistent/x

# ---- etc/git/pre-commit in a real repository ----
if command -v git >/dev/null; then
	repo=$T/repo
	git init -q "$repo"
	cp "$ROOT/etc/git/pre-commit" "$repo/.git/hooks/pre-commit"
	gitc() { git -C "$repo" -c user.name=t -c user.email=t@t "$@"; }
	printf 'token: %s\n' "$live" >"$repo/deploy.env"
	gitc add deploy.env
	run env PATH="$ROOT/$B/cli:$PATH" SATOKEN_CONF="$CONF" git -C "$repo" \
		-c user.name=t -c user.email=t@t commit -q -m leak
	check "the hook stops a commit adding a live token" \
		'$RC != 0 && $OUT$ERR == *"deploy.env:1: $(id "$live") ci active"*'
	check "  ...and nothing was committed" '-z $(gitc log --oneline 2>/dev/null)'
	# the working tree is not what is scanned: the staged blob is
	printf 'token: %s\n' "$dead" >"$repo/deploy.env"
	run env PATH="$ROOT/$B/cli:$PATH" SATOKEN_CONF="$CONF" git -C "$repo" \
		-c user.name=t -c user.email=t@t commit -q -m leak
	check "  ...it reads what is staged, not the working tree" '$RC != 0'
	gitc add deploy.env
	run env PATH="$ROOT/$B/cli:$PATH" SATOKEN_CONF="$CONF" git -C "$repo" \
		-c user.name=t -c user.email=t@t commit -q -m revoked
	check "a revoked token staged: the commit goes on" '$RC == 0 && -n $(gitc log --oneline)'
else
	fail "git is not installed (.ci/packages has it)"
fi

# ---- scan --revoke ----
leak=$(ctl token mint ci --name leak 2>/dev/null)
printf 'x\nexport TOKEN=%s\n' "$leak" >"$T/leak.env"
chmod 0644 "$T/leak.env"
# (not need_root: id() above is the token's id here)
if [ "$EUID" -eq 0 ]; then
	run as_nobody nogroup "$CTL" --socket "$SOCK" scan --revoke "$T/leak.env"
	check "--revoke by a viewer: not allowed to revoke, still live, exit 3" \
		'$RC == 3 && $OUT == "$T/leak.env:2: $(id "$leak") ci active" && $ERR == *"cannot revoke"*'
fi
t "--revoke by an admin: the live token revoked, exit 0" 0 ctl scan --revoke "$T/leak.env" "$tree/src/deep/old.txt"
check "  ...printed as revoked" '$OUT == *"$T/leak.env:2: $(id "$leak") ci revoked"*'
check "  ...saying so on stderr" '$ERR == *"revoked $(id "$leak"), leaked in $T/leak.env"*'
check "  ...revoked in the store" \
	'$(ctl --json token show "$(id "$leak")" | jq -r .status) == revoked'
check "  ...audited as token.leaked with the file" \
	'$(grep -c "action=token.leaked outcome=ok principal=uid:0(root) role=admin account=ci token=$(id "$leak") detail=\"file=$T/leak.env\"" "$AUDIT") == 1'
check "  ...the already revoked one left alone" \
	'$(grep -c "action=token.leaked.*$(id "$dead")" "$AUDIT") == 0'
t "--revoke again: nothing live, exit 0" 0 ctl scan --revoke "$T/leak.env"
check "  ...no second revocation" '$(grep -c "action=token.leaked outcome=ok" "$AUDIT") == 1'
check "no secret in what --revoke prints" '$OUT$ERR != *"${leak:16:32}"*'

stop_daemon
t "satokend down: a dead token's state cannot be known: exit 3" 3 ctl scan "$tree/src/deep/old.txt"
check "  ...still found, state unknown" '$OUT == *"old.txt:1: $(id "$dead") - unknown"*'
check "  ...and says the daemon was not reached, once" \
	'$(grep -c UNAVAILABLE <<<"$ERR") == 1'

finish
