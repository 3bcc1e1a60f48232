#!/bin/bash
# Every satokenctl command against the real daemon: outputs, JSON, every
# error code and exit code, and the policy taking effect at once.
. "$(dirname "$0")/lib.sh"

write_conf
start_daemon || { fail "satokend did not start: $(cat "$T/daemon.log")"; finish; }
TOKRE='^sat_[0-9A-Za-z]{50}$'
: >"$T/secrets"	# every token seen, to prove none leaks anywhere

# ---- help and usage ----
t "--help" 0 ctl --help
check "--help lists the commands" '$OUT == *"token verify ACCOUNT"* && $OUT == *"policy set"*'
for c in whoami "group create" "group delete" "group list" "group add-member" \
    "group remove-member" "policy show" "policy add" "policy set" "policy remove" \
    "account create" "account list" "account show" "account update" \
    "account disable" "account enable" "account delete" "token mint" \
    "token create" "token list" "token show" "token revoke" "token rotate" \
    "token verify"; do
	# shellcheck disable=SC2086
	t "$c --help" 0 ctl $c --help
	check "$c --help shows its usage" '$OUT == *"usage:"*"$c"*'
done
t "group --help" 0 ctl account --help
check "group help lists subcommands" '$OUT == *"account disable NAME"*'
t "no command" 2 ctl
t "unknown command" 2 ctl frobnicate
check "unknown command message" '$ERR == "satokenctl: VALIDATION: unknown command"*'
t "unknown subcommand" 2 ctl account frob
t "unknown option" 2 ctl account list --bogus
check "error line format" '$ERR == "satokenctl: VALIDATION: unknown option --bogus"*'
t "missing argument" 2 ctl account show
t "extra argument" 2 ctl account show a b
t "option without value" 2 ctl account create x --role
# every error is one line, "satokenctl: CODE: message"
for args in "" "frob" "account" "account frob" "account show" "token mint" \
    "--bogus whoami" "account list --bogus" "account create x --role" \
    "token mint x --name y --ttl soon" "account show nosuch"; do
	# shellcheck disable=SC2086
	run ctl $args
	check "one error line for '$args'" '$RC != 0 && $(wc -l <<<"$ERR") == 1 && $ERR =~ ^satokenctl:\ [A-Z_]+:\ '
done

# ---- whoami ----
t "whoami" 0 ctl whoami
check "whoami: root is admin" '$OUT == *"uid:0(root)"* && $OUT == *"admin"*'
t "whoami --json" 0 ctl --json whoami
check "whoami JSON" '$OUT == "{\"ok\":true,"*"\"principal\":\"uid:0\""*"\"role\":\"admin\""*'
t "whoami --json after the command" 0 ctl whoami --json
check "--json after the command" '$OUT == "{\"ok\":true"*'
t "SATOKEN_CONF gives the socket" 0 env SATOKEN_CONF="$CONF" "$CTL" whoami
t "no daemon: UNAVAILABLE" 1 "$CTL" --socket "$T/nosuch.sock" whoami
check "UNAVAILABLE line" '$ERR == "satokenctl: UNAVAILABLE: cannot connect"*'

# ---- groups and policy ----
t "group create" 0 ctl group create ci --description "CI runners"
t "group create ops" 0 ctl group create ops
t "group create again: CONFLICT" 5 ctl group create ci
check "CONFLICT line" '$ERR == "satokenctl: CONFLICT: group ci already exists"'
t "group create bad name" 2 ctl group create Bad-Name
t "group list" 0 ctl group list
check "group list shows both" '$OUT == *"ci"*"CI runners"* && $OUT == *"ops"*'
t "group list --json" 0 ctl --json group list
check "group list JSON" '$OUT == *"\"items\":[{\"name\":\"ci\",\"description\":\"CI runners\""*'
t "policy show (empty)" 0 ctl policy show
check "empty policy prints nothing" '-z $OUT'
t "policy add unknown group" 4 ctl policy add nosuch
t "policy add" 0 ctl policy add ci
check "policy add prints the policy" '$OUT == "ci"'
t "policy set" 0 ctl policy set ops ci
check "policy set replaces" '$OUT == $'"'"'ops\nci'"'"
t "policy remove" 0 ctl policy remove ops
check "policy remove" '$OUT == "ci"'
t "policy set nothing" 0 ctl policy set
check "empty set means nobody" '-z $OUT'
t "policy add back" 0 ctl policy add ci ops
t "policy show --json" 0 ctl --json policy show
check "policy JSON" '$OUT == "{\"ok\":true,\"groups\":[\"ci\",\"ops\"]}"'

