package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// maxChunkLine bounds a chunk header or trailer line, so a client cannot make
// the reader buffer without limit. A signed chunk header is about 90 bytes.
const maxChunkLine = 4096

// crc64NVME is CRC-64/NVME, the reflected form of polynomial 0xAD93D23594C93659,
// which S3 calls CRC64NVME ("Checking object integrity" in the S3 user guide).
// The tables are made on first use: the CRC-64 one is 16 KiB computed at each
// MakeTable, and most requests carry no checksum.
var crc64NVME = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(0x9a6c9329ac4bc9b5) })

var crc32c = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// newChecksum returns the hash S3 means by algorithm alg ("crc32", "crc32c",
// "sha1", "sha256", "crc64nvme"), or nil. Its Sum is big-endian, and S3 sends it
// base64-encoded.
func newChecksum(alg string) hash.Hash {
	switch alg {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32c())
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "crc64nvme":
		return crc64.New(crc64NVME())
	}
	return nil
}

const checksumPrefix = "x-amz-checksum-"

// Body returns r's payload decoded. For aws-chunked payloads (x-amz-content-sha256 of
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] or STREAMING-UNSIGNED-PAYLOAD-TRAILER)
// the reader yields the decoded bytes, checks each chunk signature when c is
// non-nil and secret is not empty, checks x-amz-decoded-content-length and the
// trailing x-amz-checksum-* at EOF, and then stores the trailing headers in
// r.Trailer. For a hex x-amz-content-sha256 it checks the digest at EOF. A
// mismatch is an *apierr.Error returned from Read. Other payloads are returned as
// they are.
//
// The reader yields a chunk's bytes before the chunk's signature is checked, so
// that memory does not grow with the chunk size: a consumer must not commit what
// it read until Read has returned io.EOF.
func Body(r *http.Request, c *Credential, secret string) (io.ReadCloser, error) {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	mode := r.Header.Get("X-Amz-Content-Sha256")
	switch mode {
	case "", UnsignedPayload:
		return body, nil
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer:
		return newChunkReader(r, body, c, secret, mode)
	}
	if isHexSHA256(mode) {
		return &digestReader{src: body, want: strings.ToLower(mode), h: sha256.New()}, nil
	}
	if strings.HasPrefix(mode, "STREAMING-") {
		return nil, apierr.New("InvalidArgument", 400, "x-amz-content-sha256 %s is not supported.", mode)
	}
	return body, nil
}

// digestReader checks a body against its x-amz-content-sha256 at EOF.
type digestReader struct {
	src  io.ReadCloser
	want string
	h    hash.Hash
	err  error
}

func (d *digestReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.src.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != d.want {
			e := apierr.New("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed.")
			e.Fields = map[string]any{"ClientComputedContentSHA256": d.want, "S3ComputedContentSHA256": got}
			d.err = e
			return n, e
		}
		d.err = io.EOF
	}
	return n, err
}

func (d *digestReader) Close() error { return d.src.Close() }

// chunkReader decodes aws-chunked framing ("Transferring Payload in Multiple
// Chunks" and "Signature calculations for trailing headers" in the S3 API
// reference):
//
//	signed:   <hex-size>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//	unsigned: <hex-size>\r\n<data>\r\n ... 0\r\n
//
// followed, in the trailer modes, by "name:value\r\n" lines (and for signed
// trailers an x-amz-trailer-signature line), and a final empty line.
type chunkReader struct {
	req    *http.Request
	src    *bufio.Reader
	closer io.Closer

	signed  bool // chunk headers carry chunk-signature
	trailer bool // trailing headers follow the last chunk
	verify  bool // chunk and trailer signatures are checked
	key     []byte
	amzDate string
	scope   string
	prev    string // signature of the previous chunk; the seed signature first

	chunk   hash.Hash // sha256 of the current chunk's data
	sigOfCh string    // the current chunk's claimed signature
	sums    map[string]hash.Hash
	left    int64
	inChunk bool
	decoded int64
	want    int64 // x-amz-decoded-content-length, or -1
	err     error
}

