package cloudwatch

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/store"
)

// Alarm states.
const (
	stateOK           = "OK"
	stateAlarm        = "ALARM"
	stateInsufficient = "INSUFFICIENT_DATA"
)

// alarm is a metric alarm as stored.
type alarm struct {
	Name              string   `json:"name"`
	ARN               string   `json:"arn"`
	Description       string   `json:"description,omitempty"`
	ActionsEnabled    bool     `json:"actionsEnabled"`
	OKActions         []string `json:"okActions,omitempty"`
	AlarmActions      []string `json:"alarmActions,omitempty"`
	InsufficientActs  []string `json:"insufficientActions,omitempty"`
	Namespace         string   `json:"namespace,omitempty"`
	MetricName        string   `json:"metricName,omitempty"`
	Statistic         string   `json:"statistic,omitempty"`
	ExtendedStatistic string   `json:"extendedStatistic,omitempty"`
	Dims              []dim    `json:"dims,omitempty"`
	Period            int32    `json:"period,omitempty"`
	Unit              string   `json:"unit,omitempty"`
	EvaluationPeriods int32    `json:"evaluationPeriods"`
	DatapointsToAlarm int32    `json:"datapointsToAlarm,omitempty"`
	// DatapointsOmitted: the alarm was put without DatapointsToAlarm, which
	// then equals EvaluationPeriods but is not reported, as CloudWatch omits
	// it from DescribeAlarms.
	DatapointsOmitted bool                    `json:"datapointsOmitted,omitempty"`
	Threshold         float64                 `json:"threshold"`
	Comparison        string                  `json:"comparison"`
	TreatMissing      string                  `json:"treatMissing,omitempty"`
	Metrics           []cwapi.MetricDataQuery `json:"metrics,omitempty"`
	Tags              map[string]string       `json:"tags,omitempty"`
	// Rule is a composite alarm's AlarmRule; "" for a metric alarm.
	Rule                string `json:"rule,omitempty"`
	Suppressor          string `json:"suppressor,omitempty"`
	SuppressorWait      int32  `json:"suppressorWait,omitempty"`
	SuppressorExtension int32  `json:"suppressorExtension,omitempty"`

	State             string    `json:"state"`
	Reason            string    `json:"reason"`
	ReasonData        string    `json:"reasonData,omitempty"`
	StateUpdated      time.Time `json:"stateUpdated"`
	StateTransitioned time.Time `json:"stateTransitioned"`
	ConfigUpdated     time.Time `json:"configUpdated"`
	// EvaluatedUntil is the end of the last evaluated period, so each period is
	// evaluated once however often the loop runs.
	EvaluatedUntil time.Time `json:"evaluatedUntil"`
}

func alarmKey(sc scope, name string) []byte { return append(sc.prefix("a"), name...) }

func (s *Service) readAlarm(tx store.Tx, sc scope, name string) (*alarm, error) {
	b, err := tx.Get(alarmKey(sc, name))
	if err != nil || b == nil {
		return nil, err
	}
	var a alarm
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("decode alarm %q: %w", name, err)
	}
	return &a, nil
}

func writeAlarm(tx store.Tx, sc scope, a *alarm) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Put(alarmKey(sc, a.Name), b)
}

var comparisons = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

func (a *alarm) breaches(v float64) bool {
	switch a.Comparison {
	case "GreaterThanOrEqualToThreshold":
		return v >= a.Threshold
	case "GreaterThanThreshold":
		return v > a.Threshold
	case "LessThanThreshold":
		return v < a.Threshold
	}
	return v <= a.Threshold
}

