package server

import (
	"bufio"
	"bytes"
	"errors"
	"net"
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
// Expectations other than 100-continue reach the handler only through
// passExpect: net/http itself answers them with 417 Expectation Failed.
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

// passedExpectPrefix is put before the name of an Expect header passExpect
// hands to the handler, which restores it (restorePassedExpect).
const passedExpectPrefix = "X-Wharf-Passed-"

// maxPassedHead caps the request head passExpect holds while looking for an
// Expect header. A longer head is passed on as it is, and the connection is
// served as net/http serves it from then on.
const maxPassedHead = 64 << 10

// passExpect wraps ln's connections so that a request whose Expect header is
// something other than 100-continue reaches the handler. S3 ignores such an
// expectation and serves the request (ceph's s3-tests send Expect: 200 on a
// PUT and a CreateBucket and pass against AWS); net/http answers 417
// Expectation Failed and closes the connection before any handler runs, with
// no option to change that.
//
// The wrapper reads each request head off the connection, parses it with
// net/http's own parser, and when net/http would refuse its expectation it
// renames the Expect lines (prefixing passedExpectPrefix) before net/http
// reads them; the handler restores them. The body is passed through by the
// length net/http itself computed. Anything the wrapper is not sure of (a
// head net/http cannot parse, a chunked or unknown-length body, a protocol
// other than HTTP/1.x, CONNECT or Upgrade, a head over maxPassedHead) ends its
// work on that connection: from then on every byte is passed on untouched,
// and net/http serves the connection as it would without the wrapper. A
// request that asks for 100-continue is never changed.
func passExpect(ln net.Listener) net.Listener { return expectListener{ln} }

type expectListener struct{ net.Listener }

func (l expectListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &expectConn{wrapped: wrapped{c}}, nil
}

// expectConn is a connection whose request heads pass through rewriteHead.
type expectConn struct {
	wrapped
	in      []byte // bytes read from Conn and not yet examined: a head's start
	inBuf   []byte // the buffer in is a part of
	scanned int    // how much of in was searched for the head's end
	line    int    // where in the current line starts
	out     []byte // examined bytes net/http has not read yet
	outBuf  []byte // the buffer out is a part of
	body    int64  // bytes of the current request's body still to pass on
	raw     bool   // pass everything on untouched from now on
	err     error  // a read error to report once out is empty
}

func (c *expectConn) Read(p []byte) (int, error) {
	for {
		if len(c.out) > 0 {
			n := copy(p, c.out)
			c.out = c.out[n:]
			return n, nil
		}
		if c.err != nil {
			return 0, c.err
		}
		if len(c.in) == 0 && (c.raw || c.body > 0) {
			q := p
			if !c.raw && int64(len(q)) > c.body {
				q = q[:c.body]
			}
			n, err := c.Conn.Read(q)
			if !c.raw {
				c.body -= int64(n)
			}
			return n, err
		}
		if len(p) == 0 {
			return 0, nil
		}
		var n int
		var err error
		if len(c.in) == 0 && len(p) >= minDirectRead {
			// Nothing is held back: read straight into p, and hand it on
			// as it is when it is one plain head and at most its body
			// (nearly every read of a request's head). Anything else is
			// examined from in as below.
			n, err = c.Conn.Read(p)
			if err == nil && c.passDirect(p[:n]) {
				return n, nil
			}
			if cap(c.inBuf) < n {
				c.inBuf = make([]byte, 0, max(n, 4096))
			}
			c.in = append(c.inBuf[:0], p[:n]...)
		} else {
			if cap(c.in)-len(c.in) < 4096 {
				c.grow()
			}
			n, err = c.Conn.Read(c.in[len(c.in):cap(c.in)])
			c.in = c.in[:len(c.in)+n]
		}
		c.examine()
		if err != nil {
			if timedOut(err) {
				// A deadline (net/http ending its background read, or the
				// header timeout): keep a partial head for the next Read.
				if len(c.out) > 0 {
					continue
				}
				return 0, err
			}
			c.passRaw()
			c.err = err
		}
	}
}

// minDirectRead is the smallest read passDirect is tried on: net/http reads
// a connection through a 4 KiB buffer, and a read too small for a head (the
// byte net/http's background read asks for) goes through in.
const minDirectRead = 64

// passDirect reports whether b, just read with nothing held back, can go to
// net/http as it is: a whole head that needs no rewriting (plainHead) and
// no more than its body after it. It then counts the body still to come.
func (c *expectConn) passDirect(b []byte) bool {
	end, _, _ := headEnd(b, 0, 0)
	if end <= 0 {
		return false
	}
	body, ok := plainHead(b[:end])
	if !ok || int64(len(b)-end) > body {
		return false
	}
	c.body = body - int64(len(b)-end)
	return true
}

// grow makes room for a read after in: at the start of the buffer in lives
// in when there is room there (a connection reads many requests into one
// buffer), else in a larger buffer.
func (c *expectConn) grow() {
	if len(c.in)+4096 <= cap(c.inBuf) {
		c.in = c.inBuf[:copy(c.inBuf[:cap(c.inBuf)], c.in)]
		return
	}
	c.inBuf = append(make([]byte, 0, 2*cap(c.inBuf)+4096), c.in...)
	c.in = c.inBuf
}

// emit appends b to out, reusing out's buffer once net/http has read it all.
func (c *expectConn) emit(b []byte) {
	if len(c.out) == 0 {
		c.out = c.outBuf[:0]
	}
	c.out = append(c.out, b...)
	if cap(c.out) > cap(c.outBuf) {
		c.outBuf = c.out[:0]
	}
}

// examine moves what it can from in to out: body bytes as they are, and
// each complete head through rewriteHead.
func (c *expectConn) examine() {
	for len(c.in) > 0 {
		if c.raw {
			c.passRaw()
			return
		}
		if c.body > 0 {
			k := int(min(c.body, int64(len(c.in))))
			c.emit(c.in[:k])
			c.in, c.body = c.in[k:], c.body-int64(k)
			continue
		}
		end := c.headEnd()
		if end < 0 {
			if len(c.in) > maxPassedHead {
				c.passRaw()
			}
			return
		}
		head, body, ok := rewriteHead(c.in[:end])
		if !ok {
			c.passRaw()
			return
		}
		c.emit(head)
		c.in, c.body, c.scanned, c.line = c.in[end:], body, 0, 0
	}
}

// headEnd returns the length of the head at the start of in, or -1 while it
// is incomplete (or, with c.raw set, when it is not a head net/http takes).
func (c *expectConn) headEnd() int {
	end, scanned, line := headEnd(c.in, c.scanned, c.line)
	c.scanned, c.line = scanned, line
	if end == 0 { // no request line: net/http refuses the request
		c.passRaw()
		return -1
	}
	return end
}

// headEnd returns the length of the head at the start of b, searching on
// from scanned (where the search stopped before) with the current line
// starting at line, and where a later search takes up. end is -1 while the
// head is incomplete, and 0 when b does not start with a request line.
// As net/http reads it, a line ends at LF (a CR before it is dropped) and the
// head ends at the first empty line after the request line.
func headEnd(b []byte, scanned, line int) (end, scanned2, line2 int) {
	for {
		i := bytes.IndexByte(b[scanned:], '\n')
		if i < 0 {
			return -1, len(b), line
		}
		lf := scanned + i
		first := line == 0
		empty := lf == line || lf == line+1 && b[line] == '\r'
		scanned, line = lf+1, lf+1
		switch {
		case empty && first:
			return 0, scanned, line
		case empty:
			return lf + 1, scanned, line
		}
	}
}

// timedOut reports whether err is a net.Error that timed out. net/http ends
// the background read it starts after each request's body with a deadline
// already past, so a timeout ends a read on every request: the connection's
// own *net.OpError is checked by a type assertion before errors.As, whose
// reflection was 3% of a small request's CPU.
func timedOut(err error) bool {
	ne, ok := err.(net.Error)
	if !ok && !errors.As(err, &ne) {
		return false
	}
	return ne.Timeout()
}

func (c *expectConn) passRaw() {
	c.raw = true
	c.emit(c.in)
	c.in = nil
}

// rewriteHead parses head with net/http's parser and returns it with its
// Expect lines renamed when net/http would refuse the expectation, and the
// length of the body that follows. ok is false when the framing of what
// follows is not a plain Content-Length body.
func rewriteHead(head []byte) (out []byte, body int64, ok bool) {
	if n, plain := plainHead(head); plain {
		return head, n, true
	}
	br := bufio.NewReaderSize(bytes.NewReader(head), len(head))
	req, err := http.ReadRequest(br)
	if err != nil || br.Buffered() != 0 || req.ProtoMajor != 1 || req.Method == http.MethodConnect ||
		len(req.TransferEncoding) > 0 || req.ContentLength < 0 || req.Header.Get("Upgrade") != "" {
		return nil, 0, false
	}
	// net/http honours the first Expect value only, and refuses a non-empty
	// one without the 100-continue token.
	if v := req.Header.Get("Expect"); v == "" || hasContinueToken(v) {
		return head, req.ContentLength, true
	}
	out = make([]byte, 0, len(head)+4*len(passedExpectPrefix))
	for rest, first := head, true; len(rest) > 0; first = false {
		i := bytes.IndexByte(rest, '\n') + 1
		line := rest[:i]
		if name, _, found := bytes.Cut(line, []byte(":")); found && !first && strings.EqualFold(string(name), "Expect") {
			out = append(out, passedExpectPrefix...)
		}
		out = append(out, line...)
		rest = rest[i:]
	}
	return out, req.ContentLength, true
}

// plainHead returns the body length of an ordinary head that net/http takes
// as it is: a request line "METHOD target HTTP/1.x" (not CONNECT), header
// lines "Name: value" with no Expect, Transfer-Encoding or Upgrade among them,
// and at most one Content-Length of decimal digits (none: no body). Such a
// head is what nearly every request has, and parsing each with net/http's
// parser first was a tenth of the bytes a small request allocated. ok is
// false for anything else, which rewriteHead then parses as net/http does.
func plainHead(head []byte) (body int64, ok bool) {
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	method, line, _ := bytes.Cut(line, []byte(" "))
	target, proto, _ := bytes.Cut(line, []byte(" "))
	if len(method) == 0 || !isToken(method) || string(method) == http.MethodConnect || len(target) == 0 ||
		bytes.IndexByte(target, ' ') >= 0 || string(proto) != "HTTP/1.1" && string(proto) != "HTTP/1.0" {
		return 0, false
	}
	seenLength := false
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return body, len(rest) == 0
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || len(name) == 0 || !isToken(name) {
			return 0, false // a folded line, or one net/http may refuse
		}
		switch {
		case equalFold(name, "Expect"), equalFold(name, "Transfer-Encoding"), equalFold(name, "Upgrade"):
			return 0, false
		case equalFold(name, "Content-Length"):
			value = bytes.Trim(value, " \t")
			if seenLength || len(value) == 0 || len(value) > 18 {
				return 0, false
			}
			seenLength = true
			for _, c := range value {
				if c < '0' || c > '9' {
					return 0, false
				}
				body = body*10 + int64(c-'0')
			}
		}
	}
	return 0, false // no empty line: not a whole head
}

