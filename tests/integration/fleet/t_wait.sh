#!/bin/bash
# --wait and NOT_CONFIRMED (DESIGN "Fleet"): a change made on a control
# host with --wait returns once every host of the fleet has applied it,
# so that what it promises holds the moment it returns: a revoked token
# is refused on every follower at once, with no retry; a host that is
# down is named and the exit is 9, while the change itself stands.
# The sample provider, real satokends, logins through the real PAM
# module (pamtester under pam_wrapper).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"

# the provider logs each operation: the flood below counts its searches
SLAPD_DEBUG=stats start_fleet_provider "control1" "follower1 follower2" || { finish; exit 1; }
host_start control1 control
host_start follower1 follower
host_start follower2 follower

ready() { ctl control1 group create svc; }
wait_for "control1: takes changes once it holds the fleet key" ready
check "an account in a group on the policy" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' account create ci --group svc >/dev/null &&
	'$SATOKENCTL' --socket '$T/control1/satokend.sock' policy add svc >/dev/null"
# every host has written its entry once: --wait knows all three
known() { [ "$(ctl control1 --json fleet status | jq '.items | length')" = 3 ]; }
wait_for "control1 knows the three hosts" known
# fleet status: every host, from the host entries the control host keeps
lag0() {	# HOST: control1 lists HOST with lag 0 and a last contact
	ctl control1 --json fleet status | jq -e --arg h "$1" \
		'.items[] | select(.host == $h) | .lag_ms == 0 and (.last_contact | type) == "number"'
}
wait_for "fleet status lists follower1 caught up" lag0 follower1
wait_for "  ...and follower2" lag0 follower2
check "fleet status: the table names each host" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' fleet status | grep -q '^follower2 .* 0ms '"
# a follower, which does not follow the host entries, reads them when
# asked: the same hosts, each caught up
on_follower() {
	ctl follower1 --json fleet status | jq -e '[.items[].host] == ["control1", "follower1", "follower2"] and all(.items[]; .lag_ms == 0 and (.last_contact | type) == "number")'
}
wait_for "fleet status on a follower: the three hosts, caught up" on_follower

# --- a mint with --wait: usable everywhere the moment it returns ------
check "token mint --wait: exit 0" mint control1 ci one --wait
check "  ...its reply says confirmed, no host pending" \
	jq -e '.confirmed == true and .pending == [] and (.csn | test("^[0-9]{14}\\.[0-9]{6}Z#"))' "$T/mint.one"
check "  ...and it logs in on follower1 at once" login follower1 ci "$T/tok.one"
check "  ...and on follower2 at once" login follower2 ci "$T/tok.one"
OUT=$(ctl control1 token mint ci --name two --wait=30s 2>&1 >"$T/tok.two")
check "without --json: the token alone on stdout, the confirmation on stderr" \
	bash -c "grep -q '^confirmed: all 3 hosts applied it' <<<'$OUT' && grep -q '^sat_' '$T/tok.two'"
ctl control1 --json token list ci | jq -j '.items[] | select(.name == "two") | .id' >"$T/id.two"

# --- a revocation with --wait: refused everywhere at once ------------
id=$(cat "$T/id.one")
check "token revoke --wait: exit 0" ctl control1 token revoke "$id" --wait
check "  ...refused on follower1 at once" refused follower1 ci "$T/tok.one"
check "  ...refused on follower2 at once" refused follower2 ci "$T/tok.one"
check "  ...the other token still logs in" login follower2 ci "$T/tok.two"

