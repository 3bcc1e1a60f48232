#!/bin/bash
# Runs the reliability test groups (tests/run-groups.sh prints the total as "N passed, N failed").
# Usage: B=build bash tests/reliability/run.sh [t_name...]
here=$(cd "$(dirname "$0")" && pwd)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(t_files t_timing t_secrets t_fulldisk t_auditsink)
exec bash "$here/../run-groups.sh" "$here" "${groups[@]}"
