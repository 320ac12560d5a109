#!/usr/bin/env bash
# gst-inspect-1.0 finds realtimesink in the built plugin and shows an example launch line.
#
#   inspect_plugin.sh PLUGIN_DIR
#
# gst-inspect prints extra factory metadata keys with a capital first letter, so an element that
# adds an "example-launch-line" metadata key shows as "Example-launch-line  gst-launch-1.0 …".
set -uo pipefail

plugin_dir=${1:?plugin dir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clawvoice-inspect.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GST_PLUGIN_PATH=$plugin_dir
export GST_REGISTRY=$tmp/registry.bin     # a private registry: never a stale cached plugin
unset GST_PLUGIN_PATH_1_0

if ! timeout 60 gst-inspect-1.0 realtimesink >"$tmp/inspect.txt" 2>&1; then
  echo "FAIL: gst-inspect-1.0 realtimesink (GST_PLUGIN_PATH=$plugin_dir)"
  head -20 "$tmp/inspect.txt"
  exit 1
fi
if ! grep -Eqi 'example[ -]launch[ -]line' "$tmp/inspect.txt"; then
  echo "FAIL: gst-inspect-1.0 realtimesink works but shows no 'Example launch line'"
  echo "      (the element can add it as factory metadata: key \"example-launch-line\")"
  exit 1
fi
echo "PASS: gst-inspect-1.0 realtimesink, with an example launch line"
