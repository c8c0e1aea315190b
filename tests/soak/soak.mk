# soak.mk -- make soak: sock serve on both engines under mixed load, RSS and descriptors sampled each second
#
# Included by the Makefile.  `make soak` installs what a fresh machine
# lacks (scripts/deps.sh: liburing, python3), builds the sock program in
# a make of its own (which then sees liburing) and runs tests/soak/soak.py
# for SOAK_SECONDS (600; CI runs 60).  Its files go to $(BUILD)/soak:
# soak.csv (one row a second), summary.json, the servers' logs and, per
# quiet point, each mapping's RSS.  SOAK_CHART=docs/soak.png also draws
# the chart (tests/soak/chart.sh, gnuplot); SOAK_ARGS passes options to
# soak.py (--engines epoll, --leak BYTES ...).  Exits non-zero when a
# well-behaved client saw an error or RSS or descriptors did not return.

SOAK_SECONDS ?= 600
SOAK_CHART ?=
SOAK_ARGS ?=

.PHONY: soak soak-only

soak: deps
	@$(MAKE) --no-print-directory soak-only

soak-only: $(SOCK)
	python3 tests/soak/soak.py --build $(BUILD) --seconds $(SOAK_SECONDS) \
		$(if $(SOAK_CHART),--chart $(SOAK_CHART)) $(SOAK_ARGS)
