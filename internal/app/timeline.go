package app

import (
	"context"

	"github.com/wharf-dev/wharf/internal/authz"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// observe makes the timeline and connects every service that records hops to
// it, and the services that publish AWS's own metrics about themselves to
// CloudWatch.
func (sys *System) observe(d deps) {
	// Entries carry the time every service reads, so a moved clock shows.
	now := clock.Or(d.clock).Now
	opts := timeline.Options{Logger: d.log, Now: now}
	if d.cfg != nil && !d.cfg.Ephemeral {
		// Saved beside the store, not in it (see package timeline); an
		// older wharf's entries in the store are moved there. In memory,
		// saving them would keep nothing a restart could read.
		opts.Dir, opts.Store = d.cfg.DataDir, d.st
	}
	tl, err := timeline.Open(opts)
	if err != nil {
		// The saved history is unreadable: record from now on, in memory.
		d.log.Error("timeline: starting empty", "err", err)
		tl, _ = timeline.Open(timeline.Options{Logger: d.log, Now: now})
	}
	sys.Timeline = tl
	d.loops.Go(tl.Run)
	sys.Events.SetTimeline(tl)
	sys.Events.SetMetrics(sys.CloudWatch) // AWS/Events
	sys.SQS.SetTimeline(tl)
	sys.SNS.SetTimeline(tl)
	sys.SNS.SetMetrics(sys.CloudWatch) // AWS/SNS
	d.loops.Go(sys.SNS.RunMetrics)
	sys.Scheduler.SetTimeline(tl)
	sys.CloudWatch.SetTimeline(tl)
	sys.AutoScaling.SetTimeline(tl)
	if sys.S3 != nil {
		sys.S3.SetTimeline(tl)
	}
	if sys.ECS != nil {
		sys.ECS.SetTimeline(tl)
	}
}

// recordDenial puts an IAM denial on the timeline, under the cause its
// request carries (the event a rule was delivering, for a delivery refused to
// events.amazonaws.com), so a trace shows why an event went nowhere.
func (sys *System) recordDenial(ctx context.Context, d authz.Denial) {
	tl := sys.Timeline
	if tl == nil {
		return
	}
	e := timeline.Entry{Service: "iam", Kind: "AccessDenied", Resource: d.Resource, Subject: d.RequestID, Error: d.Reason,
		Detail: d.Principal + " may not " + d.Action + " on " + d.Resource + " (" + d.Operation + ", " + d.Decision + "): allowed, as --iam audit only records it"}
	if d.Refused {
		e.Outcome = timeline.Failed
		e.Detail = d.Principal + " was refused " + d.Action + " on " + d.Resource + " (" + d.Operation + ", " + d.Decision + ")"
	}
	tl.Record(ctx, e)
}
