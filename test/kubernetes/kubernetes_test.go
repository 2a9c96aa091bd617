// Package kubernetes_test runs ECS tasks through wharf's real server on a
// real Kubernetes cluster (--runtime kubernetes), driven by aws-sdk-go-v2, and
// checks the Pods with client-go.
//
// The cluster is the one WHARF_KUBECONFIG names (scripts/kube-up prints it;
// scripts/test sets it once its cluster is up). Without it the tests fail,
// unless WHARF_KUBE=later says scripts/test runs them later, with a cluster.
package kubernetes_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kube "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wharf-dev/wharf/internal/wharftest"
	"github.com/wharf-dev/wharf/test/images"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wharftest.Cleanup()
	os.Exit(code)
}

// deadline bounds every wait on the cluster: a Pod starts in seconds, but the
// machines CI runs on are shared and slow.
const deadline = 3 * time.Minute

// kubeconfig is the cluster's kubeconfig, or the test fails (skips only when
// WHARF_KUBE=later says scripts/test runs it later with a cluster).
func kubeconfig(t *testing.T) string {
	t.Helper()
	kc := os.Getenv("WHARF_KUBECONFIG")
	if kc == "" {
		if os.Getenv("WHARF_KUBE") == "later" {
			t.Skip("WHARF_KUBE=later: scripts/test runs this once its cluster is up")
		}
		t.Fatal("needs a Kubernetes cluster: set WHARF_KUBECONFIG to its kubeconfig (scripts/kube-up prints one)")
	}
	return kc
}

// client is a client-go clientset for the cluster, to look at the Pods
// behind wharf's back.
func client(t *testing.T, kc string) kube.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kube.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

var loaded struct {
	once sync.Once
	ref  string
	err  error
}

// taskImage builds test/images/task FROM scratch into Docker and loads it
// into the cluster's containerd (scripts/kube-load), once.
func taskImage(t *testing.T) string {
	t.Helper()
	loaded.once.Do(func() {
		ref, err := images.Docker("task")
		if err != nil {
			loaded.err = err
			return
		}
		_, file, _, _ := goruntime.Caller(0)
		load := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "kube-load")
		if out, err := exec.Command(load, ref).CombinedOutput(); err != nil {
			loaded.err = fmt.Errorf("scripts/kube-load %s: %v: %s", ref, err, out)
			return
		}
		loaded.ref = ref
	})
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
	return loaded.ref
}

func suffix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// cluster creates an ECS cluster and removes its namespace (and so any Pod
// left) when the test ends.
func cluster(t *testing.T, c *ecs.Client, cs kube.Interface, name string) string {
	t.Helper()
	if _, err := c.CreateCluster(context.Background(), &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := cs.CoreV1().Namespaces().Delete(context.Background(), "wharf-"+name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Logf("delete namespace wharf-%s: %v", name, err)
		}
	})
	return name
}

