package cloudwatch

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

var units = map[string]bool{}

func init() {
	for _, u := range []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"} {
		units[u] = true
	}
}

func checkUnit(field string, u *string) (string, error) {
	if u == nil {
		return "", nil
	}
	if !units[*u] {
		return "", invalidValue("The value %s for parameter %s is invalid.", *u, field)
	}
	return *u, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func metricOf(field, namespace, name string, dims []cwapi.Dimension) (metricID, error) {
	m := metricID{Namespace: namespace, Name: name}
	if namespace == "" || len(namespace) > 255 || badChars(namespace) {
		return m, invalidValue("The value %s for parameter %sNamespace is invalid.", namespace, field)
	}
	if name == "" || len(name) > 255 || badChars(name) {
		return m, invalidValue("The value %s for parameter %sMetricName is invalid.", name, field)
	}
	if len(dims) > 30 {
		return m, invalidValue("The collection %sDimensions must not have a size greater than 30.", field)
	}
	seen := map[string]bool{}
	for i, d := range dims {
		n, v := awsapi.ToString(d.Name), awsapi.ToString(d.Value)
		if n == "" || badChars(n) || badChars(v) || strings.Contains(n, "=") {
			return m, invalidValue("The value %s for parameter %sDimensions.member.%d.Name is invalid.", n, field, i+1)
		}
		if seen[n] {
			return m, invalidCombination("No metric may have duplicate dimension names: %s", n)
		}
		seen[n] = true
		m.Dims = append(m.Dims, dim{n, v})
	}
	sortDims(m.Dims)
	return m, nil
}

// PutMetricData stores up to 1000 data: single values, statistic sets, or
// value/count arrays, each at standard (60) or high (1) storage resolution.
func (s *Service) PutMetricData(ctx context.Context, in *cwapi.PutMetricDataInput) (*cwapi.PutMetricDataOutput, error) {
	sc := scopeOf(ctx)
	ns := awsapi.ToString(in.Namespace)
	if ns == "" {
		return nil, missingParam("The parameter Namespace is required.")
	}
	if strings.HasPrefix(ns, "AWS/") {
		return nil, invalidValue("The value AWS/ for parameter Namespace is invalid.")
	}
	if len(in.MetricData) == 0 && len(in.EntityMetricData) == 0 {
		return nil, missingParam("The parameter MetricData is required.")
	}
	data := in.MetricData
	for _, e := range in.EntityMetricData {
		data = append(data, e.MetricData...)
	}
	if len(data) > 1000 {
		return nil, invalidValue("The collection MetricData must not have a size greater than 1000.")
	}
	now := s.clock.Now()
	ws := make([]write, 0, len(data))
	for i, d := range data {
		f := fmt.Sprintf("MetricData.member.%d.", i+1)
		m, err := metricOf(f, ns, awsapi.ToString(d.MetricName), d.Dimensions)
		if err != nil {
			return nil, err
		}
		unit, err := checkUnit(f+"Unit", d.Unit)
		if err != nil {
			return nil, err
		}
		if unit == "" {
			unit = "None"
		}
		w := write{m: m, sm: sample{Unit: unit}}
		switch r := awsapi.ToInt32(d.StorageResolution); r {
		case 0, 60:
		case 1:
			w.sm.HighRes = true
		default:
			return nil, invalidValue("The value %d for parameter %sStorageResolution is invalid.", r, f)
		}
		t := now
		if d.Timestamp != nil {
			t = *d.Timestamp
			if t.Before(now.Add(-14*24*time.Hour)) || t.After(now.Add(2*time.Hour)) {
				return nil, invalidValue("The parameter %sTimestamp must specify a time no more than two weeks in the past and no more than two hours in the future.", f)
			}
		}
		w.ts = t.UnixMilli()
		// Two of Value, StatisticValues and Values are refused in
		// CloudWatch's words, naming the first two (its recorded answers).
		var present []string
		for _, p := range []struct {
			name string
			set  bool
		}{{"Value", d.Value != nil}, {"StatisticValues", d.StatisticValues != nil}, {"Values", len(d.Values) > 0}} {
			if p.set {
				present = append(present, f+p.name)
			}
		}
		if len(present) > 1 {
			return nil, invalidCombination("The parameters %s and %s are mutually exclusive and you have specified both.", present[0], present[1])
		}
		given := 0
		if d.Value != nil {
			given++
			if !finite(*d.Value) {
				return nil, invalidValue("The value %v for parameter %sValue is invalid.", *d.Value, f)
			}
			v := *d.Value
			w.sm.Count, w.sm.Sum, w.sm.Min, w.sm.Max = 1, v, v, v
		}
		if st := d.StatisticValues; st != nil {
			given++
			if st.SampleCount == nil || st.Sum == nil || st.Minimum == nil || st.Maximum == nil {
				return nil, missingParam("The parameters %sStatisticValues.SampleCount, Sum, Minimum and Maximum are required.", f)
			}
			w.sm.Count, w.sm.Sum, w.sm.Min, w.sm.Max = *st.SampleCount, *st.Sum, *st.Minimum, *st.Maximum
			if !finite(w.sm.Count) || !finite(w.sm.Sum) || !finite(w.sm.Min) || !finite(w.sm.Max) || w.sm.Count <= 0 || w.sm.Min > w.sm.Max {
				return nil, invalidValue("The values for parameter %sStatisticValues are invalid.", f)
			}
		}
		if len(d.Values) > 0 {
			given++
			if len(d.Values) > 150 {
				return nil, invalidValue("The collection %sValues must not have a size greater than 150.", f)
			}
			if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
				return nil, invalidValue("The parameters %sValues and %sCounts must be of the same size.", f, f)
			}
			w.sm.Min, w.sm.Max = math.Inf(1), math.Inf(-1)
			for j, v := range d.Values {
				c := 1.0
				if len(d.Counts) > 0 {
					c = d.Counts[j]
				}
				if !finite(v) || !finite(c) || c < 0 {
					return nil, invalidValue("The value %v for parameter %sValues.member.%d is invalid.", v, f, j+1)
				}
				if c == 0 {
					continue
				}
				w.sm.Values, w.sm.Counts = append(w.sm.Values, v), append(w.sm.Counts, c)
				w.sm.Count += c
				w.sm.Sum += v * c
				w.sm.Min, w.sm.Max = math.Min(w.sm.Min, v), math.Max(w.sm.Max, v)
			}
			if w.sm.Count == 0 {
				continue
			}
		}
		if given == 0 {
			return nil, invalidCombination("At least one of the parameters %sValue, %sStatisticValues or %sValues must be specified.", f, f, f)
		}
		if given > 1 {
			return nil, invalidCombination("The parameters %sValue, %sStatisticValues and %sValues are mutually exclusive.", f, f, f)
		}
		ws = append(ws, w)
	}
	if err := s.store(sc, ws); err != nil {
		return nil, err
	}
	return &cwapi.PutMetricDataOutput{}, nil
}

