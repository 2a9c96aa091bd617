package pattern

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
)

// maxAlternatives bounds how many conjunctions $or may expand into, so a small
// pattern cannot make matching (or compiling) exponential.
const maxAlternatives = 1024

// numericLimit is the magnitude event-ruler accepts in numeric patterns.
const numericLimit = 5e9

type compiler struct{}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// object compiles a pattern object into its alternatives (more than one when it
// holds $or).
func (c *compiler) object(obj map[string]any, path string) ([]*node, error) {
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic compiled form and error messages
	alts := []*node{{}}
	for _, name := range names {
		v := obj[name]
		p := join(path, name)
		if name == "$or" {
			if arr, ok := v.([]any); ok {
				branches, err := c.or(arr, path)
				if err != nil {
					return nil, err
				}
				if alts, err = cross(alts, branches, p); err != nil {
					return nil, err
				}
				continue
			}
		}
		switch t := v.(type) {
		case map[string]any:
			if len(t) == 0 {
				return nil, &Error{Path: p, Reason: "Empty objects are not allowed"}
			}
			kids, err := c.object(t, p)
			if err != nil {
				return nil, err
			}
			fields := make([]*node, len(kids))
			for i, k := range kids {
				fields[i] = &node{fields: []field{{name: name, child: k}}}
			}
			if alts, err = cross(alts, fields, p); err != nil {
				return nil, err
			}
		case []any:
			ms, err := c.values(t, p)
			if err != nil {
				return nil, err
			}
			for _, a := range alts {
				a.fields = append(a.fields, field{name: name, leaf: ms})
			}
		default:
			return nil, &Error{Path: p, Reason: "Match value must be String, number, true, false, or null"}
		}
	}
	return alts, nil
}

// or compiles the branches of "$or" inside the object at path: an array of at
// least two pattern objects.
func (c *compiler) or(arr []any, path string) ([]*node, error) {
	at := join(path, "$or")
	if len(arr) < 2 {
		return nil, &Error{Path: at, Reason: "$or must contain at least two objects"}
	}
	var out []*node
	for _, e := range arr {
		obj, ok := e.(map[string]any)
		if !ok || len(obj) == 0 {
			return nil, &Error{Path: at, Reason: "$or must contain only non-empty objects"}
		}
		kids, err := c.object(obj, path)
		if err != nil {
			return nil, err
		}
		out = append(out, kids...)
		if len(out) > maxAlternatives {
			return nil, &Error{Path: at, Reason: "Too many $or combinations"}
		}
	}
	return out, nil
}

// cross returns every conjunction of one alternative from a and one from b.
func cross(a, b []*node, path string) ([]*node, error) {
	if len(a)*len(b) > maxAlternatives {
		return nil, &Error{Path: path, Reason: "Too many $or combinations"}
	}
	out := make([]*node, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, merge(x, y))
		}
	}
	return out, nil
}

// merge is the conjunction of two nodes. Nested objects of the same name merge,
// so that their fields still match inside one element of an event array.
func merge(x, y *node) *node {
	n := &node{fields: append([]field(nil), x.fields...)}
	for _, f := range y.fields {
		merged := false
		if f.child != nil {
			for i := range n.fields {
				if n.fields[i].name == f.name && n.fields[i].child != nil {
					n.fields[i].child = merge(n.fields[i].child, f.child)
					merged = true
					break
				}
			}
		}
		if !merged {
			n.fields = append(n.fields, f)
		}
	}
	return n
}

