# Sourced by scripts/kube-up, kube-down and kube-load: where the single-node cluster's
# binaries and state live. Not a command.
#
#   WHARF_KUBE_DIR    the running cluster's state: certificates, etcd, containerd, kubelet,
#                     logs, pid files and the kubeconfig (default /tmp/wharf-kube); one
#                     cluster per machine, since its ports are fixed.
#   WHARF_CACHE       cache root (default $HOME/.cache/wharf); the binaries are built
#                     into $WHARF_CACHE/kube/<version>/bin and reused.

KUBE_VERSION=v1.37.2
KUBE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBE_CACHE="${WHARF_CACHE:-$HOME/.cache/wharf}/kube/$KUBE_VERSION"
KUBE_BIN="$KUBE_CACHE/bin"
KUBE_DIR="${WHARF_KUBE_DIR:-/tmp/wharf-kube}"
# The node is named by its address: the kubelet refuses a loopback --node-ip, but takes
# an address given as its name for the node's InternalIP, which the API server needs to
# reach the kubelet for logs and exec.
KUBE_NODE=127.0.0.1
KUBECONFIG_ADMIN="$KUBE_DIR/admin.kubeconfig"
KUBE_CONTAINERD_SOCK="$KUBE_DIR/containerd/containerd.sock"
KUBE_PAUSE_IMAGE=wharf.local/kube/pause:v1
# The API server listens where the "kubernetes" Service points (127.0.0.1:443, the first
# address of the loopback service range), so in-cluster clients on the host network reach
# it with no kube-proxy.
KUBE_API=https://127.0.0.1:443

kube_say() { echo "kube: $*" >&2; }

# kube_ctr runs containerd's ctr against the cluster's containerd, in the namespace the
# kubelet's containers live in.
kube_ctr() { ctr --address "$KUBE_CONTAINERD_SOCK" --namespace k8s.io "$@"; }
