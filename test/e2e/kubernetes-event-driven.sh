#!/usr/bin/env bash
# Architecture 1 on Kubernetes: examples/1-event-driven-task/run.sh (an upload
# to S3 -> EventBridge rule -> ECS task that reads the object with its task
# role's credentials -> DynamoDB item) against a wharf whose tasks are Pods on
# the cluster WHARF_KUBECONFIG names, the task image loaded with
# scripts/kube-load. Every Pod wharf makes is watched through the API server,
# so the task is proven to have run there. scripts/test runs it once the
# cluster is up; without WHARF_KUBECONFIG it fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${WHARF_KUBECONFIG:-}" ] || { echo "FAIL: needs WHARF_KUBECONFIG (scripts/kube-up prints it)"; exit 1; }
. scripts/kube-env.sh
kctl() { "$KUBE_BIN/kubectl" --kubeconfig "$WHARF_KUBECONFIG" "$@"; }

tmp=$(mktemp -d)
image=wharf-e2e/event-driven:$$
pid="" watcher=""
cleanup() {
  rc=$?
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  [ $rc = 0 ] || tail -30 "$tmp/log" 2>/dev/null
  # The example's ECS cluster is deleted; its namespace goes too.
  for ns in $(awk '{print $1}' "$tmp/pods" 2>/dev/null | sort -u); do
    kctl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  done
  docker rmi "$image" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

go build -o "$tmp/wharf" ./cmd/wharf
CGO_ENABLED=0 go build -trimpath -o "$tmp/task" ./examples/task
tar -C "$tmp" -cf - task | docker import -c 'ENTRYPOINT ["/task"]' - "$image" >/dev/null
scripts/kube-load "$image"

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$tmp/wharf" serve --listen "127.0.0.1:$port" --ephemeral --runtime kubernetes --kubeconfig "$WHARF_KUBECONFIG" 2>"$tmp/log" &
pid=$!
for _ in $(seq 200); do
  curl -fs "http://127.0.0.1:$port/_wharf/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "FAIL: wharf exited"; exit 1; }
  sleep 0.05
done

# Every Pod wharf makes, with its phases, as the API server reports them. kubectl itself,
# not the kctl function, goes to the background, so that $! is kubectl and the cleanup's
# kill ends it (a function's subshell would die and leave kubectl watching).
"$KUBE_BIN/kubectl" --kubeconfig "$WHARF_KUBECONFIG" get pods --all-namespaces -l wharf.managed=true --watch -o \
  'custom-columns=NS:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase' --no-headers >"$tmp/pods" 2>/dev/null &
watcher=$!

AWS_ENDPOINT_URL=http://127.0.0.1:$port TASK_IMAGE=$image EXAMPLES_RUNTIME=kubernetes \
  bash examples/1-event-driven-task/run.sh

# The watch's lines arrive as the API server sends them, which a loaded machine can
# delay past the example's end: wait for the line, up to 30 s.
for _ in $(seq 60); do
  grep -Eq '^wharf-wharf-ex1-[^ ]+ +[^ ]+ +(Running|Succeeded)' "$tmp/pods" && break
  sleep 0.5
done
grep -Eq '^wharf-wharf-ex1-[^ ]+ +[^ ]+ +(Running|Succeeded)' "$tmp/pods" ||
  { echo "FAIL: no Pod of example 1's task ran on the cluster"; cat "$tmp/pods"; exit 1; }
echo "PASS kubernetes-event-driven: upload -> rule -> task as Pod $(grep -E '^wharf-wharf-ex1-' "$tmp/pods" | awk '{print $2}' | sort -u | head -1) -> DynamoDB item"
