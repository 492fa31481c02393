#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# install.sh - `make install DESTDIR=...` puts every file where the
# configured directories say, and what it installs is usable:
#
#  - the daemons, libkproto (shared and, when built, static), its public
#    headers with the generated kp_msgs.h, libkproto.pc, the configuration
#    files (identical to the shipped ones), the systemd units with
#    ExecStart= naming the installed daemons, the sysusers.d and
#    tmpfiles.d entries, and every manual page under man/;
#  - pkg-config finds libkproto through the installed .pc file, and a
#    small program that includes every installed header compiles with
#    warnings as errors, links (against the shared library, and against
#    the static one with the .pc file's private dependencies) and runs;
#  - a second install keeps a configuration file the admin edited, and
#    uninstall removes every file install put there except that one.
#
# This is what `make distcheck` checks about a whole installation, done in
# `make check` so a broken install shows up at once.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${skald_libdir:?}" "${skald_sbindir:?}"
MAKE=${MAKE:-make}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/skald-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
D="$tmp/dest"
status=0
fail() {
	echo "FAIL: $*"
	status=1
}
need() {
	[ -e "$D$1" ] || fail "not installed: $1"
}

if ! $MAKE -C "$top_builddir" install DESTDIR="$D" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	echo "FAIL: make install DESTDIR=$D"
	exit 1
fi

# --- the files ---------------------------------------------------------
for d in kbroker kcontroller; do
	[ -x "$D$skald_sbindir/$d" ] || fail "not installed: $skald_sbindir/$d"
done
need "$skald_libdir/libkproto.so"
need "$skald_libdir/libkproto.so.0"
need "$skald_pkgconfigdir/libkproto.pc"
for h in kp_buf.h kp_arena.h kp_codec.h kp_proto.h kp_errors.h \
	 kp_errors.def kp_records.h kp_compress.h kp_crc32c.h kp_client.h \
	 kp_loop.h kp_log.h kp_msgs.h; do
	need "$skald_pkgincludedir/$h"
done
# the daemons' own modules stay private
for h in kp_config.h kp_zk.h kp_zkdata.h kp_notify.h; do
	[ ! -e "$D$skald_pkgincludedir/$h" ] || fail "private header installed: $h"
done
for f in kbroker.properties kcontroller.properties; do
	cmp -s "$top_srcdir/etc/$f" "$D$skald_confdir/$f" ||
		fail "$skald_confdir/$f is not the shipped etc/$f"
done
if [ -n "${skald_unitdir:-}" ]; then
	for u in kbroker.service kcontroller.service kbroker@.service \
		 kcontroller@.service; do
		need "$skald_unitdir/$u"
		daemon=${u%%[.@]*}
		grep -q "^ExecStart=$skald_sbindir/$daemon $skald_confdir/$daemon" \
			"$D$skald_unitdir/$u" 2>/dev/null ||
			fail "$u does not start $skald_sbindir/$daemon with a file in $skald_confdir"
	done
