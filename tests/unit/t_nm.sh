#!/bin/sh
# The modules link the store's reader only: no journal, committer or
# checkpoint code, and none of what the writer's durability needs
# (threads started, eventfd, fdatasync), in either symbol table.
# usage: t_nm.sh MODULE...
set -u
bad='journal_|committer|checkpoint|pthread_create|eventfd|fdatasync'
fail=0
for m in "$@"; do
	if [ ! -s "$m" ]; then
		echo "t_nm: $m: missing" >&2
		fail=1
		continue
	fi
	# the defined (static ones included) and the imported names
	found=$( { nm "$m" && nm -D --undefined-only "$m"; } 2>&1 |
	    grep -E "$bad|no symbols|File format")
	if [ -n "$found" ]; then
		echo "t_nm: $m links the store's writer:" >&2
		printf '%s\n' "$found" | sed 's/^/  /' >&2
		fail=1
	else
		echo "t_nm: $m: reader only"
	fi
done
exit $fail
