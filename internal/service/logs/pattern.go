package logs

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// compileFilter compiles a filter pattern as "Filter pattern syntax for metric
// filters, subscription filters, filter log events" describes it:
//
//   - "" matches every event;
//   - terms: `ERROR`, `"Status Code: 500"`: the event contains every term
//     (case-sensitive); `-term` excludes events containing it; `?a ?b` matches
//     events containing any of the ?-terms;
//   - `%regex%`: the event matches the regular expression;
//   - JSON: `{ $.level = "error" && $.latency > 100 }`, with = != < > <= >=,
//     && || and parentheses, `*` wildcards in string values, IS NULL / IS TRUE /
//     IS FALSE and NOT EXISTS. Events that are not JSON objects never match.
//
// Space-delimited patterns (`[ip, user, ...]`) are not supported and are reported
// as an invalid parameter rather than silently matching nothing.
func compileFilter(p string) (func(string) bool, error) {
	if len(p) > maxFilterPattern {
		return nil, invalidParam("1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to %d", maxFilterPattern)
	}
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return func(string) bool { return true }, nil
	case strings.HasPrefix(p, "{"):
		return compileJSONFilter(p)
	case strings.HasPrefix(p, "["):
		return nil, invalidParam("Invalid filter pattern: space-delimited patterns are not supported by wharf.")
	case len(p) >= 2 && p[0] == '%' && p[len(p)-1] == '%':
		re, err := regexp.Compile(p[1 : len(p)-1])
		if err != nil {
			return nil, invalidParam("Invalid regex in filter pattern: %s", err)
		}
		return re.MatchString, nil
	}
	return compileTerms(p)
}

// Limits on a filter pattern: the model's length constraint on FilterPattern,
// and a bound on the JSON parser's nesting (parentheses) that a pattern within
// the length cannot reach, so that no caller can exhaust the parser's stack.
const (
	maxFilterPattern = 1024
	maxFilterDepth   = maxFilterPattern
)

func compileTerms(p string) (func(string) bool, error) {
	var all, any, none []string
	for i := 0; i < len(p); {
		if p[i] == ' ' || p[i] == '\t' {
			i++
			continue
		}
		kind := byte(0)
		if p[i] == '?' || p[i] == '-' {
			kind = p[i]
			i++
		}
		var term string
		if i < len(p) && p[i] == '"' {
			var b strings.Builder
			j := i + 1
			for ; j < len(p) && p[j] != '"'; j++ {
				if p[j] == '\\' && j+1 < len(p) {
					j++
				}
				b.WriteByte(p[j])
			}
			if j >= len(p) {
				return nil, invalidParam("Invalid filter pattern: unterminated quoted term.")
			}
			term, i = b.String(), j+1
		} else {
			j := i
			for j < len(p) && p[j] != ' ' && p[j] != '\t' {
				j++
			}
			term, i = p[i:j], j
		}
		if term == "" {
			continue
		}
		switch kind {
		case '?':
			any = append(any, term)
		case '-':
			none = append(none, term)
		default:
			all = append(all, term)
		}
	}
	return func(m string) bool {
		for _, t := range all {
			if !strings.Contains(m, t) {
				return false
			}
		}
		for _, t := range none {
			if strings.Contains(m, t) {
				return false
			}
		}
		if len(any) == 0 {
			return true
		}
		for _, t := range any {
			if strings.Contains(m, t) {
				return true
			}
		}
		return false
	}, nil
}

// jsonCond is a compiled JSON filter expression evaluated on a decoded event.
type jsonCond func(doc any) bool

type jsonParser struct {
	s     string
	pos   int
	depth int // parentheses open, bounded by maxFilterDepth
}

func compileJSONFilter(p string) (func(string) bool, error) {
	jp := &jsonParser{s: p}
	jp.skip()
	if !jp.eat("{") {
		return nil, jp.fail()
	}
	cond, err := jp.or()
	if err != nil {
		return nil, err
	}
	jp.skip()
	if !jp.eat("}") {
		return nil, jp.fail()
	}
	jp.skip()
	if jp.pos != len(jp.s) {
		return nil, jp.fail()
	}
	return func(m string) bool {
		m = strings.TrimSpace(m)
		if !strings.HasPrefix(m, "{") {
			return false
		}
		var doc any
		if json.Unmarshal([]byte(m), &doc) != nil {
			return false
		}
		return cond(doc)
	}, nil
}

func (p *jsonParser) fail() error {
	return invalidParam("Invalid filter pattern: unexpected input at character %d of %q.", p.pos+1, p.s)
}

func (p *jsonParser) skip() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *jsonParser) eat(tok string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *jsonParser) or() (jsonCond, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.eat("||") {
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(d any) bool { return l(d) || right(d) }
	}
	return left, nil
}

func (p *jsonParser) and() (jsonCond, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.eat("&&") {
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(d any) bool { return l(d) && right(d) }
	}
	return left, nil
}

func (p *jsonParser) unary() (jsonCond, error) {
	if p.eat("(") {
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxFilterDepth {
			return nil, invalidParam("Invalid filter pattern: parentheses nested more than %d levels deep.", maxFilterDepth)
		}
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, p.fail()
		}
		return c, nil
	}
	return p.comparison()
}

// selector path step: a field name, an index, or a wildcard (name "*").
type step struct {
	name  string
	index int // -1 for a field step
}

