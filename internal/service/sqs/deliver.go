package sqs

import (
	"context"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
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
