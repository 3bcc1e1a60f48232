#!/bin/bash
# Idle crowds and slow clients (issue 8): "10,000 idle connections plus
# a client sending one byte a second: a normal request still completes,
# p99 < 100 ms".  tests/reliability/idle.c opens the crowd from many uids
# (the daemon allows 64 connections per uid), runs the dribbler and
# times a client that connects, asks and hangs up every 10 ms.  The
# bound is the issue's, in every build: a sanitizer build gets the same
# 100 ms.  Then the daemon is made full (a descriptor limit that leaves
# room for 1,000 connections) and a crowd of 1,000 fills it: newcomers
# must still be served, the longest-idle connections making room.
. "$(dirname "$0")/lib.sh"
IDLE=$RELB/idle
NIDLE=10000
# the crowd must connect and be measured within its 30 s idle timeout
SECS=15
[ "${RELT_LONG:-0}" = 1 ] && SECS=20
FIRST_UID=2000000	# no passwd entries: SO_PEERCRED is all the daemon needs

# a sanitizer build: what ASan keeps of freed blocks (the quarantine)
# and of allocations' call stacks is not the daemon's memory
case $B in *san*) export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0:malloc_context_size=0" ;; esac

write_conf "rate_limit = 0"
if [ "$(id -u)" != 0 ]; then
	loud_skip "not root: the crowd needs setresuid to spread over many uids"
	finish
fi
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((NIDLE + 200)) ]; then
	loud_skip "the hard descriptor limit here is $hard: satokend cannot hold $NIDLE connections (raise it: LimitNOFILE= or limits.conf)"
	fail "not enough descriptors for $NIDLE idle connections"
	finish
fi
start_daemon || { fail "satokend did not start"; finish; }
soft=$(sed -n 's/^Max open files *\([0-9a-z]*\).*/\1/p' "/proc/$DPID/limits")
check "the daemon raised its descriptor limit ($soft)" '$soft == unlimited || $soft -ge $((NIDLE + 100))'
ctl account create idle >/dev/null

run "$IDLE" "$SOCK" "$DPID" "$NIDLE" "$SECS" "$FIRST_UID"
show_run
check "$NIDLE idle connections held" '$OUT == *"crowd: $NIDLE of $NIDLE connected"*'
check "every timed request answered, p99 < 100 ms" '$RC == 0 && $OUT == *"timed: "*", 0 failed, "* && $OUT == *PASS'
check "the crowd was not cut off while under the bound" '$OUT == *"crowd still open at the end: $NIDLE"*'
check "the dribbler is cut off after its 10 s" '$OUT =~ dribbler:\ cut\ off\ [1-9][0-9]*\ times\ after\ (9|1[0-3])\.[0-9]-(9|1[0-3])\.[0-9]\ s,\ answered\ 0'
rss0=$(sed -n 's/^daemon: rss \([0-9]*\) KiB.*/\1/p' <<<"$OUT")
rss1=$(sed -n 's/.*fds before, \([0-9]*\) KiB.*/\1/p' <<<"$OUT")
per=$(( (${rss1:-0} - ${rss0:-0}) * 1024 / NIDLE ))
echo "[$NAME] daemon memory per idle connection: $per bytes"
check "an idle connection costs under 4 KiB of daemon memory ($per bytes)" '-n $rss0 && -n $rss1 && $per -lt 4096'
t "the daemon serves" 0 ctl whoami
stop_daemon

# full: the limit leaves 1064 - 64 = 1000 connections.  Last in the
# file, as the shell cannot raise its hard limit again.
ulimit -n 1064
start_daemon || { fail "satokend did not start under ulimit -n 1064"; finish; }
run env IDLE_ANY_LIMIT=1 "$IDLE" "$SOCK" "$DPID" 1000 5 "$FIRST_UID"
printf '%s\n' "$OUT" | sed "s/^/[$NAME] full: /"
still=$(sed -n 's/^crowd still open at the end: \([0-9]*\)/\1/p' <<<"$OUT")
check "full: the crowd fills the daemon" '$OUT == *"crowd: 1000 of 1000 connected"*'
check "full: every timed request answered, p99 < 100 ms" '$RC == 0 && $OUT == *PASS'
check "full: idle connections made room ($still of 1000 left)" '-n $still && $still -lt 1000 && $still -ge 400'
check "full: nobody refused" '$(grep -c "refusing new ones" "$T/daemon.log") == 0'
stop_daemon
finish
