# sifa — GNU Makefile. `make` builds ./sifa; `make run` sets up, creates the demo database and
# serves it; `make test` runs every suite (also under ASan+UBSan) and ends with "N passed, N failed".
.DEFAULT_GOAL := all
SHELL := /bin/bash

CC ?= cc
PKGS := libh2o-evloop openssl jansson yaml-0.1 sqlite3 libsodium zlib xlsxwriter libzip cairo pangocairo
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Werror
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Isrc $(WARN) -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

SRCS := $(sort $(wildcard src/*/*.c))
LIB_SRCS := $(SRCS)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

# Two builds: release (the binary people run) and asan (ASan + UBSan, for the test suites).
REL_CFLAGS := $(BASE_CFLAGS) -O2 -g
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

TSAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=thread

REL_OBJS := $(patsubst src/%.c,build/rel/%.o,$(LIB_SRCS))
ASAN_OBJS := $(patsubst src/%.c,build/asan/%.o,$(LIB_SRCS))
TSAN_OBJS := $(patsubst src/%.c,build/tsan/%.o,$(LIB_SRCS))

.SECONDARY:
.PHONY: all deps run test test-unit test-api fuzz fuzz-build bench check-layers clean web

all: sifa

deps:
	@scripts/setup-deps.sh

# The front end (Vue 3 + Element Plus + ECharts, built by Vite): rebuilt when a source changes.
WEB_SRCS := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.js web/package.json web/package-lock.json
web: web/dist/index.html
web/dist/index.html: $(WEB_SRCS)
	@scripts/build-web.sh

sifa: $(REL_OBJS) build/rel/main.o
	$(CC) $(REL_CFLAGS) -o $@ $^ $(PKG_LIBS)

build/asan/sifa: $(ASAN_OBJS) build/asan/main.o
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

# ThreadSanitizer build of the server: the concurrency API tests run against it.
build/tsan/sifa: $(TSAN_OBJS) build/tsan/main.o
	$(CC) $(TSAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

build/tsan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/rel/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Unit tests: one cmocka binary per tests/unit/test_*.c, linked with every library object.
build/rel/tests/%: tests/unit/%.c $(REL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(REL_OBJS) $(PKG_LIBS) -lcmocka

build/asan/tests/%: tests/unit/%.c $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(ASAN_OBJS) $(PKG_LIBS) -lcmocka

UNIT_REL := $(patsubst tests/unit/%.c,build/rel/tests/%,$(UNIT_SRCS))
UNIT_ASAN := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRCS))

# Fuzz targets: libFuzzer via clang, with ASan+UBSan. `make test` replays each corpus once;
# `make fuzz` runs each fuzzer for FUZZ_SECONDS. Library objects are built once for all targets.
FUZZ_CC := clang
FUZZ_BASE := -std=c17 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Isrc -g -O1 -fno-sanitize-recover=all -Wall -Wextra -Werror
FUZZ_OBJS := $(patsubst src/%.c,build/fuzzobj/%.o,$(LIB_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60

build/fuzzobj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps fuzz-build
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p tests/fuzz/corpus/$$n build/fuzz/new/$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/new/$$n tests/fuzz/corpus/$$n || exit 1; done

test: deps
	@$(MAKE) --no-print-directory web
	@$(MAKE) --no-print-directory -j$$(nproc) sifa build/asan/sifa build/tsan/sifa $(UNIT_REL) $(UNIT_ASAN) $(FUZZ_BINS)
	@scripts/run-tests.sh

# Benchmarks print each figure beside a reference run in the same script (nginx, the sqlite3
# shell). bench/records defaults to 1,000,000 records and bench/stats to 10,000,000 (each takes a
# while); BENCH_RECORDS=N, BENCH_STATS_RECORDS=N for less.
bench: deps sifa
	@bench/http
	@bench/records
	@bench/stats

# A missing database is created with the demo county (慈溪市, 2021: org units and the records behind
# every figure of its annual report); the admin password is printed once.
run: deps sifa web
	@mkdir -p data
	@test -f data/sifa.db || ./sifa demo --db data/sifa.db --key_file data/sifa.key
	./sifa serve --config sifa.conf.example --db data/sifa.db --listen 127.0.0.1:8080

# A layer includes only layers below it (see DESIGN.md).
check-layers:
	@scripts/check-layers.sh

clean:
	rm -rf build sifa

-include $(shell find build -name '*.d' 2>/dev/null)
