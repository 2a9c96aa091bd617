package events_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func startWharf(t *testing.T) (*eventbridge.Client, *sqs.Client) {
	t.Helper()
	cfg := wharftest.Start(t).Config()
	return eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
}

func TestSDKv2RulesTargetsAndEvents(t *testing.T) {
	c, _ := startWharf(t)
	ctx := context.Background()
	if _, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	rule, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("big-orders"),
		EventPattern: aws.String(`{"source":["com.example"],"detail":{"amount":[{"numeric":[">",100]}]}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if *rule.RuleArn != "arn:aws:events:us-east-1:000000000000:rule/big-orders" {
		t.Errorf("RuleArn %s", *rule.RuleArn)
	}
	pt, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("big-orders"), Targets: []types.Target{
		{Id: aws.String("bus"), Arn: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/orders")},
		{Id: aws.String("bad"), Arn: aws.String("nope")},
	}})
	if err != nil || pt.FailedEntryCount != 1 || *pt.FailedEntries[0].TargetId != "bad" {
		t.Fatalf("PutTargets: %v %+v", err, pt)
	}
	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("big-orders")})
	if err != nil || len(lt.Targets) != 1 {
		t.Fatalf("ListTargetsByRule: %v %+v", err, lt)
	}
	pe, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("com.example"), DetailType: aws.String("Order"), Detail: aws.String(`{"amount":150}`)},
		{Source: aws.String("com.example"), DetailType: aws.String("Order"), Detail: aws.String(`{`)},
	}})
	if err != nil || pe.FailedEntryCount != 1 || pe.Entries[0].EventId == nil || aws.ToString(pe.Entries[1].ErrorCode) != "MalformedDetail" {
		t.Fatalf("PutEvents: %v %+v", err, pe)
	}
	tp, err := c.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{
		EventPattern: aws.String(`{"detail":{"amount":[{"numeric":[">",100]}]}}`),
		Event:        aws.String(`{"id":"1","account":"000000000000","source":"com.example","time":"2024-01-01T00:00:00Z","region":"us-east-1","detail-type":"Order","detail":{"amount":150}}`),
	})
	if err != nil || !tp.Result {
		t.Errorf("TestEventPattern: %v %+v", err, tp)
	}
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`{"source":[{"prefix":5}]}`)})
	var ipe *types.InvalidEventPatternException
	if !errors.As(err, &ipe) {
		t.Errorf("invalid pattern: %T %v", err, err)
	}
	_, err = c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("missing")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("missing rule: %T %v", err, err)
	}
	lr, err := c.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("big")})
	if err != nil || len(lr.Rules) != 1 || aws.ToString(lr.Rules[0].EventBusName) != "default" {
		t.Errorf("ListRules: %v %+v", err, lr)
	}
	bus, err := c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{})
	if err != nil || *bus.Name != "default" || *bus.Arn != "arn:aws:events:us-east-1:000000000000:event-bus/default" {
		t.Errorf("DescribeEventBus: %v %+v", err, bus)
	}
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("tick"), ScheduleExpression: aws.String("cron(0/5 * * * ? *)")}); err != nil {
		t.Errorf("schedule rule: %v", err)
	}
}
