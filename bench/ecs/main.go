// Command ecs measures how fast wharf's ECS runs a trivial task, side by side
// with `docker run` of the same image in the same run (moto cannot run
// containers, so Docker itself is the peer):
//
//   - RunTask → RUNNING, against `docker run -d` (create and start);
//   - RunTask → STOPPED for a container that exits at once, against
//     `docker run --rm` (start to exit and removal);
//   - the same two for the process runtime (a host process);
//   - 50 tasks started at once (five RunTask calls of ten): until all RUNNING,
//     until all STOPPED after StopTask.
//
// Latency is what a client sees: the RunTask call, then DescribeTasks polled
// every 2 ms. It prints medians, p90s and ratios; it asserts nothing.
//
//	go run ./bench/ecs [-n 10]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/runtime/docker"
	"github.com/wharf-dev/wharf/test/images"
)

func main() {
	n := flag.Int("n", 10, "runs of each measurement")
	flag.Parse()
	ctx := context.Background()
	if _, ok := docker.Available(ctx); !ok {
		fail(fmt.Errorf("no Docker engine answers; start dockerd --bridge=none --iptables=false"))
	}
	image, err := images.Docker("task")
	if err != nil {
		fail(err)
	}
	dir, err := os.MkdirTemp("", "wharf-bench-ecs-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	bin, err := images.Binary("task", dir)
	if err != nil {
		fail(err)
	}

	dc, stopD := start(ctx, "docker")
	defer stopD()
	pc, stopP := start(ctx, "process")
	defer stopP()
	dtd := register(ctx, dc, "bench", image)
	ptd := register(ctx, pc, "bench", bin)

	var dRun, dExit, wRun, wStop, pRun, pStop []time.Duration
	for range *n {
		dRun = append(dRun, timeCmd("docker", "run", "-d", "--network", "host", "--name", "wharf-bench", image, "sleep"))
		exec.Command("docker", "rm", "-f", "wharf-bench").Run()
		dExit = append(dExit, timeCmd("docker", "run", "--rm", "--network", "host", image, "exit", "0"))

		r, _ := runTask(ctx, dc, dtd, []string{"sleep"}, "RUNNING")
		wRun = append(wRun, r)
		_, s := runTask(ctx, dc, dtd, []string{"exit", "0"}, "STOPPED")
		wStop = append(wStop, s)

		r, _ = runTask(ctx, pc, ptd, []string{"sleep"}, "RUNNING")
		pRun = append(pRun, r)
		_, s = runTask(ctx, pc, ptd, []string{"exit", "0"}, "STOPPED")
		pStop = append(pStop, s)
	}
	stopAll(ctx, dc)
	stopAll(ctx, pc)

	fmt.Printf("%-42s %10s %10s\n", "measurement (n="+fmt.Sprint(*n)+")", "median_ms", "p90_ms")
	row := func(name string, d []time.Duration) {
		fmt.Printf("%-42s %10.1f %10.1f\n", name, ms(pct(d, 50)), ms(pct(d, 90)))
	}
	row("docker run -d (started)", dRun)
	row("wharf docker: RunTask → RUNNING", wRun)
	row("docker run --rm (exit 0, removed)", dExit)
	row("wharf docker: RunTask → STOPPED (exit 0)", wStop)
	row("wharf process: RunTask → RUNNING", pRun)
	row("wharf process: RunTask → STOPPED (exit 0)", pStop)

	allRun, allStop := fifty(ctx, dc, dtd)
	fmt.Printf("%-42s %10.1f\n", "wharf docker: 50 tasks → all RUNNING", ms(allRun))
	fmt.Printf("%-42s %10.1f\n", "wharf docker: 50 StopTask → all STOPPED", ms(allStop))

	fmt.Printf("\nratios (wharf vs docker run): RUNNING %.2fx, STOPPED %.2fx (target: within 1.3x)\n",
		ms(pct(wRun, 50))/ms(pct(dRun, 50)), ms(pct(wStop, 50))/ms(pct(dExit, 50)))
	fmt.Printf("process runtime: RUNNING %.1f ms, STOPPED %.1f ms (target: under 20 ms)\n", ms(pct(pRun, 50)), ms(pct(pStop, 50)))
}

func start(ctx context.Context, rt string) (*ecs.Client, func()) {
	cfg, err := config.Parse([]string{"--listen", "127.0.0.1:0", "--ephemeral", "--runtime", rt, "--log-level", "warn"}, func(string) string { return "" }, io.Discard)
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

func register(ctx context.Context, c *ecs.Client, family, image string) string {
	out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String(image), StopTimeout: aws.Int32(2)}}})
	if err != nil {
		fail(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func overrides(cmd []string) *ecstypes.TaskOverride {
	return &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{Name: aws.String("main"), Command: cmd}}}
}

// runTask runs one task and returns how long until it was seen in status.
func runTask(ctx context.Context, c *ecs.Client, td string, cmd []string, status string) (time.Duration, time.Duration) {
	t0 := time.Now()
	out, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: &td, Overrides: overrides(cmd)})
	if err != nil {
		fail(err)
	}
	arns := []string{aws.ToString(out.Tasks[0].TaskArn)}
	waitAll(ctx, c, arns, status)
	d := time.Since(t0)
	return d, d
}

func waitAll(ctx context.Context, c *ecs.Client, arns []string, status string) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		done := 0
		for i := 0; i < len(arns); i += 100 {
			out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: arns[i:min(i+100, len(arns))]})
			if err != nil {
				fail(err)
			}
			for _, t := range out.Tasks {
				if aws.ToString(t.LastStatus) == status || (status == "RUNNING" && aws.ToString(t.LastStatus) == "STOPPED") {
					done++
				}
			}
		}
		if done == len(arns) {
			return
		}
		if time.Now().After(deadline) {
			fail(fmt.Errorf("tasks not %s after 2 minutes", status))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fifty starts 50 sleeping tasks at once (five concurrent RunTask calls of
// ten), waits for all to run, stops all at once and waits for all to stop.
func fifty(ctx context.Context, c *ecs.Client, td string) (time.Duration, time.Duration) {
	var mu sync.Mutex
	var arns []string
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: &td, Count: aws.Int32(10), Overrides: overrides([]string{"sleep"})})
			if err != nil {
				fail(err)
			}
			mu.Lock()
			for _, t := range out.Tasks {
				arns = append(arns, aws.ToString(t.TaskArn))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	waitAll(ctx, c, arns, "RUNNING")
	running := time.Since(t0)
	t1 := time.Now()
	for _, a := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(a)}); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	waitAll(ctx, c, arns, "STOPPED")
	return running, time.Since(t1)
}

// stopAll stops the benchmark's sleeping tasks and waits for them.
func stopAll(ctx context.Context, c *ecs.Client) {
	out, err := c.ListTasks(ctx, &ecs.ListTasksInput{})
	if err != nil {
		fail(err)
	}
	for _, a := range out.TaskArns {
		c.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(a)})
	}
	if len(out.TaskArns) > 0 {
		waitAll(ctx, c, out.TaskArns, "STOPPED")
	}
}

func timeCmd(name string, args ...string) time.Duration {
	t0 := time.Now()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		fail(fmt.Errorf("%s %v: %v: %s", name, args, err, out))
	}
	return time.Since(t0)
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/ecs:", err)
	os.Exit(1)
}
