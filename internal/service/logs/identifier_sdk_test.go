package logs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// wantCode fails t unless err is the API error code, with a message holding want.
func wantCode(t *testing.T, what string, err error, code, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), want) {
		t.Errorf("%s: %v, want %s with %q", what, err, code, want)
	}
}

// TestLogGroupIdentifierIsANameOrAnARN: logGroupIdentifier takes a group's
// name or its ARN (with or without DescribeLogGroups' trailing ":*"); an ARN
// of another account or region names no group the caller has; a malformed
// ARN, or a name and an identifier together, are refused.
func TestLogGroupIdentifierIsANameOrAnARN(t *testing.T) {
	t.Parallel()
	c := startWharf(t)
	ctx := context.Background()
	g := "/wharf/ids"
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(g), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String("hello")}}}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:logs:us-east-1:000000000000:log-group:" + g
	for _, id := range []string{g, arn, arn + ":*"} {
		out, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupIdentifier: aws.String(id), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
		if err != nil || len(out.Events) != 1 {
			t.Errorf("GetLogEvents by %s: %v %+v", id, err, out)
		}
		f, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupIdentifier: aws.String(id)})
		if err != nil || len(f.Events) != 1 {
			t.Errorf("FilterLogEvents by %s: %v %+v", id, err, f)
		}
		d, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String(id)})
		if err != nil || len(d.LogStreams) != 1 {
			t.Errorf("DescribeLogStreams by %s: %v %+v", id, err, d)
		}
	}
	_, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:111111111111:log-group:" + g), LogStreamName: aws.String("s")})
	wantCode(t, "another account's ARN", err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:eu-west-1:000000000000:log-group:" + g), LogStreamName: aws.String("s")})
	wantCode(t, "another region's ARN", err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:s3:::bucket"), LogStreamName: aws.String("s")})
	wantCode(t, "an ARN that is not a log group's", err, "InvalidParameterException", "Invalid log group ARN")
	_, err = c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(g), LogGroupIdentifier: aws.String(arn)})
	wantCode(t, "name and identifier", err, "ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	d, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupIdentifiers: []string{arn, "arn:aws:logs:us-east-1:111111111111:log-group:" + g}})
	if err != nil || len(d.LogGroups) != 1 || aws.ToString(d.LogGroups[0].LogGroupName) != g {
		t.Errorf("DescribeLogGroups by identifiers: %v %+v", err, d)
	}
}

// TestSubscriptionFiltersAreValidatedThenRefused: wharf has none of the
// destinations a subscription filter delivers to (Kinesis, Firehose, Lambda,
// Logs destinations), so PutSubscriptionFilter validates the request as
// CloudWatch Logs does (group, filter name, pattern, distribution, ARN) and
// then refuses the destination; nothing is stored, so the group has no
// filters and deleting one finds none.
func TestSubscriptionFiltersAreValidatedThenRefused(t *testing.T) {
	t.Parallel()
	c := startWharf(t)
	ctx := context.Background()
	g := "/wharf/subs"
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	put := func(group, pattern, dest, dist string) error {
		in := &cwl.PutSubscriptionFilterInput{LogGroupName: aws.String(group), FilterName: aws.String("f"), FilterPattern: aws.String(pattern),
			DestinationArn: aws.String(dest)}
		if dist != "" {
			in.Distribution = types.Distribution(dist)
		}
		_, err := c.PutSubscriptionFilter(ctx, in)
		return err
	}
	lambda := "arn:aws:lambda:us-east-1:000000000000:function:handler"
	wantCode(t, "missing group", put("/wharf/none", "", lambda, ""), "ResourceNotFoundException", "The specified log group does not exist.")
	wantCode(t, "bad pattern", put(g, `{ $.a = `, lambda, ""), "InvalidParameterException", "")
	wantCode(t, "bad distribution", put(g, "", lambda, "Sometimes"), "InvalidParameterException", "distribution")
	wantCode(t, "not an ARN", put(g, "", "handler", ""), "InvalidParameterException", "Invalid destinationArn")
	wantCode(t, "an SQS queue", put(g, "", "arn:aws:sqs:us-east-1:000000000000:q", ""), "InvalidParameterException", "Invalid destinationArn")
	for _, dest := range []string{lambda, "arn:aws:kinesis:us-east-1:000000000000:stream/s", "arn:aws:firehose:us-east-1:000000000000:deliverystream/d",
		"arn:aws:logs:us-east-1:000000000000:destination:d"} {
		wantCode(t, dest, put(g, "ERROR", dest, "ByLogStream"), "InvalidParameterException", "Could not deliver test message to specified destination.")
	}
	d, err := c.DescribeSubscriptionFilters(ctx, &cwl.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(g)})
	if err != nil || d.SubscriptionFilters == nil || len(d.SubscriptionFilters) != 0 {
		t.Errorf("DescribeSubscriptionFilters: %v %+v", err, d)
	}
	_, err = c.DescribeSubscriptionFilters(ctx, &cwl.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("/wharf/none")})
	wantCode(t, "describe a missing group's", err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = c.DeleteSubscriptionFilter(ctx, &cwl.DeleteSubscriptionFilterInput{LogGroupName: aws.String(g), FilterName: aws.String("f")})
	wantCode(t, "delete", err, "ResourceNotFoundException", "The specified subscription filter does not exist.")
}

