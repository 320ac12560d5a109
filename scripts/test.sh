#!/usr/bin/env bash
# Every test: installs what is missing, builds, runs all meson suites and prints the summary.
#
#   bash scripts/test.sh                      everything (what CI runs, through .ci/run)
#   bash scripts/test.sh --suite unit         extra arguments go to `meson test`
#
# Suites: unit, sim, elements, pipelines (the launch files against the simulator). Ends with the
# line "N passed, N failed" (meson tests) and exits non-zero if any test failed or did not run.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
build=${CLAWVOICE_BUILD_DIR:-$root/build}
export CLAWVOICE_BUILD_DIR=$build

# shellcheck source=scripts/deps.sh
source scripts/deps.sh
clawvoice_install_deps || { echo "test: installing packages failed"; exit 1; }
bash scripts/build.sh || { echo "test: the build failed"; exit 1; }

start=$(date +%s)
rm -f "$build/meson-logs/testlog.json"
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
rc=$?

# Count meson's test results (not gtest cases) from its machine-readable log.
read -r passed failed skipped < <(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as log:
        for line in log:
            result = json.loads(line).get("result", "")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
except FileNotFoundError:
    pass
print(passed, failed, skipped)
PY
)
echo "test: $((passed + failed + skipped)) meson tests in $(($(date +%s) - start)) s"
if ((rc != 0 && failed == 0)); then
  failed=1   # meson itself failed (e.g. interrupted): never report a clean run
fi
if ((skipped > 0)); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
((rc == 0 && failed == 0 && passed > 0))
