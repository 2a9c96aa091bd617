package autoscaling

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
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

// currentCapacity returns the target's capacity: its service's (ECS's
// desired count, DynamoDB's capacity units) when connected, else the one
// wharf keeps.
func (s *Service) currentCapacity(ctx context.Context, sc scope, t *target) (int32, error) {
	n, connected, err := s.readCapacity(ctx, sc, t.ID)
	if err != nil || !connected {
		return t.Capacity, err
	}
	return n, nil
}

// readCapacity reads a target's capacity from its service; connected is
// false when that service is not connected.
func (s *Service) readCapacity(ctx context.Context, sc scope, id targetID) (n int32, connected bool, err error) {
	if id.Namespace == namespaceCustom {
		n, err := s.customCapacity(ctx, id.ResourceID)
		return n, true, err
	}
	if id.Namespace == "dynamodb" {
		tables := s.dynamo()
		if tables == nil {
			return 0, false, nil
		}
		table, index, write := dynamoTarget(id)
		units, err := tables.ProvisionedCapacity(sc.ctx(ctx), sc.account, sc.region, table, index, write)
		return int32(min(units, math.MaxInt32)), true, err
	}
	_, _, ecs := s.deps()
	if ecs == nil {
		return 0, false, nil
	}
	cluster, service, _ := ecsService(id.ResourceID)
	n, err = ecs.DesiredCount(sc.ctx(ctx), sc.account, sc.region, cluster, service)
	return n, true, err
}

// setCapacity sets a target's capacity in its service, when connected.
func (s *Service) setCapacity(ctx context.Context, sc scope, id targetID, to int32) error {
	if id.Namespace == namespaceCustom {
		return s.setCustomCapacity(ctx, id.ResourceID, to)
	}
	if id.Namespace == "dynamodb" {
		if tables := s.dynamo(); tables != nil {
			table, index, write := dynamoTarget(id)
			return tables.SetProvisionedCapacity(sc.ctx(ctx), sc.account, sc.region, table, index, write, int64(to))
		}
		return nil
	}
	if _, _, ecs := s.deps(); ecs != nil {
		cluster, service, _ := ecsService(id.ResourceID)
		return ecs.SetDesiredCount(sc.ctx(ctx), sc.account, sc.region, cluster, service, to)
	}
	return nil
}

// capacityWords are what an activity says it sets, and the namespace that
// fulfils it, as AWS words its scaling activities.
func capacityWords(id targetID) string {
	switch {
	case strings.HasSuffix(id.Dimension, ":ReadCapacityUnits"):
		return "read capacity units"
	case strings.HasSuffix(id.Dimension, ":WriteCapacityUnits"):
		return "write capacity units"
	case id.Namespace == namespaceCustom:
		return "desired capacity"
	}
	return "desired count"
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
	now := s.clock.Now()
	a := activity{
		ID: s.uuid(), Target: id, Start: now,
		Description: fmt.Sprintf("Setting %s to %d.", capacityWords(id), d.to),
		Cause:       d.cause,
	}
	if err := s.setCapacity(ctx, sc, id, d.to); err != nil {
		return s.recordFailure(sc, id, d, err)
	}
	a.End = s.clock.Now()
	a.Status = "Successful"
	a.StatusMessage = fmt.Sprintf("Successfully set %s to %d. Change successfully fulfilled by %s.", capacityWords(id), d.to, id.Namespace)
	err = s.st.Update(func(tx store.Tx) error {
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
	if err == nil && id.Namespace == "dynamodb" {
		s.retuneDynamoAlarms(ctx, sc, id)
	}
	return err
}

// retuneDynamoAlarms moves the thresholds of the target tracking alarms of
// a DynamoDB target's utilization policies to its new capacity, as AWS does
// after it scales: they watch consumed units, a share of the capacity.
// PutMetricAlarm keeps each alarm's state.
func (s *Service) retuneDynamoAlarms(ctx context.Context, sc scope, id targetID) {
	var ps []policy
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(sc.childPrefix("p", id), nil, func(_, v []byte) (bool, error) {
			var p policy
			if err := jsonDecode(v, &p); err != nil {
				return false, err
			}
			if p.Tracking != nil && isDynamoUtilization(&p) {
				ps = append(ps, p)
			}
			return true, nil
		})
	})
	if err != nil {
		s.log.Warn("target tracking alarms keep their thresholds", "resource", id.ResourceID, "err", err)
		return
	}
	for i := range ps {
		if _, err := s.putTrackingAlarms(ctx, sc, &ps[i]); err != nil {
			s.log.Warn("target tracking alarms keep their thresholds", "policy", ps[i].ARN, "err", err)
		}
	}
}

// recordFailure records a scaling that ECS refused, and returns err.
func (s *Service) recordFailure(sc scope, id targetID, d decision, cause error) error {
	now := s.clock.Now()
	msg := "Failed to set " + capacityWords(id) + " to " + itoa(d.to)
	if e := apierr.As(cause); e != nil {
		msg += ". " + e.Message
	} else {
		msg += ". Internal error."
	}
	a := activity{ID: s.uuid(), Target: id, Start: now, End: now,
		Description: fmt.Sprintf("Setting %s to %d.", capacityWords(id), d.to), Cause: d.cause,
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
