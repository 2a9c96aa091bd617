package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/store"
)

// commitCountingStore counts the Updates made through it: on a durable
// store each is a commit whose log record a request waits to be on disk.
type commitCountingStore struct {
	store.Store
	updates atomic.Int64
}

func (s *commitCountingStore) Update(fn func(store.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(fn)
}

// fanout is a system under --iam audit on a commitCountingStore with a
// topic (FIFO when name ends in .fifo) that three queues of its kind
// subscribe to, with their URLs.
func fanout(t *testing.T, name string) (context.Context, *System, *commitCountingStore, *string, []string) {
	t.Helper()
	cfg, err := config.Parse([]string{"--ephemeral", "--runtime", "process", "--listen", "127.0.0.1:0", "--iam", "audit"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st := &commitCountingStore{Store: store.OpenMemory()}
	t.Cleanup(func() { st.Close() })
	sys := build(deps{cfg: cfg, st: st, log: slog.New(slog.DiscardHandler), bus: eventbus.New(), loops: &Loops{}, clock: clock.Real})
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	base, fifo := strings.CutSuffix(name, ".fifo")
	var attrs map[string]string
	if fifo {
		attrs = map[string]string{"FifoTopic": "true"}
	}
	topic, err := sys.SNS.CreateTopic(ctx, &snsapi.CreateTopicInput{Name: &name, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for i := range 3 {
		qname := fmt.Sprintf("%s-%d", base, i)
		var qattrs map[string]string
		if fifo {
			qname += ".fifo"
			qattrs = map[string]string{"FifoQueue": "true"}
		}
		q, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: &qname, Attributes: qattrs})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, *q.QueueUrl)
		arn := "arn:aws:sqs:us-east-1:000000000000:" + qname
		if _, err := sys.SNS.Subscribe(ctx, &snsapi.SubscribeInput{TopicArn: topic.TopicArn, Protocol: awsapi.String("sqs"), Endpoint: &arn}); err != nil {
			t.Fatal(err)
		}
	}
	return ctx, sys, st, topic.TopicArn, urls
}

// publishOnce publishes in and checks that it made one store Update.
func publishOnce(t *testing.T, ctx context.Context, sys *System, st *commitCountingStore, in *snsapi.PublishInput) string {
	t.Helper()
	before := st.updates.Load()
	out, err := sys.SNS.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.updates.Load() - before; n != 1 {
		t.Errorf("Publish to three queues made %d store updates, want 1", n)
	}
	return *out.MessageId
}

// holdEnvelopes checks that each queue of urls holds want messages, one of
// them the envelope of message id.
func holdEnvelopes(t *testing.T, ctx context.Context, sys *System, urls []string, want int, id string) {
	t.Helper()
	for _, u := range urls {
		r, err := sys.SQS.ReceiveMessage(ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &u, MaxNumberOfMessages: awsapi.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) != want {
			t.Fatalf("%s holds %d messages, want %d", u, len(r.Messages), want)
		}
		found := false
		for _, m := range r.Messages {
			found = found || (m.Body != nil && strings.Contains(*m.Body, `"MessageId":"`+id+`"`))
		}
		if !found {
			t.Errorf("%s has no envelope of message %s", u, id)
		}
	}
}

// TestPublishToThreeQueuesIsOneCommit: a Publish to a standard topic whose
// subscribers are three queues stores the three messages in one Update
// (one commit and one wait for the disk), authorized as sns.amazonaws.com
// under --iam audit, and each queue then holds its message.
func TestPublishToThreeQueuesIsOneCommit(t *testing.T) {
	ctx, sys, st, topic, urls := fanout(t, "fanout")
	in := &snsapi.PublishInput{TopicArn: topic, Message: awsapi.String("hello")}
	if _, err := sys.SNS.Publish(ctx, in); err != nil { // fills the topic's cached view
		t.Fatal(err)
	}
	id := publishOnce(t, ctx, sys, st, in)
	holdEnvelopes(t, ctx, sys, urls, 2, id)
}

// TestFIFOPublishToThreeQueuesIsOneCommit: a FIFO topic's deduplication
// record is stored in the commit of its deliveries, not in a second one
// synced after it, and still deduplicates: the same deduplication id again
// is accepted with the first message's id and delivered nowhere.
func TestFIFOPublishToThreeQueuesIsOneCommit(t *testing.T) {
	ctx, sys, st, topic, urls := fanout(t, "fanout.fifo")
	publish := func(dedup string) *snsapi.PublishInput {
		return &snsapi.PublishInput{TopicArn: topic, Message: awsapi.String("hello " + dedup), MessageGroupId: awsapi.String("g"), MessageDeduplicationId: &dedup}
	}
	if _, err := sys.SNS.Publish(ctx, publish("first")); err != nil {
		t.Fatal(err)
	}
	id := publishOnce(t, ctx, sys, st, publish("second"))
	again, err := sys.SNS.Publish(ctx, publish("second"))
	if err != nil {
		t.Fatal(err)
	}
	if *again.MessageId != id {
		t.Errorf("duplicate publish answered message id %s, want the first's %s", *again.MessageId, id)
	}
	holdEnvelopes(t, ctx, sys, urls, 2, id)
}
