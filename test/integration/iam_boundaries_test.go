package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestAnotherAccountsLogsClustersAndAlarmsAreOutOfReach: Logs, ECS and
// CloudWatch have no resource-based policies, so another account never
// reaches our log group, cluster or alarm, even naming them by ARN, under
// --iam enforce (refused) as under off (its own, empty, account answers).
func TestAnotherAccountsLogsClustersAndAlarmsAreOutOfReach(t *testing.T) {
	for _, mode := range []string{"enforce", "off"} {
		t.Run(mode, func(t *testing.T) {
			w := newIAMWorld(t, mode)
			ctx := callTimeout(t)
			const otherRoot = "arn:aws:iam::222222222222:root"
			const group = "arn:aws:logs:us-east-1:000000000000:log-group:app"
			rootLogs, otherLogs := cloudwatchlogs.NewFromConfig(w.root), cloudwatchlogs.NewFromConfig(w.other())
			if _, err := rootLogs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("app")}); err != nil {
				t.Fatal(err)
			}
			if _, err := rootLogs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s")}); err != nil {
				t.Fatal(err)
			}
			if _, err := rootLogs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s"),
				LogEvents: []logstypes.InputLogEvent{{Message: aws.String("secret"), Timestamp: aws.Int64(1_700_000_000_000)}}}); err != nil {
				t.Fatal(err)
			}
			out, err := otherLogs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupIdentifier: aws.String(group), LogStreamName: aws.String("s")})
			if mode == "enforce" {
				wantDenied(t, err, "AccessDeniedException", 400, "User: "+otherRoot+" is not authorized to perform: logs:GetLogEvents on resource: "+group+
					":log-stream:s because no resource-based policy allows the logs:GetLogEvents action")
			} else if err == nil {
				t.Fatalf("another account read our log group by ARN: %+v", out.Events)
			}
			_, err = otherLogs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s")})
			if err == nil {
				t.Fatal("another account's log group app is ours")
			}

			rootECS, otherECS := ecs.NewFromConfig(w.root), ecs.NewFromConfig(w.other())
			cl, err := rootECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")})
			if err != nil {
				t.Fatal(err)
			}
			// ECS itself refuses another account's cluster ARN, in every mode.
			_, err = otherECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{*cl.Cluster.ClusterArn}})
			wantDenied(t, err, "InvalidParameterException", 400, "Invalid cluster ARN: "+*cl.Cluster.ClusterArn)
			_, err = otherECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: cl.Cluster.ClusterArn})
			wantDenied(t, err, "InvalidParameterException", 400, "Invalid cluster ARN: "+*cl.Cluster.ClusterArn)
			// By name it is the other account's own cluster, which does not exist.
			dc, err := otherECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"work"}})
			if err != nil || len(dc.Clusters) != 0 {
				t.Fatalf("another account's DescribeClusters(work) = %+v, %v", dc, err)
			}

			rootCW, otherCW := cloudwatch.NewFromConfig(w.root), cloudwatch.NewFromConfig(w.other())
			if _, err := rootCW.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("high"), Namespace: aws.String("App"),
				MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
				Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
				Tags: []cwtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
				t.Fatal(err)
			}
			const alarm = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:high"
			tags, err := otherCW.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarm)})
			switch {
			case mode == "enforce":
				wantDenied(t, err, "AccessDenied", 403, "User: "+otherRoot+" is not authorized to perform: cloudwatch:ListTagsForResource on resource: "+alarm+
					" because no resource-based policy allows the cloudwatch:ListTagsForResource action")
			case err == nil && len(tags.Tags) != 0:
				t.Fatalf("another account read our alarm's tags: %+v", tags.Tags)
			}
			da, err := otherCW.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"high"}})
			if err != nil || len(da.MetricAlarms) != 0 {
				t.Fatalf("another account's DescribeAlarms: %+v, %v", da, err)
			}
		})
	}
}