// agg accumulates the samples of one period.
type agg struct {
	count, sum, min, max float64
	vals, cnts           []float64
	unit                 string
	n                    int
}

func (a *agg) add(sm *sample) {
	if a.n == 0 {
		a.min, a.max, a.unit = sm.Min, sm.Max, sm.Unit
	}
	a.n++
	a.count += sm.Count
	a.sum += sm.Sum
	a.min, a.max = math.Min(a.min, sm.Min), math.Max(a.max, sm.Max)
	switch {
	case len(sm.Values) > 0:
		a.vals, a.cnts = append(a.vals, sm.Values...), append(a.cnts, sm.Counts...)
	case sm.Count == 1:
		a.vals, a.cnts = append(a.vals, sm.Sum), append(a.cnts, 1)
	}
}

// stat computes a statistic: SampleCount, Sum, Average, Minimum, Maximum or pNN.
func (a *agg) stat(name string) (float64, bool) {
	switch name {
	case "SampleCount":
		return a.count, true
	case "Sum":
		return a.sum, true
	case "Average":
		return a.sum / a.count, a.count > 0
	case "Minimum":
		return a.min, true
	case "Maximum":
		return a.max, true
	}
	p, ok := percentile(name)
	if !ok || len(a.vals) == 0 {
		return 0, false
	}
	idx := make([]int, len(a.vals))
	var total float64
	for i := range idx {
		idx[i] = i
		total += a.cnts[i]
	}
	sort.Slice(idx, func(i, j int) bool { return a.vals[idx[i]] < a.vals[idx[j]] })
	// Nearest rank: the smallest value with at least p% of the samples at or below it.
	rank := math.Ceil(p / 100 * total)
	var cum float64
	for _, i := range idx {
		cum += a.cnts[i]
		if cum >= rank {
			return a.vals[i], true
		}
	}
	return a.vals[idx[len(idx)-1]], true
}

