package kubernetes

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/runtime"
)

// Labels and annotations wharf puts on its Pods. Label values are limited to
// 63 characters of [A-Za-z0-9._-], so ARNs and ECS names travel as
// annotations and the labels carry only what selectors need.
const (
	labelManaged   = "wharf.managed" // "true": the label Runner's watch selects on
	labelManagedBy = "app.kubernetes.io/managed-by"
	labelTask      = "wharf.dev/task-id"
	labelCluster   = "wharf.dev/cluster"
	// annContainers maps the Pod's container names to the ECS container names
	// (JSON object), as Kubernetes names are narrower than ECS's.
	annContainers = "wharf.dev/containers"
	// annStartPeriod (+ the container's name) is a health check's start
	// period in seconds: failures before it passes do not make it unhealthy.
	annStartPeriod = "wharf.dev/health-start-period."
)

// defaultGrace is the stop timeout of a container whose definition sets none.
const defaultGrace = 30 * time.Second

var notLabel = lazyregexp.New(`[^a-z0-9-]+`)

// dnsLabel turns s into an RFC 1123 label (lowercase alphanumerics and '-',
// at most 63 characters), as Kubernetes names of Pods, containers, volumes
// and namespaces must be.
func dnsLabel(s string) string {
	s = notLabel.ReplaceAllString(strings.ToLower(s), "-")
	if len(s) > 63 {
		s = s[:63]
	}
	s = strings.Trim(s, "-")
	if s == "" {
		s = "x"
	}
	return s
}

// Namespace is the namespace of an ECS cluster's Pods when --kube-namespace
// does not name one: wharf-<cluster>.
func Namespace(cluster string) string {
	return dnsLabel("wharf-" + cluster)
}

// podName is the Pod of task t: its runtime name when that is a valid label,
// else ecs-<task id>.
func podName(t *runtime.Task) string {
	n := dnsLabel(t.Name)
	if len(strings.ToLower(t.Name)) > 63 && t.ID != "" {
		n = dnsLabel("ecs-" + t.ID)
	}
	return n
}

// role is where a container goes in the Pod, decided by the conditions other
// containers depend on it with.
type role int

const (
	regular role = iota // started in order after the init containers
	initRun             // an init container: runs to completion first (COMPLETE, SUCCESS)
	sidecar             // a restartable init container whose startup probe gates the rest (HEALTHY)
)

// roles gives each container its role. Kubernetes has no per-container start
// ordering except through init containers, so:
//   - a container others wait on to COMPLETE or SUCCEED is an init container:
//     the kubelet runs it to the end before starting anything after it (a
//     non-zero exit fails the Pod, so COMPLETE behaves as SUCCESS);
//   - a container others wait on to be HEALTHY is a sidecar (an init container
//     with restartPolicy Always) whose startup probe is its health check: the
//     kubelet starts what follows only once that probe has passed;
//   - START needs nothing more: the kubelet starts a Pod's containers one by
//     one in the order they are listed, and Task lists dependencies first.
func roles(t *runtime.Task) map[string]role {
	out := map[string]role{}
	for _, c := range t.Containers {
		for _, d := range c.DependsOn {
			switch d.Condition {
			case "COMPLETE", "SUCCESS":
				out[d.Container] = initRun
			case "HEALTHY":
				if out[d.Container] != initRun {
					out[d.Container] = sidecar
				}
			}
		}
	}
	return out
}

// podFor is the Pod that runs task t in namespace ns. It returns the Pod's
// container name for each ECS container name.
func podFor(t *runtime.Task, ns string) (*Pod, map[string]string, error) {
	names := map[string]string{}    // ECS name -> Pod container name
	ecsNames := map[string]string{} // the reverse, for the annotation
	for _, c := range t.Containers {
		n := dnsLabel(c.Name)
		for i := 2; ecsNames[n] != ""; i++ {
			suffix := "-" + strconv.Itoa(i)
			n = dnsLabel(c.Name)
			if len(n)+len(suffix) > 63 {
				n = n[:63-len(suffix)]
			}
			n += suffix
		}
		names[c.Name], ecsNames[n] = n, c.Name
	}
	mapping, _ := json.Marshal(ecsNames)
	pod := &Pod{
		ObjectMeta: ObjectMeta{
			Name:      podName(t),
			Namespace: ns,
			Labels: map[string]string{
				labelManaged: "true", labelManagedBy: "wharf",
				labelTask: dnsLabel(t.ID), labelCluster: dnsLabel(t.Cluster),
			},
			Annotations: map[string]string{annContainers: string(mapping)},
		},
		Spec: PodSpec{
			// ECS never restarts a task's containers: an exit is reported,
			// and an essential one stops the task.
			RestartPolicy: "Never",
			// Tasks reach wharf, their credentials and metadata at the address
			// wharf advertises, as the host sees it (awsvpc's own network has
			// no equivalent on a loopback-only machine).
			HostNetwork: true,
			DNSPolicy:   "ClusterFirstWithHostNet",
			// A task's credentials are its task role's, never the cluster's.
			AutomountServiceAccountToken: new(false),
			EnableServiceLinks:           new(false),
		},
	}
	for k, v := range t.Labels {
		pod.Annotations[k] = v
	}
	vols := map[string]bool{}
	rs := roles(t)
	grace := time.Duration(0)
	for _, c := range t.Containers {
		kc, err := container(names[c.Name], &c.Spec)
		if err != nil {
			return nil, nil, fmt.Errorf("container %s: %w", c.Name, err)
		}
		if h := c.Spec.Health; h != nil && len(h.Test) > 0 {
			probe := probeFor(h)
			if probe != nil {
				kc.ReadinessProbe = probe
				pod.Annotations[annStartPeriod+kc.Name] = strconv.Itoa(int(h.StartPeriod / time.Second))
			}
		}
		for _, m := range c.Spec.Mounts {
			vn := dnsLabel(m.Volume)
			kc.VolumeMounts = append(kc.VolumeMounts, VolumeMount{Name: vn, MountPath: m.ContainerPath, ReadOnly: m.ReadOnly})
			if vols[vn] {
				continue
			}
			vols[vn] = true
			v := Volume{Name: vn}
			if m.HostPath != "" {
				v.HostPath = &HostPathVolumeSource{Path: m.HostPath, Type: new("DirectoryOrCreate")}
			} else {
				// A task volume without a host path lives and dies with the
				// task and is shared by its containers (bind mounts docs).
				v.EmptyDir = &struct{}{}
			}
			pod.Spec.Volumes = append(pod.Spec.Volumes, v)
		}
		st := c.StopTimeout
		if st <= 0 {
			st = defaultGrace
		}
		grace = max(grace, st)
		switch rs[c.Name] {
		case initRun:
			pod.Spec.InitContainers = append(pod.Spec.InitContainers, kc)
		case sidecar:
			kc.RestartPolicy = new("Always")
			if kc.ReadinessProbe != nil {
				sp := *kc.ReadinessProbe
				// The startup probe passes on the first healthy answer; the
				// start period plus the retries bound how long it may try.
				sp.FailureThreshold = int32(int(c.Spec.Health.StartPeriod/time.Second)/int(max(sp.PeriodSeconds, 1))) + max(sp.FailureThreshold, 1)
				kc.StartupProbe = &sp
			}
			pod.Spec.InitContainers = append(pod.Spec.InitContainers, kc)
		default:
			pod.Spec.Containers = append(pod.Spec.Containers, kc)
		}
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, nil, fmt.Errorf("every container is one that others wait on to complete: a Pod needs one that is not")
	}
	pod.Spec.TerminationGracePeriodSeconds = new(int64(grace.Round(time.Second) / time.Second))
	return pod, names, nil
}

