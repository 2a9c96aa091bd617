package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
// ago (by the service's clock) and returns how many it removed. It reads the
// stopped index up to the cutoff, so its cost is the tasks it removes.
func (s *Service) expireStopped() (int, error) {
	cutoff := s.now().Add(-StoppedRetention)
	end := []byte(fmt.Sprintf("%s%020d", stopPrefix, max(cutoff.UnixNano(), 0)))
	total := 0
	for {
		var keys []string // task keys, at most 500 a commit
		err := s.st.View(func(tx store.Tx) error {
			return tx.Scan([]byte(stopPrefix), nil, func(k, _ []byte) (bool, error) {
				if bytes.Compare(k, end) >= 0 || len(keys) == 500 {
					return false, nil
				}
				keys = append(keys, string(k))
				return true, nil
			})
		})
		if err != nil || len(keys) == 0 {
			return total, err
		}
		removed := 0
		err = s.st.Update(func(tx store.Tx) error {
			removed = 0
			for _, ik := range keys {
				key := ik[len(stopPrefix)+21:]
				v, err := tx.Get([]byte(key))
				if err != nil {
					return err
				}
				if v == nil || !stoppedBefore(v, cutoff) {
					// The entry outlived its task, or its record does not
					// say it stopped before the cutoff (a record's own
					// stop time is what expires it, and putTask keeps
					// the entry under that): drop the entry only.
					if err := tx.Delete([]byte(ik)); err != nil {
						return err
					}
					continue
				}
				var r taskRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("task record %s: %w", key, err)
				}
				if err := deleteTask(tx, &r); err != nil {
					return err
				}
				if err := tx.Delete([]byte(ik)); err != nil { // when the record's stop time differs
					return err
				}
				removed++
				s.index.Delete(r.id())
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += removed
		if len(keys) < 500 {
			return total, nil
		}
	}
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
