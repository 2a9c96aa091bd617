package cloudwatch

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

var queryIDRE = lazyregexp.New(`^[a-z][a-zA-Z0-9_]{0,254}$`)

// GetMetricData runs metric queries and metric math expressions over a time
// range, newest first unless ScanBy is TimestampAscending, MaxDatapoints a page.
func (s *Service) GetMetricData(ctx context.Context, in *cwapi.GetMetricDataInput) (*cwapi.GetMetricDataOutput, error) {
	if in.StartTime == nil || in.EndTime == nil {
		return nil, missingParam("The parameters StartTime and EndTime are required.")
	}
	if !in.EndTime.After(*in.StartTime) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	ascending := false
	switch sb := awsapi.ToString(in.ScanBy); sb {
	case "", "TimestampDescending":
	case "TimestampAscending":
		ascending = true
	default:
		return nil, invalidValue("The value %s for parameter ScanBy is invalid.", sb)
	}
	maxPoints := 100800
	if in.MaxDatapoints != nil {
		if *in.MaxDatapoints < 1 {
			return nil, invalidValue("The parameter MaxDatapoints must be greater than 0.")
		}
		maxPoints = int(*in.MaxDatapoints)
	}
	offset := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 {
			return nil, invalidToken()
		}
		offset = n
	}
	results, err := s.metricData(scopeOf(ctx), in.MetricDataQueries, *in.StartTime, *in.EndTime)
	if err != nil {
		return nil, err
	}
	out := &cwapi.GetMetricDataOutput{MetricDataResults: []cwapi.MetricDataResult{}, Messages: []cwapi.MessageData{}}
	skip, room := offset, maxPoints
	for _, r := range results {
		if !ascending {
			for i, j := 0, len(r.Timestamps)-1; i < j; i, j = i+1, j-1 {
				r.Timestamps[i], r.Timestamps[j] = r.Timestamps[j], r.Timestamps[i]
				r.Values[i], r.Values[j] = r.Values[j], r.Values[i]
			}
		}
		n := len(r.Timestamps)
		from := min(skip, n)
		skip -= from
		to := from + min(room, n-from)
		room -= to - from
		r.Timestamps, r.Values = r.Timestamps[from:to], r.Values[from:to]
		if to < n {
			r.StatusCode = awsapi.String("PartialData")
			out.NextToken = awsapi.String(strconv.Itoa(offset + maxPoints))
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

// metricData evaluates queries over [start, end): every query whose ReturnData
// is not false yields a result, timestamps ascending.
func (s *Service) metricData(sc scope, queries []cwapi.MetricDataQuery, start, end time.Time) ([]cwapi.MetricDataResult, error) {
	if len(queries) == 0 {
		return nil, missingParam("The parameter MetricDataQueries is required.")
	}
	if len(queries) > 500 {
		return nil, invalidValue("The collection MetricDataQueries must not have a size greater than 500.")
	}
	start = start.Truncate(time.Second)
	byID := map[string]*cwapi.MetricDataQuery{}
	exprs := map[string]node{}
	insights := map[string]*insightsQuery{}
	for i := range queries {
		q := &queries[i]
		id := awsapi.ToString(q.Id)
		if !queryIDRE.MatchString(id) {
			return nil, invalidValue("The value %s for parameter MetricDataQueries.member.%d.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.", id, i+1)
		}
		if byID[id] != nil {
			return nil, invalidValue("The values for parameter id in MetricDataQueries are not unique.")
		}
		byID[id] = q
		switch {
		case q.MetricStat != nil && q.Expression != nil:
			return nil, invalidCombination("The parameters MetricStat and Expression in MetricDataQueries.member.%d are mutually exclusive.", i+1)
		case q.MetricStat != nil:
			ms := q.MetricStat
			if ms.Metric == nil || ms.Period == nil || ms.Stat == nil {
				return nil, missingParam("The parameters MetricStat.Metric, MetricStat.Period and MetricStat.Stat are required in MetricDataQueries.member.%d.", i+1)
			}
			if err := checkPeriod("MetricStat.Period", *ms.Period); err != nil {
				return nil, err
			}
			if !validStat(*ms.Stat) {
				return nil, invalidValue("The value %s for parameter MetricDataQueries.member.%d.MetricStat.Stat is invalid.", *ms.Stat, i+1)
			}
		case q.Expression != nil && isInsights(*q.Expression):
			iq, err := parseInsights(*q.Expression, fmt.Sprintf("MetricDataQueries.member.%d.Expression", i+1))
			if err != nil {
				return nil, err
			}
			if q.Period == nil {
				return nil, missingParam("The parameter MetricDataQueries.member.%d.Period is required for a Metrics Insights query.", i+1)
			}
			if err := checkPeriod(fmt.Sprintf("MetricDataQueries.member.%d.Period", i+1), *q.Period); err != nil {
				return nil, err
			}
			insights[id] = iq
		case q.Expression != nil:
			n, err := parseExpr(*q.Expression, fmt.Sprintf("metricDataQueries.%d.member.expression", i+1))
			if err != nil {
				return nil, err
			}
			exprs[id] = n
		default:
			return nil, missingParam("Exactly one of MetricStat and Expression must be set in MetricDataQueries.member.%d.", i+1)
		}
	}
	var results []cwapi.MetricDataResult
	err := s.st.View(func(tx store.Tx) error {
		memo := map[string]val{}
		busy := map[string]bool{}
		env := &mathEnv{start: start.UnixMilli(), end: end.UnixMilli()}
		env.lookup = func(id string) (val, error) {
			if v, ok := memo[id]; ok {
				return v, nil
			}
			q := byID[id]
			if q == nil {
				return val{}, invalidValue("Metric math: unknown metric id %s.", id)
			}
			if busy[id] {
				return val{}, invalidValue("Metric math: circular reference to %s.", id)
			}
			busy[id] = true
			defer delete(busy, id)
			var v val
			if iq := insights[id]; iq != nil {
				arr, err := s.insights(tx, sc, iq, labelOf(q), start, end, int64(*q.Period))
				if err != nil {
					return val{}, err
				}
				v = val{kind: kArray, arr: arr}
				if len(iq.groupBy) == 0 {
					// Without GROUP BY a query is one time series, empty
					// when no metric matches.
					v = val{kind: kSeries, ser: series{label: labelOf(q), period: int64(*q.Period)}}
					if len(arr) > 0 {
						v.ser = arr[0]
					}
				}
			} else if q.MetricStat != nil {
				ser, err := s.statSeries(tx, sc, q.MetricStat, start, end)
				if err != nil {
					return val{}, err
				}
				ser.label = labelOf(q)
				v = val{kind: kSeries, ser: ser}
			} else {
				var err error
				if v, err = env.eval(exprs[id]); err != nil {
					return val{}, err
				}
				if v.kind == kScalar {
					p := int64(awsapi.ToInt32(q.Period))
					ser := series{label: labelOf(q), period: p}
					for _, t := range env.grid(p) {
						ser.ts, ser.vs = append(ser.ts, t), append(ser.vs, v.num)
					}
					if !finite(v.num) {
						ser.ts, ser.vs = nil, nil
					}
					v = val{kind: kSeries, ser: ser}
				}
			}
			memo[id] = v
			return v, nil
		}
		env.metrics = func() []series {
			var all []series
			for i := range queries {
				if queries[i].MetricStat != nil {
					if v, err := env.lookup(*queries[i].Id); err == nil {
						all = append(all, v.ser)
					}
				}
			}
			return all
		}
		for i := range queries {
			q := &queries[i]
			if q.ReturnData != nil && !*q.ReturnData {
				continue
			}
			v, err := env.lookup(*q.Id)
			if err != nil {
				return err
			}
			if v.kind == kArray && insights[*q.Id] != nil {
				// A query with GROUP BY answers one result per group, each
				// with the query's id and the group's label values as label.
				for _, ser := range v.arr {
					r := cwapi.MetricDataResult{Id: q.Id, Label: awsapi.String(ser.label), StatusCode: awsapi.String("Complete"), Timestamps: []time.Time{}, Values: []float64{}, Messages: []cwapi.MessageData{}}
					for j, t := range ser.ts {
						r.Timestamps = append(r.Timestamps, time.UnixMilli(t).UTC())
						r.Values = append(r.Values, ser.vs[j])
					}
					results = append(results, r)
				}
				continue
			}
			if v.kind == kArray {
				return invalidValue("Metric math: the expression of %s returns several time series; wrap it in a function such as SUM.", *q.Id)
			}
			r := cwapi.MetricDataResult{Id: q.Id, Label: awsapi.String(labelOf(q)), StatusCode: awsapi.String("Complete"), Timestamps: []time.Time{}, Values: []float64{}, Messages: []cwapi.MessageData{}}
			for j, t := range v.ser.ts {
				r.Timestamps = append(r.Timestamps, time.UnixMilli(t).UTC())
				r.Values = append(r.Values, v.ser.vs[j])
			}
			results = append(results, r)
		}
		return nil
	})
	return results, err
}

func labelOf(q *cwapi.MetricDataQuery) string {
	if q.Label != nil {
		return *q.Label
	}
	if q.MetricStat != nil && q.MetricStat.Metric != nil {
		return awsapi.ToString(q.MetricStat.Metric.MetricName)
	}
	return awsapi.ToString(q.Id)
}

// statSeries is one metric's statistic per period over [start, end).
func (s *Service) statSeries(tx store.Tx, sc scope, ms *cwapi.MetricStat, start, end time.Time) (series, error) {
	m, err := metricOf("MetricStat.Metric.", awsapi.ToString(ms.Metric.Namespace), awsapi.ToString(ms.Metric.MetricName), ms.Metric.Dimensions)
	if err != nil {
		return series{}, err
	}
	unit, err := checkUnit("MetricStat.Unit", ms.Unit)
	if err != nil {
		return series{}, err
	}
	period := int64(*ms.Period)
	bs, err := s.buckets(tx, sc, m, start, end, period, unit)
	if err != nil {
		return series{}, err
	}
	out := series{period: period}
	for t := range bs {
		out.ts = append(out.ts, t)
	}
	sort.Slice(out.ts, func(i, j int) bool { return out.ts[i] < out.ts[j] })
	keep := out.ts[:0]
	for _, t := range out.ts {
		if v, ok := bs[t].stat(*ms.Stat); ok && finite(v) {
			keep = append(keep, t)
			out.vs = append(out.vs, v)
		}
	}
	out.ts = keep
	return out, nil
}

// MetricData evaluates metric queries and expressions for account and region
// over [start, end), timestamps ascending, for wharf's own consumers
// (Application Auto Scaling's target tracking on customized metrics).
func (s *Service) MetricData(ctx context.Context, account, region string, queries []cwapi.MetricDataQuery, start, end time.Time) ([]cwapi.MetricDataResult, error) {
	return s.metricData(scope{account, region}, queries, start, end)
}