# ---- accounts ----
t "account create" 0 ctl account create app --group ci --description "the app" \
	--external-id "CMDB-42" --days-valid 365
check "account create says so" '$OUT == "created service account app"'
t "account create again: CONFLICT" 5 ctl account create app
t "account create bad name" 2 ctl account create 9app
t "account create long name" 2 ctl account create "a$(printf 'x%.0s' $(seq 1 64))"
t "account create unknown role" 2 ctl account create r1 --role boss
t "account create unknown group" 4 ctl account create r1 --group nosuch
t "account create days 0" 2 ctl account create r1 --days-valid 0
t "account create days 731" 2 ctl account create r1 --days-valid 731
t "account create days not a number" 2 ctl account create r1 --days-valid soon
t "account create description too long" 2 ctl account create r1 \
	--description "$(printf 'd%.0s' $(seq 1 257))"
t "account create unknown owner" 4 ctl account create r1 --owner no-such-user-x
check "NOT_FOUND names the owner" '$ERR == *"owner '"'"'no-such-user-x'"'"': no such user or uid"'
t "account create unknown uid owner" 4 ctl account create r1 --owner uid:3999999
t "account create unknown account owner" 4 ctl account create r1 --owner account:nosuch
t "an owner below the account's role" 3 ctl account create owned --owner nobody
check "says why" '$ERR == *"owner'"'"'s role viewer is below the account'"'"'s role admin"*'
t "account create owner by name" 0 ctl account create owned --owner nobody --role viewer
t "account show owned" 0 ctl --json account show owned
check "owner resolves to uid" '$(jfield owner) == "uid:65534"'
t "account show" 0 ctl account show app
check "account show fields" '$OUT == *"name:         app"* && $OUT == *"description:  the app"* && $OUT == *"groups:       ci"* && $OUT == *"external id:  CMDB-42"* && $OUT == *"(365 days)"*'
t "account show --json" 0 ctl --json account show app
check "account JSON" '$(jfield role) == admin && $(jfield owner) == "uid:0" && $OUT == *"\"enabled\":true"* && $(jnum days_valid) == 365'
t "account show unknown: NOT_FOUND" 4 ctl account show nosuch
check "NOT_FOUND line" '$ERR == "satokenctl: NOT_FOUND: no such account: nosuch"'
t "account update" 0 ctl account update app --description "renamed app"
t "account update shows" 0 ctl --json account show app
check "update took" '$(jfield description) == "renamed app"'
t "account update unknown" 4 ctl account update nosuch --description x
t "account update clears a field" 0 ctl account update app --external-id ""
t "account show after clear" 0 ctl --json account show app
check "external id cleared" '$OUT != *external_id*'
t "account list" 0 ctl account list
check "account list has both" '$OUT == *"app"*"admin"*"enabled"*"ci"* && $OUT == *"owned"*'

# public keys, checked with OpenSSL
openssl genpkey -algorithm ed25519 -out "$T/ed.key" 2>/dev/null
openssl pkey -in "$T/ed.key" -pubout -out "$T/ed.pub" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/p256.key" 2>/dev/null
openssl pkey -in "$T/p256.key" -pubout -out "$T/p256.pub" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T/p384.key" 2>/dev/null
openssl pkey -in "$T/p384.key" -pubout -out "$T/p384.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null
openssl pkey -in "$T/rsa.key" -pubout -out "$T/rsa.pub" 2>/dev/null
fp() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64 | tr -d '='; }
t "ed25519 key" 0 ctl account create k1 --public-key "$T/ed.pub"
t "ed25519 show" 0 ctl account show k1
check "ed25519 fingerprint" '$OUT == *"public key:   ed25519 SHA256:$(fp "$T/ed.pub")"*'
t "p256 key" 0 ctl account create k2 --public-key "$T/p256.pub"
t "p256 show" 0 ctl --json account show k2
check "p256 fingerprint" '$(jfield public_key_fingerprint) == "SHA256:$(fp "$T/p256.pub")" && $(jfield public_key_type) == ec-p256'
t "p384 refused" 2 ctl account create k3 --public-key "$T/p384.pub"
check "p384 message" '$ERR == *"EC P-256 or Ed25519"*'
t "rsa refused" 2 ctl account create k3 --public-key "$T/rsa.pub"
t "private key refused" 2 ctl account create k3 --public-key "$T/ed.key"
echo "not a key" >"$T/junk.pub"
t "garbage key refused" 2 ctl account create k3 --public-key "$T/junk.pub"
t "missing key file" 2 ctl account create k3 --public-key "$T/nosuch.pub"
t "key update" 0 ctl account update k1 --public-key "$T/p256.pub"
t "key update show" 0 ctl --json account show k1
check "key replaced" '$(jfield public_key_type) == ec-p256'
t "refused account was not created" 4 ctl account show k3

