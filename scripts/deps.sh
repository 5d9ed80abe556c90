#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks: Debian packages
# (as root, with apt-get), the two S3 servers the stores are tested
# against (MinIO and SeaweedFS, built from source into $ATOMIC_TOOLS, a
# cache outside the clone), and the npm packages of the browser tests.
# Idempotent and quiet when everything is there. Without root, a missing
# package is an error that names it.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || have chromium-browser || need+=(chromium)
have ostree || need+=(ostree)
have gpg && have gpg-agent || need+=(gnupg)
have systemd-analyze || need+=(systemd)
have rclone || need+=(rclone)
have openssl || need+=(openssl)
have xz || need+=(xz-utils)
have aria2c || need+=(aria2)
have rsync || need+=(rsync)
have node || need+=(nodejs)
have npm || need+=(npm)

if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing Debian packages: ${need[*]} (run as root, or: apt-get install ${need[*]})" >&2
		exit 1
	fi
	echo "deps: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# MinIO, the real S3 server the mirror's tests run against. Built from
# source with go install (about 3 minutes the first time), cached outside
# the clone so that later runs on this machine reuse it.
tools="${ATOMIC_TOOLS:-${HOME:-/root}/.cache/atomic-site-tools/bin}"
if [ ! -x "$tools/minio" ]; then
	echo "deps: building the MinIO server into $tools (a few minutes, once)" >&2
	mkdir -p "$tools"
	GOTOOLCHAIN=local GOBIN="$tools" go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c >&2
fi

# SeaweedFS, the second, independent S3 server the store suite runs
# against (its S3 gateway answers conditional writes as AWS does). go
# install refuses the module's replace directives, so it is built from a
# writable copy of the module (about 8 minutes on 2 cores, once).
if [ ! -x "$tools/weed" ]; then
	echo "deps: building the SeaweedFS server into $tools (about 8 minutes, once)" >&2
	mkdir -p "$tools"
	ver=v0.0.0-20261109003541-7506e5f91cd6
	tmp="$(mktemp -d)"
	src="$(cd "$tmp" && GOTOOLCHAIN=local go mod download -json "github.com/seaweedfs/seaweedfs@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	if [ -z "$src" ] || [ ! -d "$src" ]; then
		echo "deps: could not download github.com/seaweedfs/seaweedfs@$ver" >&2
		exit 1
	fi
	cp -r "$src/." "$tmp/weed-src"
	chmod -R u+w "$tmp/weed-src"
	(cd "$tmp/weed-src" && GOTOOLCHAIN=local go build -o "$tools/weed" ./weed) >&2
	rm -rf "$tmp"
fi

# Netlify's own redirect engine, to check the built site's _redirects as
# production serves them (npm, next to the MinIO server).
npmdir="$(dirname "$tools")/npm"
if [ ! -d "$npmdir/node_modules/@netlify/redirects" ]; then
	echo "deps: installing @netlify/redirects into $npmdir" >&2
	mkdir -p "$npmdir"
	npm install --silent --prefix "$npmdir" @netlify/redirects@4.0.2 >&2
fi
# playwright-core drives Debian's Chromium for axe-core's accessibility
# checks at desktop and phone widths (no browser download: it uses
# /usr/bin/chromium).
if [ ! -d "$npmdir/node_modules/playwright-core" ] || [ ! -d "$npmdir/node_modules/axe-core" ]; then
	echo "deps: installing playwright-core and axe-core into $npmdir" >&2
	mkdir -p "$npmdir"
	npm install --silent --prefix "$npmdir" playwright-core@1.48.2 axe-core@4.10.2 >&2
fi

# s5cmd, the peer the mirror's speed is measured against (make bench only:
# scripts/deps.sh --bench). Its version list is refused by the module proxy
# here, so it is built from an exact version inside a throwaway module.
if [ "${1:-}" = "--bench" ] && [ ! -x "$tools/s5cmd" ]; then
	echo "deps: building s5cmd v2.3.0 into $tools" >&2
	mod="$(mktemp -d)"
	(
		cd "$mod"
		go mod init s5cmd-build >/dev/null 2>&1
		GOTOOLCHAIN=local GOFLAGS=-mod=mod go get github.com/peak/s5cmd/v2@v2.3.0 >&2
		GOTOOLCHAIN=local go build -o "$tools/s5cmd" github.com/peak/s5cmd/v2 >&2
	)
	rm -rf "$mod"
fi

# staticcheck, which make vet runs beside go vet.
if [ ! -x "$tools/staticcheck" ]; then
	echo "deps: building staticcheck into $tools" >&2
	GOTOOLCHAIN=local GOBIN="$tools" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2 >&2
fi

# actionlint, which checks the scheduled workflow docs/operations.md ships.
if [ ! -x "$tools/actionlint" ]; then
	echo "deps: building actionlint into $tools" >&2
	GOTOOLCHAIN=local GOBIN="$tools" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7 >&2
fi
