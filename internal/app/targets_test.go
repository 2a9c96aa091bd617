package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestEventBridgeDeliversToALogGroupTarget: a rule with two targets on the
// same CloudWatch Logs log group writes each matched event, as JSON, once per
// target, each in a log stream of its own not named after the event id, as
// EventBridge does on AWS (localstack's AWS-validated snapshot of a scheduled
// rule with two log group targets shows two streams).
func TestEventBridgeDeliversToALogGroupTarget(t *testing.T) {
	t.Parallel()
	w := wharftest.Start(t)
	cfg := w.Config()
	eb, cwl := eventbridge.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	group := "/aws/events/orders"
	if _, err := cwl.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"),
		EventPattern: aws.String(`{"source":["com.example.orders"]}`)}); err != nil {
		t.Fatal(err)
	}
	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []ebtypes.Target{
		{Id: aws.String("log"), Arn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:" + group + ":*")},
		{Id: aws.String("log-again"), Arn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:" + group)},
	}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, out)
	}
	pe, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("com.example.orders"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{"order":42}`)},
	}})
	if err != nil || pe.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, pe)
	}
	id := aws.ToString(pe.Entries[0].EventId)

	var got, streams []string
	for ctx.Err() == nil && len(got) < 2 {
		f, err := cwl.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		got, streams = nil, nil
		for _, e := range f.Events {
			got = append(got, aws.ToString(e.Message))
			streams = append(streams, aws.ToString(e.LogStreamName))
		}
		if len(got) < 2 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if len(got) != 2 || got[0] != got[1] {
		t.Fatalf("log events %q, want the event once per target", got)
	}
	if streams[0] == streams[1] || streams[0] == id || streams[1] == id {
		t.Errorf("log streams %q, want one per delivery, neither the event id %s", streams, id)
	}
	var ev struct {
		ID         string          `json:"id"`
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(got[0]), &ev); err != nil {
		t.Fatalf("log event is not the event JSON: %v: %s", err, got[0])
	}
	if ev.ID != id || ev.Source != "com.example.orders" || ev.DetailType != "Order Placed" || strings.TrimSpace(string(ev.Detail)) != `{"order":42}` {
		t.Errorf("log event %s", got[0])
	}
	for _, stream := range streams {
		g, err := cwl.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err != nil || len(g.Events) != 1 || aws.ToString(g.Events[0].Message) != got[0] {
			t.Fatalf("GetLogEvents of stream %s: %v %+v", stream, err, g)
		}
	}
}

// TestLogGroupTargetTakesTimestampAndMessageFromItsInputTransformer: an input
// transformer for a log group target makes {"timestamp": ..., "message": ...}
// (the shape AWS's CDK LogGroupTargetInput builds), and the log event is that
// message at that timestamp, not the JSON around them.
func TestLogGroupTargetTakesTimestampAndMessageFromItsInputTransformer(t *testing.T) {
	t.Parallel()
	cfg := wharftest.Start(t).Config()
	eb, cwl := eventbridge.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	group := "/aws/events/shaped"
	if _, err := cwl.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("shaped"), EventPattern: aws.String(`{"source":["com.example.shaped"]}`)}); err != nil {
		t.Fatal(err)
	}
	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("shaped"), Targets: []ebtypes.Target{{
		Id: aws.String("log"), Arn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:" + group),
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: map[string]string{"time": "$.time", "kind": "$.detail-type", "order": "$.detail.order"},
			InputTemplate: aws.String(`{"timestamp":<time>,"message":"order <order>: <kind>"}`)},
	}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, out)
	}
	at := time.Now().Add(-time.Minute).Truncate(time.Second).UTC()
	pe, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{Source: aws.String("com.example.shaped"),
		DetailType: aws.String("Order Placed"), Detail: aws.String(`{"order":42}`), Time: aws.Time(at)}}})
	if err != nil || pe.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, pe)
	}
	for ctx.Err() == nil {
		f, err := cwl.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Events) == 0 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		e := f.Events[0]
		if len(f.Events) != 1 || aws.ToString(e.Message) != "order 42: Order Placed" || aws.ToInt64(e.Timestamp) != at.UnixMilli() {
			t.Fatalf("log events %+v, want one \"order 42: Order Placed\" at %d", f.Events, at.UnixMilli())
		}
		return
	}
	t.Fatal("no log event arrived")
}