# --- a deletion: no entry is left to read a position from -------------
check "a second account with a token" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' account create old --group svc >/dev/null"
check "  ...minted with --wait" mint control1 old three --wait
check "  ...it logs in on follower2" login follower2 old "$T/tok.three"
check "account delete --wait: exit 0" ctl control1 account delete old --yes --wait
check "  ...its token is refused on follower1 at once" refused follower1 old "$T/tok.three"
check "  ...and on follower2 at once" refused follower2 old "$T/tok.three"
check "policy remove --wait, then add --wait: both confirmed" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' policy remove svc --wait >/dev/null 2>&1 &&
	! env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR='$T/follower2/pam.d' LD_PRELOAD='${PAMT_PRELOAD:-libpam_wrapper.so}' ASAN_OPTIONS=detect_leaks=0 pamtester sattest ci authenticate <'$T/tok.two' >/dev/null 2>&1 &&
	'$SATOKENCTL' --socket '$T/control1/satokend.sock' policy add svc --wait >/dev/null 2>&1"
check "  ...and the token logs in again on follower2 at once" login follower2 ci "$T/tok.two"

# --- a change that writes nothing has nothing to wait for -------------
check "group add-member of a member already: exit 0 at once" \
	ctl control1 group add-member svc ci --wait=1s

# --- a host down: named, exit 9, the change made anyway ---------------
host_stop follower2
mint control1 ci four >/dev/null || fail "a token for the outage"
id4=$(cat "$T/id.four")
start=$(date +%s%N)
expect_rc "token revoke --wait=2s with follower2 down: exit 9" 9 \
	ctl control1 token revoke "$id4" --wait=2s
took=$((($(date +%s%N) - start) / 1000000))
check "  ...NOT_CONFIRMED names follower2, and no other host" \
	bash -c "grep -q '^satokenctl: NOT_CONFIRMED: 1 of 3 hosts .*: follower2 (the change itself is made' <<<'$OUT'"
check "  ...after waiting the 2 s asked (took ${took} ms)" test "$took" -ge 2000
check "  ...the revocation stands: refused on follower1" refused follower1 ci "$T/tok.four"
check "  ...and revoked on control1" \
	bash -c "'$SATOKENCTL' --socket '$T/control1/satokend.sock' --json token show '$id4' | jq -e '.status == \"revoked\"'"
OUT=$(ctl control1 --json group create pending --wait=4s 2>/dev/null)
rc=$?
check "--json with a host down: exit 9, the reply with confirmed false and the host pending" \
	bash -c "[ $rc = 9 ] && jq -e '.ok == true and .confirmed == false and .pending == [\"follower2\"]' <<<'$OUT'"
check "the group was created all the same" ctl control1 group list

# --- it comes back: what it missed, then a new --wait confirms -------
host_start follower2 follower
wait_for "follower2 back: the token revoked while it was down is refused" \
	refused follower2 ci "$T/tok.four"
check "token disable --wait with every host up again: exit 0" \
	ctl control1 token disable "$(cat "$T/id.two")" --wait=30s
check "  ...refused on follower2 at once" refused follower2 ci "$T/tok.two"

# --- what --wait refuses ---------------------------------------------
expect_rc "--wait=0s: a validation error" 2 ctl control1 group create x --wait=0s
expect_rc "--wait=2h: more than an hour" 2 ctl control1 group create x --wait=2h
expect_rc "--wait=soon: not a duration" 2 ctl control1 group create x --wait=soon
check "  ...and nothing was created" \
	bash -c "! '$SATOKENCTL' --socket '$T/control1/satokend.sock' --json group list | jq -e '.items[] | select(.name == \"x\")'"
expect_rc "--wait on a command that changes nothing: unknown option" 2 \
	ctl control1 token list --wait
expect_rc "a follower still answers READ_ONLY (8), not 9" 8 \
	ctl follower1 group create y --wait
expect_rc "fleet.status with a position that does not read: VALIDATION" 0 \
	python3 - "$T/control1/satokend.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"op":"fleet.status","csn":"20261205;garbage"}\n')
r = json.loads(s.makefile().readline())
sys.exit(0 if r.get("error") == "VALIDATION" else 1)
PY
expect_rc "confirm that is not a boolean: VALIDATION" 0 \
	python3 - "$T/control1/satokend.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"op":"group.create","name":"z","confirm":"yes"}\n')
