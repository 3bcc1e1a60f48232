#!/bin/bash
# Runs a command with /dev/log pointing at SOCKET, in a private mount
# namespace: a fresh /dev (tmpfs) holding the usual device nodes, bound
# from the real /dev (seen at SOCKET's directory/olddev), and a /dev/log
# symlink.  Nothing outside the
# namespace sees it.  Needs root (unshare -m).
#
# Usage: with_devlog.sh SOCKET COMMAND [ARGS...]
set -eu
sock=$1
shift
exec unshare -m --propagation private bash -c '
	set -eu
	sock=$1
	shift
	old=$(dirname "$sock")/olddev
	mkdir "$old"
	mount --rbind /dev "$old"
	mount -t tmpfs -o mode=0755 satoken-dev /dev
	for n in null zero full random urandom tty; do
		[ -e "$old/$n" ] || continue
		touch "/dev/$n"
		mount --bind "$old/$n" "/dev/$n"
	done
	mkdir /dev/pts /dev/shm
	mount --rbind "$old/pts" /dev/pts
	mount --rbind "$old/shm" /dev/shm
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	ln -s "$sock" /dev/log
	"$@"
' _ "$sock" "$@"
