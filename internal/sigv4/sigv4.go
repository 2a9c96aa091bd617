// Package sigv4 parses and verifies AWS Signature Version 4 on incoming requests:
// the Authorization header, presigned URLs (X-Amz-* query parameters) and
// streaming aws-chunked payloads with their chunk signatures and trailing checksums.
//
// The server calls Parse to learn who a request claims to be (and which service and
// region its credential scope names), looks up the secret for the access key, calls
// Verify, and reads the payload through Body. Every error returned is an
// *apierr.Error carrying AWS's code and status.
package sigv4

import (
	"io"
	"net/http"
	"time"
)

// Algorithm is the only signing algorithm wharf accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Special x-amz-content-sha256 values ("Signature Calculations for the
// Authorization Header" and "Transferring Payload in Multiple Chunks" docs).
const (
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// MaxPresignExpires is the longest X-Amz-Expires AWS accepts: seven days.
const MaxPresignExpires = 7 * 24 * time.Hour

// MaxSkew is how far a header-signed request's time may be from the server's clock.
const MaxSkew = 15 * time.Minute

// Credential is what a request claims: from the Authorization header, or the
// X-Amz-Credential query parameters of a presigned URL.
type Credential struct {
	AccessKey     string
	Date          string // YYYYMMDD from the credential scope
	Region        string
	Service       string // signing name: "s3", "sqs", "monitoring"
	SignedHeaders []string
	Signature     string // lowercase hex
	Presigned     bool
	Time          time.Time     // X-Amz-Date (or Date) of the request
	Expires       time.Duration // X-Amz-Expires of a presigned URL; zero for header auth
	SecurityToken string        // X-Amz-Security-Token, header or query
}

// Parse returns the credential r claims, or (nil, nil) when r is not signed.
func Parse(r *http.Request) (*Credential, error) {
	panic("not yet")
}

// Verify checks that c's signature is r's signature under secret, and that r's
// time is acceptable at now. When the payload hash is the body's own sha256
// (no x-amz-content-sha256 header), Verify reads the body and restores r.Body.
func Verify(r *http.Request, c *Credential, secret string, now time.Time) error {
	panic("not yet")
}

// Body returns r's payload decoded. For aws-chunked payloads (x-amz-content-sha256 of
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] or STREAMING-UNSIGNED-PAYLOAD-TRAILER)
// the reader yields the decoded bytes, checks each chunk signature when c is
// non-nil and secret is not empty, and checks the trailing x-amz-checksum-* at EOF.
// For a hex x-amz-content-sha256 it checks the digest at EOF. A mismatch is an
// *apierr.Error returned from Read. Other payloads are returned as they are.
func Body(r *http.Request, c *Credential, secret string) (io.ReadCloser, error) {
	panic("not yet")
}
