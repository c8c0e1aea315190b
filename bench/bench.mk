# bench.mk -- make bench: the reference servers, then bench/run.py writes docs/performance.md
#
# Included by the Makefile.  `make bench` installs the benchmark's packages
# on a fresh machine (scripts/deps.sh with SOCK_DEPS_BENCH=1), builds the
# library, the sock program and every reference server into $(BUILD)/bench,
# and runs every workload (bench/run.py, about 10 minutes).  A reference
# whose library is missing is left out with a note: its cells read n/a.
# `make bench-build` only builds; BENCH_QUICK=1 makes a short run of one
# workload; BENCH_ARGS passes options to bench/run.py (--only, --runs ...).

BENCH_DIR := $(BUILD)/bench
BENCH_REFS := epoll_echo uring_echo uv_echo event_echo udp_echo \
	time_server bulk_server tls_echo
BENCH_BINS := $(BENCH_REFS:%=$(BENCH_DIR)/%)
BENCH_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS)
BENCH_OUT ?= docs/performance.md

bench_libs = $(shell pkg-config --libs $(1) 2>/dev/null || echo -l$(2))
BENCH_LIBS_uring_echo = $(call bench_libs,liburing,uring)
BENCH_LIBS_uv_echo = $(call bench_libs,libuv,uv)
BENCH_LIBS_event_echo = $(call bench_libs,libevent,event)
BENCH_LIBS_tls_echo = $(call bench_libs,libssl libcrypto,ssl -lcrypto)

.PHONY: bench bench-build bench-deps

$(BENCH_DIR)/%: bench/%.c bench/ref.h
	@mkdir -p $(dir $@)
	@$(CC) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_LIBS_$*) || \
		{ echo "bench: cannot build $@: its cells will be n/a" >&2; \
		  rm -f $@; }

bench-deps:
	@SOCK_DEPS_BENCH=1 scripts/deps.sh

bench-build: all $(BENCH_BINS) $(BENCH_DIR)/nostats/sock

# The sock program with its counters compiled out (-DSOCK_NO_STATS), in a
# build directory of its own: echo64 runs it beside the real one, for
# what the always-on statistics cost.
$(BENCH_DIR)/nostats/sock: FORCE
	@$(MAKE) --no-print-directory BUILD=$(BENCH_DIR)/nostats \
		CPPFLAGS="$(CPPFLAGS) -DSOCK_NO_STATS" $@

.PHONY: FORCE
FORCE:

# The test suite runs bench/run.py in its quick mode against this one.
tests: $(BENCH_DIR)/epoll_echo

# Packages first, then a new make: the library flags above are read
# after they are installed.
bench: bench-deps
	$(MAKE) --no-print-directory BUILD=$(BUILD) bench-build
	python3 bench/run.py --build $(BUILD) --out $(BENCH_OUT) $(BENCH_ARGS)
	bench/counters.sh $(BUILD) >>$(BENCH_OUT)
