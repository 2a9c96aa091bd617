package sns

import (
	"context"
	"strconv"

	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records the hops of messages: published to a topic (and what
// published them), each subscription's delivery with its outcome and error.
// timeline.Log implements it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// SetTimeline makes the service record its hops on t. Call it before Run.
func (s *Service) SetTimeline(t Timeline) { s.tl = t }

func (s *Service) hop(ctx context.Context, e timeline.Entry) {
	if s.tl != nil {
		e.Service = "sns"
		s.tl.Record(ctx, e)
	}
}

// published records n and returns ctx carrying it as the cause of its
// deliveries.
func (s *Service) published(ctx context.Context, n *notification, subs int) context.Context {
	s.countTopic(n.topic.Account, n.topic.Region, n.topic.Name, "NumberOfMessagesPublished")
	s.hop(ctx, timeline.Entry{Kind: "Published", Resource: n.topic.ARN, Subject: n.id,
		Detail: "message published to topic " + n.topic.Name + " (" + strconv.Itoa(subs) + " subscription(s))"})
	return timeline.WithCause(ctx, n.id)
}

// delivered records one subscription's delivery of message id.
// A failed attempt that will be retried is not yet a failed notification.
func (s *Service) delivered(ctx context.Context, id, subARN, endpoint string, err error, note string, retrying bool) {
	switch {
	case err == nil:
		s.countDelivery(subARN, "NumberOfNotificationsDelivered")
	case !retrying:
		s.countDelivery(subARN, "NumberOfNotificationsFailed")
	}
	e := timeline.Entry{Kind: "Delivery", Resource: subARN, Subject: id, Outcome: timeline.OK,
		Detail: "delivered to " + endpoint + note}
	if err != nil {
		e.Outcome, e.Error, e.Detail = timeline.Failed, err.Error(), "delivery to "+endpoint+" failed"+note
	}
	s.hop(ctx, e)
}
