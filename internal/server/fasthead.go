package server

import (
	"bytes"
	"net/http"
	"net/url"
)

// fastHead is a request head the fast path serves.
type fastHead struct {
	method, target, host string
	url                  *url.URL
	header               http.Header // without Host, as net/http's
	length               int64       // Content-Length; 0 when absent
	close                bool        // Connection: close
}

// parseFastHead parses head (a whole head, up to and with its empty line)
// when it is a plain request: "POST target HTTP/1.1", or a PUT or DELETE,
// or a GET or HEAD without a body, each line ending in CRLF, header names
// that are tokens and values without control bytes (but tab), one Host, at
// most one Content-Length of at most maxFastBody, and no Transfer-Encoding,
// Expect, Upgrade or Connection other than close or keep-alive. ok is false
// for anything else, which net/http then reads: a false ok is never wrong,
// only slower, so whatever this parser is unsure of it refuses.
func parseFastHead(head []byte) (p fastHead, ok bool) {
	line, rest, found := bytes.Cut(head, crlf)
	if !found {
		return p, false
	}
	method, line, _ := bytes.Cut(line, []byte(" "))
	target, proto, _ := bytes.Cut(line, []byte(" "))
	switch {
	case string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/':
		return p, false
	case string(method) == http.MethodPost:
		p.method = http.MethodPost
	case string(method) == http.MethodPut:
		p.method = http.MethodPut
	case string(method) == http.MethodGet:
		// Also the health check, the one request a supervisor sends an
		// idle wharf: served here, net/http's server code is not run (nor
		// made resident) by an idle wharf at all (issue 20's idle RSS).
		p.method = http.MethodGet
	case string(method) == http.MethodHead:
		p.method = http.MethodHead
	case string(method) == http.MethodDelete:
		p.method = http.MethodDelete
	default:
		return p, false
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f {
			return p, false
		}
	}
	p.target = string(target)
	u, err := url.ParseRequestURI(p.target)
	if err != nil {
		return p, false
	}
	p.url = u
	lines := bytes.Count(rest, crlf) - 1
	if lines < 1 || !bytes.HasSuffix(rest, []byte("\r\n\r\n")) {
		return p, false
	}
	// One backing array for every value, as net/textproto does, and every
	// value cut from one copy of the lines: a string each was a dozen
	// allocations a request.
	values := make([]string, lines)
	p.header = make(http.Header, lines)
	block, size := string(rest), len(rest)
	seenHost, seenLength := false, false
	var name [64]byte
	for i := 0; ; i++ {
		at := size - len(rest) // where line starts in block
		line, rest, _ = bytes.Cut(rest, crlf)
		if len(line) == 0 {
			break
		}
		k, v, found := bytes.Cut(line, []byte(":"))
		if !found || len(k) == 0 || len(k) > len(name) || !isToken(k) {
			return p, false
		}
		v = bytes.TrimLeft(v, " \t")
		at += len(line) - len(v) // where v starts
		v = bytes.TrimRight(v, " \t")
		value := block[at : at+len(v)]
		for _, c := range v {
			if c < ' ' && c != '\t' || c == 0x7f {
				return p, false
			}
		}
		key := canonicalKey(name[:0], k)
		switch key {
		case "Host":
			if seenHost || !validHost(v) {
				return p, false
			}
			seenHost, p.host = true, value
			continue
		case "Content-Length":
			if seenLength || len(v) == 0 || len(v) > 7 {
				return p, false
			}
			seenLength = true
			for _, c := range v {
				if c < '0' || c > '9' {
					return p, false
				}
				p.length = p.length*10 + int64(c-'0')
			}
			if p.length > maxFastBody {
				return p, false
			}
		case "Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer":
			return p, false
		case "Connection":
			for tok := range bytes.SplitSeq(v, []byte(",")) {
				switch tok = bytes.Trim(tok, " \t"); {
				case equalFold(tok, "close"):
					p.close = true
				case equalFold(tok, "keep-alive"):
				default:
					return p, false
				}
			}
		}
		values[i] = value
		// The value's own slot of values, capped so that a second line
		// of the name appends to a copy: appending to the nil slice of a
		// name not seen yet made an array for every line.
		if vs := p.header[key]; vs != nil {
			p.header[key] = append(vs, values[i])
		} else {
			p.header[key] = values[i : i+1 : i+1]
		}
	}
	if (p.method == http.MethodGet || p.method == http.MethodHead) && p.length != 0 {
		return p, false // a GET or HEAD with a body: net/http reads it
	}
	return p, seenHost && len(rest) == 0
}

var crlf = []byte("\r\n")

// canonicalKey returns the canonical form of the token k
// (textproto.CanonicalMIMEHeaderKey's), built in buf; the names SDKs send
// are interned, so that most lines allocate no key.
func canonicalKey(buf []byte, k []byte) string {
	upper := true
	for _, c := range k {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
		upper = c == '-'
	}
	if s, ok := commonKeys[string(buf)]; ok {
		return s
	}
	return string(buf)
}

var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Host", "Content-Length", "Content-Type", "Connection", "Accept", "Accept-Encoding",
		"User-Agent", "Authorization", "X-Amz-Date", "X-Amz-Target", "X-Amz-Security-Token", "X-Amz-Content-Sha256",
		"X-Amz-Query-Mode", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "X-Amz-User-Agent", "Origin",
		"Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer", "X-Amz-Account-Id", "X-Amz-Decoded-Content-Length",
		"Smithy-Protocol", "Content-Encoding", "X-Amzn-Query-Mode"} {
		m[k] = k
	}
	return m
}()

// validHost reports whether v is a Host this parser takes: a name or an
// address, with a port. net/http checks the others.
func validHost(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}
