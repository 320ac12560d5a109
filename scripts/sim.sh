# shellcheck shell=bash
# Starting and stopping clawvoice-sim from a script; sourced by scripts/demo.sh and the launch-file
# tests. Everything stays on 127.0.0.1, and the simulator is stopped by its process id.
#
#   source scripts/sim.sh
#   sim_start BUILD/launcher/sim/clawvoice-sim LOGFILE [PORT...]   # sets SIM_PID, SIM_URL, SIM_PORT
#   sim_stop
#
# Each PORT is tried in turn (0 lets the simulator pick a free one, and is always tried last).

SIM_PID=
SIM_URL=
SIM_PORT=

# Waits (at most ~10 s) for the "listening" line; fails if the simulator exits first.
_sim_wait_listening() {
  local log=$1 i
  for ((i = 0; i < 100; i++)); do
    if grep -q 'clawvoice-sim listening on ' "$log" 2>/dev/null; then
      SIM_URL=$(sed -n 's/^clawvoice-sim listening on \(ws:[^ ]*\).*$/\1/p' "$log" | head -n1)
      SIM_PORT=$(sed -n 's#^ws://[^/]*:\([0-9][0-9]*\)/.*$#\1#p' <<<"$SIM_URL")
      [[ -n $SIM_PORT ]] && return 0
    fi
    kill -0 "$SIM_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

sim_start() {
  local bin=$1 log=$2 port
  shift 2
  for port in "$@" 0; do
    : >"$log"
    "$bin" --listen "127.0.0.1:$port" >"$log" 2>&1 </dev/null &
    SIM_PID=$!
    if _sim_wait_listening "$log"; then
      return 0
    fi
    sim_stop
  done
  echo "clawvoice-sim did not start; its output:" >&2
  cat "$log" >&2
  return 1
}

sim_stop() {
  local pid=$SIM_PID i
  SIM_PID=
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
