package cloudwatch

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
)

type published struct{ topic, subject, message string }

type fakeSNS struct {
	mu   sync.Mutex
	sent []published
}

func (f *fakeSNS) PublishToTopic(_ context.Context, topic, subject, message string, _ map[string]string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, published{topic, subject, message})
	return "id", nil
}

type fakeScaling struct{ calls []AlarmFiring }

func (f *fakeScaling) ExecuteScalingPolicy(_ context.Context, arn string, a AlarmFiring) error {
	f.calls = append(f.calls, a)
	return nil
}

const topic = "arn:aws:sns:eu-west-1:111122223333:alerts"
const policy = "arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:abc:resource/ecs/service/c/web:policyName/out"

func putAlarm(t *testing.T, s *Service, ctx context.Context, mod func(*cwapi.PutMetricAlarmInput)) {
	t.Helper()
	in := &cwapi.PutMetricAlarmInput{
		AlarmName: awsapi.String("backlog-high"), Namespace: awsapi.String("App"), MetricName: awsapi.String("Backlog"),
		Statistic: awsapi.String("Maximum"), Period: awsapi.Int32(10), EvaluationPeriods: awsapi.Int32(3), DatapointsToAlarm: awsapi.Int32(2),
		Threshold: f64(100), ComparisonOperator: awsapi.String("GreaterThanThreshold"),
		AlarmActions: []string{topic, policy}, OKActions: []string{topic},
	}
	if mod != nil {
		mod(in)
	}
	if _, err := s.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
}

func alarmState(t *testing.T, s *Service, ctx context.Context, name string) string {
	t.Helper()
	out, err := s.DescribeAlarms(ctx, &cwapi.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("describe: %v %v", out, err)
	}
	return *out.MetricAlarms[0].StateValue
}

