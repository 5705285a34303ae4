# Thin front door over Meson. `make demo` and `make test` are the README's truth.
BUILD ?= build
PORT ?= 8080
SCALE ?= 5

.PHONY: all release dev asan demo test unit e2e bench clean deps

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

demo:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory release
	$(BUILD)/release/brisk demo --scale $(SCALE) --port $(PORT)

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory asan
	@scripts/test.sh $(BUILD)/asan

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory release
	@for b in bench/*.sh; do echo "== $$b"; bash $$b $(BUILD)/release/brisk || exit 1; done

clean:
	rm -rf $(BUILD)
