#!/usr/bin/env bash
# The demo: one spoken question, one spoken answer, all on this machine.
#
#   bash scripts/demo.sh
#
# Installs what is missing, builds, starts clawvoice-sim (the local stand-in for the OpenAI Realtime
# API) on 127.0.0.1, and runs pipelines/file-pcm.launch through clawvoice-run: the question in
# tests/data/question.wav goes through realtimesink to the simulator, and the spoken reply is
# written to build/demo/reply.wav (CLAWVOICE_DEMO_OUT=DIR to put it elsewhere). Prints the
# conversation's transcripts and cost, and where the reply is. The simulator is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${CLAWVOICE_BUILD_DIR:-$root/build}
export CLAWVOICE_BUILD_DIR=$build
out=${CLAWVOICE_DEMO_OUT:-$build/demo}

# shellcheck source=scripts/deps.sh
source scripts/deps.sh
clawvoice_install_deps
bash scripts/build.sh

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/reply.wav"

# shellcheck source=scripts/sim.sh
source scripts/sim.sh
trap sim_stop EXIT
trap 'exit 130' INT TERM
sim_start "$build/launcher/sim/clawvoice-sim" "$out/sim.log" 8765 8766 8767
echo
echo "== clawvoice demo: simulator on $SIM_URL (pid $SIM_PID)"
echo "== asking the question in tests/data/question.wav ($(soxi -D tests/data/question.wav) s)"

# The simulator accepts any bearer key; never send a real OPENAI_API_KEY to it. A transcription
# model makes the session transcribe the caller too, so both sides of the conversation print.
OPENAI_API_KEY=sk-demo-local \
GST_PLUGIN_PATH=$build/elements \
GST_REGISTRY=$build/demo-registry.bin \
  timeout -k 5 120 "$build/launcher/run/clawvoice-run" pipelines/file-pcm.launch \
    --timeout 100 --print-messages \
    --set caller.location="$root/tests/data/question.wav" \
    --set rt.url="$SIM_URL" \
    --set rt.transcription-model=gpt-4o-mini-transcribe \
    --set reply.location="$out/reply.wav"

echo "== the reply: $out/reply.wav ($(soxi -D "$out/reply.wav") s, $(soxi -r "$out/reply.wav") Hz)"
echo "   listen: play $out/reply.wav"
