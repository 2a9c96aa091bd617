package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

// server is one wharf started by the benchmark, on a data directory of its
// own (unless in memory) that restart reuses.
type server struct {
	bin, dir string
	args     []string
	port     int
	cmd      *exec.Cmd
	base     string
	pid      int
}

// start runs bin serve with extra flags and waits for its health answer.
func start(bin string, inMemory bool, extra ...string) (*server, error) {
	dir, err := os.MkdirTemp("", "wharf-scale")
	if err != nil {
		return nil, err
	}
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir, port: port, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	s.args = []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn"}
	if inMemory {
		s.args = append(s.args, "--ephemeral")
	} else {
		s.args = append(s.args, "--data-dir", filepath.Join(dir, "data"))
	}
	s.args = append(s.args, extra...)
	if _, err := s.run(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// run starts the process and returns the time from its start to its first
// health answer.
func (s *server) run() (time.Duration, error) {
	s.cmd = exec.Command(s.bin, s.args...)
	t0 := time.Now()
	if err := s.cmd.Start(); err != nil {
		return 0, err
	}
	s.pid = s.cmd.Process.Pid
	hc := &http.Client{Timeout: time.Second}
	for {
		if resp, err := hc.Get(s.base + "/_wharf/health"); err == nil {
			resp.Body.Close()
			return time.Since(t0), nil
		}
		if time.Since(t0) > 2*time.Minute {
			s.kill()
			return 0, fmt.Errorf("wharf did not start")
		}
		time.Sleep(time.Millisecond)
	}
}

// kill stops the process (SIGTERM, then SIGKILL after 15 s).
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// restart stops wharf and starts it again on the same data.
func (s *server) restart() (time.Duration, error) {
	s.kill()
	return s.run()
}

func (s *server) close() {
	s.kill()
	os.RemoveAll(s.dir)
}

// config is the SDK's configuration for s. Retries stay on (the SDK's
// default 3 attempts): under load the Go SDK now and then fails to read a
// response on its own side ("use of closed network connection", seen by
// bench/peers too), which is not what these curves measure.
func (s *server) config() aws.Config {
	return aws.Config{BaseEndpoint: aws.String(s.base), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
}

// timed runs f *samples times and summarises latency, the server's CPU per
// call and its RSS after.
func (s *server) timed(f func() error) (point, error) {
	var lat []time.Duration
	cpu0 := benchkit.ProcCPU(s.pid)
	for i := 0; i < *samples; i++ {
		t0 := time.Now()
		if err := f(); err != nil {
			return point{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	cpu := (benchkit.ProcCPU(s.pid) - cpu0) / time.Duration(*samples)
	return summarise(lat, cpu, benchkit.ProcRSS(s.pid)), nil
}

// parallel calls f(i) for i in [0, n) from 8 goroutines, stopping at the
// first error.
func parallel(n int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// measureECS fills a cluster with n stopped tasks (their image cannot be
// pulled by the process runtime, so each stops as it starts), runs 5 tasks
// that keep running beside them, and times ListTasks, DescribeClusters and,
// once the 5 are stopped too, restarting wharf on the store.
func measureECS(bin string, n int) (map[string]point, error) {
	srv, err := start(bin, *ephemeral, "--runtime", "process")
	if err != nil {
		return nil, err
	}
	defer srv.close()
	c := ecs.NewFromConfig(srv.config())
	ctx := context.Background()
	cluster := aws.String("scale")
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: cluster}); err != nil {
		return nil, err
	}
	reg := func(family, image string, command ...string) error {
		_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: &family,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: &image, Command: command, Essential: aws.Bool(true)}}})
		return err
	}
	if err := reg("gone", "wharf-scale/absent:1"); err != nil {
		return nil, err
	}
	if err := reg("sleeper", "/bin/sleep", "3600"); err != nil {
		return nil, err
	}
	counts := func() (running, pending int32, err error) {
		out, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"scale"}})
		if err != nil || len(out.Clusters) != 1 {
			return 0, 0, fmt.Errorf("DescribeClusters: %v", err)
		}
		return out.Clusters[0].RunningTasksCount, out.Clusters[0].PendingTasksCount, nil
	}
	waitCounts := func(running int32) error {
		for t0 := time.Now(); time.Since(t0) < 10*time.Minute; time.Sleep(200 * time.Millisecond) {
			r, p, err := counts()
			if err != nil {
				return err
			}
			if r == running && p == 0 {
				return nil
			}
		}
		return fmt.Errorf("cluster never settled at %d running", running)
	}
	fmt.Fprintf(os.Stderr, "  %d tasks...\n", n)
	if err := parallel(n/10, func(int) error {
		_, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: cluster, TaskDefinition: aws.String("gone"), Count: aws.Int32(10)})
		return err
	}); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	if err := waitCounts(0); err != nil {
		return nil, err
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: cluster, TaskDefinition: aws.String("sleeper"), Count: aws.Int32(5)})
	if err != nil {
		return nil, err
	}
	if err := waitCounts(5); err != nil {
		return nil, err
	}
	list := func(in ecs.ListTasksInput, want int) func() error {
		return func() error {
			in.Cluster = cluster
			out, err := c.ListTasks(ctx, &in)
			if err == nil && len(out.TaskArns) != want {
				err = fmt.Errorf("ListTasks(%+v) listed %d, want %d", in, len(out.TaskArns), want)
			}
			return err
		}
	}
	pts := map[string]point{}
	for _, cv := range []struct {
		name string
		f    func() error
	}{
		{"ecs-list-running", list(ecs.ListTasksInput{}, 5)},
		{"ecs-list-family", list(ecs.ListTasksInput{Family: aws.String("sleeper")}, 5)},
		{"ecs-list-stopped-page", list(ecs.ListTasksInput{DesiredStatus: ecstypes.DesiredStatusStopped, MaxResults: aws.Int32(100)}, 100)},
		{"ecs-describe-clusters", func() error {
			r, _, err := counts()
			if err == nil && r != 5 {
				err = fmt.Errorf("%d running, want 5", r)
			}
			return err
		}},
	} {
		if pts[cv.name], err = srv.timed(cv.f); err != nil {
			return nil, fmt.Errorf("%s: %w", cv.name, err)
		}
	}
	for _, t := range run.Tasks {
		if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: cluster, Task: t.TaskArn}); err != nil {
			return nil, err
		}
	}
	if err := waitCounts(0); err != nil {
		return nil, err
	}
	if !*ephemeral {
		var lat []time.Duration
		var cpu time.Duration
		for range 5 {
			d, err := srv.restart()
			if err != nil {
				return nil, fmt.Errorf("restart: %w", err)
			}
			lat = append(lat, d)
			cpu += benchkit.ProcCPU(srv.pid)
		}
		pts["ecs-restart"] = summarise(lat, cpu/5, benchkit.ProcRSS(srv.pid))
	}
	return pts, nil
}

