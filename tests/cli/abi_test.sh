#!/usr/bin/env bash
# abi_test.sh -- scripts/abi.sh passes the library as built and fails each way the ABI promise can break
. "$(dirname "$0")/lib.sh"

need abidw abidiff nm readelf make cc

# ---- the library of this build ----

if out=$("$SOCK_SRC/scripts/abi.sh" check "$SOCK_BUILD/libsock.so" 2>&1); then
	pass built_library_keeps_its_abi
	echo "    ${out##*$'\n'}"
else
	fail built_library_keeps_its_abi "$out"
fi

# The Debian package's symbols file (dpkg-shlibdeps turns it into each
# program's dependency) names every exported symbol at its version node,
# and nothing else: the package build checks the same (-c4), this finds
# it before a package is built.
exported=$(nm -D --defined-only "$SOCK_BUILD/libsock.so" |
	awk '$2 == "T" && $3 ~ /@/ { sub(/@@/, "@", $3); print $3 }' | sort)
abi=$(sed -n 's/^ABI := //p' "$SOCK_SRC/Makefile")
listed=$(awk '/^ sock_/ { print $1 }' "$SOCK_SRC/debian/libsock$abi.symbols" 2>/dev/null | sort)
if [ -z "$exported" ]; then
	fail debian_symbols_match_exports "nm found no versioned symbol in libsock.so"
elif [ -z "$listed" ]; then
	fail debian_symbols_match_exports "no debian/libsock$abi.symbols: the package is named after ABI"
elif [ "$exported" = "$listed" ]; then
	pass debian_symbols_match_exports
else
	fail debian_symbols_match_exports "$(diff <(echo "$listed") <(echo "$exported") |
		grep '^[<>]' | head -n 5 | tr '\n' ' ')(< symbols file, > library)"
fi

# ---- a copy of the tree, changed as a careless commit would ----

# What building the shared library needs, and nothing of this build's
# settings: a make started by make test would pass its command line on.
TREE=$TMP_DIR/tree
mkdir -p "$TREE"
cp -r "$SOCK_SRC"/{Makefile,libsock.pc.in,include,src,abi,scripts} "$TREE"/
# (make exports its command line's variables to what it runs: make asan's
# BUILD=build/asan would send this build there.)
build() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS -u BUILD \
		-u CC -u SHARED_LDFLAGS -u TSAN \
		make -C "$TREE" -j2 BUILD=build CFLAGS="-O0 -g" "$@" lib \
		>"$TMP_DIR/build.log" 2>&1 ||
		{ echo "    build failed:"; tail -n 5 "$TMP_DIR/build.log"; return 1; }
}
abi_check() {
	(cd "$TREE" && scripts/abi.sh check build/libsock.so) >"$TMP_DIR/abi.out" 2>&1
}
# NAME WANT-STATUS TEXT: the check ended with that status and said TEXT.
expect() {
	local rc=$?

	if [ $rc = "$2" ] && grep -qF -- "$3" "$TMP_DIR/abi.out"; then
		pass "$1"
	else
		fail "$1" "status $rc (want $2), no '$3' in: $(head -c 1500 "$TMP_DIR/abi.out")"
	fi
}

if ! build || [ ! -e "$TREE/build/libsock.so" ]; then
	fail copy_builds "$(tail -n 5 "$TMP_DIR/build.log")"
	finish
fi
abi_check
expect copy_as_it_is_passes 0 "abi: ok"

# A function left out of the map: the linker hides it, and programs that
# call what the header declares would not link.
cp "$TREE/abi/libsock.map" "$TMP_DIR/map"
sed -i '/^\tsock_version;$/d' "$TREE/abi/libsock.map"
build
abi_check
expect function_left_out_of_the_map_fails 1 "declared, not exported: sock_version"
cp "$TMP_DIR/map" "$TREE/abi/libsock.map"

# A function exported but declared nowhere.
cat >>"$TREE/src/sock/error.c" <<'EOF'

__attribute__((visibility("default"))) int sock_abi_hidden(void);
__attribute__((visibility("default"))) int sock_abi_hidden(void)
{
	return 1;
}
EOF
sed -i 's/^\tsock_version;$/\tsock_version;\n\tsock_abi_hidden;/' "$TREE/abi/libsock.map"
build
abi_check
expect export_without_declaration_fails 1 "exported, not declared: sock_abi_hidden"

# A function added the right way: declared, defined, in a node of its own.
sed -i 's/^\tsock_abi_hidden;$//' "$TREE/abi/libsock.map"
sed -i 's/sock_abi_hidden/sock_abi_added/g' "$TREE/src/sock/error.c"
sed -i 's|^#pragma GCC visibility pop|int sock_abi_added(void);\n#pragma GCC visibility pop|' \
	"$TREE/include/sock.h"
printf 'LIBSOCK_TEST {\nglobal:\n\tsock_abi_added;\n};\n' >>"$TREE/abi/libsock.map"
build
abi_check
expect added_function_passes_as_compatible 0 "abi: compatible with"
grep -q 'sock_abi_added' "$TMP_DIR/abi.out" ||
	fail added_function_is_named "$(cat "$TMP_DIR/abi.out")"

# A field added to struct sock_tls, which programs never see inside (only
# a pointer to it is public): not an ABI change (abi/libsock.suppr).
sed -i 's/^\tbool eof; /\tbool abi_private_probe;\n\tbool eof; /' "$TREE/src/tls/tls.h"
grep -q 'abi_private_probe' "$TREE/src/tls/tls.h" || fail opaque_changed "sed found no 'bool eof;'"
build
abi_check
expect opaque_struct_change_passes 0 "abi: "
grep -q "breaks" "$TMP_DIR/abi.out" && fail opaque_struct_change_passes_quietly "$(cat "$TMP_DIR/abi.out")"

# A field added to struct sock, which programs allocate themselves: every
# offset after it moves.
sed -i 's/^struct sock {$/struct sock {\n\tint abi_probe;/' "$TREE/include/sock.h"
grep -q 'abi_probe' "$TREE/include/sock.h" || fail struct_changed "sed found no 'struct sock {'"
build
abi_check
expect struct_layout_change_fails 1 "breaks the ABI"

# The same change with the soname's ABI number raised: allowed.
next=$(($(sed -n 's/^ABI := //p' "$TREE/Makefile") + 1))
rm -f "$TREE"/build/libsock.so*
build ABI=$next
abi_check
expect struct_layout_change_with_new_soname_passes 0 "as its soname says (libsock.so.$next)"

finish
