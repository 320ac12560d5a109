#!/usr/bin/env bash
# Configures (first time only) and builds clawvoice with meson/ninja.
#
#   bash scripts/build.sh             build into build/
#   CLAWVOICE_BUILD_DIR=b bash scripts/build.sh
#
# Assumes the packages of scripts/deps.sh are installed (demo.sh and test.sh install them first).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${CLAWVOICE_BUILD_DIR:-$root/build}

if [[ ! -f $build_dir/build.ninja ]]; then
  meson setup "$build_dir" "$root"
fi
# ninja re-runs meson by itself when a meson.build changed.
ninja -C "$build_dir"