r = json.loads(s.makefile().readline())
sys.exit(0 if r.get("error") == "VALIDATION" else 1)
PY

# --- a viewer flooding fleet status ----------------------------------
# Each read of the positions is a search on the loop's thread
# (hostsread.c): however often asked, at most one a second; asked about
# a position no host has reached, at most one every 20 ms (and five
# times what the last took).  Bounds counted on the provider against the
# flood's own length, whatever the machine got done meanwhile; and the
# revocations the loop applies meanwhile still arrive.
# flood SOCKET CSN STOPFILE: 4 connections asking fleet.status until
# STOPFILE exists (CSN "": plain); prints "replies failures elapsed_ms"
flood() {
	python3 - "$@" <<'PY'
import json, os, socket, sys, threading, time
sock, csn, stop = sys.argv[1:4]
req = {"op": "fleet.status"}
if csn:
    req["csn"] = csn
line = (json.dumps(req) + "\n").encode()
counts = [0, 0]
lock = threading.Lock()
def run():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile()
    while not os.path.exists(stop):
        s.sendall(line)
        r = json.loads(f.readline())
        with lock:
            counts[0 if "error" not in r else 1] += 1
t0 = time.monotonic()
ts = [threading.Thread(target=run) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(counts[0], counts[1], int((time.monotonic() - t0) * 1000))
PY
}
position_reads() { grep -c 'SRCH base="ou=positions,' "$T/prov/slapd.log"; }
flood_start() {	# NAME CSN: a flood in the background, its reads counted from now
	reads_before=$(position_reads)
	flood "$T/control1/satokend.sock" "$2" "$T/stop.$1" >"$T/flood.$1" &
	flood_pid=$!
}
flood_end() {	# NAME EVERY_MS DESC: stops it; at most a read per EVERY_MS
	local ok bad ms reads
	touch "$T/stop.$1"
	wait "$flood_pid"
	read -r ok bad ms <"$T/flood.$1"
	reads=$(( $(position_reads) - reads_before ))
	if [ "$bad" = 0 ] && [ "$ok" -gt 4 ] && [ "$reads" -le $((ms / $2 + 1)) ]; then pass
	else fail "$3: $ok answered, $bad refused, $reads reads in $ms ms"; fi
}
flood_start plain ""
sleep 2
flood_end plain 1000 "plain fleet status flood"

check "a token to revoke under a flood" mint control1 ci four --wait
check "  ...it logs in on follower1" login follower1 ci "$T/tok.four"
flood_start csn "20991231000000.000000Z#000000#000#000000"
sleep 0.5
check "under a flood asking of a position nobody reaches: revoke --wait, exit 0" \
	ctl control1 token revoke "$(cat "$T/id.four")" --wait=30s
check "  ...refused on follower1" refused follower1 ci "$T/tok.four"
check "  ...refused on follower2" refused follower2 ci "$T/tok.four"
flood_end csn 20 "fleet status flood with an unreached position"

# --- a directory without ou=positions (set up by an older version) ----
# fleet status says so; once it is there, each host adds its own entry
# again at its next write, and --wait confirms
check "the positions deleted on the provider" as_root prov ldapdelete -r "ou=positions,$SUB"
positions_missing() { ctl follower1 fleet status 2>&1 | grep -q 'before ou=positions'; }
wait_for "fleet status on a follower names what is missing" positions_missing
check "ou=positions back" as_root prov ldapadd <<EOF
dn: ou=positions,$SUB
objectClass: organizationalUnit
ou: positions
EOF
check "group create --wait: every host added its position again, exit 0" \
	ctl control1 group create after-positions --wait=30s
positions_of() { as_root prov ldapsearch -LLL -b "ou=positions,$SUB" -s one cn | grep -c '^cn:'; }
check "  ...three positions, one per host" test "$(positions_of)" = 3

finish
