#!/bin/bash
# daemon/syncrepl.c, the follower's RFC 4533 client, against the sample
# provider (syncprov with a session log on disk), bound as a follower: a first
# search is a full refresh of every entry; changes then
# arrive as they happen (persist); a follower that was away resumes from
# its cookie and hears of what was added and what was deleted meanwhile,
# the provider restarted or not;
# a cookie the provider cannot resume from gives a full refresh again,
# never a silent gap; a follower reading from the sample hub resumes by
# deltas after the hub restarts, as from the provider.
. "$(dirname "$0")/lib.sh"
SYNCWATCH=${SYNCWATCH:-$ROOT/${B:-build}/tests/integration/fleet/syncwatch}

mkdir -p "$T/prov"
sample_conf provider.conf prov >"$T/prov/slapd.conf"
start_slapd prov || { fail "provider did not start"; finish; exit 1; }
P=$URI_prov
host_secret follower1
host_secret control1
as_root prov ldapadd -f "$LDAPDIR/base.ldif" >/dev/null || fail "base.ldif"
as_root prov ldappasswd -T "$T/pw.follower1" "cn=follower1,ou=hosts,$SUB" >/dev/null || fail "password"
as_root prov ldappasswd -T "$T/pw.control1" "cn=control1,ou=hosts,$SUB" >/dev/null || fail "password"

token_ldif() {	# ID NAME
	cat <<-EOF
	dn: satokenTokenId=$1,ou=tokens,$SUB
	objectClass: satokenToken
	satokenTokenId: $1
	satokenAccount: ci
	satokenTokenName: $2
	satokenDigest:: $(openssl rand -base64 32)
	satokenCreatedAt: $(date +%s)
	satokenExpiresAt: $(($(date +%s) + 3600))

EOF
}
ctl() { as_host "$P" control1 "$@" >/dev/null; }
uuid_of() {	# DN: its entryUUID as syncwatch prints it (hex, no dashes)
	as_root prov ldapsearch -LLL -b "$1" -s base entryUUID | sed -n 's/^entryUUID: //p' | tr -d '-'
}
token_ldif AAAAAAAAAAAA one | ctl ldapadd || fail "token one"
token_ldif CCCCCCCCCCCC three | ctl ldapadd || fail "token three"

EV=$T/events
CK=$T/cookie
watch_start() {	# [URI COOKIE-FILE]: the provider's, or these
	: >"$EV"
	"$SYNCWATCH" "${1:-$P}" "cn=follower1,ou=hosts,$SUB" "$T/pw.follower1" "$SUB" "${2:-$CK}" >"$EV" 2>&1 &
	WPID=$!
}
watch_stop() { kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; }
has() { grep -qE "$1" "$EV"; }

# --- a first search: full refresh, present phase -------------------------
watch_start
# slapd ends a refresh from no cookie with either phase: the follower
# treats it as a present phase whatever it is called (syncrepl.h)
wait_for "a first search ends its refresh" has '^refresh-done (present|delete)$'
check "  ...having sent token one whole" has "^entry add satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB\$"
check "  ...and the key-less subtree's entries (policy, hosts)" has "^entry add cn=policy,$SUB\$"
check "  ...and kept a cookie" test -s "$CK"

# --- persist: changes as they happen -------------------------------------
ctl ldapmodify <<-EOF
	dn: satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB
	changetype: modify
	add: satokenRevokedAt
	satokenRevokedAt: $(date +%s)
EOF
wait_for "a revocation arrives as a modify" has "^entry modify satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB\$"
u_one=$(uuid_of "satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB")
ctl ldapdelete "satokenTokenId=AAAAAAAAAAAA,ou=tokens,$SUB"
wait_for "a deletion arrives with the entry's uuid" has "^delete $u_one "
watch_stop

# --- away, then back with the cookie -------------------------------------
u_three=$(uuid_of "satokenTokenId=CCCCCCCCCCCC,ou=tokens,$SUB")
token_ldif BBBBBBBBBBBB two | ctl ldapadd || fail "token two"
ctl ldapdelete "satokenTokenId=CCCCCCCCCCCC,ou=tokens,$SUB"
watch_start
wait_for "back with its cookie, the follower's refresh ends" has '^refresh-done '
check "  ...the token added while it was away arrives" has "^entry add satokenTokenId=BBBBBBBBBBBB,ou=tokens,$SUB\$"
# the sample's session log makes this a delta: a delete phase naming
# what went away, not a full refresh
check "  ...a delete phase, from the provider's session log" has '^refresh-done delete$'
check "  ...naming the token deleted meanwhile" has "(^delete $u_three |^idset delete .*$u_three)"
check "  ...and what did not change is not sent whole again" \
	bash -c "! grep -q '^entry add cn=policy,' '$EV'"
watch_stop

