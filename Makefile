# Makefile -- the one build file: libsock, the sock program, examples, tests

VERSION := 0.2.0
ABI := 1

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
BUILD ?= build
CFLAGS ?= -O2 -g
LDFLAGS ?=

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wvla -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif

# io_uring engine: built when liburing is found (URING=0 leaves it out).
# Found when this Makefile is read, so the targets that install packages
# first (run, test, asan) read it again after that step, in a make of
# their own.
URING ?= $(shell pkg-config --exists liburing 2>/dev/null && echo 1 || echo 0)
ifeq ($(URING),1)
URING_CFLAGS := -DSOCK_HAVE_URING $(shell pkg-config --cflags liburing)
URING_LIBS := $(shell pkg-config --libs liburing)
URING_PC := liburing
endif

# TLS: OpenSSL 3 (Debian's libssl-dev, installed by the deps step).
TLS_CFLAGS := $(shell pkg-config --cflags openssl 2>/dev/null)
TLS_LIBS := $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)

CPPFLAGS_ALL := -D_GNU_SOURCE -Iinclude $(URING_CFLAGS) $(TLS_CFLAGS) $(CPPFLAGS)
CFLAGS_ALL := -std=gnu11 -fPIC -fvisibility=hidden $(WARN) $(CFLAGS) \
	-MMD -MP
LIBS := $(URING_LIBS) $(TLS_LIBS) -lpthread

# What objects and programs are built with.  When it differs from what
# the build directory was built with (liburing installed since, other
# CFLAGS), the stamp's time changes and everything is built again.
FLAGS_STAMP := $(BUILD)/flags
FLAGS_NOW := $(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) ; $(LDFLAGS) $(LIBS)
FLAGS_OLD := $(shell cat $(FLAGS_STAMP) 2>/dev/null)
ifneq ($(FLAGS_NOW),$(FLAGS_OLD))
$(shell mkdir -p $(BUILD) && printf '%s\n' '$(FLAGS_NOW)' >$(FLAGS_STAMP))
endif

