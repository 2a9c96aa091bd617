#!/usr/bin/env bash
# Runs the four architectures one after another against a wharf and prints a
# summary; exits 0 when none failed (an example that cannot run on this wharf
# yet says why and counts as skipped).
#
# Uses the wharf at AWS_ENDPOINT_URL (default http://127.0.0.1:4566) when one
# answers there; otherwise builds ./cmd/wharf and starts one on a free port,
# in memory (--ephemeral) or, with WHARF_DATA_DIR set, on disk in that
# directory, with an SMTP sink for the alert emails. It stops what it started.
unset EXAMPLES_KEEP # the demo always cleans up, and stops the wharf it started
source "$(dirname "$0")/lib.sh"

step "wharf demo: the four architectures"
work_dir
started=no
if ! curl -fsS "$AWS_ENDPOINT_URL/_wharf/health" >/dev/null 2>&1; then
  info "no wharf at $AWS_ENDPOINT_URL: starting one"
  (cd "$REPO_DIR" && go build -o "$EXAMPLES_WORK/wharf" ./cmd/wharf && go build -o "$EXAMPLES_WORK/smtpsink" ./examples/4-alerts/smtpsink)
  # The sink and wharf listen on ports they pick and say (port 0): no other
  # process can take one between a pick and the bind.
  export SMTP_SINK_DIR=${SMTP_SINK_DIR:-$EXAMPLES_WORK/mail} EXAMPLES_REQUIRE_EMAIL=1
  "$EXAMPLES_WORK/smtpsink" -listen 127.0.0.1:0 -dir "$SMTP_SINK_DIR" >"$EXAMPLES_WORK/smtpsink.log" 2>&1 &
  on_exit "kill $!"
  _said() { sed -n "s/$2/\1/p" "$1" 2>/dev/null | head -1; }
  _sink_up() { [ -n "$(_said "$EXAMPLES_WORK/smtpsink.log" '^smtpsink: listening on \([0-9.:]*\),.*')" ]; }
  wait_for 30 "the SMTP sink to listen" _sink_up
  smtp=$(_said "$EXAMPLES_WORK/smtpsink.log" '^smtpsink: listening on \([0-9.:]*\),.*')
  export SMTP_SINK_ADDR=$smtp
  storage=(--ephemeral)
  [ -n "${WHARF_DATA_DIR:-}" ] && storage=(--data-dir "$WHARF_DATA_DIR")
  runtime=()
  [ -n "${EXAMPLES_RUNTIME:-}" ] && runtime=(--runtime "$EXAMPLES_RUNTIME")
  "$EXAMPLES_WORK/wharf" serve --listen 127.0.0.1:0 --smtp-addr "$smtp" "${storage[@]}" "${runtime[@]}" \
    >"$EXAMPLES_WORK/wharf.log" 2>&1 &
  wharf_pid=$!
  # Stop wharf gracefully (SIGTERM) and wait, so a data directory is closed cleanly.
  on_exit "kill $wharf_pid; wait $wharf_pid"
  _up() {
    port=$(_said "$EXAMPLES_WORK/wharf.log" '.*wharf ready.* listen=127\.0\.0\.1:\([0-9]*\) .*')
    export AWS_ENDPOINT_URL=http://127.0.0.1:$port
    [ -n "$port" ] && curl -fsS "$AWS_ENDPOINT_URL/_wharf/health" >/dev/null 2>&1 || ! kill -0 $wharf_pid 2>/dev/null
  }
  wait_for 30 "wharf to start" _up
  kill -0 $wharf_pid 2>/dev/null || { cat "$EXAMPLES_WORK/wharf.log" >&2; die "wharf did not start"; }
  started=yes
  ok "wharf on $AWS_ENDPOINT_URL (${storage[*]}), alert email to the SMTP sink on $smtp"
fi
require_wharf
build_task_image
export TASK_IMAGE

results=()
failed=0
for ex in 1-event-driven-task 2-scheduled-task 3-queue-workers 4-alerts; do
  rc=0
  t0=$SECONDS
  bash "$EXAMPLES_DIR/$ex/run.sh" || rc=$?
  took="$((SECONDS - t0)) s"
  case $rc in
  0) results+=("  passed   $ex ($took)") ;;
  77) results+=("  skipped  $ex ($took)") ;;
  *) results+=("  FAILED   $ex (exit $rc, $took)"); failed=$((failed + 1)) ;;
  esac
done

step "summary"
printf '%s\n' "${results[@]}"
if [ $failed -gt 0 ]; then
  if [ $started = yes ]; then
    info "wharf's log (last 40 lines):"
    tail -40 "$EXAMPLES_WORK/wharf.log" | sed 's/^/    | /'
  fi
  die "$failed example(s) failed"
fi
ok "demo finished"
