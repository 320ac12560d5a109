#!/bin/sh
# The compat endpoint's npm tests (suite 'openai'): copies the test files next to a node_modules in
# the build directory (`npm ci` from the committed package-lock.json when it is missing), then runs
# them with node's own test runner. Needs CLAWVOICE_SIM_BIN and CLAWVOICE_LAUNCHER_BIN.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run-tests.sh WORK_DIR}
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src"/*.mjs "$work/"
cd "$work"
if [ ! -d node_modules/openai ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-concurrency=1 --test-timeout=60000 compat.test.mjs
