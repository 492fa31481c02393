# SPDX-License-Identifier: Apache-2.0
## tests/packaging: what an operator installs and runs, checked as the
## service manager and a program building on libkproto see it.
##
##   check_notify        kp_notify() speaks the readiness datagram protocol
##   man-lint.sh         every manual page formats without a warning
##   systemd-verify.sh   the units pass systemd-analyze verify; sysusers.d
##                       and tmpfiles.d entries apply to a scratch root
##   install.sh          make install into a DESTDIR: every file where the
##                       configured directories say; libkproto.pc and the
##                       headers build and link a program; a reinstall
##                       keeps an edited configuration and uninstall
##                       removes everything else
##   readiness.py        the daemons start from the shipped configuration
##                       files and report READY=1 / STOPPING=1 at the
##                       right moments (real ZooKeeper)

check_PROGRAMS += tests/unit/check_notify
tests_unit_check_notify_SOURCES = tests/unit/check_notify.c tests/lib/check_run.h
tests_unit_check_notify_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_notify_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_notify

PACKAGING_TESTS = tests/packaging/man-lint.sh \
	tests/packaging/systemd-verify.sh \
	tests/packaging/install.sh \
	tests/packaging/readiness.py
TESTS += $(PACKAGING_TESTS)
EXTRA_DIST += $(PACKAGING_TESTS)
TEST_EXTENSIONS += .sh
SH_LOG_COMPILER = $(SHELL)

## install.sh runs `make install' and builds a program the way a user
## would: it needs make, the compiler (with the sanitizer flags the
## library was built with) and the installation directories as make
## expands them.  Mentioning $(MAKE) here also hands the test the
## jobserver, so its sub-make joins the parallel build.
AM_TESTS_ENVIRONMENT += \
	MAKE='$(MAKE)'; export MAKE; \
	CC='$(CC)'; export CC; \
	PKG_CONFIG='$(PKG_CONFIG)'; export PKG_CONFIG; \
	skald_version='$(PACKAGE_VERSION)'; export skald_version; \
	skald_san_cflags='$(SAN_CFLAGS)'; export skald_san_cflags; \
	skald_san_ldflags='$(SAN_LDFLAGS)'; export skald_san_ldflags; \
	skald_sbindir='$(sbindir)'; export skald_sbindir; \
	skald_libdir='$(libdir)'; export skald_libdir; \
	skald_includedir='$(includedir)'; export skald_includedir; \
	skald_pkgincludedir='$(pkgincludedir)'; export skald_pkgincludedir; \
	skald_pkgconfigdir='$(pkgconfigdir)'; export skald_pkgconfigdir; \
	skald_confdir='$(skaldconfdir)'; export skald_confdir; \
	skald_mandir='$(mandir)'; export skald_mandir; \
	skald_unitdir='$(systemdsystemunitdir)'; export skald_unitdir; \
	skald_sysusersdir='$(sysusersdir)'; export skald_sysusersdir; \
	skald_tmpfilesdir='$(tmpfilesdir)'; export skald_tmpfilesdir;
