#!/usr/bin/env bash
# Installs what the Costs page browser test (tests/browser, issue 5) needs: Debian's Chromium
# and the pinned playwright-core (driver only; it never downloads a browser of its own).
# Idempotent. Run from anywhere; .ci/run calls it before `npm test` in tests/browser.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi
cd "$here"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
