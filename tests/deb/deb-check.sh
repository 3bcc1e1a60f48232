#!/bin/bash
# make deb-check: the four Debian packages as a sysadmin meets them.
#
# Outside: a clean clone of HEAD, dpkg-buildpackage -us -uc -b, lintian
# (no error, no warning).  Inside (inside.sh): the packages installed on
# a copy of this very system, an overlay of / in a private mount
# namespace, so dpkg, adduser and pam-auth-update run for real on a
# Debian 12 root while other work on the machine sees none of it.
# Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
here=$ROOT/tests/deb
[ "$(id -u)" = 0 ] || { echo "deb-check: needs root (dpkg, unshare, mount)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/satdeb.XXXXXX")
cleanup() {
	# the namespace is gone with its processes; only files remain
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
	echo "deb-check: note: uncommitted changes are not in the packages (built from HEAD)"
fi
git clone -q "$ROOT" "$T/src"
echo "-- dpkg-buildpackage -us -uc -b (log in $T/build.log while it runs)"
if ! (cd "$T/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b >"$T/build.log" 2>&1); then
	tail -n 40 "$T/build.log"
	echo "deb-check: FAILED: dpkg-buildpackage"
	exit 1
fi
changes=$(ls "$T"/satoken_*.changes)
echo "-- lintian $(basename "$changes")"
if ! lintian --fail-on error,warning "$changes" >"$T/lintian.log" 2>&1; then
	grep -v 'root privileges' "$T/lintian.log"
	echo "deb-check: FAILED: lintian reports an error or a warning"
	exit 1
fi
echo "   lintian: no error, no warning"

mkdir "$T/debs"
for p in satokend satoken-cli libpam-satoken libsasl2-modules-satoken; do
	cp "$T"/"${p}"_*.deb "$T/debs/"
done
version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)

# The overlay: / below, every change above in $T/upper.  Submounts of /
# (/proc, /dev, /run, /tmp if separate) are not part of it: inside.sh
# gets fresh ones.
mkdir "$T/upper" "$T/work" "$T/root"
before=$(sha256sum /etc/pam.d/common-* | sha256sum)
set +e
unshare -m --propagation private bash -c '
	set -eu
	T=$1; here=$2; version=$3
	mount -t overlay satoken-deb -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$T/root"
	R=$T/root
	mount -t proc proc "$R/proc"
	# device nodes of its own, not binds of the host'"'"'s: a bound node
	# is the host'"'"'s inode, and a chmod inside (seen: /dev/null left
	# 0600 after a run) would break every other process on the machine
	mount -t tmpfs -o mode=0755 satoken-dev "$R/dev"
	mknod -m 0666 "$R/dev/null" c 1 3
	mknod -m 0666 "$R/dev/zero" c 1 5
	mknod -m 0666 "$R/dev/full" c 1 7
	mknod -m 0666 "$R/dev/random" c 1 8
	mknod -m 0666 "$R/dev/urandom" c 1 9
	ln -s /proc/self/fd "$R/dev/fd"
	mount -t tmpfs -o mode=1777 satoken-tmp "$R/tmp"
	mount -t tmpfs -o mode=0755 satoken-run "$R/run"
	mkdir -p "$R/run/lock"
	mkdir "$R/tmp/debs"
	cp "$T"/debs/*.deb "$R/tmp/debs/"
	cp "$here/inside.sh" "$here/../integration/newcomer/syslogd.py" "$R/tmp/"
	exec chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive bash /tmp/inside.sh "$version"
' _ "$T" "$here" "$version"
rc=$?
set -e
after=$(sha256sum /etc/pam.d/common-* | sha256sum)
for n in null zero full random urandom; do
	if [ "$(stat -c %a "/dev/$n")" != 666 ]; then
		echo "deb-check: FAILED: the real /dev/$n is no longer 0666"
		rc=1
	fi
done
if [ "$before" != "$after" ]; then
	echo "deb-check: FAILED: the real /etc/pam.d/common-* changed"
	rc=1
fi
if [ "$rc" -eq 0 ]; then
	echo "deb-check: passed"
else
	echo "deb-check: FAILED"
fi
exit "$rc"
