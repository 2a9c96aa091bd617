package cloudwatch

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// Metrics Insights queries in GetMetricData ("Metrics Insights query
// components and syntax"):
//
//	SELECT FUNCTION(metricName)
//	FROM namespace | SCHEMA(namespace [, labelKey ...])
//	[ WHERE labelKey = | != 'value' [ AND | OR ... ] ]
//	[ GROUP BY labelKey [, ...] ]
//	[ ORDER BY FUNCTION() [ DESC | ASC ] ]
//	[ LIMIT number ]
//
// Keywords are case-insensitive, identifiers are not; an identifier with
// characters other than letters, digits and underscores is double-quoted,
// a value single-quoted. FUNCTION aggregates, per period, every observation
// of the matched metrics (of each group): AVG, COUNT, MAX, MIN, SUM.

// insightsQuery is a parsed Metrics Insights query.
type insightsQuery struct {
	fn, metric, namespace string
	schema                []string // nil: FROM namespace; else SCHEMA's label keys
	where                 cond     // nil: every metric
	groupBy               []string
	orderFn               string // "" without ORDER BY
	desc                  bool
	limit                 int
}

// maxInsightsLimit is the most series a query returns (LIMIT's maximum).
const maxInsightsLimit = 500

// cond is a WHERE condition over a metric's dimensions.
type cond interface {
	match(dims map[string]string) bool
}

type cmpCond struct {
	key, value string
	neg        bool
}

func (c cmpCond) match(d map[string]string) bool {
	v, ok := d[c.key]
	return (ok && v == c.value) != c.neg
}

type boolCond struct {
	and         bool
	left, right cond
}

func (c boolCond) match(d map[string]string) bool {
	if c.and {
		return c.left.match(d) && c.right.match(d)
	}
	return c.left.match(d) || c.right.match(d)
}

// isInsights reports whether an Expression is a Metrics Insights query
// rather than metric math.
func isInsights(expr string) bool {
	f := strings.Fields(expr)
	return len(f) > 0 && strings.EqualFold(f[0], "SELECT")
}

type itok struct {
	kind byte // 'i' identifier or keyword, 'q' quoted identifier, 's' string, 'n' number, 'p' punctuation
	text string
}

func lexInsights(src string) ([]itok, bool) {
	var out []itok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',' || c == '=':
			out = append(out, itok{'p', string(c)})
			i++
		case c == '!' && i+1 < len(src) && src[i+1] == '=':
			out = append(out, itok{'p', "!="})
			i += 2
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(src); j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
					b.WriteByte(src[j])
					continue
				}
				if src[j] == c {
					break
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, false
			}
			kind := byte('q')
			if c == '\'' {
				kind = 's'
			}
			out = append(out, itok{kind, b.String()})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			out = append(out, itok{'n', src[i:j]})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			out = append(out, itok{'i', src[i:j]})
			i = j
		default:
			return nil, false
		}
	}
	return out, true
}

type insightsParser struct {
	toks []itok
	pos  int
	err  string
}

func (p *insightsParser) peek() itok {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return itok{}
}

