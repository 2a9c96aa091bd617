package cloudwatch

import (
	"context"
	"fmt"

	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records alarm state changes, the cause of their events and
// actions. timeline.Log implements it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// SetTimeline makes the service record its hops on t. Call it before Run.
func (s *Service) SetTimeline(t Timeline) { s.tl = t }

// alarmChanged records tr and returns ctx carrying it as the cause of the
// alarm's event and actions. Each change is its own node: an alarm that goes
// to ALARM twice set off two chains.
func (s *Service) alarmChanged(ctx context.Context, tr *transition) context.Context {
	if s.tl == nil {
		return ctx
	}
	a := &tr.a
	id := a.ARN + "@" + a.StateUpdated.UTC().Format("2006-01-02T15:04:05.000Z")
	s.tl.Record(ctx, timeline.Entry{Service: "cloudwatch", Kind: "AlarmStateChange", Resource: a.ARN, Subject: id,
		Detail: fmt.Sprintf("alarm %s went from %s to %s: %s", a.Name, tr.prevState, a.State, a.Reason)})
	return timeline.WithCause(ctx, id)
}
