package sqs

import (
	"context"

	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records the hops of messages: sent (and what sent them), received,
// deleted, moved to a dead-letter queue. timeline.Log implements it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// SetTimeline makes the service record its hops on t. Call it before serving.
func (s *Service) SetTimeline(t Timeline) { s.tl = t }

func (s *Service) hop(ctx context.Context, e timeline.Entry) {
	if s.tl != nil {
		e.Service = "sqs"
		s.tl.Record(ctx, e)
	}
}

// sent records messages stored by send. A message another service delivered
// (a rule's target, a topic's subscription) gets an info line; one a client
// sent itself is one request among many, logged at debug.
func (s *Service) sent(ctx context.Context, queueARN string, ids []string) {
	if s.tl == nil {
		return
	}
	quiet := timeline.CauseOf(ctx) == ""
	detail := "message sent to queue " + queueName(queueARN) // one string for the batch
	for _, id := range ids {
		s.hop(ctx, timeline.Entry{Kind: "MessageSent", Resource: queueARN, Subject: id, Quiet: quiet, Detail: detail})
	}
}

func queueName(arn string) string {
	_, _, name, _ := parseQueueARN(arn)
	return name
}