# ---- tokens ----
t "mint" 0 ctl token mint app --name deploy --ttl 1h
check "mint prints the token alone" '$OUT =~ $TOKRE'
TOK1=$OUT
echo "$TOK1" >>"$T/secrets"
check "mint details on stderr" '$ERR == *"id:       ${TOK1:4:12}"* && $ERR == *"account:  app"*'
ID1=${TOK1:4:12}
t "mint --json" 0 ctl --json token mint app --name json-one --ttl 90s
check "mint JSON" '$OUT == "{\"ok\":true,"* && $(jfield token) =~ $TOKRE && $(jfield id) == "$(jfield token | cut -c5-16)"'
echo "$(jfield token)" >>"$T/secrets"
t "mint same name: CONFLICT" 5 ctl token mint app --name deploy
t "mint ttl 0" 2 ctl token mint app --name t0 --ttl 0
t "mint ttl over max_ttl" 2 ctl token mint app --name t0 --ttl 31d
t "mint ttl not a duration" 2 ctl token mint app --name t0 --ttl soon
t "mint ttl 30d is the max" 0 ctl token mint app --name t30 --ttl 30d
echo "$OUT" >>"$T/secrets"
t "mint without --name" 2 ctl token mint app
t "mint empty name" 2 ctl token mint app --name ""
t "mint bad service" 2 ctl token mint app --name t0 --service "im ap"
t "mint bad source" 2 ctl token mint app --name t0 --from 10.0.0.1/8
t "mint unknown account" 4 ctl token mint nosuch --name t0
t "mint outside the policy" 3 ctl token mint owned --name t0
check "the policy message" '$ERR == "satokenctl: PERMISSION_DENIED: Service account owned does not have permission to use tokens"'
t "mint scoped" 0 ctl token mint app --name scoped --service imap --service smtp \
	--from 10.0.0.0/8 --from 2001:db8::/32
TOKS=$OUT
echo "$TOKS" >>"$T/secrets"
IDS=${TOKS:4:12}
t "default ttl is 30 days" 0 ctl --json token mint app --name dflt
echo "$(jfield token)" >>"$T/secrets"
check "30 days" '$(( $(jnum expires_at) - $(jnum created_at) )) == 2592000'

t "token show" 0 ctl token show "$ID1"
check "token show fields" '$OUT == *"id:           $ID1"* && $OUT == *"status:       active"* && $OUT == *"name:         deploy"*'
t "token show scoped --json" 0 ctl --json token show "$IDS"
check "scope in JSON" '$OUT == *"\"services\":[\"imap\",\"smtp\"]"* && $OUT == *"\"sources\":[\"10.0.0.0/8\",\"2001:db8::/32\"]"*'
t "token show unknown" 4 ctl token show AAAAAAAAAAAA
t "token show bad id" 2 ctl token show nope
t "token list ACCOUNT" 0 ctl token list app
check "token list" '$OUT == *"$ID1"*"app"*"deploy"*"active"*'
t "token list all" 0 ctl --json token list
check "listing has ids, never secrets" '$OUT == *"$ID1"* && $OUT != *"${TOK1:16:32}"* && $OUT != *"\"token\""*'
t "token list unknown account" 4 ctl token list nosuch