func register(t *testing.T, c *ecs.Client, family string, cds ...ecstypes.ContainerDefinition) string {
	t.Helper()
	out, err := c.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: cds})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func runTask(t *testing.T, c *ecs.Client, clusterName, td string) string {
	t.Helper()
	out, err := c.RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String(clusterName), TaskDefinition: aws.String(td)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 1 {
		t.Fatalf("RunTask: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// waitTask polls DescribeTasks until ok accepts the task.
func waitTask(t *testing.T, c *ecs.Client, clusterName, arn, what string, ok func(ecstypes.Task) bool) ecstypes.Task {
	t.Helper()
	var last ecstypes.Task
	for end := time.Now().Add(deadline); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		out, err := c.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(clusterName), Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) == 1 {
			last = out.Tasks[0]
			if ok(last) {
				return last
			}
		}
	}
	t.Fatalf("task %s never %s; last seen %s", arn, what, describe(last))
	return last
}

func status(s string) func(ecstypes.Task) bool {
	return func(tk ecstypes.Task) bool { return aws.ToString(tk.LastStatus) == s }
}

func describe(tk ecstypes.Task) string {
	b, _ := json.Marshal(tk)
	return string(b)
}

// pod is the Pod behind a container's runtime id (namespace/pod/container).
func pod(t *testing.T, cs kube.Interface, runtimeID string) (*corev1.Pod, error) {
	t.Helper()
	p := strings.Split(runtimeID, "/")
	if len(p) != 3 {
		t.Fatalf("runtime id %q is not namespace/pod/container", runtimeID)
	}
	return cs.CoreV1().Pods(p[0]).Get(context.Background(), p[1], metav1.GetOptions{})
}

// TestTasksOnKubernetesReportExitsPullFailuresHealthAndLogs: a container that
// exits 3, an image that cannot be pulled and a healthy long-running task,
// each a Pod, reach DescribeTasks, CloudWatch Logs and the Task State Change
// events a rule delivers to SQS, as on AWS.
func TestTasksOnKubernetesReportExitsPullFailuresHealthAndLogs(t *testing.T) {
	kc := kubeconfig(t)
	cs := client(t, kc)
	image := taskImage(t)
	srv := wharftest.Start(t, "--runtime", "kubernetes", "--kubeconfig", kc)
	cfg := srv.Config()
	ctx := context.Background()
	c, q, eb, lg := ecs.NewFromConfig(cfg), sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	name := cluster(t, c, cs, "k8s-tasks-"+suffix())

	// Every STOPPED task of the cluster goes to a queue.
	qu, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-stopped")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qu.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(
		`{"source":["aws.ecs"],"detail-type":["ECS Task State Change"],"detail":{"lastStatus":["STOPPED"],"clusterArn":[{"suffix":"/` + name + `"}]}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(qa.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	group := "/k8s/" + name
	if _, err := lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	logs := &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{"awslogs-group": group, "awslogs-stream-prefix": "k8s"}}

	exit3 := runTask(t, c, name, register(t, c, name+"-exit3", ecstypes.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Command: []string{"exit", "3"}, LogConfiguration: logs}))
	nopull := runTask(t, c, name, register(t, c, name+"-nopull", ecstypes.ContainerDefinition{
		// A registry on a loopback port nothing listens on: the pull fails
		// without leaving the machine.
		Name: aws.String("app"), Image: aws.String("127.0.0.1:1/wharf-test/missing:1"), Essential: aws.Bool(true)}))
	healthy := runTask(t, c, name, register(t, c, name+"-healthy", ecstypes.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Command: []string{"sleep"}, StopTimeout: aws.Int32(5),
		HealthCheck: &ecstypes.HealthCheck{Command: []string{"CMD", "/task", "exit", "0"}, Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(3)}}))

	// The long-running task is a Pod on the host network, and its health
	// check, a probe, makes it HEALTHY.
	tk := waitTask(t, c, name, healthy, "HEALTHY", func(tk ecstypes.Task) bool { return tk.HealthStatus == ecstypes.HealthStatusHealthy })
	if aws.ToString(tk.LastStatus) != "RUNNING" || tk.Containers[0].HealthStatus != ecstypes.HealthStatusHealthy {
		t.Errorf("healthy task: %s", describe(tk))
	}
	p, err := pod(t, cs, aws.ToString(tk.Containers[0].RuntimeId))
	if err != nil {
		t.Fatalf("the RUNNING task's Pod: %v", err)
	}
	if !p.Spec.HostNetwork || p.Namespace != "wharf-"+name || p.Labels["wharf.managed"] != "true" || p.Status.Phase != corev1.PodRunning {
		t.Errorf("Pod %s/%s: hostNetwork %v labels %v phase %s", p.Namespace, p.Name, p.Spec.HostNetwork, p.Labels, p.Status.Phase)
	}
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(name), Task: aws.String(healthy), Reason: aws.String("test done")}); err != nil {
		t.Fatal(err)
	}

	tk = waitTask(t, c, name, exit3, "STOPPED", status("STOPPED"))
	if tk.StopCode != ecstypes.TaskStopCodeEssentialContainerExited || aws.ToInt32(tk.Containers[0].ExitCode) != 3 {
		t.Errorf("exit 3 task: %s", describe(tk))
	}
	if id := aws.ToString(tk.Containers[0].RuntimeId); !strings.HasPrefix(id, "wharf-"+name+"/") {
		t.Errorf("runtime id %q: not a container of a Pod in wharf-%s", id, name)
	}
	tk = waitTask(t, c, name, nopull, "STOPPED", status("STOPPED"))
	if tk.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(tk.StoppedReason), "CannotPullContainerError: ") ||
		!strings.HasPrefix(aws.ToString(tk.Containers[0].Reason), "CannotPullContainerError: ") || tk.Containers[0].ExitCode != nil {
		t.Errorf("unpullable image: %s", describe(tk))
	}
	tk = waitTask(t, c, name, healthy, "STOPPED", status("STOPPED"))
	if tk.StopCode != ecstypes.TaskStopCodeUserInitiated || aws.ToString(tk.StoppedReason) != "test done" || aws.ToInt32(tk.Containers[0].ExitCode) != 0 {
		t.Errorf("stopped task (SIGTERM, then exit 0): %s", describe(tk))
	}
	if _, err := pod(t, cs, aws.ToString(tk.Containers[0].RuntimeId)); !apierrors.IsNotFound(err) {
		t.Errorf("the STOPPED task's Pod is still there (%v)", err)
	}

	// awslogs: what the container wrote is in CloudWatch Logs.
	stream := "k8s/app/" + exit3[strings.LastIndex(exit3, "/")+1:]
	ev, err := lg.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("log stream %s: %v", stream, err)
	}
	var lines []string
	for _, e := range ev.Events {
		lines = append(lines, aws.ToString(e.Message))
	}
	if !strings.Contains(strings.Join(lines, "\n"), "exiting with 3") {
		t.Errorf("log stream %s: %q, want the container's output", stream, lines)
	}

	// The Task State Change events carry the exit code and the pull failure.
	want := map[string]func(map[string]any) bool{
		exit3: func(d map[string]any) bool {
			cs, _ := d["containers"].([]any)
			c0, _ := firstOf(cs).(map[string]any)
			return d["stopCode"] == "EssentialContainerExited" && c0["exitCode"] == float64(3)
		},
		nopull: func(d map[string]any) bool {
			r, _ := d["stoppedReason"].(string)
			return d["stopCode"] == "TaskFailedToStart" && strings.HasPrefix(r, "CannotPullContainerError: ")
		},
	}
	for end := time.Now().Add(deadline); len(want) > 0 && time.Now().Before(end); {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qu.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var ev struct {
				DetailType string         `json:"detail-type"`
				Detail     map[string]any `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("event %s: %v", aws.ToString(m.Body), err)
			}
			arn, _ := ev.Detail["taskArn"].(string)
			if ok := want[arn]; ok != nil && ev.DetailType == "ECS Task State Change" {
				if !ok(ev.Detail) {
					t.Errorf("STOPPED event of %s: %s", arn, aws.ToString(m.Body))
				}
				delete(want, arn)
			}
		}
	}
	for arn := range want {
		t.Errorf("no STOPPED Task State Change event for %s", arn)
	}
}

