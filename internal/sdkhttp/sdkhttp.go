// Package sdkhttp holds the HTTP client wharf's own Go programs (tests and
// benchmarks) give aws-sdk-go-v2, to step around a race between the SDK and
// net/http that a server as quick as wharf on loopback makes frequent.
//
// smithy-go (v1.28.9, the newest) wraps a request body so that its WriteTo
// returns io.EOF once the SDK has closed it, which the SDK does as soon as
// the response headers arrive. net/http's writeLoop, after sending
// ContentLength bytes, copies the body to io.Discard to check for extra
// bytes; io.Copy takes WriteTo, and when the server has already answered,
// the io.EOF is taken for a failed body read and the connection is closed
// under the response being read: "deserialization failed ... use of closed
// network connection", from any server alike (bench/peers saw it from its
// null server too). A body that is only a Reader and a Closer returns io.EOF
// from Read after Close, which net/http expects.
package sdkhttp

import (
	"io"
	"net/http"
)

// Client returns an HTTP client whose transport hides request bodies'
// WriteTo from rt (http.DefaultTransport's clone when rt is nil).
func Client(rt http.RoundTripper) *http.Client {
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &http.Client{Transport: plainBody{rt}}
}

// plainBody is a RoundTripper handing rt a shallow copy of each request
// whose body is an io.ReadCloser and nothing else.
type plainBody struct{ rt http.RoundTripper }

func (p plainBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		c := *r // a RoundTripper must not modify the request it is given
		c.Body = readCloser{r.Body}
		r = &c
	}
	return p.rt.RoundTrip(r)
}

// readCloser is an io.ReadCloser and nothing else.
type readCloser struct{ io.ReadCloser }
