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

func TestFindStringSubmatchCompilesOnFirstUse(t *testing.T) {
	r := New(`^arn:aws:iam::(\d{12}):role/(.+)$`)
	if r.rx != nil {
		t.Fatal("compiled before first use")
	}
	got := r.FindStringSubmatch("arn:aws:iam::123456789012:role/worker")
	if len(got) != 3 || got[1] != "123456789012" || got[2] != "worker" {
		t.Errorf("FindStringSubmatch = %q", got)
	}
	if got := r.FindStringSubmatch("arn:aws:iam::1:role/x"); got != nil {
		t.Errorf("FindStringSubmatch of a non-match = %q, want nil", got)
	}
}

func TestFindAllAndReplaceCompileOnFirstUse(t *testing.T) {
	r := New(`\$\{([^}]*)\}`)
	if r.rx != nil {
		t.Fatal("compiled before first use")
	}
	got := r.FindAllStringSubmatch("${aws:username}/${s3:prefix}", -1)
	if len(got) != 2 || got[0][1] != "aws:username" || got[1][1] != "s3:prefix" {
		t.Errorf("FindAllStringSubmatch = %q", got)
	}
	if got := r.ReplaceAllString("home/${aws:username}/x", "-"); got != "home/-/x" {
		t.Errorf("ReplaceAllString = %q, want home/-/x", got)
	}
}
