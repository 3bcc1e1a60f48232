#!/bin/bash
# Fault injection in the real satokend (issue 8): for each family of
# calls (allocation, open, read, write, fsync, rename, ftruncate, GDBM)
# and each n, the n-th call after the daemon's first accept fails
# (tests/reliability/dfault.c, by LD_PRELOAD) while a client sends a mix
# of changes: mint, rotate with a grace period, revoke, account disable,
# policy change, account create.  Then the daemon is stopped, restarted
# without the shim, and:
#   - the store opens;
#   - every acknowledged change is there (the minted and rotated tokens
#     verify, the old one too, within its grace; the revoked one does
#     not; the disabled account refuses; the policy and account exist);
#   - every change the daemon answered UNAVAILABLE or INTERNAL is absent,
#     and no fault is answered anything else (VALIDATION, NOT_FOUND...);
#   - a change that got no answer at all (the daemon hung up: it could
#     not even build the reply) is there whole or not at all: DESIGN
#     promises that an acknowledged change is durable, and a client that
#     heard nothing cannot know, as after a crash;
#   - while the faulty daemon was up, it answered reads correctly or
#     refused them as UNAVAILABLE/INTERNAL, or exited with a message in
#     its log; it never hung and never died of a signal;
#   - one fault fails at most the one change it hit: the daemon does not
#     stay broken until a restart.
# n runs from 1 until the whole exchange makes fewer calls than n.  The
# short form (make check) visits every n up to 40 and then a spread up
# to the end; RELT_LONG=1 (make stress) visits every n up to the end.
# Then bursts: four calls in a row fail, and once they have passed a
# mint must go through again, without a restart.
# libjansson 2.14 itself crashes inside json_loadb and json_dumpb when an
# allocation fails at a few points of its own (the long form's alloc
# sweep met one, #519); daemon/jsonmem.c now serves a failed allocation
# from a reserve and refuses the request, and DFAULT_ONLY=alloc:519 no
# longer kills the daemon.
# DFAULT_ONLY=FAMILY:N runs one point and prints the shim's log (with
# DFAULT_STACK=1, the stack of the failed call); DFAULT_FAMILIES narrows
# the sweep.
. "$(dirname "$0")/lib.sh"
SHIM=$RELB/dfault.so
read -r -a FAMILIES <<<"${DFAULT_FAMILIES:-alloc open read write fsync rename ftruncate gdbm}"
CAP=${DFAULT_CAP:-100000}
# a checkpoint after every commit, so that its copy, rename and truncate
# are among the calls that fail
export SATOKEND_CHECKPOINT_BYTES=1
TMO=10

if [ ! -f "$SHIM" ]; then
	loud_skip "no $SHIM"
	finish
fi
if ldd "$SATOKEND" | grep -q libasan; then
	# ASan passes our interposed calls on (verify_asan_link_order=0),
	# so the sanitized daemon is exercised as well
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	echo "[$NAME] the shim runs under the sanitized daemon ($B)"
fi

# ---- one store state every run starts from ----
write_conf
start_daemon || { fail "satokend did not start"; finish; }
ctl group create ci >/dev/null
ctl group create ops >/dev/null
ctl policy add ci >/dev/null
for a in a1 a2 dis; do ctl account create "$a" --group ci >/dev/null; done
mint_to "$T/t0" a1 --name base			# for reads during the faults
mint_to "$T/trot" a1 --name rot			# rotated
mint_to "$T/trev" a2 --name rev			# revoked
mint_to "$T/tdis" dis --name d			# its account disabled
stop_daemon
for f in t0 trot trev tdis; do
	[ -s "$T/$f" ] || { fail "setup: no token $f"; finish; }
done
ROT_ID=$(cut -c5-16 "$T/trot")
REV_ID=$(cut -c5-16 "$T/trev")
cp -a "$T/state" "$T/pristine"

