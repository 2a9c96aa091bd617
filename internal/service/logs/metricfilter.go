package logs

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/store"
)

// Metric filters are stored per group, at
//
//	logs/m/<account>/<region>/<group>\x00<filter>
//
// and deleted with their group. Events they match publish metrics (metrics.go).

// maxMetricFilters is the per-group quota ("CloudWatch Logs quotas": 100
// metric filters per log group).
const maxMetricFilters = 100

type metricFilter struct {
	Name           string                         `json:"name"`
	Group          string                         `json:"group"`
	Pattern        string                         `json:"pattern"`
	Transforms     []logsapi.MetricTransformation `json:"transforms"`
	Created        int64                          `json:"created"`
	OnTransformed  bool                           `json:"onTransformed,omitempty"`
	FieldSelection string                         `json:"fieldSelection,omitempty"`
}

func metricFilterPrefix(sc scope, g string) []byte {
	return []byte("logs/m/" + sc.account + "/" + sc.region + "/" + g + "\x00")
}

func allMetricFiltersPrefix(sc scope) []byte {
	return []byte("logs/m/" + sc.account + "/" + sc.region + "/")
}

func metricFilterKey(sc scope, g, f string) []byte { return append(metricFilterPrefix(sc, g), f...) }

func checkFilterName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > 512 || strings.ContainsAny(name, ":*") {
		return invalidParam("1 validation error detected: Value '%s' at 'filterName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*", name)
	}
	return nil
}

func checkTransforms(ts []logsapi.MetricTransformation) error {
	if len(ts) != 1 {
		return invalidParam("1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1")
	}
	t := ts[0]
	name, ns, value := awsapi.ToString(t.MetricName), awsapi.ToString(t.MetricNamespace), awsapi.ToString(t.MetricValue)
	switch {
	case name == "" || len(name) > 255 || strings.ContainsAny(name, ":*$"):
		return invalidParam("Invalid metric name: %s", name)
	case ns == "" || len(ns) > 255 || strings.ContainsAny(ns, ":*$"):
		return invalidParam("Invalid metric namespace: %s", ns)
	case value == "" || len(value) > 100:
		return invalidParam("Invalid metric value: %s", value)
	case t.DefaultValue != nil && len(t.Dimensions) > 0:
		return invalidParam("You cannot specify both a default value and dimensions for a metric filter.")
	case len(t.Dimensions) > 3:
		return invalidParam("A metric filter can have at most 3 dimensions.")
	}
	if u := awsapi.ToString(t.Unit); u != "" && !validUnit(u) {
		return invalidParam("1 validation error detected: Value '%s' at 'metricTransformations.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set", u)
	}
	return nil
}

func validUnit(u string) bool {
	switch u {
	case "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
		"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
		"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
		"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None":
		return true
	}
	return false
}

