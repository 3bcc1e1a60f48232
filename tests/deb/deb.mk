# The Debian packages, built and installed for real (not part of make
# check: it installs system-wide, so it runs in a private mount namespace
# over an overlay of / and leaves the real system untouched).
#   deb-check      dpkg-buildpackage from a clean clone of HEAD, lintian,
#                  then install, pam-auth-update, logins, remove, purge
.PHONY: deb-check
deb-check:
	@echo "== deb: build, lintian, install, pam-auth-update, remove, purge"
	@bash tests/deb/deb-check.sh
