package logs

import (
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
)

func transform(name string) []logsapi.MetricTransformation {
	return []logsapi.MetricTransformation{{MetricName: awsapi.String(name), MetricNamespace: awsapi.String("App"), MetricValue: awsapi.String("1"), DefaultValue: zero()}}
}

// Metric filters are put, listed by group, prefix or metric, replaced by
// name, validated as CloudWatch Logs validates them, and deleted with
// their group.
func TestMetricFiltersLifecycle(t *testing.T) {
	s, ctx := newTestService(t)
	mustGroupStream(t, s, ctx, "/app")
	mustGroupStream(t, s, ctx, "/other")
	put := func(g, name, pattern string, tr []logsapi.MetricTransformation) error {
		_, err := s.PutMetricFilter(ctx, &logsapi.PutMetricFilterInput{LogGroupName: awsapi.String(g), FilterName: awsapi.String(name),
			FilterPattern: awsapi.String(pattern), MetricTransformations: tr})
		return err
	}
	for _, f := range []struct{ g, name, pattern, metric string }{
		{"/app", "errors", "ERROR", "Errors"}, {"/app", "errors-json", `{ $.level = "error" }`, "JSONErrors"}, {"/other", "warn", "WARN", "Warnings"},
	} {
		if err := put(f.g, f.name, f.pattern, transform(f.metric)); err != nil {
			t.Fatalf("PutMetricFilter %s: %v", f.name, err)
		}
	}
	if err := put("/app", "errors", "?ERROR ?FATAL", transform("Errors")); err != nil {
		t.Fatalf("replacing a filter: %v", err)
	}
	for _, tc := range []struct {
		name, g, filter, pattern string
		tr                       []logsapi.MetricTransformation
		want                     string
	}{
		{"missing group", "/nope", "f", "x", transform("M"), "ResourceNotFoundException"},
		{"bad pattern", "/app", "f", `{ $.a = }`, transform("M"), "InvalidParameterException"},
		{"two transformations", "/app", "f", "x", append(transform("A"), transform("B")...), "InvalidParameterException"},
		{"colon in name", "/app", "a:b", "x", transform("M"), "InvalidParameterException"},
		{"default value and dimensions", "/app", "f", "x", []logsapi.MetricTransformation{{MetricName: awsapi.String("M"), MetricNamespace: awsapi.String("N"),
			MetricValue: awsapi.String("1"), DefaultValue: zero(), Dimensions: map[string]string{"d": "$.d"}}}, "InvalidParameterException"},
	} {
		if err := put(tc.g, tc.filter, tc.pattern, tc.tr); code(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}

	names := func(in *logsapi.DescribeMetricFiltersInput) []string {
		t.Helper()
		out, err := s.DescribeMetricFilters(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, f := range out.MetricFilters {
			n = append(n, *f.LogGroupName+" "+*f.FilterName)
		}
		return n
	}
	if got := names(&logsapi.DescribeMetricFiltersInput{}); len(got) != 3 || got[0] != "/app errors" || got[2] != "/other warn" {
		t.Errorf("all filters = %q", got)
	}
	if got := names(&logsapi.DescribeMetricFiltersInput{LogGroupName: awsapi.String("/app"), FilterNamePrefix: awsapi.String("errors-")}); len(got) != 1 || got[0] != "/app errors-json" {
		t.Errorf("by prefix = %q", got)
	}
	if got := names(&logsapi.DescribeMetricFiltersInput{MetricName: awsapi.String("Warnings"), MetricNamespace: awsapi.String("App")}); len(got) != 1 || got[0] != "/other warn" {
		t.Errorf("by metric = %q", got)
	}
	page, err := s.DescribeMetricFilters(ctx, &logsapi.DescribeMetricFiltersInput{Limit: awsapi.Int32(2)})
	if err != nil || len(page.MetricFilters) != 2 || page.NextToken == nil {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	if got := names(&logsapi.DescribeMetricFiltersInput{Limit: awsapi.Int32(2), NextToken: page.NextToken}); len(got) != 1 || got[0] != "/other warn" {
		t.Errorf("second page = %q", got)
	}
	f, _ := s.DescribeMetricFilters(ctx, &logsapi.DescribeMetricFiltersInput{LogGroupName: awsapi.String("/app"), FilterNamePrefix: awsapi.String("errors")})
	if *f.MetricFilters[0].FilterPattern != "?ERROR ?FATAL" || *f.MetricFilters[0].CreationTime != t0.UnixMilli() {
		t.Errorf("replaced filter = %+v", f.MetricFilters[0])
	}

	if _, err := s.DeleteMetricFilter(ctx, &logsapi.DeleteMetricFilterInput{LogGroupName: awsapi.String("/app"), FilterName: awsapi.String("nope")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("deleting a missing filter = %v", err)
	}
	if _, err := s.DeleteMetricFilter(ctx, &logsapi.DeleteMetricFilterInput{LogGroupName: awsapi.String("/app"), FilterName: awsapi.String("errors")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteLogGroup(ctx, &logsapi.DeleteLogGroupInput{LogGroupName: awsapi.String("/other")}); err != nil {
		t.Fatal(err)
	}
	if got := names(&logsapi.DescribeMetricFiltersInput{}); len(got) != 1 || got[0] != "/app errors-json" {
		t.Errorf("after deleting a filter and a group = %q", got)
	}
}

func zero() *float64 { v := 0.0; return &v }
