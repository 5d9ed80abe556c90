#!/bin/sh
# Remakes and signs the example history in testdata/manifests with the test
# key. The key is for tests only: it is public, so it proves nothing.
set -eu
cd "$(dirname "$0")/.."
rm -rf testdata/manifests
python3 testdata/make-example.py
go run ./cmd/sitegen sign --key testdata/test-signing.key testdata/manifests/*/*.json
go run ./cmd/sitegen revoke --key testdata/test-signing.key --manifests testdata/manifests \
	--stream stable --release 28.20180522.0 \
	--reason https://bugzilla.redhat.com/show_bug.cgi?id=1581234 --now 2018-05-24T09:00:00Z
