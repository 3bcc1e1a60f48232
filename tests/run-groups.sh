#!/bin/bash
# Runs test group scripts one after another and prints the total as
# "N passed, N failed".  Each group DIR/t_NAME.sh ends with a line
# "[t_NAME] N passed, N failed"; a group that exits non-zero without
# counting a failure counts as one, and so does one that never prints
# its line.
# Usage: run-groups.sh DIR t_NAME...
set -u
dir=$1
shift
passed=0
failed=0
for g in "$@"; do
	start=$(date +%s)
	out=$(bash "$dir/$g.sh" 2>&1)
	status=$?
	printf '%s\n' "$out" | grep -vE '^\[.*\] [0-9]+ passed, [0-9]+ failed$'
	line=$(printf '%s\n' "$out" | grep -E '^\[.*\] [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "[$g] did not finish (exit $status)"
		failed=$((failed + 1))
		continue
	fi
	echo "$line ($(($(date +%s) - start))s)"
	p=$(sed -E 's/.*\] ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
