# provgate — build, test, demo.
#
#   make            build/provgate
#   make deps       install build and test dependencies (apt-get, idempotent)
#   make test       deps + build + unit, integration and vector tests
#   make unit       only the unit tests (tests/unit, cmocka)
#   make integration  only the integration scripts (tests/integration/t_*.sh)
#   make asan test  the same under ASan/UBSan (objects in build/asan)
#   make tsan test  the same under ThreadSanitizer (objects in build/tsan)
#   make demo       a real registry + chart repo on loopback, provgate, decisions
#                   (KEEP=1: leave them running and print commands to try)
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (default 30); the
#                   targets are the SANITIZE=fuzz variant (clang, objects in
#                   build/fuzz), built by `make SANITIZE=fuzz fuzz-targets`
#   make bench      benchmarks (tests/bench/)
#   make lint       banned calls, foreign libraries outside their room, and
#                   clang-format (LINT_FORMAT=0 leaves the format out)
#   make readme-usage  regenerate README.md's usage block from `provgate help`
#
# TESTS='t_cache*' limits test, unit and integration to matching names;
# TEST_JOBS=N sets how many tests run at once (default: twice the cores;
# cores + 1 under a sanitizer).
# Builds run $(JOBS) compiles at once (default: cores) unless make was
# given its own -j.
#
# Sources are found by globbing webhook/*/*.c, so a new module needs no
# Makefile edit.  Unit tests are tests/unit/test_*.c; each includes the .c it
# tests and links the rest from build/libprovgate.a (the archive member of the
# included file is then never pulled in, so there are no duplicate symbols).

SANITIZE ?=
ifneq ($(filter asan,$(MAKECMDGOALS)),)
SANITIZE = 1
endif
ifneq ($(filter tsan,$(MAKECMDGOALS)),)
SANITIZE = tsan
endif

# The fuzz variant: clang with libFuzzer's coverage instrumentation and
# ASan/UBSan in every object (fuzzer-no-link), libFuzzer's main linked only
# into the targets.  _FORTIFY_SOURCE is left out there: its checked string
# functions bypass ASan's interceptors and hide overflows from it.
# -fno-sanitize-recover makes a UBSan report stop a run like a crash.
FORTIFY = -D_FORTIFY_SOURCE=3
ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),tsan)
BUILD ?= build/tsan
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
else ifeq ($(SANITIZE),fuzz)
BUILD ?= build/fuzz
CC = $(FUZZ_CC)
CFLAGS ?= -O1 -g
FORTIFY =
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
FUZZ_LINK = -fsanitize=fuzzer,address,undefined
else
BUILD ?= build
SANFLAGS =
endif
FUZZ_CC ?= clang

CC ?= cc
NPROC := $(shell nproc 2>/dev/null || echo 2)
JOBS ?= $(NPROC)
# -j for the sub-makes below, unless the caller's make already shares a jobserver.
SUBJ = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(JOBS))
PKGS = libh2o-evloop jansson yaml-0.1 libcurl openssl gpgme
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is not linked: fetch/curl_lazy.c opens it at its first use (its
# ~30 dependencies made most of every process start).  --as-needed keeps
# out what a binary does not use.
PKG_LIBS := $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror=implicit-function-declaration -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=c17 $(WARN) -D_GNU_SOURCE $(FORTIFY) -fstack-protector-strong \
	-DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED -DH2O_USE_LIBUV=0 \
	-Iwebhook $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS) -Wl,--as-needed
LDLIBS = $(PKG_LIBS) -lz -lpthread -lm -ldl

# Quiet by default: `make V=1` shows the full commands.
ifeq ($(V),1)
Q =
say = @true
else
Q = @
say = @printf '  %-6s %s\n'
endif

PG_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

