package events

import (
	"context"
	"time"
)

// NextFiring is when the scheduled rule name on the default bus of the
// caller's account and region fires next by the service's clock, and false
// for a rule that is unknown, disabled, not scheduled or never fires again.
// It is not an AWS operation: the console shows it beside the rule.
func (s *Service) NextFiring(ctx context.Context, name string) (time.Time, bool) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil || r == nil {
		return time.Time{}, false
	}
	b := r.buses[defaultBus]
	if b == nil {
		return time.Time{}, false
	}
	rr := b.rules[name]
	if rr == nil || rr.compiledSchd == nil || rr.State != "ENABLED" {
		return time.Time{}, false
	}
	// FireSchedules fires a rule at the first schedule time after it last
	// fired (or was created); one it has not seen yet counts from now.
	last, ok := s.lastFire[ruleArn(account, reg, defaultBus, name)]
	if !ok {
		last = s.now()
	}
	return rr.compiledSchd.Next(last)
}
