# shellcheck shell=bash
# lib.sh is sourced by the end-to-end scripts beside it (scripts/test does not run
# it): it builds wharf, starts it on a loopback port, waits until it answers,
# and stops it and removes the scratch directory however the script ends.
#
#   source "$(dirname "$0")/lib.sh"   # cd to the repo root, make $tmp, build $bin
#   wharf_start --ephemeral           # sets $port, $endpoint, $pid; log in $tmp/log
#   wharf_stop; wharf_start_on "$port" --data-dir "$tmp/data"   # a restart
#   on_exit 'docker rmi x'            # more cleanup, run before wharf is stopped
#   fail "what went wrong"            # prints the message and wharf's log, exits 1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

tmp=$(mktemp -d)
bin="$tmp/wharf"
pids=()
exit_hooks=()

_wharf_cleanup() {
  local rc=$?
  for h in "${exit_hooks[@]}"; do eval "$h" || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
  return $rc
}
trap _wharf_cleanup EXIT

# on_exit adds a command run when the script ends, before wharf is stopped.
on_exit() { exit_hooks+=("$1"); }

# free_port prints a loopback TCP port that was free a moment ago.
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# wharf_start starts `wharf serve` with the given flags on a port it picks
# itself; see wharf_start_on.
wharf_start() { wharf_start_on 0 "$@"; }

# wharf_start_on starts `wharf serve` on 127.0.0.1:PORT with the flags after
# PORT, its log appended to $tmp/log, and waits up to 20 s for /_wharf/health.
# It sets port, endpoint and pid (of the last wharf started). With PORT 0 the
# port is the one wharf bound, read from its ready line: no other process can
# take it between a pick and the bind, as one can a free_port.
wharf_start_on() {
  port=$1
  shift
  local from=1 p
  [ -f "$tmp/log" ] && from=$(($(wc -l <"$tmp/log") + 1))
  "$bin" serve --listen "127.0.0.1:$port" "$@" 2>>"$tmp/log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 400); do
    if [ "$port" = 0 ]; then
      p=$(tail -n "+$from" "$tmp/log" | sed -n 's/.*wharf ready.*listen"\{0,1\}[=:]"\{0,1\}127\.0\.0\.1:\([0-9]*\).*/\1/p' | head -1)
      [ -n "$p" ] && port=$p
    fi
    endpoint="http://127.0.0.1:$port"
    [ "$port" != 0 ] && curl -fs "$endpoint/_wharf/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "wharf exited before it was ready"
    sleep 0.05
  done
  fail "wharf did not answer /_wharf/health within 20 s"
}

# wharf_stop stops the last wharf started (SIGTERM) and waits for it.
wharf_stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# fail prints why the script failed and the end of wharf's log, and exits 1.
fail() {
  echo "FAIL: $*"
  [ -f "$tmp/log" ] && tail -100 "$tmp/log"
  exit 1
}

go build -o "$bin" ./cmd/wharf

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
