#!/usr/bin/env bash
# The Debian 12 packages clawvoice needs to build, run its demo and run every test — the one list.
#
#   bash scripts/deps.sh          install whatever is missing (apt-get update once, then install)
#   source scripts/deps.sh        the same, from scripts/demo.sh and scripts/test.sh
#
# On a machine that already has everything it only asks dpkg, so a warm run takes a fraction of a
# second and touches no network.

CLAWVOICE_APT_PACKAGES=(
  # toolchain and build system
  build-essential g++ meson ninja-build pkg-config libglib2.0-dev-bin
  # GStreamer: headers, gst-launch-1.0 / gst-inspect-1.0, and the plugins the launch files use
  # (wavparse/wavenc/mulaw/alaw are in -good, audioconvert/audioresample in -base)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  # protocol library and simulator
  libsoup-3.0-dev libjson-glib-dev libssl-dev libespeak-ng-dev espeak-ng-data espeak-ng
  # SIP phone path: Sofia-SIP (nua + su_glib) as the SIP stack; sipp (sip-tester) as the tests' peer
  libsofia-sip-ua-glib-dev sip-tester
  # tests: GoogleTest, audio measurements, memory checks
  libgtest-dev sox valgrind
  # a hung test process gets its threads' stacks printed (tests/browser/support.mjs)
  gdb
  # browser route and its end-to-end tests: libnice for webrtcbin, headless Chromium, coturn for
  # TURN-only (node/npm for playwright-core and the openai client: see below)
  gstreamer1.0-nice chromium chromium-driver coturn
)

# Node.js and npm for the npm-driven tests (tests/browser, tests/openai): Debian's packages unless the
# commands are already there. A Node.js from elsewhere (NodeSource's bundles npm) conflicts with
# Debian's npm package, so the commands decide, not dpkg.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  CLAWVOICE_APT_PACKAGES+=(nodejs npm)
fi

clawvoice_missing_packages() {
  local pkg status
  for pkg in "${CLAWVOICE_APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || printf '%s\n' "$pkg"
  done
}

clawvoice_install_deps() {
  local missing
  mapfile -t missing < <(clawvoice_missing_packages)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q || return 1
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null || return 1
}

# Executed (not sourced): install and exit with the result.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  clawvoice_install_deps
fi
