package accountid

import (
	"regexp"
	"testing"
)

// TestValidAgreesWithThePattern: the loop accepts exactly what the
// regular expression it replaced, ^\d{12}$, accepted.
func TestValidAgreesWithThePattern(t *testing.T) {
	re := regexp.MustCompile(`^\d{12}$`)
	for _, v := range []string{"", "123456789012", "12345678901", "1234567890123", "12345678901a", "a23456789012",
		"123456789012\n", "１23456789012", "000000000000", "AKIAIOSFODNN7EXAMPLE", "test"} {
		if got, want := Valid(v), re.MatchString(v); got != want {
			t.Errorf("Valid(%q) = %v, the pattern says %v", v, got, want)
		}
	}
}
