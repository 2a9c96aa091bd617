package scheduler

import (
	"context"
	"fmt"
	"strings"
	"time"

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

// missed records firings a schedule did not make: n periods from first to
// last collapsed into one firing (the clock moved ahead, or wharf was
// stopped), or, with why, a firing dropped.
func (s *Service) missed(ctx context.Context, arn string, first, last time.Time, n int, why string) {
	if s.tl == nil {
		return
	}
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	e := timeline.Entry{Service: "scheduler", Kind: "ScheduleMissed", Resource: arn, Outcome: timeline.Failed,
		Error: fmt.Sprintf("%d firing(s) missed", n),
		Detail: fmt.Sprintf("schedule %s fired once for the periods from %s to %s: %d firing(s) in between were missed",
			name, first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339), n)}
	if why != "" {
		e.Error = "firing dropped: " + why
		e.Detail = fmt.Sprintf("schedule %s did not fire for %s", name, first.UTC().Format(time.RFC3339))
	}
	s.tl.Record(ctx, e)
}
