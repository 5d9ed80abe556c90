#!/usr/bin/env bash
# Netlify's build, for deploy previews and branch deploys only: they build
# the example history. Production is built, checked and deployed by the
# release bot's units (deploy/systemd, docs/operations.md): from the
# manifests the primary mirror holds, with the rollback check against what
# is served and a signed index. A production build here would have
# neither, so it refuses. Netlify sets CONTEXT; unset counts as production.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CONTEXT:-production}" = production ]; then
	echo "netlify-build: production is built and deployed by the release bot (deploy/systemd, docs/operations.md), with the rollback check and a signed index; publish its web root with netlify deploy --prod --dir instead of building here" >&2
	exit 1
fi
echo "netlify-build: ${CONTEXT} deploy: building the example history" >&2
exec go run ./cmd/sitegen build --manifests testdata/manifests --keys testdata/keys --out public
