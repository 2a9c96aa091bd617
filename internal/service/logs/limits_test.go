package logs

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
)

func TestFilterPatternLimits(t *testing.T) {
	nested := func(d int) string {
		return "{ " + strings.Repeat("(", d) + "$.a = 1" + strings.Repeat(")", d) + " }"
	}
	m, err := compileFilter(nested((maxFilterPattern - 11) / 2))
	if err != nil {
		t.Fatalf("the deepest nesting within 1024 characters: %v", err)
	}
	if !m(`{"a":1}`) || m(`{"a":2}`) {
		t.Error("the deep pattern does not match as its innermost comparison")
	}
	_, err = compileFilter(nested(500_000))
	if e := apierr.As(err); e == nil || e.Code != "InvalidParameterException" || e.Status != 400 ||
		!strings.Contains(e.Message, "Member must have length less than or equal to 1024") {
		t.Fatalf("1 MB pattern: %v", err)
	}
	// The parser's own bound, for a caller that skipped the length check.
	src := nested(300_000)
	jp := &jsonParser{s: src[1:]}
	_, err = jp.or()
	if e := apierr.As(err); e == nil || !strings.Contains(e.Message, "nested more than 1024 levels") {
		t.Fatalf("unchecked deep pattern: %v", err)
	}
}
