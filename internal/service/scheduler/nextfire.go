package scheduler

import (
	"context"
	"time"
)

// NextFiring is when the schedule name in group (default when "") of the
// caller's account and region fires next by the service's clock, and false
// for a schedule that is unknown, disabled or done. It is not an AWS
// operation: the console shows it beside the schedule.
func (s *Service) NextFiring(ctx context.Context, group, name string) (time.Time, bool) {
	if group == "" {
		group = "default"
	}
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return time.Time{}, false
	}
	sc := r.schedules[group+"/"+name]
	if sc == nil || sc.State != "ENABLED" || sc.Done || sc.Next.IsZero() {
		return time.Time{}, false
	}
	return sc.Next, true
}