// values compiles a field's array of match values.
func (c *compiler) values(arr []any, path string) ([]matcher, error) {
	if len(arr) == 0 {
		return nil, &Error{Path: path, Reason: "Empty arrays are not allowed"}
	}
	ms := make([]matcher, 0, len(arr))
	for _, v := range arr {
		m, err := c.value(v, path)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func (c *compiler) value(v any, path string) (matcher, error) {
	switch t := v.(type) {
	case nil, bool, string:
		return exactMatcher(t), nil
	case json.Number:
		f, err := number(t, path)
		if err != nil {
			return matcher{}, err
		}
		return matcher{kind: kExact, key: numberKey(f), num: f}, nil
	case []any:
		return matcher{}, &Error{Path: path, Reason: "Match value must be String, number, true, false, or null"}
	case map[string]any:
		return c.operator(t, path)
	}
	return matcher{}, &Error{Path: path, Reason: "Unsupported match value"}
}

func exactMatcher(v any) matcher {
	switch t := v.(type) {
	case nil:
		return matcher{kind: kExact, key: "z"}
	case bool:
		if t {
			return matcher{kind: kExact, key: "t"}
		}
		return matcher{kind: kExact, key: "f"}
	case string:
		return matcher{kind: kExact, key: "s" + t, str: t}
	}
	return matcher{}
}

// operator compiles a {"op": arg} match expression.
func (c *compiler) operator(obj map[string]any, path string) (matcher, error) {
	if len(obj) != 1 {
		return matcher{}, &Error{Path: path, Reason: "Match expression must be an object with exactly one key"}
	}
	var op string
	var arg any
	for k, v := range obj {
		op, arg = k, v
	}
	bad := func(format string, a ...any) (matcher, error) {
		return matcher{}, &Error{Path: path, Reason: fmt.Sprintf(format, a...)}
	}
	switch op {
	case "prefix", "suffix":
		kind := kPrefix
		if op == "suffix" {
			kind = kSuffix
		}
		switch a := arg.(type) {
		case string:
			return matcher{kind: kind, str: a}, nil
		case map[string]any:
			s, ok := ignoreCaseArg(a)
			if !ok {
				return bad("%q match pattern must be a string or an equals-ignore-case object", op)
			}
			return matcher{kind: kind, str: strings.ToLower(s), fold: true}, nil
		}
		return bad("%q match pattern must be a string", op)
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return bad("equals-ignore-case match pattern must be a string")
		}
		return matcher{kind: kIgnoreCase, str: strings.ToLower(s)}, nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return bad("wildcard match pattern must be a string")
		}
		w, err := parseWildcard(s)
		if err != nil {
			return bad("%s", err.Error())
		}
		return matcher{kind: kWildcard, wild: w}, nil
	case "anything-but":
		return c.anythingBut(arg, path)
	case "numeric":
		arr, ok := arg.([]any)
		if !ok {
			return bad("Value of numeric must be an array")
		}
		r, err := parseRange(arr, path)
		if err != nil {
			return matcher{}, err
		}
		return matcher{kind: kNumeric, rng: r}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return bad("exists match pattern must be either true or false")
		}
		return matcher{kind: kExists, exists: b}, nil
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return bad("cidr match pattern must be a string")
		}
		p, err := parseCIDR(s)
		if err != nil {
			return bad("Nonstandard IP address: %s", s)
		}
		return matcher{kind: kCIDR, cidr: p}, nil
	}
	return bad("Unrecognized match type %s", op)
}

// ignoreCaseArg reads {"equals-ignore-case": "s"}, the form prefix and suffix take
// for case-insensitive matching.
func ignoreCaseArg(m map[string]any) (string, bool) {
	if len(m) != 1 {
		return "", false
	}
	s, ok := m["equals-ignore-case"].(string)
	return s, ok
}

