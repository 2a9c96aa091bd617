package server

import (
	"net/http"
	"strings"
)

// continueEmptyBody sends 100 Continue to an HTTP/1.1 request that asked for it
// (Expect: 100-continue) but declares an empty body.
//
// net/http sends 100 Continue only when a handler first reads a non-empty body,
// so a request with Content-Length: 0 got its final response without one. That
// is allowed by RFC 9110, but botocore (boto3, aws CLI v1) then keeps the early
// final status line as the status of the next response on the connection, and
// reads that next response's real status line as a header: the headers are lost,
// the response has no length, and the client waits for its read timeout (60 s)
// before retrying. S3 answers every 100-continue request with 100 Continue, so
// empty PUTs ("folder" markers) never hit this there. Sending it costs nothing.
//
// Expectations other than 100-continue never reach a handler: net/http answers
// them with 417 Expectation Failed and closes the connection, as RFC 9110 allows.
func continueEmptyBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 || !r.ProtoAtLeast(1, 1) || !expectsContinue(r) {
		return
	}
	w.WriteHeader(http.StatusContinue)
}

// expectsContinue reports whether r's Expect header holds the 100-continue token
// (the value is case-insensitive).
func expectsContinue(r *http.Request) bool {
	for _, v := range r.Header.Values("Expect") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "100-continue") {
				return true
			}
		}
	}
	return false
}
