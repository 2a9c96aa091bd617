package integration

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestInputTemplateStringsHoldObjectsWithoutQuotes: an InputTemplate that
// puts an array or object value inside a string delivers it with its double
// quotes removed, as AWS does (localstack's AWS-validated
// test_input_transformer_nested_keys_replacement, test_events_inputs.snapshot.json:
// the SQS body recorded for this template, event and InputPathsMap). Wharf
// delivered "["HIGH"] single list item ..., not JSON.
func TestInputTemplateStringsHoldObjectsWithoutQuotes(t *testing.T) {
	t.Parallel()
	ep := start(t)
	cfg := awsConfig(ep, "test", "test", "")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := context.Background()

	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("accounts"),
		EventPattern: aws.String(`{"source":["core.update-account-command"],"detail":{"command":["update-account"]}}`)}); err != nil {
		t.Fatal(err)
	}
	url, arn := queueWithARN(t, q, "transformed")
	tpl := `"<listsingle> single list item <listmulti> multiple list items <systemstring> system account id <payload> payload <userId> user id"`
	if out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("accounts"), Targets: []ebtypes.Target{{
		Id: aws.String("q"), Arn: aws.String(arn),
		InputTransformer: &ebtypes.InputTransformer{InputTemplate: aws.String(tpl), InputPathsMap: map[string]string{
			"userId": "$.detail.payload.acc_id", "payload": "$.detail.payload", "systemstring": "$.detail.awsAccountId",
			"listsingle": "$.detail.listsingle", "listmulti": "$.detail.listmulti", "valid": "$.detail.valid",
		}},
	}}}); err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, out)
	}
	detail := `{"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}, "listsingle": ["HIGH"], "listmulti": ["ACTIVE", "INACTIVE"], "valid": true}`
	put, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("core.update-account-command"), DetailType: aws.String("core.update-account-command"), Detail: aws.String(detail),
	}}})
	if err != nil || put.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, put)
	}
	want := `"[HIGH] single list item [ACTIVE,INACTIVE] multiple list items  system account id {acc_id:0a787ecb-4015,sf_id:baz} payload 0a787ecb-4015 user id"`
	if got := receiveOne(t, q, url); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}
