package logs_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestSDKMetricFiltersPublishMetrics: through the real server, log events a
// metric filter matches publish its metric to CloudWatch — a count of ERROR
// lines (and its default value for a batch without one), and a JSON event's
// $.latency with a $.route dimension — while events it does not match
// publish nothing.
func TestSDKMetricFiltersPublishMetrics(t *testing.T) {
	w := wharftest.Start(t)
	logsc, cwc := cwl.NewFromConfig(w.Config()), cw.NewFromConfig(w.Config())
	ctx := context.Background()
	g, st := aws.String("/app/worker"), aws.String("w1")
	if _, err := logsc.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g}); err != nil {
		t.Fatal(err)
	}
	if _, err := logsc.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: st}); err != nil {
		t.Fatal(err)
	}
	filters := []cwl.PutMetricFilterInput{
		{LogGroupName: g, FilterName: aws.String("errors"), FilterPattern: aws.String("ERROR"),
			MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("Errors"), MetricNamespace: aws.String("App"),
				MetricValue: aws.String("1"), DefaultValue: aws.Float64(0), Unit: types.StandardUnitCount}}},
		{LogGroupName: g, FilterName: aws.String("latency"), FilterPattern: aws.String("{ $.latency > 0 }"),
			MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("Latency"), MetricNamespace: aws.String("App"),
				MetricValue: aws.String("$.latency"), Dimensions: map[string]string{"Route": "$.route"}, Unit: types.StandardUnitMilliseconds}}},
	}
	for _, f := range filters {
		if _, err := logsc.PutMetricFilter(ctx, &f); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	put := func(msgs ...string) {
		t.Helper()
		var evs []types.InputLogEvent
		for _, m := range msgs {
			evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String(m)})
		}
		if _, err := logsc.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: st, LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	put("starting", "ERROR cannot open /data/in.csv", `{"route": "/orders", "latency": 120}`, "ERROR retry failed")
	put(`{"route": "/orders", "latency": 80}`, `{"route": "/health", "latency": 0}`, "all good") // no ERROR: the default

	stats := func(name string, dims ...cwtypes.Dimension) *cwtypes.Datapoint {
		t.Helper()
		out, err := cwc.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String(name),
			Dimensions: dims, StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Hour)), Period: aws.Int32(7200),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount, cwtypes.StatisticMaximum}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Datapoints) != 1 {
			t.Fatalf("%s %v: %d datapoints, want 1: %+v", name, dims, len(out.Datapoints), out.Datapoints)
		}
		return &out.Datapoints[0]
	}
	if d := stats("Errors"); *d.Sum != 2 || *d.SampleCount != 3 || d.Unit != cwtypes.StandardUnitCount {
		t.Errorf("Errors: sum %v of %v samples (%s), want 2 from two ERROR lines plus one default 0, Count", *d.Sum, *d.SampleCount, d.Unit)
	}
	if d := stats("Latency", cwtypes.Dimension{Name: aws.String("Route"), Value: aws.String("/orders")}); *d.Sum != 200 || *d.SampleCount != 2 || *d.Maximum != 120 {
		t.Errorf("Latency /orders: sum %v of %v samples, max %v; want 200 of 2, max 120", *d.Sum, *d.SampleCount, *d.Maximum)
	}
	list, err := cwc.ListMetrics(ctx, &cw.ListMetricsInput{Namespace: aws.String("App"), MetricName: aws.String("Latency")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Metrics) != 1 {
		t.Errorf("Latency metrics %+v: want only /orders (latency 0 does not match the filter)", list.Metrics)
	}
}
