package s3

import (
	"regexp"
	"strings"
	"testing"
)

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "https://a.b", true},
		{"https://*.example.com", "https://app.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "http://app.example.com", false},
		{"x-amz-*", "x-amz-meta-a", true},
		{"x-amz-*", "x-am", false},
		{"a*ab", "ab", false},
		{"a*ab", "aab", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// FuzzWildcardMatch checks the matcher against a regular expression built
// from the same pattern.
func FuzzWildcardMatch(f *testing.F) {
	f.Add("https://*.example.com", "https://app.example.com")
	f.Add("a*ab", "ab")
	f.Add("**", "x")
	f.Add("*a*", "bab")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re, err := regexp.Compile("^(?s:" + strings.Join(parts, ".*") + ")$")
		if err != nil {
			t.Skip()
		}
		if got, want := wildcardMatch(pattern, s), re.MatchString(s); got != want {
			t.Errorf("wildcardMatch(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}
