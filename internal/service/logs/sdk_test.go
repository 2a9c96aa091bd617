package logs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func startWharf(t *testing.T) *cwl.Client {
	t.Helper()
	return cwl.NewFromConfig(wharftest.Start(t).Config())
}

func TestSDKv2LogsWriteReadFilter(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/wharf/sdk"), Tags: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/wharf/sdk")})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/wharf/sdk"), LogStreamName: aws.String("s1")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	put, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("/wharf/sdk"), LogStreamName: aws.String("s1"), LogEvents: []types.InputLogEvent{
		{Timestamp: aws.Int64(now - 2000), Message: aws.String("starting")},
		{Timestamp: aws.Int64(now - 1000), Message: aws.String(`{"level":"error","msg":"boom"}`)},
		{Timestamp: aws.Int64(now + 3*3600*1000), Message: aws.String("from the future")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if put.RejectedLogEventsInfo == nil || aws.ToInt32(put.RejectedLogEventsInfo.TooNewLogEventStartIndex) != 2 {
		t.Fatalf("rejected = %+v", put.RejectedLogEventsInfo)
	}
	got, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/wharf/sdk"), LogStreamName: aws.String("s1"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 2 || *got.Events[0].Message != "starting" {
		t.Fatalf("events = %+v", got.Events)
	}
	f, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("/wharf/sdk"), FilterPattern: aws.String(`{ $.level = "error" }`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Events) != 1 || *f.Events[0].LogStreamName != "s1" || f.Events[0].EventId == nil {
		t.Fatalf("filtered = %+v", f.Events)
	}
	streams, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/wharf/sdk"), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)})
	if err != nil || len(streams.LogStreams) != 1 || aws.ToInt64(streams.LogStreams[0].LastEventTimestamp) != now-1000 {
		t.Fatalf("streams = %+v %v", streams, err)
	}
	_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/wharf/sdk"), LogStreamName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing stream: %v", err)
	}
	tags, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:/wharf/sdk")})
	if err != nil || tags.Tags["a"] != "b" {
		t.Fatalf("tags = %+v %v", tags, err)
	}
	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/wharf/sdk")}); err != nil {
		t.Fatal(err)
	}
	groups, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 0 {
		t.Fatalf("after delete: %+v %v", groups, err)
	}
}
