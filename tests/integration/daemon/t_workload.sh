#!/bin/bash
# Workload identity through the real daemon and modules: self-rotation
# by key (Ed25519 and P-256, in a loop; another account's key, a replayed
# or transplanted signature and a removed key refused; audited as
# account:NAME(key)); tokens bound to a process (revoked when a real
# child is killed, refused by PAM; a daemon restart in between finds
# the death; only the process's owner or an admin may bind); canary
# tokens (refused by PAM, SASL, token verify and --token-file with
# reason canary, at LOG_ALERT, and the account disabled by satokend).
# The audit goes to a private syslog socket, to see its severity.
. "$(dirname "$0")/lib.sh"
PAM_MODULE=$ROOT/$B/pam/pam_satoken.so
SASL_LOGIN=$ROOT/$B/tools/sasl-login
SELFSIGN=$(dirname "$0")/selfsign.py

export SATOKEN_SYSLOG_SOCKET=$T/log.sock
python3 "$ROOT/tests/integration/newcomer/syslogd.py" "$SATOKEN_SYSLOG_SOCKET" \
	"$T/syslog.log" "$T/syslog.pri" "$T/syslog.ready" &
CLEANUPS+=("kill $! 2>/dev/null")
for _ in $(seq 1 200); do [ -e "$T/syslog.ready" ] && break; sleep 0.05; done
write_conf "canary_disables = yes"
sed -i "s|^audit = .*|audit = syslog|" "$CONF"
start_daemon || { fail "satokend did not start: $(cat "$T/daemon.log")"; finish; }

# waits up to 10 s for a condition satokend reaches asynchronously (a
# datagram, a process exit): what is asserted is the state, not the time
eventually() {
	local i
	for i in $(seq 1 200); do
		eval "$1" && return 0
		sleep 0.05
	done
	return 1
}
logged() { grep -q -- "$1" "$T/syslog.log"; }
# holds DESCRIPTION COMMAND: a check that is a command's success
holds() {
	if eval "$2"; then pass; else fail "$1: $2"; fi
}
status_of() { ctl --json token show "$1" 2>/dev/null | jq -r .status; }
enabled_of() { ctl --json account show "$1" 2>/dev/null | jq -r .enabled; }

ctl group create g >/dev/null
ctl policy add g >/dev/null

# ---- self-rotation by key ----
openssl genpkey -algorithm ed25519 -out "$T/ed.key" 2>/dev/null
openssl pkey -in "$T/ed.key" -pubout -out "$T/ed.pub" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$T/ec.key" 2>/dev/null
openssl pkey -in "$T/ec.key" -pubout -out "$T/ec.pub" 2>/dev/null
ctl account create wl --group g --role viewer --public-key "$T/ed.pub" >/dev/null
ctl account create other --group g --public-key "$T/ec.pub" >/dev/null
first=$(ctl --json token mint wl --name app 2>/dev/null | jq -r .id)
id=$first ok=0
for i in $(seq 1 24); do
	run ctl --json token rotate "$id" --self --key "$T/ed.key"
	[ "$RC" = 0 ] || break
	id=$(jq -r .id <<<"$OUT")
	tok=$(jq -r .token <<<"$OUT")
	ok=$((ok + 1))
	# meanwhile another account's key is refused on wl's token
	run ctl token rotate "$id" --self --key "$T/ec.key"
	[ "$RC" = 3 ] || { fail "other's key on wl's token: exit $RC $ERR"; break; }
done
check "a viewer account rotates its own token 24 times by its Ed25519 key" '$ok == 24'
check "  ...another account's key was refused each time" '$ERR == *"not accepted"*'
run ctl token verify wl <<<"$tok"
check "  ...the last token is the live one" '$OUT == ok'
check "  ...the first is revoked, replaced" '$(status_of "$first") == revoked'
check "  ...audited as account:wl(key), via the socket's user" \
	'$(grep -c "action=token.rotate outcome=ok principal=account:wl(key) role=viewer" "$T/syslog.log") -ge 24'
