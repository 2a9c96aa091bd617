package autoscaling

import (
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
)

func TestProportionalIsCeilOfCurrentTimesMetricOverTarget(t *testing.T) {
	cases := []struct {
		name           string
		current        int32
		metric, target float64
		want           int32
	}{
		// "Scaling policy based on Amazon SQS" (EC2 Auto Scaling User Guide):
		// 1500 messages, 10 acceptable per task: 150 tasks.
		{"backlog per task from one task", 1, 1500, 10, 150},
		{"exactly at target keeps capacity", 4, 50, 50, 4},
		{"cpu 75 of target 50 on 2 tasks", 2, 75, 50, 3},
		{"rounds up", 3, 51, 50, 4},
		{"float noise does not add a task", 3, 0.7 * 100 / 3 * 3 / 100 * 50, 50 * 0.7, 3},
		{"scale in", 10, 20, 50, 4},
		{"idle scales to zero", 10, 0, 50, 0},
		{"no tasks and load gets one", 0, 99, 10, 1},
		{"no tasks and no load stays", 0, 0, 10, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := proportional(c.current, c.metric, c.target); got != c.want {
				t.Fatalf("proportional(%d, %v, %v) = %d, want %d", c.current, c.metric, c.target, got, c.want)
			}
		})
	}
}

// tracking is a target tracking configuration with one-minute cooldowns.
func tracking(target float64) *aas.TargetTrackingScalingPolicyConfiguration {
	return &aas.TargetTrackingScalingPolicyConfiguration{TargetValue: f64p(target), ScaleOutCooldown: awsapi.Int32(60), ScaleInCooldown: awsapi.Int32(60)}
}

func TestTrackingVerdict(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	base := func() *target { return &target{Min: 1, Max: 20} }
	disableIn := tracking(10)
	disableIn.DisableScaleIn = awsapi.Bool(true)
	cases := []struct {
		name    string
		cfg     *aas.TargetTrackingScalingPolicyConfiguration
		tgt     func() *target
		current int32
		metric  float64
		want    verdict
	}{
		{"backlog 1500 at 10 per task clamps to max", tracking(10), base, 1, 1500, verdict{act: true, to: 20, out: true}},
		{"above target scales out", tracking(10), base, 2, 25, verdict{act: true, to: 5, out: true}},
		{"between 90% and 100% of target holds", tracking(10), base, 4, 9.5, verdict{}},
		{"below 90% scales in", tracking(10), base, 10, 4, verdict{act: true, to: 4}},
		{"scale in clamps to min", tracking(10), base, 5, 0, verdict{act: true, to: 1}},
		{"at max reports AlreadyAtMaxCapacity", tracking(10), base, 20, 100, verdict{notScaled: "AlreadyAtMaxCapacity", out: true}},
		{"at min reports AlreadyAtMinCapacity", tracking(10), base, 1, 0, verdict{notScaled: "AlreadyAtMinCapacity"}},
		{"DisableScaleIn keeps capacity", disableIn, base, 10, 1, verdict{}},
		{"DisableScaleIn still scales out", disableIn, base, 2, 20, verdict{act: true, to: 4, out: true}},
		{"scale-out suspended", tracking(10), func() *target { t := base(); t.Suspended.Out = true; return t }, 2, 100, verdict{}},
		{"scale-in suspended", tracking(10), func() *target { t := base(); t.Suspended.In = true; return t }, 10, 1, verdict{}},
		{"scale-in cooldown blocks scale in", tracking(10), func() *target {
			t := base()
			t.LastIn = now.Add(-10 * time.Second)
			return t
		}, 10, 1, verdict{}},
		{"expired scale-in cooldown allows scale in", tracking(10), func() *target {
			t := base()
			t.LastIn = now.Add(-61 * time.Second)
			return t
		}, 10, 1, verdict{act: true, to: 1}},
		{"scale-out cooldown blocks scale in", tracking(10), func() *target {
			t := base()
			t.LastOut, t.OutBase = now.Add(-10*time.Second), 2
			return t
		}, 10, 1, verdict{}},
		// Scaled 2 → 10 on a stale reading of 50; the reading has not moved:
		// the added capacity counts, so no second scale-out to 50.
		{"scale-out cooldown counts the capacity already added", tracking(10), func() *target {
			t := base()
			t.LastOut, t.OutBase = now.Add(-10*time.Second), 2
			return t
		}, 10, 50, verdict{}},
		{"scale-out cooldown allows a larger scale-out", tracking(10), func() *target {
			t := base()
			t.LastOut, t.OutBase = now.Add(-10*time.Second), 2
			return t
		}, 10, 70, verdict{act: true, to: 14, out: true}},
		{"after the scale-out cooldown current capacity counts", tracking(10), func() *target {
			t := base()
			t.LastOut, t.OutBase = now.Add(-61*time.Second), 2
			return t
		}, 10, 15, verdict{act: true, to: 15, out: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := trackingVerdict(c.cfg, c.tgt(), c.current, c.metric, now)
			if got != c.want {
				t.Fatalf("verdict = %+v, want %+v", got, c.want)
			}
		})
	}
}

