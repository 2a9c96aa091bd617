package events

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/timeline"
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

// SQSBatchQueues is what SQSTarget uses, when SQS has it, to send several
// events to one queue at once. *sqs.Service implements it.
type SQSBatchQueues interface {
	// SendMessages sends ins, which name one queue, as SendMessage calls
	// made one after another would, and returns each one's error; causes[i]
	// is the timeline cause of ins[i].
	SendMessages(ctx context.Context, ins []*sqsapi.SendMessageInput, causes []string) []error
}

// Deliver sends d.Input to the queue d.Target.Arn names.
func (t SQSTarget) Deliver(ctx context.Context, d *Delivery) error {
	if t.Queues == nil {
		return fmt.Errorf("sqs target: no SQS")
	}
	in, err := sendInput(d)
	if err != nil {
		return err
	}
	_, err = t.Queues.SendMessage(withQueueOwner(ctx, d), in)
	return err
}

// DeliverBatch sends each of ds, which name one queue, as Deliver would, in
// one SendMessages call when SQS has it: a round's events for a queue are
// then one commit, not one each.
func (t SQSTarget) DeliverBatch(ctx context.Context, ds []*Delivery) []error {
	errs := make([]error, len(ds))
	bq, ok := t.Queues.(SQSBatchQueues)
	if !ok || len(ds) < 2 {
		for i, d := range ds {
			errs[i] = t.Deliver(timeline.WithCause(ctx, d.EventID), d)
		}
		return errs
	}
	ins := make([]*sqsapi.SendMessageInput, 0, len(ds))
	causes := make([]string, 0, len(ds))
	at := make([]int, 0, len(ds)) // ds index of ins[i]
	for i, d := range ds {
		in, err := sendInput(d)
		if err != nil {
			errs[i] = err
			continue
		}
		ins, causes, at = append(ins, in), append(causes, d.EventID), append(at, i)
	}
	if len(ins) == 0 {
		return errs
	}
	for j, err := range bq.SendMessages(withQueueOwner(ctx, ds[at[0]]), ins, causes) {
		errs[at[j]] = err
	}
	return errs
}

// withQueueOwner is ctx with the caller a delivery to d's queue acts as:
// the queue's owner, in the queue's region.
func withQueueOwner(ctx context.Context, d *Delivery) context.Context {
	parts, _ := arnFields(awsapi.ToString(d.Target.Arn)) // a queue ARN: sendInput checked it
	reg, account := parts[3], parts[4]
	c := lastOwner.Load()
	if c == nil || c.Account != account || c.Region != reg {
		c = &awsapi.Caller{Account: account, Region: reg, Service: "sqs", Operation: "SendMessage",
			ARN: "arn:aws:iam::" + account + ":root", Host: "sqs." + reg + ".amazonaws.com"}
		lastOwner.Store(c)
	}
	return awsapi.WithCaller(ctx, c)
}

// lastOwner is the caller withQueueOwner made last, used again for the
// next delivery to a queue of the same account and region (nearly every
// one) instead of building it and its two strings each time. Nothing
// changes a Caller once it is in a context: the SendMessage it is made
// for reads it only.
var lastOwner atomic.Pointer[awsapi.Caller]

// sendInput is the SendMessage that delivers d, or why there is none.
func sendInput(d *Delivery) (*sqsapi.SendMessageInput, error) {
	arn := awsapi.ToString(d.Target.Arn)
	parts, ok := arnFields(arn)
	if !ok || parts[2] != "sqs" || parts[5] == "" {
		return nil, fmt.Errorf("sqs target: %q is not a queue ARN", arn)
	}
	reg, account, name := parts[3], parts[4], parts[5]
	// A queue URL's path names the queue; a name of a queue name's
	// characters is given as the path alone, which SQS reads without
	// parsing a URL. Any other is given as a URL, parsed as before.
	// The input and the strings it points to are one allocation: every
	// delivery to a queue builds one.
	b := &struct {
		in             sqsapi.SendMessageInput
		queueURL, body string
	}{queueURL: "/" + account + "/" + name, body: string(d.Input)}
	if !queueNameChars(name) || !queueNameChars(account) {
		b.queueURL = "https://sqs." + reg + ".amazonaws.com/" + account + "/" + name
	}
	in := &b.in
	in.QueueUrl, in.MessageBody = &b.queueURL, &b.body
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
	return in, nil
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
