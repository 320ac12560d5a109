#!/usr/bin/env bash
# The browser suite: installs playwright-core from package-lock.json once (npm ci; offline after),
# then runs the end-to-end tests with node's test runner (TAP for meson).
set -euo pipefail
cd "$(dirname "$0")"
for tool in node npm sox "${CLAWVOICE_CHROMIUM:-/usr/bin/chromium}" "${CLAWVOICE_TURNSERVER:-/usr/bin/turnserver}"; do
  command -v "$tool" >/dev/null || { echo "browser-e2e: $tool is missing (bash scripts/deps.sh installs it)" >&2; exit 1; }
done
if [[ ! -d node_modules/playwright-core ]]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
# TAP on stdout for meson; the readable report, with each failure's cause, on stderr (what CI shows).
exec node --test --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=spec --test-reporter-destination=stderr --test-concurrency=1 browser.test.mjs direct.test.mjs