fi
[ -z "${skald_sysusersdir:-}" ] || need "$skald_sysusersdir/skald.conf"
[ -z "${skald_tmpfilesdir:-}" ] || need "$skald_tmpfilesdir/skald.conf"
for page in "$top_srcdir"/man/man*/*.[1-9]; do
	[ -f "$page" ] || continue
	sect=$(basename "$(dirname "$page")")
	need "${skald_mandir:?}/$sect/$(basename "$page")"
done

# --- building on the installed library ---------------------------------
export PKG_CONFIG_PATH="$D$skald_pkgconfigdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_SYSROOT_DIR="$D"
if ! $PKG_CONFIG --exists --print-errors libkproto; then
	fail "pkg-config does not find libkproto"
	exit 1
fi
v=$($PKG_CONFIG --modversion libkproto)
[ "$v" = "${skald_version:?}" ] || fail "libkproto.pc says version $v, not $skald_version"
cflags=$($PKG_CONFIG --cflags libkproto)
libs=$($PKG_CONFIG --libs libkproto)
echo "pkg-config --cflags --libs libkproto: $cflags $libs"
case " $cflags " in
*" -I$D$skald_pkgincludedir "*) ;;
*) fail "--cflags lacks -I$D$skald_pkgincludedir" ;;
esac
case " $libs " in
*" -lkproto "*) ;;
*) fail "--libs lacks -lkproto" ;;
esac

# Every installed header, each on its own first (so none leans on one
# included before it), then all together, and the library in use.
{
	for h in "$D$skald_pkgincludedir"/*.h; do
		echo "#include <$(basename "$h")>"
	done
	cat <<'EOC'
#include <stdio.h>
#include <string.h>

int main(void)
{
	/* CRC-32C's check value, Kafka's error table and the generated API
	 * keys: one call into each part of the library */
	if (kp_crc32c(0, "123456789", 9) != 0xe3069283u) {
		fprintf(stderr, "kp_crc32c is wrong\n");
		return 1;
	}
	if (strcmp(kp_err_name(KP_ERR_UNKNOWN_TOPIC_OR_PARTITION),
		   "UNKNOWN_TOPIC_OR_PARTITION") != 0 || KP_API_API_VERSIONS != 18) {
		fprintf(stderr, "error or API tables are wrong\n");
		return 1;
	}
	puts("libkproto works");
	return 0;
}
EOC
} >"$tmp/prog.c"
# shellcheck disable=SC2086 # the flags are word lists
for h in "$D$skald_pkgincludedir"/*.h; do
	printf '#include <%s>\n' "$(basename "$h")" >"$tmp/one.c"
	$CC -std=c11 -Wall -Wextra -Werror $cflags -c -o "$tmp/one.o" "$tmp/one.c" \
		>"$tmp/cc.out" 2>&1 || { fail "$(basename "$h") does not compile on its own:"; cat "$tmp/cc.out"; }
done
# <skald/...>, with no flags beyond the include root
printf '#include <skald/kp_client.h>\n#include <skald/kp_msgs.h>\n' >"$tmp/alt.c"
$CC -std=c11 -Wall -Wextra -Werror -I"$D${skald_includedir:?}" -c -o "$tmp/alt.o" \
	"$tmp/alt.c" >"$tmp/cc.out" 2>&1 || { fail "<skald/kp_client.h> does not compile:"; cat "$tmp/cc.out"; }

if $CC ${skald_san_cflags:-} -std=c11 -Wall -Wextra -Werror $cflags \
		-o "$tmp/prog" "$tmp/prog.c" $libs ${skald_san_ldflags:-} \
		>"$tmp/cc.out" 2>&1; then
	LD_LIBRARY_PATH="$D$skald_libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$tmp/prog" || fail "the program linked with libkproto.so failed"
	LD_LIBRARY_PATH="$D$skald_libdir" ldd "$tmp/prog" 2>/dev/null |
		grep -q "$D$skald_libdir/libkproto.so" ||
		fail "the program did not load the installed libkproto.so"
else
	fail "compiling and linking against libkproto.so failed:"
	cat "$tmp/cc.out"
fi

# Static: libkproto.a needs exactly what Requires.private and
# Libs.private name.
if [ -e "$D$skald_libdir/libkproto.a" ]; then
	slibs=$(printf ' %s ' "$($PKG_CONFIG --static --libs libkproto)" |
		sed 's/ -lkproto / -Wl,-Bstatic -lkproto -Wl,-Bdynamic /')
	echo "pkg-config --static --libs libkproto: $($PKG_CONFIG --static --libs libkproto)"
	if $CC ${skald_san_cflags:-} -std=c11 $cflags -o "$tmp/prog-static" \
			"$tmp/prog.c" $slibs ${skald_san_ldflags:-} >"$tmp/cc.out" 2>&1; then
		"$tmp/prog-static" || fail "the program linked with libkproto.a failed"
		if ldd "$tmp/prog-static" 2>/dev/null | grep -q libkproto; then
			fail "the static program still loads libkproto.so"
		fi
	else
		fail "linking against libkproto.a with --static --libs failed:"
		cat "$tmp/cc.out"
	fi
fi

# --- reinstall and uninstall -------------------------------------------
conf="$D$skald_confdir/kbroker.properties"
echo "# edited by the admin" >>"$conf"
$MAKE -C "$top_builddir" install DESTDIR="$D" >"$tmp/install2.log" 2>&1 ||
	{ cat "$tmp/install2.log"; fail "second make install"; }
tail -1 "$conf" | grep -q '^# edited by the admin$' ||
	fail "a reinstall replaced the edited $skald_confdir/kbroker.properties"
$MAKE -C "$top_builddir" uninstall DESTDIR="$D" >"$tmp/uninstall.log" 2>&1 ||
	{ cat "$tmp/uninstall.log"; fail "make uninstall"; }
left=$(cd "$D" && find . \( -type f -o -type l \) -print | sed 's|^\.||')
if [ "$left" != "$skald_confdir/kbroker.properties" ]; then
	fail "after uninstall, expected only the edited $skald_confdir/kbroker.properties; left:"
	echo "$left"
fi
exit $status
