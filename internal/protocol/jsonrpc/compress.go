package jsonrpc

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// compressThreshold is the response size past which DynamoDB compresses a
// response for a client that accepts gzip or deflate.
const compressThreshold = 4096

// responseEncoding picks gzip, deflate or nothing ("") for a response from
// the request's Accept-Encoding, as DynamoDB reads it: only the first
// Accept-Encoding header counts; elements are compared without regard to
// case; an element whose name holds anything but a token is ignored; its
// quality is the first parameter holding "q=", a value that does not parse
// counting as 1, and values are clamped to [0, 1]; identity is ignored; "*"
// stands for an encoding the header does not name. The highest quality
// wins, then an encoding named over one matched by "*", then the one named
// first, then gzip.
func responseEncoding(h http.Header) string {
	values := h.Values("Accept-Encoding")
	if len(values) == 0 {
		return ""
	}
	type choice struct {
		q        float64
		pos      int
		explicit bool
		set      bool
	}
	var gz, df, wild choice
	for pos, elem := range strings.Split(values[0], ",") {
		parts := strings.Split(elem, ";")
		name := strings.ToLower(strings.TrimSpace(parts[0]))
		if name == "" || strings.ContainsAny(name, " \t\"':=") {
			continue
		}
		q := 1.0
		for _, param := range parts[1:] {
			_, v, ok := strings.Cut(param, "q=")
			if !ok {
				continue
			}
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = min(max(f, 0), 1)
			}
			break
		}
		var c *choice
		switch name {
		case "gzip":
			c = &gz
		case "deflate":
			c = &df
		case "*":
			c = &wild
		default:
			continue
		}
		if !c.set {
			*c = choice{q: q, pos: pos, explicit: name != "*", set: true}
		} else if q > c.q {
			c.q = q
		}
	}
	if !gz.set && wild.set {
		gz = wild
	}
	if !df.set && wild.set {
		df = wild
	}
	better := func(a, b choice) bool { // a strictly before b
		if a.q != b.q {
			return a.q > b.q
		}
		if a.explicit != b.explicit {
			return a.explicit
		}
		return a.pos < b.pos
	}
	switch {
	case gz.set && gz.q > 0 && (!df.set || df.q == 0 || !better(df, gz)):
		return "gzip"
	case df.set && df.q > 0:
		return "deflate"
	}
	return ""
}

// compressResponse compresses body as the request accepts, when it is large
// enough for DynamoDB to bother, and sets Content-Encoding.
func compressResponse(h http.Header, r *http.Request, body []byte) []byte {
	if r == nil || len(body) <= compressThreshold {
		return body
	}
	enc := responseEncoding(r.Header)
	if enc == "" {
		return body
	}
	var buf bytes.Buffer
	var w io.WriteCloser
	if enc == "gzip" {
		w = gzip.NewWriter(&buf)
	} else {
		w = zlib.NewWriter(&buf)
	}
	if _, err := w.Write(body); err != nil {
		return body
	}
	if err := w.Close(); err != nil {
		return body
	}
	h.Set("Content-Encoding", enc)
	return buf.Bytes()
}

// decodedBody undoes a DynamoDB request's Content-Encoding. DynamoDB takes
// gzip (several members in a row too) and deflate (zlib), and answers any
// other encoding, and a body that does not decode, with a 500
// InternalServerError: odd, since it invites a retry, but what it does.
func decodedBody(r *http.Request) (io.Reader, func(), error) {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	undecodable := apierr.New("InternalServerError", http.StatusInternalServerError, "Internal server error")
	switch enc {
	case "", "identity":
		return r.Body, func() {}, nil
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, nil, undecodable
		}
		return zr, func() { _ = zr.Close() }, nil
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, nil, undecodable
		}
		return zr, func() { _ = zr.Close() }, nil
	}
	return nil, nil, undecodable
}