func step(lo, hi *float64, adj int32) aas.StepAdjustment {
	return aas.StepAdjustment{MetricIntervalLowerBound: lo, MetricIntervalUpperBound: hi, ScalingAdjustment: awsapi.Int32(adj)}
}

func TestStepCapacity(t *testing.T) {
	cases := []struct {
		name    string
		typ     string
		minMag  *int32
		current int32
		adj     int32
		want    int32
	}{
		{"change in capacity adds", "ChangeInCapacity", nil, 3, 2, 5},
		{"change in capacity removes", "ChangeInCapacity", nil, 3, -5, 0},
		{"exact capacity sets", "ExactCapacity", nil, 3, 7, 7},
		{"percent 12.7 rounds down to 12", "PercentChangeInCapacity", nil, 127, 10, 139},
		{"percent 0.67 rounds to 1", "PercentChangeInCapacity", nil, 67, 1, 68},
		{"percent -0.67 rounds to -1", "PercentChangeInCapacity", nil, 67, -1, 66},
		{"percent -6.67 rounds up to -6", "PercentChangeInCapacity", nil, 667, -1, 661},
		{"percent 200 triples", "PercentChangeInCapacity", nil, 2, 200, 6},
		{"MinAdjustmentMagnitude raises a small change", "PercentChangeInCapacity", awsapi.Int32(3), 10, 10, 13},
		{"MinAdjustmentMagnitude raises a small decrease", "PercentChangeInCapacity", awsapi.Int32(3), 10, -10, 7},
		{"MinAdjustmentMagnitude leaves a large change", "PercentChangeInCapacity", awsapi.Int32(3), 100, 50, 150},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &aas.StepScalingPolicyConfiguration{AdjustmentType: awsapi.String(c.typ), MinAdjustmentMagnitude: c.minMag}
			if got := stepCapacity(cfg, c.current, c.adj); got != c.want {
				t.Fatalf("stepCapacity = %d, want %d", got, c.want)
			}
		})
	}
}

func TestFindStepBoundsAreInclusiveTowardTheThreshold(t *testing.T) {
	steps := []aas.StepAdjustment{
		step(nil, f64p(-10), -2),
		step(f64p(-10), f64p(0), -1),
		step(f64p(0), f64p(10), 1),
		step(f64p(10), nil, 3),
	}
	cases := []struct {
		breach float64
		want   int32
	}{
		{-20, -2}, {-10, -2}, {-9.9, -1}, {-0.1, -1}, {0, 1}, {9.9, 1}, {10, 3}, {1e9, 3},
	}
	for _, c := range cases {
		st, ok := findStep(steps, c.breach)
		if !ok || *st.ScalingAdjustment != c.want {
			t.Errorf("breach %v: step %v (found %v), want adjustment %d", c.breach, st.ScalingAdjustment, ok, c.want)
		}
	}
	if _, ok := findStep([]aas.StepAdjustment{step(f64p(0), f64p(10), 1)}, 20); ok {
		t.Error("a breach outside every interval found a step")
	}
}

func TestCheckStepsRejectsGapsAndOverlaps(t *testing.T) {
	cases := []struct {
		name  string
		steps []aas.StepAdjustment
		ok    bool
	}{
		{"one open step", []aas.StepAdjustment{step(f64p(0), nil, 1)}, true},
		{"contiguous", []aas.StepAdjustment{step(f64p(0), f64p(10), 1), step(f64p(10), nil, 2)}, true},
		{"contiguous unordered", []aas.StepAdjustment{step(f64p(10), nil, 2), step(nil, f64p(10), 1)}, true},
		{"gap", []aas.StepAdjustment{step(f64p(0), f64p(10), 1), step(f64p(20), nil, 2)}, false},
		{"overlap", []aas.StepAdjustment{step(f64p(0), f64p(10), 1), step(f64p(5), nil, 2)}, false},
		{"inverted bounds", []aas.StepAdjustment{step(f64p(10), f64p(0), 1)}, false},
		{"empty", nil, false},
		{"missing adjustment", []aas.StepAdjustment{{MetricIntervalLowerBound: f64p(0)}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if msg := checkSteps(c.steps); (msg == "") != c.ok {
				t.Fatalf("checkSteps = %q, want ok=%v", msg, c.ok)
			}
		})
	}
}

