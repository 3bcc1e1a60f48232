#!/bin/bash
# make install and make uninstall into a temporary DESTDIR: the layout of
# DESIGN.md (binaries, modules, man pages, the etc/ samples), PREFIX and
# the directory variables honoured, an existing satoken.conf kept, and
# uninstall leaving none of our files (but a config the sysadmin edited).
. "$(dirname "$0")/lib.sh"

: "${MAKE:=make}"
# the already-built tree: make install only copies
mk() {
	"$MAKE" --no-print-directory -C "$ROOT" B="$B" SANITIZE="${SANITIZE:-}" "$@" \
		>>"$T/make.log" 2>&1
}

files_under() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort); }

PAMDIR_SYS=$("$MAKE" --no-print-directory -s -C "$ROOT" -f - print-pamdir <<'EOF' 2>/dev/null
include Makefile
print-pamdir: ; @echo $(PAMDIR) $(SASLDIR)
EOF
)
read -r pamdir sasldir <<<"$PAMDIR_SYS"
check "the Makefile finds the system's PAM and SASL module directories" \
	test -n "${pamdir:-}" -a -n "${sasldir:-}"

# --- PREFIX=/usr, the usual package layout -----------------------------
D=$T/stage
check "make install DESTDIR=... PREFIX=/usr succeeds" mk install DESTDIR="$D" PREFIX=/usr
want=(
	usr/sbin/satokend
	usr/bin/satokenctl
	"${pamdir#/}/pam_satoken.so"
	"${sasldir#/}/libsatoken.so"
	usr/share/man/man1/satokenctl.1
	usr/share/man/man5/satoken.conf.5
	usr/share/man/man8/satokend.8
	usr/share/man/man8/pam_satoken.8
	usr/share/man/man8/satoken-sasl.8
	etc/satoken/satoken.conf
	usr/lib/systemd/system/satokend.service
	usr/lib/systemd/system/satokend.socket
	usr/lib/tmpfiles.d/satoken.conf
	usr/lib/sysusers.d/satoken.conf
	usr/share/bash-completion/completions/satokenctl
	usr/share/zsh/vendor-completions/_satokenctl
	usr/share/doc/satoken/README.md
	usr/share/doc/satoken/examples/satoken.conf
	usr/share/doc/satoken/examples/pam.d/satoken-only
	usr/share/doc/satoken/examples/pam.d/satoken-shared
	usr/share/doc/satoken/examples/sasl/smtpd.conf
	usr/share/doc/satoken/examples/sasl/slapd.conf
	usr/share/doc/satoken/examples/fail2ban/filter.d/satoken.conf
	usr/share/doc/satoken/examples/fail2ban/jail.d/satoken.conf
	usr/share/doc/satoken/examples/ldap/satoken.schema
	usr/share/doc/satoken/examples/ldap/satoken.ldif
	usr/share/doc/satoken/examples/ldap/base.ldif
	usr/share/doc/satoken/examples/ldap/provider.conf
	usr/share/doc/satoken/examples/ldap/hub.conf
	usr/share/doc/satoken/examples/ldap/multi-provider.conf
	usr/share/doc/satoken/examples/git/pre-commit
	usr/share/doc/satoken/examples/systemd/satoken-bound@.service
)
missing=
for f in "${want[@]}"; do
	[ -f "$D/$f" ] || missing="$missing $f"
done
check "every file is where DESIGN.md and the sysadmin expect it" test -z "$missing"
[ -z "$missing" ] || echo "   missing:$missing"
extra=$(comm -13 <(printf '%s\n' "${want[@]}" | sort) <(files_under "$D"))
check "and nothing else is installed" test -z "$extra"
[ -z "$extra" ] || echo "   extra: $extra"

mode() { stat -c %a "$D/$1"; }
check "satokend and satokenctl are 0755" \
	test "$(mode usr/sbin/satokend) $(mode usr/bin/satokenctl)" = "755 755"
