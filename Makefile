# make test: the whole suite. make bench: speed and memory figures beside
# their targets. Both install what they need where it is missing.
GO ?= go
export GOTOOLCHAIN := local
# Where scripts/deps.sh puts the MinIO server and the tests look for it:
# outside the clone, so later runs on this machine reuse it.
export ATOMIC_TOOLS ?= $(or $(HOME),/root)/.cache/atomic-site-tools/bin

.PHONY: all build install test vet cross bench example fuzz deps pot

all: build

build:
	$(GO) build ./...

# Both commands into $(go env GOPATH)/bin, naming the commit they were
# built from (--version), even where GOFLAGS turns VCS stamping off.
install:
	$(GO) install -buildvcs=true ./cmd/sitegen ./cmd/mirror

vet: deps cross
	$(GO) vet ./...
	@out=$$(gofmt -l *.go cmd internal bench deploy); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(ATOMIC_TOOLS)/staticcheck ./...

# Both commands must build for the systems release engineers and mirror
# admins use, not only for this one.
CROSS := darwin/arm64 windows/amd64 linux/arm64
cross:
	@for t in $(CROSS); do \
		echo "cross-build $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -o /dev/null ./cmd/sitegen ./cmd/mirror || exit 1; \
	done

# Test output (browser screenshots) is kept in .test-output/_artifacts.
test: deps vet
	@mkdir -p .test-output
	$(GO) test -count=1 -timeout 30m -artifacts -outputdir $(CURDIR)/.test-output ./...

deps:
	@scripts/deps.sh

# The README's main job: verify the example history in testdata and build
# the site from it into public/. LANGS=en-XA,ar-XB builds the
# pseudo-locales too, to review the site's translatability.
LANGS ?=
example:
	$(GO) run ./cmd/sitegen verify --manifests testdata/manifests --keys testdata/keys --project . --now 2018-06-10T00:00:00Z
	$(GO) run ./cmd/sitegen build --manifests testdata/manifests --keys testdata/keys --project . --now 2018-06-10T00:00:00Z --out public $(if $(LANGS),--langs $(LANGS))

# The translators' template, from the templates and site/sitegen.toml
# (docs/translating.md). A test fails when it is not up to date.
pot:
	$(GO) run ./cmd/sitegen pot --project . --out po/atomic-site.pot

# Each fuzz target for a bounded time: the manifest parser, the CHECKSUM
# parser and the ostree path classifier.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./internal/manifest -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/importer -run '^$$' -fuzz '^FuzzParseChecksum$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ostree -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/gvariant -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)

# Speed and memory figures, each printed beside its target.
bench: deps
	scripts/deps.sh --bench
	$(GO) run ./bench/sitebench
	$(GO) run ./bench/mirrorbench