var percentileRE = lazyregexp.New(`^p(\d{1,2}(\.\d{1,10})?|100)$`)

func percentile(name string) (float64, bool) {
	if !percentileRE.MatchString(name) {
		return 0, false
	}
	p, err := strconv.ParseFloat(name[1:], 64)
	return p, err == nil
}

func validStat(name string) bool {
	switch name {
	case "SampleCount", "Sum", "Average", "Minimum", "Maximum":
		return true
	}
	_, ok := percentile(name)
	return ok
}

// checkPeriod applies CloudWatch's rule: 1, 5, 10, 20, 30, or a multiple of 60 seconds.
func checkPeriod(field string, p int32) error {
	switch {
	case p == 1 || p == 5 || p == 10 || p == 20 || p == 30:
	case p >= 60 && p%60 == 0:
	default:
		return invalidValue("The parameter %s must be 1, 5, 10, 20, 30, or a multiple of 60.", field)
	}
	return nil
}

// buckets aggregates one metric's samples in [from, to) into periods aligned
// to from, keyed by each period's start (ms).
func (s *Service) buckets(tx store.Tx, sc scope, m metricID, from, to time.Time, period int64, unit string) (map[int64]*agg, error) {
	out := map[int64]*agg{}
	f, t, p := from.UnixMilli(), to.UnixMilli(), period*1000
	err := s.readSamples(tx, sc, m, f, t, func(ts int64, sm *sample) error {
		if unit != "" && sm.Unit != unit {
			return nil
		}
		b := f + (ts-f)/p*p
		a := out[b]
		if a == nil {
			a = &agg{}
			out[b] = a
		}
		a.add(sm)
		return nil
	})
	return out, err
}

