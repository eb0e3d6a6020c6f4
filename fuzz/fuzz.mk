# fuzz/fuzz.mk - libFuzzer harnesses for libcsbot and csbot-server.
# Included from the top-level Makefile (after BUILD, WARN_CFLAGS, DEP_CFLAGS,
# DEP_LIBS, SERVER_CFLAGS and SERVER_LIBS are defined):
#
#   make fuzz-build    every harness into $(BUILD)/fuzz/bin/
#   make fuzz          each harness for FUZZ_SECONDS (300) on a copy of its
#                      corpus in $(BUILD)/fuzz/corpus/NAME; crashes go to
#                      $(BUILD)/fuzz/crashes/NAME/
#   make fuzz-smoke    the same for 30 s each
#   make fuzz-regress  replay fuzz/regress/NAME/* through each harness once
#
# The fuzz build has its own objects (clang, -fsanitize=fuzzer-no-link,
# address,undefined) in $(BUILD)/fuzz/obj/, compiled from lib/*.c,
# server/*.c (without main.c) and wechat/*.c (the WeChat protocol module the
# server links, with WX_CFLAGS; WX_LIBS at link time) with the project's
# flags.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_OPTFLAGS ?= -O1 -g
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_DIR     = $(BUILD)/fuzz
FUZZ_BIN     = $(FUZZ_DIR)/bin
FUZZ_NAMES   = kb_load reply restore patterns server_api wechat
FUZZ_HARNESS_FILES = $(FUZZ_NAMES:%=fuzz/%.c)

# -max_len for each harness (bytes).
FUZZ_MAXLEN_kb_load    = 16384
FUZZ_MAXLEN_reply      = 4096
FUZZ_MAXLEN_restore    = 16384
FUZZ_MAXLEN_patterns   = 2048
FUZZ_MAXLEN_server_api = 8192
FUZZ_MAXLEN_wechat     = 4096

FUZZ_WARN = $(WARN_CFLAGS)
FUZZ_CFLAGS_ALL = $(FUZZ_OPTFLAGS) $(FUZZ_WARN) $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=fuzz/nocov.txt \
	-D_POSIX_C_SOURCE=200809L -MMD -MP
FUZZ_LIB_CPPFLAGS = -Iinclude -Ilib -DPCRE2_CODE_UNIT_WIDTH=8 $(DEP_CFLAGS)
FUZZ_SRV_CPPFLAGS = -Iinclude -Iserver -Iwechat $(DEP_CFLAGS) $(SERVER_CFLAGS) $(WX_CFLAGS) -D_DEFAULT_SOURCE
# The WeChat module knows neither the library nor the server.
FUZZ_WX_CPPFLAGS = -Iwechat $(WX_CFLAGS) -D_DEFAULT_SOURCE
# Harnesses: the public header only (server_api and wechat: also server/
# and wechat/).
FUZZ_HARNESS_CPPFLAGS = -Iinclude $(DEP_CFLAGS) -DCSBOT_FUZZ_ROOT='"$(CURDIR)"'
FUZZ_LDFLAGS = -fsanitize=fuzzer $(FUZZ_SAN)

