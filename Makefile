# merchgate: `make run` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
BUILD ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Everything the build, the tests and the demo use, all from Debian.
DEB_PACKAGES := cmake make g++ pkg-config openssl curl sqlite3 python3 \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libsqlite3-dev \
  libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev

.PHONY: all deps test-deps configure build run test bench format clean

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The console's browser test (tests/browser): Node, Debian's Chromium, playwright-core from npm.
test-deps: deps
	@missing=$$(command -v node >/dev/null && command -v npm >/dev/null || echo nodejs npm; \
	  [ -x /usr/bin/chromium ] || echo chromium); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	cd tests/browser && { [ node_modules/.package-lock.json -nt package-lock.json ] || \
	  npm ci --no-audit --no-fund --loglevel=error; }

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Builds, then starts the gateway on SQLite with the sandbox adapters (HTTPS, dev certificate).
run: build
	@scripts/run-demo.sh $(BUILD)

test: build test-deps
	cd $(BUILD) && ctest --output-on-failure --timeout 300 -j $(JOBS)

bench: build
	@scripts/bench.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)