# vfy ACCOUNT TOKENFILE: RC (0 ok, 3 refused, 1 unavailable), OUT the reason
vfy() {
	run timeout "$TMO" "$CTL" --socket "$SOCK" token verify "$1" <"$2"
}

# an answer to a change: ok; err, the daemon said UNAVAILABLE or INTERNAL;
# lost, no answer came (the daemon hung up or died: satokenctl says
# UNAVAILABLE too, but nobody told it the change failed); or bad (any
# other answer, which is itself a failure)
classify() {
	if [ "$RC" = 0 ]; then
		echo ok
	elif [ "$RC" = 1 ] && [[ $ERR == *"without an answer"* ||
	    $ERR == *"cannot send to satokend"* ||
	    $ERR == *"cannot connect to satokend"* ]]; then
		echo lost
	elif [ "$RC" = 1 ] && [[ $ERR == *UNAVAILABLE* || $ERR == *INTERNAL* ]]; then
		echo err
	else
		echo "$1 answered exit $RC: ${ERR:0:200}" >>"$T/bad"
		echo bad
	fi
}

declare -A VISITED ACKED REFUSED LOST MAXN
DEAD=0
SIGNALLED=0

# one_run FAMILY N: 0 if the n-th call was reached, 1 if it never was
one_run() {
	local fam=$1 n=$2 what="$1 #$2" st rd list logpos
	local -A A

	rm -rf "$T/state" "$T/dfault.log" "$T/new" "$T/tnew"
	cp -a "$T/pristine" "$T/state"
	logpos=$(stat -c %s "$T/daemon.log" 2>/dev/null || echo 0)
	if ! LD_PRELOAD=$SHIM DFAULT_FAMILY=$fam DFAULT_N=$n \
	    DFAULT_LOG=$T/dfault.log start_daemon; then
		fail "$what: satokend did not start under the shim"
		return 1
	fi

	# the changes, each answer recorded
	run timeout "$TMO" "$CTL" --socket "$SOCK" --json token mint a1 --name fresh
	A[mint]=$(classify "mint")
	[ "${A[mint]}" = ok ] && jq -r .token <<<"$OUT" >"$T/new"
	run timeout "$TMO" "$CTL" --socket "$SOCK" --json token rotate "$ROT_ID" --grace 1h
	A[rotate]=$(classify "rotate")
	[ "${A[rotate]}" = ok ] && jq -r .token <<<"$OUT" >"$T/tnew"
	run timeout "$TMO" "$CTL" --socket "$SOCK" token revoke "$REV_ID"
	A[revoke]=$(classify "revoke")
	run timeout "$TMO" "$CTL" --socket "$SOCK" account disable dis
	A[disable]=$(classify "disable")
	run timeout "$TMO" "$CTL" --socket "$SOCK" policy add ops
	A[policy]=$(classify "policy")
	run timeout "$TMO" "$CTL" --socket "$SOCK" account create fresh --group ci
	A[create]=$(classify "create")
	for k in "${!A[@]}"; do
		case ${A[$k]} in
		ok) ACKED[$fam]=$((${ACKED[$fam]:-0} + 1)) ;;
		err) REFUSED[$fam]=$((${REFUSED[$fam]:-0} + 1)) ;;
		lost) LOST[$fam]=$((${LOST[$fam]:-0} + 1)) ;;
		*) fail "$what: $k answered neither ok nor UNAVAILABLE/INTERNAL: $(grep "^$k " "$T/bad" | tail -n 1)" ;;
		esac
	done

	# reads while the faulty daemon is up: right, or refused as unavailable
	vfy a1 "$T/t0"
	if [ "$RC" = 124 ]; then
		fail "$what: the daemon hung on a read"
	elif [ "$RC" != 0 ] && [ "$RC" != 1 ]; then
		fail "$what: a valid token read as '$OUT' (exit $RC)"
	fi
	if [ "${A[revoke]}" = ok ]; then
		vfy a2 "$T/trev"
		[ "$RC" != 0 ] || fail "$what: a token verified after its acknowledged revocation"
	fi
	run timeout "$TMO" "$CTL" --socket "$SOCK" account list
	[ "$RC" = 0 ] || [ "$RC" = 1 ] || fail "$what: account list exit $RC"
	# one fault fails at most the change it hit: the writer does not
	# stay broken (a journal header or a GDBM handle left bad)
	nbad=0
	for k in "${!A[@]}"; do [ "${A[$k]}" = ok ] || nbad=$((nbad + 1)); done
	if [ "${DFAULT_COUNT:-1}" = 1 ] && [ "$nbad" -gt 1 ]; then
		fail "$what: one fault failed $nbad changes"
	fi
	# after a burst of faults, once it has passed, changes go through
	# again without a restart (each refused attempt uses up at least one
	# failing call, if the burst has not passed yet)
	if [ "${DFAULT_COUNT:-1}" != 1 ] && kill -0 "$DPID" 2>/dev/null; then
		for i in $(seq 0 "$DFAULT_COUNT"); do
			run timeout "$TMO" "$CTL" --socket "$SOCK" token mint a2 --name "after$i"
			[ "$RC" != 0 ] || break
		done
		[ "$RC" = 0 ] || fail "$what: after the burst, a mint is still refused: $ERR"
	fi

	# stop it; a daemon that left by itself must have said why
	if kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"
		wait "$DPID" 2>/dev/null
		st=$?
	else
		wait "$DPID" 2>/dev/null
		st=$?
		DEAD=$((DEAD + 1))
		tail -n 1 "$T/daemon.log" | grep -q '^satokend: ' ||
			fail "$what: the daemon exited ($st) without a message"
	fi
	DPID=
	if tail -c +"$((logpos + 1))" "$T/daemon.log" | grep -qE "Sanitizer|runtime error:"; then
		fail "$what: a sanitizer report in the faulty daemon's log"
		tail -c +"$((logpos + 1))" "$T/daemon.log" |
			grep -A 30 -E "Sanitizer|runtime error:" | head -n 40 >&2
	fi
	if [ "$st" -gt 128 ]; then
		SIGNALLED=$((SIGNALLED + 1))
		fail "$what: the daemon died of signal $((st - 128))"
	fi

	# restart without the shim: what was acknowledged is there, nothing
	# that was refused is
	if ! start_daemon; then
		fail "$what: the store did not open after the run: $(tail -n 2 "$T/daemon.log")"
		return 0
	fi
	run ctl --json token list a1
	list=$OUT
	rd=$(jq -r '[.items[] | select(.name == "fresh")] | length' <<<"$list")
	case ${A[mint]} in
	ok)	vfy a1 "$T/new"
		[ "$RC" = 0 ] || fail "$what: an acknowledged mint does not verify ($OUT)" ;;
	err)	[ "$rd" = 0 ] || fail "$what: a refused mint is in the store" ;;
	*)	[ "$rd" -le 1 ] || fail "$what: a mint left $rd tokens" ;;
	esac
	rd=$(jq -r '[.items[] | select(.name == "rot")] | length' <<<"$list")
	vfy a1 "$T/trot"
	# within its grace the old token verifies, whatever became of it
	[ "$RC" = 0 ] || fail "$what: the rotated token does not verify, rotation ${A[rotate]} ($OUT)"
	case ${A[rotate]} in
	ok)	vfy a1 "$T/tnew"
		[ "$RC" = 0 ] || fail "$what: an acknowledged rotation's token does not verify ($OUT)"
		[ "$rd" = 2 ] || fail "$what: $rd tokens named rot after a rotation" ;;
	err)	[ "$rd" = 1 ] || fail "$what: a refused rotation left $rd tokens named rot" ;;
	*)	[ "$rd" = 1 ] || [ "$rd" = 2 ] || fail "$what: a rotation left $rd tokens named rot" ;;
	esac
	vfy a2 "$T/trev"
	case ${A[revoke]}:$OUT in
	ok:revoked|err:ok|lost:ok|lost:revoked) ;;
	*)	fail "$what: a revocation answered ${A[revoke]} reads '$OUT'" ;;
	esac
	vfy dis "$T/tdis"
	case ${A[disable]}:$OUT in
	ok:account_disabled|err:ok|lost:ok|lost:account_disabled) ;;
	*)	fail "$what: a disable answered ${A[disable]} reads '$OUT'" ;;
	esac
	run ctl policy show
	rd=$([[ $OUT == *ops* ]] && echo there || echo absent)
	case ${A[policy]}:$rd in
	ok:there|err:absent|lost:*) ;;
	*)	fail "$what: a policy change answered ${A[policy]} is $rd" ;;
	esac
	run ctl account show fresh
	case ${A[create]}:$RC in
	ok:0|err:4|lost:0|lost:4) ;;
	*)	fail "$what: an account creation answered ${A[create]} reads exit $RC" ;;
	esac
	stop_daemon
	if [ -s "$T/dfault.log" ] && grep -q '^hit ' "$T/dfault.log"; then
		VISITED[$fam]=$((${VISITED[$fam]:-0} + 1))
		return 0
	fi
	MAXN[$fam]=$(sed -n 's/^calls [a-z]* //p' "$T/dfault.log" | tail -n 1)
	return 1
}

