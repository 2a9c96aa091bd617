// Package jsonrpc is the codec of AWS's JSON RPC protocols, awsJson1_0 and
// awsJson1_1 (DynamoDB, SQS, ECS, EventBridge, CloudWatch Logs, ...): every request
// is a POST naming its operation in X-Amz-Target, with the input as a JSON object
// body. It also holds the JSON value encoding restjson shares.
package jsonrpc

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol"
)

// MaxBodySize bounds a request body the codec reads into memory. DynamoDB's largest
// requests (BatchWriteItem, 16 MB) fit well within it.
const MaxBodySize = 32 << 20

// RequestIDHeader is where the JSON protocols put the request id.
const RequestIDHeader = "X-Amzn-RequestId"

// Codec reads and writes awsJson1_0 and awsJson1_1; the service's JSONVersion
// picks the content type.
type Codec struct{}

var _ protocol.Codec = Codec{}

// New returns the awsJson codec.
func New() Codec { return Codec{} }

// Operation reads X-Amz-Target: "<TargetPrefix>.<Operation>".
func (Codec) Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error) {
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		return nil, apierr.New("UnknownOperationException", 400, "The request is missing the X-Amz-Target header naming its operation.")
	}
	prefix, name, ok := strings.Cut(target, ".")
	if !ok || prefix != svc.TargetPrefix {
		return nil, apierr.UnknownOperation(target)
	}
	op := svc.Operations()[name]
	if op == nil {
		return nil, apierr.UnknownOperation(name)
	}
	return op, nil
}

// Decode reads the JSON object body into in. An empty body is an empty input.
func (Codec) Decode(svc *awsapi.Service, op *awsapi.Operation, r *http.Request, in any) (err error) {
	defer guard(&err)
	var data []byte
	if svc != nil && svc.Quirks.RequestContentEncodings {
		data, err = readDynamoDBBody(r, maxBody(svc))
	} else {
		data, err = readBody(r, maxBody(svc))
	}
	if err != nil {
		return err
	}
	if svc != nil && svc.ID == "dynamodb" && string(bytes.TrimSpace(data)) == "null" {
		// DynamoDB takes an empty body as {}, but not a JSON null.
		return apierr.Serialization("The request body must be a JSON object, not null.")
	}
	if err := Unmarshal(data, in, Options{}); err != nil {
		return err
	}
	return protocol.CheckRequired(svc, in)
}

// ReadBody reads r's body, up to MaxBodySize, as an *apierr.Error on failure. A
// gzip Content-Encoding is undone: SDKs compress operations with the model's
// requestCompression trait (CloudWatch PutMetricData) in every protocol.
func ReadBody(r *http.Request) ([]byte, error) { return readBody(r, MaxBodySize) }

// maxBody is the largest request svc takes: DynamoDB answers 413 past
// 16 MB ("Service, account, and table quotas": maximum request size).
func maxBody(svc *awsapi.Service) int {
	if svc != nil && svc.Quirks.MaxRequestBody > 0 {
		return svc.Quirks.MaxRequestBody
	}
	return MaxBodySize
}

func readBody(r *http.Request, limit int) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var body io.Reader = r.Body
	if enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, apierr.Serialization("The request body is not valid gzip.")
		}
		defer zr.Close()
		body = zr
	}
	data, err := readAll(&io.LimitedReader{R: body, N: int64(limit) + 1}, r.ContentLength, limit)
	if e := apierr.As(err); e != nil {
		// The body did not arrive whole (cut short, timed out, over the
		// service's limit): the server's error, not a serialization one.
		return nil, e
	}
	if err != nil {
		if r.Header.Get("Content-Encoding") != "" {
			return nil, apierr.Serialization("The request body is not valid gzip.")
		}
		return nil, apierr.Serialization("The request body could not be read.")
	}
	if len(data) > limit {
		return nil, apierr.New("RequestEntityTooLargeException", http.StatusRequestEntityTooLarge, "The request body is larger than %d bytes.", limit)
	}
	return data, nil
}

// readAll is io.ReadAll of rd starting from a buffer of the declared length
// (when there is one within limit), so a body is read into one allocation
// rather than grown into from 512 bytes. rd is a concrete *io.LimitedReader,
// read only by its own method here, so the caller's stays on its stack.
func readAll(rd *io.LimitedReader, declared int64, limit int) ([]byte, error) {
	if declared <= 0 || declared > int64(limit) {
		return io.ReadAll(io.LimitReader(rd.R, rd.N))
	}
	b := make([]byte, 0, declared+1) // +1: the read that finds the end
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as io.ReadAll would
		}
	}
}

