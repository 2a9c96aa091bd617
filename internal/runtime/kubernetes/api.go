package kubernetes

import (
	"strconv"
	"strings"
	"time"
)

// The parts of the Kubernetes API's objects (core/v1, meta/v1) the runner
// reads and writes, with the API's JSON names. Fields wharf does not use are
// not here: the API server ignores a field a request leaves out the same way
// it ignores one left empty, and decoding skips the rest of what it answers.
// Optional fields are pointers or omitempty, as in k8s.io/api, so that a
// created Pod carries only what wharf sets.

// ObjectMeta is metav1.ObjectMeta, trimmed.
type ObjectMeta struct {
	Name              string            `json:"name,omitempty"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	DeletionTimestamp *time.Time        `json:"deletionTimestamp,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
}

// ListMeta is metav1.ListMeta.
type ListMeta struct {
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Continue        string `json:"continue,omitempty"`
}

// Pod is a core/v1 Pod.
type Pod struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	ObjectMeta `json:"metadata"`
	Spec       PodSpec   `json:"spec"`
	Status     PodStatus `json:"status"`
}

// PodList is a list of Pods.
type PodList struct {
	Metadata ListMeta `json:"metadata"`
	Items    []Pod    `json:"items"`
}

// Pod phases.
const (
	PodPending   = "Pending"
	PodRunning   = "Running"
	PodSucceeded = "Succeeded"
	PodFailed    = "Failed"
)

// PodSpec is core/v1 PodSpec, trimmed.
type PodSpec struct {
	Volumes                       []Volume    `json:"volumes,omitempty"`
	InitContainers                []Container `json:"initContainers,omitempty"`
	Containers                    []Container `json:"containers"`
	RestartPolicy                 string      `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64      `json:"terminationGracePeriodSeconds,omitempty"`
	DNSPolicy                     string      `json:"dnsPolicy,omitempty"`
	AutomountServiceAccountToken  *bool       `json:"automountServiceAccountToken,omitempty"`
	NodeName                      string      `json:"nodeName,omitempty"`
	HostNetwork                   bool        `json:"hostNetwork,omitempty"`
	EnableServiceLinks            *bool       `json:"enableServiceLinks,omitempty"`
}

// Volume is a Pod volume: an emptyDir or a hostPath.
type Volume struct {
	Name     string                `json:"name"`
	HostPath *HostPathVolumeSource `json:"hostPath,omitempty"`
	EmptyDir *struct{}             `json:"emptyDir,omitempty"`
}

// HostPathVolumeSource is a directory of the node.
type HostPathVolumeSource struct {
	Path string  `json:"path"`
	Type *string `json:"type,omitempty"`
}

// Container is core/v1 Container, trimmed.
type Container struct {
	Name                     string               `json:"name"`
	Image                    string               `json:"image,omitempty"`
	Command                  []string             `json:"command,omitempty"`
	Args                     []string             `json:"args,omitempty"`
	WorkingDir               string               `json:"workingDir,omitempty"`
	Env                      []EnvVar             `json:"env,omitempty"`
	Resources                ResourceRequirements `json:"resources,omitzero"`
	RestartPolicy            *string              `json:"restartPolicy,omitempty"`
	VolumeMounts             []VolumeMount        `json:"volumeMounts,omitempty"`
	ReadinessProbe           *Probe               `json:"readinessProbe,omitempty"`
	StartupProbe             *Probe               `json:"startupProbe,omitempty"`
	TerminationMessagePolicy string               `json:"terminationMessagePolicy,omitempty"`
	ImagePullPolicy          string               `json:"imagePullPolicy,omitempty"`
	SecurityContext          *SecurityContext     `json:"securityContext,omitempty"`
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// ResourceRequirements are a container's requests and limits, as quantities
// ("500m", "256Mi").
type ResourceRequirements struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

// VolumeMount mounts a Pod volume into a container.
type VolumeMount struct {
	Name      string `json:"name"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	MountPath string `json:"mountPath"`
}