ecid=$(ctl --json token mint other --name svc 2>/dev/null | jq -r .id)
t "a P-256 key rotates its account's token" 0 ctl token rotate "$ecid" --self --key "$T/ec.key"
t "a signed mint for the account itself" 0 ctl token mint wl --name extra --self --key "$T/ed.key"
t "a signed mint for another account: refused" 3 ctl token mint other --name x --self --key "$T/ed.key"
t "a signed mint past max_ttl: refused like any" 2 ctl token mint wl --name long --ttl 400d --self --key "$T/ed.key"

run python3 "$SELFSIGN" "$SOCK" "$T/ed.key" replay "$id"
check "raw: a signed rotation is accepted once" '$(sed -n 1p <<<"$OUT") == ok'
check "  ...the same signature under another token id: refused" '$(sed -n 2p <<<"$OUT") == PERMISSION_DENIED'
check "  ...a fresh challenge and signature: accepted" '$(sed -n 3p <<<"$OUT") == ok'
check "  ...the first line sent again (an old signature): refused" '$(sed -n 4p <<<"$OUT") == PERMISSION_DENIED'
id=$(ctl --json token list wl 2>/dev/null | jq -r '.items[] | select(.name == "app" and .status == "active") | .id')
nl=$'\n'
run python3 "$SELFSIGN" "$SOCK" "$T/ed.key" otherconn "$id"
check "raw: a signature sent on another connection: refused, with or without a challenge there" \
	'$OUT == "PERMISSION_DENIED${nl}PERMISSION_DENIED"'
run python3 "$SELFSIGN" "$SOCK" "$T/ed.key" otherreq "$id"
check "raw: a signature over ttl=60 on a request for ttl=7200: refused" '$OUT == PERMISSION_DENIED'
check "  ...the token survived all of it" '$(status_of "$id") == active'

ctl account update wl --public-key '' >/dev/null
t "the key removed from the account: refused at once" 3 \
	ctl token rotate "$id" --self --key "$T/ed.key"
check "  ...saying it has no key" '$ERR == *"no public key"*'
t "--self without --key" 2 ctl token rotate "$id" --self
t "self.challenge and a signature on another op" 2 \
	"$RAWSOCK" "$SOCK" '{"op":"account.delete","name":"wl","signature":"AAAA"}'

# ---- canary tokens ----
ctl account create cn --group g >/dev/null
canary=$(ctl token mint cn --name trap --canary 2>/dev/null)
printf %s "$canary" >"$T/canary.tok"
check "a canary is minted and shown as one" \
	'$(ctl --json token show "${canary:4:12}" | jq -r .canary) == true'
mkdir "$T/pam.d"
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
	"$PAM_MODULE" "$CONF" "$PAM_MODULE" "$CONF" >"$T/pam.d/wltest"
# a sanitized module needs the ASan runtime ahead of pam_wrapper
PRELOAD=libpam_wrapper.so
ldd "$PAM_MODULE" | grep -q libasan &&
	PRELOAD="$(${CC:-cc} -print-file-name=libasan.so) libpam_wrapper.so"
pt() {
	env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
		pamtester wltest "$1" authenticate <"$2" >/dev/null 2>&1
}
t "PAM: a canary is refused" 1 pt cn "$T/canary.tok"
check "  ...audited with reason canary at LOG_ALERT (authpriv.alert)" \
	'$(grep -c "^10 1 .*action=auth outcome=denied reason=canary account=cn" "$T/syslog.pri") == 1'
holds "  ...and satokend disables the account (canary_disables = yes)" \
	'eventually "[ \"\$(enabled_of cn)\" = false ]"'
holds "  ...its own line, at alert too" 'logged "action=account.disable outcome=ok reason=canary principal=satokend"'
ctl account enable cn >/dev/null
mkdir "$T/sasl"
ln -s "$ROOT/$B/sasl/libsatoken.so" "$T/sasl/libsatoken.so"
printf 'mech_list: OAUTHBEARER\nsatoken_conf: %s\n' "$CONF" >"$T/sasl/satoken-demo.conf"
t "SASL: a canary is refused" 1 "$SASL_LOGIN" --plugin-dir "$T/sasl" \
	--conf-dir "$T/sasl" --service imap --account cn <"$T/canary.tok"
holds "  ...and the account disabled again" \
	'eventually "[ \"\$(enabled_of cn)\" = false ]"'
