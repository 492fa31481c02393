#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# man-lint.sh - every manual page under man/ (every section, whoever wrote
# it) formats cleanly: `groff -ww -z -man` must print nothing, and
# `mandoc -Tlint`, when mandoc is installed, must report nothing at its
# warning level or above (wrong macro arguments, broken structure, bad
# escapes: things a reader sees in one viewer or another).
#
# mandoc's style suggestions (e.g. source lines longer than 80 bytes) do
# not change what a reader sees; they are printed, and fail the test only
# with MAN_LINT_LEVEL=style (e.g. `make check MAN_LINT_LEVEL=style`).
set -u
: "${top_srcdir:?}"
level=${MAN_LINT_LEVEL:-warning}

if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff is not installed (Debian package: groff-base)"
	exit 77
fi
have_mandoc=no
command -v mandoc >/dev/null 2>&1 && have_mandoc=yes

status=0
n=0
for page in "$top_srcdir"/man/man*/*.[1-9]; do
	test -f "$page" || continue
	n=$((n + 1))
	out=$(groff -ww -z -man "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL: groff -ww -z -man $page:"
		echo "$out"
		status=1
	fi
	[ "$have_mandoc" = yes ] || continue
	out=$(mandoc -Tlint -W"$level" "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL: mandoc -Tlint -W$level $page:"
		echo "$out"
		status=1
	elif [ "$level" != style ]; then
		out=$(mandoc -Tlint -Wstyle "$page" 2>&1)
		[ -z "$out" ] || printf 'style (not fatal): %s\n' "$out"
	fi
done
if [ "$n" -eq 0 ]; then
	echo "FAIL: no manual pages found under $top_srcdir/man"
	exit 1
fi
[ "$have_mandoc" = yes ] || echo "note: mandoc is not installed; checked with groff only"
echo "checked $n manual pages"
exit $status
