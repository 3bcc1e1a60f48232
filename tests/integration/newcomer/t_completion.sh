#!/bin/bash
# etc/bash-completion/satokenctl in a real bash: the commands and options
# it offers are exactly those satokenctl --help lists, and the names it
# offers for accounts, groups and token ids come from a running satokend.
. "$(dirname "$0")/lib.sh"

COMPLETION=$ROOT/etc/bash-completion/satokenctl
CTL=$BIN/cli/satokenctl
export PATH="$BIN/cli:$BIN/daemon:$PATH"

# offers "satokenctl WORDS...": what completing the last word offers, one
# per line, sorted ("" as the last word: after a space)
offers() {
	bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_satokenctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@" | sed '/^$/d' | sort
}
words() { tr ' ' '\n' <<<"$*" | sed '/^$/d' | sort; }

check "the file defines the completion in a plain bash (no bash-completion needed)" \
	bash --norc --noprofile -c '. "$1" && complete -p satokenctl >/dev/null' _ "$COMPLETION"

help=$("$CTL" --help)
groups=$(sed -nE 's/^  ([a-z]+) [a-z-]+( .*)?$/\1/p' <<<"$help" | sort -u)
# commands of one word (whoami, scan, backup): "  NAME" or "  NAME ARGS"
lone=$(sed -nE 's/^  ([a-z]+)( [^a-z].*)?$/\1/p' <<<"$help" | sort -u)
check "top level: the one-word commands, help, the command groups and the global options" \
	test "$(offers satokenctl "")" = "$(words $lone help $groups --socket --json --token-file --help)"
check "scan completes file names" test -n "$(offers satokenctl scan "$ROOT/READ")"
check "a prefix narrows it" test "$(offers satokenctl to)" = "token"
for g in $groups; do
	want=$(sed -nE "s/^  $g ([a-z-]+)( .*)?\$/\\1/p" <<<"$help")
	check "'$g': exactly its commands from satokenctl --help" \
		test "$(offers satokenctl "$g" "")" = "$(words $want --help)"
	for c in $want; do
		usage=$("$CTL" "$g" "$c" --help 2>/dev/null | sed '/^$/q')
		opts=$(grep -oE -- '--[a-z][a-z-]+' <<<"$usage" | sort -u)
		got=$(offers satokenctl "$g" "$c" --)
		extra=$(comm -13 <(words $opts --limit --cursor --socket --json --token-file --help) - <<<"$got")
		lacking=$(comm -23 <(words $opts) - <<<"$got")
		check "'$g $c --': its options and the global ones, nothing else" \
			test -z "$extra$lacking"
		[ -z "$extra$lacking" ] || echo "   extra: $extra; lacking: $lacking"
	done
done
check "--role offers the three roles" \
	test "$(offers satokenctl account create ci --role "")" = "$(words viewer contributor admin)"
check "a global option's value is not taken for the command" \
	test "$(offers satokenctl --socket /x token "")" = "$(offers satokenctl token "")"

# names from a running daemon, asked through the --socket given
write_conf
check "a private satokend starts" start_daemon
ctl group create robots >/dev/null && ctl group create ops >/dev/null &&
	ctl policy add robots >/dev/null &&
	ctl account create ci --role viewer --group robots >/dev/null &&
	ctl account create deploy --role viewer --group robots >/dev/null
mint "$T/ci.token" ci --name one
id=$(token_id "$T/ci.token")
check "account show offers the accounts" \
	test "$(offers satokenctl --socket "$SOCK" account show "")" = "$(words ci deploy)"
check "token mint offers the accounts, then nothing after one" \
	test "$(offers satokenctl --socket "$SOCK" token mint d)" = deploy -a \
	-z "$(offers satokenctl --socket "$SOCK" token mint ci "")"
check "token revoke offers the token ids" \
	test "$(offers satokenctl --socket "$SOCK" token revoke "")" = "$id"
check "group add-member offers a group, then accounts" \
	test "$(offers satokenctl --socket "$SOCK" group add-member "")" = "$(words ops robots)" -a \
	"$(offers satokenctl --socket "$SOCK" group add-member ops "")" = "$(words ci deploy)"
check "--group offers the groups" \
	test "$(offers satokenctl --socket="$SOCK" account update ci --group r)" = robots
check "the token's secret is offered nowhere" \
	eval '! offers satokenctl --socket "$SOCK" token show "" | grep -q "^sat_"'
stop_daemon
start=$(date +%s)
check "with no daemon, nothing is offered" \
	test -z "$(offers satokenctl --socket "$SOCK" account show "")"
check "  ...at once" test $(($(date +%s) - start)) -le 3

# etc/zsh-completion/_satokenctl: zsh reads it, compinit finds it on
# $fpath, and it offers exactly the commands of satokenctl --help
ZSHCOMP=$ROOT/etc/zsh-completion/_satokenctl
if ! command -v zsh >/dev/null 2>&1; then
	check "zsh is installed (package zsh, in .ci/packages)" false
else
	check "zsh parses _satokenctl" zsh -n "$ZSHCOMP"
	check "compinit binds it to satokenctl" test "$(zsh -f -c '
		fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D
		print -r -- ${_comps[satokenctl]}' _ "$(dirname "$ZSHCOMP")")" = _satokenctl
	top=$(sed -nE "s/.*':command:\(([^)]*)\)'.*/\1/p" "$ZSHCOMP")
	check "its top level: whoami, status, backup, help and the command groups" \
		test "$(words $top)" = "$(words whoami status backup help $groups)"
	for g in $groups; do
		want=$(sed -nE "s/^  $g ([a-z-]+)( .*)?\$/\\1/p" <<<"$help")
		got=$(sed -nE "s/^[[:space:]]+$g\) compadd (.*) ;;\$/\\1/p" "$ZSHCOMP")
		check "zsh '$g': exactly its commands from satokenctl --help" \
			test "$(words $got)" = "$(words $want)"
	done
fi
summary
