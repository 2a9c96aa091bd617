package kubernetes

import (
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// These tests check only how a task maps onto a Pod spec; how the Pod then
// behaves is proven against a real cluster (test/kube).

func task(cs ...runtime.TaskContainer) *runtime.Task {
	return &runtime.Task{Name: "ecs-Worker_Fam-3-task-0123", ID: "0123456789abcdef0123456789abcdef", Cluster: "Prod_Cluster",
		Labels: map[string]string{"com.amazonaws.ecs.task-arn": "arn:aws:ecs:us-east-1:000000000000:task/Prod_Cluster/0123"}, Containers: cs}
}

func TestPodCarriesEveryContainerSetting(t *testing.T) {
	tk := task(runtime.TaskContainer{Name: "App_Main", Essential: true, StopTimeout: 7 * time.Second, Spec: runtime.Spec{
		Image: "worker:1", EntryPoint: []string{"/worker"}, Command: []string{"-v"}, Env: []string{"A=1", "B=x=y"},
		WorkingDir: "/work", User: "1000:2000", CPU: 512, Memory: 256, MemoryReservation: 128, ReadonlyRootFS: true,
		Mounts: []runtime.Mount{{Volume: "Scratch", ContainerPath: "/scratch"}, {Volume: "data", HostPath: "/srv/data", ContainerPath: "/data", ReadOnly: true}},
		Health: &runtime.HealthCheck{Test: []string{"CMD-SHELL", "test -f /ok"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: 10 * time.Second, Retries: 4},
	}})
	pod, names, err := podFor(tk, "wharf-prod-cluster")
	if err != nil {
		t.Fatal(err)
	}
	if pod.Name != "ecs-worker-fam-3-task-0123" || pod.Namespace != "wharf-prod-cluster" || names["App_Main"] != "app-main" {
		t.Errorf("pod %s/%s, container names %v", pod.Namespace, pod.Name, names)
	}
	if pod.Labels[labelManaged] != "true" || pod.Labels[labelTask] != tk.ID || pod.Labels[labelCluster] != "prod-cluster" {
		t.Errorf("labels %v", pod.Labels)
	}
	if pod.Annotations["com.amazonaws.ecs.task-arn"] != tk.Labels["com.amazonaws.ecs.task-arn"] || ECSName(pod, "app-main") != "App_Main" {
		t.Errorf("annotations %v", pod.Annotations)
	}
	sp := pod.Spec
	if !sp.HostNetwork || sp.RestartPolicy != "Never" || *sp.TerminationGracePeriodSeconds != 7 || *sp.AutomountServiceAccountToken {
		t.Errorf("pod spec: hostNetwork %v restart %v grace %d automount %v", sp.HostNetwork, sp.RestartPolicy, *sp.TerminationGracePeriodSeconds, *sp.AutomountServiceAccountToken)
	}
	c := sp.Containers[0]
	if strings.Join(c.Command, " ") != "/worker" || strings.Join(c.Args, " ") != "-v" || c.WorkingDir != "/work" || c.Image != "worker:1" || c.ImagePullPolicy != "IfNotPresent" {
		t.Errorf("container %+v", c)
	}
	if len(c.Env) != 2 || c.Env[1].Name != "B" || c.Env[1].Value != "x=y" {
		t.Errorf("env %v", c.Env)
	}
	sc := c.SecurityContext
	if *sc.RunAsUser != 1000 || *sc.RunAsGroup != 2000 || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("security context %+v", sc)
	}
	if cpu := c.Resources.Requests["cpu"]; cpu != "500m" {
		t.Errorf("cpu request %s, want 500m (512 units)", cpu)
	}
	if _, ok := c.Resources.Limits["cpu"]; ok {
		t.Errorf("cpu limit set: ECS cpu units are a share")
	}
	if m, _ := parseQuantity(c.Resources.Limits["memory"]); m != 256<<20 {
		t.Errorf("memory limit %s", c.Resources.Limits["memory"])
	}
	if m, _ := parseQuantity(c.Resources.Requests["memory"]); m != 128<<20 {
		t.Errorf("memory request %s", c.Resources.Requests["memory"])
	}
	if len(sp.Volumes) != 2 || sp.Volumes[0].Name != "scratch" || sp.Volumes[0].EmptyDir == nil || sp.Volumes[1].HostPath == nil || sp.Volumes[1].HostPath.Path != "/srv/data" {
		t.Errorf("volumes %+v", sp.Volumes)
	}
	if len(c.VolumeMounts) != 2 || c.VolumeMounts[0].MountPath != "/scratch" || !c.VolumeMounts[1].ReadOnly {
		t.Errorf("mounts %+v", c.VolumeMounts)
	}
	p := c.ReadinessProbe
	if p == nil || strings.Join(p.Exec.Command, "|") != "/bin/sh|-c|test -f /ok" || p.PeriodSeconds != 5 || p.TimeoutSeconds != 2 || p.FailureThreshold != 4 {
		t.Errorf("probe %+v", p)
	}
	if pod.Annotations[annStartPeriod+"app-main"] != "10" {
		t.Errorf("start period annotation %v", pod.Annotations)
	}
}

func TestDependenciesShapeThePod(t *testing.T) {
	tk := task(
		runtime.TaskContainer{Name: "migrate", Spec: runtime.Spec{Image: "m"}},
		runtime.TaskContainer{Name: "db", Spec: runtime.Spec{Image: "d", Health: &runtime.HealthCheck{Test: []string{"CMD", "/ok"}, Interval: time.Second, Retries: 3, StartPeriod: 4 * time.Second}}},
		runtime.TaskContainer{Name: "log", Spec: runtime.Spec{Image: "l"}},
		runtime.TaskContainer{Name: "app", Essential: true, Spec: runtime.Spec{Image: "a"}, DependsOn: []runtime.Dependency{
			{Container: "migrate", Condition: "SUCCESS"}, {Container: "db", Condition: "HEALTHY"}, {Container: "log", Condition: "START"}}},
	)
	pod, _, err := podFor(tk, "ns")
	if err != nil {
		t.Fatal(err)
	}
	var inits, regular []string
	for _, c := range pod.Spec.InitContainers {
		inits = append(inits, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		regular = append(regular, c.Name)
	}
	if strings.Join(inits, ",") != "migrate,db" || strings.Join(regular, ",") != "log,app" {
		t.Fatalf("init containers %v, containers %v; want migrate,db then log,app", inits, regular)
	}
	if pod.Spec.InitContainers[0].RestartPolicy != nil {
		t.Error("a SUCCESS dependency must run to completion, not be a sidecar")
	}
	db := pod.Spec.InitContainers[1]
	if db.RestartPolicy == nil || *db.RestartPolicy != "Always" || db.StartupProbe == nil || db.StartupProbe.FailureThreshold != 7 {
		t.Errorf("HEALTHY dependency: want a sidecar gated by its health check (4 s start period / 1 s + 3 retries), got %+v", db)
	}
}

func TestPodRefusesWhatKubernetesCannotRun(t *testing.T) {
	for name, tk := range map[string]*runtime.Task{
		"user name":          task(runtime.TaskContainer{Name: "a", Spec: runtime.Spec{Image: "a", User: "nobody"}}),
		"only init runnable": task(runtime.TaskContainer{Name: "a", Spec: runtime.Spec{Image: "a"}, DependsOn: []runtime.Dependency{{Container: "a", Condition: "COMPLETE"}}}),
	} {
		if _, _, err := podFor(tk, "ns"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNamesAreDNSLabels(t *testing.T) {
	for in, want := range map[string]string{
		"wharf-Prod_Cluster":               "wharf-prod-cluster",
		"wharf-" + strings.Repeat("x", 80): "wharf-" + strings.Repeat("x", 57),
		"__":                               "x",
	} {
		if got := dnsLabel(in); got != want {
			t.Errorf("dnsLabel(%q) = %q, want %q", in, got, want)
		}
	}
	long := task(runtime.TaskContainer{Name: "a", Spec: runtime.Spec{Image: "a"}})
	long.Name = "ecs-" + strings.Repeat("family", 20) + "-1-task-" + long.ID
	if got := podName(long); got != "ecs-"+long.ID {
		t.Errorf("long pod name %q", got)
	}
}
