#!/usr/bin/env bash
# The realtimesink benchmark: builds, then prints CPU, memory and added delay per live stream
# (see tests/bench/README.md). Not a test: it prints figures and exits 0 whenever it could run.
#
#   bash scripts/bench.sh                      1, 10 and 50 streams (about 2 minutes)
#   bash scripts/bench.sh 20 100 --seconds 30  extra arguments go to realtimesink-bench (--help)
#
# Assumes the packages of scripts/deps.sh are installed (scripts/test.sh installs them).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${CLAWVOICE_BUILD_DIR:-$root/build}
export CLAWVOICE_BUILD_DIR=$build

bash "$root/scripts/build.sh"
# The benchmark registers the plugin statically: keep a built libgstclawvoice.so out of the scan.
export GST_PLUGIN_PATH_1_0= GST_PLUGIN_PATH=
exec "$build/tests/bench/realtimesink-bench" "$@"
