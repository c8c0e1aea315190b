# torture.mk -- make torture: fail each fallible call of libsock in turn (tests/torture)
#
# Included by the Makefile.  `make torture` builds the library, the
# services and the sock program's commands under AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer in build/torture, renames in
# those objects every call to a fallible function F into torture_F (the
# shim, shim.c), links them with the scenarios into
# build/torture/tests/torture, and walks every injection point of every
# scenario (walk.sh): a counting run, then one run per call of each
# function with that call failed.
#
#   TORTURE_STRIDE=S  walk every S-th injection point only (CI), from
#   TORTURE_OFFSET=O  the O-th
#   TORTURE_ONLY=RE   only the scenarios whose names match RE
#   TORTURE_JOBS=N    runs at once (default 2)

TORTURE_BIN := $(BUILD)/tests/torture
TORTURE_SRC := $(wildcard tests/torture/*.c)
TORTURE_OWN := $(TORTURE_SRC:%.c=$(BUILD)/obj/%.o)

# What the shim stands in for.  io_uring_get_sqe, inline in liburing.h,
# is reached through sqe.h instead.
TORTURE_FUNCS := malloc calloc realloc mmap mremap socket socketpair accept4 bind \
	listen setsockopt epoll_create1 epoll_ctl eventfd signalfd open fcntl \
	syscall pthread_create fork getaddrinfo io_uring_queue_init_params \
	io_uring_get_probe_ring io_uring_register_buf_ring io_uring_submit \
	io_uring_submit_and_get_events io_uring_submit_and_wait \
	io_uring_submit_and_wait_timeout SSL_CTX_new SSL_new BIO_new BIO_meth_new

# libsock's own objects: the library, the services, the commands (not
# main, which the torture program replaces).
TORTURE_OBJ := $(filter-out $(BUILD)/obj/cli/main.o, \
	$(LIB_OBJ) $(SVC_OBJ) $(CLI_OBJ))
TORTURE_WRAPPED := $(TORTURE_OBJ:$(BUILD)/obj/%=$(BUILD)/wrapped/%)

TORTURE_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

.PHONY: torture torture-build torture-walk

# Packages first, then a make of its own (as asan): the sanitizer build
# in build/torture, with sqe.h read first by every file.
torture: deps
	@$(MAKE) --no-print-directory BUILD=build/torture \
		CFLAGS="-O1 -g $(TORTURE_SAN)" LDFLAGS="$(TORTURE_SAN)" \
		CPPFLAGS="-include tests/torture/sqe.h" torture-walk

torture-build: $(TORTURE_BIN)

torture-walk: $(TORTURE_BIN)
	TORTURE_STRIDE="$(TORTURE_STRIDE)" TORTURE_OFFSET="$(TORTURE_OFFSET)" \
		TORTURE_ONLY="$(TORTURE_ONLY)" TORTURE_JOBS="$(TORTURE_JOBS)" \
		tests/torture/walk.sh $(TORTURE_BIN)

$(BUILD)/wrapped/syms: tests/torture/torture.mk
	@mkdir -p $(dir $@)
	printf '%s\n' $(foreach f,$(TORTURE_FUNCS),'$(f) torture_$(f)') > $@

$(BUILD)/wrapped/%.o: $(BUILD)/obj/%.o $(BUILD)/wrapped/syms
	@mkdir -p $(dir $@)
	objcopy --redefine-syms=$(BUILD)/wrapped/syms $< $@

# The scenarios and the shim call the real functions.
$(TORTURE_OWN): CPPFLAGS_ALL += -Isrc -Iservices -Icli

$(TORTURE_BIN): $(TORTURE_OWN) $(TORTURE_WRAPPED)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

FORMAT_SRC += $(wildcard tests/torture/*.[ch])
