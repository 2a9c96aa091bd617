package autoscaling

import (
	"math"
	"sort"
	"strconv"
	"time"

	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
)

// The scaling arithmetic, free of the store and the clock so that it is tested
// by value. AWS's rules are cited where they are not obvious.

// Default cooldowns for ECS services ("Define cooldown periods" in the
// Application Auto Scaling User Guide: 300 seconds for ECS).
const defaultCooldown = 300

// scaleInRatio is where a target tracking policy's low alarm sits: 90% of the
// target value, so that capacity does not flap around the target.
const scaleInRatio = 0.9

func clamp(n, lo, hi int32) int32 {
	if n < lo {
		return lo
	}
	if n > hi {
		return hi
	}
	return n
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// proportional is target tracking's capacity: ceil(current × metric / target),
// the capacity at which the metric would be at the target if it scales
// linearly with capacity. A service with no tasks and a metric above the
// target gets one task: there is nothing to be proportional to.
func proportional(current int32, metric, targetValue float64) int32 {
	if current <= 0 {
		if metric > targetValue {
			return 1
		}
		return 0
	}
	v := float64(current) * metric / targetValue
	// Guard against 150.00000000000003 becoming 151.
	v = math.Ceil(v - 1e-9)
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	if v < 0 {
		return 0
	}
	return int32(v)
}

// cooldownState is what a target remembers of its last scaling in each
// direction, with the cooldowns of the policy now being evaluated: as on AWS,
// the policy that wants to scale decides how long the last activity holds it.
type cooldownState struct {
	LastOut     time.Time
	OutBase     int32 // capacity before the scale-out that started the cooldown
	OutCooldown int32
	LastIn      time.Time
	InCooldown  int32
}

func (c cooldownState) inScaleOut(now time.Time) bool {
	return !c.LastOut.IsZero() && now.Before(c.LastOut.Add(time.Duration(c.OutCooldown)*time.Second))
}

func (c cooldownState) inScaleIn(now time.Time) bool {
	return !c.LastIn.IsZero() && now.Before(c.LastIn.Add(time.Duration(c.InCooldown)*time.Second))
}

// verdict is the outcome of a policy evaluation.
type verdict struct {
	act       bool
	to        int32  // the new desired count, within min and max, when act
	notScaled string // NotScaledReason code when the policy wanted to scale but could not
	out       bool   // direction of the wanted change
}

// trackingVerdict decides a target tracking step. Scale-out happens when the
// metric is above the target (the high alarm's condition); scale-in when it is
// below 90% of it (the low alarm's). Cooldowns follow "Define cooldown periods"
// in the Application Auto Scaling User Guide: during a scale-out cooldown the
// capacity added by the scale-out that started it counts toward the next one,
// so the next is computed from the capacity before it and happens only if it
// asks for more; no scale-in happens during either cooldown.
func trackingVerdict(cfg *aas.TargetTrackingScalingPolicyConfiguration, t *target, current int32, metric float64, now time.Time) verdict {
	tv := *cfg.TargetValue
	cd := t.cooldowns(trackingCooldowns(cfg))
	switch {
	case metric > tv:
		if t.Suspended.Out {
			return verdict{}
		}
		base := current
		if cd.inScaleOut(now) && cd.OutBase < current {
			base = cd.OutBase
		}
		want := proportional(base, metric, tv)
		if want <= current {
			return verdict{}
		}
		return bounded(want, current, t, true)
	case metric < tv*scaleInRatio:
		if t.Suspended.In || (cfg.DisableScaleIn != nil && *cfg.DisableScaleIn) {
			return verdict{}
		}
		if cd.inScaleIn(now) || cd.inScaleOut(now) {
			return verdict{}
		}
		want := proportional(current, metric, tv)
		if want >= current {
			return verdict{}
		}
		return bounded(want, current, t, false)
	}
	return verdict{}
}

// bounded clamps want to the target's capacity limits and says why nothing
// changes when the clamp brings it back to current.
func bounded(want, current int32, t *target, out bool) verdict {
	to := clamp(want, t.Min, t.Max)
	if to == current {
		code := "AlreadyAtMinCapacity"
		if out {
			code = "AlreadyAtMaxCapacity"
		}
		return verdict{notScaled: code, out: out}
	}
	return verdict{act: true, to: to, out: to > current}
}

// findStep returns the step adjustment whose interval contains breach, the
// metric's distance from the alarm threshold. Above the threshold an interval's
// lower bound is inclusive and its upper exclusive; below it the reverse
// ("Step adjustments for step scaling" in the User Guide). A missing lower bound
// is negative infinity, a missing upper bound positive infinity.
func findStep(steps []aas.StepAdjustment, breach float64) (aas.StepAdjustment, bool) {
	for _, st := range steps {
		lo, hi := math.Inf(-1), math.Inf(1)
		if st.MetricIntervalLowerBound != nil {
			lo = *st.MetricIntervalLowerBound
		}
		if st.MetricIntervalUpperBound != nil {
			hi = *st.MetricIntervalUpperBound
		}
		var in bool
		if breach >= 0 {
			in = breach >= lo && breach < hi
		} else {
			in = breach > lo && breach <= hi
		}
		if in {
			return st, true
		}
	}
	return aas.StepAdjustment{}, false
}

// stepCapacity applies an adjustment to current. PercentChangeInCapacity
// rounds toward zero, except that a change between -1 and 1 becomes -1 or 1,
// and a change smaller than MinAdjustmentMagnitude grows to it ("Step
// adjustments for step scaling": 12.7 → 12, 0.67 → 1, -0.67 → -1, -6.67 → -6).
func stepCapacity(cfg *aas.StepScalingPolicyConfiguration, current, adjustment int32) int32 {
	switch derefString(cfg.AdjustmentType) {
	case "ExactCapacity":
		return adjustment
	case "PercentChangeInCapacity":
		change := float64(current) * float64(adjustment) / 100
		var n int64
		switch {
		case change > 0 && change < 1:
			n = 1
		case change < 0 && change > -1:
			n = -1
		default:
			n = int64(change) // truncates toward zero
		}
		if m := int64(derefInt32(cfg.MinAdjustmentMagnitude)); m > 0 && n != 0 && abs64(n) < m {
			if n > 0 {
				n = m
			} else {
				n = -m
			}
		}
		return saturate(int64(current) + n)
	default: // ChangeInCapacity
		return saturate(int64(current) + int64(adjustment))
	}
}

// stepVerdict decides what a step scaling policy does when its alarm reports
// value against threshold. The cooldown rules are target tracking's, with the
// policy's single Cooldown for both directions.
func stepVerdict(cfg *aas.StepScalingPolicyConfiguration, t *target, current int32, value, threshold float64, now time.Time) verdict {
	st, ok := findStep(cfg.StepAdjustments, value-threshold)
	if !ok {
		return verdict{}
	}
	adj := derefInt32(st.ScalingAdjustment)
	want := stepCapacity(cfg, current, adj)
	cd := t.cooldowns(stepCooldowns(cfg))
	switch {
	case want > current:
		if t.Suspended.Out {
			return verdict{}
		}
		if cd.inScaleOut(now) && cd.OutBase < current {
			want = stepCapacity(cfg, cd.OutBase, adj)
			if want <= current {
				return verdict{}
			}
		}
		return bounded(want, current, t, true)
	case want < current:
		if t.Suspended.In || cd.inScaleIn(now) {
			return verdict{}
		}
		return bounded(want, current, t, false)
	}
	return verdict{}
}

// checkSteps enforces AWS's rules for step adjustments: at least one; bounds
// ordered; at most one interval open below and one open above; and no overlaps
// or gaps between consecutive intervals.
func checkSteps(steps []aas.StepAdjustment) string {
	if len(steps) == 0 {
		return "StepAdjustments must contain at least one step adjustment"
	}
	sorted := append([]aas.StepAdjustment(nil), steps...)
	lower := func(s aas.StepAdjustment) float64 {
		if s.MetricIntervalLowerBound == nil {
			return math.Inf(-1)
		}
		return *s.MetricIntervalLowerBound
	}
	upper := func(s aas.StepAdjustment) float64 {
		if s.MetricIntervalUpperBound == nil {
			return math.Inf(1)
		}
		return *s.MetricIntervalUpperBound
	}
	for _, s := range sorted {
		if s.ScalingAdjustment == nil {
			return "ScalingAdjustment is required for each step adjustment"
		}
		if s.MetricIntervalLowerBound == nil && s.MetricIntervalUpperBound == nil && len(steps) > 1 {
			return "Only one step adjustment may have neither a lower nor an upper bound"
		}
		if lower(s) >= upper(s) {
			return "The lower bound of a step adjustment must be less than its upper bound"
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return lower(sorted[i]) < lower(sorted[j]) })
	for i := 1; i < len(sorted); i++ {
		if upper(sorted[i-1]) != lower(sorted[i]) {
			return "Step adjustment intervals may not overlap and may not have gaps between them"
		}
	}
	return ""
}

func saturate(n int64) int32 {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	if n < 0 {
		return 0
	}
	return int32(n)
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefInt32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func (t *target) cooldowns(out, in int32) cooldownState {
	return cooldownState{LastOut: t.LastOut, OutBase: t.OutBase, OutCooldown: out, LastIn: t.LastIn, InCooldown: in}
}

// trackingCooldowns are a target tracking policy's cooldowns, 300 s unless set.
func trackingCooldowns(c *aas.TargetTrackingScalingPolicyConfiguration) (out, in int32) {
	out, in = defaultCooldown, defaultCooldown
	if c.ScaleOutCooldown != nil {
		out = *c.ScaleOutCooldown
	}
	if c.ScaleInCooldown != nil {
		in = *c.ScaleInCooldown
	}
	return out, in
}

// stepCooldowns are a step scaling policy's Cooldown in both directions, 300 s unless set.
func stepCooldowns(c *aas.StepScalingPolicyConfiguration) (out, in int32) {
	if c.Cooldown != nil {
		return *c.Cooldown, *c.Cooldown
	}
	return defaultCooldown, defaultCooldown
}
