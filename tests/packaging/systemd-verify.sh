#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# systemd-verify.sh - the generated units are ones systemd accepts, and the
# sysusers.d / tmpfiles.d entries do what they say.
#
# `systemd-analyze verify` reads a unit as the manager would and reports
# unknown or misspelt directives, bad values and an ExecStart= binary
# that is not there.  The units name the installed daemons, which a build
# tree does not have, so each unit is verified as a copy whose ExecStart=
# points at the daemon just built; the test first checks that the unit
# as generated names exactly $(sbindir)/<daemon>.  Whatever verify says
# about a trivial unit in this environment (a container without a running
# systemd may have complaints of its own) is not held against ours; any
# other line of output is a failure.  `systemd-analyze security` then
# holds the hardening to an exposure level, so a lost directive shows.
#
# Skipped (77) without systemd-analyze, or when verify cannot even judge a
# trivial unit here.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${skald_sbindir:?}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/skald-units.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
	echo "FAIL: $*"
	status=1
}

# What verify says about a unit with nothing wrong in it, here.
printf '[Unit]\nDescription=baseline\n[Service]\nExecStart=/bin/true\n' \
	>"$tmp/skald-baseline.service"
if ! systemd-analyze verify --man=no "$tmp/skald-baseline.service" \
		>"$tmp/baseline.out" 2>&1; then
	echo "SKIP: systemd-analyze verify cannot check a trivial unit here:"
	cat "$tmp/baseline.out"
	exit 77
fi
# lines about the baseline itself name its path: drop them from the noise
grep -v 'skald-baseline' "$tmp/baseline.out" >"$tmp/noise" || :

for unit in kbroker.service kcontroller.service kbroker@.service \
	    kcontroller@.service; do
	gen="$top_builddir/systemd/$unit"
	daemon=${unit%%[.@]*}
	if [ ! -f "$gen" ]; then
		fail "$gen was not generated"
		continue
	fi
	if grep -n '@[A-Za-z_]*@' "$gen"; then
		fail "$unit: a configure substitution was left in"
	fi
	exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$gen")
	if [ "$exec_start" != "$skald_sbindir/$daemon" ]; then
		fail "$unit: ExecStart= runs '$exec_start', not $skald_sbindir/$daemon"
	fi
	for key in Type=notify NotifyAccess=main User=skald Group=skald \
		   Restart=on-failure LimitNOFILE=100000 KillSignal=SIGTERM; do
		grep -qx "$key" "$gen" || fail "$unit: no $key"
	done
	if grep -q '^ExecReload=' "$gen"; then
		fail "$unit: ExecReload=, but the daemons have no reload"
	fi

	copy="$tmp/$unit"
	sed "s|^ExecStart=[^ ]*|ExecStart=$top_builddir/$daemon/$daemon|" \
		"$gen" >"$copy"
	systemd-analyze verify --man=no "$copy" >"$tmp/out" 2>&1
	rc=$?
	grep -vxF -f "$tmp/noise" "$tmp/out" >"$tmp/ours" || :
	if [ -s "$tmp/ours" ] || [ $rc -ne 0 ]; then
		fail "systemd-analyze verify $unit (exit $rc):"
		cat "$tmp/out"
	fi

	# --offline and --threshold came in systemd 250
	if systemd-analyze security --offline=yes --threshold=40 "$copy" \
			>"$tmp/sec" 2>&1; then
		sed -n 's/^.*Overall exposure level/exposure level/p' "$tmp/sec"
	elif grep -q 'Overall exposure level' "$tmp/sec"; then
		fail "$unit: exposure level above 4.0 (hardening lost?)"
		cat "$tmp/sec"
	else
		echo "note: systemd-analyze security --offline is not available"
	fi
done

# sysusers.d and tmpfiles.d: applied to a scratch root, they must give
# the skald user and its state directory.
sysusers="$top_srcdir/systemd/skald.sysusers"
tmpfiles="$top_srcdir/systemd/skald.tmpfiles"
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$tmp/root/etc"
	if ! systemd-sysusers --root="$tmp/root" "$sysusers" >"$tmp/out" 2>&1; then
		fail "systemd-sysusers $sysusers:"
		cat "$tmp/out"
	fi
	grep -q '^skald:x:[0-9]*:[0-9]*:[^:]*:/var/lib/skald:' "$tmp/root/etc/passwd" ||
		fail "systemd-sysusers did not create the user skald"
	grep -q '^skald:x:' "$tmp/root/etc/group" ||
		fail "systemd-sysusers did not create the group skald"
	# changing a directory's owner needs root
	if command -v systemd-tmpfiles >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		if ! systemd-tmpfiles --root="$tmp/root" --create "$tmpfiles" \
				>"$tmp/out" 2>&1; then
			fail "systemd-tmpfiles $tmpfiles:"
			cat "$tmp/out"
		fi
		uid=$(sed -n 's/^skald:x:\([0-9]*\):.*/\1/p' "$tmp/root/etc/passwd")
		[ "$(stat -c '%u %a' "$tmp/root/var/lib/skald" 2>/dev/null)" = "$uid 750" ] ||
			fail "systemd-tmpfiles did not make /var/lib/skald 0750 for skald"
	fi
else
	echo "note: systemd-sysusers is not installed"
fi
exit $status
