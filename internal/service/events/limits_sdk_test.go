package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// TestSDKHostileEventPatternIsRefused puts a rule whose pattern nests one
// level past the compiler's bound: InvalidEventPatternException, and no rule
// is stored; the deepest pattern allowed is stored and TestEventPattern
// matches an event as deep with it.
func TestSDKHostileEventPatternIsRefused(t *testing.T) {
	eb, _ := startWharf(t)
	ctx := context.Background()
	deep := func(d int, leaf string) string { return strings.Repeat(`{"a":`, d) + leaf + strings.Repeat("}", d) }
	_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("deep"), EventPattern: aws.String(deep(1000, `["x"]`))})
	var bad *types.InvalidEventPatternException
	if !errors.As(err, &bad) {
		t.Fatalf("1001 levels: %v, want InvalidEventPatternException", err)
	}
	if _, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("deep")}); err == nil {
		t.Fatal("the refused rule was stored")
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("deepest"), EventPattern: aws.String(deep(999, `["x"]`))}); err != nil {
		t.Fatalf("the deepest pattern allowed: %v", err)
	}
	event := `{"id":"1","account":"000000000000","source":"s","time":"2026-12-06T00:00:00Z","region":"us-east-1","detail-type":"t","resources":[],"a":` + deep(998, `"x"`) + `}`
	out, err := eb.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(deep(999, `["x"]`)), Event: aws.String(event)})
	if err != nil || !out.Result {
		t.Fatalf("TestEventPattern: %v %v", out, err)
	}
}