FUZZ_LIB_SRCS := $(sort $(wildcard lib/*.c))
FUZZ_SRV_SRCS := $(filter-out server/main.c,$(sort $(wildcard server/*.c)))
FUZZ_WX_SRCS := $(sort $(wildcard wechat/*.c))
FUZZ_WEB_FILES := $(sort $(wildcard server/web/*.html server/web/*.css server/web/*.js))
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_WX_OBJS := $(FUZZ_WX_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_SRV_OBJS := $(FUZZ_SRV_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/gen/web_assets.o \
	$(FUZZ_WX_OBJS)
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_BIN)/%)

.PHONY: fuzz-deps fuzz-build fuzz fuzz-smoke fuzz-regress
# Keep the harness objects (make would delete them as intermediates).
.SECONDARY: $(FUZZ_NAMES:%=$(FUZZ_DIR)/obj/fuzz/%.o)

# clang and libFuzzer are needed only here: installed on first use.
fuzz-deps:
	@sh scripts/deps.sh clang libclang-rt-14-dev

fuzz-build: fuzz-deps
	+@$(MAKE) --no-print-directory $(FUZZ_BINS)

# Objects rebuild when the fuzz compile line changes.
$(FUZZ_DIR)/.cflags: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(FUZZ_CC) $(FUZZ_CFLAGS_ALL) | $(FUZZ_LDFLAGS)' | cmp -s - $@ 2>/dev/null \
		|| printf '%s\n' '$(FUZZ_CC) $(FUZZ_CFLAGS_ALL) | $(FUZZ_LDFLAGS)' > $@

$(FUZZ_DIR)/obj/lib/%.o: lib/%.c $(FUZZ_DIR)/.cflags fuzz/nocov.txt
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIB_CPPFLAGS) $(FUZZ_CFLAGS_ALL) -fvisibility=hidden -c $< -o $@

$(FUZZ_DIR)/obj/server/%.o: server/%.c $(FUZZ_DIR)/.cflags fuzz/nocov.txt
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SRV_CPPFLAGS) $(FUZZ_CFLAGS_ALL) -c $< -o $@

$(FUZZ_DIR)/obj/wechat/%.o: wechat/%.c $(FUZZ_DIR)/.cflags fuzz/nocov.txt
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_WX_CPPFLAGS) $(FUZZ_CFLAGS_ALL) -c $< -o $@

$(FUZZ_DIR)/gen/web_assets.c: $(FUZZ_WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(@D)
	sh scripts/embed-web.sh $@ $(FUZZ_WEB_FILES)

$(FUZZ_DIR)/obj/gen/web_assets.o: $(FUZZ_DIR)/gen/web_assets.c $(FUZZ_DIR)/.cflags fuzz/nocov.txt
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SRV_CPPFLAGS) $(FUZZ_CFLAGS_ALL) -c $< -o $@

$(FUZZ_DIR)/obj/fuzz/server_api.o $(FUZZ_DIR)/obj/fuzz/wechat.o: $(FUZZ_DIR)/obj/fuzz/%.o: fuzz/%.c $(FUZZ_DIR)/.cflags fuzz/nocov.txt
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SRV_CPPFLAGS) -DCSBOT_FUZZ_ROOT='"$(CURDIR)"' $(FUZZ_CFLAGS_ALL) -c $< -o $@

$(FUZZ_DIR)/obj/fuzz/%.o: fuzz/%.c $(FUZZ_DIR)/.cflags fuzz/nocov.txt
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_HARNESS_CPPFLAGS) $(FUZZ_CFLAGS_ALL) -c $< -o $@

$(FUZZ_DIR)/libcsbot-fuzz.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# The server harness makes password hashing cheap (fuzz/server_api.c,
# __wrap_crypto_pwhash_str) so that logins do not take 0.1 s each.
$(FUZZ_BIN)/server_api: $(FUZZ_DIR)/obj/fuzz/server_api.o $(FUZZ_SRV_OBJS) $(FUZZ_DIR)/libcsbot-fuzz.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -Wl,--wrap=crypto_pwhash_str -o $@ $^ $(SERVER_LIBS) $(WX_LIBS) $(DEP_LIBS)

# The WeChat harness counts the channels' jobs (ch_submit, wechat_job,
# wecom_job) to wait for each input's work, and silences srv_log
# (fuzz/wechat.c, FUZZ_WX_WRAP).
FUZZ_WX_WRAP = -Wl,--wrap=ch_submit -Wl,--wrap=wechat_job -Wl,--wrap=wecom_job \
	-Wl,--wrap=srv_log
$(FUZZ_BIN)/wechat: $(FUZZ_DIR)/obj/fuzz/wechat.o $(FUZZ_SRV_OBJS) $(FUZZ_DIR)/libcsbot-fuzz.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $(FUZZ_WX_WRAP) -o $@ $^ $(SERVER_LIBS) $(WX_LIBS) $(DEP_LIBS)

# The patterns harness opens each OpenCC config once and remembers the long
# conversions that build the script maps (fuzz/patterns.c), so that a load
# does not take 0.3 s.
FUZZ_PAT_WRAP = -Wl,--wrap=opencc_open -Wl,--wrap=opencc_close \
	-Wl,--wrap=opencc_convert_utf8 -Wl,--wrap=opencc_convert_utf8_free
$(FUZZ_BIN)/patterns: $(FUZZ_DIR)/obj/fuzz/patterns.o $(FUZZ_DIR)/libcsbot-fuzz.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $(FUZZ_PAT_WRAP) -o $@ $^ $(DEP_LIBS)

$(FUZZ_BIN)/%: $(FUZZ_DIR)/obj/fuzz/%.o $(FUZZ_DIR)/libcsbot-fuzz.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(DEP_LIBS)

-include $(wildcard $(FUZZ_DIR)/obj/*/*.d)

# fuzz_run(SECONDS): each harness on its corpus copy; a harness that finds
# a crash, leak or timeout fails the target after the others have run.
FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
define fuzz_run
	@failed=''; \
	for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$n $(FUZZ_DIR)/crashes/$$n $(FUZZ_DIR)/logs; \
		cp -n fuzz/corpus/$$n/* $(FUZZ_DIR)/corpus/$$n/ 2>/dev/null || true; \
		dict=''; [ -f fuzz/$$n.dict ] && dict="-dict=fuzz/$$n.dict"; \
		$(foreach n,$(FUZZ_NAMES),ml_$(n)=$(FUZZ_MAXLEN_$(n));) eval "maxlen=\$$ml_$$n"; \
		echo "== fuzz $$n for $(1) s (log $(FUZZ_DIR)/logs/$$n.log)"; \
		if $(FUZZ_ENV) ./$(FUZZ_BIN)/$$n -max_total_time=$(1) -max_len=$$maxlen \
			-rss_limit_mb=2048 -timeout=30 -print_final_stats=1 $$dict \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$n/ $(FUZZ_DIR)/corpus/$$n \
			> $(FUZZ_DIR)/logs/$$n.log 2>&1; then \
			grep -E '^#[0-9]+' $(FUZZ_DIR)/logs/$$n.log | tail -n 1; \
			grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' $(FUZZ_DIR)/logs/$$n.log; \
		else \
			tail -n 60 $(FUZZ_DIR)/logs/$$n.log; \
			echo "== fuzz $$n: FAILED; inputs in $(FUZZ_DIR)/crashes/$$n/"; \
			failed="$$failed $$n"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzzing found problems in:$$failed" >&2; exit 1; fi
endef

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	$(call fuzz_run,30)

# Every file in fuzz/regress/NAME/ (crashes found earlier) must now pass.
fuzz-regress: fuzz-build
	@failed=''; \
	for n in $(FUZZ_NAMES); do \
		files=$$(find fuzz/regress/$$n -type f ! -name '.*' ! -name '*.md' 2>/dev/null | sort); \
		[ -n "$$files" ] || continue; \
		echo "== fuzz-regress $$n: $$(echo "$$files" | wc -l) inputs"; \
		if ! $(FUZZ_ENV) ./$(FUZZ_BIN)/$$n $$files; then failed="$$failed $$n"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-regress failed:$$failed" >&2; exit 1; fi; \
	echo "fuzz-regress: OK"
