#!/bin/bash
# Runs every newcomer test group (tests/run-groups.sh prints the total as "N passed, N failed").
# Usage: B=build bash tests/integration/newcomer/run.sh [t_name...]
here=$(cd "$(dirname "$0")" && pwd)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(t_deps t_man t_samples t_completion t_install t_fail2ban t_recipes t_demo)
exec bash "$here/../../run-groups.sh" "$here" "${groups[@]}"
