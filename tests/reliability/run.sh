#!/bin/bash
# Runs the reliability test groups and prints the total as
# "N passed, N failed".  Usage: B=build bash tests/reliability/run.sh [t_name...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(t_files t_timing t_secrets)
for g in "${groups[@]}"; do
	start=$(date +%s)
	out=$(bash "$here/$g.sh" 2>&1)
	status=$?
	printf '%s\n' "$out" | grep -v '^\[.*\] [0-9]* passed, [0-9]* failed$'
	line=$(printf '%s\n' "$out" | grep -E '^\[.*\] [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "[$g] did not finish (exit $status)"
		failed=$((failed + 1))
		continue
	fi
	echo "$line ($(( $(date +%s) - start ))s)"
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
