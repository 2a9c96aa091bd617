package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/store"
)

// Run evaluates the alarms every EvaluationInterval until ctx is cancelled.
// Each alarm is evaluated once per completed period, so the interval only bounds
// how soon after a period ends its alarm reacts.
func (s *Service) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.every):
		}
		if err := s.EvaluateAlarms(ctx); err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.Error("alarm evaluation", "err", err)
		}
	}
}

// transition is a state change to announce once it is stored.
type transition struct {
	sc                    scope
	a                     alarm // after the change
	prevState, prevReason string
	prevReasonData        string
	prevTime              time.Time
	value                 float64
}

// EvaluateAlarms evaluates, at the clock's now, every alarm whose latest
// period has ended since it was last evaluated ("Evaluating an alarm" in the
// CloudWatch User Guide): the last EvaluationPeriods periods, DatapointsToAlarm
// of them breaching puts it in ALARM, missing data treated as TreatMissingData says.
func (s *Service) EvaluateAlarms(ctx context.Context) error {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	now := s.clock.Now().UTC()
	type item struct {
		sc scope
		a  alarm
	}
	var items []item
	base := []byte("cw/a/")
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(base, nil, func(k, v []byte) (bool, error) {
			parts := strings.SplitN(string(k[len(base):]), "/", 3)
			if len(parts) != 3 {
				return true, nil
			}
			var a alarm
			if err := json.Unmarshal(v, &a); err != nil {
				return false, err
			}
			items = append(items, item{scope{parts[0], parts[1]}, a})
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	var first error
	for _, it := range items {
		if it.a.Rule != "" {
			continue
		}
		if err := s.evaluate(ctx, it.sc, &it.a, now); err != nil && first == nil {
			first = err
		}
	}
	if err := s.evaluateComposites(ctx, now); err != nil && first == nil {
		first = err
	}
	return first
}

func (s *Service) evaluate(ctx context.Context, sc scope, a *alarm, now time.Time) error {
	period := time.Duration(a.Period) * time.Second
	end := now.Truncate(period)
	if !end.After(a.EvaluatedUntil) {
		return nil
	}
	n := int(a.EvaluationPeriods)
	start := end.Add(-time.Duration(n) * period)
	queries := a.Metrics
	if len(queries) == 0 {
		stat := a.Statistic
		if stat == "" {
			stat = a.ExtendedStatistic
		}
		metric := metricID{Namespace: a.Namespace, Name: a.MetricName, Dims: a.Dims}.api()
		q := cwapi.MetricDataQuery{Id: awsapi.String("m"), MetricStat: &cwapi.MetricStat{
			Metric: &metric,
			Period: awsapi.Int32(a.Period), Stat: &stat}}
		if a.Unit != "" {
			q.MetricStat.Unit = awsapi.String(a.Unit)
		}
		queries = []cwapi.MetricDataQuery{q}
	}
	results, err := s.metricData(sc, queries, start, end)
	if err != nil {
		// A broken configuration (a deleted query id...) leaves the alarm as it is.
		s.log.Warn("alarm evaluation", "alarm", a.Name, "err", err)
		return nil
	}
	vals := make([]*float64, n)
	if len(results) == 1 {
		for i, t := range results[0].Timestamps {
			if k := int(t.Sub(start) / period); k >= 0 && k < n {
				v := results[0].Values[i]
				vals[k] = &v
			}
		}
	}
	state, reason, data, last := a.decide(vals, start, period, now)
	var tr *transition
	err = s.st.Update(func(tx store.Tx) error {
		cur, err := s.readAlarm(tx, sc, a.Name)
		if err != nil || cur == nil || !cur.ConfigUpdated.Equal(a.ConfigUpdated) {
			return err // deleted or reconfigured meanwhile: the next pass sees the new one
		}
		cur.EvaluatedUntil = end
		if state == "" || state == cur.State {
			return writeAlarm(tx, sc, cur)
		}
		tr, err = s.transition(tx, sc, cur, state, reason, data, now)
		if tr != nil {
			tr.value = last
		}
		return err
	})
	if err != nil {
		return err
	}
	if tr != nil {
		s.announce(ctx, tr)
		return nil
	}
	// Scaling policies are invoked at every evaluation while the alarm stays
	// in the state their action is for; their cooldowns pace them.
	if state != "" && a.ActionsEnabled {
		s.runScaling(ctx, sc, a, state, last, now)
	}
	return nil
}

// decide computes the alarm's state over the evaluated periods; "" keeps the state.
func (a *alarm) decide(vals []*float64, start time.Time, period time.Duration, now time.Time) (state, reason, data string, last float64) {
	n, m := len(vals), int(a.DatapointsToAlarm)
	present, breaching := 0, 0
	last = math.NaN()
	var shown []string
	var recent []float64
	type evaluated struct {
		Timestamp string  `json:"timestamp"`
		Value     float64 `json:"value"`
	}
	evs := []evaluated{}
	for i := n - 1; i >= 0; i-- {
		v := vals[i]
		if v == nil {
			if a.TreatMissing == "breaching" {
				breaching++
			}
			continue
		}
		present++
		if math.IsNaN(last) {
			last = *v
		}
		if a.breaches(*v) {
			breaching++
		}
		t := start.Add(time.Duration(i) * period)
		shown = append(shown, fmt.Sprintf("%s (%s)", fmtValue(*v), t.Format("02/01/06 15:04:05")))
		recent = append(recent, *v)
		evs = append(evs, evaluated{t.Format("2006-01-02T15:04:05.000-0700"), *v})
	}
	stat := a.Statistic
	if stat == "" {
		stat = a.ExtendedStatistic
	}
	rd, _ := json.Marshal(map[string]any{
		"version": "1.0", "queryDate": now.Format("2006-01-02T15:04:05.000-0700"), "startDate": start.Format("2006-01-02T15:04:05.000-0700"),
		"statistic": stat, "period": a.Period, "recentDatapoints": nonNilFloats(recent), "threshold": a.Threshold, "evaluatedDatapoints": evs,
	})
	data = string(rd)
	if present == 0 {
		switch a.TreatMissing {
		case "breaching":
			return stateAlarm, fmt.Sprintf("Threshold Crossed: no datapoints were received for %d periods and %d missing datapoints were treated as [Breaching].", n, n), data, last
		case "notBreaching":
			return stateOK, fmt.Sprintf("Threshold Crossed: no datapoints were received for %d periods and %d missing datapoints were treated as [NonBreaching].", n, n), data, last
		case "ignore":
			return "", "", "", last
		}
		return stateInsufficient, fmt.Sprintf("Insufficient Data: %d datapoint%s unknown.", n, plural(n, " was", "s were")), data, last
	}
	cmp := comparisons[a.Comparison]
	if breaching >= m {
		return stateAlarm, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %d datapoint%s for OK -> ALARM transition).",
			breaching, n, strings.Join(shown, ", "), plural(breaching, "was", "were"), cmp, fmtValue(a.Threshold), m, plural(m, "", "s")), data, last
	}
	return stateOK, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s not %s the threshold (%s) (minimum %d datapoint%s for ALARM -> OK transition).",
		n-breaching, n, strings.Join(shown, ", "), plural(n-breaching, "was", "were"), cmp, fmtValue(a.Threshold), n-m+1, plural(n-m+1, "", "s")), data, last
}

