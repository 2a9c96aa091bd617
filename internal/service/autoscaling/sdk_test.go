package autoscaling_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// startWharf runs the real server, as the binary does, on a free loopback
// port, with the ECS service the tests scale (service/workers/consumer, one
// task of a host process).
func startWharf(t *testing.T) (*aas.Client, *cloudwatch.Client) {
	t.Helper()
	cfg := wharftest.Start(t, "--runtime", "process", "--process-images", "sleep").Config()
	createService(t, ecs.NewFromConfig(cfg))
	return aas.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
}

// createService creates cluster workers and its service consumer with one
// task, as Application Auto Scaling needs the service it scales to exist.
func createService(t *testing.T, c *ecs.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("workers")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("consumer"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("sleep"), Command: []string{"300"}, Essential: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("workers"), ServiceName: aws.String("consumer"),
		TaskDefinition: aws.String("consumer"), DesiredCount: aws.Int32(1)})
	var ae smithy.APIError
	if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented") {
		t.Fatal(err)
	}
}

const (
	ns       = types.ServiceNamespaceEcs
	dim      = types.ScalableDimensionECSServiceDesiredCount
	resource = "service/workers/consumer"
)

func register(t *testing.T, c *aas.Client, min, max int32) {
	t.Helper()
	_, err := c.RegisterScalableTarget(context.Background(), &aas.RegisterScalableTargetInput{
		ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim,
		MinCapacity: aws.Int32(min), MaxCapacity: aws.Int32(max),
		Tags: map[string]string{"team": "queue"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitActivity polls DescribeScalingActivities until one has the description.
func waitActivity(t *testing.T, c *aas.Client, description string) types.ScalingActivity {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.DescribeScalingActivities(context.Background(), &aas.DescribeScalingActivitiesInput{
			ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.ScalingActivities {
			if *a.Description == description {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no activity %q; have %+v", description, out.ScalingActivities)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSDKTargetsPoliciesAndTags(t *testing.T) {
	t.Parallel()
	c, cw := startWharf(t)
	ctx := context.Background()
	register(t, c, 1, 10)
	d, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ScalableTargets) != 1 || *d.ScalableTargets[0].MaxCapacity != 10 || d.ScalableTargets[0].CreationTime == nil ||
		!strings.HasPrefix(*d.ScalableTargets[0].ScalableTargetARN, "arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/") {
		t.Fatalf("DescribeScalableTargets = %+v", d.ScalableTargets)
	}
	arn := d.ScalableTargets[0].ScalableTargetARN
	if _, err := c.TagResource(ctx, &aas.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &aas.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || tags.Tags["team"] != "queue" || tags.Tags["env"] != "dev" {
		t.Fatalf("tags = %v, %v", tags, err)
	}

	p, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{
		PolicyName: aws.String("cpu50"), ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim,
		PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{
			TargetValue:                   aws.Float64(50),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeECSServiceAverageCPUUtilization},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Alarms) != 2 {
		t.Fatalf("Alarms = %+v", p.Alarms)
	}
	// The alarms are real CloudWatch alarms.
	alarms, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-" + resource)})
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms.MetricAlarms) != 2 || alarms.MetricAlarms[0].AlarmActions[0] != *p.PolicyARN {
		t.Fatalf("CloudWatch alarms = %+v", alarms.MetricAlarms)
	}
	ps, err := c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: ns, PolicyNames: []string{"cpu50"}})
	if err != nil || len(ps.ScalingPolicies) != 1 || ps.ScalingPolicies[0].PolicyType != types.PolicyTypeTargetTrackingScaling ||
		ps.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType != types.MetricTypeECSServiceAverageCPUUtilization {
		t.Fatalf("DescribeScalingPolicies = %+v, %v", ps, err)
	}
	if _, err := c.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("cpu50"), ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim}); err != nil {
		t.Fatal(err)
	}
	alarms, _ = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-")})
	if len(alarms.MetricAlarms) != 0 {
		t.Fatalf("alarms left after DeleteScalingPolicy: %d", len(alarms.MetricAlarms))
	}

	// Errors arrive as the SDK's typed exceptions.
	_, err = c.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("cpu50"), ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim})
	var nf *types.ObjectNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("delete twice: %v", err)
	}
	_, err = c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: ns, ResourceId: aws.String("cluster/x"), ScalableDimension: dim})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("bad resource: %v", err)
	}
	if _, err := c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim}); err != nil {
		t.Fatal(err)
	}
}

