package cloudwatch

import (
	"context"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock moves only when a test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time { return make(chan time.Time) }

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestService(t *testing.T) (*Service, *fakeClock, context.Context, *eventbus.Recorder) {
	t.Helper()
	clk := &fakeClock{now: t0}
	bus := eventbus.New()
	rec := &eventbus.Recorder{}
	bus.Attach(rec)
	s := New(Options{Store: store.OpenMemory(), Clock: clk, Bus: bus})
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "111122223333", Region: "eu-west-1"})
	return s, clk, ctx, rec
}

func code(err error) string {
	if e := apierr.As(err); e != nil {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func f64(v float64) *float64 { return &v }

func tp(d time.Duration) *time.Time { t := t0.Add(d); return &t }

func dims(kv ...string) []cwapi.Dimension {
	var out []cwapi.Dimension
	for i := 0; i < len(kv); i += 2 {
		out = append(out, cwapi.Dimension{Name: awsapi.String(kv[i]), Value: awsapi.String(kv[i+1])})
	}
	return out
}

func putValues(t *testing.T, s *Service, ctx context.Context, ns, name string, d []cwapi.Dimension, at map[time.Duration]float64) {
	t.Helper()
	var data []cwapi.MetricDatum
	for off, v := range at {
		data = append(data, cwapi.MetricDatum{MetricName: &name, Dimensions: d, Value: f64(v), Timestamp: tp(off), StorageResolution: awsapi.Int32(1)})
	}
	if _, err := s.PutMetricData(ctx, &cwapi.PutMetricDataInput{Namespace: &ns, MetricData: data}); err != nil {
		t.Fatal(err)
	}
}

func TestPutMetricDataValidation(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	cases := []struct {
		name string
		in   cwapi.PutMetricDataInput
		want string
	}{
		{"ok", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Value: f64(1)}}}, ""},
		{"AWS namespace reserved", cwapi.PutMetricDataInput{Namespace: awsapi.String("AWS/SQS"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Value: f64(1)}}}, "InvalidParameterValueException"},
		{"no value", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m")}}}, "InvalidParameterCombinationException"},
		{"value and values", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Value: f64(1), Values: []float64{1}}}}, "InvalidParameterCombinationException"},
		{"NaN", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Value: f64(math.NaN())}}}, "InvalidParameterValueException"},
		{"bad unit", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Value: f64(1), Unit: awsapi.String("Parsecs")}}}, "InvalidParameterValueException"},
		{"resolution 5", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Value: f64(1), StorageResolution: awsapi.Int32(5)}}}, "InvalidParameterValueException"},
		{"three weeks old", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Value: f64(1), Timestamp: tp(-21 * 24 * time.Hour)}}}, "InvalidParameterValueException"},
		{"values counts mismatch", cwapi.PutMetricDataInput{Namespace: awsapi.String("App"), MetricData: []cwapi.MetricDatum{{MetricName: awsapi.String("m"), Values: []float64{1, 2}, Counts: []float64{1}}}}, "InvalidParameterValueException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.PutMetricData(ctx, &c.in)
			if code(err) != c.want {
				t.Fatalf("err = %v, want %s", err, c.want)
			}
		})
	}
}

