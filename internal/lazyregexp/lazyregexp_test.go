package lazyregexp

import "testing"

func TestMatchStringCompilesOnFirstUse(t *testing.T) {
	r := New(`^[a-z]{1,3}$`)
	if r.rx != nil {
		t.Fatal("compiled before first use")
	}
	for s, want := range map[string]bool{"abc": true, "abcd": false, "": false, "A": false} {
		if got := r.MatchString(s); got != want {
			t.Errorf("MatchString(%q) = %v, want %v", s, got, want)
		}
	}
}