// AWS's backlog-per-task policy, end to end through wharf's CloudWatch: the
// queue's visible messages over the service's running tasks, target 10.
// PutMetricData rejects the reserved AWS/ namespaces, as AWS does, so the
// queue depth is published here under a custom namespace (wharf's SQS
// publishes the real AWS/SQS one itself).
func TestSDKBacklogPerTaskScalesThroughCloudWatchMetricMath(t *testing.T) {
	t.Parallel()
	c, cw := startWharf(t)
	ctx := context.Background()
	register(t, c, 1, 20)
	metric := func(id, namespace, name, stat string, dims ...string) types.TargetTrackingMetricDataQuery {
		m := &types.TargetTrackingMetric{Namespace: aws.String(namespace), MetricName: aws.String(name)}
		for i := 0; i < len(dims); i += 2 {
			m.Dimensions = append(m.Dimensions, types.TargetTrackingMetricDimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
		}
		return types.TargetTrackingMetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false),
			MetricStat: &types.TargetTrackingMetricStat{Metric: m, Stat: aws.String(stat)}}
	}
	_, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{
		PolicyName: aws.String("backlog-per-task"), ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim,
		PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(10),
			CustomizedMetricSpecification: &types.CustomizedMetricSpecification{Metrics: []types.TargetTrackingMetricDataQuery{
				metric("m1", "Jobs/SQS", "ApproximateNumberOfMessagesVisible", "Sum", "QueueName", "jobs"),
				metric("m2", "ECS/ContainerInsights", "RunningTaskCount", "Average", "ClusterName", "workers", "ServiceName", "consumer"),
				{Id: aws.String("e1"), Expression: aws.String("m1 / m2"), ReturnData: aws.Bool(true)},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jobs/SQS"), MetricData: []cwtypes.MetricDatum{{
		MetricName: aws.String("ApproximateNumberOfMessagesVisible"), Value: aws.Float64(1500), StorageResolution: aws.Int32(1),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("jobs")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("ECS/ContainerInsights"), MetricData: []cwtypes.MetricDatum{{
		MetricName: aws.String("RunningTaskCount"), Value: aws.Float64(1), StorageResolution: aws.Int32(1),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("workers")}, {Name: aws.String("ServiceName"), Value: aws.String("consumer")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	a := waitActivity(t, c, "Setting desired count to 20.")
	if a.StatusCode != types.ScalingActivityStatusCodeSuccessful || !strings.HasPrefix(*a.Cause, "monitor alarm TargetTracking-"+resource+"-AlarmHigh-") ||
		!strings.HasSuffix(*a.Cause, " in state ALARM triggered policy backlog-per-task") {
		t.Fatalf("activity = %s | %s | %s", *a.Description, *a.Cause, a.StatusCode)
	}
}

// A step scaling policy runs when a CloudWatch alarm naming it goes to ALARM.
func TestSDKStepScalingFromCloudWatchAlarmAction(t *testing.T) {
	t.Parallel()
	c, cw := startWharf(t)
	ctx := context.Background()
	register(t, c, 1, 10)
	p, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{
		PolicyName: aws.String("add-two"), ServiceNamespace: ns, ResourceId: aws.String(resource), ScalableDimension: dim,
		PolicyType: types.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &types.StepScalingPolicyConfiguration{
			AdjustmentType:  types.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []types.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(2)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("backlog-high"), Namespace: aws.String("Jobs/SQS"), MetricName: aws.String("ApproximateNumberOfMessagesVisible"),
		Statistic: cwtypes.StatisticAverage, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(100),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{*p.PolicyARN},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jobs/SQS"), MetricData: []cwtypes.MetricDatum{{
		MetricName: aws.String("ApproximateNumberOfMessagesVisible"), Value: aws.Float64(500), StorageResolution: aws.Int32(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	a := waitActivity(t, c, "Setting desired count to 3.")
	if *a.Cause != "monitor alarm backlog-high in state ALARM triggered policy add-two" {
		t.Fatalf("cause = %s", *a.Cause)
	}
}
