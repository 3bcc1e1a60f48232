#!/bin/bash
# Files: a symlink, FIFO or directory planted where the store, its
# journal, the config or the socket should be is refused, by the daemon
# and by a module reading the store; a state or socket directory that
# group or others may write is refused at start.  Directories satokend
# creates get their modes whatever the umask; a store a module would
# read from a directory others can write, or owned by an unprivileged
# user, is refused, as is an audit file another user owns.
. "$(dirname "$0")/lib.sh"

write_conf
start_daemon || { fail "satokend did not start"; finish; }
ctl group create ci >/dev/null
ctl policy add ci >/dev/null
ctl account create ci --group ci >/dev/null
mint_to "$T/tok" ci --name a
stop_daemon
reader ci "$(cat "$T/tok")"
check "the real store verifies" '$OUT == ok'

# refuses DESCRIPTION: satokend must exit non-zero, quickly, with a
# message naming what it refused, and nothing may listen
refuses() {
	local desc=$1 what=$2
	run timeout 10 "$SATOKEND" --foreground --config "$CONF"
	if [ "$RC" != 0 ] && [ "$RC" != 124 ] && [[ $ERR == *"$what"* ]]; then
		pass
	else
		fail "$desc: exit $RC, stderr: ${ERR:0:300}"
	fi
}

mv "$DB" "$T/real.db"
ln -s "$T/real.db" "$DB"
refuses "a symlink as the store" "$DB"
reader ci "$(cat "$T/tok")"
check "a module refuses a symlinked store" '$OUT == store_error'
rm "$DB"
mkfifo "$DB"
refuses "a FIFO as the store" "$DB"
reader ci "$(cat "$T/tok")"
check "a module refuses a FIFO store (and does not hang)" '$OUT == store_error'
rm "$DB"
mkdir "$DB"
refuses "a directory as the store" "$DB"
reader ci "$(cat "$T/tok")"
check "a module refuses a directory store" '$OUT == store_error'
rmdir "$DB"
mv "$T/real.db" "$DB"

mv "$DB.journal" "$T/real.journal"
ln -s "$T/real.journal" "$DB.journal"
refuses "a symlink as the journal" "store"
rm "$DB.journal"
mkfifo "$DB.journal"
refuses "a FIFO as the journal" "store"
rm "$DB.journal"
mv "$T/real.journal" "$DB.journal"
# the base copy is read only to rebuild after an unclean stop: kill the
# daemon, then plant; the rebuild must refuse what it finds
for kind in symlink fifo; do
	start_daemon || fail "start before planting a $kind base"
	ctl account create "x$kind" --group ci >/dev/null
	kill_daemon
	mv "$DB.base" "$T/real.base"
	if [ $kind = symlink ]; then ln -s "$T/real.base" "$DB.base"; else mkfifo "$DB.base"; fi
	refuses "a $kind as the base copy, at a rebuild" "store"
	rm "$DB.base"
	mv "$T/real.base" "$DB.base"
done
rm -f "$SOCK"	# stale, after the kills

cp "$CONF" "$T/real.conf"
rm "$CONF"
ln -s "$T/real.conf" "$CONF"
refuses "a symlink as the config" "$CONF"
rm "$CONF"
mkfifo "$CONF"
refuses "a FIFO as the config" "$CONF"
rm "$CONF"
mkdir "$CONF"
refuses "a directory as the config" "$CONF"
rmdir "$CONF"
cp "$T/real.conf" "$CONF"
chmod 0666 "$CONF"
refuses "a world-writable config" "$CONF"
chmod 0644 "$CONF"

ln -s "$T/elsewhere" "$SOCK"
refuses "a symlink as the socket" "$SOCK"
check "the symlink was left alone" '-L $SOCK'
rm "$SOCK"
mkfifo "$SOCK"
refuses "a FIFO as the socket" "$SOCK"
rm "$SOCK"
mkdir "$SOCK"
refuses "a directory as the socket" "$SOCK"
rmdir "$SOCK"
: >"$SOCK"
refuses "a regular file as the socket" "$SOCK"
check "the file was not removed" '-f $SOCK'
rm "$SOCK"

for m in 0775 0757 1777; do
	chmod "$m" "$T/state"
	refuses "a state directory of mode $m" "state directory"
done
chmod 0755 "$T/state"
for m in 0775 0757 1777; do
	chmod "$m" "$T/run"
	refuses "a socket directory of mode $m" "socket directory"
done
chmod 0755 "$T/run"
mv "$T/run" "$T/run.real"
ln -s "$T/run.real" "$T/run"
refuses "a symlink as the socket directory" "socket directory"
rm "$T/run"
mv "$T/run.real" "$T/run"
if need_root; then
	chown nobody "$T/state"
	refuses "a state directory owned by another user" "state directory"
	chown root "$T/state"
fi

# issue 15, item 13: the directories satokend creates are 0750 (state)
# and 0755 (socket) whatever the umask, so other users reach the socket
mv "$T/state" "$T/state.real"
mv "$T/run" "$T/run.real"
old_umask=$(umask)
umask 077
start_daemon || fail "satokend did not start without its directories"
umask "$old_umask"
check "it made the state directory 0750 ($(stat -c %a "$T/state"))" '$(stat -c %a "$T/state") == 750'
check "it made the socket directory 0755 ($(stat -c %a "$T/run"))" '$(stat -c %a "$T/run") == 755'
if need_root; then
	t "another user reaches the socket" 0 as_nobody nogroup "$CTL" --socket "$SOCK" whoami
fi
stop_daemon
rm -rf "$T/state" "$T/run"
mv "$T/state.real" "$T/state"
mv "$T/run.real" "$T/run"

# a store in a directory others can write: anyone could swap it
for m in 0777 1777 0775; do
	chmod "$m" "$T/state"
	reader ci "$(cat "$T/tok")"
	check "a module refuses a store in a directory of mode $m" '$OUT == store_error'
done
chmod 0755 "$T/state"
if need_root; then
	# a store owned by an unprivileged user, neither root, nor the
	# reader, nor the satoken user: whoever owns it decides every login
	chown nobody "$DB"
	reader ci "$(cat "$T/tok")"
	check "a module refuses a store owned by nobody" '$OUT == store_error'
	chown root "$DB"
	reader ci "$(cat "$T/tok")"
	check "and takes it back owned by root" '$OUT == ok'

	# an audit file another user made in a sticky directory: they could
	# rewrite what the daemon appends
	mkdir -m 1777 "$T/sticky"
	: >"$T/sticky/audit.log"
	chown nobody "$T/sticky/audit.log"
	chmod 0644 "$T/sticky/audit.log"
	cp "$CONF" "$T/real.conf"
	sed -i "s|^audit = .*|audit = file:$T/sticky/audit.log|" "$CONF"
	refuses "an audit file owned by another user" "audit"
	check "nothing was written to it" '! -s $T/sticky/audit.log'
	cp "$T/real.conf" "$CONF"
fi

start_daemon || fail "satokend does not start once everything is put back"
t "and the token still verifies" 0 ctl token verify ci <"$T/tok"
finish
