package autoscaling

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/store"
)

// activity is a stored scaling activity.
type activity struct {
	ID            string    `json:"id"`
	Target        targetID  `json:"target"`
	Description   string    `json:"description"`
	Cause         string    `json:"cause"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end,omitzero"`
	Status        string    `json:"status"`
	StatusMessage string    `json:"statusMessage,omitempty"`
	// NotScaled marks an activity that did not scale; DescribeScalingActivities
	// shows it only with IncludeNotScaledActivities.
	NotScaled *notScaled `json:"notScaled,omitempty"`
}

type notScaled struct {
	Code                  string
	Min, Max, Current     int32
	HasMin, HasMax, HasCu bool
}

// activityKey orders a scope's activities by time within their namespace.
func (sc scope) activityKey(ns string, seq uint64) []byte {
	k := append(sc.prefix("a"), ns+"\x00"...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// decision is a change of capacity to carry out.
type decision struct {
	to    int32
	cause string
	// policy is the policy that decided, for its cooldowns; nil for changes
	// of min/max (registration, scheduled actions), which have none.
	policy *policy
	// direct marks changes from min/max bounds, which skip the dynamic
	// scaling suspension flags.
	direct bool
}

// errNoChange is returned by scale when capacity already is what was asked.
var errNoChange = errors.New("no change")

// currentCapacity returns the target's desired count: ECS's when connected,
// else the one wharf keeps.
func (s *Service) currentCapacity(ctx context.Context, sc scope, t *target) (int32, error) {
	_, _, ecs := s.deps()
	if ecs == nil {
		return t.Capacity, nil
	}
	cluster, service, _ := ecsService(t.ID.ResourceID)
	return ecs.DesiredCount(sc.ctx(ctx), sc.account, sc.region, cluster, service)
}

// scale sets the target's desired count to d.to and records the activity. The
// caller holds no lock; scale takes scaleMu itself only when called from
// outside an evaluation (RegisterScalableTarget, scheduled actions).
func (s *Service) scale(ctx context.Context, sc scope, id targetID, d decision) error {
	s.scaleMu.Lock()
	defer s.scaleMu.Unlock()
	return s.scaleLocked(ctx, sc, id, d)
}

func (s *Service) scaleLocked(ctx context.Context, sc scope, id targetID, d decision) error {
	t, err := s.loadTarget(sc, id)
	if err != nil {
		return err
	}
	current, err := s.currentCapacity(ctx, sc, t)
	if err != nil {
		return s.recordFailure(sc, id, d, err)
	}
	if d.to == current {
		return errNoChange
	}
	_, _, ecs := s.deps()
	now := s.clock.Now()
	a := activity{
		ID: s.uuid(), Target: id, Start: now,
		Description: fmt.Sprintf("Setting desired count to %d.", d.to),
		Cause:       d.cause,
	}
	if ecs != nil {
		cluster, service, _ := ecsService(id.ResourceID)
		if err := ecs.SetDesiredCount(sc.ctx(ctx), sc.account, sc.region, cluster, service, d.to); err != nil {
			return s.recordFailure(sc, id, d, err)
		}
	}
	a.End = s.clock.Now()
	a.Status = "Successful"
	a.StatusMessage = fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", d.to)
	return s.st.Update(func(tx store.Tx) error {
		var t target
		found, err := getJSON(tx, sc.targetKey(id), &t)
		if err != nil {
			return err
		}
		if found {
			switch {
			case d.policy == nil:
				// New capacity limits start afresh: the capacity a past
				// scale-out added no longer counts.
				t.LastOut, t.LastIn, t.OutBase = time.Time{}, time.Time{}, 0
			case d.to > current:
				out, in := d.policy.cooldowns()
				// Within a scale-out cooldown the base stays the capacity
				// before the scale-out that started it.
				if !t.cooldowns(out, in).inScaleOut(now) || t.OutBase >= current {
					t.OutBase = current
				}
				t.LastOut = now
				// A scale-out ends a scale-in cooldown (User Guide).
				t.LastIn = time.Time{}
			default:
				t.LastIn = now
			}
			t.Capacity = d.to
			if err := putJSON(tx, sc.targetKey(id), &t); err != nil {
				return err
			}
		}
		return s.putActivity(tx, sc, &a)
	})
}

// recordFailure records a scaling that ECS refused, and returns err.
func (s *Service) recordFailure(sc scope, id targetID, d decision, cause error) error {
	now := s.clock.Now()
	msg := "Failed to set desired count to " + itoa(d.to)
	if e := apierr.As(cause); e != nil {
		msg += ". " + e.Message
	} else {
		msg += ". Internal error."
	}
	a := activity{ID: s.uuid(), Target: id, Start: now, End: now,
		Description: fmt.Sprintf("Setting desired count to %d.", d.to), Cause: d.cause,
		Status: "Failed", StatusMessage: msg}
	if err := s.st.Update(func(tx store.Tx) error {
		return s.putActivity(tx, sc, &a)
	}); err != nil {
		return err
	}
	return cause
}

// recordNotScaled records that a policy wanted to scale but a capacity limit
// stopped it. The loop evaluates every second, so a target records the same
// reason at most once a minute.
func (s *Service) recordNotScaled(sc scope, id targetID, cause, code string, current int32) error {
	now := s.clock.Now()
	return s.st.Update(func(tx store.Tx) error {
		var t target
		found, err := getJSON(tx, sc.targetKey(id), &t)
		if err != nil || !found {
			return err
		}
		if t.NotScaledCode == code && now.Sub(t.NotScaledAt) < time.Minute {
			return nil
		}
		t.NotScaledCode, t.NotScaledAt = code, now
		if err := putJSON(tx, sc.targetKey(id), &t); err != nil {
			return err
		}
		ns := &notScaled{Code: code, Current: current, HasCu: true}
		if code == "AlreadyAtMaxCapacity" {
			ns.Max, ns.HasMax = t.Max, true
		} else {
			ns.Min, ns.HasMin = t.Min, true
		}
		want := t.Max
		if code != "AlreadyAtMaxCapacity" {
			want = t.Min
		}
		a := activity{ID: s.uuid(), Target: id, Start: now, End: now,
			Description: "Attempting to scale due to alarm triggered", Cause: cause,
			Status: "Failed", StatusMessage: "Failed to set desired count to " + itoa(want), NotScaled: ns}
		return s.putActivity(tx, sc, &a)
	})
}
