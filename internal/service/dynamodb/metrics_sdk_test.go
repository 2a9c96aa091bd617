package dynamodb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestConsumedCapacityIsPublishedToCloudWatch: the capacity each request
// consumed, as ReturnConsumedCapacity reports it, reaches CloudWatch as
// AWS/DynamoDB ConsumedWriteCapacityUnits and ConsumedReadCapacityUnits:
// per TableName for the table's own units, per TableName and
// GlobalSecondaryIndexName for a global secondary index's; their one-minute
// Sums are the units the responses reported, and ProvisionedRead/Write
// CapacityUnits say the table's and the index's capacity.
func TestConsumedCapacityIsPublishedToCloudWatch(t *testing.T) {
	t.Parallel()
	cfg := wharftest.Start(t).Config()
	db, cw := sdk.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)
	if _, err := db.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String("orders"), BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(7), WriteCapacityUnits: aws.Int64(5)},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("day"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byDay"),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(3), WriteCapacityUnits: aws.Int64(4)},
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("day"), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{} // "<metric> <index>" → units the responses reported
	note := func(c *types.ConsumedCapacity, metric string) {
		if c == nil {
			t.Fatal("no ConsumedCapacity in the response")
		}
		if c.Table != nil {
			want[metric+" "] += aws.ToFloat64(c.Table.CapacityUnits)
		}
		for name, ic := range c.GlobalSecondaryIndexes {
			want[metric+" "+name] += aws.ToFloat64(ic.CapacityUnits)
		}
	}
	big := strings.Repeat("x", 1500) // two write units per item
	for i := range 40 {
		item := map[string]types.AttributeValue{"id": s(fmt.Sprint(i)), "body": s(big)}
		if i%2 == 0 {
			item["day"] = s("monday") // only these reach the index
		}
		out, err := db.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
		if err != nil {
			t.Fatal(err)
		}
		note(out.ConsumedCapacity, "ConsumedWriteCapacityUnits")
	}
	for i := range 10 {
		out, err := db.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"id": s(fmt.Sprint(i))},
			ConsistentRead: aws.Bool(i%2 == 0), ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
		if err != nil {
			t.Fatal(err)
		}
		note(out.ConsumedCapacity, "ConsumedReadCapacityUnits")
	}
	q, err := db.Query(ctx, &sdk.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("byDay"),
		KeyConditionExpression: aws.String("#d = :d"), ExpressionAttributeNames: map[string]string{"#d": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": s("monday")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	note(q.ConsumedCapacity, "ConsumedReadCapacityUnits")
	if want["ConsumedWriteCapacityUnits "] != 80 || want["ConsumedWriteCapacityUnits byDay"] != 40 || want["ConsumedReadCapacityUnits byDay"] == 0 {
		t.Fatalf("the responses reported %v", want)
	}

	sum := func(metric, index, stat string) (float64, bool) {
		dims := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("orders")}}
		if index != "" {
			dims = append(dims, cwtypes.Dimension{Name: aws.String("GlobalSecondaryIndexName"), Value: aws.String(index)})
		}
		out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(metric),
			Dimensions: dims, StartTime: aws.Time(start), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(60),
			Statistics: []cwtypes.Statistic{cwtypes.Statistic(stat)}})
		if err != nil {
			t.Fatal(err)
		}
		total, found := 0.0, false
		for _, d := range out.Datapoints {
			found = true
			if stat == "Sum" {
				total += aws.ToFloat64(d.Sum)
			} else {
				total = max(total, aws.ToFloat64(d.Maximum))
			}
		}
		return total, found
	}
	deadline := time.Now().Add(30 * time.Second)
	for key, units := range want {
		metric, index, _ := strings.Cut(key, " ")
		for {
			got, _ := sum(metric, index, "Sum")
			if got == units {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s of orders %q: Sum %v, the responses reported %v", metric, index, got, units)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, c := range []struct {
		metric, index string
		want          float64
	}{
		{"ProvisionedWriteCapacityUnits", "", 5}, {"ProvisionedReadCapacityUnits", "", 7},
		{"ProvisionedWriteCapacityUnits", "byDay", 4}, {"ProvisionedReadCapacityUnits", "byDay", 3},
	} {
		if got, ok := sum(c.metric, c.index, "Maximum"); !ok || got != c.want {
			t.Errorf("%s of orders %q: %v (%v), want %v", c.metric, c.index, got, ok, c.want)
		}
	}
}
