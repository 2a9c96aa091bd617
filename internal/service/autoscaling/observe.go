package autoscaling

import (
	"context"
	"fmt"

	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records scaling activities. timeline.Log implements it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// SetTimeline makes the service record its activities on t. Call it before Run.
func (s *Service) SetTimeline(t Timeline) { s.tl = t }

// putActivity stores activity a and records it on the timeline. An activity
// that did not scale (a capacity limit) is quiet: the loop may record one a
// minute.
func (s *Service) putActivity(tx store.Tx, sc scope, a *activity) error {
	if err := putJSON(tx, sc.activityKey(a.Target.Namespace, s.nextSeq()), a); err != nil {
		return err
	}
	if s.tl != nil {
		e := timeline.Entry{Service: "application-autoscaling", Kind: "ScalingActivity", Resource: a.Target.ResourceID,
			Subject: a.ID, Outcome: timeline.OK, Quiet: a.NotScaled != nil,
			Detail: fmt.Sprintf("%s %s: %s (%s)", a.Target.ResourceID, a.Description, a.Status, a.Cause)}
		if a.Status == "Failed" {
			e.Outcome, e.Error = timeline.Failed, a.StatusMessage
		}
		s.tl.Record(context.Background(), e)
	}
	return nil
}
