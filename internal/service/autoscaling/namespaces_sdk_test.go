package autoscaling_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func validation(t *testing.T, what string, err error, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), want) {
		t.Errorf("%s: %v, want a ValidationException with %q", what, err, want)
	}
}

// TestEveryScalableDimensionIsValidatedAsAWS: RegisterScalableTarget takes
// every namespace and scalable dimension AWS lists, with the resource ids
// each takes; a dimension of another namespace or a malformed resource id is
// refused as AWS refuses it. Targets of services wharf does not have are
// refused as resources that do not exist, and so are an ECS service and a
// DynamoDB table that do not exist and a custom resource whose endpoint does
// not answer.
func TestEveryScalableDimensionIsValidatedAsAWS(t *testing.T) {
	t.Parallel()
	c := aas.NewFromConfig(wharftest.Start(t).Config())
	ctx := context.Background()
	register := func(ns, resource, dim string) error {
		_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespace(ns),
			ResourceId: aws.String(resource), ScalableDimension: aastypes.ScalableDimension(dim), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})
		return err
	}
	for _, tc := range []struct{ ns, resource, dim, want string }{
		{"ecs", "service/default/web", "ecs:service:DesiredCount", "ECS service doesn't exist"},
		{"dynamodb", "table/orders", "dynamodb:table:ReadCapacityUnits", "doesn't exist"},
		{"dynamodb", "table/orders", "dynamodb:table:WriteCapacityUnits", "doesn't exist"},
		{"dynamodb", "table/orders/index/byDate", "dynamodb:index:ReadCapacityUnits", "doesn't exist"},
		{"dynamodb", "table/orders/index/byDate", "dynamodb:index:WriteCapacityUnits", "doesn't exist"},
		{"ec2", "spot-fleet-request/sfr-73fbd2ce-aa30-494c-8788-1cee4EXAMPLE", "ec2:spot-fleet-request:TargetCapacity", "wharf has no ec2"},
		{"elasticmapreduce", "instancegroup/j-2EEZNYKUA1NTV/ig-1791Y4E1L8YI0", "elasticmapreduce:instancegroup:InstanceCount", "wharf has no"},
		{"appstream", "fleet/sample-fleet", "appstream:fleet:DesiredCapacity", "wharf has no"},
		{"rds", "cluster:my-db-cluster", "rds:cluster:ReadReplicaCount", "wharf has no"},
		{"sagemaker", "endpoint/my-end-point/variant/my-variant", "sagemaker:variant:DesiredInstanceCount", "wharf has no"},
		{"sagemaker", "endpoint/my-end-point/variant/my-variant", "sagemaker:variant:DesiredProvisionedConcurrency", "wharf has no"},
		{"sagemaker", "inference-component/my-component", "sagemaker:inference-component:DesiredCopyCount", "wharf has no"},
		// Nothing listens on port 1: the endpoint cannot be reached.
		{"custom-resource", "http://127.0.0.1:1/scalableTargetDimensions/1-23456789", "custom-resource:ResourceType:Property", "could not be reached"},
		{"comprehend", "arn:aws:comprehend:us-west-2:123456789012:document-classifier-endpoint/EXAMPLE", "comprehend:document-classifier-endpoint:DesiredInferenceUnits", "wharf has no"},
		{"comprehend", "arn:aws:comprehend:us-west-2:123456789012:entity-recognizer-endpoint/EXAMPLE", "comprehend:entity-recognizer-endpoint:DesiredInferenceUnits", "wharf has no"},
		{"lambda", "function:my-function:my-alias", "lambda:function:ProvisionedConcurrency", "wharf has no"},
		{"cassandra", "keyspace/mykeyspace/table/mytable", "cassandra:table:ReadCapacityUnits", "wharf has no"},
		{"cassandra", "keyspace/mykeyspace/table/mytable", "cassandra:table:WriteCapacityUnits", "wharf has no"},
		{"kafka", "arn:aws:kafka:us-east-1:123456789012:cluster/demo-cluster-1/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5", "kafka:broker-storage:VolumeSize", "wharf has no"},
		{"elasticache", "cache-cluster/mycluster", "elasticache:cache-cluster:Nodes", "wharf has no"},
		{"elasticache", "replication-group/mycluster", "elasticache:replication-group:NodeGroups", "wharf has no"},
		{"elasticache", "replication-group/mycluster", "elasticache:replication-group:Replicas", "wharf has no"},
		{"neptune", "cluster:mycluster", "neptune:cluster:ReadReplicaCount", "wharf has no"},
		{"workspaces", "workspacespool/wspool-123456", "workspaces:workspacespool:DesiredUserSessions", "wharf has no"},
		// Mismatches AWS refuses whatever exists.
		{"dynamodb", "table/orders", "ecs:service:DesiredCount", "Unsupported service namespace, resource type or scalable dimension"},
		{"dynamodb", "table/orders/index/byDate", "dynamodb:table:ReadCapacityUnits", "Unsupported service namespace, resource type or scalable dimension"},
		{"ecs", "cluster/default", "ecs:service:DesiredCount", "Unsupported service namespace, resource type or scalable dimension"},
		{"lambda", "function:my-function", "lambda:function:ProvisionedConcurrency", "Unsupported service namespace, resource type or scalable dimension"},
		{"dynamodb", "table/orders", "dynamodb:table:Throughput", "Member must satisfy enum value set"},
	} {
		validation(t, tc.dim+" "+tc.resource, register(tc.ns, tc.resource, tc.dim), tc.want)
	}
}