// Probe is an exec probe.
type Probe struct {
	Exec             *ExecAction `json:"exec,omitempty"`
	TimeoutSeconds   int32       `json:"timeoutSeconds,omitempty"`
	PeriodSeconds    int32       `json:"periodSeconds,omitempty"`
	SuccessThreshold int32       `json:"successThreshold,omitempty"`
	FailureThreshold int32       `json:"failureThreshold,omitempty"`
}

// ExecAction is a command a probe runs in the container.
type ExecAction struct {
	Command []string `json:"command,omitempty"`
}

// SecurityContext is a container's user and root filesystem.
type SecurityContext struct {
	RunAsUser              *int64 `json:"runAsUser,omitempty"`
	RunAsGroup             *int64 `json:"runAsGroup,omitempty"`
	ReadOnlyRootFilesystem *bool  `json:"readOnlyRootFilesystem,omitempty"`
}

// PodStatus is core/v1 PodStatus, trimmed.
type PodStatus struct {
	Phase                 string            `json:"phase,omitempty"`
	Message               string            `json:"message,omitempty"`
	Reason                string            `json:"reason,omitempty"`
	InitContainerStatuses []ContainerStatus `json:"initContainerStatuses,omitempty"`
	ContainerStatuses     []ContainerStatus `json:"containerStatuses,omitempty"`
}

// ContainerStatus is a container's state as the kubelet reports it.
type ContainerStatus struct {
	Name                 string         `json:"name"`
	State                ContainerState `json:"state"`
	LastTerminationState ContainerState `json:"lastState"`
	Ready                bool           `json:"ready"`
	RestartCount         int32          `json:"restartCount"`
}

// ContainerState is one of waiting, running or terminated.
type ContainerState struct {
	Waiting    *ContainerStateWaiting    `json:"waiting,omitempty"`
	Running    *ContainerStateRunning    `json:"running,omitempty"`
	Terminated *ContainerStateTerminated `json:"terminated,omitempty"`
}

// ContainerStateWaiting says why a container has not started.
type ContainerStateWaiting struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ContainerStateRunning is a running container.
type ContainerStateRunning struct {
	StartedAt time.Time `json:"startedAt"`
}

// ContainerStateTerminated is a container's end.
type ContainerStateTerminated struct {
	ExitCode   int32     `json:"exitCode"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

// namespaceObject is a core/v1 Namespace.
type namespaceObject struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	ObjectMeta `json:"metadata"`
}

// Node is the part of a core/v1 Node that locates its kubelet.
type Node struct {
	ObjectMeta `json:"metadata"`
	Status     struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
		DaemonEndpoints struct {
			KubeletEndpoint struct {
				Port int32 `json:"Port"`
			} `json:"kubeletEndpoint"`
		} `json:"daemonEndpoints"`
	} `json:"status"`
}

// Status is metav1.Status: how the API server explains a failure.
type Status struct {
	Kind    string `json:"kind,omitempty"`
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Code    int32  `json:"code,omitempty"`
}

// parseQuantity reads a resource quantity as a whole number of base units
// (bytes, cores), rounding up: "256Mi", "1G", "1e3", "512". A milli value
// ("500m") reads as its rounded-up whole. It reports false for what is not
// a quantity.
func parseQuantity(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	num := strings.TrimRight(s, "KMGTPEkimnu")
	suffix := s[len(num):]
	mult, div := 1.0, 1.0
	switch suffix {
	case "":
		if i := strings.IndexAny(num, "eE"); i > 0 {
			exp, err := strconv.Atoi(num[i+1:])
			if err != nil {
				return 0, false
			}
			num, mult = num[:i], pow(10, exp)
		}
	case "Ki", "Mi", "Gi", "Ti", "Pi", "Ei":
		mult = pow(1024, 1+strings.Index("KMGTPE", suffix[:1]))
	case "k", "M", "G", "T", "P", "E":
		mult = pow(1000, 1+strings.Index("kMGTPE", suffix))
	case "m":
		div = 1000
	case "u":
		div = 1e6
	case "n":
		div = 1e9
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, false
	}
	v := f * mult / div
	if v != float64(int64(v)) {
		v = float64(int64(v) + 1)
	}
	return int64(v), true
}

func pow(b float64, n int) float64 {
	out := 1.0
	for ; n > 0; n-- {
		out *= b
	}
	return out
}