func newChunkReader(r *http.Request, body io.ReadCloser, c *Credential, secret, mode string) (*chunkReader, error) {
	cr := &chunkReader{
		req:     r,
		src:     bufio.NewReaderSize(body, maxChunkLine),
		closer:  body,
		signed:  mode != StreamingUnsignedTrailer,
		trailer: mode != StreamingPayload,
		chunk:   sha256.New(),
		sums:    map[string]hash.Hash{},
		want:    -1,
	}
	if cr.signed && c != nil && secret != "" {
		cr.verify = true
		cr.key = signingKey(secret, c.Date, c.Region, c.Service)
		cr.amzDate = c.Time.UTC().Format(timeFormat)
		cr.scope = c.scope()
		cr.prev = c.Signature
	}
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, apierr.New("InvalidArgument", 400, "x-amz-decoded-content-length must be a non-negative integer.")
		}
		cr.want = n
	}
	// Hash with every checksum the client announced, so its trailer can be checked
	// without buffering the body.
	announced := r.Header.Values("X-Amz-Trailer")
	if alg := r.Header.Get("X-Amz-Sdk-Checksum-Algorithm"); alg != "" {
		announced = append(announced, checksumPrefix+alg)
	}
	for _, v := range announced {
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if !strings.HasPrefix(name, checksumPrefix) {
				continue
			}
			h := newChecksum(strings.TrimPrefix(name, checksumPrefix))
			if h == nil {
				return nil, apierr.New("InvalidRequest", 400, "The value specified in the x-amz-trailer header is not supported")
			}
			cr.sums[name] = h
		}
	}
	return cr, nil
}

func (cr *chunkReader) Close() error { return cr.closer.Close() }

func (cr *chunkReader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	for cr.left == 0 {
		if err := cr.next(); err != nil {
			cr.err = err
			return 0, err
		}
	}
	if int64(len(p)) > cr.left {
		p = p[:cr.left]
	}
	n, err := cr.src.Read(p)
	if n > 0 {
		cr.chunk.Write(p[:n])
		for _, h := range cr.sums {
			h.Write(p[:n])
		}
		cr.left -= int64(n)
		cr.decoded += int64(n)
	}
	if err != nil {
		if err == io.EOF {
			err = truncated()
		}
		cr.err = err
		if n > 0 {
			return n, nil
		}
		return 0, err
	}
	return n, nil
}

// next finishes the current chunk and reads the next chunk header; at the last
// chunk it reads and checks the trailer and returns io.EOF.
func (cr *chunkReader) next() error {
	if cr.inChunk {
		if err := cr.expectCRLF(); err != nil {
			return err
		}
		if err := cr.checkChunk(); err != nil {
			return err
		}
		cr.inChunk = false
	}
	line, err := cr.line()
	if err == errNoLine {
		return truncated()
	}
	if err != nil {
		return err
	}
	sizeText, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
	if err != nil || size < 0 {
		return malformed("invalid chunk size %q", sizeText)
	}
	cr.sigOfCh = ""
	if cr.signed {
		name, sig, ok := strings.Cut(ext, "=")
		if !ok || strings.TrimSpace(name) != "chunk-signature" {
			if cr.verify {
				return malformed("chunk header without chunk-signature")
			}
		}
		cr.sigOfCh = strings.ToLower(strings.TrimSpace(sig))
	}
	cr.chunk.Reset()
	if size == 0 {
		if err := cr.checkChunk(); err != nil {
			return err
		}
		if err := cr.finish(); err != nil {
			return err
		}
		return io.EOF
	}
	cr.left = size
	cr.inChunk = true
	return nil
}