check "the modules, pages and samples are 0644" \
	test "$(mode "${pamdir#/}/pam_satoken.so") $(mode "${sasldir#/}/libsatoken.so") $(mode usr/share/man/man8/satokend.8) $(mode etc/satoken/satoken.conf)" = "644 644 644 644"
check "the installed binaries are the built ones" \
	cmp -s "$BIN/daemon/satokend" "$D/usr/sbin/satokend"
check "the installed PAM module is the built one" \
	cmp -s "$BIN/pam/pam_satoken.so" "$D/${pamdir#/}/pam_satoken.so"
check "the installed satoken.conf is the sample" \
	cmp -s "$ROOT/etc/satoken.conf" "$D/etc/satoken/satoken.conf"
check "the units start satokend from SBINDIR" \
	grep -qx 'ExecStart=/usr/sbin/satokend --foreground' "$D/usr/lib/systemd/system/satokend.service"
check "the installed satokend runs" eval '"$D/usr/sbin/satokend" --help >/dev/null'

# an edited config survives a reinstall and an uninstall
echo "admin_groups = wheel" >>"$D/etc/satoken/satoken.conf"
check "make install again succeeds" mk install DESTDIR="$D" PREFIX=/usr
check "  ...and keeps the edited satoken.conf" \
	grep -qx 'admin_groups = wheel' "$D/etc/satoken/satoken.conf"
check "make uninstall succeeds" mk uninstall DESTDIR="$D" PREFIX=/usr
check "  ...and leaves only the edited satoken.conf" \
	test "$(files_under "$D")" = "etc/satoken/satoken.conf"
check "make uninstall with nothing installed succeeds" mk uninstall DESTDIR="$D" PREFIX=/usr
rm "$D/etc/satoken/satoken.conf"

# a pristine install uninstalls to nothing of ours
check "install, then uninstall, PREFIX=/usr" \
	eval 'mk install DESTDIR="$D" PREFIX=/usr && mk uninstall DESTDIR="$D" PREFIX=/usr'
left=$(files_under "$D")
check "  ...no file of ours is left" test -z "$left"
[ -z "$left" ] || echo "   left: $left"
check "  ...nor our own directories" \
	test ! -e "$D/etc/satoken" -a ! -e "$D/usr/share/doc/satoken"

# --- the defaults: PREFIX=/usr/local; and every directory overridden ---
D=$T/local
check "make install DESTDIR=... (PREFIX /usr/local)" mk install DESTDIR="$D"
check "  ...binaries under /usr/local" \
	test -x "$D/usr/local/sbin/satokend" -a -x "$D/usr/local/bin/satokenctl"
check "  ...the config still in /etc" test -f "$D/etc/satoken/satoken.conf"
check "  ...units found by systemd in /usr/local/lib/systemd/system, starting /usr/local/sbin/satokend" \
	grep -qx 'ExecStart=/usr/local/sbin/satokend --foreground' "$D/usr/local/lib/systemd/system/satokend.service"
check "  ...the modules where libpam and libsasl2 look, whatever PREFIX" \
	test -f "$D/${pamdir#/}/pam_satoken.so" -a -f "$D/${sasldir#/}/libsatoken.so"
check "  ...and make uninstall removes them all" \
	eval 'mk uninstall DESTDIR="$D" && test -z "$(files_under "$D")"'

D=$T/custom
check "every directory variable is honoured" \
	mk install DESTDIR="$D" PREFIX=/opt/sat BINDIR=/b SBINDIR=/s PAMDIR=/p \
	SASLDIR=/sasl SYSCONFDIR=/c MANDIR=/m SYSTEMDUNITDIR=/u TMPFILESDIR=/tf \
	SYSUSERSDIR=/su BASHCOMPDIR=/bc ZSHCOMPDIR=/zc DOCDIR=/d
missing=
for f in b/satokenctl s/satokend p/pam_satoken.so sasl/libsatoken.so \
    c/satoken/satoken.conf m/man1/satokenctl.1 m/man8/satokend.8 \
    u/satokend.service tf/satoken.conf su/satoken.conf bc/satokenctl zc/_satokenctl \
    d/examples/pam.d/satoken-only; do
	[ -f "$D/$f" ] || missing="$missing $f"
done
check "  ...each file lands in its variable's directory" test -z "$missing"
[ -z "$missing" ] || echo "   missing:$missing"
check "  ...the unit starts /s/satokend" grep -qx 'ExecStart=/s/satokend --foreground' "$D/u/satokend.service"
check "  ...and make uninstall with the same variables removes them all" \
	eval 'mk uninstall DESTDIR="$D" PREFIX=/opt/sat BINDIR=/b SBINDIR=/s PAMDIR=/p SASLDIR=/sasl SYSCONFDIR=/c MANDIR=/m SYSTEMDUNITDIR=/u TMPFILESDIR=/tf SYSUSERSDIR=/su BASHCOMPDIR=/bc ZSHCOMPDIR=/zc DOCDIR=/d && test -z "$(files_under "$D")"'

[ "$fail" -eq 0 ] || tail -n 30 "$T/make.log"
summary
