#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every option a tool's --help lists is documented in its man page, and
# every option the page documents is one --help lists: the two cannot
# drift apart.  Also: --help exits 0, and an unknown option exits 2.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
status=0
for tool in ktopics kbroker-api-versions kconsole-producer kconsole-consumer \
	    kconsumer-groups kperf kdump-log kcluster kleader-election \
	    kreassign-partitions kconfigs kdelete-records klog-dirs kacls; do
	bin="$top_builddir/tools/$tool"
	page="$top_srcdir/man/man1/$tool.1"
	if [ ! -x "$bin" ] || [ ! -f "$page" ]; then
		echo "FAIL: $tool: program or man page missing"
		status=1
		continue
	fi
	help=$("$bin" --help) || { echo "FAIL: $tool --help exited $?"; status=1; }
	"$bin" --no-such-option >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || { echo "FAIL: $tool: unknown option exited $rc, not 2"; status=1; }
	printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9.-]*[a-z0-9]' |
		sort -u >"help.$tool.tmp"
	sed 's/\\-/-/g' "$page" | grep -o -- '--[a-z][a-z0-9.-]*[a-z0-9]' |
		sort -u >"man.$tool.tmp"
	missing=$(comm -23 "help.$tool.tmp" "man.$tool.tmp")
	extra=$(comm -13 "help.$tool.tmp" "man.$tool.tmp")
	if [ -n "$missing" ]; then
		echo "FAIL: $tool: in --help but not in the man page:" $missing
		status=1
	fi
	if [ -n "$extra" ]; then
		echo "FAIL: $tool: in the man page but not in --help:" $extra
		status=1
	fi
	[ -z "$missing$extra" ] && echo "ok: $tool: $(wc -l <"help.$tool.tmp") options"
	rm -f "help.$tool.tmp" "man.$tool.tmp"
done
exit $status
