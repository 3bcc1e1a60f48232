#!/bin/bash
# Power cuts (issue 22).  The real satokend, under rec.so, recovers a
# store its last run left dirty, then serves mints, rotations and
# revocations from several clients with a checkpoint every few KB of
# journal, and stops.  crashmodel.py builds every state a power cut
# could leave at each point of that trace and checks each through the
# real recovery and the real verification decision.  Then the same for
# a daemon built without the journal batch's fdatasync: the checker must
# catch it.
#   run.sh quick   2 runs of 20 changes, 240 states sampled (make check)
#   run.sh full    4 runs of 100 changes, 12,000 of the half million or
#                  so distinct states (make stress)
# The traced store lives on tmpfs when there is one: its fsyncs cost
# nothing there, and the model, not the device, decides what survives.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../integration/daemon/lib.sh"
CRB=$ROOT/$B/tests/crash
HERE=$ROOT/tests/crash
MODE=${1:-quick}
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
CLIENTS=4
if [ "$MODE" = full ] || [ "${3:-}" = full ]; then
	PHASES="term kill term term" CHANGES=100 CPBYTES=8000
	STATES=12000 MIXED=3 DBS=6
else
	PHASES="kill term" CHANGES=20 CPBYTES=3000 STATES=240 MIXED=2 DBS=3
fi

# trace LABEL DAEMON: a dirty store, then the traced runs, into $T/LABEL.*
# The daemon checkpoints once after CPBYTES of journal, then only every
# 4 MiB, so the trace spans several runs: each ends as PHASES says
# (SIGTERM: a clean close; SIGKILL: the next run rebuilds from the base),
# and each adds a start, a checkpoint and CHANGES changes.
trace() {
	local label=$1 daemon=$2 how n=0
	rm -rf "$T/state" && mkdir -m 0755 "$T/state"
	write_conf "max_tokens_per_account = 100000"
	SATOKEND=$daemon
	start_daemon || { fail "$label: satokend did not start"; return 1; }
	ctl group create ci >/dev/null
	ctl policy add ci >/dev/null
	for c in $(seq 1 $CLIENTS); do
		ctl account create "w$c" --group ci >/dev/null
		ctl token mint "w$c" --name before >/dev/null 2>&1
	done
	# killed: the traced run starts with a rebuild from base and journal
	kill_daemon
	cp -a "$T/state" "$T/$label.init"
	rm -f "$T/$label.trace"
	# the recorder under the daemon alone, not under start_daemon's grep
	printf '#!/bin/sh\nexec env CRASH_DIR=%q CRASH_TRACE=%q LD_PRELOAD=%q SATOKEND_CHECKPOINT_BYTES=%q %q "$@"\n' \
		"$T/state" "$T/$label.trace" "$CRB/rec.so" "$CPBYTES" "$daemon" \
		>"$T/traced"
	chmod +x "$T/traced"
	SATOKEND=$T/traced
	for how in $PHASES; do
		start_daemon ||
			{ fail "$label: traced satokend did not start"; return 1; }
		n=$((n + 1))
		run python3 "$HERE/load.py" "$SOCK" "$CHANGES" "$CLIENTS" w "r$n"
		[ "$RC" = 0 ] || { fail "$label: load: $ERR"; return 1; }
		if [ "$how" = kill ]; then kill_daemon; else stop_daemon; fi
	done
	SATOKEND=$ROOT/$B/daemon/satokend
}

# model LABEL FS [args]: the states of $T/LABEL.trace, checked
model() {
	local label=$1 fs=$2
	shift 2
	run python3 "$HERE/crashmodel.py" --trace "$T/$label.trace" \
		--init "$T/$label.init" --dir "$T/state" --db satoken.db \
		--chk "$CRB/crashchk" --work "$T/$label.work" --fs "$fs" \
		--db-samples "$DBS" --mixed "$MIXED" "$@"
	printf '%s\n' "$OUT" | sed "s/^/[$NAME] /"
	[ -n "$ERR" ] && printf '%s\n' "$ERR" | tail -n 5 | sed "s/^/[$NAME] /" >&2
	return 0
}

NAME=crash
if [ "$MODE" = trace ]; then
	# for working on the model: run.sh trace DIR [full] keeps the traces
	trace ok "$ROOT/$B/daemon/satokend" && trace nosync "$CRB/satokend-nosync"
	cp -a "$T" "$2"
	finish
fi
if trace ok "$ROOT/$B/daemon/satokend"; then
	model ok posix --states "$STATES"
	t_rc=$RC
	check "strict POSIX: every crash state recovers" '$t_rc == 0'
	if [ "$MODE" = full ]; then
		n=$(sed -n 's/.* \([0-9]*\) checked.*/\1/p' <<<"$OUT")
		check "at least 10,000 distinct states checked (got ${n:-none})" \
			'${n:-0} -ge 10000'
		a=$(sed -n 's/.* \([0-9]*\) acknowledged changes.*/\1/p' <<<"$OUT")
		check "at least 300 acknowledged changes (got ${a:-none})" \
			'${a:-0} -ge 300'
		c=$(sed -n 's/.* \([0-9]*\) checkpoints.*/\1/p' <<<"$OUT")
		check "at least 3 checkpoints (got ${c:-none})" '${c:-0} -ge 3'
	fi
	model ok ext4 --states "$((STATES / 2))"
	t_rc=$RC
	check "ext4 data=ordered: every crash state recovers" '$t_rc == 0'
fi

# the journal batch's fdatasync left out: a power cut loses an
# acknowledged change, and the checker must say so
# (a short trace, whatever the mode: the first lost change ends it)
PHASES="kill term" CHANGES=10 CPBYTES=3000
if trace nosync "$CRB/satokend-nosync"; then
	model nosync posix --expect-failures --keep 1 --states "$STATES"
	t_rc=$RC
	check "a daemon without the batch's fdatasync is caught" '$t_rc == 0'
fi
finish
