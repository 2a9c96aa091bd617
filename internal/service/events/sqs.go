package events

import (
	"context"
	"fmt"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

// SQSQueues is what the SQS target needs of SQS. *sqs.Service implements it.
type SQSQueues interface {
	SendMessage(ctx context.Context, in *sqsapi.SendMessageInput) (*sqsapi.SendMessageOutput, error)
}

// SQSTarget delivers events to SQS queues named by their ARN, as SendMessage
// calls in the queue's account and region. For a FIFO queue the target's
// SqsParameters.MessageGroupId is the group, and the event id deduplicates.
type SQSTarget struct {
	Queues SQSQueues
}

// Deliver sends d.Input to the queue d.Target.Arn names.
func (t SQSTarget) Deliver(ctx context.Context, d *Delivery) error {
	if t.Queues == nil {
		return fmt.Errorf("sqs target: no SQS")
	}
	arn := awsapi.ToString(d.Target.Arn)
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sqs" || parts[5] == "" {
		return fmt.Errorf("sqs target: %q is not a queue ARN", arn)
	}
	reg, account, name := parts[3], parts[4], parts[5]
	ctx = awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Region: reg, Service: "sqs", Operation: "SendMessage",
		ARN: "arn:aws:iam::" + account + ":root", Host: "sqs." + reg + ".amazonaws.com"})
	// A queue URL's path names the queue; a name of a queue name's
	// characters is given as the path alone, which SQS reads without
	// parsing a URL. Any other is given as a URL, parsed as before.
	queueURL := "/" + account + "/" + name
	if !queueNameChars(name) || !queueNameChars(account) {
		queueURL = "https://sqs." + reg + ".amazonaws.com/" + account + "/" + name
	}
	body := string(d.Input)
	in := &sqsapi.SendMessageInput{QueueUrl: &queueURL, MessageBody: &body}
	if strings.HasSuffix(name, ".fifo") {
		if p := d.Target.SqsParameters; p != nil && p.MessageGroupId != nil {
			in.MessageGroupId = p.MessageGroupId
		}
		if d.EventID != "" {
			in.MessageDeduplicationId = awsapi.String(d.EventID)
		}
	}
	if len(d.Attributes) > 0 {
		in.MessageAttributes = map[string]sqsapi.MessageAttributeValue{}
		for k, v := range d.Attributes {
			in.MessageAttributes[k] = sqsapi.MessageAttributeValue{DataType: awsapi.String("String"), StringValue: awsapi.String(v)}
		}
	}
	_, err := t.Queues.SendMessage(ctx, in)
	return err
}

// queueNameChars reports whether name is made of the characters a queue
// name may have (alphanumerics, hyphens, underscores, and the period of
// .fifo), none of which a URL escapes.
func queueNameChars(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return name != ""
}