// measureTaskDefs registers n revisions of one family and 3 of another and
// times the first page of the big family's revisions and of the families.
func measureTaskDefs(bin string, n int) (map[string]point, error) {
	srv, err := start(bin, *ephemeral)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	c := ecs.NewFromConfig(srv.config())
	ctx := context.Background()
	reg := func(family string) error {
		_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: &family,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("app:1")}}})
		return err
	}
	fmt.Fprintf(os.Stderr, "  %d task definitions...\n", n)
	if err := parallel(n, func(int) error { return reg("big") }); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	for range 3 {
		if err := reg("small"); err != nil {
			return nil, err
		}
	}
	pts := map[string]point{}
	if pts["ecs-list-taskdefs"], err = srv.timed(func() error {
		out, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("big")})
		if err == nil && len(out.TaskDefinitionArns) != 100 {
			err = fmt.Errorf("ListTaskDefinitions listed %d", len(out.TaskDefinitionArns))
		}
		return err
	}); err != nil {
		return nil, err
	}
	if pts["ecs-list-families"], err = srv.timed(func() error {
		out, err := c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{})
		if err == nil && !slices.Equal(out.Families, []string{"big", "small"}) {
			err = fmt.Errorf("ListTaskDefinitionFamilies = %v", out.Families)
		}
		return err
	}); err != nil {
		return nil, err
	}
	return pts, nil
}

// measureEvents puts n rules on the default bus (in memory: the matching
// index is in memory either way, and PutRule commits one at a time), then
// times a PutEvents that follows a change of one rule, and one that follows
// nothing.
func measureEvents(bin string, n int) (map[string]point, error) {
	srv, err := start(bin, true)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	c := eventbridge.NewFromConfig(srv.config())
	ctx := context.Background()
	rule := func(i int, id string) error {
		_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r" + strconv.Itoa(i)),
			EventPattern: aws.String(`{"source":["bench.scale"],"detail":{"id":["` + id + `"]}}`)})
		return err
	}
	fmt.Fprintf(os.Stderr, "  %d rules...\n", n)
	if err := parallel(n, func(i int) error { return rule(i, "id"+strconv.Itoa(i)) }); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	put := func() error {
		out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("bench.scale"), DetailType: aws.String("t"), Detail: aws.String(`{"id":"id1"}`)}}})
		if err == nil && out.FailedEntryCount != 0 {
			err = fmt.Errorf("PutEvents failed %d", out.FailedEntryCount)
		}
		return err
	}
	pts := map[string]point{}
	if pts["events-put"], err = srv.timed(put); err != nil {
		return nil, err
	}
	// Each sample changes rule r0's pattern, then times the event.
	var lat []time.Duration
	cpu0 := benchkit.ProcCPU(srv.pid)
	for i := 0; i < *samples; i++ {
		if err := rule(0, "changed"+strconv.Itoa(i)); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := put(); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	pts["events-put-after-rule-change"] = summarise(lat, (benchkit.ProcCPU(srv.pid)-cpu0)/time.Duration(*samples), benchkit.ProcRSS(srv.pid))
	return pts, nil
}

// measureCloudWatch stores one datum of each of n metrics that differ by a
// QueueName dimension and times ListMetrics filtered on one queue.
func measureCloudWatch(bin string, n int) (map[string]point, error) {
	srv, err := start(bin, *ephemeral)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	c := cloudwatch.NewFromConfig(srv.config())
	ctx := context.Background()
	fmt.Fprintf(os.Stderr, "  %d metrics...\n", n)
	if err := parallel((n+999)/1000, func(b int) error {
		var data []cwtypes.MetricDatum
		for i := b * 1000; i < min(n, (b+1)*1000); i++ {
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Depth"), Value: aws.Float64(1),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("q" + strconv.Itoa(i))}}})
		}
		_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Scale"), MetricData: data})
		return err
	}); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	pts := map[string]point{}
	if pts["cw-list-metrics-dimension"], err = srv.timed(func() error {
		out, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("Scale"),
			Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("QueueName"), Value: aws.String("q7")}}})
		if err == nil && len(out.Metrics) != 1 {
			err = fmt.Errorf("ListMetrics listed %d", len(out.Metrics))
		}
		return err
	}); err != nil {
		return nil, err
	}
	return pts, nil
}
