# fuzz.mk -- make fuzz: the libFuzzer targets of tests/fuzz/, each run for a bounded time
#
# Included by the Makefile.  `make fuzz` installs clang and libFuzzer on a
# fresh machine (scripts/deps.sh with SOCK_DEPS_FUZZ=1), builds every
# target with clang (-fsanitize=fuzzer,address,undefined) into
# $(BUILD)/fuzz/, and runs each for FUZZ_SECONDS seconds (default 30),
# starting from its seeds in tests/fuzz/corpus/TARGET/; the corpus it
# grows stays in $(BUILD)/fuzz/corpus/TARGET/.  It fails if a target
# crashes, leaks or breaks its invariant, and prints each target's
# executions and coverage (tests/fuzz/run.sh).  `make fuzz-build` only
# builds; FUZZ_TARGETS picks targets; FUZZ_RUNS=N stops each target after
# N runs (FUZZ_SECONDS still bounds it).  The targets' sources say what
# each one checks; docs/reliability.md has the figures.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_TARGETS ?= addr split clients chat streams datagrams guard json \
	activation replies logs access options proxy tls tls_server
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -g -O2 -fno-omit-frame-pointer \
	$(WARN) $(FUZZ_SAN) $(FUZZ_COV) $(FUZZ_BOUNDS) -Iinclude -Isrc -Icli \
	-Iservices -Itests/fuzz -MMD -MP
# The services' count bounds, made small: at their real values (256
# clients, a 128 KiB reply, 256 chat members) one run that reaches them
# costs milliseconds (every join is told to every member, every reply
# carries the whole list), and the campaign would run for days.  The code
# that keeps the bounds is the same; tests/services_test.c checks the
# real values.
FUZZ_BOUNDS := -DCLIENTS_MAX=16 -DCLIENTS_REPLY_MAX=32768 \
	-DCHAT_MEMBERS_MAX=16
# Coverage is measured in the code under test; the targets' own checking
# code and the fake server are not instrumented, so that cov and ft count
# the library's branches (and the checks cost less).
FUZZ_COV = -fsanitize=fuzzer-no-link
$(FUZZ_DIR)/obj/tests/fuzz/%.o: FUZZ_COV =

# What each target links besides its own file: the code it drives.  The
# services run on tests/fuzz/fake_server.c, not on the library's server.
FUZZ_SOCK := $(wildcard src/sock/*.c src/tls/*.c)
FUZZ_SVC := $(FUZZ_SOCK) $(wildcard services/*.c) tests/fuzz/fake_server.c
FUZZ_LINK_addr := $(FUZZ_SOCK)
FUZZ_LINK_split := $(FUZZ_SOCK)
FUZZ_LINK_clients := $(FUZZ_SVC) tests/fuzz/json_check.c
FUZZ_LINK_chat := $(FUZZ_SVC)
FUZZ_LINK_streams := $(FUZZ_SVC)
FUZZ_LINK_datagrams := $(FUZZ_SVC)
FUZZ_LINK_json := cli/json.c tests/fuzz/json_check.c
FUZZ_LINK_activation := $(FUZZ_SOCK) src/server/activation.c
FUZZ_LINK_replies := cli/reply.c
FUZZ_LINK_logs := $(FUZZ_SVC) cli/serve_log.c tests/fuzz/json_check.c
FUZZ_LINK_access := $(FUZZ_SOCK) src/server/access.c src/server/source.c
FUZZ_LINK_options := $(FUZZ_SOCK)
FUZZ_LINK_proxy := $(FUZZ_SOCK) src/server/proxy_header.c
FUZZ_LINK_tls := $(FUZZ_SOCK)
# A whole server (epoll: the fuzz build has no io_uring), on loopback.
FUZZ_LINK_tls_server := $(FUZZ_SOCK) $(wildcard src/server/*.c src/engine/*.c)
# The guard with tables of 4 buckets and 2 echo slots: every host shares
# them with the others all the time, where a guard would go wrong.
FUZZ_LINK_guard := $(FUZZ_SOCK) src/server/guard.c src/server/source.c
$(FUZZ_DIR)/obj/src/server/guard.o $(FUZZ_DIR)/obj/tests/fuzz/guard_fuzz.o: \
	FUZZ_BOUNDS += -DSOCK__GUARD_CELLS=4 -DSOCK__ECHO_SLOTS=2

FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

.PHONY: fuzz fuzz-build fuzz-deps

$(FUZZ_DIR)/obj/%.o: %.c tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

define FUZZ_RULE
$(FUZZ_DIR)/$(1): $(FUZZ_DIR)/obj/tests/fuzz/$(1)_fuzz.o \
		$(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LINK_$(1)))
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $$@ $$^ $(TLS_LIBS) -lpthread
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

fuzz-build: $(FUZZ_BINS)

fuzz-deps:
	@SOCK_DEPS_FUZZ=1 scripts/deps.sh

# Packages first, then the build: a new make, as for make bench.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-build
	FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) \
		$(FUZZ_TARGETS)

FORMAT_SRC += $(wildcard tests/fuzz/*.[ch])

-include $(wildcard $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/obj/*/*/*.d)
