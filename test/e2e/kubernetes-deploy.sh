#!/usr/bin/env bash
# wharf inside Kubernetes: the manifests of deploy/kubernetes (through its single-node
# overlay) on a real cluster — $WHARF_KUBECONFIG's, else one it starts with scripts/kube-up.
# A static wharf is built into an image FROM scratch with the repository's Dockerfile
# and loaded into the cluster; the manifests are applied; then, through the Pod on the
# node's loopback network: the aws CLI creates a bucket and an object; an ECS task runs
# as a Pod that wharf starts with its ServiceAccount (so the RBAC is enough) and stops
# with its exit code; and after the wharf Pod is deleted, its replacement still has
# the object (the data directory is the PersistentVolume's).
source "$(dirname "$0")/lib.sh"
. scripts/kube-env.sh

kubeconfig=${WHARF_KUBECONFIG:-}
if [ -z "$kubeconfig" ]; then
  kubeconfig=$(scripts/kube-up) || fail "scripts/kube-up failed"
  on_exit scripts/kube-down
fi
kubectl() { "$KUBE_BIN/kubectl" --kubeconfig "$kubeconfig" "$@"; }
kubectl get --raw /readyz >/dev/null || fail "the cluster at $kubeconfig does not answer"

# The image: a static binary (CGO_ENABLED=0) FROM scratch, as the Dockerfile says.
tag="e2e-$$-$RANDOM"
image="wharf-kube:$tag"
mkdir -p "$tmp/image"
CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$tmp/image/wharf" ./cmd/wharf
cp Dockerfile "$tmp/image/"
docker build -q -t "$image" "$tmp/image" >"$tmp/docker-build.log" 2>&1 || { cat "$tmp/docker-build.log"; fail "docker build"; }
on_exit "docker rmi -f $image >/dev/null"
scripts/kube-load "$image" || fail "kube-load $image"
on_exit "kube_ctr images rm docker.io/library/$image >/dev/null"

# The single-node overlay as a user applies it, with this run's image, a free port
# and a data directory of its own.
port=$(free_port)
endpoint="http://127.0.0.1:$port"
# kustomize takes bases by relative path only: the manifests are copied beside it.
mkdir -p "$tmp/kustomize" "$tmp/data"
cp -r deploy/kubernetes "$tmp/manifests"
cat >"$tmp/kustomize/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../manifests/single-node
images:
  - name: wharf
    newName: wharf-kube
    newTag: "$tag"
patches:
  - target: {kind: Deployment, name: wharf}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/ports/0/containerPort
        value: $port
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: wharf, namespace: wharf}
      spec:
        template:
          spec:
            containers:
              - name: wharf
                env:
                  - {name: WHARF_LISTEN, value: "127.0.0.1:$port"}
                  - {name: WHARF_ADVERTISE_URL, value: "$endpoint"}
  - target: {kind: PersistentVolume, name: wharf-data}
    patch: |-
      - op: replace
        path: /spec/hostPath/path
        value: $tmp/data
EOF
undeploy() {
  kubectl delete namespace wharf-default --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
  kubectl delete -k "$tmp/kustomize" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
}
on_exit undeploy
kubectl apply -k "$tmp/kustomize" >/dev/null || fail "kubectl apply -k"

# diagnose prints what the cluster says about wharf, then fails.
diagnose() {
  echo "FAIL: $*"
  kubectl -n wharf get all,pvc -o wide 2>&1 || true
  kubectl get pv 2>&1 || true
  kubectl -n wharf describe pods 2>&1 | tail -40 || true
  kubectl -n wharf logs deployment/wharf --tail=60 2>&1 || true
  exit 1
}
kubectl -n wharf rollout status deployment/wharf --timeout=300s >/dev/null ||
  diagnose "the wharf Deployment did not become available"
[ "$(kubectl -n wharf get pvc wharf-data -o 'jsonpath={.status.phase}')" = Bound ] ||
  diagnose "wharf's PersistentVolumeClaim is not Bound"
curl -fsS "$endpoint/_wharf/health" >/dev/null || diagnose "wharf does not answer on $endpoint"

aws() { command aws --endpoint-url "$endpoint" "$@"; }
aws s3 mb s3://kube-deploy >/dev/null || diagnose "s3 mb"
echo "made inside Kubernetes" >"$tmp/object.txt"
aws s3 cp "$tmp/object.txt" s3://kube-deploy/object.txt >/dev/null || diagnose "s3 cp"

# An ECS task, run by the wharf in the cluster as a Pod of its own: the image is wharf's
# (a static binary that prints its version and exits 0).
aws ecs create-cluster --cluster-name default >/dev/null || diagnose "create-cluster"
td=$(aws ecs register-task-definition --family kube-deploy \
  --container-definitions "[{\"name\":\"main\",\"image\":\"$image\",\"essential\":true,\"command\":[\"version\"]}]" \
  --query taskDefinition.taskDefinitionArn --output text) || diagnose "register-task-definition"
task=$(aws ecs run-task --task-definition "$td" --query 'tasks[0].taskArn' --output text) || diagnose "run-task"
[ -n "$task" ] && [ "$task" != None ] || diagnose "run-task started no task"
status=""
for _ in $(seq 1 180); do
  status=$(aws ecs describe-tasks --tasks "$task" --query 'tasks[0].lastStatus' --output text)
  [ "$status" = STOPPED ] && break
  sleep 1
done
[ "$status" = STOPPED ] || diagnose "the task is $status, not STOPPED, after 180 s"
code=$(aws ecs describe-tasks --tasks "$task" --query 'tasks[0].containers[0].exitCode' --output text)
[ "$code" = 0 ] || diagnose "the task's container exited $code, want 0 ($(aws ecs describe-tasks --tasks "$task" --query 'tasks[0].stoppedReason' --output text))"
pods=$(kubectl get pods -A -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.spec.containers[0].image}{"\n"}{end}' | grep -c "/$image\$" || true)
[ "$pods" -ge 1 ] || diagnose "no Pod of the task's image was found in the cluster"

# The data directory outlives the Pod: delete it and ask the replacement.
old=$(kubectl -n wharf get pods -l app.kubernetes.io/name=wharf -o 'jsonpath={.items[0].metadata.name}')
kubectl -n wharf delete pod "$old" --wait=true --timeout=120s >/dev/null || diagnose "delete pod $old"
for _ in $(seq 1 180); do
  curl -fs "$endpoint/_wharf/health" >/dev/null 2>&1 && break
  sleep 1
done
new=$(kubectl -n wharf get pods -l app.kubernetes.io/name=wharf -o 'jsonpath={.items[0].metadata.name}')
[ -n "$new" ] && [ "$new" != "$old" ] || diagnose "no new wharf Pod replaced $old"
got=$(aws s3 cp s3://kube-deploy/object.txt - 2>&1) || diagnose "the object is gone after the Pod was replaced: $got"
[ "$got" = "made inside Kubernetes" ] || diagnose "the object reads '$got' after the Pod was replaced"
echo "ok: wharf deployed by deploy/kubernetes answers, runs a task as a Pod, keeps its data across Pods"
