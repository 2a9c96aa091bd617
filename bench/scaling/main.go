// Command scaling measures how fast wharf's queue workers scale: from the
// moment an SQS queue's backlog crosses a target tracking policy's target
// (backlog per task: AWS/SQS ApproximateNumberOfMessagesVisible divided by
// ECS/ContainerInsights RunningTaskCount, CloudWatch metric math) to
//
//   - the decision: the ECS service's desired count raised by Application
//     Auto Scaling, and
//   - the first new task RUNNING (what the target, under 10 s, is
//     about),
//
// through wharf's real server (HTTP, Go SDK) with the tasks on the process
// runtime (host processes) or Docker (-runtime docker).
//
// There is no peer in the same run: moto's server records scaling policies
// but never evaluates them or runs tasks. The comparison printed is AWS's
// documented floor instead: a target tracking policy's scale-out alarm needs
// 3 datapoints of 1 minute above the target (Target tracking scaling
// policies, Application Auto Scaling User Guide), so AWS decides after 3
// minutes at best, before its task even starts.
//
// The controller's cost with 100 services of 5 tasks is measured by
// bench/ecsservice; this program does not repeat it.
//
// It prints each round, medians and ratios; it asserts nothing.
//
// -sqs-metrics sets how often SQS publishes its AWS/SQS metrics (wharf's
// default is sqs.DefaultMetricsInterval, 5 s); the decision waits for the
// first datapoint after the flood, so this interval bounds it.
//
//	go run ./bench/scaling [-rounds 5] [-runtime process|docker] [-target 10] [-sqs-metrics 1s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/config"
	sqssvc "github.com/wharf-dev/wharf/internal/service/sqs"
	"github.com/wharf-dev/wharf/test/images"
)

// awsFloor is the earliest AWS's target tracking decides to scale out: three
// one-minute datapoints above the target.
const awsFloor = 3 * time.Minute

func main() {
	rounds := flag.Int("rounds", 5, "scale-outs measured, each on a fresh queue and service")
	rt := flag.String("runtime", "process", "ECS task runtime: process or docker")
	target := flag.Int("target", 10, "target backlog per task; each round sends 5 times this many messages")
	sqsMetrics := flag.Duration("sqs-metrics", 0, "AWS/SQS metrics interval (0: wharf's default)")
	flag.Parse()
	if *sqsMetrics > 0 {
		sqssvc.DefaultMetricsInterval = *sqsMetrics
	}
	fmt.Printf("AWS/SQS metrics every %v\n", sqssvc.DefaultMetricsInterval)
	if err := run(*rounds, *rt, *target); err != nil {
		fmt.Fprintln(os.Stderr, "scaling bench:", err)
		os.Exit(1)
	}
}

type clients struct {
	ecs *ecs.Client
	sqs *sqs.Client
	aas *aas.Client
}

func run(rounds int, rt string, target int) error {
	image, command := "sleep", []string{"3600"}
	if rt == "docker" {
		ref, err := images.Docker("task")
		if err != nil {
			return err
		}
		image, command = ref, []string{"sleep"}
	} else if rt != "process" {
		return fmt.Errorf("-runtime must be process or docker, not %q", rt)
	}
	cfg, err := config.Parse([]string{"--listen", "127.0.0.1:0", "--ephemeral", "--runtime", rt, "--process-images", "sleep"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler), "bench")
	if err != nil {
		return err
	}
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + w.Addr()), RetryMaxAttempts: 1}
	c := clients{ecs: ecs.NewFromConfig(ac), sqs: sqs.NewFromConfig(ac), aas: aas.NewFromConfig(ac)}
	if _, err := c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
		return err
	}
	if _, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("worker"), NetworkMode: ecstypes.NetworkModeHost,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: &image, Command: command, Essential: aws.Bool(true)}}}); err != nil {
		return err
	}
	fmt.Printf("scale-out reaction, %d rounds on the %s runtime: target %d messages per task, %d sent at once, 1 → up to 10 tasks\n",
		rounds, rt, target, 5*target)
	var decide, running []time.Duration
	for r := range rounds {
		d, run, err := round(ctx, c, r, target)
		if err != nil {
			return fmt.Errorf("round %d: %w", r, err)
		}
		fmt.Printf("  round %d: desired count raised after %v, first new task RUNNING after %v\n", r, d.Round(time.Millisecond), run.Round(time.Millisecond))
		decide, running = append(decide, d), append(running, run)
	}
	md, mr := median(decide), median(running)
	fmt.Printf("median: decision %v, first new task RUNNING %v (target: under 10 s); slowest RUNNING %v\n",
		md.Round(time.Millisecond), mr.Round(time.Millisecond), slowest(running).Round(time.Millisecond))
	fmt.Printf("ratio (AWS's earliest decision, %v, / wharf's median decision): %.0fx; no peer in the same run (moto never evaluates policies)\n",
		awsFloor, awsFloor.Seconds()/md.Seconds())
	return nil
}

