package cloudwatch

import (
	"math"

	"sort"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// Metric math ("Using metric math" in the CloudWatch User Guide): numbers,
// query ids, + - * / and parentheses, arrays [a, b], and the functions SUM,
// AVG, MIN, MAX (of a series: a scalar; of an array: a series), FILL(x,
// value|REPEAT|LINEAR), ABS, CEIL, FLOOR, DIFF, RATE, PERIOD and METRICS().

// series is a time series on a period grid: ascending timestamps (ms).
type series struct {
	label  string
	ts     []int64
	vs     []float64
	period int64 // seconds
}

type valKind int

const (
	kScalar valKind = iota
	kSeries
	kArray
)

// val is what an expression evaluates to.
type val struct {
	kind valKind
	num  float64
	ser  series
	arr  []series
}

type node interface{}

type (
	numNode float64
	idNode  string
	kwNode  string // REPEAT, LINEAR
	strNode string
	negNode struct{ x node }
	arrNode []node
	binNode struct {
		op   byte
		l, r node
	}
	callNode struct {
		fn   string
		args []node
	}
)

type exprParser struct {
	s     string
	pos   int
	depth int // nesting of parentheses, arrays, calls and unary minus
}

// Limits on one metric math expression: the model's length constraint on
// MetricDataQuery.Expression, and a nesting bound so that no expression can
// exhaust the parser's stack. An expression within maxExprLen cannot reach
// maxExprDepth (every level takes a character); the bound is defence in depth.
const (
	maxExprLen   = 2048
	maxExprDepth = maxExprLen
)

// parseExpr parses the metric math expression s of the query member field
// (metricDataQueries.1.member.expression), for error messages.
func parseExpr(s, field string) (node, error) {
	if len(s) > maxExprLen {
		return nil, apierr.Validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", field, maxExprLen)
	}
	p := &exprParser{s: s}
	n, err := p.sum()
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos != len(p.s) {
		return nil, p.fail()
	}
	return n, nil
}

func (p *exprParser) fail() error {
	return invalidValue("Syntax error in metric math expression %q at character %d.", p.s, p.pos+1)
}

func (p *exprParser) skip() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *exprParser) peek() byte {
	p.skip()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// enter counts one more level of nesting; callers defer p.leave().
func (p *exprParser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return invalidValue("Metric math expression %.40q... is nested more than %d levels deep.", p.s, maxExprDepth)
	}
	return nil
}

func (p *exprParser) leave() { p.depth-- }

func (p *exprParser) sum() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	l, err := p.product()
	if err != nil {
		return nil, err
	}
	for c := p.peek(); c == '+' || c == '-'; c = p.peek() {
		p.pos++
		r, err := p.product()
		if err != nil {
			return nil, err
		}
		l = binNode{c, l, r}
	}
	return l, nil
}

func (p *exprParser) product() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for c := p.peek(); c == '*' || c == '/'; c = p.peek() {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = binNode{c, l, r}
	}
	return l, nil
}

func (p *exprParser) unary() (node, error) {
	if p.peek() == '-' {
		p.pos++
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.unary()
		return negNode{x}, err
	}
	return p.primary()
}

func (p *exprParser) primary() (node, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		n, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, p.fail()
		}
		p.pos++
		return n, nil
	case c == '[':
		p.pos++
		args, err := p.list(']')
		return arrNode(args), err
	case c == '"':
		j := strings.IndexByte(p.s[p.pos+1:], '"')
		if j < 0 {
			return nil, p.fail()
		}
		str := p.s[p.pos+1 : p.pos+1+j]
		p.pos += j + 2
		return strNode(str), nil
	case c >= '0' && c <= '9' || c == '.':
		j := p.pos
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == '.' || p.s[j] == 'e' || p.s[j] == 'E') {
			j++
		}
		f, err := strconv.ParseFloat(p.s[p.pos:j], 64)
		if err != nil {
			return nil, p.fail()
		}
		p.pos = j
		return numNode(f), nil
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		j := p.pos
		for j < len(p.s) && (p.s[j] == '_' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= '0' && p.s[j] <= '9') {
			j++
		}
		name := p.s[p.pos:j]
		p.pos = j
		if p.peek() == '(' {
			p.pos++
			args, err := p.list(')')
			return callNode{strings.ToUpper(name), args}, err
		}
		if name == "REPEAT" || name == "LINEAR" {
			return kwNode(name), nil
		}
		return idNode(name), nil
	}
	return nil, p.fail()
}

func (p *exprParser) list(end byte) ([]node, error) {
	var out []node
	if p.peek() == end {
		p.pos++
		return out, nil
	}
	for {
		n, err := p.sum()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		switch p.peek() {
		case ',':
			p.pos++
		case end:
			p.pos++
			return out, nil
		default:
			return nil, p.fail()
		}
	}
}

// mathEnv resolves ids while evaluating an expression.
type mathEnv struct {
	start, end int64 // ms
	lookup     func(id string) (val, error)
	metrics    func() []series // every MetricStat query's series, for METRICS()
}

