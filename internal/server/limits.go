package server

import (
	"net/http"
	"strconv"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// bodyLimits are the largest request bodies services accept, as AWS documents
// them, checked against the declared length before anything is read and, for
// streamed bodies, as bytes arrive. Services not listed are bounded by their
// codec's cap on the bodies it buffers (internal/protocol) and by their own
// limits on what a request holds (an SQS message, an SNS message, a PutEvents
// entry).
var bodyLimits = map[string]*bodyLimit{
	// PutObject: "Upload a single object up to 5 GB"; larger objects need a
	// multipart upload, whose parts are 5 GiB at most too (Amazon S3 multipart
	// upload limits).
	"s3": {max: 5 << 30, code: "EntityTooLarge", status: 400, msg: "Your proposed upload exceeds the maximum allowed size",
		fields: func(max int64) map[string]any { return map[string]any{"MaxSizeAllowed": strconv.FormatInt(max, 10)} }},
	// "The maximum size of an HTTP request to DynamoDB is 16 MB" (Service,
	// account, and table quotas in Amazon DynamoDB); DynamoDB's front end answers
	// a larger one with 413.
	"dynamodb": {max: 16 << 20, stream: true, code: "RequestEntityTooLargeException", status: http.StatusRequestEntityTooLarge,
		msg: "Request Entity Too Large: the request is larger than the 16 MB DynamoDB accepts."},
}

// declaredLength is the length r says its payload has: for aws-chunked bodies
// the decoded length, else Content-Length (-1 when unknown).
func declaredLength(r *http.Request) int64 {
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return r.ContentLength
}

// maxS3HeaderSection is the largest request header section S3 takes: "The
// PUT request header is limited to 8 KB in size" ("Working with object
// metadata" in the S3 user guide). S3 answers a larger one, whatever its
// method, 400 RequestHeaderSectionTooLarge naming the limit, before looking
// at its signature.
const maxS3HeaderSection = 8192

// headerSectionTooLarge is S3's answer to a header section over the limit,
// in the words its responses carry.
func headerSectionTooLarge() *apierr.Error {
	return apierr.New("RequestHeaderSectionTooLarge", http.StatusBadRequest, "Your request header section exceeds the maximum allowed size.").
		WithFields(map[string]any{"MaxSizeAllowed": strconv.Itoa(maxS3HeaderSection)})
}

// headerSectionSize is the size of r's header section as its client sent it:
// every field line, "Name: value\r\n", Host's included, and not the request
// line. AWS does not document how it counts; this is the header section as
// HTTP defines it (RFC 9112), so that wharf refuses no request whose header
// lines fit in 8 KB.
func headerSectionSize(r *http.Request) int {
	n := 0
	if r.Host != "" {
		n += len("Host: \r\n") + len(r.Host)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	for _, te := range r.TransferEncoding {
		n += len("Transfer-Encoding: \r\n") + len(te)
	}
	return n
}