# verify: token on stdin only
t "verify ok" 0 ctl token verify app <<<"$TOK1"
check "verify prints ok" '$OUT == ok'
reader app "$TOK1"
check "a module reading the store accepts it too" '$OUT == ok'
t "verify wrong account" 3 ctl token verify owned <<<"$TOK1"
check "wrong_account" '$OUT == wrong_account'
t "verify garbage" 3 ctl token verify app <<<"sat_garbage"
check "malformed" '$OUT == malformed'
BAD=${TOK1:0:20}$(printf 'A%.0s' $(seq 1 28))${TOK1:48}
t "verify bad secret" 3 ctl token verify app <<<"$BAD"
check "bad secret refused" '$OUT == malformed || $OUT == bad_secret'
t "verify --json" 0 ctl --json token verify app <<<"$TOK1"
check "verify JSON" '$OUT == *"\"valid\":true"* && $OUT == *"\"reason\":\"ok\""*'
t "scoped: no service" 3 ctl token verify app <<<"$TOKS"
check "service_denied" '$OUT == service_denied'
t "scoped: service, no source" 3 ctl token verify app --service imap <<<"$TOKS"
check "source_denied" '$OUT == source_denied'
t "scoped: service and source" 0 ctl token verify app --service smtp --from 10.9.8.7 <<<"$TOKS"
t "scoped: v6 source" 0 ctl token verify app --service imap --from 2001:db8::1 <<<"$TOKS"
t "scoped: other source" 3 ctl token verify app --service imap --from 192.168.1.1 <<<"$TOKS"
t "scoped: other service" 3 ctl token verify app --service ssh --from 10.0.0.1 <<<"$TOKS"

# the policy and the account state take effect on the very next check
t "policy remove ci" 0 ctl policy remove ci
t "verify after policy remove" 3 ctl token verify app <<<"$TOK1"
check "policy_denied at once" '$OUT == policy_denied'
reader app "$TOK1"
check "and so does a module, at once" '$OUT == policy_denied'
t "policy add ci" 0 ctl policy add ci
t "verify after policy add" 0 ctl token verify app <<<"$TOK1"
t "disable" 0 ctl account disable app
t "verify disabled" 3 ctl token verify app <<<"$TOK1"
check "account_disabled" '$OUT == account_disabled'
reader app "$TOK1"
check "a module sees the disable at once" '$OUT == account_disabled'
t "mint for a disabled account" 5 ctl token mint app --name t-dis
t "enable" 0 ctl account enable app
t "verify enabled" 0 ctl token verify app <<<"$TOK1"

# rotation
t "rotate at once" 0 ctl token rotate "$ID1"
check "rotate prints the new token alone" '$OUT =~ $TOKRE && $OUT != "$TOK1"'
TOK2=$OUT
echo "$TOK2" >>"$T/secrets"
ID2=${TOK2:4:12}
check "rotate says what it replaced" '$ERR == *"replaces: $ID1 (revoked"*'
t "old token after rotate" 3 ctl token verify app <<<"$TOK1"
check "old is revoked" '$OUT == revoked'
t "new token after rotate" 0 ctl token verify app <<<"$TOK2"
t "old shows replaced_by" 0 ctl --json token show "$ID1"
check "replaced_by" '$(jfield replaced_by) == "$ID2" && $(jfield status) == revoked'
t "new keeps the name" 0 ctl --json token show "$ID2"
check "same name" '$(jfield name) == deploy'
t "rotate a revoked token: CONFLICT" 5 ctl token rotate "$ID1"
t "rotate with grace" 0 ctl --json token rotate "$ID2" --grace 1h
TOK3=$(jfield token)
echo "$TOK3" >>"$T/secrets"
ID3=${TOK3:4:12}
check "grace: old expires in an hour" '$(( $(jnum old_expires_at) - $(date +%s) )) -le 3600 && $(( $(jnum old_expires_at) - $(date +%s) )) -ge 3590'
t "old token works during grace" 0 ctl token verify app <<<"$TOK2"
t "new token works" 0 ctl token verify app <<<"$TOK3"
t "rotated token cannot rotate again" 5 ctl token rotate "$ID2"
t "the name is taken by the new one" 5 ctl token mint app --name deploy
AT=$(( $(date +%s) + 600 ))
t "rotate --old-expires (Unix seconds)" 0 ctl --json token rotate "$ID3" --old-expires "$AT"
echo "$(jfield token)" >>"$T/secrets"
check "old expiry as asked" '$(jnum old_expires_at) == "$AT"'
ID4=$(jfield id)
RFC=$(date -u -d "@$(( $(date +%s) + 900 ))" +%Y-%m-%dT%H:%M:%SZ)
t "rotate --old-expires RFC 3339" 0 ctl --json token rotate "$ID4" --old-expires "$RFC"
echo "$(jfield token)" >>"$T/secrets"
check "RFC 3339 expiry" '$(jnum old_expires_at) == "$(date -u -d "$RFC" +%s)"'
t "rotate grace and old-expires" 2 ctl token rotate "$ID4" --grace 1h --old-expires "$AT"
t "rotate old-expires in the past" 2 ctl token rotate "$IDS" --old-expires 1000
t "rotate bad time" 2 ctl token rotate "$IDS" --old-expires tomorrow
t "rotate unknown" 4 ctl token rotate AAAAAAAAAAAA
t "rotate keeps scope" 0 ctl --json token rotate "$IDS" --ttl 2h
check "scope kept, ttl given" '$OUT == *"\"services\":[\"imap\",\"smtp\"]"* && $(jnum ttl) == 7200'
echo "$(jfield token)" >>"$T/secrets"

