package sns

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// deadLetterQueue is the ARN of the SQS queue the subscription's
// RedrivePolicy names, or "" without one. SNS's dead-letter queues are SQS
// queues only ("A dead-letter queue is an Amazon SQS queue that an Amazon
// SNS subscription can target for messages that can't be delivered").
func (sub *subscription) deadLetterQueue() string {
	policy := sub.Attrs["RedrivePolicy"]
	if policy == "" {
		return ""
	}
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if json.Unmarshal([]byte(policy), &rp) != nil || !strings.HasPrefix(rp.DeadLetterTargetArn, "arn:") {
		return ""
	}
	if p := strings.SplitN(rp.DeadLetterTargetArn, ":", 6); len(p) != 6 || p[2] != "sqs" {
		return ""
	}
	return rp.DeadLetterTargetArn
}

// redrive moves messages SNS could not deliver to their subscriptions'
// dead-letter queues: msgs[i] is subs[i]'s message, as its endpoint would
// have received it, already addressed to the dead-letter queue. SNS sends
// it there as it sends to any subscribed queue, as sns.amazonaws.com for the
// topic, so the queue's policy must let the topic in. A message the
// dead-letter queue refuses is lost, as on AWS
// (NumberOfNotificationsFailedToRedriveToDlq); a failure of the store is
// returned.
func (s *Service) redrive(ctx context.Context, id string, subs []*subscription, msgs []QueueMessage) error {
	if len(msgs) == 0 || s.queues == nil {
		return nil
	}
	errs := s.queues.DeliverToQueues(ctx, msgs)
	var failed []error
	for i, sub := range subs {
		e := timeline.Entry{Kind: "Redrive", Resource: sub.ARN, Subject: id, Outcome: timeline.OK,
			Detail: "moved to dead-letter queue " + msgs[i].QueueARN}
		if err := errs[i]; err != nil {
			s.countDelivery(sub.ARN, "NumberOfNotificationsFailedToRedriveToDlq")
			e.Outcome, e.Error, e.Detail = timeline.Failed, err.Error(), "not moved to dead-letter queue "+msgs[i].QueueARN
			if apierr.As(err) == nil {
				failed = append(failed, err)
			}
		} else {
			s.countDelivery(sub.ARN, "NumberOfNotificationsRedrivenToDlq")
		}
		s.hop(ctx, e)
	}
	return errors.Join(failed...)
}

// redriveDelivery moves an HTTP or email notification whose retries are
// spent (or that failed for good) to its subscription's dead-letter queue,
// if it has one now.
func (s *Service) redriveDelivery(ctx context.Context, d *delivery) error {
	if d.Type != "Notification" || s.queues == nil {
		return nil
	}
	var sub *subscription
	err := s.st.View(func(tx store.Tx) error {
		var err error
		sub, err = getSub(tx, d.SubARN)
		return err
	})
	if err != nil || sub == nil {
		return err
	}
	dlq := sub.deadLetterQueue()
	if dlq == "" {
		return nil
	}
	_, account, _, _ := parseTopicARN(d.TopicARN)
	ctx = awsapi.WithSource(ctx, awsapi.Source{ARN: d.TopicARN, Account: account})
	return s.redrive(ctx, d.MessageID, []*subscription{sub}, []QueueMessage{{QueueARN: dlq, Body: d.Body}})
}