func firstOf(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

// TestServiceReplacesAPodDeletedBehindWharfsBack: deleting a service task's
// Pod with the Kubernetes API stops the task (its essential container is
// gone), and the service controller starts another Pod.
func TestServiceReplacesAPodDeletedBehindWharfsBack(t *testing.T) {
	kc := kubeconfig(t)
	cs := client(t, kc)
	image := taskImage(t)
	srv := wharftest.Start(t, "--runtime", "kubernetes", "--kubeconfig", kc)
	c := ecs.NewFromConfig(srv.Config())
	ctx := context.Background()
	name := cluster(t, c, cs, "k8s-svc-"+suffix())
	td := register(t, c, name, ecstypes.ContainerDefinition{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Command: []string{"sleep"}, StopTimeout: aws.Int32(5)})
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(name), ServiceName: aws.String("svc"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String(name), Service: aws.String("svc"), Force: aws.Bool(true)})
	})
	running := func() []ecstypes.Task {
		l, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(name), DesiredStatus: ecstypes.DesiredStatusRunning})
		if err != nil || len(l.TaskArns) == 0 {
			return nil
		}
		d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(name), Tasks: l.TaskArns})
		if err != nil {
			t.Fatal(err)
		}
		var out []ecstypes.Task
		for _, tk := range d.Tasks {
			if aws.ToString(tk.LastStatus) == "RUNNING" {
				out = append(out, tk)
			}
		}
		return out
	}
	var first ecstypes.Task
	for end := time.Now().Add(deadline); ; time.Sleep(250 * time.Millisecond) {
		if r := running(); len(r) == 1 {
			first = r[0]
			break
		}
		if time.Now().After(end) {
			t.Fatal("the service's task never ran")
		}
	}
	id := aws.ToString(first.Containers[0].RuntimeId)
	p, err := pod(t, cs, id)
	if err != nil {
		t.Fatalf("the task's Pod: %v", err)
	}
	if err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	old := waitTask(t, c, name, aws.ToString(first.TaskArn), "STOPPED after its Pod was deleted", status("STOPPED"))
	if old.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		t.Errorf("the task whose Pod was deleted: %s", describe(old))
	}
	var next ecstypes.Task
	for end := time.Now().Add(deadline); ; time.Sleep(250 * time.Millisecond) {
		if r := running(); len(r) == 1 && aws.ToString(r[0].TaskArn) != aws.ToString(first.TaskArn) {
			next = r[0]
			break
		}
		if time.Now().After(end) {
			t.Fatal("the service never replaced its task")
		}
	}
	np, err := pod(t, cs, aws.ToString(next.Containers[0].RuntimeId))
	if err != nil {
		t.Fatalf("the replacement's Pod: %v", err)
	}
	if np.UID == p.UID || np.Status.Phase != corev1.PodRunning {
		t.Errorf("replacement Pod %s (phase %s) is not a new running Pod", np.Name, np.Status.Phase)
	}
}

