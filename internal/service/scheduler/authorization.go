package scheduler

import (
	"strings"
)

// ResourceTags returns the tags of the schedule group arn names, for the
// authorizer's aws:ResourceTag keys; a schedule's ARN
// (…:schedule/GROUP/NAME) gives its group's, since Scheduler tags groups,
// not schedules, and lists aws:ResourceTag for the schedule actions ("Actions,
// resources, and condition keys for Amazon EventBridge Scheduler"). Nil when
// there is no such group.
func (s *Service) ResourceTags(arn string) (map[string]string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "scheduler" {
		return nil, nil
	}
	var name string
	if g, ok := strings.CutPrefix(parts[5], "schedule-group/"); ok {
		name = g
	} else if rest, ok := strings.CutPrefix(parts[5], "schedule/"); ok {
		name, _, _ = strings.Cut(rest, "/")
	} else {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(parts[4], parts[3])
	if err != nil {
		return nil, err
	}
	if g := r.groups[name]; g != nil && len(g.Tags) > 0 {
		out := make(map[string]string, len(g.Tags))
		for k, v := range g.Tags {
			out[k] = v
		}
		return out, nil
	}
	return nil, nil
}