// TestDynamoDBProvisionedCapacityIsScaled: a table's and a global secondary
// index's capacity units are scalable targets; registering bounds that
// exclude the current capacity sets it inside them through DynamoDB, as AWS
// does, with the activity worded as AWS words it. An on-demand table has no
// capacity to scale.
func TestDynamoDBProvisionedCapacityIsScaled(t *testing.T) {
	t.Parallel()
	cfg := wharftest.Start(t).Config()
	c, db := aas.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	ctx := context.Background()
	pt := &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("orders"), BillingMode: ddbtypes.BillingModeProvisioned,
		ProvisionedThroughput: pt,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("day"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("byDay"), ProvisionedThroughput: pt,
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("day"), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("events"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	register := func(resource, dim string, lo, hi int32) error {
		_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
			ResourceId: aws.String(resource), ScalableDimension: aastypes.ScalableDimension(dim), MinCapacity: aws.Int32(lo), MaxCapacity: aws.Int32(hi)})
		return err
	}
	if err := register("table/orders", "dynamodb:table:WriteCapacityUnits", 10, 20); err != nil {
		t.Fatal(err)
	}
	if err := register("table/orders/index/byDay", "dynamodb:index:ReadCapacityUnits", 2, 3); err != nil {
		t.Fatal(err)
	}
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if w, r := aws.ToInt64(d.Table.ProvisionedThroughput.WriteCapacityUnits), aws.ToInt64(d.Table.ProvisionedThroughput.ReadCapacityUnits); w != 10 || r != 5 {
		t.Errorf("table capacity write %d read %d, want 10 (the new minimum) and 5", w, r)
	}
	if g := d.Table.GlobalSecondaryIndexes[0].ProvisionedThroughput; aws.ToInt64(g.ReadCapacityUnits) != 3 || aws.ToInt64(g.WriteCapacityUnits) != 5 {
		t.Errorf("index capacity read %d write %d, want 3 (the new maximum) and 5", aws.ToInt64(g.ReadCapacityUnits), aws.ToInt64(g.WriteCapacityUnits))
	}
	acts, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/orders"), ScalableDimension: aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits})
	if err != nil || len(acts.ScalingActivities) != 1 || aws.ToString(acts.ScalingActivities[0].Description) != "Setting write capacity units to 10." ||
		aws.ToString(acts.ScalingActivities[0].StatusMessage) != "Successfully set write capacity units to 10. Change successfully fulfilled by dynamodb." {
		t.Errorf("activities: %v %+v", err, acts)
	}
	tg, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	if err != nil || len(tg.ScalableTargets) != 2 || !strings.HasSuffix(aws.ToString(tg.ScalableTargets[0].RoleARN), "/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable") {
		t.Errorf("DescribeScalableTargets: %v %+v", err, tg)
	}
	validation(t, "an on-demand table", register("table/events", "dynamodb:table:ReadCapacityUnits", 1, 5), "on-demand")
	track := func(metric string) error {
		_, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("track"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/orders"), ScalableDimension: aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits,
			TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
				PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricType(metric)}}})
		return err
	}
	if err := track("DynamoDBWriteCapacityUtilization"); err != nil {
		t.Errorf("tracking DynamoDBWriteCapacityUtilization: %v", err)
	}
	validation(t, "tracking an ECS metric on a table", track("ECSServiceAverageCPUUtilization"), "Unsupported metric type ECSServiceAverageCPUUtilization for service namespace dynamodb")
}