# revoke
t "revoke" 0 ctl token revoke "$ID3"
t "verify revoked" 3 ctl token verify app <<<"$TOK3"
check "revoked" '$OUT == revoked'
reader app "$TOK3"
check "a module sees the revocation at once" '$OUT == revoked'
t "revoke again is ok" 0 ctl token revoke "$ID3"
t "revoke unknown" 4 ctl token revoke AAAAAAAAAAAA
t "revoke bad id" 2 ctl token revoke "x y"

# token create: account and token in one step, under the policy
t "token create" 0 ctl token create svc1 --group ci --description "made with its token"
check "token create prints the token" '$OUT =~ $TOKRE'
TOKC=$OUT
echo "$TOKC" >>"$T/secrets"
t "token create: token works" 0 ctl token verify svc1 <<<"$TOKC"
t "token create: default name" 0 ctl --json token show "${TOKC:4:12}"
check "named default" '$(jfield name) == default'
t "token create --name --json" 0 ctl --json token create svc2 --group ops --name first --ttl 10m
check "token create JSON" '$(jfield token) =~ $TOKRE && $(jfield name) == first && $(( $(jnum expires_at) - $(jnum created_at) )) == 600'
echo "$(jfield token)" >>"$T/secrets"
t "token create outside the policy" 3 ctl token create svc3
check "policy message" '$ERR == *"Service account svc3 does not have permission to use tokens"'
t "refused token create made no account" 4 ctl account show svc3
t "token create existing account" 5 ctl token create svc1 --group ci

# the same through the protocol, with the field names a script may use
raw() { "$RAWSOCK" "$SOCK" "$@"; }
run raw send <<<'{"op":"token.create","name":"p1","groups":["ci"]}'
check "token.create with only name: the account" '$(jq -r .account <<<"$OUT") == p1 && $(jq -r .name <<<"$OUT") == default && $(jq -r .token <<<"$OUT") =~ $TOKRE'
TOKP=$(jq -r .token <<<"$OUT")
echo "$TOKP" >>"$T/secrets"
run raw send <<<'{"op":"token.create","name":"p2","token_name":"x","groups":["ci"]}'
check "token.create with token_name" '$(jq -r .account <<<"$OUT") == p2 && $(jq -r .name <<<"$OUT") == x'
echo "$(jq -r .token <<<"$OUT")" >>"$T/secrets"
run raw send <<<'{"op":"token.create","account":"p3","name":"y","groups":["ci"]}'
check "token.create with account and name" '$(jq -r .account <<<"$OUT") == p3 && $(jq -r .name <<<"$OUT") == y'
echo "$(jq -r .token <<<"$OUT")" >>"$T/secrets"
run raw send <<<'{"op":"group.add-member","group":"ops","account":"p1"}'
check "add-member with one account" '$(jq -r .ok <<<"$OUT") == true'
run raw send < <(printf '{"op":"token.verify","account":"p1","token":"%s","rhost":"10.0.0.1"}\n' "$TOKP")
check "token.verify with rhost" '$(jq -r .reason <<<"$OUT") == ok && $(jq -r .valid <<<"$OUT") == true && $(jq -r .id <<<"$OUT") == "${TOKP:4:12}"'
run raw send <<<'{"op":"token.verify","token":"x","from":"1.2.3.4","rhost":"1.2.3.4"}'
check "from and rhost together" '$(jq -r .error <<<"$OUT") == VALIDATION'
for a in p1 p2 p3; do ctl account delete "$a" >/dev/null; done

