#!/bin/bash
# Freshness: a private satokend; fresh drives PAM and SASL in one process.
set -u
ROOT=$(pwd) B=${B:-build} ROUNDS=${ROUNDS:-150}
T=$(mktemp -d /tmp/satoken-fresh.XXXXXX)
DPID=
trap '[ -n "$DPID" ] && kill -TERM $DPID 2>/dev/null && wait $DPID; rm -rf "$T"' EXIT
CONF=$T/satoken.conf SOCK=$T/satokend.sock
cat >"$CONF" <<CONF
database = $T/satoken.db
socket = $SOCK
audit = file:$T/audit.log
admin_users = root
rate_limit = 0
CONF
chmod 0644 "$CONF"
"$ROOT/$B/daemon/satokend" --foreground --config "$CONF" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 200); do grep -qs serving "$T/daemon.log" && break; sleep 0.05; done
ctl() { "$ROOT/$B/cli/satokenctl" --socket "$SOCK" "$@" >/dev/null; }
if ! { ctl group create fresh && ctl policy add fresh &&
	ctl account create svc --group fresh; }; then
	echo "fresh: setup failed"; cat "$T/daemon.log"; echo "0 passed, 1 failed"; exit 1
fi
mkdir -p "$T/pam.d" "$T/sasl"
echo "auth required $ROOT/$B/pam/pam_satoken.so conf=$CONF" >"$T/pam.d/fresh"
ln -s "$ROOT/$B/sasl/libsatoken.so" "$T/sasl/libsatoken.so"
env ${FRESH_PRELOAD:+LD_PRELOAD=$FRESH_PRELOAD} SATOKEN_CONF=$CONF \
	"$ROOT/$B/tests/fresh/fresh" "$SOCK" "$T/pam.d" "$T/sasl" "$ROUNDS"
