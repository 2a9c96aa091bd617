package sqs

import (
	"context"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
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
	var id [1]string
	err := s.deliver(ctx, []Delivery{{QueueARN: queueARN, Body: body, Attrs: attrs, GroupID: groupID, DedupID: dedupID}}, id[:])[0]
	return id[0], err
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
	return s.deliver(ctx, ds, nil)
}

// DeliverToQueuesWith is DeliverToQueues that also makes the writes of
// also, the delivering service's own records (an SNS topic's deduplication
// record, its outbox), in the same update of the service's store: one
// commit, all of it or none, instead of one for the messages and another,
// synced separately, for the caller's. also runs once: in that update, or
// in one of its own when no message is to be stored (every delivery
// refused). err is nil once also's writes are stored; when they or the
// messages cannot be, the update fails whole and err is its error, which
// every delivery it carried returns too.
func (s *Service) DeliverToQueuesWith(ctx context.Context, ds []Delivery, also func(store.Tx) error) (errs []error, err error) {
	ran := false
	errs = s.deliverWith(ctx, ds, nil, also, &ran, &err)
	if !ran {
		err = s.st.Update(also)
	}
	return errs, err
}

// deliver is DeliverToQueues, which also sets ids[i], when ids is not
// nil, to the message id of ds[i].
func (s *Service) deliver(ctx context.Context, ds []Delivery, ids []string) []error {
	return s.deliverWith(ctx, ds, ids, nil, nil, nil)
}

// deliverWith is deliver, with also's writes in the messages' update, when
// there is one: then *ran is set and *alsoErr is the update's error.
func (s *Service) deliverWith(ctx context.Context, ds []Delivery, ids []string, also func(store.Tx) error, ran *bool, alsoErr *error) []error {
	errs := make([]error, len(ds))
	entries := make([]sendEntry, len(ds)) // one allocation for all
	// The sends, and the first entry and index of each, in one array of
	// each for all (addLists); a send's lists grow out of them as add's do.
	sends := make([]queueSend, 0, len(ds))
	first, at := make([]*sendEntry, len(ds)), make([]int, len(ds))
	for i := range ds {
		d := &ds[i]
		region, account, name, ok := parseQueueARN(d.QueueARN)
		if !ok {
			errs[i] = errQueueDoesNotExist()
			continue
		}
		entries[i] = sendEntry{Body: &d.Body, Attrs: toAttrs(d.Attrs), GroupID: d.GroupID, DedupID: d.DedupID}
		first[i], at[i] = &entries[i], i
		sends = addLists(sends, queueRef{account: account, region: region, name: name}, first[i:i+1:i+1], at[i:i+1:i+1])
	}
	if len(sends) == 0 {
		return errs
	}
	err := s.sendToWith(ctx, sends, also, ran)
	if ran != nil && *ran {
		*alsoErr = err
	}
	report(sends, err, errs, ids)
	return errs
}

// report sets errs[i], and ids[i] when ids is not nil, to what became of
// the caller's input i, sent in sends by sendTo, which returned err.
func report(sends []queueSend, err error, errs []error, ids []string) {
	for _, qs := range sends {
		for j, i := range qs.at {
			switch {
			case err != nil:
				errs[i] = err
			case qs.err != nil:
				errs[i] = qs.err
			default:
				errs[i] = qs.results[j].Err
				if ids != nil {
					ids[i] = qs.results[j].MessageID
				}
			}
		}
	}
}

// SendMessages sends ins, SendMessage inputs, in one commit, as that many
// SendMessage calls made one after another by ctx's caller would: errs[i]
// is the error SendMessage would have returned for ins[i], nil when it was
// sent. causes[i], when not "", is the timeline cause of ins[i]'s message,
// as timeline.WithCause would give one call's. The messages are durable
// when SendMessages returns. EventBridge's dispatcher sends a round's
// events for a queue this way: one commit (and one fsync) instead of one
// per event.
func (s *Service) SendMessages(ctx context.Context, ins []*sqsapi.SendMessageInput, causes []string) []error {
	errs := make([]error, len(ins))
	var sends []queueSend
	for i, in := range ins {
		r, err := s.ref(ctx, in.QueueUrl)
		if err != nil {
			errs[i] = err
			continue
		}
		e := new(sendEntry)
		*e = sendMessageEntry(in)
		e.Cause = causes[i]
		sends = add(sends, r, e, i)
	}
	if len(sends) == 0 {
		return errs
	}
	report(sends, s.sendTo(ctx, sends), errs, nil)
	return errs
}
