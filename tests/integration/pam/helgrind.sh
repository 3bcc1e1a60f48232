#!/bin/bash
# Data races in our code under helgrind: logins from four threads (the
# pamdrive threads mode) while the store is written.  libcrypto's
# run-once initialisation and libpam's libaudit calls draw reports that
# are not ours; a report whose top two frames are in pam/ or common/
# fails the test.
#
# Usage: helgrind.sh PAMDRIVE   (env: SATFIX, PAM_MODULE)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
drive=$1
log=$(mktemp "${TMPDIR:-/tmp}/sathelgrind.XXXXXX")
trap 'rm -f "$log"' EXIT

check "helgrind: pamdrive threads ran and every login was decided right" \
	valgrind --tool=helgrind --keep-debuginfo=yes --log-file="$log" \
	"$drive" threads 5
ours=$(awk '/Possible data race|This conflicts with a previous/ { n = 2; next }
	n > 0 && /^==[0-9]+== +(at|by) / { print; n-- }' "$log" |
	grep -E '\((common|pam)/[^)]*\.c:[0-9]+\)|pam_satoken' || true)
check "helgrind: no data race in pam/ or common/ (of $(grep -c "Possible data race" "$log") reports, in libcrypto and libpam)" \
	test -z "$ours"
[ -z "$ours" ] || echo "$ours"
summary