SRCS := $(sort $(wildcard webhook/*/*.c))
LIB_OBJS := $(patsubst webhook/%.c,$(BUILD)/obj/%.o,$(SRCS))
MAIN_OBJ := $(BUILD)/obj/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRCS))

.PHONY: all deps test unit integration asan tsan demo fuzz fuzz-targets bench lint clean format readme-usage

all: $(BUILD)/provgate

$(BUILD)/provgate: $(MAIN_OBJ) $(BUILD)/libprovgate.a
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libprovgate.a: $(LIB_OBJS)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(MAIN_OBJ): webhook/main.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -DPG_VERSION='"$(PG_VERSION)"' -c -o $@ $<

$(BUILD)/obj/%.o: webhook/%.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libprovgate.a
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -Wno-unused-function -o $@ $< $(BUILD)/libprovgate.a $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libprovgate.a
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libprovgate.a $(LDFLAGS) $(LDLIBS) -lnghttp2

# provgate with the test-only hatches compiled in (fetch.h:
# PROVGATE_TEST_PUBLIC_NETS, for the network-namespace replay tests;
# server/reload.c: PROVGATE_TEST_LOAD_DELAY_MS, for the reload race); the
# shipped binary never contains them.
TESTNETS_BIN := $(BUILD)/tests/provgate-testnets
$(BUILD)/obj/fetch/fetch_testnets.o: webhook/fetch/fetch.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(CFLAGS) -DPG_FETCH_TEST_NETS -c -o $@ $<
$(BUILD)/obj/server/reload_testhooks.o: webhook/server/reload.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(CFLAGS) -DPG_SERVER_TEST_HOOKS -c -o $@ $<

$(TESTNETS_BIN): $(MAIN_OBJ) $(BUILD)/obj/fetch/fetch_testnets.o \
		$(BUILD)/obj/server/reload_testhooks.o $(BUILD)/libprovgate.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# One libFuzzer binary per tests/fuzz/fuzz_*.c (SANITIZE=fuzz only).
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libprovgate.a
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS) $(FUZZ_LINK) -o $@ $< $(BUILD)/libprovgate.a $(LDLIBS)

# FUZZ_TARGETS="fuzz_ref fuzz_url" (or comma separated) builds only those.
comma := ,
ifeq ($(SANITIZE),fuzz)
fuzz-targets: $(if $(FUZZ_TARGETS),$(patsubst %,$(BUILD)/%,$(subst $(comma), ,$(FUZZ_TARGETS))),$(FUZZ_BINS))
else
fuzz-targets:
	@$(MAKE) --no-print-directory $(SUBJ) SANITIZE=fuzz fuzz-targets
endif

asan tsan:
	@true

deps:
	@sh tests/deps.sh

unit: deps
	@$(MAKE) --no-print-directory $(SUBJ) SANITIZE=$(SANITIZE) $(UNIT_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) TEST_KIND=unit sh tests/run.sh

integration: deps
	@$(MAKE) --no-print-directory $(SUBJ) SANITIZE=$(SANITIZE) all $(TOOL_BINS) $(TESTNETS_BIN)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) TEST_KIND=integration sh tests/run.sh

test: deps
	@$(MAKE) --no-print-directory $(SUBJ) SANITIZE=$(SANITIZE) all $(UNIT_BINS) $(TOOL_BINS) $(TESTNETS_BIN)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory $(SUBJ) all $(BUILD)/tools/nvsign
	@BUILD=$(BUILD) KEEP=$(KEEP) bash tests/demo/demo.sh

FUZZ_SECONDS ?= 30
fuzz: deps
	@MAKE="$(MAKE)" FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) sh tests/fuzz/run.sh

bench: deps
	@$(MAKE) --no-print-directory $(SUBJ) all $(BUILD)/tools/nvsign
	@BUILD=$(BUILD) bash tests/bench/run.sh

LINT_FORMAT ?= 1
lint: deps
	@LINT_FORMAT=$(LINT_FORMAT) sh tests/lint.sh

# The README's usage block, from the verbs' help texts (checked by
# tests/integration/t_readme_usage.sh).
readme-usage: $(BUILD)/provgate
	@sh tests/readme_usage.sh $(BUILD)/provgate

# The files `make lint` checks for format (and `make format` rewrites).
FORMAT_FILES = $(SRCS) webhook/main.c $(wildcard webhook/*/*.h) \
	$(wildcard tests/unit/*.[ch] tests/fuzz/*.[ch] tests/bench/*.[ch])
format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
-include $(BUILD)/obj/fetch/fetch_testnets.d $(BUILD)/obj/server/reload_testhooks.d
