package iam

import (
	"encoding/json"
	"net/url"
	"testing"
)

func TestEncodePolicyAsIAMDoes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": "b c"}`, "%7B%22a%22%3A%20%22b%20c%22%7D"},
		{"plain-text_1.0~", "plain-text_1.0~"},
		{"+/&=", "%2B%2F%26%3D"},
	}
	for _, tt := range tests {
		if got := encodePolicy(tt.in); got != tt.want {
			t.Errorf("encodePolicy(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckPolicyDocument(t *testing.T) {
	tests := []struct {
		doc  string
		code string
	}{
		{allowAll, ""},
		{`{"Statement":[]}`, ""},
		{`{"Version":"2008-10-17","Statement":{}}`, ""},
		{`{"Version":"2020-01-01","Statement":[]}`, "MalformedPolicyDocument"},
		{`{"Version":"2012-10-17"}`, "MalformedPolicyDocument"},
		{`[]`, "MalformedPolicyDocument"},
		{`{"Statement":[]`, "MalformedPolicyDocument"},
		{``, "ValidationError"},
	}
	for _, tt := range tests {
		_, err := checkPolicyDocument("policyDocument", &tt.doc)
		t.Run(tt.doc, func(t *testing.T) { wantCode(t, err, tt.code) })
	}
}

// FuzzEncodePolicy checks that what IAM returns decodes, as botocore decodes
// it, to the stored document.
func FuzzEncodePolicy(f *testing.F) {
	for _, s := range []string{allowAll, trust, "", "%", "a b+c", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := url.PathUnescape(encodePolicy(doc))
		if err != nil || got != doc {
			t.Fatalf("round trip of %q = %q, %v", doc, got, err)
		}
	})
}

// FuzzCheckPolicyDocument: any input is accepted or rejected with an API
// error, and accepted documents are JSON objects.
func FuzzCheckPolicyDocument(f *testing.F) {
	for _, s := range []string{allowAll, trust, "{", "null", `{"Statement":null}`, `{"Version":1,"Statement":[]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		out, err := checkPolicyDocument("policyDocument", &doc)
		if err != nil {
			if asAPI(err) == nil {
				t.Fatalf("non-API error %v", err)
			}
			return
		}
		var m map[string]any
		if json.Unmarshal([]byte(out), &m) != nil {
			t.Fatalf("accepted non-object %q", doc)
		}
	})
}

// FuzzPageMarker: a client-supplied marker never panics the paginator.
func FuzzPageMarker(f *testing.F) {
	for _, s := range []string{"", "YQ", "!!", "eg"} {
		f.Add(s, int32(2))
	}
	f.Fuzz(func(t *testing.T, marker string, max int32) {
		items := []string{"a", "b", "c", "d"}
		out, truncated, next, err := page(items, func(s string) string { return s }, &marker, &max)
		if err != nil {
			return
		}
		if len(out) > int(max) || truncated != (next != nil) {
			t.Fatalf("page(%q, %d) = %v, %v, %v", marker, max, out, truncated, next)
		}
	})
}
