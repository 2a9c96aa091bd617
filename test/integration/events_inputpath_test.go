package integration

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestInputPathDeliversTheEventsOwnText: a target's InputPath selects part of
// the event, and the queue receives that part as PutEvents sent it (its keys
// in their order, its numbers as written), compacted. AWS keeps
// the order: localstack's AWS-validated InputPath tests recorded
// {"message":"baz","id":"123"} and a $.detail of 18 unsorted keys as sent.
// Wharf delivered {"n":1,"q":"a"} for {"q":"a","n":1}.
func TestInputPathDeliversTheEventsOwnText(t *testing.T) {
	t.Parallel()
	ep := start(t)
	cfg := awsConfig(ep, "test", "test", "")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := context.Background()

	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"),
		EventPattern: aws.String(`{"source":["shop"]}`)}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ target, path, want string }{
		{"detail", "$.detail", `{"q":"a","n":1.50,"s":"<b> & c","o":{"z":[3,{"y":1,"x":2}]}}`},
		{"nested", "$.detail.o.z[1]", `{"y":1,"x":2}`},
		{"number", "$.detail.n", `1.50`},
	}
	urls := map[string]string{}
	var targets []ebtypes.Target
	for _, c := range cases {
		url, arn := queueWithARN(t, q, "inputpath-"+c.target)
		urls[c.target] = url
		targets = append(targets, ebtypes.Target{Id: aws.String(c.target), Arn: aws.String(arn), InputPath: aws.String(c.path)})
	}
	if out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: targets}); err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, out)
	}
	detail := `{"q":"a", "n":1.50,"s":"<b> & c","o":{"z":[3,{"y":1,"x":2}]}}`
	put, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(detail)},
	}})
	if err != nil || put.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, put)
	}
	for _, c := range cases {
		if got := receiveOne(t, q, urls[c.target]); got != c.want {
			t.Errorf("%s (%s):\n got %s\nwant %s", c.target, c.path, got, c.want)
		}
	}
}