func equalFold(b []byte, s string) bool { return len(b) == len(s) && strings.EqualFold(string(b), s) }

// isToken reports whether b is an HTTP token (RFC 9110, section 5.6.2).
func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenByte[c] {
			return false
		}
	}
	return true
}

// tokenByte holds the bytes of an HTTP token: visible ASCII but the
// delimiters. Every header name of every request is checked against it.
var tokenByte = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c)
	}
	return t
}()

// hasContinueToken reports whether v holds the token 100-continue, by the rule
// net/http applies (case-insensitive, bounded by the value's ends, spaces,
// tabs or commas).
func hasContinueToken(v string) bool {
	const tok = "100-continue"
	for i := 0; i+len(tok) <= len(v); i++ {
		if !strings.EqualFold(v[i:i+len(tok)], tok) {
			continue
		}
		if (i == 0 || isTokenBoundary(v[i-1])) && (i+len(tok) == len(v) || isTokenBoundary(v[i+len(tok)])) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// restorePassedExpect gives r back the Expect header passExpect renamed, so
// a signature that covers it verifies.
func restorePassedExpect(r *http.Request) {
	const name = passedExpectPrefix + "Expect"
	if v, ok := r.Header[name]; ok {
		r.Header["Expect"] = append(r.Header["Expect"], v...)
		delete(r.Header, name)
	}
}
