package cloudwatch

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/store"
)

// listAllMetrics pages through ListMetrics and returns every metric's key.
func listAllMetrics(t *testing.T, s *Service, in cwapi.ListMetricsInput) []string {
	t.Helper()
	var keys []string
	for {
		out, err := s.ListMetrics(scopeCtx(), &in)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Metrics {
			id, err := metricOf("", *m.Namespace, *m.MetricName, m.Dimensions)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, strings.ReplaceAll(strings.ReplaceAll(id.key(), "\x00", "|"), "\x01", ","))
		}
		if out.NextToken == nil {
			return keys
		}
		in.NextToken = out.NextToken
	}
}

func scopeCtx() context.Context {
	return awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "111122223333", Region: "eu-west-1"})
}

// TestListMetricsByDimensionAgreesWithReadingEveryMetric: with a dimension
// filter, ListMetrics reads the dimension index; it lists, page by page,
// exactly what reading every metric lists, and a store written before the
// index is indexed when the service starts on it.
func TestListMetricsByDimensionAgreesWithReadingEveryMetric(t *testing.T) {
	s, clk, ctx, _ := newTestService(t)
	// 1200 metrics: more than two pages of 500.
	for i := range 1200 {
		ns := []string{"App", "Batch"}[i%2]
		d := dims("Queue", fmt.Sprintf("q%d", i%7), "Host", fmt.Sprintf("h%d", i))
		if i%5 == 0 {
			d = dims("Queue", fmt.Sprintf("q%d", i%7))
		}
		putValues(t, s, ctx, ns, []string{"Sent", "Received", "Age"}[i%3], d, map[time.Duration]float64{0: float64(i)})
	}
	clk.Advance(4 * time.Hour)
	putValues(t, s, ctx, "App", "Sent", dims("Queue", "q1"), map[time.Duration]float64{4 * time.Hour: 1})
	f := func(kv ...string) []cwapi.DimensionFilter {
		var out []cwapi.DimensionFilter
		for i := 0; i < len(kv); i += 2 {
			df := cwapi.DimensionFilter{Name: awsapi.String(kv[i])}
			if kv[i+1] != "*" {
				df.Value = awsapi.String(kv[i+1])
			}
			out = append(out, df)
		}
		return out
	}
	cases := []cwapi.ListMetricsInput{
		{Dimensions: f("Queue", "q3")},
		{Dimensions: f("Queue", "*")},
		{Dimensions: f("Host", "*", "Queue", "q2")},
		{Dimensions: f("Host", "h11")},
		{Dimensions: f("Nope", "*")},
		{Namespace: awsapi.String("App"), Dimensions: f("Queue", "q1")},
		{Namespace: awsapi.String("Batch"), MetricName: awsapi.String("Age"), Dimensions: f("Queue", "*")},
		{Dimensions: f("Queue", "q1"), RecentlyActive: awsapi.String("PT3H")},
	}
	// scanned lists as the service did before the index: reading every metric.
	scanned := func(s *Service, in cwapi.ListMetricsInput) []string {
		s.dimIndexed = false
		defer func() { s.dimIndexed = true }()
		return listAllMetrics(t, s, in)
	}
	for i, in := range cases {
		got, want := listAllMetrics(t, s, in), scanned(s, in)
		if len(want) == 0 && i != 4 {
			t.Errorf("case %d lists nothing: a case that tests nothing", i)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: from the index %d metrics, reading every metric %d\n%v\n%v", i, len(got), len(want), got, want)
		}
	}

	// A store without the index: the next service indexes it.
	indexed := func(st store.Store) (n int) {
		st.View(func(tx store.Tx) error {
			for _, p := range []string{"cw/dn/", "cw/dv/", dimIndexKey} {
				tx.Scan([]byte(p), nil, func(k, _ []byte) (bool, error) { n++; return true, nil })
			}
			return nil
		})
		return n
	}
	before := indexed(s.st)
	if err := s.st.Update(func(tx store.Tx) error {
		var keys []string
		for _, p := range []string{"cw/dn/", "cw/dv/", dimIndexKey} {
			tx.Scan([]byte(p), nil, func(k, _ []byte) (bool, error) { keys = append(keys, string(k)); return true, nil })
		}
		for _, k := range keys {
			if err := tx.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if indexed(s.st) != 0 {
		t.Fatal("index entries left")
	}
	s2 := New(Options{Store: s.st, Clock: clk})
	if !s2.dimIndexed || indexed(s.st) != before {
		t.Errorf("rebuilt: indexed %v, %d entries, want %d", s2.dimIndexed, indexed(s.st), before)
	}
	for i, in := range cases {
		if got, want := listAllMetrics(t, s2, in), scanned(s2, in); !reflect.DeepEqual(got, want) {
			t.Errorf("rebuilt, case %d: %d metrics, want %d", i, len(got), len(want))
		}
	}
}