// PutMetricAlarm creates or replaces a metric alarm with a static threshold,
// on one metric or on metric math. A new alarm starts in INSUFFICIENT_DATA;
// an updated one keeps its state (PutMetricAlarm API reference).
func (s *Service) PutMetricAlarm(ctx context.Context, in *cwapi.PutMetricAlarmInput) (*cwapi.PutMetricAlarmOutput, error) {
	sc := scopeOf(ctx)
	name := awsapi.ToString(in.AlarmName)
	if name == "" || len(name) > 255 {
		return nil, invalidValue("The value %s for parameter AlarmName is invalid.", name)
	}
	now := s.clock.Now().UTC()
	a := &alarm{
		Name: name, ARN: "arn:aws:cloudwatch:" + sc.region + ":" + sc.account + ":alarm:" + name,
		Description: awsapi.ToString(in.AlarmDescription), ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
		OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientActs: in.InsufficientDataActions,
		Namespace: awsapi.ToString(in.Namespace), MetricName: awsapi.ToString(in.MetricName),
		Statistic: awsapi.ToString(in.Statistic), ExtendedStatistic: awsapi.ToString(in.ExtendedStatistic),
		Period: awsapi.ToInt32(in.Period), Unit: awsapi.ToString(in.Unit),
		EvaluationPeriods: awsapi.ToInt32(in.EvaluationPeriods), DatapointsToAlarm: awsapi.ToInt32(in.DatapointsToAlarm),
		Comparison: awsapi.ToString(in.ComparisonOperator), TreatMissing: awsapi.ToString(in.TreatMissingData),
		Metrics: in.Metrics, ConfigUpdated: now,
	}
	if err := a.validate(in); err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		a.Tags[awsapi.ToString(t.Key)] = awsapi.ToString(t.Value)
	}
	err := s.st.Update(func(tx store.Tx) error {
		old, err := s.readAlarm(tx, sc, name)
		if err != nil {
			return err
		}
		summary := fmt.Sprintf("Alarm %q created", name)
		if old != nil && old.Rule != "" {
			return invalidValue("The alarm %s is a composite alarm; a metric alarm cannot replace it.", name)
		}
		if old != nil {
			a.State, a.Reason, a.ReasonData = old.State, old.Reason, old.ReasonData
			a.StateUpdated, a.StateTransitioned = old.StateUpdated, old.StateTransitioned
			if a.Tags == nil {
				a.Tags = old.Tags
			}
			summary = fmt.Sprintf("Alarm %q updated", name)
		} else {
			a.State, a.Reason = stateInsufficient, "Unchecked: Initial alarm creation"
			a.StateUpdated, a.StateTransitioned = now, now
		}
		if err := writeAlarm(tx, sc, a); err != nil {
			return err
		}
		return s.addHistory(tx, sc, name, now, "ConfigurationUpdate", summary, "")
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.PutMetricAlarmOutput{}, nil
}

func (a *alarm) validate(in *cwapi.PutMetricAlarmInput) error {
	if in.EvaluationPeriods == nil {
		return missingParam("The parameter EvaluationPeriods is required.")
	}
	if a.EvaluationPeriods < 1 {
		return invalidValue("The parameter EvaluationPeriods must be greater than or equal to 1.")
	}
	if in.DatapointsToAlarm == nil {
		a.DatapointsToAlarm, a.DatapointsOmitted = a.EvaluationPeriods, true
	}
	if a.DatapointsToAlarm < 1 || a.DatapointsToAlarm > a.EvaluationPeriods {
		return invalidValue("DatapointsToAlarm must be greater than 0 and less than or equal to EvaluationPeriods.")
	}
	if _, ok := comparisons[a.Comparison]; !ok {
		if in.ComparisonOperator == nil {
			return missingParam("The parameter ComparisonOperator is required.")
		}
		return invalidValue("The value %s for parameter ComparisonOperator is not supported by wharf (static thresholds only).", a.Comparison)
	}
	if in.Threshold == nil {
		return invalidValue("Comparison operators for static thresholds must be used with a Threshold.")
	}
	a.Threshold = *in.Threshold
	switch a.TreatMissing {
	case "":
		a.TreatMissing = "missing"
	case "missing", "ignore", "breaching", "notBreaching":
	default:
		return invalidValue("The value %s for parameter TreatMissingData is invalid.", a.TreatMissing)
	}
	if len(a.Metrics) > 0 {
		if a.MetricName != "" || a.Namespace != "" || a.Statistic != "" || a.ExtendedStatistic != "" || len(in.Dimensions) > 0 || a.Period != 0 {
			return invalidCombination("The parameters MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions and Period cannot be used with Metrics.")
		}
		returned := 0
		for _, q := range a.Metrics {
			if q.ReturnData == nil || *q.ReturnData {
				returned++
			}
			if q.MetricStat != nil && q.MetricStat.Period != nil && a.Period == 0 {
				a.Period = *q.MetricStat.Period
			}
			if q.Expression != nil && q.Period != nil && a.Period == 0 {
				a.Period = *q.Period
			}
		}
		if returned != 1 {
			return invalidValue("Exactly one element of the Metrics list must have ReturnData set to true.")
		}
		if a.Period == 0 {
			a.Period = 60
		}
		// Compile the queries now so that a broken expression fails here, not in the loop.
		if _, err := parseQueries(a.Metrics); err != nil {
			return err
		}
	} else {
		if a.MetricName == "" || a.Namespace == "" {
			return missingParam("The parameters MetricName and Namespace are required unless Metrics is used.")
		}
		if (a.Statistic == "") == (a.ExtendedStatistic == "") {
			return invalidCombination("Exactly one of the parameters Statistic and ExtendedStatistic must be specified.")
		}
		if a.Statistic != "" && !validStat(a.Statistic) {
			return invalidValue("The value %s for parameter Statistic is invalid.", a.Statistic)
		}
		if _, ok := percentile(a.ExtendedStatistic); a.ExtendedStatistic != "" && !ok {
			return invalidValue("The value %s for parameter ExtendedStatistic is invalid.", a.ExtendedStatistic)
		}
		if in.Period == nil {
			return missingParam("The parameter Period is required.")
		}
		m, err := metricOf("", a.Namespace, a.MetricName, in.Dimensions)
		if err != nil {
			return err
		}
		a.Dims = m.Dims
		if _, err := checkUnit("Unit", in.Unit); err != nil {
			return err
		}
	}
	// CloudWatch alarms take periods of 10, 20, 30 s or whole minutes; wharf also
	// takes 1 and 5 s so that scaling on 1-second metrics reacts in seconds.
	if err := checkPeriod("Period", a.Period); err != nil {
		return err
	}
	if int64(a.Period)*int64(a.EvaluationPeriods) > 7*24*3600 {
		return invalidValue("The evaluation period of the alarm (Period multiplied by EvaluationPeriods) must not exceed 7 days.")
	}
	for _, list := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientActs} {
		if len(list) > 5 {
			return invalidValue("The collection of actions must not have a size greater than 5.")
		}
		for _, arn := range list {
			if !strings.HasPrefix(arn, "arn:") {
				return invalidValue("Invalid action ARN: %s", arn)
			}
		}
	}
	return nil
}

