package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aasapi "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/console"
)

// AlarmHistoryItem is one entry of an alarm's history.
type AlarmHistoryItem struct {
	Time    *time.Time `json:"time,omitempty"`
	Type    string     `json:"type"` // StateUpdate, ConfigurationUpdate, Action
	Summary string     `json:"summary"`
	Data    string     `json:"data,omitempty"`
}

// Plot is what the console draws: series over [Start, End) at Period,
// read from CloudWatch's metric store with GetMetricData.
type Plot struct {
	Title  string    `json:"title"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Period int32     `json:"period"` // seconds
	Series []Series  `json:"series"`
	// Threshold is an alarm's threshold, drawn against its metric.
	Threshold *float64 `json:"threshold,omitempty"`
}

// Series is one line of a plot.
type Series struct {
	Label string `json:"label"`
	// Axis is "left" or "right": a service's task count is drawn on its own
	// scale beside the metric that scales it.
	Axis   string      `json:"axis"`
	Points []PlotPoint `json:"points"`
}

// PlotPoint is one datapoint.
type PlotPoint struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

func (r *resources) alarmHistory(ctx context.Context, alarm string) ([]AlarmHistoryItem, error) {
	if alarm == "" {
		return nil, apierr.New("InvalidParameterValue", 400, "the alarm history view needs ?alarm=NAME.")
	}
	items := []AlarmHistoryItem{}
	in := &cwapi.DescribeAlarmHistoryInput{AlarmName: awsapi.String(alarm), MaxRecords: awsapi.Int32(100)}
	out, err := r.sys.CloudWatch.DescribeAlarmHistory(ctx, in)
	if err != nil {
		return nil, err
	}
	for _, h := range out.AlarmHistoryItems {
		items = append(items, AlarmHistoryItem{Time: h.Timestamp, Type: awsapi.ToString(h.HistoryItemType),
			Summary: awsapi.ToString(h.HistorySummary), Data: awsapi.ToString(h.HistoryData)})
	}
	return items, nil
}

// Plot answers a plot: "alarm" (?name=: the alarm's metric at its period
// and statistic, against its threshold) or "service" (?cluster=&service=:
// the metrics its scaling policies' alarms watch, such as a queue's depth,
// against its running task count). ?minutes= is how far back (15 by
// default, at most a week).
func (r *resources) Plot(ctx context.Context, kind string, q console.Query) (any, error) {
	ctx = r.as(ctx, q.Region, q.Host)
	minutes := 15
	if v := q.Params.Get("minutes"); v != "" {
		if _, err := fmt.Sscan(v, &minutes); err != nil || minutes < 1 || minutes > 7*24*60 {
			return nil, apierr.New("InvalidParameterValue", 400, "minutes: want 1 to %d, got %q.", 7*24*60, v)
		}
	}
	end := r.clock.Now().UTC()
	start := end.Add(-time.Duration(minutes) * time.Minute)
	switch kind {
	case "alarm":
		return r.alarmPlot(ctx, q.Params.Get("name"), start, end)
	case "service":
		return r.servicePlot(ctx, q.Params.Get("cluster"), q.Params.Get("service"), start, end)
	}
	return nil, apierr.New("ResourceNotFoundException", 404, "the console has no plot of %q: the plots are alarm, service.", kind)
}

// plotPeriod is a period that gives a plot of start to end about 120
// points, in the periods CloudWatch allows (1, 5, 10, 30 s or minutes).
func plotPeriod(start, end time.Time) int32 {
	want := int32(end.Sub(start).Seconds() / 120)
	for _, p := range []int32{1, 5, 10, 30, 60} {
		if want <= p {
			return p
		}
	}
	return (want + 59) / 60 * 60
}

func (r *resources) alarmPlot(ctx context.Context, name string, start, end time.Time) (*Plot, error) {
	if name == "" {
		return nil, apierr.New("InvalidParameterValue", 400, "the alarm plot needs ?name=ALARM.")
	}
	out, err := r.sys.CloudWatch.DescribeAlarms(ctx, &cwapi.DescribeAlarmsInput{AlarmNames: []string{name}, AlarmTypes: []string{"MetricAlarm"}})
	if err != nil {
		return nil, err
	}
	if len(out.MetricAlarms) == 0 {
		return nil, apierr.New("ResourceNotFound", 404, "no metric alarm is named %s.", name)
	}
	a := out.MetricAlarms[0]
	period := awsapi.ToInt32(a.Period)
	var queries []cwapi.MetricDataQuery
	label := awsapi.ToString(a.Namespace) + " " + awsapi.ToString(a.MetricName)
	if len(a.Metrics) > 0 {
		queries = a.Metrics // metric math: what the alarm evaluates is the query returning data
		label = ""
		for _, m := range a.Metrics {
			if m.ReturnData == nil || *m.ReturnData {
				label = awsapi.ToString(m.Label)
				if label == "" {
					label = awsapi.ToString(m.Expression)
				}
			}
			if m.MetricStat != nil && period == 0 {
				period = awsapi.ToInt32(m.MetricStat.Period)
			}
			if m.Period != nil && period == 0 {
				period = *m.Period
			}
		}
	} else {
		stat := awsapi.ToString(a.Statistic)
		if stat == "" {
			stat = awsapi.ToString(a.ExtendedStatistic)
		}
		label += " (" + stat + ")"
		queries = []cwapi.MetricDataQuery{{Id: awsapi.String("m"), MetricStat: &cwapi.MetricStat{
			Metric: &cwapi.Metric{Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions},
			Period: awsapi.Int32(period), Stat: awsapi.String(stat), Unit: a.Unit}}}
	}
	if period <= 0 {
		period = 60
	}
	// At least twenty of the alarm's periods, so that a one-hour alarm
	// still shows a line.
	if min := end.Add(-20 * time.Duration(period) * time.Second); start.After(min) {
		start = min
	}
	res, err := r.sys.CloudWatch.GetMetricData(ctx, &cwapi.GetMetricDataInput{MetricDataQueries: queries,
		StartTime: &start, EndTime: &end, ScanBy: awsapi.String("TimestampAscending")})
	if err != nil {
		return nil, err
	}
	p := &Plot{Title: name + ": " + label + " against its threshold", Start: start, End: end, Period: period, Threshold: a.Threshold, Series: []Series{}}
	for _, m := range res.MetricDataResults {
		s := Series{Label: label, Axis: "left", Points: points(m)}
		p.Series = append(p.Series, s)
	}
	p.fit()
	return p, nil
}

// servicePlot draws the metrics the scaling policies of a service act on
// (through their alarms: a target tracking policy's own, or a step policy
// named in an alarm's actions) against the service's running task count,
// which ECS puts in ECS/ContainerInsights.
func (r *resources) servicePlot(ctx context.Context, cluster, service string, start, end time.Time) (*Plot, error) {
	if cluster == "" || service == "" {
		return nil, apierr.New("InvalidParameterValue", 400, "the service plot needs ?cluster=NAME&service=NAME.")
	}
	period := plotPeriod(start, end)
	stat := func(id, ns, name, st string, dims []cwapi.Dimension) cwapi.MetricDataQuery {
		return cwapi.MetricDataQuery{Id: awsapi.String(id), MetricStat: &cwapi.MetricStat{
			Metric: &cwapi.Metric{Namespace: awsapi.String(ns), MetricName: awsapi.String(name), Dimensions: dims},
			Period: awsapi.Int32(period), Stat: awsapi.String(st)}}
	}
	svcDims := []cwapi.Dimension{{Name: awsapi.String("ClusterName"), Value: awsapi.String(cluster)},
		{Name: awsapi.String("ServiceName"), Value: awsapi.String(service)}}
	queries := []cwapi.MetricDataQuery{stat("running", "ECS/ContainerInsights", "RunningTaskCount", "Maximum", svcDims)}
	labels := map[string]string{"running": "running tasks"}
	seen := map[string]bool{metricKey("ECS/ContainerInsights", "RunningTaskCount", svcDims): true}
	for _, m := range r.scalingMetrics(ctx, "service/"+cluster+"/"+service) {
		k := metricKey(awsapi.ToString(m.Metric.Namespace), awsapi.ToString(m.Metric.MetricName), m.Metric.Dimensions)
		if seen[k] {
			continue
		}
		seen[k] = true
		id := fmt.Sprintf("m%d", len(queries))
		queries = append(queries, stat(id, awsapi.ToString(m.Metric.Namespace), awsapi.ToString(m.Metric.MetricName), awsapi.ToString(m.Stat), m.Metric.Dimensions))
		labels[id] = metricLabel(m.Metric)
	}
	res, err := r.sys.CloudWatch.GetMetricData(ctx, &cwapi.GetMetricDataInput{MetricDataQueries: queries,
		StartTime: &start, EndTime: &end, ScanBy: awsapi.String("TimestampAscending")})
	if err != nil {
		return nil, err
	}
	p := &Plot{Title: service + ": what scales it against its running tasks", Start: start, End: end, Period: period, Series: []Series{}}
	for _, m := range res.MetricDataResults {
		id := awsapi.ToString(m.Id)
		s := Series{Label: labels[id], Axis: "left", Points: points(m)}
		if id == "running" {
			s.Axis = "right"
		}
		p.Series = append(p.Series, s)
	}
	// The scaling metrics first (left axis), the task count last.
	sort.SliceStable(p.Series, func(i, j int) bool { return p.Series[i].Axis == "left" && p.Series[j].Axis != "left" })
	p.fit()
	return p, nil
}

// fit starts a plot a period before its first point when its data begins
// later than the window: a service started a minute ago fills the plot
// instead of its last pixels.
func (p *Plot) fit() {
	var first time.Time
	for _, s := range p.Series {
		if len(s.Points) > 0 && (first.IsZero() || s.Points[0].T.Before(first)) {
			first = s.Points[0].T
		}
	}
	if from := first.Add(-time.Duration(p.Period) * time.Second); !first.IsZero() && from.After(p.Start) {
		p.Start = from
	}
}

// scalingMetrics are the metrics the alarms of resource's scaling policies
// watch: a target tracking policy's alarms (DescribeScalingPolicies names
// them) and any alarm whose actions name a policy.
func (r *resources) scalingMetrics(ctx context.Context, resource string) []cwapi.MetricStat {
	ps, err := r.sys.AutoScaling.DescribeScalingPolicies(ctx, &aasapi.DescribeScalingPoliciesInput{ServiceNamespace: awsapi.String("ecs"),
		ResourceId: awsapi.String(resource)})
	if err != nil || len(ps.ScalingPolicies) == 0 {
		return nil
	}
	names := map[string]bool{}
	var policyARNs []string
	for _, p := range ps.ScalingPolicies {
		policyARNs = append(policyARNs, awsapi.ToString(p.PolicyARN))
		for _, a := range p.Alarms {
			names[awsapi.ToString(a.AlarmName)] = true
		}
	}
	var stats []cwapi.MetricStat
	in := &cwapi.DescribeAlarmsInput{AlarmTypes: []string{"MetricAlarm"}, MaxRecords: awsapi.Int32(100)}
	for range maxPages {
		out, err := r.sys.CloudWatch.DescribeAlarms(ctx, in)
		if err != nil {
			return stats
		}
		for _, a := range out.MetricAlarms {
			if !names[awsapi.ToString(a.AlarmName)] && !slices.ContainsFunc(a.AlarmActions, func(s string) bool { return slices.Contains(policyARNs, s) }) {
				continue
			}
			if a.MetricName != nil {
				st := awsapi.ToString(a.Statistic)
				if st == "" {
					st = "Average"
				}
				stats = append(stats, cwapi.MetricStat{Metric: &cwapi.Metric{Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions},
					Stat: awsapi.String(st)})
			}
			for _, m := range a.Metrics {
				if m.MetricStat != nil && m.MetricStat.Metric != nil {
					stats = append(stats, *m.MetricStat)
				}
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	return stats
}

func metricKey(ns, name string, dims []cwapi.Dimension) string {
	parts := []string{ns, name}
	for _, d := range dims {
		parts = append(parts, awsapi.ToString(d.Name)+"="+awsapi.ToString(d.Value))
	}
	sort.Strings(parts[2:])
	return strings.Join(parts, "\x00")
}

// metricLabel names a metric as the console shows it: "AWS/SQS
// ApproximateNumberOfMessagesVisible QueueName=jobs".
func metricLabel(m *cwapi.Metric) string {
	s := awsapi.ToString(m.Namespace) + " " + awsapi.ToString(m.MetricName)
	for _, d := range m.Dimensions {
		s += " " + awsapi.ToString(d.Name) + "=" + awsapi.ToString(d.Value)
	}
	return s
}

func points(m cwapi.MetricDataResult) []PlotPoint {
	ps := make([]PlotPoint, 0, len(m.Timestamps))
	for i, t := range m.Timestamps {
		if i < len(m.Values) {
			ps = append(ps, PlotPoint{T: t.UTC(), V: m.Values[i]})
		}
	}
	return ps
}