// checkChunk checks the current chunk's signature (its data is in cr.chunk).
func (cr *chunkReader) checkChunk() error {
	if !cr.verify {
		return nil
	}
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + cr.amzDate + "\n" + cr.scope + "\n" + cr.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(cr.chunk.Sum(nil))
	want := hex.EncodeToString(hmacSHA256(cr.key, sts))
	if !hmac.Equal([]byte(want), []byte(cr.sigOfCh)) {
		return apierr.New("SignatureDoesNotMatch", 403, "The chunk signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	cr.prev = want
	return nil
}

// finish reads the trailing headers and the final empty line, and checks the
// decoded length, the trailer signature and the checksums.
func (cr *chunkReader) finish() error {
	var text strings.Builder // canonical trailer, as signed
	var names, values []string
	trailerSig := ""
	for {
		line, err := cr.line()
		if err == errNoLine {
			break // a missing final CRLF is tolerated
		}
		if err != nil {
			return err
		}
		if line == "" {
			break
		}
		if !cr.trailer {
			return malformed("unexpected data after the last chunk")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return malformedTrailer()
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			trailerSig = strings.ToLower(value)
			continue
		}
		names, values = append(names, name), append(values, value)
		text.WriteString(name + ":" + value + "\n")
	}
	if _, err := cr.src.ReadByte(); err != io.EOF {
		if err != nil {
			return err
		}
		return malformed("unexpected data after the trailer")
	}
	if cr.want >= 0 && cr.decoded != cr.want {
		return apierr.New("IncompleteBody", 400, "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header")
	}
	if cr.verify && cr.trailer {
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + cr.amzDate + "\n" + cr.scope + "\n" + cr.prev + "\n" + sha256Hex([]byte(text.String()))
		want := hex.EncodeToString(hmacSHA256(cr.key, sts))
		if !hmac.Equal([]byte(want), []byte(trailerSig)) {
			return apierr.New("SignatureDoesNotMatch", 403, "The trailer signature we calculated does not match the signature you provided. Check your key and signing method.")
		}
	}
	seen := map[string]bool{}
	for i, name := range names {
		if !strings.HasPrefix(name, checksumPrefix) {
			continue
		}
		alg := strings.TrimPrefix(name, checksumPrefix)
		h := cr.sums[name]
		if h == nil {
			// A checksum nobody announced was not computed while streaming.
			return malformedTrailer()
		}
		seen[name] = true
		if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != values[i] {
			return apierr.New("BadDigest", 400, "The %s you specified did not match the calculated checksum.", strings.ToUpper(alg))
		}
	}
	if cr.trailer {
		for name := range cr.sums {
			if !seen[name] {
				return malformedTrailer()
			}
		}
	}
	if len(names) > 0 {
		if cr.req.Trailer == nil {
			cr.req.Trailer = http.Header{}
		}
		for i, name := range names {
			cr.req.Trailer.Set(name, values[i])
		}
	}
	return nil
}

var errNoLine = errors.New("no line")

// line reads one CRLF- (or LF-) terminated line without its terminator. At a
// clean EOF before any byte it returns errNoLine.
func (cr *chunkReader) line() (string, error) {
	b, err := cr.src.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", malformed("line too long")
	case err == io.EOF && len(b) == 0:
		return "", errNoLine
	case err == io.EOF:
		return "", truncated()
	case err != nil:
		return "", err
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte{'\r'})
	return string(b), nil
}

func (cr *chunkReader) expectCRLF() error {
	l, err := cr.line()
	if err == errNoLine {
		return truncated()
	}
	if err != nil {
		return err
	}
	if l != "" {
		return malformed("chunk data longer than its size")
	}
	return nil
}

func truncated() *apierr.Error {
	return apierr.New("IncompleteBody", 400, "The request body terminated unexpectedly")
}

func malformed(format string, args ...any) *apierr.Error {
	return apierr.New("InvalidRequest", 400, "Invalid aws-chunked encoding: "+format, args...)
}

func malformedTrailer() *apierr.Error {
	return apierr.New("MalformedTrailerError", 400, "The request contained trailing data that was not well-formed or did not conform to our published schema.")
}