func (c *compiler) anythingBut(arg any, path string) (matcher, error) {
	bad := func(format string, a ...any) (matcher, error) {
		return matcher{}, &Error{Path: path, Reason: fmt.Sprintf(format, a...)}
	}
	m := matcher{kind: kAnythingBut}
	switch a := arg.(type) {
	case string:
		m.set = map[string]bool{"s" + a: true}
		return m, nil
	case json.Number:
		f, err := number(a, path)
		if err != nil {
			return matcher{}, err
		}
		m.set = map[string]bool{numberKey(f): true}
		return m, nil
	case []any:
		if len(a) == 0 {
			return bad("Inside anything but list, empty list is not allowed")
		}
		m.set = map[string]bool{}
		var strs, nums int
		for _, e := range a {
			switch x := e.(type) {
			case string:
				strs++
				m.set["s"+x] = true
			case json.Number:
				nums++
				f, err := number(x, path)
				if err != nil {
					return matcher{}, err
				}
				m.set[numberKey(f)] = true
			default:
				return bad("Inside anything but list, start|null|boolean is not supported.")
			}
		}
		if strs > 0 && nums > 0 {
			return bad("Inside anything but list, all values must be strings or all numbers")
		}
		return m, nil
	case map[string]any:
		if len(a) != 1 {
			return bad("Inside anything-but, only one match expression is allowed")
		}
		var op string
		var v any
		for k, x := range a {
			op, v = k, x
		}
		strsOf := func() ([]string, bool) {
			switch t := v.(type) {
			case string:
				return []string{t}, true
			case []any:
				if len(t) == 0 {
					return nil, false
				}
				out := make([]string, 0, len(t))
				for _, e := range t {
					s, ok := e.(string)
					if !ok {
						return nil, false
					}
					out = append(out, s)
				}
				return out, true
			}
			return nil, false
		}
		ss, ok := strsOf()
		switch op {
		case "prefix", "suffix":
			if !ok {
				return bad("Value of %s inside anything-but must be a string", op)
			}
			inner := kPrefix
			if op == "suffix" {
				inner = kSuffix
			}
			for _, s := range ss {
				m.not = append(m.not, matcher{kind: inner, str: s})
			}
			return m, nil
		case "equals-ignore-case":
			if !ok {
				return bad("Value of equals-ignore-case inside anything-but must be a string or an array of strings")
			}
			for _, s := range ss {
				m.not = append(m.not, matcher{kind: kIgnoreCase, str: strings.ToLower(s)})
			}
			return m, nil
		case "wildcard":
			if !ok {
				return bad("Value of wildcard inside anything-but must be a string or an array of strings")
			}
			for _, s := range ss {
				w, err := parseWildcard(s)
				if err != nil {
					return bad("%s", err.Error())
				}
				m.not = append(m.not, matcher{kind: kWildcard, wild: w})
			}
			return m, nil
		}
		return bad("Unsupported anything-but pattern: %s", op)
	}
	return bad("Value of anything-but must be an array or single string/number value.")
}

func number(n json.Number, path string) (float64, error) {
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, &Error{Path: path, Reason: "Value is not a valid number: " + n.String()}
	}
	return f, nil
}

// parseRange reads ["=", 5] or one lower and/or one upper bound:
// [">", 0, "<=", 5].
func parseRange(arr []any, path string) (*numRange, error) {
	bad := func(reason string) (*numRange, error) {
		return nil, &Error{Path: path, Reason: reason}
	}
	if len(arr) == 0 || len(arr)%2 != 0 || len(arr) > 4 {
		return bad("Value of numeric must be an array of operator and number pairs")
	}
	r := &numRange{lo: math.Inf(-1), hi: math.Inf(1)}
	var haveLo, haveHi, haveEq bool
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		if !ok {
			return bad("Numeric operator must be a string")
		}
		n, ok := arr[i+1].(json.Number)
		if !ok {
			return bad("Value of " + op + " must be numeric")
		}
		f, err := number(n, path)
		if err != nil {
			return nil, err
		}
		if f < -numericLimit || f > numericLimit {
			return bad("Value of " + op + " must be between -5.0E9 and 5.0E9")
		}
		switch op {
		case "=":
			if len(arr) != 2 {
				return bad("Numeric = cannot be combined with other operators")
			}
			r.lo, r.hi, haveEq = f, f, true
		case ">", ">=":
			if haveLo {
				return bad("Numeric range has more than one lower bound")
			}
			haveLo, r.lo, r.loOpen = true, f, op == ">"
		case "<", "<=":
			if haveHi {
				return bad("Numeric range has more than one upper bound")
			}
			haveHi, r.hi, r.hiOpen = true, f, op == "<"
		default:
			return bad("Unrecognized numeric range operator: " + op)
		}
	}
	if haveLo && haveHi && r.lo >= r.hi {
		return bad("Bottom must be less than top")
	}
	_ = haveEq
	return r, nil
}

// parseCIDR accepts a CIDR block or a single address (a /32 or /128).
func parseCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
