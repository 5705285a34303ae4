# Thin front door over Meson. `make demo` and `make test` are the README's truth.
BUILD ?= build
PORT ?= 8080
SCALE ?= 5
FUZZ_SECONDS ?= 60

.PHONY: all release dev asan demo test unit e2e bench clean deps fuzz fuzz-build tsan soak

all: release

deps:
	@scripts/deps.sh build

$(BUILD)/release/build.ninja:
	@scripts/deps.sh build
	meson setup $(BUILD)/release --buildtype=release -Db_ndebug=true >/dev/null

$(BUILD)/dev/build.ninja:
	@scripts/deps.sh build
	meson setup $(BUILD)/dev --buildtype=debug -Dwerror=true >/dev/null

$(BUILD)/asan/build.ninja:
	@scripts/deps.sh build
	meson setup $(BUILD)/asan --buildtype=debug -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

# deps.sh first: a fresh clone has no node_modules (the web UI embeds uPlot
# from it) and may lack packages; it only installs what is missing.
# --reconfigure picks up new source and test files (folders list their own).
release: $(BUILD)/release/build.ninja
	@scripts/deps.sh build
	@meson setup --reconfigure $(BUILD)/release >/dev/null
	ninja -C $(BUILD)/release

dev: $(BUILD)/dev/build.ninja
	@scripts/deps.sh build
	@meson setup --reconfigure $(BUILD)/dev >/dev/null
	ninja -C $(BUILD)/dev

asan: $(BUILD)/asan/build.ninja
	@scripts/deps.sh build
	@meson setup --reconfigure $(BUILD)/asan >/dev/null
	ninja -C $(BUILD)/asan

# libFuzzer drivers (clang, ASan + UBSan): fuzz/README.md. `make fuzz` runs
# each for FUZZ_SECONDS; `make test` for 10 s each.
$(BUILD)/fuzz/build.ninja:
	@scripts/deps.sh test
	CC=clang meson setup $(BUILD)/fuzz -Dfuzz=true --buildtype=debug -Doptimization=1 -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

fuzz-build: $(BUILD)/fuzz/build.ninja
	@meson setup --reconfigure $(BUILD)/fuzz >/dev/null
	ninja -C $(BUILD)/fuzz

fuzz: fuzz-build
	fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

# ThreadSanitizer build of everything; runs the concurrency tests (unit and
# end-to-end against the TSan server): scripts/tsan.sh, tests/tsan.supp.
$(BUILD)/tsan/build.ninja:
	@scripts/deps.sh test
	CC=clang meson setup $(BUILD)/tsan --buildtype=debug -Doptimization=1 -Db_sanitize=thread -Db_lundef=false >/dev/null

tsan: $(BUILD)/tsan/build.ninja
	@meson setup --reconfigure $(BUILD)/tsan >/dev/null
	ninja -C $(BUILD)/tsan
	@scripts/tsan.sh $(BUILD)/tsan

demo:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory release
	$(BUILD)/release/brisk demo --scale $(SCALE) --port $(PORT)

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory asan fuzz-build
	@FUZZ_BUILD=$(BUILD)/fuzz BRISK_TEST_PG=$${BRISK_TEST_PG:-1} scripts/test.sh $(BUILD)/asan

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory release
	@for b in bench/*.sh; do [ $$b = bench/soak.sh ] && continue; echo "== $$b"; bash $$b $(BUILD)/release/brisk || exit 1; done

# Minutes of mixed load; SOAK_SECONDS (600) and SOAK_CONNECTIONS (64) set it.
soak:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory release
	bash bench/soak.sh $(BUILD)/release/brisk

clean:
	rm -rf $(BUILD)

# The Debian package (dpkg-deb): a release build for /usr, its man pages,
# the systemd unit and default config of packaging/ (scripts/deb.sh).
.PHONY: deb man
$(BUILD)/deb/build.ninja:
	@scripts/deps.sh build
	meson setup $(BUILD)/deb --prefix=/usr --buildtype=release -Db_ndebug=true >/dev/null

deb: $(BUILD)/deb/build.ninja
	@scripts/deps.sh build
	@meson setup --reconfigure $(BUILD)/deb >/dev/null
	ninja -C $(BUILD)/deb
	scripts/deb.sh $(BUILD)/deb/brisk $(BUILD)

# Man pages from the commands' --help texts (scripts/man.py), for reading
# before installing: man -l build/man/brisk.1
man: release
	python3 scripts/man.py $(BUILD)/release/brisk $(BUILD)/man