LIB_SRC := $(wildcard src/*/*.c)
SVC_SRC := $(wildcard services/*.c)
CLI_SRC := $(wildcard cli/*.c)
EX_SRC := $(wildcard examples/*.c)
TEST_SRC := $(wildcard tests/*_test.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
SVC_OBJ := $(SVC_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
EXAMPLES := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
ADV_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/adversary/*.c))
ADVERSARY := $(BUILD)/tests/adversary

STATIC := $(BUILD)/libsock.a
SHARED := $(BUILD)/libsock.so.$(VERSION)
SONAME := libsock.so.$(ABI)
PC := $(BUILD)/libsock.pc
SOCK := $(BUILD)/sock

.PHONY: all lib examples tests test test-only asan tsan valgrind check-format format \
	install uninstall run deps clean abi-check abi-baseline man \
	deb deb-test

all: lib $(SOCK) examples

lib: $(STATIC) $(SHARED) $(PC)

examples: $(EXAMPLES)

tests: all $(TESTS) $(ADVERSARY)

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

# The library's files name each other's headers from src/.
$(LIB_OBJ): CPPFLAGS_ALL += -Isrc

$(STATIC): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# A library built for ThreadSanitizer leaves its runtime to the program
# (clang links it into executables only): make tsan empties this.
SHARED_LDFLAGS ?= -Wl,--no-undefined

# abi/libsock.map names what the library exports, in version nodes:
# nothing else leaves it, and scripts/abi.sh checks it against the header
# and abi/libsock.abi (docs/abi.md).
ABI_MAP := abi/libsock.map

$(SHARED): $(LIB_OBJ) $(ABI_MAP)
	$(CC) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=$(ABI_MAP) $(SHARED_LDFLAGS) $(CFLAGS) \
		$(LDFLAGS) -o $@ $(LIB_OBJ) $(LIBS)
	ln -sf libsock.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libsock.so.$(VERSION) $(BUILD)/libsock.so

# The pkg-config file names the install directories, so install writes
# it again for the PREFIX given then.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	-e 's|@REQUIRES@|$(URING_PC) libssl libcrypto|' libsock.pc.in

$(PC): libsock.pc.in Makefile
	@mkdir -p $(dir $@)
	$(PC_SED) > $@

# The program links the library statically: it runs from the build tree.
$(SOCK): $(CLI_OBJ) $(SVC_OBJ) $(STATIC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(SVC_OBJ) $(STATIC) $(LIBS)

$(BUILD)/examples/%: examples/%.c $(STATIC) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(STATIC) $(LIBS)

# Tests may reach into the library's internals and the services.
$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h tests/tls/*.h) $(STATIC) $(SVC_OBJ) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) -Isrc -Iservices $(CFLAGS_ALL) $(LDFLAGS) -o $@ \
		$< $(SVC_OBJ) $(STATIC) $(LIBS)

# Attacks sock serve from outside (tests/cli/adversary_test.sh runs it):
# plain sockets, no library.
$(ADVERSARY): $(ADV_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(ADV_OBJ) -lpthread

# Set up a fresh machine (packages, when root), build, run every test.
# The build is a make of its own, which reads this file again: it sees
# what deps installed.
test: deps
	@$(MAKE) --no-print-directory test-only

# The tests, without the deps step (TESTS_RUN: only the programs and
# scripts whose names contain one of these words).
test-only: tests
	SOCK_CFLAGS="$(CFLAGS)" SOCK_LDFLAGS="$(LDFLAGS)" TSAN="$(TSAN)" \
		tests/run.sh $(BUILD) $(TESTS_RUN)

deps:
	@scripts/deps.sh

# The shared library against abi/libsock.map, the header and the
# baseline abi/libsock.abi (scripts/abi.sh, docs/abi.md); abi-baseline
# writes the baseline again, at a release or after ABI was raised.
abi-check: deps
	@$(MAKE) --no-print-directory lib
	scripts/abi.sh check $(SHARED)

abi-baseline: deps
	@$(MAKE) --no-print-directory lib
	scripts/abi.sh baseline $(SHARED)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" test-only

# ThreadSanitizer (clang's) over everything that runs threads: the
# server tests (thread, pool and fork modes, stops from threads and
# signals), the engine, loop, resolver and connect tests (lookups
# abandoned at their deadline), the blocking I/O and services tests, and
# the scripts that run sock serve with workers and every mode and the
# server examples.  Any report fails the run (tests/run.sh); tests/tsan.supp
# says why each suppression is there.  (=tls_test: the TLS socket tests,
# not serve_tls_test.sh, whose sock serve runs one thread.)
TSAN_RUN := server_ engine_test loop_test resolve_test connect_test eyeballs_test io_test =tls_test \
	services_test serve_modes_test
tsan: deps
	@$(MAKE) --no-print-directory BUILD=build/tsan CC=clang SHARED_LDFLAGS= \
		CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
		TSAN=1 TESTS_RUN="$(TSAN_RUN)" test-only

valgrind: tests
	VALGRIND=1 tests/run.sh $(BUILD)

FORMAT_SRC = $(wildcard include/*.h include/sock/*.h src/*.[ch] src/*/*.[ch] \
	services/*.[ch] cli/*.[ch] examples/*.c tests/*.[ch] tests/adversary/*.[ch] \
	bench/*.c)

check-format:
	clang-format --dry-run -Werror $(FORMAT_SRC)

format:
	clang-format -i $(FORMAT_SRC)

# A man page per exported function, from the comments of the headers
# (scripts/manpages.py); tests/cli/man_test.sh fails when they differ.
MAN3 := $(wildcard docs/man/man3/*.3)

man:
	scripts/manpages.py docs/man/man3

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/sock $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 755 $(SOCK) $(DESTDIR)$(BINDIR)/sock
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libsock.a
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libsock.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libsock.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsock.so
	install -m 644 include/sock.h $(DESTDIR)$(INCLUDEDIR)/sock.h
	for h in $(wildcard include/sock/*.h); do \
		install -m 644 $$h $(DESTDIR)$(INCLUDEDIR)/sock/; done
	$(PC_SED) > $(DESTDIR)$(PKGCONFIGDIR)/libsock.pc
	install -m 644 docs/man/sock.1 $(DESTDIR)$(MANDIR)/man1/sock.1
	install -m 644 docs/man/libsock.3 $(MAN3) $(DESTDIR)$(MANDIR)/man3/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sock $(DESTDIR)$(LIBDIR)/libsock.* \
		$(DESTDIR)$(INCLUDEDIR)/sock.h $(DESTDIR)$(PKGCONFIGDIR)/libsock.pc \
		$(DESTDIR)$(MANDIR)/man1/sock.1 $(DESTDIR)$(MANDIR)/man3/libsock.3
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
	rm -rf $(DESTDIR)$(INCLUDEDIR)/sock

# Debian packages (debian/): libsock$(ABI), libsock-dev and sock, built by
# dpkg-buildpackage in a copy of the tree under $(BUILD)/deb, where the
# .deb files land.  deb-test (tests/deb/deb_test.sh, root) builds them,
# runs lintian, installs them, builds a program against the installed
# package with pkg-config, runs sock serve from it and removes them.
DEB_DIR := $(BUILD)/deb

deb:
	@SOCK_DEPS_DEB=1 scripts/deps.sh
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/libsock-$(VERSION)
	tar --exclude=./build --exclude=./.git -cf - . | \
		tar -xf - -C $(DEB_DIR)/libsock-$(VERSION)
	cd $(DEB_DIR)/libsock-$(VERSION) && \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS \
		-u CPPFLAGS -u BUILD -u CC dpkg-buildpackage -us -uc -b \
		>../build.log 2>&1 || { tail -n 30 ../build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb

deb-test: deb
	tests/deb/deb_test.sh $(DEB_DIR)

# The main job: every service on its default address, until Ctrl-C.
run: deps
	@$(MAKE) --no-print-directory all
	$(SOCK) serve

clean:
	rm -rf build

# The benchmark suite (make bench), the soak (make soak) and the fuzz
# targets (make fuzz) keep their rules beside their sources.
-include bench/bench.mk
-include tests/soak/soak.mk
-include tests/fuzz/fuzz.mk
# Fault injection (make torture) keeps its rules beside its sources.
-include tests/torture/torture.mk

-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/examples -name '*.d' 2>/dev/null)
