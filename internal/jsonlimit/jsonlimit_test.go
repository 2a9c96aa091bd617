package jsonlimit

import (
	"strings"
	"testing"
)

func TestDepth(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want int
	}{
		{``, 0},
		{`1`, 0},
		{`{}`, 1},
		{`{"a":[1,{"b":[]}]}`, 4},
		{`{"a":"[[[[{{{{"}`, 1},       // brackets in strings do not count
		{`{"a":"\"[[[","b":[[]]}`, 3}, // nor after an escaped quote
		{`{"a":"\\","b":[[]]}`, 3},    // an escaped backslash ends the escape
		{`[[]][[[]]]`, 3},             // the deepest, not the last
		{strings.Repeat("[", 50), 11}, // stops past max
	} {
		if got := Depth([]byte(tc.doc), 10); got != tc.want {
			t.Errorf("Depth(%.30q) = %d, want %d", tc.doc, got, tc.want)
		}
	}
}

func FuzzDepth(f *testing.F) {
	f.Add([]byte(`{"a":"\"[","b":[[1]]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if d := Depth(doc, 100); d < 0 || d > 101 {
			t.Fatalf("Depth = %d", d)
		}
	})
}
