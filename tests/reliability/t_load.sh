#!/bin/bash
# Load (issue 8): "64 clients for 60 s: no failed request, RSS and open
# files flat".  tests/reliability/load.c runs the clients, checks every
# reply and samples the daemon's RSS and descriptors each second; it
# says what "flat" means.  10 s here, 60 s with RELT_LONG=1 (make
# stress).  Rate limit off (the clients are one principal, root, as an
# admin's scripts would be).  The mix deletes what it makes, so that the
# store stays bounded: see load.c.
. "$(dirname "$0")/lib.sh"
LOAD=$RELB/load
SECS=10
[ "${RELT_LONG:-0}" = 1 ] && SECS=60
# a sanitizer build keeps freed blocks in a quarantine (256 MB by
# default) and the call stack of every allocation in a store that only
# grows (about 10 bytes a request here): either would grow the RSS for
# minutes.  A small quarantine fills during the warm-up, and without
# the stacks (reports lose their allocation site, not their detection)
# a leak is visible again.
case $B in *san*) export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16:malloc_context_size=0" ;; esac

# audit_reads: the mix has whoami and shows, and every request is to
# leave its line
write_conf "rate_limit = 0" "audit_reads = yes"
start_daemon || { fail "satokend did not start"; finish; }
before=$(wc -l <"$AUDIT")
run "$LOAD" "$SOCK" "$DPID" 64 "$SECS"
show_run
check "64 clients for $SECS s: the driver passes" '$RC == 0 && $OUT == *PASS'
check "no failed request" '$OUT == *"failed 0"* && -z $ERR'
check "RSS flat" '$OUT == *"rss flat:"*'
check "open files flat" '$OUT == *"fds flat:"*'
reqs=$(sed -n 's/^requests \([0-9]*\),.*/\1/p' <<<"$OUT")
check "a real load: at least 100 requests a second" '${reqs:-0} -ge $((SECS * 100))'
after=$(wc -l <"$AUDIT")
check "every request audited ($((after - before)) lines, $reqs requests)" '$((after - before)) -ge ${reqs:-1}'
t "the daemon serves after the load" 0 ctl whoami
check "no connection was refused" '$(grep -c "refusing new ones" "$T/daemon.log") == 0'
stop_daemon
finish
