package autoscaling

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	"github.com/wharf-dev/wharf/internal/schedule"
	"github.com/wharf-dev/wharf/internal/store"
)

// scheduled is a stored scheduled action.
type scheduled struct {
	Name     string     `json:"name"`
	ARN      string     `json:"arn"`
	Target   targetID   `json:"target"`
	Schedule string     `json:"schedule"`
	Timezone string     `json:"tz,omitempty"`
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Min      *int32     `json:"min,omitempty"`
	Max      *int32     `json:"max,omitempty"`
	Created  time.Time  `json:"created"`
	// Next is when the action fires next; zero when it never will again.
	Next time.Time `json:"next,omitzero"`
}

func (a *scheduled) api() aas.ScheduledAction {
	out := aas.ScheduledAction{
		ScheduledActionName: awsapi.String(a.Name),
		ScheduledActionARN:  awsapi.String(a.ARN),
		ServiceNamespace:    awsapi.String(a.Target.Namespace),
		ResourceId:          awsapi.String(a.Target.ResourceID),
		ScalableDimension:   awsapi.String(a.Target.Dimension),
		Schedule:            awsapi.String(a.Schedule),
		StartTime:           a.Start,
		EndTime:             a.End,
		CreationTime:        timep(a.Created),
	}
	if a.Timezone != "" {
		out.Timezone = awsapi.String(a.Timezone)
	}
	if a.Min != nil || a.Max != nil {
		out.ScalableTargetAction = &aas.ScalableTargetAction{MinCapacity: a.Min, MaxCapacity: a.Max}
	}
	return out
}

// parse parses the action's schedule in its time zone (UTC by default).
func (a *scheduled) parse() (schedule.Schedule, error) {
	loc := time.UTC
	if a.Timezone != "" {
		l, err := time.LoadLocation(a.Timezone)
		if err != nil {
			return nil, apierr.Validation("Time zone %s is not valid", a.Timezone)
		}
		loc = l
	}
	sch, err := schedule.ParseIn(a.Schedule, loc)
	if err != nil {
		return nil, apierr.Validation("%s", err.Error())
	}
	return sch, nil
}

// next returns the first firing after after, within StartTime and EndTime.
func (a *scheduled) next(sch schedule.Schedule, after time.Time) time.Time {
	if a.Start != nil && after.Before(*a.Start) {
		after = a.Start.Add(-time.Nanosecond)
	}
	t, ok := sch.Next(after)
	if !ok || a.End != nil && t.After(*a.End) {
		return time.Time{}
	}
	return t
}

// PutScheduledAction creates or updates a scheduled action; omitted
// parameters of an existing action keep their values.
func (s *Service) PutScheduledAction(ctx context.Context, in *aas.PutScheduledActionInput) (*aas.PutScheduledActionOutput, error) {
	id, err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.ScheduledActionName)
	if name == "" || len(name) > 256 || strings.ContainsAny(name, ":/|") || strings.TrimSpace(name) != name {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'scheduledActionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!((^[ ]+.*)|(.*([\\u0000-\\u001f]|[\\u007f-\\u009f]|[:/|])+.*)|(.*[ ]+$))).+", name)
	}
	if a := in.ScalableTargetAction; a != nil && a.MinCapacity != nil && a.MaxCapacity != nil && *a.MinCapacity > *a.MaxCapacity {
		return nil, apierr.Validation("Maximum capacity cannot be less than minimum capacity")
	}
	sc := scopeOf(ctx)
	now := s.clock.Now()
	err = s.st.Update(func(tx store.Tx) error {
		if b, err := tx.Get(sc.targetKey(id)); err != nil {
			return err
		} else if b == nil {
			return noTarget(id)
		}
		var a scheduled
		found, err := getJSON(tx, sc.childKey("s", id, name), &a)
		if err != nil {
			return err
		}
		if !found {
			if in.Schedule == nil {
				return apierr.Validation("Schedule is required when creating a scheduled action")
			}
			a = scheduled{Name: name, Target: id, Created: now,
				ARN: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scheduledAction:%s:resource/%s/%s:scheduledActionName/%s",
					sc.region, sc.account, s.uuid(), id.Namespace, id.ResourceID, name)}
		}
		if in.Schedule != nil {
			a.Schedule = *in.Schedule
		}
		if in.Timezone != nil {
			a.Timezone = *in.Timezone
		}
		if in.StartTime != nil {
			a.Start = in.StartTime
		}
		if in.EndTime != nil {
			a.End = in.EndTime
		}
		if a.Start != nil && a.End != nil && a.End.Before(*a.Start) {
			return apierr.Validation("EndTime cannot be before StartTime")
		}
		if in.ScalableTargetAction != nil {
			a.Min, a.Max = in.ScalableTargetAction.MinCapacity, in.ScalableTargetAction.MaxCapacity
		}
		sch, err := a.parse()
		if err != nil {
			return err
		}
		a.Next = a.next(sch, now)
		return putJSON(tx, sc.childKey("s", id, name), &a)
	})
	if err != nil {
		return nil, err
	}
	return &aas.PutScheduledActionOutput{}, nil
}

