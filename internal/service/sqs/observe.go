package sqs

import (
	"context"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records the hops of messages: sent (and what sent them), received,
// deleted, moved to a dead-letter queue. timeline.Log implements it.
// RecordUnlogged and LogEntry are Record in two steps, for sends, which
// are recorded inside their store update and logged after it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
	RecordUnlogged(ctx context.Context, e timeline.Entry) timeline.Entry
	LogEntry(e timeline.Entry)
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
// The entries are appended to *unlogged, for the caller to log with
// logLate once it holds no lock.
func (s *Service) sent(ctx context.Context, queueARN, detail string, ids, causes []string, unlogged *[]timeline.Entry) {
	if s.tl == nil {
		return
	}
	cause := timeline.CauseOf(ctx)
	for i, id := range ids {
		c := cause
		if causes != nil && causes[i] != "" {
			c = causes[i]
		}
		e := timeline.Entry{Service: "sqs", Kind: "MessageSent", Resource: queueARN, Subject: id, Cause: c, Quiet: c == "", Detail: detail}
		*unlogged = append(*unlogged, s.tl.RecordUnlogged(ctx, e))
	}
}

// logLate writes the log lines of entries sent recorded unlogged.
func (s *Service) logLate(entries []timeline.Entry) {
	for _, e := range entries {
		s.tl.LogEntry(e)
	}
}

// unsent records that the messages of entries, recorded by sent in an
// update the store then refused with err, were not stored: a failure
// follows each send on the timeline, and the log has the failure's line
// instead of the send's.
func (s *Service) unsent(entries []timeline.Entry, err error) {
	for _, e := range entries {
		// The send's entry, as a new one (Record gives it an id and a
		// time) that failed.
		name := e.Resource[strings.LastIndexByte(e.Resource, ':')+1:]
		e.ID, e.Time, e.Quiet = "", time.Time{}, false
		e.Outcome, e.Error, e.Detail = timeline.Failed, err.Error(), "message to queue "+name+" not stored"
		s.tl.Record(context.Background(), e)
	}
}
