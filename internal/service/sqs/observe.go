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
// causes[i], when causes is not nil and causes[i] not "", is the cause of
// ids[i] (SendMessages). detail is every entry's Detail, one string for
// all of them.
// When the timeline can log an entry apart from recording it (lateLogger),
// the entries are appended to *unlogged for the caller to log with LogEntry
// once it holds no lock; otherwise they are recorded and logged at once.
func (s *Service) sent(ctx context.Context, queueARN, detail string, ids, causes []string, unlogged *[]timeline.Entry) {
	if s.tl == nil {
		return
	}
	late, _ := s.tl.(lateLogger)
	cause := timeline.CauseOf(ctx)
	for i, id := range ids {
		c := cause
		if causes != nil && causes[i] != "" {
			c = causes[i]
		}
		e := timeline.Entry{Service: "sqs", Kind: "MessageSent", Resource: queueARN, Subject: id, Cause: c, Quiet: c == "", Detail: detail}
		if late != nil {
			*unlogged = append(*unlogged, late.RecordUnlogged(ctx, e))
		} else {
			s.tl.Record(ctx, e)
		}
	}
}

// lateLogger is a Timeline that records an entry and writes its log line
// apart (timeline.Log).
type lateLogger interface {
	RecordUnlogged(ctx context.Context, e timeline.Entry) timeline.Entry
	LogEntry(e timeline.Entry)
}

// logLate writes the log lines of entries sent recorded unlogged.
func (s *Service) logLate(entries []timeline.Entry) {
	if late, ok := s.tl.(lateLogger); ok {
		for _, e := range entries {
			late.LogEntry(e)
		}
	}
}
