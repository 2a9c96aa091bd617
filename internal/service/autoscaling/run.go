package autoscaling

import (
	"context"
	"slices"

	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	"github.com/wharf-dev/wharf/internal/store"
)

// DescribeScalingActivities lists a namespace's scaling activities, newest
// first, optionally of one resource and dimension. Activities that did not
// scale appear only with IncludeNotScaledActivities.
func (s *Service) DescribeScalingActivities(ctx context.Context, in *aas.DescribeScalingActivitiesInput) (*aas.DescribeScalingActivitiesOutput, error) {
	ns, err := checkNamespace(in.ServiceNamespace)
	if err != nil {
		return nil, err
	}
	limit, start, err := paging(in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	prefix := append(sc.prefix("a"), ns+"\x00"...)
	withNotScaled := awsapi.ToBool(in.IncludeNotScaledActivities)
	out := &aas.DescribeScalingActivitiesOutput{ScalingActivities: []aas.ScalingActivity{}}
	err = s.st.View(func(tx store.Tx) error {
		return tx.ScanReverse(prefix, start, func(k, v []byte) (bool, error) {
			var a activity
			if err := jsonDecode(v, &a); err != nil {
				return false, err
			}
			if in.ResourceId != nil && *in.ResourceId != a.Target.ResourceID ||
				in.ScalableDimension != nil && *in.ScalableDimension != a.Target.Dimension ||
				a.NotScaled != nil && !withNotScaled {
				return true, nil
			}
			if len(out.ScalingActivities) == limit {
				out.NextToken = token(k)
				return false, nil
			}
			out.ScalingActivities = append(out.ScalingActivities, a.api())
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *activity) api() aas.ScalingActivity {
	out := aas.ScalingActivity{
		ActivityId:        awsapi.String(a.ID),
		ServiceNamespace:  awsapi.String(a.Target.Namespace),
		ResourceId:        awsapi.String(a.Target.ResourceID),
		ScalableDimension: awsapi.String(a.Target.Dimension),
		Description:       awsapi.String(a.Description),
		Cause:             awsapi.String(a.Cause),
		StartTime:         timep(a.Start),
		StatusCode:        awsapi.String(a.Status),
	}
	if !a.End.IsZero() {
		out.EndTime = timep(a.End)
	}
	if a.StatusMessage != "" {
		out.StatusMessage = awsapi.String(a.StatusMessage)
	}
	if n := a.NotScaled; n != nil {
		r := aas.NotScaledReason{Code: awsapi.String(n.Code)}
		if n.HasMin {
			r.MinCapacity = awsapi.Int32(n.Min)
		}
		if n.HasMax {
			r.MaxCapacity = awsapi.Int32(n.Max)
		}
		if n.HasCu {
			r.CurrentCapacity = awsapi.Int32(n.Current)
		}
		out.NotScaledReasons = []aas.NotScaledReason{r}
	}
	return out
}

// Run evaluates target tracking policies and fires due scheduled actions every
// Interval until ctx is cancelled.
func (s *Service) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.interval):
		}
		rctx, done := s.round(ctx)
		s.Tick(rctx)
		done()
	}
}

// Tick runs one evaluation pass: every target tracking policy of every
// account and region, then every due scheduled action. Run calls it each
// interval; tests call it to step time.
func (s *Service) Tick(ctx context.Context) {
	now := s.clock.Now()
	type due struct {
		sc  scope
		key []byte
	}
	var policies []struct {
		sc scope
		p  policy
	}
	var actions []due
	err := s.st.View(func(tx store.Tx) error {
		err := tx.Scan([]byte("aas/p/"), nil, func(k, v []byte) (bool, error) {
			sc, _, ok := parseScopedKey(k)
			if !ok {
				return true, nil
			}
			var p policy
			if err := jsonDecode(v, &p); err != nil {
				return false, err
			}
			if p.Tracking != nil {
				policies = append(policies, struct {
					sc scope
					p  policy
				}{sc, p})
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		return tx.Scan([]byte("aas/s/"), nil, func(k, v []byte) (bool, error) {
			sc, _, ok := parseScopedKey(k)
			if !ok {
				return true, nil
			}
			var a scheduled
			if err := jsonDecode(v, &a); err != nil {
				return false, err
			}
			if !a.Next.IsZero() && !a.Next.After(now) {
				actions = append(actions, due{sc, slices.Clone(k)})
			}
			return true, nil
		})
	})
	if err != nil {
		s.log.Error("autoscaling evaluation", "err", err)
		return
	}
	for _, e := range policies {
		if ctx.Err() != nil {
			return
		}
		if err := s.evaluateTracking(ctx, e.sc, &e.p, nil, ""); err != nil {
			s.log.Debug("target tracking", "policy", e.p.ARN, "err", err)
		}
	}
	for _, a := range actions {
		if ctx.Err() != nil {
			return
		}
		if err := s.fireScheduled(ctx, a.sc, a.key, now); err != nil {
			s.log.Debug("scheduled action", "key", string(a.key), "err", err)
		}
	}
}
