# t/fuzz/fuzz.mk: builds the libFuzzer targets (clang-14, ASan + UBSan).
# A plain make file, not automake: the targets need another compiler and
# sanitizer flags that must never reach the module's own build. ./dev fuzz
# and ./dev test run it from the top of the tree:
#   make -f t/fuzz/fuzz.mk OUT=.state/fuzz/bin -j2
# The list of targets is TARGETS; ./dev reads it with `make ... targets`.

CC = clang-14
OUT ?= .state/fuzz/bin
# UBSan reports must fail the run like ASan's, not just print.
SAN = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
CFLAGS = -g -O1 $(SAN) -std=c11 -D_GNU_SOURCE -Isrc/core -I/usr/include/json-c
HDRS = $(wildcard src/core/*.h)

TARGETS = multipart rules token jflat url addr wire docgate \
          decode_jpeg decode_png decode_pdf

all: $(TARGETS:%=$(OUT)/fuzz_%)

targets:
	@echo $(TARGETS)

$(OUT):
	mkdir -p $@

# One rule per target: each names the core files it exercises and the
# libraries those need, so a target never links more than it fuzzes.
$(OUT)/fuzz_multipart: t/fuzz/fuzz_multipart.c src/core/cc_multipart.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -o $@
$(OUT)/fuzz_rules: t/fuzz/fuzz_rules.c src/core/cc_rules.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -o $@
$(OUT)/fuzz_token: t/fuzz/fuzz_token.c src/core/cc_token.c src/core/cc_crypto.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -ljson-c -lcrypto -o $@
$(OUT)/fuzz_jflat: t/fuzz/fuzz_jflat.c src/core/cc_jflat.c src/core/cc_rules.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -ljson-c -o $@
$(OUT)/fuzz_url: t/fuzz/fuzz_url.c src/core/cc_url.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -lcurl -o $@
$(OUT)/fuzz_addr: t/fuzz/fuzz_addr.c src/core/cc_addr.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -o $@
$(OUT)/fuzz_wire: t/fuzz/fuzz_wire.c src/core/cc_wire.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -o $@
$(OUT)/fuzz_docgate: t/fuzz/fuzz_docgate.c src/core/cc_doc.c $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c,$^) -lz -o $@

# The full decoders, one binary per type (fuzz_decode.c's header says why).
DECODE_SRC = t/fuzz/fuzz_decode.c src/core/cc_image.c src/core/cc_doc.c
DECODE_LIBS = -lpng -ljpeg -lqpdf -lz -lm
$(OUT)/fuzz_decode_jpeg: $(DECODE_SRC) $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) -DFUZZ_TYPE=CC_DOC_JPEG $(filter %.c,$^) $(DECODE_LIBS) -o $@
$(OUT)/fuzz_decode_png: $(DECODE_SRC) $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) -DFUZZ_TYPE=CC_DOC_PNG $(filter %.c,$^) $(DECODE_LIBS) -o $@
$(OUT)/fuzz_decode_pdf: $(DECODE_SRC) $(HDRS) | $(OUT)
	$(CC) $(CFLAGS) -DFUZZ_TYPE=CC_DOC_PDF $(filter %.c,$^) $(DECODE_LIBS) -o $@

.PHONY: all targets
