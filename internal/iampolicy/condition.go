package iampolicy

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// operator is one condition operator of "IAM JSON policy elements: Condition
// operators": a positive comparison of one request value with one policy
// value, and whether the operator negates it.
type operator struct {
	name   string
	negate bool
	glob   bool // policy values are patterns
	match  func(request, policy string) bool
}

var operators = map[string]*operator{}

func init() {
	add := func(name string, negate bool, f func(r, p string) bool) {
		operators[name] = &operator{name: name, negate: negate, match: f}
	}
	streq := func(r, p string) bool { return r == p }
	strfold := strings.EqualFold
	strlike := func(r, p string) bool { return Match(p, r, false) }
	add("StringEquals", false, streq)
	add("StringNotEquals", true, streq)
	add("StringEqualsIgnoreCase", false, strfold)
	add("StringNotEqualsIgnoreCase", true, strfold)
	add("StringLike", false, strlike)
	add("StringNotLike", true, strlike)

	num := func(cmp func(int) bool) func(r, p string) bool {
		return func(r, p string) bool {
			// ParseFloat, not big.Rat: "1e999999999" must not allocate.
			a, err1 := strconv.ParseFloat(r, 64)
			b, err2 := strconv.ParseFloat(p, 64)
			if err1 != nil || err2 != nil {
				return false
			}
			c := 0
			if a < b {
				c = -1
			} else if a > b {
				c = 1
			}
			return cmp(c)
		}
	}
	date := func(cmp func(int) bool) func(r, p string) bool {
		return func(r, p string) bool {
			a, ok1 := parseDate(r)
			b, ok2 := parseDate(p)
			return ok1 && ok2 && cmp(a.Compare(b))
		}
	}
	eq := func(c int) bool { return c == 0 }
	lt := func(c int) bool { return c < 0 }
	le := func(c int) bool { return c <= 0 }
	gt := func(c int) bool { return c > 0 }
	ge := func(c int) bool { return c >= 0 }
	for _, f := range []struct {
		suffix string
		cmp    func(int) bool
		negate bool
	}{{"Equals", eq, false}, {"NotEquals", eq, true}, {"LessThan", lt, false}, {"LessThanEquals", le, false},
		{"GreaterThan", gt, false}, {"GreaterThanEquals", ge, false}} {
		add("Numeric"+f.suffix, f.negate, num(f.cmp))
		add("Date"+f.suffix, f.negate, date(f.cmp))
	}
	add("Bool", false, func(r, p string) bool { return strings.EqualFold(r, p) })
	add("BinaryEquals", false, func(r, p string) bool {
		a, err1 := base64.StdEncoding.DecodeString(r)
		b, err2 := base64.StdEncoding.DecodeString(p)
		return err1 == nil && err2 == nil && string(a) == string(b)
	})
	ip := func(r, p string) bool {
		addr, err := netip.ParseAddr(r)
		if err != nil {
			return false
		}
		if pfx, err := netip.ParsePrefix(p); err == nil {
			return pfx.Contains(addr)
		}
		a, err := netip.ParseAddr(p)
		return err == nil && a == addr
	}
	add("IpAddress", false, ip)
	add("NotIpAddress", true, ip)
	add("ArnEquals", false, arnLike)
	add("ArnLike", false, arnLike)
	add("ArnNotEquals", true, arnLike)
	add("ArnNotLike", true, arnLike)
	add("Null", false, nil) // decided on presence, in Condition.eval
	for _, n := range []string{"StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"} {
		operators[n].glob = true
	}
}

// lookupOperator splits an operator name into its set qualifier, base
// operator and IfExists suffix.
func lookupOperator(name string) (op *operator, set string, ifExists bool, ok bool) {
	base := name
	if q, rest, found := strings.Cut(name, ":"); found {
		if q != "ForAllValues" && q != "ForAnyValue" {
			return nil, "", false, false
		}
		set, base = q, rest
	}
	if b, found := strings.CutSuffix(base, "IfExists"); found && b != "Null" {
		base, ifExists = b, true
	}
	op, ok = operators[base]
	return op, set, ifExists, ok
}

// parseDate reads the date forms policies use: ISO 8601 (with or without
// time and zone) or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// arnLike compares ARNs component by component, each with StringLike's
// wildcards, as ArnLike does: the six colon-separated parts must each match.
func arnLike(r, p string) bool {
	rp := strings.SplitN(r, ":", 6)
	pp := strings.SplitN(p, ":", 6)
	if len(rp) != 6 || len(pp) != 6 {
		return false
	}
	for i := range rp {
		if !Match(pp[i], rp[i], false) {
			return false
		}
	}
	return true
}

// eval decides one condition against ctx. values are the policy's values
// after policy variables are substituted (a value whose variable has no value
// matches nothing).
func (c *Condition) eval(r *Request, vars func(string) (string, bool)) bool {
	key := c.lkey
	if key == "" {
		key = strings.ToLower(c.Key)
	}
	reqVals, present := r.value(key)
	if c.op.name == "Null" {
		// "Null": {"k": "true"} holds when k is absent, "false" when present.
		absent := !present || len(reqVals) == 0
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == absent {
				return true
			}
		}
		return false
	}
	policyVals := c.Values
	if c.vars || c.lkey == "" {
		policyVals = make([]string, 0, len(c.Values))
		for _, v := range c.Values {
			if s, ok := substitute(v, vars, c.op.glob); ok {
				policyVals = append(policyVals, s)
			}
		}
	}
	matchesAny := func(r string) bool {
		for _, p := range policyVals {
			if c.op.match(r, p) {
				return true
			}
		}
		return false
	}
	switch c.set {
	case "ForAllValues":
		// True when every request value is allowed, which includes no values.
		for _, r := range reqVals {
			if matchesAny(r) == c.op.negate {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, r := range reqVals {
			if matchesAny(r) != c.op.negate {
				return true
			}
		}
		return false
	}
	if !present {
		// A missing key fails a positive operator and satisfies a negated one,
		// unless the operator is ...IfExists, which then holds.
		return c.ifExists || c.op.negate
	}
	any := false
	for _, r := range reqVals {
		if matchesAny(r) {
			any = true
			break
		}
	}
	return any != c.op.negate
}
