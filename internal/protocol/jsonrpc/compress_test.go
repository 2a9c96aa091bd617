package jsonrpc

import (
	"net/http"
	"testing"
)

// TestResponseEncodingReadsAcceptEncodingAsDynamoDB: the cases are
// DynamoDB's answers, as ScyllaDB's Alternator tests record them.
func TestResponseEncodingReadsAcceptEncodingAsDynamoDB(t *testing.T) {
	cases := []struct{ header, want string }{
		{"identity", ""}, {"", ""}, {"br", ""}, {"zstd", ""}, {"compress", ""}, {"x-gzip", ""},
		{"gzip, deflate", "gzip"},
		{"br, identity, deflate, gzip", "deflate"},
		{"GZIP, identity", "gzip"},
		{"dog, gzip ,, cat", "gzip"},
		{"gzip;q=0.8, deflate;q=0.5", "gzip"},
		{"br, gzip;q=0, deflate; q = 0.5 , identity;q=0", "deflate"},
		{"*", "gzip"},
		{"*, deflate;q=0.5", "gzip"},
		{"*, deflate", "deflate"},
		{"*, identity", "gzip"},
		{"*, gzip;q=0.5", "deflate"},
		{"gzip ;q=0", ""},
		{"identity;q=0", ""},
		{"*;q=0", ""},
		{"*;q=0.5,identity", "gzip"},
		{"gzip;q=0.5,identity;q=0.8", "gzip"},
		{"br;q=0.8,identity;q=0.5,*;q=0", ""},
		{`"gzip"`, ""},
		{"gzip br", ""},
		{"gzip:q=1", ""},
		{"deflate;q=0.5, gzip;q=31", "gzip"},
		{"gzip;q=31,deflate;q=51", "gzip"},
		{"deflate;q=0.5, gzip;q=0.2", "deflate"},
		{"deflate;q=0.5, gzip;q=1;q=0.2", "gzip"},
		{"deflate;q=0.5,gzip;q=0.", "deflate"},
		{"deflate;q=0.5,gzip;q=0.x", "gzip"},
		{"deflate;q=0.5,gzip;q=0. x", "gzip"},
		{"deflate;q=-0.5,gzip;q=0.2", "gzip"},
		{"gzip;q= 0;q=1", ""},
		{"gzip;q =0;q=1", "gzip"},
		{"gzip; q=0;q=1", ""},
		{"gzip;nq=0;q=1", ""},
		{"gzip;q=0, gzip;q=1, gzip;q=0", "gzip"},
		{"br,identity;q=0.5,gzip;q=0.0001", "gzip"},
	}
	for _, c := range cases {
		h := http.Header{}
		h.Set("Accept-Encoding", c.header)
		if got := responseEncoding(h); got != c.want {
			t.Errorf("Accept-Encoding %q: got %q, want %q", c.header, got, c.want)
		}
	}
	// Only the first header counts.
	h := http.Header{"Accept-Encoding": {"identity", "gzip"}}
	if got := responseEncoding(h); got != "" {
		t.Errorf("two headers: got %q, want the first's answer", got)
	}
}
