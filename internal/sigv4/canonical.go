package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// emptySHA256 is the sha256 of no bytes, the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// maxHashedBody bounds the body Verify buffers to hash. Only requests without an
// x-amz-content-sha256 header are hashed here (S3 always sends the header), and
// the other services' request bodies are a few megabytes at most.
const maxHashedBody = 64 << 20

// isHexSHA256 reports whether v is a SHA-256 digest in hex: 64 hex digits
// (a loop, not the regular expression ^[0-9a-fA-F]{64}$, whose program is
// large to compile at start and slower to run on every request).
func isHexSHA256(v string) bool {
	if len(v) != 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// buildCanonical returns the canonical request of "Create a canonical request"
// (Signature Version 4 signing process) for r, with the given canonical URI and
// payload hash.
func buildCanonical(r *http.Request, c *Credential, uri, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, c.Presigned))
	b.WriteByte('\n')
	for _, h := range c.SignedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(c.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is the canonical value of header h: every value trimmed, inner
// runs of whitespace collapsed to one space, values joined by commas.
func headerValue(r *http.Request, h string) string {
	var vals []string
	switch h {
	case "host":
		// net/http moves Host out of the header map.
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		vals = []string{host}
	default:
		vals = r.Header.Values(h)
		if len(vals) == 0 {
			// net/http may consume these into fields of the request.
			switch h {
			case "content-length":
				if r.ContentLength >= 0 {
					vals = []string{strconv.FormatInt(r.ContentLength, 10)}
				}
			case "transfer-encoding":
				if len(r.TransferEncoding) > 0 {
					vals = []string{strings.Join(r.TransferEncoding, ",")}
				}
			}
		}
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalQuery decodes every name and value of raw, encodes them the SigV4 way
// and sorts them by name, then value. A presigned URL's X-Amz-Signature is left
// out: it cannot sign itself.
func canonicalQuery(raw string, presigned bool) string {
	type pair struct{ k, v string }
	var pairs []pair
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{escape(k, true), escape(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// canonicalURIs returns the canonical URIs a client may have signed r's path as,
// the most likely first.
//
// S3 signs the path as sent, encoded once ("Signature Calculations for the
// Authorization Header" in the S3 API reference): we decode each segment and
// re-encode it, which is what every SDK sends, and also try the path exactly as
// received for clients that leave sub-delimiters unencoded. Every other service
// encodes the already-encoded path a second time; botocore also removes dot
// segments and empty segments first, aws-sdk-go-v2 does not, so both are tried.
func canonicalURIs(r *http.Request, service string) []string {
	raw := wirePath(r)
	if raw == "" {
		raw = "/"
	}
	if service == "s3" {
		segs := strings.Split(raw, "/")
		for i, s := range segs {
			if u, err := url.PathUnescape(s); err == nil {
				s = u
			}
			segs[i] = escape(s, true)
		}
		norm := strings.Join(segs, "/")
		if norm == raw {
			return []string{norm}
		}
		return []string{norm, raw}
	}
	a := escape(raw, false)
	b := escape(removeDotSegments(raw), false)
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// wirePath is r's path as the client sent it, still encoded.
func wirePath(r *http.Request) string {
	if p := r.RequestURI; p != "" {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if strings.HasPrefix(p, "/") {
			return p
		}
		if u, err := url.Parse(p); err == nil && u.Path != "" {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}

// removeDotSegments is RFC 3986 section 5.2.4, also dropping empty segments, as
// botocore normalizes the path of services other than S3.
func removeDotSegments(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	res := strings.Join(out, "/")
	if p[0] == '/' {
		res = "/" + res
	}
	if len(out) > 0 && p[len(p)-1] == '/' {
		res += "/"
	}
	return res
}

// escape is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ becomes
// %XX (uppercase hex); '/' too when encodeSlash.
func escape(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// payloadHashes returns, lazily, the payload hashes the client may have signed.
func payloadHashes(r *http.Request, c *Credential) ([]func() (string, error), error) {
	fixed := func(s string) func() (string, error) { return func() (string, error) { return s, nil } }
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		if c.Service == "s3" && !validContentSHA256(v) {
			return nil, apierr.New("InvalidArgument", 400, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.")
		}
		return []func() (string, error){fixed(v)}, nil
	}
	var (
		done bool
		sum  string
		err  error
	)
	body := func() (string, error) {
		if !done {
			done = true
			sum, err = hashBody(r)
		}
		return sum, err
	}
	if c.Presigned {
		if v := r.URL.Query().Get("X-Amz-Content-Sha256"); v != "" {
			return []func() (string, error){fixed(v)}, nil
		}
		// S3 presigns UNSIGNED-PAYLOAD; botocore presigns other services over the
		// body's hash.
		return []func() (string, error){fixed(UnsignedPayload), body}, nil
	}
	return []func() (string, error){body}, nil
}

func validContentSHA256(v string) bool {
	switch v {
	case UnsignedPayload, StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer:
		return true
	}
	return isHexSHA256(v)
}

// hashBody returns the hex sha256 of r's body and puts an unread copy back in
// r.Body for the codec.
func hashBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxHashedBody+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxHashedBody {
		return "", apierr.New("RequestEntityTooLarge", 413, "Request body is too large to verify its signature.")
	}
	r.Body = restored{bytes.NewReader(b), r.Body}
	return sha256Hex(b), nil
}

type restored struct {
	io.Reader
	io.Closer
}