func TestStepVerdict(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	out := &aas.StepScalingPolicyConfiguration{AdjustmentType: awsapi.String("ChangeInCapacity"),
		StepAdjustments: []aas.StepAdjustment{step(f64p(0), f64p(100), 1), step(f64p(100), nil, 3)}}
	in := &aas.StepScalingPolicyConfiguration{AdjustmentType: awsapi.String("ChangeInCapacity"),
		StepAdjustments: []aas.StepAdjustment{step(nil, f64p(0), -1)}}
	noCooldown := &aas.StepScalingPolicyConfiguration{AdjustmentType: awsapi.String("ChangeInCapacity"), Cooldown: awsapi.Int32(0),
		StepAdjustments: []aas.StepAdjustment{step(f64p(0), nil, 1)}}
	cases := []struct {
		name      string
		cfg       *aas.StepScalingPolicyConfiguration
		tgt       target
		current   int32
		value     float64
		threshold float64
		want      verdict
	}{
		{"small breach adds one", out, target{Min: 1, Max: 10}, 2, 150, 100, verdict{act: true, to: 3, out: true}},
		{"large breach adds three", out, target{Min: 1, Max: 10}, 2, 250, 100, verdict{act: true, to: 5, out: true}},
		{"clamped to max", out, target{Min: 1, Max: 4}, 2, 250, 100, verdict{act: true, to: 4, out: true}},
		{"at max not scaled", out, target{Min: 1, Max: 4}, 4, 250, 100, verdict{notScaled: "AlreadyAtMaxCapacity", out: true}},
		{"scale in step", in, target{Min: 1, Max: 4}, 3, 10, 20, verdict{act: true, to: 2}},
		{"at min not scaled", in, target{Min: 3, Max: 4}, 3, 10, 20, verdict{notScaled: "AlreadyAtMinCapacity"}},
		{"scale out suspended", out, target{Min: 1, Max: 10, Suspended: suspended{Out: true}}, 2, 250, 100, verdict{}},
		{"scale in suspended", in, target{Min: 1, Max: 10, Suspended: suspended{In: true}}, 3, 10, 20, verdict{}},
		{"scale in cooldown", in, target{Min: 1, Max: 10, LastIn: now.Add(-time.Second)}, 3, 10, 20, verdict{}},
		{"scale out cooldown counts added capacity", out,
			target{Min: 1, Max: 10, LastOut: now.Add(-time.Second), OutBase: 2}, 5, 250, 100, verdict{}},
		{"no step for the breach", in, target{Min: 1, Max: 10}, 3, 30, 20, verdict{}},
		// Cooldowns are the evaluating policy's: one with none is not held
		// back by another policy's recent scale-out.
		{"own zero cooldown ignores a recent scale-out", noCooldown,
			target{Min: 1, Max: 10, LastOut: now.Add(-time.Second), OutBase: 1}, 5, 250, 100, verdict{act: true, to: 6, out: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := c.tgt
			if got := stepVerdict(c.cfg, &tg, c.current, c.value, c.threshold, now); got != c.want {
				t.Fatalf("verdict = %+v, want %+v", got, c.want)
			}
		})
	}
}

func FuzzECSResourceID(f *testing.F) {
	for _, s := range []string{"service/default/web", "service//x", "service/a/b/c", "table/x", "", "service/a/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		c, s, ok := ecsService(id)
		if ok && "service/"+c+"/"+s != id {
			t.Fatalf("ecsService(%q) = %q, %q: does not round-trip", id, c, s)
		}
	})
}

func FuzzScopedKey(f *testing.F) {
	f.Add([]byte("aas/p/000000000000/us-east-1/ecs\x00service/a/b\x00ecs:service:DesiredCount\x00p"))
	f.Add([]byte("aas/p/"))
	f.Add([]byte("aas"))
	f.Fuzz(func(t *testing.T, k []byte) {
		sc, rest, ok := parseScopedKey(k)
		if ok && !strings.HasSuffix(string(k), "/"+sc.account+"/"+sc.region+"/"+rest) {
			t.Fatalf("parseScopedKey(%q) = %+v, %q", k, sc, rest)
		}
	})
}
