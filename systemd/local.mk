# SPDX-License-Identifier: Apache-2.0
## systemd: service units for both daemons, instance templates for running
## several on one machine, and the sysusers.d / tmpfiles.d entries for the
## skald user and its state directory.
##
## The units name installed paths.  configure would write @sbindir@ as
## "${exec_prefix}/sbin", which systemd cannot expand, so they are made
## from their .in files at make time with the fully expanded directories
## (the automake manual's recipe for installation paths in scripts).

SYSTEMD_UNITS = systemd/kbroker.service systemd/kcontroller.service \
	systemd/kbroker@.service \
	systemd/kcontroller@.service
SYSTEMD_UNITS_IN = systemd/kbroker.service.in systemd/kcontroller.service.in \
	systemd/kbroker@.service.in \
	systemd/kcontroller@.service.in
EXTRA_DIST += $(SYSTEMD_UNITS_IN) systemd/skald.sysusers systemd/skald.tmpfiles
CLEANFILES += $(SYSTEMD_UNITS)
## built for the tests even when they are not installed
check_DATA += $(SYSTEMD_UNITS)

if INSTALL_UNITS
systemdsystemunit_DATA = $(SYSTEMD_UNITS)
endif

systemd_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

$(SYSTEMD_UNITS): Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && rm -f $@ $@.tmp && \
	$(systemd_edit) '$(srcdir)/$@.in' >$@.tmp && \
	if grep -n '@[a-zA-Z_]*@' $@.tmp; then \
	  echo "$@: substitution left behind" >&2; rm -f $@.tmp; exit 1; \
	fi && \
	chmod a-w $@.tmp && mv -f $@.tmp $@
systemd/kbroker.service: $(srcdir)/systemd/kbroker.service.in
systemd/kcontroller.service: $(srcdir)/systemd/kcontroller.service.in
systemd/kbroker@.service: $(srcdir)/systemd/kbroker@.service.in
systemd/kcontroller@.service: $(srcdir)/systemd/kcontroller@.service.in

## sysusers.d and tmpfiles.d read <package>.conf: the files are renamed on
## the way in, hence no _DATA variable.
if INSTALL_SYSUSERS
INSTALL_DATA_LOCAL += install-skald-sysusers
UNINSTALL_LOCAL += uninstall-skald-sysusers
endif
if INSTALL_TMPFILES
INSTALL_DATA_LOCAL += install-skald-tmpfiles
UNINSTALL_LOCAL += uninstall-skald-tmpfiles
endif

install-skald-sysusers:
	@$(NORMAL_INSTALL)
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)'
	$(INSTALL_DATA) '$(srcdir)/systemd/skald.sysusers' '$(DESTDIR)$(sysusersdir)/skald.conf'
uninstall-skald-sysusers:
	@$(NORMAL_UNINSTALL)
	rm -f '$(DESTDIR)$(sysusersdir)/skald.conf'
install-skald-tmpfiles:
	@$(NORMAL_INSTALL)
	$(MKDIR_P) '$(DESTDIR)$(tmpfilesdir)'
	$(INSTALL_DATA) '$(srcdir)/systemd/skald.tmpfiles' '$(DESTDIR)$(tmpfilesdir)/skald.conf'
uninstall-skald-tmpfiles:
	@$(NORMAL_UNINSTALL)
	rm -f '$(DESTDIR)$(tmpfilesdir)/skald.conf'