// TestDynamoDBWriteUtilizationScalesUpAfterABurst: a target tracking policy
// on DynamoDBWriteCapacityUtilization raises a provisioned table's write
// capacity after a burst of writes consumed more than the target percentage
// of it, through AWS/DynamoDB ConsumedWriteCapacityUnits as DynamoDB
// publishes it, and creates its alarms on that metric; reads alone do not
// scale writes.
func TestDynamoDBWriteUtilizationScalesUpAfterABurst(t *testing.T) {
	t.Parallel()
	cfg := wharftest.Start(t).Config()
	c, db := aas.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	cw := cloudwatch.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("clicks"), BillingMode: ddbtypes.BillingModeProvisioned,
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	for _, dim := range []aastypes.ScalableDimension{aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits} {
		if _, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
			ResourceId: aws.String("table/clicks"), ScalableDimension: dim, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(400)}); err != nil {
			t.Fatal(err)
		}
		metric := aastypes.MetricTypeDynamoDBWriteCapacityUtilization
		if dim == aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits {
			metric = aastypes.MetricTypeDynamoDBReadCapacityUtilization
		}
		if _, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("track-" + string(metric)), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/clicks"), ScalableDimension: dim,
			TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
				// Writes only scale out here, so the capacity the test reads stays put.
				DisableScaleIn:                aws.Bool(metric == aastypes.MetricTypeDynamoDBWriteCapacityUtilization),
				PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: metric}}}); err != nil {
			t.Fatal(err)
		}
	}
	alarms, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-table/clicks-AlarmHigh-")})
	if err != nil || len(alarms.MetricAlarms) != 2 {
		t.Fatalf("alarms: %v %+v", err, alarms)
	}
	for _, a := range alarms.MetricAlarms {
		// 50 % of 5 units a second, for a minute.
		if ns := aws.ToString(a.Namespace); ns != "AWS/DynamoDB" || a.Statistic != "Sum" || aws.ToFloat64(a.Threshold) != 150 ||
			len(a.Dimensions) != 1 || aws.ToString(a.Dimensions[0].Value) != "clicks" {
			t.Errorf("alarm %s: %s %s %s > %v %+v", aws.ToString(a.AlarmName), ns, aws.ToString(a.MetricName), a.Statistic, aws.ToFloat64(a.Threshold), a.Dimensions)
		}
	}

	// A burst: 600 one-unit writes, far above 2.5 units a second.
	for i := range 600 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("clicks"),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var wcu, rcu int64
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("clicks")})
		if err != nil {
			t.Fatal(err)
		}
		wcu, rcu = aws.ToInt64(d.Table.ProvisionedThroughput.WriteCapacityUnits), aws.ToInt64(d.Table.ProvisionedThroughput.ReadCapacityUnits)
		if wcu > 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("write capacity still %d a minute after the burst", wcu)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("write capacity after the burst: %d", wcu)
	// The write policy's alarms move with the capacity (once the scaling
	// is recorded, just after DynamoDB has it); the read ones do not.
	for {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("clicks")})
		if err != nil {
			t.Fatal(err)
		}
		wcu = aws.ToInt64(d.Table.ProvisionedThroughput.WriteCapacityUnits)
		alarms, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-table/clicks-Alarm")})
		if err != nil || len(alarms.MetricAlarms) != 3 { // the write policy has no scale-in alarm
			t.Fatalf("alarms: %v %+v", err, alarms)
		}
		var wrong []string
		for _, a := range alarms.MetricAlarms {
			want := map[string]float64{"ConsumedWriteCapacityUnits": 0.5 * float64(wcu) * 60, "ConsumedReadCapacityUnits": 0.5 * 5 * 60}[aws.ToString(a.MetricName)]
			if strings.Contains(aws.ToString(a.AlarmName), "-AlarmLow-") {
				want *= 0.9 // scale-in below 90 % of the target
			}
			if got := aws.ToFloat64(a.Threshold); got != want {
				wrong = append(wrong, fmt.Sprintf("%s on %s: threshold %v, want %v", aws.ToString(a.AlarmName), aws.ToString(a.MetricName), got, want))
			}
		}
		if len(wrong) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarms after scaling to %d: %s", wcu, strings.Join(wrong, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rcu != 5 {
		t.Errorf("read capacity %d after writes alone, want 5", rcu)
	}
	acts, err := c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/clicks"), ScalableDimension: aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits})
	if err != nil || len(acts.ScalingActivities) == 0 {
		t.Fatalf("activities: %v %+v", err, acts)
	}
	a := acts.ScalingActivities[len(acts.ScalingActivities)-1] // the first
	var to int64
	if _, err := fmt.Sscanf(aws.ToString(a.Description), "Setting write capacity units to %d.", &to); err != nil || to <= 5 || a.StatusCode != aastypes.ScalingActivityStatusCodeSuccessful ||
		!strings.HasPrefix(aws.ToString(a.Cause), "monitor alarm TargetTracking-table/clicks-AlarmHigh-") {
		t.Errorf("activity: %s | %s | %s", aws.ToString(a.Description), aws.ToString(a.Cause), a.StatusCode)
	}
}