// PutMetricFilter creates or replaces a metric filter of a log group.
func (s *Service) PutMetricFilter(ctx context.Context, in *logsapi.PutMetricFilterInput) (*logsapi.PutMetricFilterOutput, error) {
	sc := scopeOf(ctx)
	g := awsapi.ToString(in.LogGroupName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.FilterName)
	if err := checkFilterName(name); err != nil {
		return nil, err
	}
	pattern := awsapi.ToString(in.FilterPattern)
	if utf8.RuneCountInString(pattern) > 1024 {
		return nil, invalidParam("1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	if _, err := compileFilter(pattern); err != nil {
		return nil, err
	}
	if err := checkTransforms(in.MetricTransformations); err != nil {
		return nil, err
	}
	f := metricFilter{Name: name, Group: g, Pattern: pattern, Transforms: in.MetricTransformations, Created: s.now().UnixMilli(),
		OnTransformed: awsapi.ToBool(in.ApplyOnTransformedLogs), FieldSelection: awsapi.ToString(in.FieldSelectionCriteria)}
	err := s.st.Update(func(tx store.Tx) error {
		var gr group
		ok, err := getJSON(tx, groupKey(sc, g), &gr)
		if err != nil {
			return err
		}
		if !ok {
			return errGroupNotFound()
		}
		var old metricFilter
		exists, err := getJSON(tx, metricFilterKey(sc, g, name), &old)
		if err != nil {
			return err
		}
		if exists {
			f.Created = old.Created
		} else {
			n := 0
			if err := tx.Scan(metricFilterPrefix(sc, g), nil, func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
				return err
			}
			if n >= maxMetricFilters {
				return logsapi.ErrLimitExceededException("Resource limit exceeded.")
			}
		}
		return putJSON(tx, metricFilterKey(sc, g, name), f)
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.PutMetricFilterOutput{}, nil
}

// DeleteMetricFilter deletes a metric filter.
func (s *Service) DeleteMetricFilter(ctx context.Context, in *logsapi.DeleteMetricFilterInput) (*logsapi.DeleteMetricFilterOutput, error) {
	sc := scopeOf(ctx)
	g, name := awsapi.ToString(in.LogGroupName), awsapi.ToString(in.FilterName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	if err := checkFilterName(name); err != nil {
		return nil, err
	}
	err := s.st.Update(func(tx store.Tx) error {
		if ok, err := getJSON(tx, groupKey(sc, g), &group{}); err != nil || !ok {
			if err != nil {
				return err
			}
			return errGroupNotFound()
		}
		v, err := tx.Get(metricFilterKey(sc, g, name))
		if err != nil {
			return err
		}
		if v == nil {
			return logsapi.ErrResourceNotFoundException("The specified metric filter does not exist.")
		}
		return tx.Delete(metricFilterKey(sc, g, name))
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.DeleteMetricFilterOutput{}, nil
}

// DescribeMetricFilters lists metric filters by group and name prefix, or by
// the metric they publish, in group then filter name order.
func (s *Service) DescribeMetricFilters(ctx context.Context, in *logsapi.DescribeMetricFiltersInput) (*logsapi.DescribeMetricFiltersOutput, error) {
	sc := scopeOf(ctx)
	g := awsapi.ToString(in.LogGroupName)
	prefixName := awsapi.ToString(in.FilterNamePrefix)
	metric, ns := awsapi.ToString(in.MetricName), awsapi.ToString(in.MetricNamespace)
	if n := utf8.RuneCountInString(prefixName); n > 512 {
		return nil, invalidParam("1 validation error detected: Value '%s' at 'filterNamePrefix' failed to satisfy constraint: Member must have length less than or equal to 512", prefixName)
	}
	if len(metric) > 255 {
		return nil, invalidParam("1 validation error detected: Value '%s' at 'metricName' failed to satisfy constraint: Member must have length less than or equal to 255", metric)
	}
	if len(ns) > 255 {
		return nil, invalidParam("1 validation error detected: Value '%s' at 'metricNamespace' failed to satisfy constraint: Member must have length less than or equal to 255", ns)
	}
	if (metric == "") != (ns == "") {
		return nil, invalidParam("If you specify a metric name or a metric namespace, you must specify both.")
	}
	limit, err := limitOf(in.Limit, 50, 50, "limit")
	if err != nil {
		return nil, err
	}
	prefix := allMetricFiltersPrefix(sc)
	if g != "" {
		if err := checkGroupName("logGroupName", g); err != nil {
			return nil, err
		}
		prefix = append(metricFilterPrefix(sc, g), prefixName...)
	}
	var start []byte
	if t := awsapi.ToString(in.NextToken); t != "" {
		k, err := decodeToken(t)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(k, string(prefix)) {
			return nil, invalidParam("The specified nextToken is invalid.")
		}
		start = []byte(k)
	}
	out := &logsapi.DescribeMetricFiltersOutput{MetricFilters: []logsapi.MetricFilter{}}
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			var f metricFilter
			if err := jsonUnmarshal(v, &f); err != nil {
				return false, err
			}
			// A filter name prefix without a log group applies to every
			// group's filters, as CloudWatch Logs answers (localstack's
			// AWS-validated snapshot of DescribeMetricFilters by prefix).
			if g == "" && !strings.HasPrefix(f.Name, prefixName) {
				return true, nil
			}
			if metric != "" && (awsapi.ToString(f.Transforms[0].MetricName) != metric || awsapi.ToString(f.Transforms[0].MetricNamespace) != ns) {
				return true, nil
			}
			if len(out.MetricFilters) == limit {
				out.NextToken = awsapi.String(encodeToken(string(k)))
				return false, nil
			}
			out.MetricFilters = append(out.MetricFilters, f.api())
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (f *metricFilter) api() logsapi.MetricFilter {
	return logsapi.MetricFilter{
		FilterName:             awsapi.String(f.Name),
		FilterPattern:          awsapi.String(f.Pattern),
		MetricTransformations:  f.Transforms,
		CreationTime:           awsapi.Int64(f.Created),
		LogGroupName:           awsapi.String(f.Group),
		ApplyOnTransformedLogs: awsapi.Bool(f.OnTransformed),
	}
}
