// Command kube measures wharf's kubernetes runtime against Kubernetes itself
// on the same cluster, in one run:
//
//   - RunTask → RUNNING of a sleeping task (one Pod), against `kubectl run`
//     of the same image with the same Pod settings (host network, no restart,
//     IfNotPresent) until the Pod is Running;
//   - 100 tasks started at once (ten RunTask calls of ten) until all RUNNING,
//     against 100 Pods created at once by one `kubectl create` until all
//     Running; then all stopped (StopTask, `kubectl delete`) until gone.
//
// Latency is what a client sees: wharf polled with DescribeTasks, the Pods
// with the API server, every 5 ms. It prints medians, p90s and ratios; it
// asserts nothing.
//
//	go run ./bench/kube -kubeconfig "$(scripts/kube-up)" [-n 10] [-kubectl PATH]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kube "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/test/images"
)

const peerNS = "wharf-bench-peer"

func main() {
	n := flag.Int("n", 10, "runs of the single-task measurement")
	many := flag.Int("many", 100, "tasks started at once")
	kc := flag.String("kubeconfig", os.Getenv("WHARF_KUBECONFIG"), "the cluster's kubeconfig (scripts/kube-up prints it)")
	kubectl := flag.String("kubectl", "kubectl", "the kubectl to time")
	flag.Parse()
	if *kc == "" {
		fail(fmt.Errorf("-kubeconfig (or WHARF_KUBECONFIG) is required"))
	}
	ctx := context.Background()
	image, err := images.Docker("task")
	if err != nil {
		fail(err)
	}
	_, file, _, _ := goruntime.Caller(0)
	if out, err := exec.Command(filepath.Join(filepath.Dir(file), "..", "..", "scripts", "kube-load"), image).CombinedOutput(); err != nil {
		fail(fmt.Errorf("kube-load: %v: %s", err, out))
	}
	rc, err := clientcmd.BuildConfigFromFlags("", *kc)
	if err != nil {
		fail(err)
	}
	rc.QPS, rc.Burst = 200, 400
	cs, err := kube.NewForConfig(rc)
	if err != nil {
		fail(err)
	}
	k := func(args ...string) []string { return append([]string{"--kubeconfig", *kc}, args...) }
	exec.Command(*kubectl, k("create", "namespace", peerNS)...).Run()
	defer exec.Command(*kubectl, k("delete", "namespace", peerNS, "--wait=false")...).Run()

	c, stop := start(ctx, *kc)
	defer stop()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
		fail(err)
	}
	defer exec.Command(*kubectl, k("delete", "namespace", "wharf-bench", "--wait=false")...).Run()
	out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bench"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String(image), Command: []string{"sleep"}, StopTimeout: aws.Int32(2)}}})
	if err != nil {
		fail(err)
	}
	td := aws.ToString(out.TaskDefinition.TaskDefinitionArn)

	overrides := `{"spec":{"hostNetwork":true,"terminationGracePeriodSeconds":2,"automountServiceAccountToken":false,"enableServiceLinks":false}}`
	var kRun, wRun []time.Duration
	for i := range *n {
		name := fmt.Sprintf("peer-%d", i)
		t0 := time.Now()
		run(*kubectl, k("run", name, "-n", peerNS, "--image", image, "--image-pull-policy", "IfNotPresent", "--restart", "Never",
			"--overrides", overrides, "--", "sleep")...)
		waitPods(ctx, cs, peerNS, "run="+name, 1)
		kRun = append(kRun, time.Since(t0))
		run(*kubectl, k("delete", "pod", name, "-n", peerNS, "--grace-period", "0", "--wait=false")...)

		t0 = time.Now()
		arns := runTasks(ctx, c, td, 1)
		waitTasks(ctx, c, arns, "RUNNING")
		wRun = append(wRun, time.Since(t0))
		stopTasks(ctx, c, arns)
	}

	// Many at once: one kubectl create of every Pod, against RunTask calls
	// of ten made together.
	var manifest bytes.Buffer
	for i := range *many {
		fmt.Fprintf(&manifest, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"many-%d","namespace":%q,"labels":{"bench":"many"}},
"spec":{"hostNetwork":true,"restartPolicy":"Never","terminationGracePeriodSeconds":2,"automountServiceAccountToken":false,"enableServiceLinks":false,
"containers":[{"name":"main","image":%q,"imagePullPolicy":"IfNotPresent","args":["sleep"]}]}}
`, i, peerNS, image)
	}
	t0 := time.Now()
	cmd := exec.Command(*kubectl, k("create", "-f", "-")...)
	cmd.Stdin = &manifest
	if out, err := cmd.CombinedOutput(); err != nil {
		fail(fmt.Errorf("kubectl create: %v: %s", err, out))
	}
	waitPods(ctx, cs, peerNS, "bench=many", *many)
	kMany := time.Since(t0)
	t0 = time.Now()
	run(*kubectl, k("delete", "pods", "-n", peerNS, "-l", "bench=many", "--wait=true")...)
	kManyStop := time.Since(t0)

	t0 = time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var arns []string
	for range *many / 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := runTasks(ctx, c, td, 10)
			mu.Lock()
			arns = append(arns, a...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	waitTasks(ctx, c, arns, "RUNNING")
	wMany := time.Since(t0)
	t0 = time.Now()
	stopTasks(ctx, c, arns)
	wManyStop := time.Since(t0)

	fmt.Printf("%-48s %10s %10s\n", fmt.Sprintf("measurement (n=%d)", *n), "median_ms", "p90_ms")
	row := func(name string, d []time.Duration) {
		fmt.Printf("%-48s %10.1f %10.1f\n", name, ms(pct(d, 50)), ms(pct(d, 90)))
	}
	row("kubectl run → Pod Running", kRun)
	row("wharf kubernetes: RunTask → RUNNING", wRun)
	fmt.Printf("%-48s %10.1f\n", fmt.Sprintf("kubectl create %d Pods → all Running", *many), ms(kMany))
	fmt.Printf("%-48s %10.1f\n", fmt.Sprintf("wharf: %d tasks → all RUNNING", *many), ms(wMany))
	fmt.Printf("%-48s %10.1f\n", fmt.Sprintf("kubectl delete %d Pods → gone", *many), ms(kManyStop))
	fmt.Printf("%-48s %10.1f\n", fmt.Sprintf("wharf: %d StopTask → all STOPPED", *many), ms(wManyStop))
	fmt.Printf("\nratios (wharf vs kubectl): one task RUNNING %.2fx, %d at once %.2fx (target: within 1.3x)\n",
		ms(pct(wRun, 50))/ms(pct(kRun, 50)), *many, ms(wMany)/ms(kMany))
}

func start(ctx context.Context, kc string) (*ecs.Client, func()) {
	cfg, err := config.Parse([]string{"--listen", "127.0.0.1:0", "--ephemeral", "--runtime", "kubernetes", "--kubeconfig", kc, "--log-level", "warn"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		fail(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	w, err := app.Start(cctx, cfg, slog.New(slog.DiscardHandler), "bench")
	if err != nil {
		fail(err)
	}
	c := ecs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + w.Addr())})
	return c, func() { cancel(); w.Wait() }
}

func runTasks(ctx context.Context, c *ecs.Client, td string, count int) []string {
	out, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("bench"), TaskDefinition: &td, Count: aws.Int32(int32(count))})
	if err != nil {
		fail(err)
	}
	var arns []string
	for _, t := range out.Tasks {
		arns = append(arns, aws.ToString(t.TaskArn))
	}
	return arns
}

func stopTasks(ctx context.Context, c *ecs.Client, arns []string) {
	var wg sync.WaitGroup
	for _, a := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("bench"), Task: aws.String(a)}); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	waitTasks(ctx, c, arns, "STOPPED")
}

func waitTasks(ctx context.Context, c *ecs.Client, arns []string, status string) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		done := 0
		for i := 0; i < len(arns); i += 100 {
			out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("bench"), Tasks: arns[i:min(i+100, len(arns))]})
			if err != nil {
				fail(err)
			}
			for _, t := range out.Tasks {
				if s := aws.ToString(t.LastStatus); s == status {
					done++
				} else if s == "STOPPED" {
					fail(fmt.Errorf("task %s stopped: %s", aws.ToString(t.TaskArn), aws.ToString(t.StoppedReason)))
				}
			}
		}
		if done == len(arns) {
			return
		}
		if time.Now().After(deadline) {
			fail(fmt.Errorf("%d of %d tasks %s after 5 minutes", done, len(arns), status))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitPods(ctx context.Context, cs kube.Interface, ns, selector string, want int) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			fail(err)
		}
		n := 0
		for _, p := range l.Items {
			if p.Status.Phase == corev1.PodRunning {
				n++
			}
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			fail(fmt.Errorf("%d of %d Pods %s Running after 5 minutes", n, want, selector))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func run(name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		fail(fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out))
	}
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/kube:", err)
	os.Exit(1)
}
