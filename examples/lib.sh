# Shared by the example scripts: where wharf is, how to call the aws CLI, how
# to build the task image, progress output, waiting, and cleanup. Sourced, not
# run.
#
# Environment (all optional):
#   AWS_ENDPOINT_URL   wharf's address (default http://127.0.0.1:4566)
#   AWS_CLI            the aws CLI to use (default /usr/bin/aws if present, else aws)
#   EXAMPLES_RUNTIME   docker or process: how wharf runs tasks (default: docker
#                      when `docker info` answers, else process, as wharf chooses)
#   EXAMPLES_WORK      scratch directory (default: a new one under $TMPDIR)
#   EXAMPLES_KEEP      1: leave what the example made in place (to look around)
#                      and print the commands that would remove it
#   TASK_IMAGE         an image of examples/task already built (run-all.sh builds
#                      it once for every example)

set -euo pipefail

EXAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$EXAMPLES_DIR/.." && pwd)

export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-$AWS_REGION}
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
if [ -z "${AWS_CLI:-}" ]; then
  if [ -x /usr/bin/aws ]; then AWS_CLI=/usr/bin/aws; else AWS_CLI=aws; fi
fi

# aws calls the CLI with wharf's endpoint. --endpoint-url is passed explicitly
# because CLI releases before 2.13 (and 1.29) ignore AWS_ENDPOINT_URL.
aws() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL" --output text "$@"; }
# awsj is aws with JSON output, for the few places a document is read.
awsj() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"; }

ACCOUNT=""
SUFFIX=$(date +%s)$$

# Progress output a person can follow: a step, a detail, success, failure.
# Colours only on a terminal (and never with NO_COLOR set), so logs and CI
# output carry no escape codes.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  BOLD=$'\033[1m' GREEN=$'\033[32m' RED=$'\033[31m' YELLOW=$'\033[33m' RESET=$'\033[0m'
else
  BOLD="" GREEN="" RED="" YELLOW="" RESET=""
fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }
info() { printf '    %s\n' "$*"; }
ok() { printf '    %sok%s %s\n' "$GREEN" "$RESET" "$*"; }
die() { printf '    %sFAILED%s %s\n' "$RED" "$RESET" "$*" >&2; exit 1; }

# Cleanup actions run in reverse order on exit, success or not; each one may
# fail (the resource may never have been made) without stopping the others.
_cleanups=()
on_exit() { _cleanups+=("$*"); }
_run_cleanups() {
  local rc=$?
  if [ ${#_cleanups[@]} -gt 0 ] && [ "${EXAMPLES_KEEP:-}" = 1 ]; then
    step "keeping what this example made (EXAMPLES_KEEP=1); to remove it later:"
    local i
    # Printed with --endpoint-url, so that they work in a shell without
    # this script's aws function (and with CLIs that ignore AWS_ENDPOINT_URL).
    for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
      printf '    %s\n' "$(printf '%s' "${_cleanups[$i]}" | sed -E "s#(^|; |&& )aws #\1aws --endpoint-url $AWS_ENDPOINT_URL #g")"
    done
  elif [ ${#_cleanups[@]} -gt 0 ]; then
    step "cleaning up"
    local i
    for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
      eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
    done
    ok "removed everything this example made"
  fi
  exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND every half second until
# it succeeds, or fail after SECONDS.
wait_for() {
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then die "timed out after ${secs}s waiting for $what"; fi
    sleep 0.5
  done
}

# require_wharf checks that wharf answers at AWS_ENDPOINT_URL.
require_wharf() {
  if ! curl -fsS "$AWS_ENDPOINT_URL/_wharf/health" >/dev/null 2>&1; then
    die "no wharf at $AWS_ENDPOINT_URL: start one (wharf serve) or set AWS_ENDPOINT_URL"
  fi
  ACCOUNT=$(aws sts get-caller-identity --query Account)
  info "wharf at $AWS_ENDPOINT_URL, account $ACCOUNT, region $AWS_REGION"
}

# work_dir makes the scratch directory (once).
work_dir() {
  if [ -z "${EXAMPLES_WORK:-}" ]; then
    EXAMPLES_WORK=$(mktemp -d "${TMPDIR:-/tmp}/wharf-examples.XXXXXX")
    on_exit "rm -rf '$EXAMPLES_WORK'"
  fi
  mkdir -p "$EXAMPLES_WORK"
}

# build_task_image builds examples/task as a static binary and makes it the
# image TASK_IMAGE names: a one-file image FROM scratch imported into Docker
# (no registry needed), or, for wharf's process runtime, the binary's path.
build_task_image() {
  work_dir
  if [ -n "${TASK_IMAGE:-}" ]; then
    ok "image $TASK_IMAGE (already built)"
    return
  fi
  local runtime=${EXAMPLES_RUNTIME:-}
  if [ -z "$runtime" ]; then
    if docker info >/dev/null 2>&1; then runtime=docker; else runtime=process; fi
  fi
  info "building examples/task (CGO_ENABLED=0, static) for wharf's $runtime runtime"
  (cd "$REPO_DIR" && CGO_ENABLED=0 go build -trimpath -o "$EXAMPLES_WORK/task" ./examples/task)
  case $runtime in
  docker)
    TASK_IMAGE=wharf-examples/task:latest
    local previous
    previous=$(docker image inspect -f '{{.Id}}' "$TASK_IMAGE" 2>/dev/null || true)
    tar -C "$EXAMPLES_WORK" -cf - task | docker import -c 'ENTRYPOINT ["/task"]' - "$TASK_IMAGE" >/dev/null
    # The tag moved to the new import: drop the old image rather than leave it
    # dangling (it stays if a container still uses it).
    if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$TASK_IMAGE")" ]; then
      docker rmi "$previous" >/dev/null 2>&1 || true
    fi
    ok "image $TASK_IMAGE (FROM scratch, one file) imported into Docker"
    ;;
  process)
    TASK_IMAGE=$EXAMPLES_WORK/task
    ok "image $TASK_IMAGE (wharf's process runtime runs the binary as a host process)"
    ;;
  *) die "EXAMPLES_RUNTIME must be docker or process, not $runtime" ;;
  esac
}

# task_role NAME: a role ECS tasks may assume, with an inline policy from
# POLICY (a JSON document); prints its ARN.
task_role() {
  local name=$1 policy=$2
  aws iam create-role --role-name "$name" --query Role.Arn \
    --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
  aws iam put-role-policy --role-name "$name" --policy-name access --policy-document "$policy"
}

# wait_task_stopped CLUSTER TASK_ARN SECONDS: wait until the task has stopped.
wait_task_stopped() {
  _task_stopped() { [ "$(aws ecs describe-tasks --cluster "$1" --tasks "$2" --query 'tasks[0].lastStatus')" = STOPPED ]; }
  wait_for "$3" "task $2 to stop" _task_stopped "$1" "$2"
}

# show_task_logs GROUP: print a log group's events, indented.
show_task_logs() {
  "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL" logs tail "$1" --since 1h --format short 2>/dev/null | sed 's/^/    | /' || true
}