// parseQueries checks metric math queries without reading any data.
func parseQueries(qs []cwapi.MetricDataQuery) (int, error) {
	n := 0
	for i, q := range qs {
		if q.Expression != nil {
			field := fmt.Sprintf("metrics.%d.member.expression", i+1)
			var err error
			if isInsights(*q.Expression) {
				// An alarm on a Metrics Insights query watches its one
				// series (a query with GROUP BY cannot be alarmed on).
				var iq *insightsQuery
				if iq, err = parseInsights(*q.Expression, field); err == nil && len(iq.groupBy) > 0 {
					err = invalidValue("An alarm's Metrics Insights query must return a single time series: it cannot have GROUP BY.")
				}
			} else {
				_, err = parseExpr(*q.Expression, field)
			}
			if err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
}

func (a *alarm) api() cwapi.MetricAlarm {
	out := cwapi.MetricAlarm{
		AlarmName: awsapi.String(a.Name), AlarmArn: awsapi.String(a.ARN),
		AlarmConfigurationUpdatedTimestamp: timePtr(a.ConfigUpdated),
		ActionsEnabled:                     awsapi.Bool(a.ActionsEnabled),
		OKActions:                          nonNilList(a.OKActions), AlarmActions: nonNilList(a.AlarmActions), InsufficientDataActions: nonNilList(a.InsufficientActs),
		StateValue: awsapi.String(a.State), StateReason: awsapi.String(a.Reason),
		StateUpdatedTimestamp: timePtr(a.StateUpdated), StateTransitionedTimestamp: timePtr(a.StateTransitioned),
		EvaluationPeriods: awsapi.Int32(a.EvaluationPeriods),
		Threshold:         &a.Threshold, ComparisonOperator: awsapi.String(a.Comparison), TreatMissingData: awsapi.String(a.TreatMissing),
		Dimensions: []cwapi.Dimension{},
	}
	if !a.DatapointsOmitted {
		out.DatapointsToAlarm = awsapi.Int32(a.DatapointsToAlarm)
	}
	if a.Description != "" {
		out.AlarmDescription = awsapi.String(a.Description)
	}
	if a.ReasonData != "" {
		out.StateReasonData = awsapi.String(a.ReasonData)
	}
	if len(a.Metrics) > 0 {
		out.Metrics = a.Metrics
		return out
	}
	out.Namespace, out.MetricName, out.Period = awsapi.String(a.Namespace), awsapi.String(a.MetricName), awsapi.Int32(a.Period)
	if a.Statistic != "" {
		out.Statistic = awsapi.String(a.Statistic)
	} else {
		out.ExtendedStatistic = awsapi.String(a.ExtendedStatistic)
	}
	if a.Unit != "" {
		out.Unit = awsapi.String(a.Unit)
	}
	for _, d := range a.Dims {
		out.Dimensions = append(out.Dimensions, cwapi.Dimension{Name: awsapi.String(d.Name), Value: awsapi.String(d.Value)})
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	t = t.UTC()
	return &t
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// scanAlarms calls fn with every alarm of sc in name order.
func (s *Service) scanAlarms(tx store.Tx, sc scope, prefix string, fn func(a *alarm) (bool, error)) error {
	return tx.Scan(append(sc.prefix("a"), prefix...), nil, func(_, v []byte) (bool, error) {
		var a alarm
		if err := json.Unmarshal(v, &a); err != nil {
			return false, err
		}
		return fn(&a)
	})
}

// DescribeAlarms lists metric alarms by names or name prefix, state and action prefix.
func (s *Service) DescribeAlarms(ctx context.Context, in *cwapi.DescribeAlarmsInput) (*cwapi.DescribeAlarmsOutput, error) {
	sc := scopeOf(ctx)
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, invalidCombination("AlarmNamePrefix and AlarmNames are mutually exclusive.")
	}
	limit := 50
	if in.MaxRecords != nil {
		if *in.MaxRecords < 1 || *in.MaxRecords > 100 {
			return nil, invalidValue("The value %d for parameter MaxRecords is invalid.", *in.MaxRecords)
		}
		limit = int(*in.MaxRecords)
	}
	after := ""
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil {
			return nil, invalidToken()
		}
		after = string(b)
	}
	// DescribeAlarms docs: without AlarmTypes, only metric alarms are returned.
	wantMetric, wantComposite := len(in.AlarmTypes) == 0, false
	for _, t := range in.AlarmTypes {
		switch t {
		case "MetricAlarm":
			wantMetric = true
		case "CompositeAlarm":
			wantComposite = true
		default:
			return nil, invalidValue("The value %s for parameter AlarmTypes is invalid.", t)
		}
	}
	names := map[string]bool{}
	for _, n := range in.AlarmNames {
		names[n] = true
	}
	state := awsapi.ToString(in.StateValue)
	if state != "" && state != stateOK && state != stateAlarm && state != stateInsufficient {
		return nil, invalidValue("The value %s for parameter StateValue is invalid.", state)
	}
	out := &cwapi.DescribeAlarmsOutput{MetricAlarms: []cwapi.MetricAlarm{}, CompositeAlarms: []cwapi.CompositeAlarm{}}
	n, last := 0, ""
	err := s.st.View(func(tx store.Tx) error {
		return s.scanAlarms(tx, sc, awsapi.ToString(in.AlarmNamePrefix), func(a *alarm) (bool, error) {
			if a.Name <= after && after != "" || len(names) > 0 && !names[a.Name] || state != "" && a.State != state {
				return true, nil
			}
			if p := awsapi.ToString(in.ActionPrefix); p != "" && !hasPrefixed(p, a.OKActions, a.AlarmActions, a.InsufficientActs) {
				return true, nil
			}
			if a.Rule != "" && !wantComposite || a.Rule == "" && !wantMetric {
				return true, nil
			}
			if n == limit {
				out.NextToken = awsapi.String(base64.RawURLEncoding.EncodeToString([]byte(last)))
				return false, nil
			}
			n, last = n+1, a.Name
			if a.Rule != "" {
				out.CompositeAlarms = append(out.CompositeAlarms, a.compositeAPI())
			} else {
				out.MetricAlarms = append(out.MetricAlarms, a.api())
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func hasPrefixed(p string, lists ...[]string) bool {
	for _, l := range lists {
		for _, a := range l {
			if strings.HasPrefix(a, p) {
				return true
			}
		}
	}
	return false
}

// DescribeAlarmsForMetric lists the alarms on one metric.
func (s *Service) DescribeAlarmsForMetric(ctx context.Context, in *cwapi.DescribeAlarmsForMetricInput) (*cwapi.DescribeAlarmsForMetricOutput, error) {
	sc := scopeOf(ctx)
	m, err := metricOf("", awsapi.ToString(in.Namespace), awsapi.ToString(in.MetricName), in.Dimensions)
	if err != nil {
		return nil, err
	}
	out := &cwapi.DescribeAlarmsForMetricOutput{MetricAlarms: []cwapi.MetricAlarm{}}
	err = s.st.View(func(tx store.Tx) error {
		return s.scanAlarms(tx, sc, "", func(a *alarm) (bool, error) {
			if a.Namespace != m.Namespace || a.MetricName != m.Name ||
				in.Statistic != nil && a.Statistic != *in.Statistic ||
				in.ExtendedStatistic != nil && a.ExtendedStatistic != *in.ExtendedStatistic ||
				in.Period != nil && a.Period != *in.Period || in.Unit != nil && a.Unit != *in.Unit ||
				len(in.Dimensions) > 0 && (metricID{Dims: a.Dims}).key() != (metricID{Dims: m.Dims}).key() {
				return true, nil
			}
			out.MetricAlarms = append(out.MetricAlarms, a.api())
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAlarms deletes alarms; if any is missing, none is deleted.
func (s *Service) DeleteAlarms(ctx context.Context, in *cwapi.DeleteAlarmsInput) (*cwapi.DeleteAlarmsOutput, error) {
	sc := scopeOf(ctx)
	err := s.st.Update(func(tx store.Tx) error {
		var missing []string
		for _, n := range in.AlarmNames {
			if v, err := tx.Get(alarmKey(sc, n)); err != nil {
				return err
			} else if v == nil {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return cwapi.ErrResourceNotFound("%d/%d alarms not found: %s", len(missing), len(in.AlarmNames), strings.Join(missing, ", "))
		}
		for _, n := range in.AlarmNames {
			if err := tx.Delete(alarmKey(sc, n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.DeleteAlarmsOutput{}, nil
}

func (s *Service) setActions(ctx context.Context, names []string, enabled bool) error {
	sc := scopeOf(ctx)
	return s.st.Update(func(tx store.Tx) error {
		for _, n := range names {
			a, err := s.readAlarm(tx, sc, n)
			if err != nil {
				return err
			}
			if a == nil {
				continue
			}
			a.ActionsEnabled = enabled
			if err := writeAlarm(tx, sc, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnableAlarmActions turns the actions of alarms on.
func (s *Service) EnableAlarmActions(ctx context.Context, in *cwapi.EnableAlarmActionsInput) (*cwapi.EnableAlarmActionsOutput, error) {
	return &cwapi.EnableAlarmActionsOutput{}, s.setActions(ctx, in.AlarmNames, true)
}

// DisableAlarmActions turns the actions of alarms off; their states still change.
func (s *Service) DisableAlarmActions(ctx context.Context, in *cwapi.DisableAlarmActionsInput) (*cwapi.DisableAlarmActionsOutput, error) {
	return &cwapi.DisableAlarmActionsOutput{}, s.setActions(ctx, in.AlarmNames, false)
}

// SetAlarmState sets an alarm's state until its next evaluation, with the
// history, event and actions a real transition has (SetAlarmState API reference).
func (s *Service) SetAlarmState(ctx context.Context, in *cwapi.SetAlarmStateInput) (*cwapi.SetAlarmStateOutput, error) {
	sc := scopeOf(ctx)
	state := awsapi.ToString(in.StateValue)
	if state != stateOK && state != stateAlarm && state != stateInsufficient {
		// Model validation, as CloudWatch answers (ValidationError over
		// query; its recorded answers).
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", state)
	}
	if rd := awsapi.ToString(in.StateReasonData); rd != "" && !json.Valid([]byte(rd)) {
		return nil, cwapi.ErrInvalidFormatFault("Invalid JSON in StateReasonData.")
	}
	var tr *transition
	err := s.st.Update(func(tx store.Tx) error {
		a, err := s.readAlarm(tx, sc, awsapi.ToString(in.AlarmName))
		if err != nil {
			return err
		}
		if a == nil {
			// CloudWatch answers a missing alarm with no message at all
			// (its recorded answers over query, JSON and CBOR).
			return cwapi.ErrResourceNotFound("")
		}
		tr, err = s.transition(tx, sc, a, state, awsapi.ToString(in.StateReason), awsapi.ToString(in.StateReasonData), s.clock.Now().UTC())
		return err
	})
	if err != nil {
		return nil, err
	}
	s.announce(ctx, tr)
	return &cwapi.SetAlarmStateOutput{}, nil
}

// history keys: cw/h/<account>/<region>/<alarm>\x00<ts><seq>
func (s *Service) addHistory(tx store.Tx, sc scope, name string, t time.Time, typ, summary, data string) error {
	key := append(append(sc.prefix("h"), name...), 0)
	key = binary.BigEndian.AppendUint64(key, uint64(t.UnixMilli())^(1<<63))
	key = binary.BigEndian.AppendUint64(key, s.nextSeq())
	b, err := json.Marshal(cwapi.AlarmHistoryItem{AlarmName: &name, AlarmType: awsapi.String("MetricAlarm"), Timestamp: timePtr(t), HistoryItemType: &typ, HistorySummary: &summary, HistoryData: &data})
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

// DescribeAlarmHistory returns alarm history, newest first by default.
func (s *Service) DescribeAlarmHistory(ctx context.Context, in *cwapi.DescribeAlarmHistoryInput) (*cwapi.DescribeAlarmHistoryOutput, error) {
	sc := scopeOf(ctx)
	limit := 100
	if in.MaxRecords != nil {
		if *in.MaxRecords < 1 || *in.MaxRecords > 100 {
			return nil, invalidValue("The value %d for parameter MaxRecords is invalid.", *in.MaxRecords)
		}
		limit = int(*in.MaxRecords)
	}
	offset := 0
	if in.NextToken != nil {
		if _, err := fmt.Sscanf(*in.NextToken, "%d", &offset); err != nil || offset < 0 {
			return nil, invalidToken()
		}
	}
	typ := awsapi.ToString(in.HistoryItemType)
	prefix := sc.prefix("h")
	if in.AlarmName != nil {
		prefix = append(append(prefix, *in.AlarmName...), 0)
	}
	var items []cwapi.AlarmHistoryItem
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, nil, func(_, v []byte) (bool, error) {
			var it cwapi.AlarmHistoryItem
			if err := json.Unmarshal(v, &it); err != nil {
				return false, err
			}
			if typ != "" && awsapi.ToString(it.HistoryItemType) != typ ||
				in.StartDate != nil && it.Timestamp.Before(*in.StartDate) || in.EndDate != nil && it.Timestamp.After(*in.EndDate) {
				return true, nil
			}
			items = append(items, it)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	// Items of one alarm are in key order (time, then write order); across
	// alarms they are merged by time; newest first unless ScanBy says otherwise.
	sort.SliceStable(items, func(i, j int) bool { return items[i].Timestamp.Before(*items[j].Timestamp) })
	if awsapi.ToString(in.ScanBy) != "TimestampAscending" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	out := &cwapi.DescribeAlarmHistoryOutput{AlarmHistoryItems: []cwapi.AlarmHistoryItem{}}
	if offset < len(items) {
		end := min(offset+limit, len(items))
		out.AlarmHistoryItems = items[offset:end]
		if end < len(items) {
			out.NextToken = awsapi.String(fmt.Sprint(end))
		}
	}
	return out, nil
}

// TagResource tags an alarm.
func (s *Service) TagResource(ctx context.Context, in *cwapi.TagResourceInput) (*cwapi.TagResourceOutput, error) {
	return &cwapi.TagResourceOutput{}, s.updateTags(ctx, awsapi.ToString(in.ResourceARN), func(tags map[string]string) {
		for _, t := range in.Tags {
			tags[awsapi.ToString(t.Key)] = awsapi.ToString(t.Value)
		}
	})
}

// UntagResource removes tags from an alarm.
func (s *Service) UntagResource(ctx context.Context, in *cwapi.UntagResourceInput) (*cwapi.UntagResourceOutput, error) {
	return &cwapi.UntagResourceOutput{}, s.updateTags(ctx, awsapi.ToString(in.ResourceARN), func(tags map[string]string) {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
	})
}

// ListTagsForResource returns an alarm's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *cwapi.ListTagsForResourceInput) (*cwapi.ListTagsForResourceOutput, error) {
	out := &cwapi.ListTagsForResourceOutput{Tags: []cwapi.Tag{}}
	err := s.updateTags(ctx, awsapi.ToString(in.ResourceARN), func(tags map[string]string) {
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.Tags = append(out.Tags, cwapi.Tag{Key: awsapi.String(k), Value: awsapi.String(tags[k])})
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) updateTags(ctx context.Context, arn string, fn func(map[string]string)) error {
	sc := scopeOf(ctx)
	i := strings.Index(arn, ":alarm:")
	if i < 0 {
		return invalidValue("Invalid resource ARN: %s", arn)
	}
	name := arn[i+len(":alarm:"):]
	return s.st.Update(func(tx store.Tx) error {
		a, err := s.readAlarm(tx, sc, name)
		if err != nil {
			return err
		}
		if a == nil {
			return cwapi.ErrResourceNotFoundException("Alarm %s not found.", name)
		}
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		before, _ := json.Marshal(a.Tags)
		fn(a.Tags)
		after, _ := json.Marshal(a.Tags)
		if bytes.Equal(before, after) {
			return nil
		}
		return writeAlarm(tx, sc, a)
	})
}
