package app

import (
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// observe makes the timeline and connects every service that records hops to
// it, and the services that publish AWS's own metrics about themselves to
// CloudWatch.
func (sys *System) observe(d deps) {
	// Entries carry the time every service reads, so a moved clock shows.
	now := clock.Or(d.clock).Now
	tl, err := timeline.Open(timeline.Options{Store: d.st, Logger: d.log, Now: now})
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
