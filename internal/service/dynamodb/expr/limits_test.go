package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// nested wraps "a = :v" in depth pairs of parentheses.
func nested(depth int) string {
	return strings.Repeat("(", depth) + "a = :v" + strings.Repeat(")", depth)
}

// orChain is n+1 comparisons joined by n ORs: 2n+1 operators.
func orChain(n int) string {
	parts := make([]string, n+1)
	for i := range parts {
		parts[i] = "a = :v"
	}
	return strings.Join(parts, " OR ")
}

func TestConditionLimits(t *testing.T) {
	cases := []struct {
		name, kind, src, err string
	}{
		{"4096 bytes is allowed", KindFilter, "a = :v" + strings.Repeat(" ", MaxExpressionSize-6), ""},
		{"4097 bytes is not", KindFilter, "a = :v" + strings.Repeat(" ", MaxExpressionSize-5),
			"Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"},
		{"the 1.1 MB nesting that crashed wharf is refused before parsing", KindCondition, nested(550_000),
			"Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 1100006"},
		{"the deepest nesting that fits in 4 KB is parsed and refused as redundant parentheses", KindCondition, nested((MaxExpressionSize - 6) / 2),
			"Invalid ConditionExpression: The expression has redundant parentheses;"},
		{"one pair of parentheses is not redundant", KindCondition, nested(1), ""},
		{"a pair around a pair is", KindCondition, nested(2), "Invalid ConditionExpression: The expression has redundant parentheses;"},
		{"a pair around a pair and more is not", KindCondition, "((a = :v) AND (a = :v))", ""},
		{"300 operators is allowed", KindFilter, "NOT (" + orChain(149) + ")", ""},
		{"301 operators is not", KindFilter, orChain(150),
			"Invalid FilterExpression: The expression contains too many operators; operator count: 301"},
		{"functions count as operators", KindCondition, strings.Repeat("attribute_exists(a) AND ", 150) + "attribute_exists(a)",
			"Invalid ConditionExpression: The expression contains too many operators; operator count: 301"},
		{"IN counts once whatever its operands", KindFilter, strings.Repeat("a IN ("+strings.Repeat(":v,", 99)+":v) AND ", 5) + "a = :v", ""},
		{"101 IN operands", KindFilter, "a IN (" + strings.Repeat(":v,", 100) + ":v)",
			"Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseCondition(NewEnv(nil, map[string]Value{":v": s("x")}), c.kind, c.src)
			checkErr(t, err, c.err)
		})
	}
}

func TestUpdateLimits(t *testing.T) {
	values := map[string]Value{":n": n("1")}
	cases := []struct{ name, src, err string }{
		// The developer guide's example: SET a = :val1 + :val2 + :val3 has two
		// "+" operators; the "=" of a SET action is not one.
		{"300 operators is allowed", arithmetic(300), ""},
		{"301 is not", arithmetic(301), "Invalid UpdateExpression: The expression contains too many operators; operator count: 301"},
		{"4097 bytes", "SET a = :n" + strings.Repeat(" ", MaxExpressionSize-9),
			"Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseUpdate(NewEnv(nil, values), c.src)
			checkErr(t, err, c.err)
		})
	}
}

// arithmetic is an update of n SET actions, each with one "+".
func arithmetic(n int) string {
	actions := make([]string, n)
	for i := range actions {
		actions[i] = fmt.Sprintf("a%d=b+:n", i)
	}
	return "SET " + strings.Join(actions, ",")
}

func TestProjectionSizeLimit(t *testing.T) {
	_, err := ParseProjection(nil, strings.Repeat("a", MaxExpressionSize+1))
	checkErr(t, err, "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097")
}

// TestParserNestingIsBounded drives the parser past the size check, as a
// caller that forgot it would: its own bound must still refuse the input
// cleanly instead of growing the stack without limit.
func TestParserNestingIsBounded(t *testing.T) {
	env := NewEnv(map[string]string{"#a": "a"}, map[string]Value{":v": s("x"), ":l": list(s("x"))})
	for name, src := range map[string]string{
		"parentheses": nested(200_000),
		"NOT":         strings.Repeat("NOT ", 200_000) + "a = :v",
		"size()":      "size(" + strings.Repeat("size(", 200_000) + "a" + strings.Repeat(")", 200_001) + " > :v",
	} {
		t.Run(name, func(t *testing.T) {
			p := newUncheckedParser(env, KindCondition, src)
			p.ops = -1 << 30 // let nesting, not the operator count, decide
			err := p.run(func() { p.or() })
			e := apierr.As(err)
			if e == nil || e.Code != "ValidationException" || !strings.Contains(e.Message, "nesting levels") {
				t.Fatalf("error %v, want a nesting ValidationException", err)
			}
		})
	}
	p := newUncheckedParser(env, KindUpdate, strings.Repeat("if_not_exists(a, ", 200_000)+":l"+strings.Repeat(")", 200_000))
	p.ops = -1 << 30
	err := p.run(func() { p.setValue() })
	if e := apierr.As(err); e == nil || !strings.Contains(e.Message, "nesting levels") {
		t.Fatalf("update: error %v, want a nesting ValidationException", err)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("error %v", err)
		}
		return
	}
	e := apierr.As(err)
	if e == nil || e.Code != "ValidationException" || e.Status != 400 || e.Message != want {
		t.Fatalf("error %v, want ValidationException %q", err, want)
	}
}
