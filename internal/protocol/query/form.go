package query

import (
	"io"
	"mime"
	"net/http"
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
type formBody struct{ p *params }

func (*formBody) Read([]byte) (int, error) { return 0, io.EOF }
func (*formBody) Close() error             { return nil }

// requestParams returns r's parameters, parsing them on the first call.
func requestParams(r *http.Request) (*params, error) {
	if fb, ok := r.Body.(*formBody); ok {
		return fb.p, nil
	}
	if r.Form != nil {
		// The front door read the form already (an unsigned query request).
		p := newParams(r.Form)
		r.Body = &formBody{p: p}
		return p, nil
	}
	body := ""
	var bodyErr error
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		form, err := isForm(r.Header.Get("Content-Type"))
		switch {
		case r.Body == nil:
			bodyErr = formError("query: missing form body")
		case err != nil:
			bodyErr = err
		case form:
			b, err := readBody(r)
			if err != nil {
				if e := apierr.As(err); e != nil {
					return nil, e // the body did not arrive whole
				}
				return nil, malformed()
			}
			body = b
		}
	}
	p, err := parseParams(body, r.URL.RawQuery)
	if err != nil || bodyErr != nil {
		return nil, malformed()
	}
	r.Body = &formBody{p: p}
	return p, nil
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

// readBody reads r's body whole, up to maxForm bytes, sized by its
// Content-Length when it has one.
func readBody(r *http.Request) (string, error) {
	var sb strings.Builder
	if n := r.ContentLength; n > 0 && n <= maxForm {
		sb.Grow(int(n))
	}
	chunk := chunks.Get().(*[4096]byte)
	defer chunks.Put(chunk)
	for {
		n, err := r.Body.Read(chunk[:])
		if sb.Len()+n > maxForm {
			return "", errFormTooLarge
		}
		sb.Write(chunk[:n])
		if err == io.EOF {
			return sb.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// chunks are readBody's read buffers: one on the stack would escape, since
// the body is an interface.
var chunks = sync.Pool{New: func() any { return new([4096]byte) }}

type formError string

func (e formError) Error() string { return string(e) }

const errFormTooLarge = formError("query: form body too large")

// parseParams indexes the parameters of a form body and then those of a URL
// query. It reads every pair even after an error, as url.ParseQuery does,
// and returns the first error.
func parseParams(body, query string) (*params, error) {
	n := strings.Count(body, "&") + 1
	if query != "" {
		n += strings.Count(query, "&") + 1
	}
	p := &params{values: make(map[string]string, n), prefixes: make(map[string]bool, 2*n)}
	err := p.add(body)
	if err2 := p.add(query); err == nil {
		err = err2
	}
	return p, err
}

func (p *params) add(query string) error {
	if query == "" {
		return nil
	}
	if strings.Count(query, "&")+1 > maxParams {
		return formError("query: too many parameters")
	}
	var err error
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if strings.IndexByte(pair, ';') >= 0 {
			err = formError("query: semicolon separator")
			continue
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok := unescape(k)
		if !ok {
			err = formError("query: bad escape")
			continue
		}
		v, ok = unescape(v)
		if !ok {
			err = formError("query: bad escape")
			continue
		}
		if !p.hasInvalid && !(utf8.ValidString(k) && utf8.ValidString(v)) {
			p.invalid, p.hasInvalid = k, true
		}
		p.set(k, v)
	}
	return err
}

// set records a parameter; a name's first value is the one kept.
func (p *params) set(k, v string) {
	if _, ok := p.values[k]; ok {
		return
	}
	p.values[k] = v
	n := 0
	for i := 0; i < len(k) && n < maxPrefixes; i++ {
		if k[i] == '.' {
			p.prefixes[k[:i]] = true
			n++
		}
	}
	p.prefixes[k] = true
}

// unescape is url.QueryUnescape: '+' is a space and %XX a byte. A string
// without either is returned as it is, without copying.
func unescape(s string) (string, bool) {
	i := strings.IndexAny(s, "%+")
	if i < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
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
