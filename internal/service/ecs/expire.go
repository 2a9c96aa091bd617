package ecs

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

// StoppedRetention is how long a stopped task stays listed and described.
// AWS keeps them "for at least 1 hour" after they stop, then drops them
// (Amazon ECS Developer Guide, "Amazon ECS task lifecycle"); wharf kept
// every task ever run, and ListTasks, DescribeClusters and a restart read
// them all.
const StoppedRetention = time.Hour

// expireEvery is how often stopped tasks past StoppedRetention are removed.
const expireEvery = time.Minute

// expireLoop removes expired stopped tasks until ctx ends.
func (s *Service) expireLoop(ctx context.Context) {
	tick := time.NewTicker(expireEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := s.expireStopped(); err != nil && ctx.Err() == nil {
			s.log.Warn("ecs: removing expired stopped tasks", "err", err)
		} else if n > 0 {
			s.log.Debug("ecs: removed stopped tasks past their retention", "tasks", n)
		}
	}
}

// expireStopped removes every task that stopped more than StoppedRetention
// ago (by the service's clock) and returns how many it removed.
func (s *Service) expireStopped() (int, error) {
	cutoff := s.now().Add(-StoppedRetention)
	var keys []string
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("ecs/"), nil, func(k, v []byte) (bool, error) {
			if !strings.Contains(string(k), "/task/") {
				return true, nil
			}
			if stoppedBefore(v, cutoff) {
				keys = append(keys, string(k))
			}
			return true, nil
		})
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	total := 0
	for start := 0; start < len(keys); start += 500 { // a commit need not hold every key
		batch := keys[start:min(start+500, len(keys))]
		removed := 0
		err := s.st.Update(func(tx store.Tx) error {
			removed = 0
			for _, k := range batch {
				v, err := tx.Get([]byte(k))
				if err != nil {
					return err
				}
				if v == nil || !stoppedBefore(v, cutoff) {
					continue
				}
				if err := tx.Delete([]byte(k)); err != nil {
					return err
				}
				removed++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += removed
		for _, k := range batch {
			s.index.Delete(k[strings.LastIndexByte(k, '/')+1:])
		}
	}
	return total, nil
}

// stoppedBefore reports whether the task record v is STOPPED and stopped
// before cutoff.
func stoppedBefore(v []byte, cutoff time.Time) bool {
	var r struct {
		Task struct {
			LastStatus *string
			StoppedAt  *time.Time
		}
	}
	if json.Unmarshal(v, &r) != nil || r.Task.StoppedAt == nil {
		return false
	}
	return taskstate.Of(r.Task.LastStatus) == taskstate.Stopped && r.Task.StoppedAt.Before(cutoff)
}