// step puts value v at the clock's now, advances a period, and evaluates.
func step(t *testing.T, s *Service, clk *fakeClock, ctx context.Context, v *float64) {
	t.Helper()
	if v != nil {
		putValues(t, s, ctx, "App", "Backlog", nil, map[time.Duration]float64{clk.Now().Sub(t0): *v})
	}
	clk.Advance(10 * time.Second)
	if err := s.EvaluateAlarms(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAlarmGoesToAlarmAfterDatapointsToAlarmAndBack(t *testing.T) {
	s, clk, ctx, rec := newTestService(t)
	sns, scaling := &fakeSNS{}, &fakeScaling{}
	s.SetTopicPublisher(sns)
	s.SetScalingPolicyExecutor(scaling)
	putAlarm(t, s, ctx, nil)
	if got := alarmState(t, s, ctx, "backlog-high"); got != "INSUFFICIENT_DATA" {
		t.Fatalf("initial state %s", got)
	}
	states := []string{}
	for _, v := range []float64{50, 150, 200, 300, 20, 10, 5} {
		step(t, s, clk, ctx, &v)
		states = append(states, alarmState(t, s, ctx, "backlog-high"))
	}
	// 2 of 3 breaching → ALARM on the second breach; back to OK once 2 of the last 3 are fine.
	want := []string{"OK", "OK", "ALARM", "ALARM", "ALARM", "OK", "OK"}
	if !reflect.DeepEqual(states, want) {
		t.Fatalf("states = %v, want %v", states, want)
	}
	evs := rec.Events()
	if len(evs) != 3 {
		t.Fatalf("events = %d", len(evs))
	}
	var detail struct {
		AlarmName string `json:"alarmName"`
		State     struct {
			Value, Reason, Timestamp string
		} `json:"state"`
		PreviousState struct{ Value string } `json:"previousState"`
		Configuration struct {
			Metrics []struct {
				ID         string `json:"id"`
				MetricStat struct {
					Metric struct {
						Namespace, Name string
					} `json:"metric"`
					Period int
					Stat   string
				} `json:"metricStat"`
				ReturnData bool `json:"returnData"`
			} `json:"metrics"`
		} `json:"configuration"`
	}
	if err := json.Unmarshal(evs[1].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if evs[1].Source != "aws.cloudwatch" || evs[1].DetailType != "CloudWatch Alarm State Change" || evs[1].Resources[0] != "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:backlog-high" {
		t.Fatalf("envelope = %+v", evs[1])
	}
	if detail.AlarmName != "backlog-high" || detail.State.Value != "ALARM" || detail.PreviousState.Value != "OK" ||
		!strings.HasPrefix(detail.State.Reason, "Threshold Crossed: 2 out of the last 3 datapoints") ||
		len(detail.Configuration.Metrics) != 1 || detail.Configuration.Metrics[0].MetricStat.Metric.Name != "Backlog" || detail.Configuration.Metrics[0].MetricStat.Period != 10 {
		t.Fatalf("detail = %s", evs[1].Detail)
	}
	// SNS: on entering ALARM and on returning to OK (not on the first INSUFFICIENT→OK? it has no INSUFFICIENT action, OK action yes).
	if len(sns.sent) != 3 || !strings.HasPrefix(sns.sent[1].subject, `ALARM: "backlog-high" in EU (Ireland)`) {
		t.Fatalf("sns = %+v", sns.sent)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(sns.sent[1].message), &msg); err != nil || msg["NewStateValue"] != "ALARM" || msg["OldStateValue"] != "OK" {
		t.Fatalf("sns message = %s", sns.sent[1].message)
	}
	// The scaling policy is invoked at each evaluation while in ALARM.
	if len(scaling.calls) != 3 || scaling.calls[0].Value != 200 {
		t.Fatalf("scaling calls = %+v", scaling.calls)
	}
	hist, err := s.DescribeAlarmHistory(ctx, &cwapi.DescribeAlarmHistoryInput{AlarmName: awsapi.String("backlog-high"), HistoryItemType: awsapi.String("StateUpdate")})
	if err != nil || len(hist.AlarmHistoryItems) != 3 || *hist.AlarmHistoryItems[0].HistorySummary != "Alarm updated from ALARM to OK" {
		t.Fatalf("history = %+v %v", hist, err)
	}
}

func TestTreatMissingData(t *testing.T) {
	cases := []struct {
		treat string
		want  string
	}{
		{"missing", "INSUFFICIENT_DATA"},
		{"breaching", "ALARM"},
		{"notBreaching", "OK"},
		{"ignore", "OK"}, // keeps the state it had
	}
	for _, c := range cases {
		t.Run(c.treat, func(t *testing.T) {
			s, clk, ctx, _ := newTestService(t)
			putAlarm(t, s, ctx, func(in *cwapi.PutMetricAlarmInput) { in.TreatMissingData = awsapi.String(c.treat) })
			v := 1.0
			for range 3 {
				step(t, s, clk, ctx, &v)
			}
			if got := alarmState(t, s, ctx, "backlog-high"); got != "OK" {
				t.Fatalf("with data: %s", got)
			}
			for range 4 {
				step(t, s, clk, ctx, nil)
			}
			if got := alarmState(t, s, ctx, "backlog-high"); got != c.want {
				t.Fatalf("after silence: %s, want %s", got, c.want)
			}
		})
	}
}

func TestAlarmOnMetricMath(t *testing.T) {
	s, clk, ctx, _ := newTestService(t)
	_, err := s.PutMetricAlarm(ctx, &cwapi.PutMetricAlarmInput{
		AlarmName: awsapi.String("per-task"), EvaluationPeriods: awsapi.Int32(1), Threshold: f64(10), ComparisonOperator: awsapi.String("GreaterThanOrEqualToThreshold"),
		Metrics: []cwapi.MetricDataQuery{
			hidden(stat("b", "App", "Backlog", "Maximum", 10, nil)),
			hidden(stat("n", "App", "Tasks", "Maximum", 10, nil)),
			{Id: awsapi.String("e"), Expression: awsapi.String("b / FILL(n, 1)"), ReturnData: awsapi.Bool(true)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	putValues(t, s, ctx, "App", "Tasks", nil, map[time.Duration]float64{0: 4})
	v := 60.0
	step(t, s, clk, ctx, &v)
	if got := alarmState(t, s, ctx, "per-task"); got != "ALARM" {
		t.Fatalf("60/4: %s", got)
	}
	putValues(t, s, ctx, "App", "Tasks", nil, map[time.Duration]float64{clk.Now().Sub(t0): 10})
	step(t, s, clk, ctx, &v)
	if got := alarmState(t, s, ctx, "per-task"); got != "OK" {
		t.Fatalf("60/10: %s", got)
	}
}

func TestSetAlarmStateAndActionsDisabled(t *testing.T) {
	s, _, ctx, rec := newTestService(t)
	sns := &fakeSNS{}
	s.SetTopicPublisher(sns)
	putAlarm(t, s, ctx, nil)
	if _, err := s.DisableAlarmActions(ctx, &cwapi.DisableAlarmActionsInput{AlarmNames: []string{"backlog-high"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAlarmState(ctx, &cwapi.SetAlarmStateInput{AlarmName: awsapi.String("backlog-high"), StateValue: awsapi.String("ALARM"), StateReason: awsapi.String("testing")}); err != nil {
		t.Fatal(err)
	}
	if got := alarmState(t, s, ctx, "backlog-high"); got != "ALARM" {
		t.Fatalf("state %s", got)
	}
	if len(rec.Events()) != 1 || len(sns.sent) != 0 {
		t.Fatalf("events %d, sns %d: the event is published, actions are not", len(rec.Events()), len(sns.sent))
	}
	if _, err := s.EnableAlarmActions(ctx, &cwapi.EnableAlarmActionsInput{AlarmNames: []string{"backlog-high"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAlarmState(ctx, &cwapi.SetAlarmStateInput{AlarmName: awsapi.String("backlog-high"), StateValue: awsapi.String("OK"), StateReason: awsapi.String("testing")}); err != nil {
		t.Fatal(err)
	}
	if len(sns.sent) != 1 {
		t.Fatalf("sns = %d", len(sns.sent))
	}
	_, err := s.SetAlarmState(ctx, &cwapi.SetAlarmStateInput{AlarmName: awsapi.String("nope"), StateValue: awsapi.String("OK"), StateReason: awsapi.String("x")})
	if code(err) != "ResourceNotFound" {
		t.Fatalf("missing alarm: %v", err)
	}
	_, err = s.SetAlarmState(ctx, &cwapi.SetAlarmStateInput{AlarmName: awsapi.String("backlog-high"), StateValue: awsapi.String("OK"), StateReason: awsapi.String("x"), StateReasonData: awsapi.String("{bad")})
	if code(err) != "InvalidFormatFault" {
		t.Fatalf("bad reason data: %v", err)
	}
}

func TestPutMetricAlarmValidation(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	cases := []struct {
		name string
		mod  func(*cwapi.PutMetricAlarmInput)
		want string
	}{
		{"datapoints above periods", func(in *cwapi.PutMetricAlarmInput) { in.DatapointsToAlarm = awsapi.Int32(4) }, "InvalidParameterValueException"},
		{"no threshold", func(in *cwapi.PutMetricAlarmInput) { in.Threshold = nil }, "InvalidParameterValueException"},
		{"statistic and extended", func(in *cwapi.PutMetricAlarmInput) { in.ExtendedStatistic = awsapi.String("p90") }, "InvalidParameterCombinationException"},
		{"period 7", func(in *cwapi.PutMetricAlarmInput) { in.Period = awsapi.Int32(7) }, "InvalidParameterValueException"},
		{"bad treat", func(in *cwapi.PutMetricAlarmInput) { in.TreatMissingData = awsapi.String("sometimes") }, "InvalidParameterValueException"},
		{"metric and Metrics", func(in *cwapi.PutMetricAlarmInput) { in.Metrics = []cwapi.MetricDataQuery{expr("e", "1")} }, "InvalidParameterCombinationException"},
		{"anomaly band", func(in *cwapi.PutMetricAlarmInput) {
			in.ComparisonOperator = awsapi.String("LessThanLowerOrGreaterThanUpperThreshold")
		}, "InvalidParameterValueException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &cwapi.PutMetricAlarmInput{AlarmName: awsapi.String("a"), Namespace: awsapi.String("App"), MetricName: awsapi.String("M"), Statistic: awsapi.String("Sum"),
				Period: awsapi.Int32(60), EvaluationPeriods: awsapi.Int32(3), Threshold: f64(1), ComparisonOperator: awsapi.String("GreaterThanThreshold")}
			c.mod(in)
			if _, err := s.PutMetricAlarm(ctx, in); code(err) != c.want {
				t.Fatalf("err = %v, want %s", err, c.want)
			}
		})
	}
}

func TestDescribeAlarmsFiltersAndDelete(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	for _, n := range []string{"web-cpu", "web-mem", "db-cpu"} {
		putAlarm(t, s, ctx, func(in *cwapi.PutMetricAlarmInput) { in.AlarmName = awsapi.String(n) })
	}
	if _, err := s.SetAlarmState(ctx, &cwapi.SetAlarmStateInput{AlarmName: awsapi.String("db-cpu"), StateValue: awsapi.String("ALARM"), StateReason: awsapi.String("x")}); err != nil {
		t.Fatal(err)
	}
	names := func(in cwapi.DescribeAlarmsInput) []string {
		out, err := s.DescribeAlarms(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, a := range out.MetricAlarms {
			n = append(n, *a.AlarmName)
		}
		return n
	}
	if got := names(cwapi.DescribeAlarmsInput{AlarmNamePrefix: awsapi.String("web-")}); !reflect.DeepEqual(got, []string{"web-cpu", "web-mem"}) {
		t.Fatalf("prefix: %v", got)
	}
	if got := names(cwapi.DescribeAlarmsInput{StateValue: awsapi.String("ALARM")}); !reflect.DeepEqual(got, []string{"db-cpu"}) {
		t.Fatalf("state: %v", got)
	}
	if got := names(cwapi.DescribeAlarmsInput{ActionPrefix: awsapi.String("arn:aws:sns:")}); len(got) != 3 {
		t.Fatalf("action prefix: %v", got)
	}
	forMetric, err := s.DescribeAlarmsForMetric(ctx, &cwapi.DescribeAlarmsForMetricInput{Namespace: awsapi.String("App"), MetricName: awsapi.String("Backlog")})
	if err != nil || len(forMetric.MetricAlarms) != 3 {
		t.Fatalf("for metric: %v %v", forMetric, err)
	}
	if _, err := s.DeleteAlarms(ctx, &cwapi.DeleteAlarmsInput{AlarmNames: []string{"web-cpu", "nope"}}); code(err) != "ResourceNotFound" {
		t.Fatalf("delete with a missing name: %v", err)
	}
	if _, err := s.DeleteAlarms(ctx, &cwapi.DeleteAlarmsInput{AlarmNames: []string{"web-cpu", "web-mem"}}); err != nil {
		t.Fatal(err)
	}
	if got := names(cwapi.DescribeAlarmsInput{}); !reflect.DeepEqual(got, []string{"db-cpu"}) {
		t.Fatalf("after delete: %v", got)
	}
}

func TestDecideReasons(t *testing.T) {
	a := &alarm{Comparison: "GreaterThanThreshold", Threshold: 10, DatapointsToAlarm: 1, EvaluationPeriods: 1, TreatMissing: "missing", Statistic: "Average", Period: 60}
	v := 15.0
	state, reason, _, last := a.decide([]*float64{&v}, t0, time.Minute, t0.Add(time.Minute))
	if state != "ALARM" || reason != "Threshold Crossed: 1 out of the last 1 datapoints [15.0 (01/03/25 12:00:00)] was greater than the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition)." || last != 15 {
		t.Fatalf("%s: %s", state, reason)
	}
	state, reason, _, last = a.decide([]*float64{nil}, t0, time.Minute, t0.Add(time.Minute))
	if state != "INSUFFICIENT_DATA" || reason != "Insufficient Data: 1 datapoint was unknown." || !math.IsNaN(last) {
		t.Fatalf("%s: %s", state, reason)
	}
}
