// Command ecsservice measures wharf's ECS service controller:
//
//   - controller cost: N services of T tasks each (host processes, the
//     process runtime), driven by ECS's real task service in process: time
//     for all N×T tasks to be RUNNING, the wall and CPU time of one
//     reconciliation pass over all of them in steady state, and the time for
//     every service to converge after each is scaled out by one;
//   - the API beside moto's server in the same run: CreateService and
//     DescribeServices latency through HTTP with the Go SDK (moto records
//     services but runs no tasks). Skipped for wharf while ECS services are
//     not wired into wharf's server.
//
// It prints medians and ratios; it asserts nothing.
//
//	go run ./bench/ecsservice [-services 100] [-tasks 5] [-n 200]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/runtime/process"
	ecssvc "github.com/wharf-dev/wharf/internal/service/ecs"
	"github.com/wharf-dev/wharf/internal/service/ecsservice"
	"github.com/wharf-dev/wharf/internal/store"
)

func main() {
	services := flag.Int("services", 100, "services in the controller measurement")
	tasks := flag.Int("tasks", 5, "tasks per service")
	n := flag.Int("n", 200, "API calls of each kind")
	flag.Parse()
	if err := controller(*services, *tasks); err != nil {
		fail(err)
	}
	if err := api(*n); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ecsservice bench:", err)
	os.Exit(1)
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func controller(nServices, nTasks int) error {
	fmt.Printf("controller: %d services × %d tasks on the process runtime\n", nServices, nTasks)
	ctx, cancel := context.WithCancel(awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "123456789012", Region: "us-east-1"}))
	defer cancel()
	st := store.OpenMemory()
	runner := process.New("sleep") // the benchmark runs sleep as its image
	defer runner.Close()
	tk, err := ecssvc.New(ecssvc.Options{Store: st, Runner: runner, Account: "123456789012", Region: "us-east-1", Endpoint: "127.0.0.1:1"})
	if err != nil {
		return err
	}
	go tk.Run(ctx)
	svcs := ecsservice.New(ecsservice.Options{Store: st, Tasks: tk, Account: "123456789012", Region: "us-east-1", Interval: 100 * time.Millisecond})
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	done := make(chan struct{})
	go func() { svcs.Run(runCtx); close(done) }()
	if _, err := tk.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: awsapi.String("c")}); err != nil {
		return err
	}
	if _, err := tk.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{Family: awsapi.String("w"),
		ContainerDefinitions: []ecsapi.ContainerDefinition{{Name: awsapi.String("main"), Image: awsapi.String("sleep"), Command: []string{"3600"}, Essential: awsapi.Bool(true)}}}); err != nil {
		return err
	}
	names := make([]string, nServices)
	start := time.Now()
	for i := range names {
		names[i] = fmt.Sprintf("s%03d", i)
		if _, err := svcs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: awsapi.String("c"), ServiceName: &names[i],
			TaskDefinition: awsapi.String("w"), DesiredCount: awsapi.Int32(int32(nTasks))}); err != nil {
			return err
		}
	}
	if err := converge(ctx, svcs, names, int32(nTasks), 2*time.Minute); err != nil {
		return err
	}
	fmt.Printf("  all %d tasks RUNNING %v after the first CreateService\n", nServices*nTasks, time.Since(start).Round(time.Millisecond))

	// Steady state: passes timed one by one, with Run stopped.
	stopRun()
	<-done
	var walls []time.Duration
	c0 := cpu()
	const passes = 20
	for range passes {
		t0 := time.Now()
		svcs.Tick(ctx)
		walls = append(walls, time.Since(t0))
	}
	perPass := (cpu() - c0) / passes
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	fmt.Printf("  one steady-state pass over %d services: median %v wall, %v CPU (%.2f%% of a core at the default 1 s interval)\n",
		nServices, walls[len(walls)/2].Round(10*time.Microsecond), perPass.Round(10*time.Microsecond), 100*perPass.Seconds())

	runCtx, stopRun = context.WithCancel(ctx)
	defer stopRun()
	done = make(chan struct{})
	go func() { svcs.Run(runCtx); close(done) }()
	start = time.Now()
	for i := range names {
		if _, err := svcs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: &names[i], DesiredCount: awsapi.Int32(int32(nTasks + 1))}); err != nil {
			return err
		}
	}
	if err := converge(ctx, svcs, names, int32(nTasks+1), 2*time.Minute); err != nil {
		return err
	}
	fmt.Printf("  every service scaled out by one: all %d RUNNING %v after the first UpdateService\n", nServices*(nTasks+1), time.Since(start).Round(time.Millisecond))
	stopRun()
	<-done
	for i := range names {
		svcs.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: awsapi.String("c"), Service: &names[i], Force: awsapi.Bool(true)})
	}
	svcs.Tick(ctx)
	return nil
}