func (e *mathEnv) eval(n node) (val, error) {
	switch n := n.(type) {
	case numNode:
		return val{kind: kScalar, num: float64(n)}, nil
	case idNode:
		return e.lookup(string(n))
	case negNode:
		x, err := e.eval(n.x)
		if err != nil {
			return val{}, err
		}
		return mapVal(x, func(f float64) float64 { return -f }), nil
	case arrNode:
		var arr []series
		for _, a := range n {
			v, err := e.eval(a)
			if err != nil {
				return val{}, err
			}
			switch v.kind {
			case kSeries:
				arr = append(arr, v.ser)
			case kArray:
				arr = append(arr, v.arr...)
			default:
				return val{}, invalidValue("Metric math: an array may only contain time series.")
			}
		}
		return val{kind: kArray, arr: arr}, nil
	case binNode:
		l, err := e.eval(n.l)
		if err != nil {
			return val{}, err
		}
		r, err := e.eval(n.r)
		if err != nil {
			return val{}, err
		}
		return combine(n.op, l, r)
	case callNode:
		return e.call(n)
	}
	return val{}, invalidValue("Metric math: unexpected %v.", n)
}

func apply(op byte, a, b float64) float64 {
	switch op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	}
	return a / b
}

func mapSeries(s series, f func(float64) float64) series {
	out := series{label: s.label, period: s.period}
	for i, v := range s.vs {
		if r := f(v); finite(r) {
			out.ts, out.vs = append(out.ts, s.ts[i]), append(out.vs, r)
		}
	}
	return out
}

func mapVal(v val, f func(float64) float64) val {
	switch v.kind {
	case kScalar:
		return val{kind: kScalar, num: f(v.num)}
	case kSeries:
		return val{kind: kSeries, ser: mapSeries(v.ser, f)}
	}
	out := val{kind: kArray}
	for _, s := range v.arr {
		out.arr = append(out.arr, mapSeries(s, f))
	}
	return out
}

// combine combines two values. Two series combine at the timestamps both have;
// results that are not finite numbers (division by zero) are left out.
func combine(op byte, l, r val) (val, error) {
	switch {
	case l.kind == kScalar && r.kind == kScalar:
		return val{kind: kScalar, num: apply(op, l.num, r.num)}, nil
	case r.kind == kScalar:
		return mapVal(l, func(f float64) float64 { return apply(op, f, r.num) }), nil
	case l.kind == kScalar:
		return mapVal(r, func(f float64) float64 { return apply(op, l.num, f) }), nil
	case l.kind == kSeries && r.kind == kSeries:
		return val{kind: kSeries, ser: zip(op, l.ser, r.ser)}, nil
	case l.kind == kArray && r.kind == kSeries:
		out := val{kind: kArray}
		for _, s := range l.arr {
			out.arr = append(out.arr, zip(op, s, r.ser))
		}
		return out, nil
	case l.kind == kSeries && r.kind == kArray:
		out := val{kind: kArray}
		for _, s := range r.arr {
			out.arr = append(out.arr, zip(op, l.ser, s))
		}
		return out, nil
	}
	return val{}, invalidValue("Metric math: the operator %c cannot combine two arrays of time series.", op)
}

func zip(op byte, a, b series) series {
	out := series{label: a.label, period: max(a.period, b.period)}
	i, j := 0, 0
	for i < len(a.ts) && j < len(b.ts) {
		switch {
		case a.ts[i] < b.ts[j]:
			i++
		case a.ts[i] > b.ts[j]:
			j++
		default:
			if r := apply(op, a.vs[i], b.vs[j]); finite(r) {
				out.ts, out.vs = append(out.ts, a.ts[i]), append(out.vs, r)
			}
			i++
			j++
		}
	}
	return out
}

func reduce(fn string, vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	r := vs[0]
	switch fn {
	case "SUM", "AVG":
		r = 0
		for _, v := range vs {
			r += v
		}
		if fn == "AVG" {
			r /= float64(len(vs))
		}
	case "MIN":
		for _, v := range vs {
			r = math.Min(r, v)
		}
	case "MAX":
		for _, v := range vs {
			r = math.Max(r, v)
		}
	}
	return r, true
}

