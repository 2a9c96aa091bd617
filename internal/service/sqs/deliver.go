package sqs

import (
	"context"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// Deliveries from other services (SNS subscriptions, S3 notifications) name a
// queue by its ARN and act in the queue's own account and region, whoever the
// request that caused them came from, as AWS's service principals do.

// SendToQueue stores body as a message of the queue queueARN names. It is
// durable when SendToQueue returns nil.
func (s *Service) SendToQueue(ctx context.Context, queueARN, body string) error {
	_, err := s.DeliverToQueue(ctx, queueARN, body, nil, "", "")
	return err
}

// DeliverToQueue stores one message with message attributes and, for a FIFO
// queue, its group and deduplication ids, in the queue queueARN names, and
// returns its message id (the original's for a deduplicated FIFO message). It
// is durable when DeliverToQueue returns nil. A missing queue is
// QueueDoesNotExist; an invalid message is the error SendMessage would return.
func (s *Service) DeliverToQueue(ctx context.Context, queueARN, body string, attrs map[string]sqsapi.MessageAttributeValue, groupID, dedupID string) (string, error) {
	region, account, name, ok := parseQueueARN(queueARN)
	if !ok {
		return "", errQueueDoesNotExist()
	}
	c := awsapi.CallerFrom(ctx)
	if c.Account == "" {
		// SenderId of the message: the delivering service acts for the
		// queue's owner when no caller is known.
		ctx = awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Region: region})
	}
	res, err := s.send(ctx, queueRef{account: account, region: region, name: name}, []*sendEntry{{
		Body: &body, Attrs: toAttrs(attrs), GroupID: groupID, DedupID: dedupID,
	}})
	if err != nil {
		return "", err
	}
	if res[0].Err != nil {
		return "", res[0].Err
	}
	return res[0].MessageID, nil
}

// Delivery is one message another service delivers to a queue named by its
// ARN, with DeliverToQueues.
type Delivery struct {
	QueueARN string
	Body     string
	Attrs    map[string]sqsapi.MessageAttributeValue
	// GroupID and DedupID are a FIFO queue's message group and deduplication
	// ids.
	GroupID, DedupID string
}

// DeliverToQueues stores each delivery's message in its queue, all in one
// store update: on a durable store one commit and one sync, instead of one
// of each per queue. It returns each delivery's error as DeliverToQueue
// would: nil once its message is stored (durable when DeliverToQueues
// returns), QueueDoesNotExist for a missing queue, the error SendMessage
// would return for an invalid message; one delivery's failure does not stop
// the others. A failure of the store fails every one.
func (s *Service) DeliverToQueues(ctx context.Context, ds []Delivery) []error {
	errs := make([]error, len(ds))
	type pending struct {
		i       int
		r       queueRef
		q       *queue
		entries []*sendEntry
		msgs    []*message
		results []sendResult
		added   int64
		bytes   int64
		ids     []string
	}
	ps := make([]pending, 0, len(ds))
	caller := awsapi.CallerFrom(ctx).Account
	for i := range ds {
		d := &ds[i]
		region, account, name, ok := parseQueueARN(d.QueueARN)
		if !ok {
			errs[i] = errQueueDoesNotExist()
			continue
		}
		r := queueRef{account: account, region: region, name: name}
		q, err := s.viewQueue(r)
		if err != nil {
			errs[i] = err
			continue
		}
		// SenderId of the message: the delivering service acts for the
		// queue's owner when no caller is known (as DeliverToQueue).
		sender := caller
		if sender == "" {
			sender = account
		}
		e := &sendEntry{Body: &d.Body, Attrs: toAttrs(d.Attrs), GroupID: d.GroupID, DedupID: d.DedupID}
		m, err := s.prepare(q, e, sender)
		if err != nil {
			errs[i] = err
			continue
		}
		m.ID = s.newID()
		m.Seq = s.nextSeq()
		ps = append(ps, pending{i: i, r: r, q: q, entries: []*sendEntry{e}, msgs: []*message{m}, results: make([]sendResult, 1)})
	}
	if len(ps) == 0 {
		return errs
	}
	now := s.clock.Now().UnixMilli()
	err := s.update(func(tx *txn) error {
		for j := range ps {
			p := &ps[j]
			var err error
			p.added, p.bytes, p.ids, err = s.putMessages(tx, p.r, p.q, p.entries, p.msgs, p.results, now, p.ids[:0])
			if err != nil {
				if apierr.As(err) == nil {
					return err
				}
				// The queue is gone: putMessages wrote nothing for it.
				errs[p.i], p.added = err, 0
			}
		}
		return nil
	})
	if err != nil {
		for _, p := range ps {
			errs[p.i] = err
		}
		return errs
	}
	for _, p := range ps {
		s.stored(ctx, p.r, p.added, p.bytes, p.ids, nil)
	}
	return errs
}

// SendMessages sends ins, SendMessage inputs that name one queue, in one
// commit, as that many SendMessage calls made one after another by ctx's
// caller would: errs[i] is the error SendMessage would have returned for
// ins[i], nil when it was sent. causes[i], when not "", is the timeline cause
// of ins[i]'s message, as timeline.WithCause would give one call's. The
// messages are durable when SendMessages returns. EventBridge's dispatcher
// sends a round's events for one queue this way: one commit (and one fsync)
// instead of one per event.
func (s *Service) SendMessages(ctx context.Context, ins []*sqsapi.SendMessageInput, causes []string) []error {
	errs := make([]error, len(ins))
	if len(ins) == 0 {
		return errs
	}
	url := awsapi.ToString(ins[0].QueueUrl)
	for _, in := range ins[1:] {
		if awsapi.ToString(in.QueueUrl) != url {
			// Several queues: one call each.
			for i, in := range ins {
				_, errs[i] = s.SendMessage(timeline.WithCause(ctx, causes[i]), in)
			}
			return errs
		}
	}
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	r, err := s.ref(ctx, ins[0].QueueUrl)
	if err != nil {
		return fail(err)
	}
	entries := make([]*sendEntry, len(ins))
	for i, in := range ins {
		entries[i] = sendMessageEntry(in)
		entries[i].Cause = causes[i]
	}
	res, err := s.send(ctx, r, entries)
	if err != nil {
		return fail(err)
	}
	for i := range res {
		errs[i] = res[i].Err
	}
	return errs
}
