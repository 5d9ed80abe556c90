#!/usr/bin/env bash
# Netlify's build. A production deploy builds only from the release
# pipeline's signed manifests (MANIFESTS_DIR, KEYS_DIR): a deploy that lost
# those variables must fail, not publish the example history's fake builds
# on the real download site. Deploy previews and branch deploys may build
# the example. Netlify sets CONTEXT; unset counts as production.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MANIFESTS_DIR:-}" ] || [ -z "${KEYS_DIR:-}" ]; then
	if [ "${CONTEXT:-production}" = production ]; then
		echo "netlify-build: production needs MANIFESTS_DIR and KEYS_DIR (the release pipeline's signed manifests and trusted keys); not building the example history" >&2
		exit 1
	fi
	echo "netlify-build: ${CONTEXT} deploy: building the example history" >&2
	MANIFESTS_DIR=testdata/manifests
	KEYS_DIR=testdata/keys
fi
exec go run ./cmd/sitegen build --manifests "$MANIFESTS_DIR" --keys "$KEYS_DIR" --out public
