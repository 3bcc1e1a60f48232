#!/bin/bash
# Runs every fleet test group (tests/run-groups.sh prints the total as "N passed, N failed").
# Usage: bash tests/integration/fleet/run.sh [t_name...]
here=$(cd "$(dirname "$0")" && pwd)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(t_directory t_multiprovider t_sync t_follower t_control t_controlbg t_quota t_wait t_waitmp)
exec bash "$here/../../run-groups.sh" "$here" "${groups[@]}"
