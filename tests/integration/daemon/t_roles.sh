#!/bin/bash
# The viewer / contributor / admin matrix with a second real uid (nobody,
# by setpriv), roles through groups made with groupadd, ownership, and a
# service account acting with its own token (--token-file).
. "$(dirname "$0")/lib.sh"

need_root || finish
CG=satctb$$
AG=satadm$$
groupadd "$CG" && CLEANUPS+=("groupdel $CG")
groupadd "$AG" && CLEANUPS+=("groupdel $AG")
write_conf "contributor_groups = $CG" "admin_groups = $AG"
start_daemon || { fail "satokend did not start"; finish; }

V() { as_nobody nogroup "$CTL" --socket "$SOCK" "$@"; }
C() { as_nobody "$CG" "$CTL" --socket "$SOCK" "$@"; }
A() { as_nobody "$AG" "$CTL" --socket "$SOCK" "$@"; }
# nobody can read this directory's files, not write them
tokfile() { printf '%s\n' "$2" >"$T/$1"; chmod 0644 "$T/$1"; }

ctl group create ci >/dev/null
ctl policy add ci >/dev/null
ctl account create rootacct --group ci >/dev/null
TOKR=$(ctl token mint rootacct --name r 2>/dev/null)
IDR=${TOKR:4:12}

# ---- who is who ----
t "viewer whoami" 0 V --json whoami
check "nobody is a viewer" '$(jfield principal) == "uid:65534" && $(jfield role) == viewer && $(jfield display) == "uid:65534(nobody)"'
t "contributor whoami" 0 C --json whoami
check "contributor by group" '$(jfield role) == contributor'
t "admin whoami" 0 A --json whoami
check "admin by group" '$(jfield role) == admin'

# ---- a viewer reads metadata, changes nothing ----
t "viewer: account list" 0 V account list
check "viewer sees accounts" '$OUT == *rootacct*'
t "viewer: account show" 0 V account show rootacct
t "viewer: token list" 0 V --json token list
check "viewer sees ids, no secret" '$OUT == *"$IDR"* && $OUT != *"${TOKR:16:32}"*'
t "viewer: token show" 0 V token show "$IDR"
t "viewer: group list" 0 V group list
t "viewer: policy show" 0 V policy show
t "viewer: token verify" 0 V token verify rootacct <<<"$TOKR"
for cmd in "account create v1" "account update rootacct --description x" \
    "account disable rootacct" "account enable rootacct" \
    "account delete rootacct" "token mint rootacct --name x" \
    "token create v2" "token revoke $IDR" "token rotate $IDR" \
    "group create g" "group delete ci" "group add-member ci rootacct" \
    "group remove-member ci rootacct" "policy add ci" "policy set" \
    "policy remove ci"; do
	# shellcheck disable=SC2086
	t "viewer: $cmd" 3 V $cmd
	check "viewer: $cmd is PERMISSION_DENIED" '$ERR == "satokenctl: PERMISSION_DENIED: "*'
done
t "viewer changed nothing" 0 ctl --json token show "$IDR"
check "still active" '$(jfield status) == active'

# ---- a contributor creates accounts and manages its own ----
t "contributor: create" 0 C account create c1
t "contributor's account" 0 ctl --json account show c1
check "role and owner default to the creator" '$(jfield role) == contributor && $(jfield owner) == "uid:65534" && $(jfield created_by) == "uid:65534"'
t "contributor: role above its own" 3 C account create c2 --role admin
check "ceiling message" '$ERR == *"role admin is above"*'
t "contributor: lower role" 0 C account create c2 --role viewer
t "contributor: unknown role" 2 C account create c2b --role boss
t "contributor: groups are admin-only" 3 C account create c3 --group ci
t "contributor: another owner" 3 C account create c4 --owner root
t "contributor: itself as owner" 0 C account create c4 --owner nobody
t "contributor: update own" 0 C account update c1 --description mine
t "contributor: update another's" 3 C account update rootacct --description x
t "contributor: disable another's" 3 C account disable rootacct
t "contributor: delete another's" 3 C account delete rootacct
t "contributor: own account outside the policy" 3 C token mint c1 --name t
check "the policy message" '$ERR == *"Service account c1 does not have permission to use tokens"'
t "admin puts c1 in ci" 0 ctl group add-member ci c1
t "contributor: mint own" 0 C token mint c1 --name t
TOKC=$OUT
IDC=${TOKC:4:12}
t "contributor's token works" 0 V token verify c1 <<<"$TOKC"
t "contributor: mint for another's" 3 C token mint rootacct --name t
t "contributor: revoke another's token" 3 C token revoke "$IDR"
t "contributor: rotate another's token" 3 C token rotate "$IDR"
t "contributor: rotate own" 0 C --json token rotate "$IDC"
IDC2=$(jfield id)
t "contributor: revoke own" 0 C token revoke "$IDC2"
t "contributor: membership" 3 C group add-member ci c2
t "contributor: own groups" 3 C account update c1 --group ci
t "contributor: raise own account's role" 3 C account update c1 --role admin
t "contributor: disable own" 0 C account disable c1
t "contributor: enable own" 0 C account enable c1
t "contributor: delete own" 0 C account delete c4
t "contributor: group create" 3 C group create g
t "contributor: policy" 3 C policy add ci

