package sqs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// TestAttributeValidationAsSQS: queue attributes and per-message parameters
// out of SQS's ranges, unknown or read-only names, and FIFO-only attributes on
// a standard queue are refused through the SDK with SQS's codes and words.
func TestAttributeValidationAsSQS(t *testing.T) {
	t.Parallel()
	c := startWharf(t)
	ctx := context.Background()
	std, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("std")})
	if err != nil {
		t.Fatal(err)
	}
	fifo, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("jobs.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	create := func(attrs map[string]string) error {
		_, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("new"), Attributes: attrs})
		return err
	}
	set := func(url *string, attrs map[string]string) func() error {
		return func() error {
			_, err := c.SetQueueAttributes(ctx, &sdksqs.SetQueueAttributesInput{QueueUrl: url, Attributes: attrs})
			return err
		}
	}
	cases := []struct {
		name, code, message string
		call                func() error
	}{
		{"visibility above 12 hours", "InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.",
			func() error { return create(map[string]string{"VisibilityTimeout": "43201"}) }},
		{"retention below a minute", "InvalidAttributeValue", "Invalid value for the parameter MessageRetentionPeriod.",
			func() error { return create(map[string]string{"MessageRetentionPeriod": "59"}) }},
		{"message size above 1 MiB", "InvalidAttributeValue", "Invalid value for the parameter MaximumMessageSize.",
			set(std.QueueUrl, map[string]string{"MaximumMessageSize": "1048577"})},
		{"delay not a number", "InvalidAttributeValue", "Invalid value for the parameter DelaySeconds.",
			set(std.QueueUrl, map[string]string{"DelaySeconds": "soon"})},
		{"wait above 20 seconds", "InvalidAttributeValue", "Invalid value for the parameter ReceiveMessageWaitTimeSeconds.",
			set(std.QueueUrl, map[string]string{"ReceiveMessageWaitTimeSeconds": "21"})},
		{"redrive receive count 0", "InvalidAttributeValue",
			"Invalid value for the parameter RedrivePolicy. Reason: Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive.",
			set(std.QueueUrl, map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:std","maxReceiveCount":0}`})},
		{"unknown attribute", "InvalidAttributeName", "Unknown Attribute Colour.",
			func() error { return create(map[string]string{"Colour": "blue"}) }},
		{"read-only attribute", "InvalidAttributeName", "Unknown Attribute QueueArn.",
			set(std.QueueUrl, map[string]string{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:x"})},
		{"FIFO attribute on a standard queue", "InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication.",
			set(std.QueueUrl, map[string]string{"ContentBasedDeduplication": "true"})},
		{"FifoQueue false after creation", "InvalidAttributeValue", "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
			set(fifo.QueueUrl, map[string]string{"FifoQueue": "false"})},
		{"FifoQueue on a standard queue", "InvalidAttributeName", "Unknown Attribute FifoQueue.",
			set(std.QueueUrl, map[string]string{"FifoQueue": "true"})},
		{"FifoQueue=false creating a standard queue", "InvalidAttributeName", "Unknown Attribute FifoQueue.",
			func() error { return create(map[string]string{"FifoQueue": "false"}) }},
		{"DeduplicationScope creating a standard queue", "InvalidAttributeName", "You can specify the DeduplicationScope only when FifoQueue is set to true.",
			func() error { return create(map[string]string{"DeduplicationScope": "queue"}) }},
		{"FifoThroughputLimit creating a standard queue", "InvalidAttributeName", "You can specify the FifoThroughputLimit only when FifoQueue is set to true.",
			func() error { return create(map[string]string{"FifoThroughputLimit": "perQueue"}) }},
		{"unknown attribute read", "InvalidAttributeName", "Unknown Attribute Colour.", func() error {
			_, err := c.GetQueueAttributes(ctx, &sdksqs.GetQueueAttributesInput{QueueUrl: std.QueueUrl, AttributeNames: []types.QueueAttributeName{"Colour"}})
			return err
		}},
		{"per-message delay on a FIFO queue", "InvalidParameterValue",
			"Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", func() error {
				_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: fifo.QueueUrl, MessageBody: aws.String("x"),
					MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d"), DelaySeconds: 5})
				return err
			}},
		{"per-message delay above 15 minutes", "InvalidParameterValue",
			"Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", func() error {
				_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: std.QueueUrl, MessageBody: aws.String("x"), DelaySeconds: 901})
				return err
			}},
		{"MessageGroupId with a space", "InvalidParameterValue",
			"Value group 123 for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.", func() error {
				_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: std.QueueUrl, MessageBody: aws.String("x"), MessageGroupId: aws.String("group 123")})
				return err
			}},
		{"empty MessageGroupId", "InvalidParameterValue",
			"Value  for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.", func() error {
				_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: std.QueueUrl, MessageBody: aws.String("x"), MessageGroupId: aws.String("")})
				return err
			}},
		{"MessageDeduplicationId of 129 characters", "InvalidParameterValue",
			"Value " + strings.Repeat("a", 129) + " for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.", func() error {
				_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: fifo.QueueUrl, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"),
					MessageDeduplicationId: aws.String(strings.Repeat("a", 129))})
				return err
			}},
		{"empty string attribute", "InvalidParameterValue", "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'.", func() error {
			_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: std.QueueUrl, MessageBody: aws.String("x"),
				MessageAttributes: map[string]types.MessageAttributeValue{"ErrorDetails": {DataType: aws.String("String"), StringValue: aws.String("")}}})
			return err
		}},
		{"FIFO batch with an entry without MessageGroupId", "InvalidParameterValue", "The request must contain the parameter MessageGroupId.", func() error {
			_, err := c.SendMessageBatch(ctx, &sdksqs.SendMessageBatchInput{QueueUrl: fifo.QueueUrl, Entries: []types.SendMessageBatchRequestEntry{
				{Id: aws.String("a"), MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d1")},
				{Id: aws.String("b"), MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d2")}}})
			return err
		}},
		{"FIFO batch with an entry without MessageDeduplicationId", "InvalidParameterValue",
			"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly", func() error {
				_, err := c.SendMessageBatch(ctx, &sdksqs.SendMessageBatchInput{QueueUrl: fifo.QueueUrl, Entries: []types.SendMessageBatchRequestEntry{
					{Id: aws.String("a"), MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d1")},
					{Id: aws.String("b"), MessageBody: aws.String("x"), MessageGroupId: aws.String("g")}}})
				return err
			}},
		{"receive more than 10", "InvalidParameterValue",
			"Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", func() error {
				_, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: std.QueueUrl, MaxNumberOfMessages: 11})
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ae smithy.APIError
			if err := tc.call(); !errors.As(err, &ae) || ae.ErrorCode() != tc.code || ae.ErrorMessage() != tc.message {
				t.Errorf("got %v, want %s: %s", err, tc.code, tc.message)
			}
		})
	}
	if _, err := c.SetQueueAttributes(ctx, &sdksqs.SetQueueAttributesInput{QueueUrl: fifo.QueueUrl, Attributes: map[string]string{"FifoQueue": "true"}}); err != nil {
		t.Errorf("FifoQueue=true again on a FIFO queue: %v, want it accepted as SQS does", err)
	}
	if r, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: fifo.QueueUrl}); err != nil || len(r.Messages) != 0 {
		t.Errorf("the FIFO queue after refused sends: %v %+v, want no message (a refused batch sends none)", err, r)
	}
	// Nothing refused changed the queue.
	a, err := c.GetQueueAttributes(ctx, &sdksqs.GetQueueAttributesInput{QueueUrl: std.QueueUrl, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Attributes["MaximumMessageSize"] != "1048576" || a.Attributes["DelaySeconds"] != "0" || a.Attributes["RedrivePolicy"] != "" {
		t.Errorf("attributes after refused changes: %v", a.Attributes)
	}
}
