package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
)

// TestSDKv2PutTargetsRefusesTheWholeCallAsAWS: a target id breaking its
// pattern or length, a target with two of Input, InputPath and
// InputTransformer, or an InputTemplate naming a variable it does not define
// fail the whole PutTargets call with EventBridge's ValidationException (its
// words as localstack's AWS-validated snapshots recorded them), not a failed
// entry, and add no target; predefined variables are placeholders too.
func TestSDKv2PutTargetsRefusesTheWholeCallAsAWS(t *testing.T) {
	eb, _ := startWharf(t)
	ctx := context.Background()
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["shop"]}`)}); err != nil {
		t.Fatal(err)
	}
	queue := "arn:aws:sqs:us-east-1:000000000000:q"
	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		name   string
		target types.Target
		msg    string
	}{
		{"id pattern", types.Target{Id: aws.String("!@#$@!#$"), Arn: aws.String(queue)},
			`1 validation error detected: Value '!@#$@!#$' at 'targets.2.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+`},
		{"id length", types.Target{Id: aws.String(long), Arn: aws.String(queue)},
			"1 validation error detected: Value '" + long + "' at 'targets.2.member.id' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"two inputs", types.Target{Id: aws.String("t2"), Arn: aws.String(queue), InputPath: aws.String("$.detail"),
			InputTransformer: &types.InputTransformer{InputPathsMap: map[string]string{"a": "$.detail"}, InputTemplate: aws.String(`"<a>"`)}},
			"Only one of Input, InputPath, or InputTransformer must be provided for target t2."},
		{"undefined placeholder", types.Target{Id: aws.String("t3"), Arn: aws.String(queue),
			InputTransformer: &types.InputTransformer{InputPathsMap: map[string]string{"detail-type": "$.detail-type"},
				InputTemplate: aws.String(`"Event of <detail-type> type, with not defined key <notdefinedkey>"`)}},
			"InputTemplate for target t3 contains invalid placeholder notdefinedkey."},
	} {
		_, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"),
			Targets: []types.Target{{Id: aws.String("fine"), Arn: aws.String(queue)}, tc.target}})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != tc.msg {
			t.Errorf("%s: %v, want ValidationException %q", tc.name, err, tc.msg)
		}
	}
	l, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r")})
	if err != nil || len(l.Targets) != 0 {
		t.Errorf("targets after refused calls: %v %+v", err, l)
	}
	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{{Id: aws.String("test-With_valid.Characters-1"),
		Arn: aws.String(queue), InputTransformer: &types.InputTransformer{InputPathsMap: map[string]string{"kind": "$.detail-type"},
			InputTemplate: aws.String(`{"kind": <kind>, "rule": <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>}`)}}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Errorf("a valid id and predefined placeholders: %v %+v", err, out)
	}
}

// TestSDKv2RemovePermissionOfAMissingStatement: removing a statement id a
// bus's policy does not have is ResourceNotFoundException "Statement with the
// provided id does not exist.", whether the bus has a policy or none, as
// EventBridge answers.
func TestSDKv2RemovePermissionOfAMissingStatement(t *testing.T) {
	eb, _ := startWharf(t)
	ctx := context.Background()
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("with-policy")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutPermission(ctx, &eventbridge.PutPermissionInput{EventBusName: aws.String("with-policy"), Action: aws.String("events:PutEvents"),
		Principal: aws.String("111122223333"), StatementId: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	for _, bus := range []string{"default", "with-policy"} {
		_, err := eb.RemovePermission(ctx, &eventbridge.RemovePermissionInput{EventBusName: aws.String(bus), StatementId: aws.String("non-existing-sid")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || nf.ErrorMessage() != "Statement with the provided id does not exist." {
			t.Errorf("RemovePermission of a missing statement on %s: %v", bus, err)
		}
	}
}