// converge polls DescribeServices (10 at a time) until every service runs want tasks.
func converge(ctx context.Context, svcs *ecsservice.Service, names []string, want int32, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ok := true
		for i := 0; i < len(names) && ok; i += 10 {
			out, err := svcs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: awsapi.String("c"), Services: names[i:min(i+10, len(names))]})
			if err != nil {
				return err
			}
			for _, s := range out.Services {
				ok = ok && *s.RunningCount == want && len(s.Deployments) == 1
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("services did not converge to %d tasks within %v", want, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// api measures CreateService and DescribeServices through HTTP on wharf and moto.
func api(n int) error {
	fmt.Printf("\nAPI through HTTP, %d calls each (Go SDK, one client)\n", n)
	cfg, err := config.Parse([]string{"--listen", "127.0.0.1:0", "--ephemeral", "--runtime", "process", "--process-images", "sleep"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler), "bench")
	if err != nil {
		return err
	}
	wharf, werr := measureAPI("wharf", "http://"+w.Addr(), n)
	port, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	moto := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := moto.Start(); err != nil {
		return fmt.Errorf("start moto: %w", err)
	}
	defer func() { moto.Process.Kill(); moto.Wait() }()
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		if r, err := http.Get(url + "/moto-api/"); err == nil {
			r.Body.Close()
			break
		}
		if i > 300 {
			return errors.New("moto did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	m, err := measureAPI("moto", url, n)
	if err != nil {
		return err
	}
	if werr != nil {
		fmt.Printf("  wharf: %v\n", werr)
		return nil
	}
	fmt.Printf("ratios (moto / wharf median latency): CreateService %.1fx, DescribeServices %.1fx\n",
		m[0].Seconds()/wharf[0].Seconds(), m[1].Seconds()/wharf[1].Seconds())
	return nil
}

func measureAPI(name, endpoint string, n int) ([2]time.Duration, error) {
	ctx := context.Background()
	c := ecs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1})
	var res [2]time.Duration
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		return res, err
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("w"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("sleep"), Command: []string{"3600"}, Memory: aws.Int32(64)}}}); err != nil {
		return res, err
	}
	var create, describe []time.Duration
	for i := range n {
		t0 := time.Now()
		_, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String(fmt.Sprintf("s%d", i)),
			TaskDefinition: aws.String("w"), DesiredCount: aws.Int32(0)})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
			return res, errors.New("ECS services are not wired into wharf's server (internal/app/wire_ecs.go)")
		}
		if err != nil {
			return res, err
		}
		create = append(create, time.Since(t0))
	}
	for i := range n {
		t0 := time.Now()
		if _, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{fmt.Sprintf("s%d", i)}}); err != nil {
			return res, err
		}
		describe = append(describe, time.Since(t0))
	}
	res = [2]time.Duration{median(create), median(describe)}
	fmt.Printf("  %-5s CreateService median %v, DescribeServices median %v\n", name, res[0].Round(time.Microsecond), res[1].Round(time.Microsecond))
	return res, nil
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}