// readDynamoDBBody reads a DynamoDB request's body, decoded as DynamoDB
// decodes it (decodedBody), up to limit bytes decoded.
func readDynamoDBBody(r *http.Request, limit int) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, done, err := decodedBody(r)
	if err != nil {
		return nil, err
	}
	defer done()
	data, err := readAll(&io.LimitedReader{R: body, N: int64(limit) + 1}, r.ContentLength, limit)
	if e := apierr.As(err); e != nil {
		return nil, e
	}
	if err != nil {
		if r.Header.Get("Content-Encoding") != "" {
			return nil, apierr.New("InternalServerError", http.StatusInternalServerError, "Internal server error")
		}
		return nil, apierr.Serialization("The request body could not be read.")
	}
	if len(data) > limit {
		return nil, apierr.New("RequestEntityTooLargeException", http.StatusRequestEntityTooLarge, "The request body is larger than %d bytes.", limit)
	}
	return data, nil
}

// guard turns a panic while decoding into a SerializationException. It is the last
// line of defence, not the first: decoders check their input.
func guard(err *error) {
	if p := recover(); p != nil {
		*err = apierr.Serialization("The request could not be deserialized (%v).", p)
	}
}

// ContentType is the response content type for svc's JSON version.
func ContentType(svc *awsapi.Service) string {
	v := "1.0"
	if svc != nil && svc.JSONVersion != "" {
		v = svc.JSONVersion
	}
	switch v { // the two there are, without building them on every response
	case "1.0":
		return "application/x-amz-json-1.0"
	case "1.1":
		return "application/x-amz-json-1.1"
	}
	return "application/x-amz-json-" + v
}

// requestIDKey is RequestIDHeader as a header map holds it.
var requestIDKey = http.CanonicalHeaderKey(RequestIDHeader)

// Encode writes out as a JSON object; an operation without output answers "{}",
// or for DynamoDB (TagResource, UntagResource) nothing at all, as it does.
func (Codec) Encode(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, op *awsapi.Operation, out any, requestID string) error {
	body := []byte("{}")
	if op.NewOutput == nil && svc != nil && svc.Quirks.EmptyBodyWithoutOutput {
		body = nil
	} else if out != nil && !(reflect.ValueOf(out).Kind() == reflect.Pointer && reflect.ValueOf(out).IsNil()) {
		b := encodeBuffers.Get().(*bytes.Buffer)
		defer putEncodeBuffer(b)
		if err := encodeValue(b, reflect.ValueOf(out), "", Options{}); err != nil {
			e := apierr.Internal()
			Codec{}.EncodeError(w, r, svc, e, requestID)
			return fmt.Errorf("encode %s output: %w", op.Name, err)
		}
		body = b.Bytes()
	}
	h := w.Header()
	if svc != nil && svc.Quirks.CompressResponses {
		body = compressResponse(h, r, body)
	}
	// What h.Set would do, with the three values in one allocation rather
	// than one each (capped, so that an Add cannot write into the next).
	vals := [...]string{ContentType(svc), strconv.Itoa(len(body)), requestID}
	v := vals[:]
	h["Content-Type"], h["Content-Length"], h[requestIDKey] = v[0:1:1], v[1:2:2], v[2:3:3]
	setCRC32(h, svc, body) // of the bytes sent, compressed or not, as DynamoDB's
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// encodeBuffers holds the buffers responses are encoded into: each is done
// with once the response is written, and a Query's answer would otherwise
// grow a new one through several sizes every time.
var encodeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putEncodeBuffer returns b to the pool, unless it grew past what most
// responses need (one large answer should not pin its memory).
func putEncodeBuffer(b *bytes.Buffer) {
	if b.Cap() <= 256<<10 {
		b.Reset()
		encodeBuffers.Put(b)
	}
}

// setCRC32 adds the x-amz-crc32 header DynamoDB puts on every response: its SDKs
// check the body against it (a missing header reads as 0 and logs a mismatch).
func setCRC32(h http.Header, svc *awsapi.Service, body []byte) {
	if svc != nil && svc.Quirks.CRC32Header {
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	}
}

// EncodeError writes e as awsJson does: {"__type": ..., "message": ...} with the
// type repeated in x-amzn-ErrorType, and for awsQueryCompatible services the query
// error code in x-amzn-query-error.
func (Codec) EncodeError(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, e *apierr.Error, requestID string) {
	info := ResolveError(svc, e)
	body := ErrorBody(info, e, true)
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	h.Set("Content-Type", ContentType(svc))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(RequestIDHeader, requestID)
	h.Set("X-Amzn-ErrorType", info.Name)
	if info.QueryError != "" {
		h.Set("X-Amzn-Query-Error", info.QueryError)
	}
	setCRC32(h, svc, body)
	w.WriteHeader(info.Status)
	_, _ = w.Write(body)
}
