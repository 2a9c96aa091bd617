package s3

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		h          string
		size       int64
		start, end int64 // -1: whole object
		invalid    bool
	}{
		{"bytes=0-0", 10, 0, 0, false},
		{"bytes=0-9", 10, 0, 9, false},
		{"bytes=3-", 10, 3, 9, false},
		{"bytes=-4", 10, 6, 9, false},
		{"bytes=5-100", 10, 5, 9, false},
		{"bytes=10-", 10, 0, 0, true},
		{"bytes=-0", 10, 0, 0, true},
		{"bytes=0-", 0, 0, 0, true},
		{"bytes=4-2", 10, -1, -1, false},
		{"bytes=a-b", 10, -1, -1, false},
		{"bytes=0-1,3-4", 10, -1, -1, false},
		{"items=0-1", 10, -1, -1, false},
		{"", 10, -1, -1, false},
	} {
		r, err := parseRange(tc.h, tc.size)
		if tc.invalid {
			if err == nil {
				t.Errorf("%q/%d: no InvalidRange", tc.h, tc.size)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q/%d: %v", tc.h, tc.size, err)
			continue
		}
		if tc.start < 0 {
			if r != nil {
				t.Errorf("%q/%d = %+v, want whole object", tc.h, tc.size, r)
			}
			continue
		}
		if r == nil || r.start != tc.start || r.end != tc.end {
			t.Errorf("%q/%d = %+v, want %d-%d", tc.h, tc.size, r, tc.start, tc.end)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-5", "bytes=5-", "bytes=9999999999999999999-", "bytes=--1", "bytes=1-2,3-4", "bytes= 1 - 2"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		r, err := parseRange(h, size)
		if err != nil || r == nil {
			return
		}
		if r.start < 0 || r.end < r.start || r.end >= size {
			t.Fatalf("%q/%d = %+v out of bounds", h, size, r)
		}
	})
}

func TestCopySource(t *testing.T) {
	for _, tc := range []struct {
		in, bucket, key, version string
		bad                      bool
	}{
		{"b/k", "b", "k", "", false},
		{"/b/dir/k", "b", "dir/k", "", false},
		{"b/a%20b%3Fc", "b", "a b?c", "", false},
		{"b/k?versionId=abc", "b", "k", "abc", false},
		{"b", "", "", "", true},
		{"b/", "", "", "", true},
		{"/b/%zz", "", "", "", true},
	} {
		b, k, v, err := copySource(tc.in)
		if (err != nil) != tc.bad || b != tc.bucket || k != tc.key || v != tc.version {
			t.Errorf("copySource(%q) = %q %q %q %v", tc.in, b, k, v, err)
		}
	}
}

func FuzzCopySource(f *testing.F) {
	for _, s := range []string{"b/k", "/b/k?versionId=x", "b/%2F%2F", "?", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, k, _, err := copySource(s)
		if err == nil && (b == "" || k == "") {
			t.Fatalf("copySource(%q) accepted an empty bucket or key", s)
		}
	})
}

// FuzzObjectKeys checks that every key validKey accepts makes store keys
// from which walk recovers it exactly, and that no key names a file.
func FuzzObjectKeys(f *testing.F) {
	for _, s := range []string{"a", "../../etc/passwd", "a\x00b", "ü/日本", strings.Repeat("x", 1025), "%2e%2e/", "a/b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if validKey(key) != nil {
			return
		}
		if !utf8.ValidString(key) || len(key) > 1024 || strings.IndexByte(key, 0) >= 0 {
			t.Fatalf("validKey accepted %q", key)
		}
		if got := currentKeyOf("bkt")(objectKey("bkt", key)); got != key {
			t.Fatalf("current key %q came back as %q", key, got)
		}
		if got := versionKeyOf("bkt")(versionKey("bkt", key, 42)); got != key {
			t.Fatalf("version key %q came back as %q", key, got)
		}
	})
}

func TestValidBucketName(t *testing.T) {
	for name, want := range map[string]bool{
		"abc": true, "my-bucket.logs": true, "a1b2": true, "ab": false, strings.Repeat("a", 64): false,
		"Abc": false, "a_b": false, "a..b": false, ".ab": false, "ab-": false, "10.0.0.1": false,
		"xn--ab": false, "sthree-x": false, "ab-s3alias": false, "ab--ol-s3": false,
	} {
		if got := validBucketName(name); got != want {
			t.Errorf("validBucketName(%q) = %v", name, got)
		}
	}
}

func TestEtagMatches(t *testing.T) {
	for _, tc := range []struct {
		list string
		want bool
	}{
		{`"abc"`, true}, {`abc`, true}, {`*`, true}, {`"x", "abc"`, true}, {`W/"abc"`, true}, {`"abd"`, false},
	} {
		if got := etagMatches(tc.list, `"abc"`); got != tc.want {
			t.Errorf("etagMatches(%q) = %v", tc.list, got)
		}
	}
}
