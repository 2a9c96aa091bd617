package kubernetes_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestPodsReportUtilizationAndTaskStatsFromTheKubelet: on the kubernetes
// runtime a service's Pod that burns CPU and holds memory has AWS/ECS
// CPUUtilization and MemoryUtilization in CloudWatch, measured by its
// kubelet (the stats summary through the API server), and a task reads its
// own /task/stats from the metadata endpoint.
func TestPodsReportUtilizationAndTaskStatsFromTheKubelet(t *testing.T) {
	kc := kubeconfig(t)
	cs := client(t, kc)
	image := taskImage(t)
	srv := wharftest.Start(t, "--runtime", "kubernetes", "--kubeconfig", kc, "--ecs-stats-interval", "2s")
	cfg := srv.Config()
	ctx := context.Background()
	c, cw, lg := ecs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	name := cluster(t, c, cs, "k8s-stats-"+suffix())
	td, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(name + "-burn"), Cpu: aws.String("128"), Memory: aws.String("256"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true),
			Command: []string{"burn", "32", "25"}, StopTimeout: aws.Int32(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(name), ServiceName: aws.String("burner"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String(name), Service: aws.String("burner"), Force: aws.Bool(true)})
	})
	for _, metric := range []string{"CPUUtilization", "MemoryUtilization"} {
		for end := time.Now().Add(deadline); ; time.Sleep(time.Second) {
			now := time.Now()
			out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/ECS"), MetricName: aws.String(metric),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String(name)}, {Name: aws.String("ServiceName"), Value: aws.String("burner")}},
				StartTime:  aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(60),
				Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage}})
			if err != nil {
				t.Fatal(err)
			}
			var best float64
			for _, d := range out.Datapoints {
				best = max(best, aws.ToFloat64(d.Average))
			}
			// 25% of a core over 128 units is ~200%; 32 of 256 MiB 12.5%.
			if metric == "CPUUtilization" && best > 10 || metric == "MemoryUtilization" && best > 12 {
				t.Logf("%s %.1f%%", metric, best)
				break
			}
			if time.Now().After(end) {
				t.Fatalf("no %s datapoint showing the Pod's work: %+v", metric, out.Datapoints)
			}
		}
	}

	group := "/k8s/" + name
	if _, err := lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	arn := runTask(t, c, name, register(t, c, name+"-reader", ecstypes.ContainerDefinition{Name: aws.String("app"), Image: aws.String(image),
		Essential: aws.Bool(true), Command: []string{"taskstats"}, LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs,
			Options: map[string]string{"awslogs-group": group, "awslogs-stream-prefix": "k8s"}}}))
	tk := waitTask(t, c, name, arn, "STOPPED", status("STOPPED"))
	ev, err := lg.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group),
		LogStreamName: aws.String("k8s/app/" + arn[strings.LastIndex(arn, "/")+1:]), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, e := range ev.Events {
		text.WriteString(aws.ToString(e.Message) + "\n")
	}
	if aws.ToInt32(tk.Containers[0].ExitCode) != 0 || !strings.Contains(text.String(), "task stats: containers=1 ") {
		t.Fatalf("the task reading /task/stats: %s\n%s", describe(tk), text.String())
	}
	t.Log(strings.TrimSpace(text.String()))
}
