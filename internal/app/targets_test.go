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

// TestEventBridgeDeliversToALogGroupTarget: a rule with a CloudWatch Logs log
// group target writes each matched event, as JSON, to a log stream named after
// the event id (as EventBridge does on AWS).
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

	var got []string
	for ctx.Err() == nil && len(got) == 0 {
		f, err := cwl.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range f.Events {
			if aws.ToString(e.LogStreamName) != id {
				t.Errorf("log stream %q, want the event id %q", aws.ToString(e.LogStreamName), id)
			}
			got = append(got, aws.ToString(e.Message))
		}
		if len(got) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if len(got) != 1 {
		t.Fatalf("log events %q, want the one event", got)
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
	g, err := cwl.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(id), StartFromHead: aws.Bool(true)})
	if err != nil || len(g.Events) != 1 || aws.ToString(g.Events[0].Message) != got[0] {
		t.Fatalf("GetLogEvents of stream %s: %v %+v", id, err, g)
	}
}
