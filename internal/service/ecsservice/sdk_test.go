package ecsservice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestSDKServiceConvergesAndScalesOnProcessRuntime drives a service through
// wharf's front door with the Go SDK: desiredCount 2 converges to two
// RUNNING host processes, UpdateService to 3 adds one, and the counts reach
// CloudWatch as ECS/ContainerInsights metrics.
func TestSDKServiceConvergesAndScalesOnProcessRuntime(t *testing.T) {
	t.Parallel()
	awsCfg := wharftest.Start(t, "--runtime", "process", "--process-images", "sleep").Config()
	awsCfg.RetryMaxAttempts = 1
	ctx := context.Background()
	c := ecs.NewFromConfig(awsCfg)
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("worker"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("sleep"), Command: []string{"300"}, Essential: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("workers"),
		TaskDefinition: aws.String("worker"), DesiredCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	running := func(want int32) ecstypes.Service {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"workers"}})
			if err != nil {
				t.Fatal(err)
			}
			s := out.Services[0]
			if s.RunningCount == want && s.PendingCount == 0 {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("running %d pending %d, want %d running", s.RunningCount, s.PendingCount, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	s := running(2)
	if len(s.Deployments) != 1 || aws.ToString(s.Deployments[0].Status) != "PRIMARY" || !strings.HasPrefix(aws.ToString(s.Events[len(s.Events)-1].Message), "(service workers) has started 2 tasks: (task ") {
		t.Fatalf("deployments %+v events %+v", s.Deployments, s.Events)
	}
	list, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), StartedBy: s.Deployments[0].Id})
	if err != nil || len(list.TaskArns) != 2 {
		t.Fatalf("tasks started by the deployment: %v %v", err, list)
	}
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("workers"), DesiredCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	running(3)
	ls, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("c")})
	if err != nil || len(ls.ServiceArns) != 1 || ls.ServiceArns[0] != "arn:aws:ecs:us-east-1:000000000000:service/c/workers" && !strings.HasSuffix(ls.ServiceArns[0], ":service/c/workers") {
		t.Fatalf("ListServices: %v %v", err, ls)
	}

	cw := cloudwatch.NewFromConfig(awsCfg)
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(time.Now().Add(-time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("r"), MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("ECS/ContainerInsights"), MetricName: aws.String("RunningTaskCount"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("c")}, {Name: aws.String("ServiceName"), Value: aws.String("workers")}}},
				Period: aws.Int32(1), Stat: aws.String("Maximum")}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if r := out.MetricDataResults; len(r) == 1 && len(r[0].Values) > 0 && r[0].Values[0] == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RunningTaskCount never 3 in CloudWatch: %+v", out.MetricDataResults)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