# the n to visit after n: every one in the long form; in the short form
# every one up to 12, then steps that grow with n
next_n() {
	local n=$1
	if [ -n "${RELT_LONG:-}" ] || [ "$n" -lt 40 ]; then
		echo $((n + 1))
	else
		echo $((n + n / 4))
	fi
}

nruns=0
before_fail=$FAILED
if [ -n "${DFAULT_ONLY:-}" ]; then
	# one point, to look into: DFAULT_ONLY=alloc:5
	one_run "${DFAULT_ONLY%:*}" "${DFAULT_ONLY#*:}"
	cat "$T/dfault.log" "$T/daemon.log"
	finish
fi
for fam in "${FAMILIES[@]}"; do
	n=1
	while [ "$n" -le "$CAP" ]; do
		nruns=$((nruns + 1))
		one_run "$fam" "$n" || break
		n=$(next_n "$n")
	done
	[ "$n" -le "$CAP" ] || echo "[$NAME] $fam: stopped at the cap of $CAP calls"
	printf '[%s] %-9s %4s fault points visited (calls in a run: %s); answers: %s acknowledged, %s refused, %s lost\n' \
	    "$NAME" "$fam" "${VISITED[$fam]:-0}" "${MAXN[$fam]:-?}" \
	    "${ACKED[$fam]:-0}" "${REFUSED[$fam]:-0}" "${LOST[$fam]:-0}"
	check "$fam: every fault point ($((${VISITED[$fam]:-0})) visited) kept its promises" \
	    '$FAILED == $before_fail'
	check "$fam: the sweep reached its end" '-n "${MAXN[$fam]:-}"'
	before_fail=$FAILED
done

# bursts: DFAULT_COUNT calls in a row fail (a disk full for a moment, a
# rebuild that fails too), from each of the first calls of the families
# that write; once the burst has passed, the daemon serves changes again
BURST_N=${RELT_LONG:+64}
export DFAULT_COUNT=4
for fam in write fsync ftruncate gdbm; do
	[[ " ${FAMILIES[*]} " == *" $fam "* ]] || continue
	before_fail=$FAILED
	runs=0
	for n in $(seq 1 "${BURST_N:-16}"); do
		[ "$n" -le "${MAXN[$fam]:-0}" ] || break
		nruns=$((nruns + 1))
		runs=$((runs + 1))
		one_run "$fam" "$n" || break
	done
	check "$fam: bursts of $DFAULT_COUNT faults from $runs points; the daemon recovered from each" \
	    '$FAILED == $before_fail'
done
unset DFAULT_COUNT
echo "[$NAME] $nruns runs; the faulty daemon exited by itself $DEAD times, of a signal $SIGNALLED times"
finish
