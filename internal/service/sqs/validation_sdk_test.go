package sqs_test

import (
	"context"
	"errors"
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
		{"FifoQueue after creation", "InvalidAttributeName", "Unknown Attribute FifoQueue.",
			set(fifo.QueueUrl, map[string]string{"FifoQueue": "true"})},
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
	// Nothing refused changed the queue.
	a, err := c.GetQueueAttributes(ctx, &sdksqs.GetQueueAttributesInput{QueueUrl: std.QueueUrl, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Attributes["MaximumMessageSize"] != "1048576" || a.Attributes["DelaySeconds"] != "0" || a.Attributes["RedrivePolicy"] != "" {
		t.Errorf("attributes after refused changes: %v", a.Attributes)
	}
}