# ---- an admin through admin_groups ----
t "admin: group create" 0 A group create g2
t "admin: policy add" 0 A policy add g2
t "admin: gives c1 to root" 0 A account update c1 --owner root
t "contributor no longer owns c1" 3 C account update c1 --description again
t "admin: any role" 0 A account create a1 --role admin

# ---- a service account acting with its token ----
ctl account create robot --group ci --role contributor >/dev/null
tokfile robot.tok "$(ctl token mint robot --name self 2>/dev/null)"
t "token principal whoami" 0 V --token-file "$T/robot.tok" --json whoami
check "acts as the account with its role" '$(jfield principal) == "account:robot" && $(jfield role) == contributor'
t "token principal creates" 0 V --token-file "$T/robot.tok" account create made-by-robot
t "owned by the account" 0 ctl --json account show made-by-robot
check "owner account:robot" '$(jfield owner) == "account:robot" && $(jfield role) == contributor'
t "token principal manages its own" 0 V --token-file "$T/robot.tok" account disable made-by-robot
t "token principal: not its account" 3 V --token-file "$T/robot.tok" account disable rootacct
t "token principal: no membership" 3 V --token-file "$T/robot.tok" group add-member ci made-by-robot
tokfile junk.tok "sat_nonsense"
t "a bad token is refused" 3 V --token-file "$T/junk.tok" whoami
check "why" '$ERR == *"not accepted (malformed)"*'
t "a missing token file" 2 V --token-file "$T/nosuch.tok" whoami
t "policy off for robot's group" 0 ctl policy remove ci
t "token principal outside the policy" 3 V --token-file "$T/robot.tok" whoami
check "policy_denied" '$ERR == *"(policy_denied)"*'
t "policy back" 0 ctl policy add ci
ctl account create adminbot --group ci >/dev/null
tokfile adminbot.tok "$(ctl token mint adminbot --name self 2>/dev/null)"
t "an admin account's token" 0 V --token-file "$T/adminbot.tok" --json whoami
check "admin by token" '$(jfield role) == admin'
t "admin by token creates a group" 0 V --token-file "$T/adminbot.tok" group create bots
t "revoke robot's token" 0 ctl token revoke "$(cut -c5-16 "$T/robot.tok")"
t "revoked token principal" 3 V --token-file "$T/robot.tok" whoami
check "revoked" '$ERR == *"(revoked)"*'

# ---- roles follow the configuration on SIGHUP ----
write_conf "admin_groups = $AG"
kill -HUP "$DPID"
sleep 0.3
t "after reload" 0 C --json whoami
check "no longer a contributor" '$(jfield role) == viewer'

# ---- the audit names the principal and its role ----
check "audit: viewer denied" '"$(grep -c "action=account.create outcome=denied reason=PERMISSION_DENIED principal=uid:65534(nobody) role=viewer" "$AUDIT")" -ge 1'
check "audit: token principal" '"$(grep -c "action=account.create outcome=ok principal=account:robot role=contributor account=made-by-robot detail=\"via uid:65534(nobody)\"" "$AUDIT")" == 1'
check "audit: no token file content" '"$(grep -c "$(cut -c17-48 "$T/robot.tok")" "$AUDIT")" == 0'
finish
