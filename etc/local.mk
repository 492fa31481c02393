# SPDX-License-Identifier: Apache-2.0
## etc: the daemons' configuration files, installed into
## $(sysconfdir)/skald.
##
## Not through a _DATA variable: the administrator edits these files, and
## a reinstall or an upgrade must never replace a live configuration.  A
## file is installed only where none of that name exists yet, and
## uninstall removes it only while it is still identical to the shipped
## one (an edited configuration stays, and says so).

skaldconfdir = $(sysconfdir)/skald
SKALD_CONF = etc/kbroker.properties etc/kcontroller.properties
EXTRA_DIST += $(SKALD_CONF)

INSTALL_DATA_LOCAL += install-skald-conf
UNINSTALL_LOCAL += uninstall-skald-conf

install-skald-conf:
	@$(NORMAL_INSTALL)
	$(MKDIR_P) '$(DESTDIR)$(skaldconfdir)'
	@for f in $(SKALD_CONF); do \
	  d='$(DESTDIR)$(skaldconfdir)/'`basename $$f`; \
	  if test -f "$$d"; then \
	    echo "keeping the existing $$d (the shipped one is $(srcdir)/$$f)"; \
	  else \
	    echo " $(INSTALL_DATA) '$(srcdir)/$$f' '$$d'"; \
	    $(INSTALL_DATA) "$(srcdir)/$$f" "$$d" || exit 1; \
	  fi; \
	done

uninstall-skald-conf:
	@$(NORMAL_UNINSTALL)
	@for f in $(SKALD_CONF); do \
	  d='$(DESTDIR)$(skaldconfdir)/'`basename $$f`; \
	  if test ! -f "$$d"; then :; \
	  elif cmp -s "$(srcdir)/$$f" "$$d"; then \
	    echo " rm -f '$$d'"; rm -f "$$d"; \
	  else \
	    echo "keeping $$d: it differs from the shipped one"; \
	  fi; \
	done
