package sigv4

import (
	"regexp"
	"strings"
	"testing"
)

// TestIsHexSHA256AgreesWithThePattern: the loop accepts exactly what the
// regular expression it replaced, ^[0-9a-fA-F]{64}$, accepted.
func TestIsHexSHA256AgreesWithThePattern(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	hex64 := strings.Repeat("0123456789abcdef", 4)
	for _, v := range []string{
		"", hex64, strings.ToUpper(hex64), hex64[:63], hex64 + "0", hex64[:63] + "g", "g" + hex64[1:],
		hex64[:63] + "\n", hex64[:32] + "é" + hex64[34:], UnsignedPayload, StreamingPayload,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	} {
		if got, want := isHexSHA256(v), re.MatchString(v); got != want {
			t.Errorf("isHexSHA256(%q) = %v, the pattern says %v", v, got, want)
		}
	}
}