// DescribeScheduledActions lists scheduled actions of a namespace.
func (s *Service) DescribeScheduledActions(ctx context.Context, in *aas.DescribeScheduledActionsInput) (*aas.DescribeScheduledActionsOutput, error) {
	ns, err := checkNamespace(in.ServiceNamespace)
	if err != nil {
		return nil, err
	}
	limit, start, err := paging(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	prefix := append(sc.prefix("s"), ns+"\x00"...)
	if in.ResourceId != nil {
		prefix = append(prefix, *in.ResourceId+"\x00"...)
	}
	out := &aas.DescribeScheduledActionsOutput{ScheduledActions: []aas.ScheduledAction{}}
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			var a scheduled
			if err := jsonDecode(v, &a); err != nil {
				return false, err
			}
			if in.ScalableDimension != nil && *in.ScalableDimension != a.Target.Dimension ||
				len(in.ScheduledActionNames) > 0 && !slices.Contains(in.ScheduledActionNames, a.Name) {
				return true, nil
			}
			if len(out.ScheduledActions) == limit {
				out.NextToken = token(k)
				return false, nil
			}
			out.ScheduledActions = append(out.ScheduledActions, a.api())
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteScheduledAction deletes a scheduled action.
func (s *Service) DeleteScheduledAction(ctx context.Context, in *aas.DeleteScheduledActionInput) (*aas.DeleteScheduledActionOutput, error) {
	n, err := checkNamespace(in.ServiceNamespace)
	if err != nil {
		return nil, err
	}
	id := targetID{n, awsapi.ToString(in.ResourceId), awsapi.ToString(in.ScalableDimension)}
	name := awsapi.ToString(in.ScheduledActionName)
	sc := scopeOf(ctx)
	err = s.st.Update(func(tx store.Tx) error {
		b, err := tx.Get(sc.childKey("s", id, name))
		if err != nil {
			return err
		}
		if b == nil {
			return notFound("No scheduled action found for service namespace: %s, resource ID: %s, scalable dimension: %s, scheduled action name: %s",
				id.Namespace, id.ResourceID, id.Dimension, name)
		}
		return tx.Delete(sc.childKey("s", id, name))
	})
	if err != nil {
		return nil, err
	}
	return &aas.DeleteScheduledActionOutput{}, nil
}

// fireScheduled runs a due scheduled action: it sets the target's min and max,
// then brings capacity inside them ("How scheduled scaling works" in the User
// Guide), and schedules the next firing. A target with scheduled scaling
// suspended skips the firing.
func (s *Service) fireScheduled(ctx context.Context, sc scope, key []byte, now time.Time) error {
	var a scheduled
	var t target
	fired := false
	err := s.st.Update(func(tx store.Tx) error {
		found, err := getJSON(tx, key, &a)
		if err != nil || !found || a.Next.IsZero() || a.Next.After(now) {
			return err
		}
		sch, err := a.parse()
		if err != nil {
			a.Next = time.Time{}
			return putJSON(tx, key, &a)
		}
		a.Next = a.next(sch, now)
		if err := putJSON(tx, key, &a); err != nil {
			return err
		}
		ok, err := getJSON(tx, sc.targetKey(a.Target), &t)
		if err != nil || !ok || t.Suspended.Scheduled {
			return err
		}
		if a.Min != nil {
			t.Min = *a.Min
		}
		if a.Max != nil {
			t.Max = *a.Max
		}
		if t.Min > t.Max {
			// Only one bound was given and it crosses the other: AWS fails
			// the activity and leaves the target as it was.
			return s.putActivity(tx, sc, &activity{
				ID: s.uuid(), Target: a.Target, Start: now, End: now, Status: "Failed",
				Description: scheduledDescription(a.Min, a.Max), Cause: "scheduled action name " + a.Name + " was triggered",
				StatusMessage: "Maximum capacity cannot be less than minimum capacity"})
		}
		fired = true
		if err := putJSON(tx, sc.targetKey(a.Target), &t); err != nil {
			return err
		}
		desc := scheduledDescription(a.Min, a.Max)
		return s.putActivity(tx, sc, &activity{
			ID: s.uuid(), Target: a.Target, Start: now, End: now, Status: "Successful",
			Description: desc, Cause: "scheduled action name " + a.Name + " was triggered",
			StatusMessage: "Successfully s" + desc[1:]})
	})
	if err != nil || !fired {
		return err
	}
	current, err := s.currentCapacity(ctx, sc, &t)
	if err != nil {
		return err
	}
	if to := clamp(current, t.Min, t.Max); to != current {
		err := s.scale(ctx, sc, a.Target, decision{to: to, cause: "scheduled action name " + a.Name + " was triggered", direct: true})
		if err != errNoChange {
			return err
		}
	}
	return nil
}

func scheduledDescription(min, max *int32) string {
	switch {
	case min != nil && max != nil:
		return fmt.Sprintf("Setting min capacity to %d and max capacity to %d", *min, *max)
	case min != nil:
		return fmt.Sprintf("Setting min capacity to %d", *min)
	case max != nil:
		return fmt.Sprintf("Setting max capacity to %d", *max)
	}
	return "Setting min capacity and max capacity unchanged"
}