# --- the provider restarted meanwhile ------------------------------------
# An in-memory session log starts empty: every follower would refresh
# whole after each restart of the provider (all of a fleet's hosts, all
# of its tokens' UUIDs). The sample keeps it on disk (accesslog).
u_two=$(uuid_of "satokenTokenId=BBBBBBBBBBBB,ou=tokens,$SUB")
token_ldif DDDDDDDDDDDD four | ctl ldapadd || fail "token four"
ctl ldapdelete "satokenTokenId=BBBBBBBBBBBB,ou=tokens,$SUB"
port=${P##*:}
port=${port%/}
kill "$PID_prov" && wait "$PID_prov" 2>/dev/null
start_slapd prov "$port" || fail "the provider did not come back on $port"
watch_start
wait_for "after a provider restart, the follower's refresh ends" has '^refresh-done '
check "  ...the token added before the restart arrives" has "^entry add satokenTokenId=DDDDDDDDDDDD,ou=tokens,$SUB\$"
check "  ...a delete phase still: the session log outlived the restart" has '^refresh-done delete$'
check "  ...naming the token deleted" has "(^delete $u_two |^idset delete .*$u_two)"
check "  ...and no entry is sent whole again" \
	bash -c "! grep -q '^entry add cn=policy,' '$EV'"
watch_stop
logq() {	# HOST ATTR: what a host reads of the session log
	as_host "$P" "$1" ldapsearch -LLL -b cn=satoken-log "(reqType=add)" "$2" 2>/dev/null
}
has_attr() { logq "$1" "$2" | grep -q "^$2:"; }
lacks_attr() { ! has_attr "$@"; }
anonymous_blind() {
	! ldapsearch -x -H "$P" -LLL -b cn=satoken-log '(objectClass=*)' 2>/dev/null | grep -q '^dn:'
}
check "a host reads which entries changed in the log (syncprov reads it as the host)" \
	has_attr follower1 reqEntryUUID
check "  ...never what a change held (the key, passwords)" lacks_attr follower1 reqMod
check "  ...and an anonymous client nothing at all" anonymous_blind

# --- a cookie the provider cannot resume from ----------------------------
printf 'rid=000,csn=19700101000000.000000Z#000000#000#000000' >"$CK"
watch_start
wait_for "an ancient cookie: a full refresh again, or a request for one" \
	has '^(refresh-done present|refresh-required)$'
if has '^refresh-done present$'; then
	check "  ...the full refresh names the live token" \
		has "^entry (add|present) satokenTokenId=DDDDDDDDDDDD,ou=tokens,$SUB\$"
fi
watch_stop

# --- a hub restarted meanwhile -------------------------------------------
# The sample hub keeps a session log of its own on disk: without it, each
# restart of a hub would send every follower behind it every entry's UUID.
host_secret replicator
as_root prov ldappasswd -T "$T/pw.replicator" "cn=replicator,$SUB" >/dev/null || fail "password"
mkdir -p "$T/hub"
sample_conf hub.conf hub \
	"s|ldap://provider.example.org/|$P|g" \
	"s|REPLICATOR-SECRET|$(cat "$T/pw.replicator")|g" >"$T/hub/slapd.conf"
chmod 0600 "$T/hub/slapd.conf"
start_slapd hub || { fail "the hub did not start: $(tail -n 5 "$T/hub/slapd.log")"; finish; exit 1; }
H=$URI_hub
hport=${H##*:}
hport=${hport%/}
hub_has() {	# ID: the hub holds that token
	as_host "$H" follower1 ldapsearch -LLL -b "satokenTokenId=$1,ou=tokens,$SUB" -s base 1.1 2>/dev/null | grep -q '^dn:'
}
hub_lacks() { ! hub_has "$@"; }
wait_for "the hub replicates the provider" hub_has DDDDDDDDDDDD
watch_start "$H" "$T/cookie.hub"
wait_for "a first search at the hub ends its refresh" has '^refresh-done '
watch_stop
u_four=$(uuid_of "satokenTokenId=DDDDDDDDDDDD,ou=tokens,$SUB")
token_ldif EEEEEEEEEEEE five | ctl ldapadd || fail "token five"
ctl ldapdelete "satokenTokenId=DDDDDDDDDDDD,ou=tokens,$SUB"
wait_for "the hub has the token added since" hub_has EEEEEEEEEEEE
wait_for "  ...and not the one deleted" hub_lacks DDDDDDDDDDDD
kill "$PID_hub" && wait "$PID_hub" 2>/dev/null
start_slapd hub "$hport" || fail "the hub did not come back on $hport"
watch_start "$H" "$T/cookie.hub"
wait_for "after a hub restart, the follower's refresh at it ends" has '^refresh-done '
check "  ...the token added arrives" has "^entry add satokenTokenId=EEEEEEEEEEEE,ou=tokens,$SUB\$"
check "  ...a delete phase: the hub's session log outlived its restart" has '^refresh-done delete$'
check "  ...naming the token deleted" has "(^delete $u_four |^idset delete .*$u_four)"
check "  ...and no entry is sent whole again" \
	bash -c "! grep -q '^entry add cn=policy,' '$EV'"
watch_stop

finish
