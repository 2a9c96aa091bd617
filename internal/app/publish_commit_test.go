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

// TestPublishToThreeQueuesIsOneCommit: a Publish to a standard topic whose
// subscribers are three queues stores the three messages in one Update
// (one commit and one wait for the disk), authorized as sns.amazonaws.com
// under --iam audit, and each queue then holds its message.
func TestPublishToThreeQueuesIsOneCommit(t *testing.T) {
	cfg, err := config.Parse([]string{"--ephemeral", "--runtime", "process", "--listen", "127.0.0.1:0", "--iam", "audit"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st := &commitCountingStore{Store: store.OpenMemory()}
	t.Cleanup(func() { st.Close() })
	sys := build(deps{cfg: cfg, st: st, log: slog.New(slog.DiscardHandler), bus: eventbus.New(), loops: &Loops{}, clock: clock.Real})
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	topic, err := sys.SNS.CreateTopic(ctx, &snsapi.CreateTopicInput{Name: awsapi.String("fanout")})
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for i := range 3 {
		name := fmt.Sprintf("fanout-%d", i)
		q, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: &name})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, *q.QueueUrl)
		arn := "arn:aws:sqs:us-east-1:000000000000:" + name
		if _, err := sys.SNS.Subscribe(ctx, &snsapi.SubscribeInput{TopicArn: topic.TopicArn, Protocol: awsapi.String("sqs"), Endpoint: &arn}); err != nil {
			t.Fatal(err)
		}
	}
	in := &snsapi.PublishInput{TopicArn: topic.TopicArn, Message: awsapi.String("hello")}
	if _, err := sys.SNS.Publish(ctx, in); err != nil { // fills the topic's cached view
		t.Fatal(err)
	}
	before := st.updates.Load()
	out, err := sys.SNS.Publish(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.updates.Load() - before; n != 1 {
		t.Errorf("Publish to three queues made %d store updates, want 1", n)
	}
	for _, u := range urls {
		r, err := sys.SQS.ReceiveMessage(ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &u, MaxNumberOfMessages: awsapi.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) != 2 {
			t.Fatalf("%s holds %d messages, want 2", u, len(r.Messages))
		}
		found := false
		for _, m := range r.Messages {
			found = found || (m.Body != nil && strings.Contains(*m.Body, `"MessageId":"`+*out.MessageId+`"`))
		}
		if !found {
			t.Errorf("%s has no envelope of message %s", u, *out.MessageId)
		}
	}
}