// GetMetricStatistics returns one metric's statistics per period.
func (s *Service) GetMetricStatistics(ctx context.Context, in *cwapi.GetMetricStatisticsInput) (*cwapi.GetMetricStatisticsOutput, error) {
	sc := scopeOf(ctx)
	m, err := metricOf("", awsapi.ToString(in.Namespace), awsapi.ToString(in.MetricName), in.Dimensions)
	if err != nil {
		return nil, err
	}
	if in.StartTime == nil || in.EndTime == nil || in.Period == nil {
		return nil, missingParam("The parameters StartTime, EndTime and Period are required.")
	}
	if err := checkPeriod("Period", *in.Period); err != nil {
		return nil, err
	}
	if len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0 {
		return nil, missingParam("Must specify either Statistics or ExtendedStatistics.")
	}
	for _, st := range in.Statistics {
		if _, isP := percentile(st); isP || !validStat(st) {
			return nil, invalidValue("The value %s for parameter Statistics is not a valid statistic.", st)
		}
	}
	for _, st := range in.ExtendedStatistics {
		if _, ok := percentile(st); !ok {
			return nil, invalidValue("The value %s for parameter ExtendedStatistics is not a valid extended statistic.", st)
		}
	}
	unit, err := checkUnit("Unit", in.Unit)
	if err != nil {
		return nil, err
	}
	start, end := in.StartTime.Truncate(time.Second), *in.EndTime
	if !end.After(start) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	period := int64(*in.Period)
	// Whole seconds on both ends, as the periods are: a day at one-second
	// periods is 86400 datapoints whatever the milliseconds.
	if n := (end.Truncate(time.Second).Sub(start).Milliseconds() + period*1000 - 1) / (period * 1000); n > 1440 {
		return nil, invalidCombination("You have requested up to %d datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n)
	}
	var bs map[int64]*agg
	err = s.st.View(func(tx store.Tx) error {
		var err error
		bs, err = s.buckets(tx, sc, m, start, end, period, unit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &cwapi.GetMetricStatisticsOutput{Label: awsapi.String(m.Name), Datapoints: []cwapi.Datapoint{}}
	keys := make([]int64, 0, len(bs))
	for k := range bs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		a := bs[k]
		t := time.UnixMilli(k).UTC()
		dp := cwapi.Datapoint{Timestamp: &t, Unit: awsapi.String(a.unit)}
		for _, st := range in.Statistics {
			v, _ := a.stat(st)
			switch st {
			case "SampleCount":
				dp.SampleCount = &v
			case "Sum":
				dp.Sum = &v
			case "Average":
				dp.Average = &v
			case "Minimum":
				dp.Minimum = &v
			case "Maximum":
				dp.Maximum = &v
			}
		}
		for _, st := range in.ExtendedStatistics {
			if v, ok := a.stat(st); ok {
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = map[string]float64{}
				}
				dp.ExtendedStatistics[st] = v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

// ListMetrics lists metrics by namespace, name and dimension filters, 500 a page.
func (s *Service) ListMetrics(ctx context.Context, in *cwapi.ListMetricsInput) (*cwapi.ListMetricsOutput, error) {
	sc := scopeOf(ctx)
	base := sc.prefix("m")
	prefix := base
	if ns := awsapi.ToString(in.Namespace); ns != "" {
		prefix = append(append(prefix, ns...), 0)
		if n := awsapi.ToString(in.MetricName); n != "" {
			prefix = append(append(prefix, n...), 0)
		}
	}
	var start []byte
	if in.NextToken != nil {
		after, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil {
			return nil, invalidToken()
		}
		start = append(append(append([]byte(nil), base...), after...), 0)
	}
	if len(in.Dimensions) > 10 {
		return nil, invalidValue("The collection Dimensions must not have a size greater than 10.")
	}
	var since int64 = math.MinInt64
	if r := awsapi.ToString(in.RecentlyActive); r != "" {
		if r != "PT3H" {
			return nil, invalidValue("The value %s for parameter RecentlyActive is invalid.", r)
		}
		since = s.clock.Now().Add(-3 * time.Hour).UnixMilli()
	}
	const page = 500
	out := &cwapi.ListMetricsOutput{Metrics: []cwapi.Metric{}}
	// keep lists the metric mk whose descriptor is v, unless a filter
	// leaves it out, and reports whether to go on.
	keep := func(mk string, v []byte) bool {
		m, ok := parseMetricKey(mk)
		if !ok {
			return true
		}
		if in.MetricName != nil && m.Name != *in.MetricName {
			return true
		}
		if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < since {
			return true
		}
		for _, f := range in.Dimensions {
			found := false
			for _, d := range m.Dims {
				if d.Name == awsapi.ToString(f.Name) && (f.Value == nil || d.Value == *f.Value) {
					found = true
					break
				}
			}
			if !found {
				return true
			}
		}
		if len(out.Metrics) == page {
			last := out.Metrics[page-1]
			lm, _ := metricOf("", *last.Namespace, *last.MetricName, last.Dimensions)
			out.NextToken = awsapi.String(base64.RawURLEncoding.EncodeToString([]byte(lm.key())))
			return false
		}
		out.Metrics = append(out.Metrics, m.api())
		return true
	}
	err := s.st.View(func(tx store.Tx) error {
		if len(in.Dimensions) > 0 && s.dimIndexed {
			// Read the metrics with the first dimension that has a
			// value (else the first dimension) from the index.
			f := in.Dimensions[0]
			for _, d := range in.Dimensions {
				if d.Value != nil {
					f = d
					break
				}
			}
			ip := dimPrefix(sc, awsapi.ToString(f.Name), f.Value)
			var istart []byte
			if start != nil {
				istart = append(append([]byte(nil), ip...), start[len(base):]...)
			}
			return tx.Scan(append(append([]byte(nil), ip...), prefix[len(base):]...), istart, func(k, _ []byte) (bool, error) {
				mk := k[len(ip):]
				v, err := tx.Get(append(append([]byte(nil), base...), mk...))
				if err != nil || v == nil {
					return err == nil, err
				}
				return keep(string(mk), v), nil
			})
		}
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			return keep(string(k[len(base):]), v), nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (m metricID) api() cwapi.Metric {
	out := cwapi.Metric{Namespace: awsapi.String(m.Namespace), MetricName: awsapi.String(m.Name), Dimensions: []cwapi.Dimension{}}
	for _, d := range m.Dims {
		out.Dimensions = append(out.Dimensions, cwapi.Dimension{Name: awsapi.String(d.Name), Value: awsapi.String(d.Value)})
	}
	return out
}
