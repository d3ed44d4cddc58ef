#!/usr/bin/env bash
# Vendor axe-core's axe.min.js under tests/support/ for the browser tests' accessibility check.
# The file is committed, so tests and CI need no npm; run this script to refresh it.
set -euo pipefail
VERSION="${1:-4.14.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "axe-core@${VERSION}" >/dev/null && tar -xzf "axe-core-${VERSION}.tgz")
cp "$WORK/package/axe.min.js" "$ROOT/tests/support/axe.min.js"
cp "$WORK/package/LICENSE" "$ROOT/tests/support/axe-core.LICENSE"
echo "axe-core ${VERSION} -> tests/support/axe.min.js"
