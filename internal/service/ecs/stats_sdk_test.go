package ecs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// utilization waits up to a minute for a datapoint of AWS/ECS metric name
// with dims at AWS's 60-second period and returns it.
func utilization(t *testing.T, cw *cloudwatch.Client, name string, dims ...string) cwtypes.Datapoint {
	t.Helper()
	return utilizationReaching(t, cw, name, level{}, dims...)
}

// level is what utilizationReaching waits for in a datapoint besides a
// nonzero Average: an Average and a Maximum of at least these.
type level struct{ average, maximum float64 }

// utilizationReaching waits up to a minute for a datapoint of AWS/ECS metric
// name with dims that reaches at least, and returns it. A minute's Average
// also holds the samples taken before the task's program got going, so a
// level the program reaches shows first in the Maximum, and in the Average
// of a minute it ran through.
func utilizationReaching(t *testing.T, cw *cloudwatch.Client, name string, at level, dims ...string) cwtypes.Datapoint {
	t.Helper()
	var ds []cwtypes.Dimension
	for i := 0; i+1 < len(dims); i += 2 {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		now := time.Now()
		out, err := cw.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/ECS"), MetricName: aws.String(name), Dimensions: ds,
			StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(60),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage, cwtypes.StatisticMinimum, cwtypes.StatisticMaximum, cwtypes.StatisticSampleCount},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range out.Datapoints {
			if avg := aws.ToFloat64(d.Average); avg > 0 && avg >= at.average && aws.ToFloat64(d.Maximum) >= at.maximum {
				if d.Unit != cwtypes.StandardUnitPercent {
					t.Fatalf("%s %v is in %s, want Percent", name, dims, d.Unit)
				}
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no nonzero %s datapoint reaching %+v for %v within a minute: %+v", name, at, dims, out.Datapoints)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestServiceUtilizationFromRuntimeStatsDrivesTargetTracking: a service's
// task burns CPU and holds memory in a real container (or host process);
// wharf samples the runtime's statistics and publishes AWS/ECS CPUUtilization and
// MemoryUtilization per service and per cluster, as percentages of what the
// task definition reserves, which GetMetricStatistics returns at a
// 60-second period; and a target tracking policy on
// ECSServiceAverageCPUUtilization scales the service out on them.
func TestServiceUtilizationFromRuntimeStatsDrivesTargetTracking(t *testing.T) {
	for _, rt := range []string{"docker", "process"} {
		t.Run(rt, func(t *testing.T) { testServiceUtilization(t, rt) })
	}
}

func testServiceUtilization(t *testing.T, rt string) {
	image := taskImage(t, rt)
	cfg := wharftest.Start(t, "--runtime", rt, "--ecs-stats-interval", "1s").Config()
	ctx := context.Background()
	ec, cw, scaling := ecs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg), aas.NewFromConfig(cfg)
	if _, err := ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("stats")}); err != nil {
		t.Fatal(err)
	}
	// 128 CPU units are an eighth of a vCPU: the task keeps a quarter of one
	// busy, about 200% of its reservation, and holds 32 of its 256 MiB.
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("burner"), Cpu: aws.String("128"), Memory: aws.String("256"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: &image, Essential: aws.Bool(true),
			Command: []string{"burn", "32", "25"}, StopTimeout: aws.Int32(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("stats"), ServiceName: aws.String("burner"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ec.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String("stats"), Service: aws.String("burner"), Force: aws.Bool(true)})
	})

	// A task keeping 2x its CPU busy: a minute's Average of at least 10%.
	// The first minute's also holds the samples of the program's start (the
	// first one with any CPU can be the only one), so the wait goes on to a
	// minute it ran through, and fails the test if none gets there.
	cpu := utilizationReaching(t, cw, "CPUUtilization", level{average: 10}, "ClusterName", "stats", "ServiceName", "burner")
	// 32 MiB held of 256 reserved is 12.5%, more with the program itself. The
	// wait fails the test if no sample gets there within a minute.
	mem := utilizationReaching(t, cw, "MemoryUtilization", level{maximum: 12}, "ClusterName", "stats", "ServiceName", "burner")
	t.Logf("service CPUUtilization %+v (max %+v), MemoryUtilization %+v (max %+v)", *cpu.Average, *cpu.Maximum, *mem.Average, *mem.Maximum)
	if aws.ToFloat64(cpu.Maximum) < aws.ToFloat64(cpu.Minimum) {
		t.Errorf("CPUUtilization of a task keeping 2x its CPU busy: %+v", cpu)
	}
	if v := aws.ToFloat64(mem.Maximum); v > 100 {
		t.Errorf("MemoryUtilization of a task holding 32 of its 256 MiB: %v", v)
	}
	utilization(t, cw, "CPUUtilization", "ClusterName", "stats")
	utilization(t, cw, "MemoryUtilization", "ClusterName", "stats")

	// Target tracking at 50% of the service's CPU: at ~200% it adds a task.
	rid := "service/stats/burner"
	if _, err := scaling.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: &rid, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := scaling.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: &rid, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := ec.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("stats"), Services: []string{"burner"}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Services[0].DesiredCount == 2 {
			break
		}
		if time.Now().After(deadline) {
			acts, _ := scaling.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: &rid})
			t.Fatalf("target tracking on ECSServiceAverageCPUUtilization did not scale out within a minute: %+v", acts)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestContainerReadsItsTaskStatsFromTheMetadataEndpoint: the program in a
// real container (or host process) reads
// ${ECS_CONTAINER_METADATA_URI_V4}/task/stats, as on ECS, and finds its own
// container's statistics there in Docker's shape, with the CPU it used since
// the previous sample and the memory it holds.
func TestContainerReadsItsTaskStatsFromTheMetadataEndpoint(t *testing.T) {
	for _, rt := range []string{"docker", "process"} {
		t.Run(rt, func(t *testing.T) { testTaskStats(t, rt) })
	}
}

func testTaskStats(t *testing.T, rt string) {
	image := taskImage(t, rt)
	cfg := wharftest.Start(t, "--runtime", rt).Config()
	ctx := context.Background()
	ec, lg := ecs.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	if _, err := lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("stats")}); err != nil {
		t.Fatal(err)
	}
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("reader"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: &image, Essential: aws.Bool(true),
			Command: []string{"taskstats"}, LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": "stats", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "reader"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := ec.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	task := waitStopped(t, ec, *run.Tasks[0].TaskArn)
	arn := *task.TaskArn
	out, err := lg.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("stats"),
		LogStreamName: aws.String("reader/main/" + arn[strings.LastIndexByte(arn, '/')+1:]), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, e := range out.Events {
		text.WriteString(aws.ToString(e.Message) + "\n")
	}
	if c := task.Containers[0].ExitCode; c == nil || *c != 0 {
		t.Fatalf("the task reading /task/stats exited %v (%s):\n%s", aws.ToInt32(c), aws.ToString(task.StoppedReason), text.String())
	}
	if !strings.Contains(text.String(), "task stats: containers=1 ") {
		t.Fatalf("the task's output lacks its statistics:\n%s", text.String())
	}
	t.Log(strings.TrimSpace(text.String()))
}
