package events

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

// TestSQSTargetNamesTheQueueAsTheURLDid checks that the queue SQS reads
// from the path the SQS target gives is the one it read from the URL the
// target gave before, for names a queue may have and for others.
func TestSQSTargetNamesTheQueueAsTheURLDid(t *testing.T) {
	for _, c := range []struct{ account, name string }{
		{"123456789012", "orders"}, {"123456789012", "orders.fifo"}, {"123456789012", "a-b_c"},
		{"123456789012", "my%41queue"}, {"123456789012", "q?x=1"}, {"123456789012", "q#f"}, {"12%33", "q"}, {"1/2", "q"},
	} {
		rec := &sqsRecorder{}
		arn := "arn:aws:sqs:us-east-1:" + c.account + ":" + c.name
		if err := (SQSTarget{Queues: rec}).Deliver(context.Background(), &Delivery{Target: eventsapi.Target{Arn: &arn}, Input: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		got := sqsQueueOf(rec.url)
		want := sqsQueueOf("https://sqs.us-east-1.amazonaws.com/" + c.account + "/" + c.name)
		if got != want {
			t.Errorf("%s: queue %q from %q, want %q as from its URL", arn, got, rec.url, want)
		}
	}
}

type sqsRecorder struct{ url string }

func (r *sqsRecorder) SendMessage(_ context.Context, in *sqsapi.SendMessageInput) (*sqsapi.SendMessageOutput, error) {
	r.url = *in.QueueUrl
	return &sqsapi.SendMessageOutput{}, nil
}

// sqsQueueOf is the account and name SQS reads from a QueueUrl, as
// sqs.parseQueueURL reads them.
func sqsQueueOf(raw string) string {
	p := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "(no queue)"
		}
		p = u.Path
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) == 2 && parts[0] != "" && parts[1] != "" {
		return parts[0] + "/" + parts[1]
	}
	return "(no queue)"
}

// TestQueueOwnerIsEachQueuesAccountAndRegion checks that the caller a
// delivery acts as, kept from one delivery to the next, is the owner of
// each delivery's queue when deliveries alternate between accounts and
// regions.
func TestQueueOwnerIsEachQueuesAccountAndRegion(t *testing.T) {
	for _, arn := range []string{"arn:aws:sqs:us-east-1:111111111111:a", "arn:aws:sqs:us-east-1:111111111111:b",
		"arn:aws:sqs:eu-west-1:111111111111:a", "arn:aws:sqs:eu-west-1:222222222222:a", "arn:aws:sqs:us-east-1:111111111111:a"} {
		d := &Delivery{Target: eventsapi.Target{Arn: awsapi.String(arn)}}
		c := awsapi.CallerFrom(withQueueOwner(context.Background(), d))
		f, _ := arnFields(arn)
		if c == nil || c.Account != f[4] || c.Region != f[3] || c.ARN != "arn:aws:iam::"+f[4]+":root" || c.Host != "sqs."+f[3]+".amazonaws.com" ||
			c.Service != "sqs" || c.Operation != "SendMessage" {
			t.Errorf("%s: caller %+v", arn, c)
		}
	}
}