// container maps one container's Spec onto a Pod container.
func container(name string, sp *runtime.Spec) (Container, error) {
	kc := Container{
		Name:  name,
		Image: sp.Image,
		// Docker's Entrypoint is Kubernetes' command and Cmd its args, with
		// the same override rules.
		Command:    sp.EntryPoint,
		Args:       sp.Command,
		WorkingDir: sp.WorkingDir,
		// Images are loaded onto the node or pulled once: a tag such as
		// latest must not force a pull from a registry the node may not reach.
		ImagePullPolicy: "IfNotPresent",
		// The container's last output is what an exit reason would be,
		// when it wrote one.
		TerminationMessagePolicy: "FallbackToLogsOnError",
	}
	for _, kv := range sp.Env {
		k, v, _ := strings.Cut(kv, "=")
		kc.Env = append(kc.Env, EnvVar{Name: k, Value: v})
	}
	sc := &SecurityContext{}
	if sp.ReadonlyRootFS {
		sc.ReadOnlyRootFilesystem = new(true)
	}
	if sp.User != "" {
		u, g, hasGroup := strings.Cut(sp.User, ":")
		uid, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			return kc, fmt.Errorf("user %q: Kubernetes runs a container as a numeric uid[:gid], not a user name", sp.User)
		}
		sc.RunAsUser = &uid
		if hasGroup {
			gid, err := strconv.ParseInt(g, 10, 64)
			if err != nil {
				return kc, fmt.Errorf("user %q: Kubernetes runs a container as a numeric uid[:gid], not a group name", sp.User)
			}
			sc.RunAsGroup = &gid
		}
	}
	if *sc != (SecurityContext{}) {
		kc.SecurityContext = sc
	}
	// cpu is a relative share in ECS (1024 units = one vCPU), so it becomes
	// a request, never a limit; memory is the hard limit and
	// memoryReservation the soft one (ContainerDefinition docs).
	req, lim := map[string]string{}, map[string]string{}
	if sp.CPU > 0 {
		req["cpu"] = strconv.FormatInt(max(int64(sp.CPU)*1000/1024, 1), 10) + "m"
	}
	if sp.Memory > 0 {
		lim["memory"] = strconv.FormatInt(int64(sp.Memory), 10) + "Mi"
	}
	if sp.MemoryReservation > 0 {
		r := sp.MemoryReservation
		if sp.Memory > 0 {
			r = min(r, sp.Memory)
		}
		req["memory"] = strconv.FormatInt(int64(r), 10) + "Mi"
	}
	if len(req) > 0 {
		kc.Resources.Requests = req
	}
	if len(lim) > 0 {
		kc.Resources.Limits = lim
	}
	return kc, nil
}

// probeFor is a health check as an exec probe: ["CMD", exe, args...] runs
// exe, ["CMD-SHELL", cmd] runs cmd with /bin/sh -c, as Docker does; ["NONE"]
// is no probe.
func probeFor(h *runtime.HealthCheck) *Probe {
	var cmd []string
	switch h.Test[0] {
	case "CMD":
		cmd = h.Test[1:]
	case "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	case "NONE":
		return nil
	default:
		cmd = h.Test // a bare command, as ECS also accepts
	}
	if len(cmd) == 0 {
		return nil
	}
	secs := func(d time.Duration) int32 { return int32(max(d.Round(time.Second)/time.Second, 1)) }
	return &Probe{
		Exec:             &ExecAction{Command: cmd},
		PeriodSeconds:    secs(h.Interval),
		TimeoutSeconds:   secs(h.Timeout),
		FailureThreshold: int32(max(h.Retries, 1)),
		SuccessThreshold: 1,
	}
}