// TestLogGroupsAndMetricFiltersAnswerAsAWS: what CloudWatch Logs answers in
// its AWS-recorded responses — a group or stream name over 512 characters in
// its own words, DescribeLogGroups counting each group's metric filters and
// reporting deletion protection off as false, and DescribeMetricFilters
// taking a filter name prefix without a log group (across groups) but
// refusing a metric name over 255 characters.
func TestLogGroupsAndMetricFiltersAnswerAsAWS(t *testing.T) {
	t.Parallel()
	c := startWharf(t)
	ctx := context.Background()
	long := strings.Repeat("X", 513)
	const tooLong = "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(long)})
	wantCode(t, "a 513-character group", err, "InvalidParameterException", tooLong)
	_, err = c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String(long), FilterName: aws.String("f")})
	wantCode(t, "DeleteMetricFilter of a 513-character group", err, "InvalidParameterException", tooLong)
	for _, g := range []string{"/wharf/a", "/wharf/b", "/wharf/c"} {
		if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/wharf/a"), LogStreamName: aws.String(long)})
	wantCode(t, "a 513-character stream", err, "InvalidParameterException", tooLong)
	put := func(g, name string) {
		t.Helper()
		if _, err := c.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String(g), FilterName: aws.String(name), FilterPattern: aws.String("ERROR"),
			MetricTransformations: []types.MetricTransformation{{MetricNamespace: aws.String("app"), MetricName: aws.String(name), MetricValue: aws.String("1")}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("/wharf/a", "errors-a")
	put("/wharf/a", "other")
	put("/wharf/b", "errors-b")
	d, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/wharf/")})
	if err != nil || len(d.LogGroups) != 3 {
		t.Fatalf("DescribeLogGroups: %v %+v", err, d)
	}
	for i, want := range []int32{2, 1, 0} {
		g := d.LogGroups[i]
		if aws.ToInt32(g.MetricFilterCount) != want || g.DeletionProtectionEnabled == nil || *g.DeletionProtectionEnabled {
			t.Errorf("%s: metricFilterCount %d, want %d; deletionProtectionEnabled %v, want false", aws.ToString(g.LogGroupName),
				aws.ToInt32(g.MetricFilterCount), want, g.DeletionProtectionEnabled)
		}
	}
	f, err := c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{FilterNamePrefix: aws.String("errors-")})
	if err != nil || len(f.MetricFilters) != 2 || aws.ToString(f.MetricFilters[0].FilterName) != "errors-a" || aws.ToString(f.MetricFilters[1].FilterName) != "errors-b" {
		t.Errorf("DescribeMetricFilters by prefix alone: %v %+v", err, f)
	}
	_, err = c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{MetricName: aws.String(strings.Repeat("m", 256)), MetricNamespace: aws.String("app")})
	wantCode(t, "a 256-character metric name", err, "InvalidParameterException", "Member must have length less than or equal to 255")
}