func (p *jsonParser) selector() ([]step, error) {
	p.skip()
	if !p.eat("$") {
		return nil, p.fail()
	}
	var path []step
	for p.pos < len(p.s) {
		switch c := p.s[p.pos]; c {
		case '.':
			p.pos++
			j := p.pos
			for j < len(p.s) && (isIdent(p.s[j]) || p.s[j] == '*') {
				j++
			}
			if j == p.pos {
				return nil, p.fail()
			}
			path = append(path, step{name: p.s[p.pos:j], index: -1})
			p.pos = j
		case '[':
			j := strings.IndexByte(p.s[p.pos:], ']')
			if j < 0 {
				return nil, p.fail()
			}
			inner := p.s[p.pos+1 : p.pos+j]
			if inner == "*" {
				path = append(path, step{name: "*", index: -1})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, p.fail()
				}
				path = append(path, step{index: n})
			}
			p.pos += j + 1
		default:
			return path, nil
		}
	}
	return path, nil
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c == '@' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// resolve returns every value the path selects in d (wildcards select many).
func resolve(d any, path []step) []any {
	if len(path) == 0 {
		return []any{d}
	}
	st, rest := path[0], path[1:]
	var out []any
	switch v := d.(type) {
	case map[string]any:
		if st.index >= 0 {
			return nil
		}
		if st.name == "*" {
			for _, x := range v {
				out = append(out, resolve(x, rest)...)
			}
			return out
		}
		if x, ok := v[st.name]; ok {
			return resolve(x, rest)
		}
	case []any:
		if st.name == "*" {
			for _, x := range v {
				out = append(out, resolve(x, rest)...)
			}
			return out
		}
		if st.index >= 0 && st.index < len(v) {
			return resolve(v[st.index], rest)
		}
	}
	return nil
}

func (p *jsonParser) comparison() (jsonCond, error) {
	path, err := p.selector()
	if err != nil {
		return nil, err
	}
	p.skip()
	switch {
	case p.eat("IS"):
		p.skip()
		var want any
		switch {
		case p.eat("NULL"):
			want = nil
		case p.eat("TRUE"):
			want = true
		case p.eat("FALSE"):
			want = false
		default:
			return nil, p.fail()
		}
		return func(d any) bool {
			for _, v := range resolve(d, path) {
				if v == want {
					return true
				}
			}
			return false
		}, nil
	case p.eat("NOT"):
		if !p.eat("EXISTS") {
			return nil, p.fail()
		}
		return func(d any) bool { return len(resolve(d, path)) == 0 }, nil
	}
	var op string
	for _, o := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if p.eat(o) {
			op = o
			break
		}
	}
	if op == "" {
		return nil, p.fail()
	}
	test, err := p.value(op)
	if err != nil {
		return nil, err
	}
	return func(d any) bool {
		for _, v := range resolve(d, path) {
			if test(v) {
				return true
			}
		}
		return false
	}, nil
}

// value parses the right-hand side of a comparison and returns its test.
func (p *jsonParser) value(op string) (func(any) bool, error) {
	p.skip()
	var raw string
	quoted := false
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		var b strings.Builder
		j := p.pos + 1
		for ; j < len(p.s) && p.s[j] != '"'; j++ {
			if p.s[j] == '\\' && j+1 < len(p.s) {
				j++
			}
			b.WriteByte(p.s[j])
		}
		if j >= len(p.s) {
			return nil, p.fail()
		}
		raw, quoted, p.pos = b.String(), true, j+1
	} else if p.pos < len(p.s) && p.s[p.pos] == '%' {
		j := strings.IndexByte(p.s[p.pos+1:], '%')
		if j < 0 {
			return nil, p.fail()
		}
		re, err := regexp.Compile(p.s[p.pos+1 : p.pos+1+j])
		if err != nil {
			return nil, invalidParam("Invalid regex in filter pattern: %s", err)
		}
		p.pos += j + 2
		if op != "=" && op != "!=" {
			return nil, p.fail()
		}
		return func(v any) bool {
			s, ok := v.(string)
			return ok && re.MatchString(s) == (op == "=")
		}, nil
	} else {
		j := p.pos
		for j < len(p.s) && !strings.ContainsRune(" \t\n)}&|", rune(p.s[j])) {
			j++
		}
		raw, p.pos = p.s[p.pos:j], j
		if raw == "" {
			return nil, p.fail()
		}
	}
	if n, err := strconv.ParseFloat(raw, 64); err == nil && !quoted {
		return func(v any) bool {
			f, ok := v.(float64)
			if !ok {
				return false
			}
			return compareNum(op, f, n)
		}, nil
	}
	if !quoted {
		switch raw {
		case "true", "false":
			b := raw == "true"
			return func(v any) bool { x, ok := v.(bool); return ok && (x == b) == (op == "=") }, nil
		case "null":
			return func(v any) bool { return (v == nil) == (op == "=") }, nil
		}
	}
	if op != "=" && op != "!=" {
		return nil, invalidParam("Invalid filter pattern: %s needs a numeric value.", op)
	}
	parts := strings.Split(raw, "*")
	return func(v any) bool {
		s, ok := v.(string)
		if !ok {
			if f, isNum := v.(float64); isNum {
				s, ok = strconv.FormatFloat(f, 'f', -1, 64), true
			}
		}
		return ok && glob(parts, s) == (op == "=")
	}, nil
}

func compareNum(op string, a, b float64) bool {
	const eps = 1e-9
	switch op {
	case "=":
		return math.Abs(a-b) < eps
	case "!=":
		return math.Abs(a-b) >= eps
	case "<":
		return a < b
	case ">":
		return a > b
	case "<=":
		return a <= b
	}
	return a >= b
}

// glob reports whether s matches the pattern split at its * wildcards: the
// first part is a prefix, the last a suffix, the others appear in order.
func glob(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
