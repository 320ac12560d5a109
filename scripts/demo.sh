#!/usr/bin/env bash
# The demo: the launcher with its embedded stand-ins, and one phone call through it.
#
#   bash scripts/demo.sh
#
# Installs what is missing, builds, and starts clawvoice-launcher with no config: the embedded
# default, whose backends are the Realtime simulator and its fake OpenClaw gateway (no keys, no
# network). It prints the URLs and demo credentials, then places one emulated Twilio call: the
# Twilio emulator (tests/twilio/emulator) POSTs the signed voice webhook, opens the media stream the
# TwiML names, speaks tests/data/question.wav in real time as μ-law, presses 1 2, and records what
# it hears to build/demo/heard.wav (CLAWVOICE_DEMO_OUT=DIR to put it elsewhere). The voice model
# hands the question to the agent as a tool call (openclawrelay), says it is on it, and speaks
# the agent's answer. The call's JSON log lines and the emulator's summary are printed.
#
# On a terminal the launcher then keeps running for your own calls until Ctrl-C; otherwise (CI,
# a pipe) it is stopped after the demo call. Everything listens on 127.0.0.1 only.
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
rm -f "$out/heard.wav"
log=$out/launcher.log
err=$out/launcher.err

launcher_pid=
stop_launcher() {
  if [[ -n $launcher_pid ]] && kill -0 "$launcher_pid" 2>/dev/null; then
    kill -TERM "$launcher_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$launcher_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$launcher_pid" 2>/dev/null || true
  fi
}
trap stop_launcher EXIT
trap 'exit 130' INT TERM

# A free port: 8080 if it is free, else one the kernel picks (bind to port 0, read it back).
port=$(python3 -c 'import socket
s=socket.socket()
try: s.bind(("127.0.0.1", 8080))
except OSError: s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
"$build/launcher/service/clawvoice-launcher" --listen "127.0.0.1:$port" >"$log" 2>"$err" &
launcher_pid=$!
for _ in $(seq 1 100); do
  grep -q '"launcher.started"' "$log" 2>/dev/null && break
  kill -0 "$launcher_pid" 2>/dev/null || { cat "$err" "$log"; echo "demo: the launcher did not start"; exit 1; }
  sleep 0.1
done
cat "$err"
auth_token=$(sed -n 's/.*demo auth token: \([0-9a-f]*\).*/\1/p' "$err")

echo "== placing one Twilio call: tests/data/question.wav ($(soxi -D tests/data/question.wav) s) as the caller"
"$build/tests/twilio/emulator/twilio-emulator" --webhook "http://127.0.0.1:$port/voice" \
  --auth-token "$auth_token" --wav tests/data/question.wav --dtmf 12 --out "$out/heard.wav" \
  --max-seconds 60 >"$out/call.json"
sleep 0.5
echo "== the launcher's log of the call (JSON lines):"
grep -E '"call\.|"twilio\.' "$log" || true
echo "== the emulator's summary: $out/call.json"
python3 - "$out/call.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"   webhook {r['webhook_status']}, {r['frames_sent']} frames of speech sent, "
      f"{r['bytes_heard'] / 8000:.1f} s of reply heard, first reply {r.get('first_reply_after_speech_ms', 0):.0f} ms "
      f"after the caller stopped, {r['marks']['played']} marks played, violations: {len(r['violations'])}")
PY
echo "== what the caller heard: $out/heard.wav ($(soxi -D "$out/heard.wav") s)   listen: play $out/heard.wav"

if [[ -t 0 && -t 1 ]]; then
  echo "== the launcher keeps running on http://127.0.0.1:$port (log: $log); Ctrl-C stops it"
  wait "$launcher_pid" || true
fi
