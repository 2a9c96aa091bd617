package logs

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/store"
)

// Metric filters turn ingested log events into CloudWatch metrics, as on AWS
// ("Creating metrics from log events using filters"): each event a group's
// filter matches publishes the filter's metric, with the transformation's
// value (a number, or a $.field of a JSON event) at the event's time, its
// unit and its dimensions (each a $.field). A filter with a default value
// publishes it once for a batch in which no event matched, so the metric
// reads 0 rather than missing while logs flow. Publishing follows the commit
// of the events; a failure is logged, the events stay stored.

// Datum is one metric value a metric filter extracted.
type Datum struct {
	MetricName string
	Dimensions map[string]string
	Time       time.Time
	Value      float64
	Unit       string
}

// Metrics receives the data metric filters extract. CloudWatch implements it.
type Metrics interface {
	Put(ctx context.Context, account, region, namespace string, data ...Datum) error
}

// SetMetrics makes metric filters publish to m. Without it they only match.
func (s *Service) SetMetrics(m Metrics) { s.metrics = m }

// filterCache holds compiled filter patterns by their text: a batch's events
// are matched without recompiling. It is emptied when it grows past
// maxCachedFilters, so distinct patterns cannot grow it without bound.
type filterCache struct {
	mu sync.Mutex
	m  map[string]func(string) bool
}

const maxCachedFilters = 1024

func (c *filterCache) get(pattern string) func(string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.m[pattern]; ok {
		return f
	}
	f, err := compileFilter(pattern)
	if err != nil { // stored filters were validated; a pattern that no longer compiles matches nothing
		f = func(string) bool { return false }
	}
	if c.m == nil || len(c.m) >= maxCachedFilters {
		c.m = map[string]func(string) bool{}
	}
	c.m[pattern] = f
	return f
}

// groupFilters reads a group's metric filters inside tx, for publishing once
// the events are committed. Without a Metrics receiver there is nothing to do.
func (s *Service) groupFilters(tx store.Tx, sc scope, g string) ([]metricFilter, error) {
	if s.metrics == nil {
		return nil, nil
	}
	var fs []metricFilter
	err := tx.Scan(metricFilterPrefix(sc, g), nil, func(_, v []byte) (bool, error) {
		var f metricFilter
		if err := jsonUnmarshal(v, &f); err != nil {
			return false, err
		}
		fs = append(fs, f)
		return true, nil
	})
	return fs, err
}

// loggedEvent is one stored event, as metric filters see it.
type loggedEvent struct {
	ts  int64 // ms
	msg string
}

// publishMetrics matches events against filters and publishes what they
// extract.
func (s *Service) publishMetrics(ctx context.Context, sc scope, filters []metricFilter, events []loggedEvent) {
	if s.metrics == nil || len(filters) == 0 || len(events) == 0 {
		return
	}
	for _, f := range filters {
		if len(f.Transforms) == 0 {
			continue
		}
		t := f.Transforms[0]
		match := s.filters.get(f.Pattern)
		var data []Datum
		matched := false
		for _, e := range events {
			if !match(e.msg) {
				continue
			}
			matched = true
			if d, ok := extract(t, e); ok {
				data = append(data, d)
			}
		}
		if !matched && t.DefaultValue != nil {
			data = append(data, Datum{MetricName: awsapi.ToString(t.MetricName), Time: time.UnixMilli(events[len(events)-1].ts),
				Value: *t.DefaultValue, Unit: awsapi.ToString(t.Unit)})
		}
		if len(data) == 0 {
			continue
		}
		if err := s.metrics.Put(ctx, sc.account, sc.region, awsapi.ToString(t.MetricNamespace), data...); err != nil {
			s.log.Warn("logs: metric filter could not publish", "group", f.Group, "filter", f.Name, "err", err)
		}
	}
}

// extract is the datum a matched event gives: the transformation's value and
// dimensions read from the event. An event without a numeric value or a
// dimension's field publishes nothing, as on AWS.
func extract(t logsapi.MetricTransformation, e loggedEvent) (Datum, bool) {
	d := Datum{MetricName: awsapi.ToString(t.MetricName), Time: time.UnixMilli(e.ts), Unit: awsapi.ToString(t.Unit)}
	var doc any
	parsed := false
	field := func(sel string) (any, bool) {
		path, ok := parseSelector(sel)
		if !ok {
			return nil, false
		}
		if !parsed {
			parsed = true
			if m := strings.TrimSpace(e.msg); strings.HasPrefix(m, "{") {
				if json.Unmarshal([]byte(m), &doc) != nil {
					doc = nil
				}
			}
		}
		if doc == nil {
			return nil, false
		}
		vs := resolve(doc, path)
		if len(vs) == 0 {
			return nil, false
		}
		return vs[0], true
	}
	v := strings.TrimSpace(awsapi.ToString(t.MetricValue))
	if strings.HasPrefix(v, "$") {
		x, ok := field(v)
		if !ok {
			return Datum{}, false
		}
		switch n := x.(type) {
		case float64:
			d.Value = n
		case string:
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return Datum{}, false
			}
			d.Value = f
		default:
			return Datum{}, false
		}
	} else {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return Datum{}, false
		}
		d.Value = f
	}
	for name, sel := range t.Dimensions {
		x, ok := field(sel)
		if !ok || x == nil {
			return Datum{}, false
		}
		if d.Dimensions == nil {
			d.Dimensions = map[string]string{}
		}
		switch y := x.(type) {
		case string:
			d.Dimensions[name] = y
		case float64:
			d.Dimensions[name] = strconv.FormatFloat(y, 'f', -1, 64)
		default:
			b, _ := json.Marshal(y)
			d.Dimensions[name] = string(b)
		}
	}
	return d, true
}

// parseSelector parses a $.field selector as filter patterns write them.
func parseSelector(sel string) ([]step, bool) {
	p := &jsonParser{s: sel}
	path, err := p.selector()
	if err != nil || p.pos != len(p.s) || len(path) == 0 {
		return nil, false
	}
	return path, true
}