ctl account enable cn >/dev/null
t "token verify of a canary: reason canary, exit 3" 3 ctl token verify cn <"$T/canary.tok"
check "  ...prints canary" '$OUT == canary'
holds "  ...disabled" 'eventually "[ \"\$(enabled_of cn)\" = false ]"'
ctl account enable cn >/dev/null
t "--token-file with a canary: never a principal" 3 \
	"$CTL" --socket "$SOCK" --token-file "$T/canary.tok" whoami
check "  ...audited reason=canary at alert" \
	'$(grep -c "^10 1 .*reason=canary" "$T/syslog.pri") -ge 4'
holds "  ...disabled" 'eventually "[ \"\$(enabled_of cn)\" = false ]"'
ctl account enable cn >/dev/null
holds "an enabled account's canary still never logs in" '! pt cn "$T/canary.tok"'
t "--canary with --bind-pid: refused" 2 ctl token mint cn --name x --canary --bind-pid $$

# ---- tokens bound to a process ----
ctl account create bp --group g >/dev/null
sleep 300 & kid=$!
CLEANUPS+=("kill $kid 2>/dev/null")
bound=$(ctl token mint bp --name job --bind-pid "$kid" 2>/dev/null)
printf %s "$bound" >"$T/bound.tok"
t "PAM: a token bound to a live process logs in" 0 pt bp "$T/bound.tok"
kill "$kid"; wait "$kid" 2>/dev/null
holds "the process killed: its token is revoked by satokend" \
	'eventually "[ \"\$(status_of ${bound:4:12})\" = revoked ]"'
t "  ...and refused by PAM" 1 pt bp "$T/bound.tok"
holds "  ...as revoked" 'logged "reason=revoked account=bp token=${bound:4:12}"'
holds "  ...the revocation audited with the pid" \
	'logged "action=token.revoke outcome=ok reason=process_exited principal=satokend role=admin account=bp token=${bound:4:12}"'
t "a pid that runs no process: NOT_FOUND" 4 ctl token mint bp --name none --bind-pid 4194304

sleep 300 & k1=$!
sleep 300 & k2=$!
CLEANUPS+=("kill $k1 $k2 2>/dev/null")
b1=$(ctl token mint bp --name dies-while-down --bind-pid "$k1" 2>/dev/null)
b2=$(ctl token mint bp --name lives-on --bind-pid "$k2" 2>/dev/null)
stop_daemon
kill "$k1"; wait "$k1" 2>/dev/null
start_daemon || { fail "satokend did not restart"; finish; }
check "restart: the token of a process that died meanwhile is revoked at start" \
	'$(status_of "${b1:4:12}") == revoked'
holds "  ...audited found_at_start" 'logged "bind_pid=$k1 found_at_start"'
check "  ...the living process's token is still active" '$(status_of "${b2:4:12}") == active'
kill "$k2"; wait "$k2" 2>/dev/null
holds "  ...and watched again: killed after the restart, revoked" \
	'eventually "[ \"\$(status_of ${b2:4:12})\" = revoked ]"'

if need_root; then
	write_conf "canary_disables = yes" "contributor_groups = nogroup"
	sed -i "s|^audit = .*|audit = syslog|" "$CONF"
	kill -HUP "$DPID"; sleep 0.3
	ctl account create nb --group g --role viewer --owner nobody >/dev/null
	sleep 300 & rk=$!
	CLEANUPS+=("kill $rk 2>/dev/null")
	t "a contributor binding root's process: refused" 3 \
		as_nobody nogroup "$CTL" --socket "$SOCK" token mint nb --name x --bind-pid "$rk"
	check "  ...as not its own" '$ERR == *"not yours"*'
	setpriv --reuid nobody --regid nogroup --clear-groups sleep 300 & nk=$!
	CLEANUPS+=("kill $nk 2>/dev/null")
	sleep 0.1
	t "a contributor binding its own process: ok" 0 \
		as_nobody nogroup "$CTL" --socket "$SOCK" token mint nb --name y --bind-pid "$nk"
fi
check "no secret in the log" '$(grep -c -e "${canary:16:32}" -e "${bound:16:32}" -e "${tok:16:32}" "$T/syslog.log") == 0'
finish
