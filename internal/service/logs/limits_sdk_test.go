package logs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestSDKHostileFilterPatternIsRefused sends a 1 MB JSON filter pattern nested
// 500,000 parentheses deep and the deepest one within the model's 1024
// characters: the first is a clean 400 InvalidParameterException, the second
// filters, and the server keeps serving.
func TestSDKHostileFilterPatternIsRefused(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	group, stream := aws.String("/wharf/hostile"), aws.String("s")
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: group}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: group, LogStreamName: stream}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: group, LogStreamName: stream, LogEvents: []types.InputLogEvent{
		{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(`{"a":1}`)},
	}}); err != nil {
		t.Fatal(err)
	}
	nested := func(d int) string {
		return "{ " + strings.Repeat("(", d) + "$.a = 1" + strings.Repeat(")", d) + " }"
	}
	_, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: group, FilterPattern: aws.String(nested(500_000))})
	var bad *types.InvalidParameterException
	var re *awshttp.ResponseError
	if !errors.As(err, &bad) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("1 MB pattern: %v", err)
	}
	out, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: group, FilterPattern: aws.String(nested(506))})
	if err != nil || len(out.Events) != 1 {
		t.Fatalf("the deepest pattern within 1024 characters: %v, %v", out, err)
	}
}