func (p *insightsParser) keyword(k string) bool {
	if t := p.peek(); t.kind == 'i' && strings.EqualFold(t.text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *insightsParser) punct(s string) bool {
	if t := p.peek(); t.kind == 'p' && t.text == s {
		p.pos++
		return true
	}
	return false
}

func (p *insightsParser) fail(msg string) {
	if p.err == "" {
		p.err = msg
	}
}

// ident reads an identifier, bare or double-quoted, that is not a keyword.
func (p *insightsParser) ident(what string) string {
	t := p.peek()
	if t.kind == 'q' || t.kind == 'i' && !insightsKeywords[strings.ToUpper(t.text)] {
		p.pos++
		return t.text
	}
	p.fail("expected " + what)
	return ""
}

var insightsKeywords = map[string]bool{"SELECT": true, "FROM": true, "SCHEMA": true, "WHERE": true, "AND": true, "OR": true,
	"GROUP": true, "BY": true, "ORDER": true, "ASC": true, "DESC": true, "LIMIT": true}

var insightsFunctions = map[string]bool{"AVG": true, "COUNT": true, "MAX": true, "MIN": true, "SUM": true}

func (p *insightsParser) function() string {
	t := p.peek()
	if t.kind == 'i' && insightsFunctions[strings.ToUpper(t.text)] {
		p.pos++
		return strings.ToUpper(t.text)
	}
	p.fail("expected one of the functions AVG, COUNT, MAX, MIN, SUM")
	return ""
}

// parseInsights parses a Metrics Insights query; the error says where it is
// not one, in CloudWatch's words.
func parseInsights(src, field string) (*insightsQuery, error) {
	toks, ok := lexInsights(src)
	if !ok {
		return nil, invalidValue("Invalid Metrics Insights query in %s: unexpected character or unterminated quote.", field)
	}
	p := &insightsParser{toks: toks}
	q := &insightsQuery{limit: maxInsightsLimit}
	if !p.keyword("SELECT") {
		p.fail("expected SELECT")
	}
	q.fn = p.function()
	if !p.punct("(") {
		p.fail("expected (")
	}
	q.metric = p.ident("a metric name")
	if !p.punct(")") {
		p.fail("expected )")
	}
	if !p.keyword("FROM") {
		p.fail("expected FROM")
	}
	if p.keyword("SCHEMA") {
		if !p.punct("(") {
			p.fail("expected ( after SCHEMA")
		}
		q.namespace = p.ident("a namespace")
		q.schema = []string{}
		for p.err == "" && p.punct(",") {
			q.schema = append(q.schema, p.ident("a label key"))
		}
		if !p.punct(")") {
			p.fail("expected ) after SCHEMA's arguments")
		}
	} else {
		q.namespace = p.ident("a namespace or SCHEMA(...)")
	}
	if p.keyword("WHERE") {
		q.where = p.or()
	}
	if p.keyword("GROUP") {
		if !p.keyword("BY") {
			p.fail("expected BY after GROUP")
		}
		q.groupBy = append(q.groupBy, p.ident("a label key"))
		for p.err == "" && p.punct(",") {
			q.groupBy = append(q.groupBy, p.ident("a label key"))
		}
	}
	if p.keyword("ORDER") {
		if !p.keyword("BY") {
			p.fail("expected BY after ORDER")
		}
		q.orderFn = p.function()
		if !p.punct("(") {
			p.fail("expected ( after the ORDER BY function")
		}
		if p.peek().kind != 'p' {
			p.ident("a metric name") // ORDER BY MAX(CPUUtilization) names the metric again
		}
		if !p.punct(")") {
			p.fail("expected ) after the ORDER BY function")
		}
		switch {
		case p.keyword("DESC"):
			q.desc = true
		case p.keyword("ASC"):
		}
	}
	if p.keyword("LIMIT") {
		t := p.peek()
		n, err := strconv.Atoi(t.text)
		if t.kind != 'n' || err != nil || n < 1 || n > maxInsightsLimit {
			p.fail("LIMIT must be a number from 1 to 500")
		}
		p.pos++
		q.limit = n
	}
	if p.err == "" && p.pos < len(p.toks) {
		p.fail("unexpected " + p.toks[p.pos].text)
	}
	if p.err != "" {
		return nil, invalidValue("Invalid Metrics Insights query in %s: %s.", field, p.err)
	}
	return q, nil
}

func (p *insightsParser) or() cond {
	c := p.and()
	for p.err == "" && p.keyword("OR") {
		c = boolCond{and: false, left: c, right: p.and()}
	}
	return c
}

func (p *insightsParser) and() cond {
	c := p.atom()
	for p.err == "" && p.keyword("AND") {
		c = boolCond{and: true, left: c, right: p.atom()}
	}
	return c
}

func (p *insightsParser) atom() cond {
	if p.punct("(") {
		c := p.or()
		if !p.punct(")") {
			p.fail("expected ) in WHERE")
		}
		return c
	}
	key := p.ident("a label key in WHERE")
	var neg bool
	switch {
	case p.punct("="):
	case p.punct("!="):
		neg = true
	default:
		p.fail("expected = or != in WHERE")
	}
	t := p.peek()
	if t.kind != 's' {
		p.fail("expected a quoted value in WHERE")
	} else {
		p.pos++
	}
	return cmpCond{key: key, value: t.text, neg: neg}
}

// aggregate is FUNCTION over the observations of a set of periods' aggs.
func aggregate(fn string, a *agg) (float64, bool) {
	switch fn {
	case "AVG":
		return a.stat("Average")
	case "COUNT":
		return a.stat("SampleCount")
	case "MAX":
		return a.stat("Maximum")
	case "MIN":
		return a.stat("Minimum")
	}
	return a.stat("Sum")
}

// merge folds b's observations into a.
func (a *agg) merge(b *agg) {
	if b.n == 0 {
		return
	}
	if a.n == 0 {
		a.min, a.max = b.min, b.max
	}
	a.n += b.n
	a.count += b.count
	a.sum += b.sum
	a.min, a.max = math.Min(a.min, b.min), math.Max(a.max, b.max)
}

// insights runs q over [start, end) in periods of period seconds: one
// series per group (one in all without GROUP BY), ordered and limited.
func (s *Service) insights(tx store.Tx, sc scope, q *insightsQuery, label string, start, end time.Time, period int64) ([]series, error) {
	type group struct {
		label string
		byT   map[int64]*agg
		total agg
	}
	groups := map[string]*group{}
	base := sc.prefix("m")
	prefix := append(append(append(append([]byte(nil), base...), q.namespace...), 0), q.metric...)
	prefix = append(prefix, 0)
	var metrics []metricID
	err := tx.Scan(prefix, nil, func(k, _ []byte) (bool, error) {
		if m, ok := parseMetricKey(string(k[len(base):])); ok {
			metrics = append(metrics, m)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range metrics {
		dims := map[string]string{}
		for _, d := range m.Dims {
			dims[d.Name] = d.Value
		}
		if q.schema != nil {
			if len(q.schema) != len(dims) {
				continue
			}
			exact := true
			for _, k := range q.schema {
				if _, ok := dims[k]; !ok {
					exact = false
				}
			}
			if !exact {
				continue
			}
		}
		if q.where != nil && !q.where.match(dims) {
			continue
		}
		key := label
		if len(q.groupBy) > 0 {
			vals := make([]string, len(q.groupBy))
			for i, k := range q.groupBy {
				v, ok := dims[k]
				if !ok {
					v = "Other" // a metric without a GROUP BY key is grouped under "Other"
				}
				vals[i] = v
			}
			key = strings.Join(vals, " ")
		}
		g := groups[key]
		if g == nil {
			g = &group{label: key, byT: map[int64]*agg{}}
			groups[key] = g
		}
		bs, err := s.buckets(tx, sc, m, start, end, period, "")
		if err != nil {
			return nil, err
		}
		for t, a := range bs {
			if g.byT[t] == nil {
				g.byT[t] = &agg{}
			}
			g.byT[t].merge(a)
			g.total.merge(a)
		}
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].label < list[j].label })
	if q.orderFn != "" {
		rank := func(g *group) float64 {
			v, ok := aggregate(q.orderFn, &g.total)
			if !ok {
				return math.Inf(-1)
			}
			return v
		}
		sort.SliceStable(list, func(i, j int) bool {
			if q.desc {
				return rank(list[i]) > rank(list[j])
			}
			return rank(list[i]) < rank(list[j])
		})
	}
	if len(list) > q.limit {
		list = list[:q.limit]
	}
	out := make([]series, 0, len(list))
	for _, g := range list {
		ser := series{label: g.label, period: period}
		for t := range g.byT {
			ser.ts = append(ser.ts, t)
		}
		sort.Slice(ser.ts, func(i, j int) bool { return ser.ts[i] < ser.ts[j] })
		keep := ser.ts[:0]
		for _, t := range ser.ts {
			if v, ok := aggregate(q.fn, g.byT[t]); ok && finite(v) {
				keep = append(keep, t)
				ser.vs = append(ser.vs, v)
			}
		}
		ser.ts = keep
		out = append(out, ser)
	}
	return out, nil
}