# membership
t "add-member" 0 ctl group add-member ops app owned
t "membership shows" 0 ctl --json account show owned
check "owned in ops" '$OUT == *"\"groups\":[\"ops\"]"*'
t "owned may mint now" 0 ctl token mint owned --name now-allowed
echo "$OUT" >>"$T/secrets"
t "add-member unknown account" 4 ctl group add-member ops nosuch
t "add-member unknown group" 4 ctl group add-member nosuch app
t "remove-member" 0 ctl group remove-member ops owned
t "membership gone" 0 ctl --json account show owned
check "owned in no group" '$OUT == *"\"groups\":[]"*'
t "update --group replaces (admin)" 0 ctl account update owned --group ci --group ops
t "update groups show" 0 ctl --json account show owned
check "two groups" '$OUT == *"\"groups\":[\"ci\",\"ops\"]"*'

# a group deleted leaves the policy and its members
t "group delete" 0 ctl group delete ops
t "policy without ops" 0 ctl policy show
check "ops gone from policy" '$OUT == ci'
t "members without ops" 0 ctl --json account show owned
check "ops gone from members" '$OUT == *"\"groups\":[\"ci\"]"*'
t "group delete unknown" 4 ctl group delete ops

# paging
for i in 1 2 3 4 5; do ctl account create "page$i" >/dev/null; done
t "page 1" 0 ctl --json account list --limit 3
check "3 items and a cursor" '$(grep -o "\"name\":" <<<"$OUT" | wc -l) == 3 && -n "$(jfield cursor)"'
CUR=$(jfield cursor)
t "page 2" 0 ctl --json account list --limit 3 --cursor "$CUR"
check "page 2 goes on" '$OUT == *"\"name\":\"page"* && $OUT != *"\"name\":\"$CUR\""*'
t "human page" 0 ctl account list --limit 2
check "human page says how to go on" '$ERR == "more: --cursor "*'
t "all pages merged" 0 ctl --json account list
check "every account, no cursor" '$(grep -o "\"name\":\"page" <<<"$OUT" | wc -l) == 5 && $OUT != *cursor*'
t "token list paging" 0 ctl --json token list --limit 2
TCUR=$(jfield cursor)
check "token cursor" '$TCUR == */*'
t "token list page 2" 0 ctl --json token list --limit 2 --cursor "$TCUR"
check "page 2 differs" '$OUT != *"\"id\":\"${TCUR#*/}\""*'
t "token list bad cursor" 2 ctl token list --cursor garbage

# deleting an account deletes its tokens, at once
t "account delete" 0 ctl account delete app
t "its token is gone" 3 ctl token verify app <<<"$TOK2"
check "unknown_token" '$OUT == unknown_token'
reader app "$TOK2"
check "a module sees the deletion at once" '$OUT == unknown_token'
t "its token record is gone" 4 ctl token show "$ID2"
t "account gone" 4 ctl account show app
t "delete unknown" 4 ctl account delete app

# --json errors: the reply on stdout, the line on stderr, the exit code
t "--json error" 4 ctl --json account show nosuch
check "error JSON" '$OUT == "{\"ok\":false,\"error\":\"NOT_FOUND\",\"message\":\"no such account: nosuch\"}" && $ERR == "satokenctl: NOT_FOUND: "*'

# the audit trail: one line per request, never a secret
check "audit: mint line" '"$(grep -c "action=token.mint outcome=ok principal=uid:0(root) role=admin account=app token=$ID1 name=deploy" "$AUDIT")" == 1'
check "audit: auth lines" '"$(grep -c "action=auth outcome=denied reason=policy_denied .*account=app token=$ID1 service=" "$AUDIT")" == 1'
check "audit: denied mint" '"$(grep -c "action=token.mint outcome=denied reason=PERMISSION_DENIED" "$AUDIT")" -ge 1'
check "audit: policy detail" '"$(grep -c "action=policy.set outcome=ok .* policy=ops,ci" "$AUDIT")" == 1'
leaks=0
while read -r s; do
	[ -n "$s" ] || continue
	if grep -qF -- "${s:16:32}" "$AUDIT" "$T/daemon.log"; then leaks=$((leaks + 1)); fi
done <"$T/secrets"
check "no secret in the audit log or the daemon log ($(wc -l <"$T/secrets") tokens)" '$leaks == 0 && $(wc -l <"$T/secrets") -ge 10'
finish
