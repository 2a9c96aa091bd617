package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records the object changes that lead somewhere (to EventBridge, a
// queue or a topic), as the first hop of their chain. timeline.Log implements
// it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// SetTimeline makes the service record its hops on t. Call it before serving.
func (s *Service) SetTimeline(t Timeline) { s.tl = t }

// changed records change c of bucket b's object and returns ctx carrying it as
// the cause of what the notifications set off. The request id names the hop;
// a change made by no request (a lifecycle expiry) is named by its object and
// sequencer.
func (s *Service) changed(ctx context.Context, b *bucket, c change, requestID, seq string) context.Context {
	if s.tl == nil {
		return ctx
	}
	id := requestID
	if id == "" {
		id = "s3:" + b.Name + "/" + c.obj.Key + "@" + seq
	}
	s.tl.Record(ctx, timeline.Entry{Service: "s3", Kind: strings.ReplaceAll(c.detailType, " ", ""),
		Resource: bucketARN(b.Name) + "/" + c.obj.Key, Subject: id,
		Detail: fmt.Sprintf("%s %s in bucket %s (%s)", strings.ToLower(c.detailType), c.obj.Key, b.Name, c.eventName)})
	return timeline.WithCause(ctx, id)
}
