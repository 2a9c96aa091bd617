package scheduler

import (
	"context"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records each schedule's firings; EventBridge records the
// invocation of its target under the same execution id. timeline.Log
// implements it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// SetTimeline makes the service record its hops on t. Call it before Run.
func (s *Service) SetTimeline(t Timeline) { s.tl = t }

// fired records the firing d delivers.
func (s *Service) fired(ctx context.Context, d *events.Delivery) {
	if s.tl == nil {
		return
	}
	s.tl.Record(ctx, timeline.Entry{Service: "scheduler", Kind: "ScheduleFired", Resource: d.ScheduleArn, Subject: d.EventID,
		Detail: "schedule " + awsapi.ToString(d.Target.Id) + " fired for " + awsapi.ToString(d.Target.Arn)})
}
