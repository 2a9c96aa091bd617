package cloudwatch

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
)

func TestParseExprLimits(t *testing.T) {
	nested := func(d int) string { return strings.Repeat("(", d) + "m1" + strings.Repeat(")", d) }
	if _, err := parseExpr(nested((maxExprLen-2)/2), "expression"); err != nil {
		t.Fatalf("the deepest nesting within 2048 characters: %v", err)
	}
	if _, err := parseExpr(strings.Repeat("-", maxExprLen-2)+"m1", "expression"); err != nil {
		t.Fatalf("2046 unary minuses: %v", err)
	}
	_, err := parseExpr(nested(500_000), "metricDataQueries.1.member.expression")
	e := apierr.As(err)
	if e == nil || e.Code != "ValidationException" || e.Status != 400 || !strings.Contains(e.Message, "at 'metricDataQueries.1.member.expression' failed to satisfy constraint: Member must have length less than or equal to 2048") {
		t.Fatalf("1 MB expression: %v", err)
	}
	// The parser's own bound, for a caller that skipped the length check.
	for _, src := range []string{nested(300_000), strings.Repeat("-", 300_000) + "m1", strings.Repeat("SUM([", 100_000) + "m1" + strings.Repeat("])", 100_000)} {
		p := &exprParser{s: src}
		_, err := p.sum()
		if e := apierr.As(err); e == nil || !strings.Contains(e.Message, "nested more than 2048 levels") {
			t.Fatalf("%.10s...: %v", src, err)
		}
	}
}
