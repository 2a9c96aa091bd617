package pattern

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

type kind uint8

const (
	kExact kind = iota
	kPrefix
	kSuffix
	kIgnoreCase
	kWildcard
	kAnythingBut
	kNumeric
	kExists
	kCIDR
)

// matcher is one entry of a field's value array.
type matcher struct {
	kind   kind
	key    string          // kExact: the value's key (see valueKey)
	str    string          // prefix, suffix, equals-ignore-case (lower-cased when fold)
	num    float64         // kExact on a number
	fold   bool            // prefix/suffix with equals-ignore-case
	wild   []string        // kWildcard: literal segments between the stars
	set    map[string]bool // kAnythingBut: excluded value keys
	not    []matcher       // kAnythingBut: excluded prefix/suffix/wildcard/ignore-case
	rng    *numRange
	exists bool
	cidr   netip.Prefix
}

// numRange is an interval of numbers; an open end excludes its bound.
type numRange struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (r *numRange) contains(f float64) bool {
	if f < r.lo || (r.loOpen && f == r.lo) {
		return false
	}
	if f > r.hi || (r.hiOpen && f == r.hi) {
		return false
	}
	return true
}

// valueKey is the identity of a scalar event value for exact matching: strings,
// numbers (compared by value: 3.018e2 equals 301.8), true, false and null never
// equal one another.
func valueKey(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "z", true
	case bool:
		if t {
			return "t", true
		}
		return "f", true
	case string:
		return "s" + t, true
	case json.Number, float64:
		f, ok := toFloat(t)
		if !ok {
			return "", false
		}
		return numberKey(f), true
	}
	return "", false
}

// appendValueKey appends valueKey(v) to b.
func appendValueKey(b []byte, v any) ([]byte, bool) {
	switch t := v.(type) {
	case nil:
		return append(b, 'z'), true
	case bool:
		if t {
			return append(b, 't'), true
		}
		return append(b, 'f'), true
	case string:
		return append(append(b, 's'), t...), true
	case json.Number, float64:
		f, ok := toFloat(t)
		if !ok {
			return b, false
		}
		if f == 0 {
			f = 0 // -0 equals 0
		}
		return strconv.AppendFloat(append(b, 'n'), f, 'g', -1, 64), true
	}
	return b, false
}

func numberKey(f float64) string {
	if f == 0 {
		f = 0 // -0 equals 0
	}
	return "n" + strconv.FormatFloat(f, 'g', -1, 64)
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return f, !math.IsNaN(f)
	case float64:
		return t, true
	}
	return 0, false
}

// match reports whether the scalar event value x satisfies m.
func (m *matcher) match(x any) bool {
	switch m.kind {
	case kExact:
		switch t := x.(type) {
		case string:
			return m.key[0] == 's' && m.str == t
		case json.Number, float64:
			f, ok := toFloat(t)
			return ok && m.key[0] == 'n' && f == m.num
		default:
			k, _ := valueKey(x)
			return k == m.key
		}
	case kPrefix, kSuffix, kIgnoreCase, kWildcard:
		s, ok := x.(string)
		return ok && m.matchString(s)
	case kAnythingBut:
		if m.set != nil {
			k, ok := valueKey(x)
			return ok && !m.set[k]
		}
		s, ok := x.(string)
		if !ok {
			return true // not a string, so not any of the excluded strings
		}
		for i := range m.not {
			if m.not[i].matchString(s) {
				return false
			}
		}
		return true
	case kNumeric:
		f, ok := toFloat(x)
		return ok && m.rng.contains(f)
	case kExists:
		return m.exists
	case kCIDR:
		s, ok := x.(string)
		if !ok {
			return false
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		return m.cidr.Contains(a.Unmap()) || m.cidr.Contains(a)
	}
	return false
}

// matchString applies a string operator to s.
func (m *matcher) matchString(s string) bool {
	switch m.kind {
	case kPrefix:
		if m.fold {
			return strings.HasPrefix(strings.ToLower(s), m.str)
		}
		return strings.HasPrefix(s, m.str)
	case kSuffix:
		if m.fold {
			return strings.HasSuffix(strings.ToLower(s), m.str)
		}
		return strings.HasSuffix(s, m.str)
	case kIgnoreCase:
		return strings.ToLower(s) == m.str
	case kWildcard:
		return wildcardMatch(m.wild, s)
	}
	return false
}

// parseWildcard splits a wildcard pattern into the literal segments around its
// stars. A backslash escapes a star or a backslash; anything else after a
// backslash, and two stars in a row, are errors (event-ruler's rules).
func parseWildcard(p string) ([]string, error) {
	var segs []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\\':
			if i+1 >= len(p) || (p[i+1] != '*' && p[i+1] != '\\') {
				return nil, errors.New("Invalid escape character at pos " + strconv.Itoa(i))
			}
			i++
			cur.WriteByte(p[i])
			prevStar = false
		case '*':
			if prevStar {
				return nil, errors.New("Consecutive wildcard characters at pos " + strconv.Itoa(i))
			}
			segs = append(segs, cur.String())
			cur.Reset()
			prevStar = true
		default:
			cur.WriteByte(c)
			prevStar = false
		}
	}
	return append(segs, cur.String()), nil
}

// wildcardMatch matches s against segments separated by stars: the first must be
// a prefix, the last a suffix, and the middle ones appear in order. Taking the
// leftmost occurrence of each middle segment is optimal, so this is linear-ish
// and cannot backtrack exponentially.
func wildcardMatch(segs []string, s string) bool {
	if len(segs) == 1 {
		return s == segs[0]
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(mid, seg)
		if i < 0 {
			return false
		}
		mid = mid[i+len(seg):]
	}
	return true
}