func nonNilFloats(f []float64) []float64 {
	if f == nil {
		return []float64{}
	}
	return f
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fmtValue writes numbers as CloudWatch's reasons do: 15.0, 2.5.
func fmtValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// transition stores a's change to state with its history item and returns what
// to announce, or nil when the state does not change (only the reason is kept).
func (s *Service) transition(tx store.Tx, sc scope, a *alarm, state, reason, reasonData string, now time.Time) (*transition, error) {
	tr := &transition{sc: sc, prevState: a.State, prevReason: a.Reason, prevReasonData: a.ReasonData, prevTime: a.StateUpdated, value: math.NaN()}
	changed := a.State != state
	a.State, a.Reason, a.ReasonData, a.StateUpdated = state, reason, reasonData, now
	if changed {
		a.StateTransitioned = now
	}
	if err := writeAlarm(tx, sc, a); err != nil {
		return nil, err
	}
	if !changed {
		return nil, nil
	}
	stateJSON := func(v, r, d string) map[string]any {
		m := map[string]any{"stateValue": v, "stateReason": r}
		if d != "" {
			m["stateReasonData"] = json.RawMessage(d)
		}
		return m
	}
	hd, _ := json.Marshal(map[string]any{"version": "1.0", "oldState": stateJSON(tr.prevState, tr.prevReason, tr.prevReasonData), "newState": stateJSON(state, reason, reasonData)})
	if err := s.addHistory(tx, sc, a.Name, now, "StateUpdate", fmt.Sprintf("Alarm updated from %s to %s", tr.prevState, state), string(hd)); err != nil {
		return nil, err
	}
	tr.a = *a
	return tr, nil
}

const eventTime = "2006-01-02T15:04:05.000-0700"

// announce publishes the `CloudWatch Alarm State Change` event and runs the
// actions of the new state.
func (s *Service) announce(ctx context.Context, tr *transition) {
	if tr == nil {
		return
	}
	a := &tr.a
	ctx = s.alarmChanged(ctx, tr)
	st := func(v, r, d string, t time.Time) map[string]any {
		m := map[string]any{"value": v, "reason": r, "timestamp": t.UTC().Format(eventTime)}
		if d != "" {
			m["reasonData"] = d
		}
		return m
	}
	cfg := map[string]any{"metrics": a.eventMetrics()}
	if a.Rule != "" {
		cfg = map[string]any{"alarmRule": a.Rule}
	}
	if a.Description != "" {
		cfg["description"] = a.Description
	}
	detail, _ := json.Marshal(map[string]any{
		"alarmName":     a.Name,
		"state":         st(a.State, a.Reason, a.ReasonData, a.StateUpdated),
		"previousState": st(tr.prevState, tr.prevReason, tr.prevReasonData, tr.prevTime),
		"configuration": cfg,
	})
	if s.bus != nil {
		err := s.bus.Publish(ctx, eventbus.Event{Source: "aws.cloudwatch", DetailType: "CloudWatch Alarm State Change", Detail: detail,
			Resources: []string{a.ARN}, Account: tr.sc.account, Region: tr.sc.region, Time: a.StateUpdated})
		if err != nil {
			s.log.Warn("alarm event", "alarm", a.Name, "err", err)
		}
	}
	if !a.ActionsEnabled {
		return
	}
	s.mu.Lock()
	topics := s.topics
	s.mu.Unlock()
	if topics != nil {
		subject, msg := a.snsMessage(tr)
		for _, arn := range a.actionsFor(a.State) {
			if strings.HasPrefix(arn, "arn:aws:sns:") {
				if _, err := topics.PublishToTopic(ctx, arn, subject, msg, nil); err != nil {
					s.log.Warn("alarm action", "alarm", a.Name, "action", arn, "err", err)
				}
			}
		}
	}
	s.runScaling(ctx, tr.sc, a, a.State, tr.value, a.StateUpdated)
}

func (a *alarm) actionsFor(state string) []string {
	switch state {
	case stateAlarm:
		return a.AlarmActions
	case stateOK:
		return a.OKActions
	}
	return a.InsufficientActs
}

func (s *Service) runScaling(ctx context.Context, sc scope, a *alarm, state string, value float64, now time.Time) {
	s.mu.Lock()
	exec := s.scaling
	s.mu.Unlock()
	if exec == nil {
		return
	}
	for _, arn := range a.actionsFor(state) {
		if strings.Contains(arn, ":scalingPolicy:") {
			f := AlarmFiring{Account: sc.account, Region: sc.region, AlarmName: a.Name, AlarmARN: a.ARN, State: state, Threshold: a.Threshold, Value: value, Time: now}
			if err := exec.ExecuteScalingPolicy(ctx, arn, f); err != nil {
				s.log.Warn("alarm action", "alarm", a.Name, "action", arn, "err", err)
			}
		}
	}
}

// eventMetrics is configuration.metrics of the state change event.
func (a *alarm) eventMetrics() []map[string]any {
	if len(a.Metrics) == 0 {
		dims := map[string]string{}
		for _, d := range a.Dims {
			dims[d.Name] = d.Value
		}
		stat := a.Statistic
		if stat == "" {
			stat = a.ExtendedStatistic
		}
		return []map[string]any{{"id": "m1", "returnData": true, "metricStat": map[string]any{
			"metric": map[string]any{"namespace": a.Namespace, "name": a.MetricName, "dimensions": dims},
			"period": a.Period, "stat": stat,
		}}}
	}
	var out []map[string]any
	for _, q := range a.Metrics {
		m := map[string]any{"id": awsapi.ToString(q.Id), "returnData": q.ReturnData == nil || *q.ReturnData}
		if q.Label != nil {
			m["label"] = *q.Label
		}
		if q.Expression != nil {
			m["expression"] = *q.Expression
		}
		if ms := q.MetricStat; ms != nil && ms.Metric != nil {
			dims := map[string]string{}
			for _, d := range ms.Metric.Dimensions {
				dims[awsapi.ToString(d.Name)] = awsapi.ToString(d.Value)
			}
			m["metricStat"] = map[string]any{
				"metric": map[string]any{"namespace": awsapi.ToString(ms.Metric.Namespace), "name": awsapi.ToString(ms.Metric.MetricName), "dimensions": dims},
				"period": awsapi.ToInt32(ms.Period), "stat": awsapi.ToString(ms.Stat),
			}
		}
		out = append(out, m)
	}
	return out
}

var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
	"us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)",
	"eu-west-2": "EU (London)", "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)",
}

