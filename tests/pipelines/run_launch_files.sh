#!/usr/bin/env bash
# Launch-file tests: every pipelines/file-*.launch, run by clawvoice-run against clawvoice-sim on
# 127.0.0.1, must end by itself (exit 0, no warning or error on the bus) and write a spoken reply
# (a WAV longer than 1 s that is not silence).
#
#   run_launch_files.sh SOURCE_ROOT BUILD_ROOT
#
# Registered in meson (suite `pipelines`); the simulator is stopped by its pid on any exit.
set -uo pipefail

src=${1:?source root} build=${2:?build root}
sim_bin=$build/launcher/sim/clawvoice-sim
run_bin=$build/launcher/run/clawvoice-run
min_seconds=1.0
min_rms=0.01          # espeak-ng speech measures ~0.08; digital silence 0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clawvoice-launch.XXXXXX")
# shellcheck source=scripts/sim.sh
source "$src/scripts/sim.sh"
cleanup() {
  sim_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export GST_PLUGIN_PATH=$build/elements
export GST_REGISTRY=$tmp/registry.bin     # a private registry: never a stale cached plugin
export OPENAI_API_KEY=sk-test-local        # the simulator accepts any bearer
unset GST_PLUGIN_PATH_1_0

passed=0 failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

for bin in "$sim_bin" "$run_bin"; do
  [[ -x $bin ]] || { echo "missing $bin (build first)"; exit 1; }
done

# --- every file-*.launch against the simulator ----------------------------------------------
if ! sim_start "$sim_bin" "$tmp/sim.log"; then
  fail "clawvoice-sim did not start"
  exit 1
fi
echo "simulator: $SIM_URL (pid $SIM_PID)"

# Prints "SECONDS RMS" as measured by sox over the samples actually in the file.
measure() {
  sox "$1" -n stat 2>&1 | awk -F: '
    /^Length \(seconds\)/ { gsub(/ /, "", $2); len = $2 }
    /^RMS +amplitude/     { gsub(/ /, "", $2); rms = $2 }
    END { print (len == "" ? 0 : len), (rms == "" || rms ~ /nan/ ? 0 : rms) }'
}

shopt -s nullglob
launch_files=("$src"/pipelines/file-*.launch)
((${#launch_files[@]})) || fail "no pipelines/file-*.launch found"
for launch in "${launch_files[@]}"; do
  name=$(basename "$launch" .launch)
  reply=$tmp/$name-reply.wav
  log=$tmp/$name.log
  start=$(date +%s.%N)
  timeout -k 5 100 "$run_bin" "$launch" --timeout 90 --print-messages \
    --set "caller.location=$src/tests/data/question.wav" \
    --set "rt.url=$SIM_URL" --set "reply.location=$reply" >"$log" 2>&1
  rc=$?
  elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  problems=()
  ((rc == 0)) || problems+=("clawvoice-run exited $rc")
  grep -qE '^(WARNING|ERROR) from ' "$log" && problems+=("warnings or errors on the bus")
  if [[ -s $reply ]]; then
    read -r seconds rms < <(measure "$reply")
    awk -v s="$seconds" -v m="$min_seconds" 'BEGIN { exit !(s > m) }' ||
      problems+=("reply is ${seconds}s, want > ${min_seconds}s")
    awk -v r="$rms" -v m="$min_rms" 'BEGIN { exit !(r > m) }' ||
      problems+=("reply is silent (RMS amplitude $rms, want > $min_rms)")
  else
    seconds=0 rms=0
    problems+=("no reply file")
  fi
  if ((${#problems[@]} == 0)); then
    pass "$name: ${seconds}s reply, RMS $rms, in ${elapsed}s"
  else
    fail "$name: $(IFS=';'; echo "${problems[*]}") (ran ${elapsed}s)"
    sed 's/^/    /' "$log" | head -40
  fi
done

if ! kill -0 "$SIM_PID" 2>/dev/null; then
  fail "the simulator died during the runs"
  sed 's/^/    /' "$tmp/sim.log" | tail -20
fi

echo "launch files: $passed ok, $failed failing"
((failed == 0 && passed > 0))
