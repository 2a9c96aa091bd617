package events

import (
	"context"
	"fmt"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
)

// SNSTopics is what the SNS target needs of SNS. *sns.Service implements it.
type SNSTopics interface {
	Publish(ctx context.Context, in *snsapi.PublishInput) (*snsapi.PublishOutput, error)
}

// SNSTarget delivers events to SNS topics named by their ARN, as Publish calls
// in the topic's account and region. A FIFO topic gets the target's
// SqsParameters.MessageGroupId as its group (Scheduler's SNS FIFO targets use
// that field too), and the event id deduplicates.
type SNSTarget struct {
	Topics SNSTopics
}

// Deliver publishes d.Input to the topic d.Target.Arn names.
func (t SNSTarget) Deliver(ctx context.Context, d *Delivery) error {
	if t.Topics == nil {
		return fmt.Errorf("sns target: no SNS")
	}
	arn := awsapi.ToString(d.Target.Arn)
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sns" || parts[5] == "" {
		return fmt.Errorf("sns target: %q is not a topic ARN", arn)
	}
	reg, account := parts[3], parts[4]
	ctx = awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Region: reg, Service: "sns", Operation: "Publish",
		ARN: "arn:aws:iam::" + account + ":root", Host: "sns." + reg + ".amazonaws.com"})
	in := &snsapi.PublishInput{TopicArn: awsapi.String(arn), Message: awsapi.String(string(d.Input))}
	if strings.HasSuffix(parts[5], ".fifo") {
		if p := d.Target.SqsParameters; p != nil && p.MessageGroupId != nil {
			in.MessageGroupId = p.MessageGroupId
		}
		if d.EventID != "" {
			in.MessageDeduplicationId = awsapi.String(d.EventID)
		}
	}
	_, err := t.Topics.Publish(ctx, in)
	return err
}
