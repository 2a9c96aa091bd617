package main

import (
	"strings"
	"testing"
)

func TestCountLinesWordsBytes(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     counts
	}{
		{"empty", "", counts{}},
		{"the example object", "the quick brown fox\njumps over\nthe lazy dog\n", counts{3, 9, 44}},
		{"last line without newline", "a b\nc", counts{2, 3, 5}},
		{"blank lines count, hold no words", "\n\n  \n", counts{3, 0, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := count(strings.NewReader(tc.in))
			if err != nil || got != tc.want {
				t.Fatalf("count(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}
