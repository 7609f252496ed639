# nodekeeper: build, test, cross-compile, package, demo.
# `make help` lists the targets.

GO        ?= go
VERSION   ?= $(shell cat VERSION)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
PKG       := ./cmd/nodekeeper
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOFLAGS_BUILD := -trimpath -ldflags '$(LDFLAGS)'
# Bounded fuzzing inside `make test`; raise it for a longer hunt.
FUZZTIME  ?= 15s
# Go test timeout for the whole suite.
TESTTIMEOUT ?= 20m
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $$($(GO) env GOPATH)/bin/staticcheck)

# Architectures of community routers: GOARCH[/variant] -> dist/nodekeeper-linux-<name>
# (the nodekeeper package, no TLS) and dist/nodekeeper-ssl-linux-<name> (nodekeeper-ssl).
CROSS := mips mipsle arm arm64 amd64

.PHONY: all help build test test-loaded unit fuzz smoke lint cross deps demo bench screenshots ipk apk clean

all: build

help:
	@echo "build   bin/nodekeeper and bin/nodekeeper-fleet (the fleet tool, for servers) for this machine"
	@echo "test    install missing tools (scripts/deps.sh), lint, run every test, fuzz briefly, qemu smoke tests"
	@echo "test-loaded  the unit tests twice beside a CPU hog per core (not part of test; PKGS=./policy/... narrows)"
	@echo "lint    gofmt, go vet, staticcheck"
	@echo "cross   static binaries for mips, mipsle (softfloat), arm (v7), arm64, amd64 into dist/, without and with TLS"
	@echo "ipk     OpenWrt .ipk packages (up to 24.10) and a feed index into dist/ipk/"
	@echo "apk     OpenWrt 25.x .apk packages and a packages.adb per architecture into dist/apk/ (APK_SIGN_KEY signs)"
	@echo "demo    a three-node lab in network namespaces with a live view (root)"
	@echo "bench   benchmarks, printed as a table beside their peers"
	@echo "screenshots  the fleet web view's pages in headless Chromium against the three-node lab, into docs/img/ (root)"

build:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o bin/nodekeeper $(PKG)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o bin/nodekeeper-fleet ./cmd/nodekeeper-fleet

deps:
	scripts/deps.sh

test: deps lint unit fuzz smoke

unit:
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) ./...

# The unit tests beside a CPU hog (stress-ng): they must not depend on the
# host's load. Slow, so not part of test.
test-loaded: deps
	scripts/test-loaded.sh

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

smoke: cross
	scripts/qemu-smoke.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@# The router binary never links the fleet side (its flash budget).
	@if $(GO) list -deps $(PKG) | grep -q '/fleet'; then echo "$(PKG) imports fleet/"; exit 1; fi

cross: $(CROSS:%=dist/nodekeeper-linux-%) $(CROSS:%=dist/nodekeeper-ssl-linux-%)

dist/nodekeeper-linux-%: FORCE
	@mkdir -p dist
	scripts/cross.sh $* $@ '$(LDFLAGS)'

dist/nodekeeper-ssl-linux-%: FORCE
	@mkdir -p dist
	scripts/cross.sh $* $@ '$(LDFLAGS)' ssl

FORCE:

ipk: cross
	scripts/build-ipk.sh
	scripts/size-report.sh mips
	scripts/size-report.sh mips 20 ssl

apk: cross
	scripts/build-apk.sh

demo: deps build
	scripts/demo.sh

bench: deps build
	scripts/bench.sh

# The web view's browser test writes its screenshots here too.
screenshots: deps
	NK_SCREENSHOTS=$(CURDIR)/docs/img $(GO) test -count=1 -run '^TestWebView$$' ./cmd/nodekeeper-fleet/

clean:
	rm -rf bin dist
