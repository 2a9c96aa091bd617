package pattern

import (
	"encoding/json"
	"math"
	"testing"
)

// TestAppendValueKeyMatchesValueKey checks that the key Set.Match looks an
// event's value up by is the key the index was built with.
func TestAppendValueKeyMatchesValueKey(t *testing.T) {
	for _, v := range []any{nil, true, false, "", "x", "s\x00\xff é", json.Number("3.018e2"), json.Number("301.8"),
		json.Number("-0"), json.Number("1e400"), json.Number("nope"), 0.0, math.Copysign(0, -1), 1.5, math.Inf(1),
		map[string]any{}, []any{}} {
		want, wantOK := valueKey(v)
		got, ok := appendValueKey([]byte("path\x00"), v)
		if ok != wantOK || (ok && string(got) != "path\x00"+want) {
			t.Errorf("%#v: appendValueKey %q %v, valueKey %q %v", v, got, ok, want, wantOK)
		}
	}
}
