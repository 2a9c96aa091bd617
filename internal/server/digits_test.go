package server

import (
	"regexp"
	"testing"
)

// TestTwelveDigitsAgreesWithThePattern: the loop accepts exactly what the
// regular expression it replaced, ^\d{12}$, accepted.
func TestTwelveDigitsAgreesWithThePattern(t *testing.T) {
	re := regexp.MustCompile(`^\d{12}$`)
	for _, v := range []string{"", "123456789012", "12345678901", "1234567890123", "12345678901a", "a23456789012",
		"123456789012\n", "１23456789012", "000000000000", "AKIAIOSFODNN7EXAMPLE", "test"} {
		if got, want := twelveDigits(v), re.MatchString(v); got != want {
			t.Errorf("twelveDigits(%q) = %v, the pattern says %v", v, got, want)
		}
	}
}