func (e *mathEnv) call(n callNode) (val, error) {
	arity := func(k int) error {
		if len(n.args) != k {
			return invalidValue("Metric math: %s takes %d argument(s).", n.fn, k)
		}
		return nil
	}
	args := make([]val, 0, len(n.args))
	for _, a := range n.args {
		if kw, ok := a.(kwNode); ok && n.fn == "FILL" {
			args = append(args, val{kind: kScalar, num: math.NaN(), ser: series{label: string(kw)}})
			continue
		}
		if s, ok := a.(strNode); ok && n.fn == "METRICS" {
			args = append(args, val{kind: kScalar, ser: series{label: string(s)}})
			continue
		}
		v, err := e.eval(a)
		if err != nil {
			return val{}, err
		}
		args = append(args, v)
	}
	switch n.fn {
	case "SUM", "AVG", "MIN", "MAX":
		if err := arity(1); err != nil {
			return val{}, err
		}
		switch x := args[0]; x.kind {
		case kScalar:
			return x, nil
		case kSeries:
			r, ok := reduce(n.fn, x.ser.vs)
			if !ok {
				r = math.NaN()
			}
			return val{kind: kScalar, num: r}, nil
		default:
			return val{kind: kSeries, ser: across(n.fn, x.arr)}, nil
		}
	case "ABS", "CEIL", "FLOOR":
		if err := arity(1); err != nil {
			return val{}, err
		}
		f := map[string]func(float64) float64{"ABS": math.Abs, "CEIL": math.Ceil, "FLOOR": math.Floor}[n.fn]
		return mapVal(args[0], f), nil
	case "FILL":
		if err := arity(2); err != nil {
			return val{}, err
		}
		with := args[1]
		if with.kind != kScalar {
			return val{}, invalidValue("Metric math: the second argument of FILL must be a number, REPEAT or LINEAR.")
		}
		switch x := args[0]; x.kind {
		case kSeries:
			return val{kind: kSeries, ser: e.fill(x.ser, with)}, nil
		case kArray:
			out := val{kind: kArray}
			for _, s := range x.arr {
				out.arr = append(out.arr, e.fill(s, with))
			}
			return out, nil
		}
		return args[0], nil
	case "DIFF", "RATE":
		if err := arity(1); err != nil {
			return val{}, err
		}
		if args[0].kind != kSeries {
			return val{}, invalidValue("Metric math: %s takes a time series.", n.fn)
		}
		s := args[0].ser
		out := series{label: s.label, period: s.period}
		for i := 1; i < len(s.ts); i++ {
			d := s.vs[i] - s.vs[i-1]
			if n.fn == "RATE" {
				d /= float64(s.ts[i]-s.ts[i-1]) / 1000
			}
			out.ts, out.vs = append(out.ts, s.ts[i]), append(out.vs, d)
		}
		return val{kind: kSeries, ser: out}, nil
	case "PERIOD":
		if err := arity(1); err != nil {
			return val{}, err
		}
		if args[0].kind != kSeries {
			return val{}, invalidValue("Metric math: PERIOD takes a time series.")
		}
		return val{kind: kScalar, num: float64(args[0].ser.period)}, nil
	case "METRICS":
		all := e.metrics()
		if len(args) == 1 {
			var keep []series
			for _, s := range all {
				if strings.Contains(s.label, args[0].ser.label) {
					keep = append(keep, s)
				}
			}
			all = keep
		}
		return val{kind: kArray, arr: all}, nil
	}
	return val{}, invalidValue("Metric math: unknown function %s.", n.fn)
}

// across reduces an array of series timestamp by timestamp.
func across(fn string, arr []series) series {
	byTS := map[int64][]float64{}
	out := series{}
	for _, s := range arr {
		out.period = max(out.period, s.period)
		for i, t := range s.ts {
			byTS[t] = append(byTS[t], s.vs[i])
		}
	}
	for t := range byTS {
		out.ts = append(out.ts, t)
	}
	sort.Slice(out.ts, func(i, j int) bool { return out.ts[i] < out.ts[j] })
	for _, t := range out.ts {
		r, _ := reduce(fn, byTS[t])
		out.vs = append(out.vs, r)
	}
	return out
}

// grid lists the period starts in [start, end), aligned to start as the
// metrics' periods are.
func (e *mathEnv) grid(period int64) []int64 {
	if period <= 0 {
		period = 60
	}
	var out []int64
	for t := e.start; t < e.end && len(out) < 100800; t += period * 1000 {
		out = append(out, t)
	}
	return out
}

// fill gives s a value at every period of the range: a constant, the last
// value before (REPEAT), or a straight line between neighbours (LINEAR).
func (e *mathEnv) fill(s series, with val) series {
	out := series{label: s.label, period: s.period}
	mode := with.ser.label
	i := 0
	for _, t := range e.grid(s.period) {
		for i < len(s.ts) && s.ts[i] < t {
			i++
		}
		if i < len(s.ts) && s.ts[i] == t {
			out.ts, out.vs = append(out.ts, t), append(out.vs, s.vs[i])
			continue
		}
		switch mode {
		case "REPEAT":
			if i > 0 {
				out.ts, out.vs = append(out.ts, t), append(out.vs, s.vs[i-1])
			}
		case "LINEAR":
			if i > 0 && i < len(s.ts) {
				t0, t1, v0, v1 := s.ts[i-1], s.ts[i], s.vs[i-1], s.vs[i]
				out.ts, out.vs = append(out.ts, t), append(out.vs, v0+(v1-v0)*float64(t-t0)/float64(t1-t0))
			}
		default:
			out.ts, out.vs = append(out.ts, t), append(out.vs, with.num)
		}
	}
	return out
}
