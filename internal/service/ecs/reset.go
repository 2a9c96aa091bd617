package ecs

import (
	"context"
	"fmt"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
)

// StopAll stops every task not yet STOPPED, as StopTask would with reason,
// and returns once their supervisors have removed their containers or ctx
// is done: a reset (POST /_wharf/reset) stops tasks before it deletes ECS's
// keys. It then forgets the task credentials it cached.
func (s *Service) StopAll(ctx context.Context, reason string) error {
	recs, err := s.unfinished()
	if err != nil {
		return fmt.Errorf("ecs: stop all: %w", err)
	}
	var wait []chan struct{}
	for _, r := range recs {
		if _, err := s.requestStop(r, taskstate.UserInitiated, reason); err != nil {
			s.log.Warn("ecs: stop for reset", "task", r.id(), "err", err)
		}
		s.mu.Lock()
		sup := s.sups[awsapi.ToString(r.Task.TaskArn)]
		s.mu.Unlock()
		if sup != nil {
			wait = append(wait, sup.done)
		}
	}
	for _, done := range wait {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("ecs: tasks still stopping: %w", ctx.Err())
		}
	}
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
	s.index.Clear()
	return nil
}

// Running counts the tasks not yet STOPPED.
func (s *Service) Running() (int, error) {
	recs, err := s.unfinished()
	return len(recs), err
}
