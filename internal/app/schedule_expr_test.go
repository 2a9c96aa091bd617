package app_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/smithy-go"
)

// TestScheduleExpressionsRefusedAsAWS: the rate and cron expressions
// EventBridge's PutRule and Scheduler's CreateSchedule refuse on AWS (their
// recorded answers in localstack's AWS-validated snapshots) are refused in
// their words through the server, spaces around a rate's value included.
func TestScheduleExpressionsRefusedAsAWS(t *testing.T) {
	t.Parallel()
	w := newKindsWorld(t)
	for _, expr := range []string{"rate( 10 minutes )", " rate(10 minutes)", "rate(10  minutes)", "rate()", "rate(10)", "rate(foo minutes)",
		"rate(-10 minutes)", "rate(10 minutess)", "rate(10 seconds)", "rate(10 years)", "cron()", "cron(0 1 * * * *)", "cron(71 8 1 * ? *)", "cron(INVALID)"} {
		_, err := w.eb.PutRule(w.ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), ScheduleExpression: aws.String(expr)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != "Parameter ScheduleExpression is not valid." {
			t.Errorf("PutRule %q: %v, want ValidationException \"Parameter ScheduleExpression is not valid.\"", expr, err)
		}
		_, err = w.sc.CreateSchedule(w.ctx, &scheduler.CreateScheduleInput{Name: aws.String("s"), ScheduleExpression: aws.String(expr),
			FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
			Target:             &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:" + kindsAcct + ":q"), RoleArn: aws.String("arn:aws:iam::" + kindsAcct + ":role/scheduler")}})
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != "Invalid Schedule Expression "+expr+"." {
			t.Errorf("CreateSchedule %q: %v, want ValidationException \"Invalid Schedule Expression %s.\"", expr, err, expr)
		}
	}
}