// TestRestartedWharfReadoptsRunningPods: a wharf killed while its task runs
// leaves the Pod running; the next wharf on the same data directory
// re-adopts it (the same Pod, still RUNNING) and can stop it.
func TestRestartedWharfReadoptsRunningPods(t *testing.T) {
	kc := kubeconfig(t)
	cs := client(t, kc)
	image := taskImage(t)
	bin, dir := wharftest.Binary(t), t.TempDir()
	args := []string{"--data-dir", dir, "--runtime", "kubernetes", "--kubeconfig", kc}
	w := wharftest.Serve(t, bin, "127.0.0.1:0", args...)
	addr := w.Addr // the restart's, as the first's
	c := ecs.NewFromConfig(w.Config())
	ctx := context.Background()
	name := cluster(t, c, cs, "k8s-adopt-"+suffix())
	td := register(t, c, name, ecstypes.ContainerDefinition{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Command: []string{"sleep"}, StopTimeout: aws.Int32(5)})
	arn := runTask(t, c, name, td)
	tk := waitTask(t, c, name, arn, "RUNNING", status("RUNNING"))
	before, err := pod(t, cs, aws.ToString(tk.Containers[0].RuntimeId))
	if err != nil {
		t.Fatal(err)
	}

	w.Kill() // SIGKILL: nothing is handed over
	w = wharftest.Serve(t, bin, addr, args...)
	c = ecs.NewFromConfig(w.Config())
	tk = waitTask(t, c, name, arn, "RUNNING after the restart", status("RUNNING"))
	after, err := pod(t, cs, aws.ToString(tk.Containers[0].RuntimeId))
	if err != nil || after.UID != before.UID {
		t.Fatalf("after the restart: Pod %v (err %v), want the same Pod %s", after, err, before.UID)
	}
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(name), Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	tk = waitTask(t, c, name, arn, "STOPPED", status("STOPPED"))
	if tk.StopCode != ecstypes.TaskStopCodeUserInitiated || aws.ToInt32(tk.Containers[0].ExitCode) != 0 {
		t.Errorf("the re-adopted task, stopped: %s", describe(tk))
	}
	if _, err := pod(t, cs, aws.ToString(tk.Containers[0].RuntimeId)); !apierrors.IsNotFound(err) {
		t.Errorf("the stopped task's Pod is still there (%v)", err)
	}
}
