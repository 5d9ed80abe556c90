# make test: the whole suite. make bench: speed and memory figures beside
# their targets. Both install what they need where it is missing.
GO ?= go
export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false

.PHONY: all build test vet bench example fuzz deps

all: build

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

test: vet
	$(GO) test -count=1 ./...

# The README's main job: build the example site from testdata.
example:
	$(GO) run ./cmd/sitegen verify --manifests testdata/manifests --keys testdata/keys --now 2018-06-10T00:00:00Z

fuzz:
	$(GO) test ./internal/manifest -run '^$$' -fuzz FuzzParse -fuzztime 60s