// snsMessage is the subject and JSON body CloudWatch sends to a topic
// ("Amazon SNS message format for alarm notifications").
func (a *alarm) snsMessage(tr *transition) (string, string) {
	region := regionNames[tr.sc.region]
	if region == "" {
		region = tr.sc.region
	}
	var dims []map[string]string
	for _, d := range a.Dims {
		dims = append(dims, map[string]string{"value": d.Value, "name": d.Name})
	}
	trigger := map[string]any{
		"MetricName": a.MetricName, "Namespace": a.Namespace, "StatisticType": "Statistic",
		"Statistic": strings.ToUpper(a.Statistic), "Unit": nil, "Dimensions": dims, "Period": a.Period,
		"EvaluationPeriods": a.EvaluationPeriods, "DatapointsToAlarm": a.DatapointsToAlarm,
		"ComparisonOperator": a.Comparison, "Threshold": a.Threshold,
		"TreatMissingData": a.TreatMissing, "EvaluateLowSampleCountPercentile": "",
	}
	if a.ExtendedStatistic != "" {
		trigger["StatisticType"], trigger["ExtendedStatistic"] = "ExtendedStatistic", a.ExtendedStatistic
		delete(trigger, "Statistic")
	}
	if len(a.Metrics) > 0 {
		trigger = map[string]any{"Metrics": a.eventMetrics(), "Period": a.Period, "EvaluationPeriods": a.EvaluationPeriods,
			"DatapointsToAlarm": a.DatapointsToAlarm, "ComparisonOperator": a.Comparison, "Threshold": a.Threshold,
			"TreatMissingData": a.TreatMissing, "EvaluateLowSampleCountPercentile": ""}
	}
	if a.Unit != "" {
		trigger["Unit"] = a.Unit
	}
	if a.Rule != "" {
		trigger = nil
	}
	msg, _ := json.Marshal(map[string]any{
		"AlarmName": a.Name, "AlarmDescription": nilIfEmpty(a.Description), "AWSAccountId": tr.sc.account,
		"AlarmConfigurationUpdatedTimestamp": a.ConfigUpdated.UTC().Format(eventTime),
		"NewStateValue":                      a.State, "NewStateReason": a.Reason,
		"StateChangeTime": a.StateUpdated.UTC().Format(eventTime), "Region": region, "AlarmArn": a.ARN,
		"OldStateValue": tr.prevState, "OKActions": nonNilList(a.OKActions), "AlarmActions": nonNilList(a.AlarmActions),
		"InsufficientDataActions": nonNilList(a.InsufficientActs), "Trigger": trigger, "AlarmRule": nilIfEmpty(a.Rule),
	})
	subject := fmt.Sprintf("%s: %q in %s", a.State, a.Name, region)
	if len(subject) > 100 {
		subject = subject[:100]
	}
	return subject, string(msg)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
