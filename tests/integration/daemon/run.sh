#!/bin/bash
# Runs every daemon test group (tests/run-groups.sh prints the total as "N passed, N failed").
# Usage: B=build bash tests/integration/daemon/run.sh [t_name...]
here=$(cd "$(dirname "$0")" && pwd)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(t_cli t_roles t_audit2 t_hostile t_limits t_fair t_durability t_commit t_index t_scan t_operable t_lifecycle t_workload)
exec bash "$here/../../run-groups.sh" "$here" "${groups[@]}"