func TestGetMetricStatisticsAggregatesPerPeriod(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	ns, name := "App", "Latency"
	d := dims("Service", "web")
	// Two values in the first minute, a statistic set and a values array in the second.
	putValues(t, s, ctx, ns, name, d, map[time.Duration]float64{-120 * time.Second: 10, -90 * time.Second: 30})
	_, err := s.PutMetricData(ctx, &cwapi.PutMetricDataInput{Namespace: &ns, MetricData: []cwapi.MetricDatum{
		{MetricName: &name, Dimensions: d, Timestamp: tp(-50 * time.Second), StatisticValues: &cwapi.StatisticSet{SampleCount: f64(4), Sum: f64(40), Minimum: f64(5), Maximum: f64(20)}, Unit: awsapi.String("Milliseconds")},
		{MetricName: &name, Dimensions: d, Timestamp: tp(-40 * time.Second), Values: []float64{1, 100}, Counts: []float64{3, 1}, Unit: awsapi.String("Milliseconds")},
		{MetricName: &name, Dimensions: dims("Service", "other"), Timestamp: tp(-40 * time.Second), Value: f64(1000)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.GetMetricStatistics(ctx, &cwapi.GetMetricStatisticsInput{Namespace: &ns, MetricName: &name, Dimensions: d,
		StartTime: tp(-120 * time.Second), EndTime: tp(0), Period: awsapi.Int32(60),
		Statistics: []string{"SampleCount", "Sum", "Average", "Minimum", "Maximum"}, ExtendedStatistics: []string{"p50"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Datapoints) != 2 {
		t.Fatalf("datapoints = %d", len(out.Datapoints))
	}
	first, second := out.Datapoints[0], out.Datapoints[1]
	if *first.SampleCount != 2 || *first.Sum != 40 || *first.Average != 20 || *first.Minimum != 10 || *first.Maximum != 30 || !first.Timestamp.Equal(t0.Add(-120*time.Second)) {
		t.Fatalf("first = %+v", first)
	}
	if *second.SampleCount != 8 || *second.Sum != 143 || *second.Minimum != 1 || *second.Maximum != 100 || *second.Unit != "Milliseconds" {
		t.Fatalf("second = count %v sum %v min %v max %v", *second.SampleCount, *second.Sum, *second.Minimum, *second.Maximum)
	}
	if first.ExtendedStatistics["p50"] != 10 || second.ExtendedStatistics["p50"] != 1 {
		t.Fatalf("p50 = %v, %v", first.ExtendedStatistics, second.ExtendedStatistics)
	}
	_, err = s.GetMetricStatistics(ctx, &cwapi.GetMetricStatisticsInput{Namespace: &ns, MetricName: &name, StartTime: tp(-time.Hour), EndTime: tp(0), Period: awsapi.Int32(60)})
	if code(err) != "MissingRequiredParameterException" {
		t.Fatalf("no statistics: %v", err)
	}
	_, err = s.GetMetricStatistics(ctx, &cwapi.GetMetricStatisticsInput{Namespace: &ns, MetricName: &name, StartTime: tp(-48 * time.Hour), EndTime: tp(0), Period: awsapi.Int32(60), Statistics: []string{"Sum"}})
	if code(err) != "InvalidParameterCombinationException" {
		t.Fatalf("2880 datapoints: %v", err)
	}
}

func TestOneSecondResolution(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	putValues(t, s, ctx, "App", "Backlog", nil, map[time.Duration]float64{-3 * time.Second: 1, -2 * time.Second: 2, -1 * time.Second: 3})
	out, err := s.GetMetricStatistics(ctx, &cwapi.GetMetricStatisticsInput{Namespace: awsapi.String("App"), MetricName: awsapi.String("Backlog"),
		StartTime: tp(-3 * time.Second), EndTime: tp(0), Period: awsapi.Int32(1), Statistics: []string{"Maximum"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, dp := range out.Datapoints {
		got = append(got, *dp.Maximum)
	}
	if !reflect.DeepEqual(got, []float64{1, 2, 3}) {
		t.Fatalf("got %v", got)
	}
}

func TestListMetricsFilters(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	putValues(t, s, ctx, "App", "Requests", dims("Service", "web", "Env", "prod"), map[time.Duration]float64{0: 1})
	putValues(t, s, ctx, "App", "Requests", dims("Service", "api"), map[time.Duration]float64{0: 1})
	putValues(t, s, ctx, "App", "Errors", dims("Service", "web"), map[time.Duration]float64{0: 1})
	putValues(t, s, ctx, "Other", "Requests", nil, map[time.Duration]float64{0: 1})
	if err := s.Put(ctx, "111122223333", "eu-west-1", "AWS/SQS", Datum{MetricName: "NumberOfMessagesSent", Dimensions: map[string]string{"QueueName": "jobs"}, Value: 1}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   cwapi.ListMetricsInput
		want int
	}{
		{"all", cwapi.ListMetricsInput{}, 5},
		{"namespace", cwapi.ListMetricsInput{Namespace: awsapi.String("App")}, 3},
		{"name", cwapi.ListMetricsInput{MetricName: awsapi.String("Requests")}, 3},
		{"namespace and name", cwapi.ListMetricsInput{Namespace: awsapi.String("App"), MetricName: awsapi.String("Requests")}, 2},
		{"dimension name", cwapi.ListMetricsInput{Dimensions: []cwapi.DimensionFilter{{Name: awsapi.String("Service")}}}, 3},
		{"dimension value", cwapi.ListMetricsInput{Dimensions: []cwapi.DimensionFilter{{Name: awsapi.String("Service"), Value: awsapi.String("web")}}}, 2},
		{"wharf's own", cwapi.ListMetricsInput{Namespace: awsapi.String("AWS/SQS")}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := s.ListMetrics(ctx, &c.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Metrics) != c.want {
				t.Fatalf("got %d metrics: %+v", len(out.Metrics), out.Metrics)
			}
		})
	}
}

func stat(id, ns, name, st string, period int32, d []cwapi.Dimension) cwapi.MetricDataQuery {
	return cwapi.MetricDataQuery{Id: &id, MetricStat: &cwapi.MetricStat{Metric: &cwapi.Metric{Namespace: &ns, MetricName: &name, Dimensions: d}, Period: &period, Stat: &st}}
}

func expr(id, e string) cwapi.MetricDataQuery {
	return cwapi.MetricDataQuery{Id: &id, Expression: &e}
}

func hidden(q cwapi.MetricDataQuery) cwapi.MetricDataQuery {
	q.ReturnData = awsapi.Bool(false)
	return q
}

func TestGetMetricDataMetricMath(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	// Minutes -5..-1: visible messages, and running tasks (missing at -3 and -2).
	putValues(t, s, ctx, "App", "Visible", nil, map[time.Duration]float64{-5 * time.Minute: 100, -4 * time.Minute: 80, -3 * time.Minute: 60, -2 * time.Minute: 40, -1 * time.Minute: 20})
	putValues(t, s, ctx, "App", "Tasks", nil, map[time.Duration]float64{-5 * time.Minute: 1, -4 * time.Minute: 2, -1 * time.Minute: 4})
	base := []cwapi.MetricDataQuery{hidden(stat("v", "App", "Visible", "Sum", 60, nil)), hidden(stat("n", "App", "Tasks", "Average", 60, nil))}
	cases := []struct {
		expr string
		want []float64 // ascending
	}{
		{"v / n", []float64{100, 40, 5}},
		{"v / FILL(n, REPEAT)", []float64{100, 40, 30, 20, 5}},
		{"FILL(n, 0)", []float64{1, 2, 0, 0, 4}},
		{"FILL(n, LINEAR)", []float64{1, 2, 2.6666666666666665, 3.333333333333333, 4}},
		{"v + n * 2 - 1", []float64{101, 83, 27}},
		{"(v + n) * 2", []float64{202, 164, 48}},
		{"-v + 100", []float64{0, 20, 40, 60, 80}},
		{"SUM([v, n])", []float64{101, 82, 60, 40, 24}},
		{"MAX([v, n])", []float64{100, 80, 60, 40, 20}},
		{"MIN([v, n])", []float64{1, 2, 60, 40, 4}},
		{"AVG([v, n])", []float64{50.5, 41, 60, 40, 12}},
		{"SUM(v)", []float64{300, 300, 300, 300, 300}},
		{"v - AVG(v)", []float64{40, 20, 0, -20, -40}},
		{"MAX(v) / 10", []float64{10, 10, 10, 10, 10}},
		{"v / 0", []float64{}},
		{"DIFF(v)", []float64{-20, -20, -20, -20}},
		{"SUM(METRICS())", []float64{101, 82, 60, 40, 24}},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			qs := append(append([]cwapi.MetricDataQuery{}, base...), expr("e", c.expr))
			out, err := s.GetMetricData(ctx, &cwapi.GetMetricDataInput{MetricDataQueries: qs, StartTime: tp(-5 * time.Minute), EndTime: tp(0), ScanBy: awsapi.String("TimestampAscending")})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.MetricDataResults) != 1 {
				t.Fatalf("results = %d", len(out.MetricDataResults))
			}
			if got := out.MetricDataResults[0].Values; !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestGetMetricDataErrors(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	cases := map[string][]cwapi.MetricDataQuery{
		"unknown id":       {expr("e", "x + 1")},
		"circular":         {expr("a", "b"), expr("b", "a")},
		"syntax":           {expr("e", "1 +")},
		"upper-case id":    {expr("E", "1")},
		"duplicate ids":    {expr("e", "1"), expr("e", "2")},
		"bad period":       {stat("m", "App", "X", "Sum", 7, nil)},
		"bad stat":         {stat("m", "App", "X", "Median", 60, nil)},
		"unknown function": {expr("e", "NOPE(1)")},
	}
	for name, qs := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := s.GetMetricData(ctx, &cwapi.GetMetricDataInput{MetricDataQueries: qs, StartTime: tp(-time.Hour), EndTime: tp(0)})
			if code(err) != "InvalidParameterValueException" {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestGetMetricDataPagesAndScansNewestFirst(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	putValues(t, s, ctx, "App", "M", nil, map[time.Duration]float64{-3 * time.Minute: 1, -2 * time.Minute: 2, -1 * time.Minute: 3})
	qs := []cwapi.MetricDataQuery{stat("m", "App", "M", "Sum", 60, nil), expr("e", "m * 10")}
	var got [][]float64
	var token *string
	for page := 0; page < 10; page++ {
		out, err := s.GetMetricData(ctx, &cwapi.GetMetricDataInput{MetricDataQueries: qs, StartTime: tp(-3 * time.Minute), EndTime: tp(0), MaxDatapoints: awsapi.Int32(4), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.MetricDataResults {
			got = append(got, r.Values)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	want := [][]float64{{3, 2, 1}, {30}, {}, {20, 10}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages = %v", got)
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, e := range []string{"a + b * 2", "FILL(m, REPEAT)", "SUM([a, b]) / (c - 1)", "-x", "METRICS(\"q\")", "AVG(m1)"} {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, e string) {
		n, err := parseExpr(e, "expression")
		if err != nil {
			return
		}
		env := &mathEnv{start: 0, end: 600000, lookup: func(string) (val, error) {
			return val{kind: kSeries, ser: series{ts: []int64{0, 60000}, vs: []float64{1, 2}, period: 60}}, nil
		}, metrics: func() []series { return nil }}
		_, _ = env.eval(n)
	})
}
