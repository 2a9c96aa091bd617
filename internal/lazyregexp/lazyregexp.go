// Package lazyregexp compiles a package-level regular expression on first use.
//
// Validation patterns such as ^[A-Za-z0-9_-]{1,256}$ compile into programs of
// hundreds of kilobytes (the bounded repeat is unrolled); compiling a dozen of them
// at init cost wharf about 2.5 MiB of idle memory and startup time for services a
// user may never call.
package lazyregexp

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use.
type Regexp struct {
	expr string
	once sync.Once
	rx   *regexp.Regexp
}

// New returns a Regexp for expr. expr must be valid: it panics on first use
// otherwise, as regexp.MustCompile would at init.
func New(expr string) *Regexp { return &Regexp{expr: expr} }

func (r *Regexp) re() *regexp.Regexp {
	r.once.Do(func() { r.rx = regexp.MustCompile(r.expr) })
	return r.rx
}

// MatchString reports whether s contains a match of the expression.
func (r *Regexp) MatchString(s string) bool { return r.re().MatchString(s) }

// FindAllStringSubmatch returns up to n (all when n < 0) successive matches
// of the expression in s, each with its submatches
// (regexp.Regexp.FindAllStringSubmatch).
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.re().FindAllStringSubmatch(s, n)
}

// ReplaceAllString returns a copy of s with the matches of the expression
// replaced by repl (regexp.Regexp.ReplaceAllString).
func (r *Regexp) ReplaceAllString(s, repl string) string { return r.re().ReplaceAllString(s, repl) }

// FindStringSubmatch returns the leftmost match of the expression in s and its
// submatches, or nil (regexp.Regexp.FindStringSubmatch).
func (r *Regexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }
