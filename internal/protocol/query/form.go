package query

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// A query request's parameters are read here rather than by net/http's
// ParseForm, which builds two maps of slices (PostForm and Form) and
// allocates every name and value: for a SendMessageBatch that was a fifth of
// the request's allocations. The body is read once into one string; a name
// or value without escapes is a substring of it, and the parameters go
// straight into the decoder's index. What is accepted and refused is
// ParseForm's: the body is read for POST, PUT and PATCH with a form content
// type, the URL query is added after it (the body's value of a name wins),
// and a bad escape or a semicolon anywhere is an error.

// maxParams is net/url's default limit on the parameters of one query
// (ParseQuery refuses more).
const maxParams = 10000

// formBody stands in for a request's body once the codec has read it, so that
// Decode finds what Operation parsed. It reads as empty, as a consumed body does.
// It holds the parameters in itself: one allocation fewer than a pointer.
type formBody struct{ p params }

func (*formBody) Read([]byte) (int, error) { return 0, io.EOF }
func (*formBody) Close() error             { return nil }

// requestParams returns r's parameters, parsing them on the first call.
func requestParams(r *http.Request) (*params, error) {
	if fb, ok := r.Body.(*formBody); ok {
		return &fb.p, nil
	}
	if r.Form != nil {
		// The front door read the form already (an unsigned query request).
		fb := &formBody{p: *newParams(r.Form)}
		r.Body = fb
		return &fb.p, nil
	}
	buf := bodies.Get().(*[]byte)
	defer putBody(buf)
	body := (*buf)[:0]
	var bodyErr error
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		form, err := isForm(r.Header.Get("Content-Type"))
		switch {
		case r.Body == nil:
			bodyErr = formError("query: missing form body")
		case err != nil:
			bodyErr = err
		case form:
			b, err := readBody(r, body)
			if err != nil {
				if e := apierr.As(err); e != nil {
					return nil, e // the body did not arrive whole
				}
				return nil, malformed()
			}
			body = b
		}
	}
	fb := &formBody{}
	err := parseParams(&fb.p, body, r.URL.RawQuery)
	*buf = body
	if err != nil || bodyErr != nil {
		return nil, malformed()
	}
	r.Body = fb
	return &fb.p, nil
}

func malformed() error {
	return &apierr.Error{Code: "MalformedQueryString", Status: 400, Message: "The query string contains a syntax error."}
}

// isForm reports whether a body of content type ct is a form, as ParseForm
// decides it (mime.ParseMediaType, an empty type being
// application/octet-stream), without parsing the common spellings.
func isForm(ct string) (bool, error) {
	const form = "application/x-www-form-urlencoded"
	if ct == form || ct == form+"; charset=utf-8" || ct == form+"; charset=UTF-8" {
		return true, nil
	}
	if ct == "" {
		return false, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	return mt == form, err
}

// readBody appends r's body, whole, to b, up to maxForm bytes, sized by
// its Content-Length when it has one.
func readBody(r *http.Request, b []byte) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= maxForm {
		b = slices.Grow(b, int(n)+1) // +1: room to see the end without growing
	}
	for {
		if len(b) == cap(b) {
			b = slices.Grow(b, 4096)
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > maxForm {
			return nil, errFormTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// bodies holds the buffers forms are read and unescaped in: the parameters
// are copied out of one as a single string.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// putBody returns b to the pool unless a large body grew it.
func putBody(b *[]byte) {
	if cap(*b) > 64<<10 {
		return
	}
	*b = (*b)[:0]
	bodies.Put(b)
}

type formError string

func (e formError) Error() string { return string(e) }

const errFormTooLarge = formError("query: form body too large")

// parseParams reads the parameters of a form body and then those of a URL
// query. It reads every pair even after an error, as url.ParseQuery does,
// and returns the first error. body is the caller's buffer: names and values
// are unescaped in place, each written over its own escaped form (never
// longer), and the parameters are substrings of one copy of the result.
// They go into p.
func parseParams(p *params, body []byte, query string) error {
	var err error
	if bytes.Count(body, []byte("&"))+1 > maxParams || strings.Count(query, "&")+1 > maxParams {
		err = formError("query: too many parameters")
	}
	// A small form's spans stay on the stack (a SendMessage has five
	// parameters); only the parameters themselves are kept.
	var small [16]span
	spans := small[:0]
	if len(body) > 0 {
		n := bytes.Count(body, []byte("&")) + 1
		if query != "" {
			n += strings.Count(query, "&") + 1
		}
		if n > len(small) {
			spans = make([]span, 0, n)
		}
	}
	w := 0
	spans, w, e1 := unescapeForm(body, body, 0, spans, p)
	if query != "" {
		// The query's pairs are unescaped after the body's, in the same
		// buffer: they go after what the body left.
		body = append(body[:w], query...)
		var e2 error
		spans, w, e2 = unescapeForm(body, body[w:], w, spans, p)
		if e1 == nil {
			e1 = e2
		}
	}
	if err == nil {
		err = e1
	}
	if err != nil {
		return err
	}
	text := string(body[:w])
	p.list = make([]param, len(spans))
	for i, s := range spans {
		p.list[i] = param{k: text[s.k:s.v], v: text[s.v:s.end]}
	}
	if p.hasInvalid {
		p.invalid = text[p.invalidSpan.k:p.invalidSpan.v]
	}
	p.sort()
	return nil
}

// span is one parameter in the unescaped buffer: its name is [k, v), its
// value [v, end).
type span struct{ k, v, end int }

// unescapeForm unescapes the pairs of form, which lies in buf from offset
// w, into buf from w on, and returns their spans and where it stopped.
func unescapeForm(buf, form []byte, w int, spans []span, p *params) ([]span, int, error) {
	var err error
	for r := 0; r < len(form); {
		end := bytes.IndexByte(form[r:], '&')
		if end < 0 {
			end = len(form)
		} else {
			end += r
		}
		pair := form[r:end]
		r = end + 1
		if bytes.IndexByte(pair, ';') >= 0 {
			err = formError("query: semicolon separator")
			continue
		}
		if len(pair) == 0 {
			continue
		}
		eq := bytes.IndexByte(pair, '=')
		key, val := pair, pair[:0]
		if eq >= 0 {
			key, val = pair[:eq], pair[eq+1:]
		}
		start := w
		ke, ok := unescapeTo(buf, w, key)
		if !ok {
			err = formError("query: bad escape")
			w = start
			continue
		}
		ve, ok := unescapeTo(buf, ke, val)
		if !ok {
			err = formError("query: bad escape")
			w = start
			continue
		}
		w = ve
		if !p.hasInvalid && !(utf8.Valid(buf[start:ke]) && utf8.Valid(buf[ke:ve])) {
			p.invalidSpan, p.hasInvalid = span{start, ke, ve}, true
		}
		spans = append(spans, span{start, ke, ve})
	}
	return spans, w, err
}

// unescapeTo writes the unescaped s into buf at w and returns the end. s
// lies in buf at or after w, and unescaping never lengthens, so each byte is
// written at or before where it is read.
func unescapeTo(buf []byte, w int, s []byte) (int, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			buf[w] = ' '
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return w, false
			}
			buf[w] = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		default:
			buf[w] = c
		}
		w++
	}
	return w, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
