package xmlshape

import (
	"strings"
	"testing"
)

func TestParseBoundsNesting(t *testing.T) {
	nested := func(d int) string { return strings.Repeat("<a>", d) + strings.Repeat("</a>", d) }
	if _, err := Parse(strings.NewReader(nested(maxDepth))); err != nil {
		t.Fatalf("%d levels: %v", maxDepth, err)
	}
	for _, d := range []int{maxDepth + 1, 1_000_000} {
		if _, err := Parse(strings.NewReader(nested(d))); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
			t.Errorf("%d levels: %v", d, err)
		}
	}
}

// TestParseJoinsTextInPieces parses text split by comments and child elements
// into many pieces; it is joined once per element (appending each piece to a
// string made a 800 KB body take 4 s).
func TestParseJoinsTextInPieces(t *testing.T) {
	n, err := Parse(strings.NewReader("<a>x<!-- c -->y<b>z<?pi?>z</b>w</a>"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Text != "xyw" || n.Child("b").Text != "zz" {
		t.Errorf("text %q, child %q", n.Text, n.Child("b").Text)
	}
	n, err = Parse(strings.NewReader("<a>" + strings.Repeat("t<!---->", 200_000) + "</a>"))
	if err != nil || n.Text != strings.Repeat("t", 200_000) {
		t.Fatalf("200,000 pieces: %v", err)
	}
}
