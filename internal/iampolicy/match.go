package iampolicy

import (
	"strings"
	"unicode/utf8"
)

// Match reports whether s matches pattern, where * matches any run of
// characters and ? any one character (Action, Resource, StringLike, ArnLike).
// fold compares case-insensitively, as action names are.
func Match(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative glob with one backtrack point: linear in practice, never
	// exponential on hostile patterns.
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case literalMark[0]:
				if p+1 < len(pattern) && pattern[p+1] == s[i] {
					p += 2
					i++
					continue
				}
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[i:])
				p++
				i += n
				continue
			default:
				if c == s[i] {
					p++
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		p = starP + 1
		_, n := utf8.DecodeRuneInString(s[starI:])
		starI += n
		i = starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// substitute replaces the policy variables in v (${aws:username},
// ${aws:PrincipalTag/team, 'none'}, and the escapes ${*} ${?} ${$}) with their
// values from vars. ok is false when a variable has no value and no default:
// the element then matches nothing ("IAM policy elements: Variables and tags").
// In a pattern (glob), escaped wildcards are marked so Match takes them literally.
func substitute(v string, vars func(string) (string, bool), glob bool) (string, bool) {
	if vars == nil || !strings.Contains(v, "${") {
		return v, true
	}
	var b strings.Builder
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			b.WriteString(v)
			return b.String(), true
		}
		j := strings.IndexByte(v[i:], '}')
		if j < 0 {
			b.WriteString(v)
			return b.String(), true
		}
		b.WriteString(v[:i])
		name := strings.TrimSpace(v[i+2 : i+j])
		v = v[i+j+1:]
		switch name {
		case "*", "?", "$":
			if glob && name != "$" {
				b.WriteString(literalMark)
			}
			b.WriteString(name)
			continue
		}
		def, hasDef := "", false
		if k, d, found := strings.Cut(name, ","); found {
			d = strings.TrimSpace(d)
			if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
				name, def, hasDef = strings.TrimSpace(k), d[1:len(d)-1], true
			}
		}
		val, ok := vars(name)
		if !ok {
			if !hasDef {
				return "", false
			}
			val = def
		}
		b.WriteString(val)
	}
}

// literalMark never appears in a request value: it marks an escaped
// character of ${*} and ${?} that a pattern must match literally.
const literalMark = "\x00"