// round measures one scale-out on a fresh queue and service, then removes them.
func round(ctx context.Context, c clients, r, target int) (decide, running time.Duration, err error) {
	queue, service := fmt.Sprintf("jobs-%d", r), fmt.Sprintf("workers-%d", r)
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &queue})
	if err != nil {
		return 0, 0, err
	}
	defer c.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	if _, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("bench"), ServiceName: &service,
		TaskDefinition: aws.String("worker"), DesiredCount: aws.Int32(1)}); err != nil {
		return 0, 0, err
	}
	defer func() {
		c.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String("bench"), Service: &service, Force: aws.Bool(true)})
		// Wait until every task has stopped, so no container outlives the
		// run and the next round starts on a quiet machine.
		waitFor(60*time.Second, func() (bool, error) {
			l, err := c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("bench"), ServiceName: &service, DesiredStatus: ecstypes.DesiredStatusStopped})
			if err != nil || len(l.TaskArns) == 0 {
				return err == nil, err
			}
			d, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("bench"), Tasks: l.TaskArns})
			if err != nil {
				return false, err
			}
			for _, t := range d.Tasks {
				if aws.ToString(t.LastStatus) != "STOPPED" {
					return false, nil
				}
			}
			return true, nil
		})
	}()
	initial := map[string]bool{}
	err = waitFor(60*time.Second, func() (bool, error) {
		tasks, err := serviceTasks(ctx, c, service)
		for _, t := range tasks {
			initial[aws.ToString(t.TaskArn)] = true
		}
		return len(tasks) == 1 && aws.ToString(tasks[0].LastStatus) == "RUNNING", err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("first task: %w", err)
	}
	res := "service/bench/" + service
	if _, err := c.aas.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: &res, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)}); err != nil {
		return 0, 0, err
	}
	defer c.aas.DeregisterScalableTarget(context.Background(), &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: &res, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount})
	stat := func(id, ns, name string, dims ...aastypes.TargetTrackingMetricDimension) aastypes.TargetTrackingMetricDataQuery {
		return aastypes.TargetTrackingMetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &aastypes.TargetTrackingMetricStat{
			Stat: aws.String("Average"), Metric: &aastypes.TargetTrackingMetric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: dims}}}
	}
	dim := func(n, v string) aastypes.TargetTrackingMetricDimension {
		return aastypes.TargetTrackingMetricDimension{Name: aws.String(n), Value: aws.String(v)}
	}
	if _, err := c.aas.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: &res,
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyName: aws.String("backlog"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(float64(target)),
			ScaleOutCooldown: aws.Int32(0), ScaleInCooldown: aws.Int32(300),
			CustomizedMetricSpecification: &aastypes.CustomizedMetricSpecification{Metrics: []aastypes.TargetTrackingMetricDataQuery{
				stat("m1", "AWS/SQS", "ApproximateNumberOfMessagesVisible", dim("QueueName", queue)),
				stat("m2", "ECS/ContainerInsights", "RunningTaskCount", dim("ClusterName", "bench"), dim("ServiceName", service)),
				{Id: aws.String("e1"), Expression: aws.String("m1 / m2"), ReturnData: aws.Bool(true)},
			}}}}); err != nil {
		return 0, 0, err
	}

	// The flood: the backlog crosses the target when the batch that takes
	// the queue past target messages is acknowledged.
	var t0 time.Time
	for b := 0; b < 5*target; b += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := b; i < min(b+10, 5*target); i++ {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String("job")})
		}
		if _, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries}); err != nil {
			return 0, 0, err
		}
		if t0.IsZero() && b+len(entries) > target {
			t0 = time.Now()
		}
	}
	err = waitFor(120*time.Second, func() (bool, error) {
		if decide == 0 {
			s, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("bench"), Services: []string{service}})
			if err != nil {
				return false, err
			}
			if len(s.Services) == 1 && s.Services[0].DesiredCount > 1 {
				decide = time.Since(t0)
			}
		}
		tasks, err := serviceTasks(ctx, c, service)
		for _, t := range tasks {
			if !initial[aws.ToString(t.TaskArn)] && aws.ToString(t.LastStatus) == "RUNNING" {
				running = time.Since(t0)
				if decide == 0 {
					decide = running
				}
				return true, nil
			}
		}
		return false, err
	})
	return decide, running, err
}

// serviceTasks describes the service's tasks (ListTasks --service-name).
func serviceTasks(ctx context.Context, c clients, service string) ([]ecstypes.Task, error) {
	l, err := c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("bench"), ServiceName: &service})
	if err != nil || len(l.TaskArns) == 0 {
		return nil, err
	}
	d, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("bench"), Tasks: l.TaskArns})
	if err != nil {
		return nil, err
	}
	return d.Tasks, nil
}

// waitFor polls ok every 10 ms until it holds, fails or limit passes.
func waitFor(limit time.Duration, ok func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		done, err := ok()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration{}, d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func slowest(d []time.Duration) time.Duration {
	var m time.Duration
	for _, x := range d {
		m = max(m, x)
	}
	return m
}
