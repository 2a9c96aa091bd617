package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The fast path serves the plain requests nearly every AWS SDK call is (a
// POST, PUT or DELETE of a small body with a Content-Length, a GET or HEAD
// without one), on a loop of wharf's own, one goroutine per connection,
// and hands a connection to net/http, with the bytes already read, at the
// first request that is anything else (chunked or 100-continue bodies,
// bodies over maxFastBody, HTTP/1.0, a head parseFastHead is not sure of).
// net/http then serves that connection to its end, as it did before the
// fast path existed. A response is held and written in one write, or sent
// as it is written once it outgrows streamAfter or is flushed.
//
// net/http spends more CPU than wharf itself on a small request: per
// request, a goroutine reading in the background to notice a client going
// away, a context, read deadlines set and cleared, and a buffered writer.
// The fast path reads the head and body in one read when they arrive
// together, calls the same ServeHTTP with a real *http.Request, and writes
// the response in one write; a request that waits (a long poll) gets the
// background read when it first asks for its context's Done.

const (
	// maxFastHead is the longest head the fast path reads; a longer one
	// goes to net/http (whose limit is 1 MiB).
	maxFastHead = 16 << 10
	// maxFastBody is the largest body the fast path reads before calling
	// the handler; a larger one goes to net/http, which streams it.
	maxFastBody = 256 << 10
)

// fastServer is the fast path's accept loop and its connections.
type fastServer struct {
	s       *Server
	ln      net.Listener
	reqCtx  context.Context
	handoff *handoffListener

	closing atomic.Bool

	mu       sync.Mutex
	conns    map[*fastConn]struct{}
	finished *sync.Cond // signalled as conns empties
}

func newFastServer(s *Server, ln net.Listener, reqCtx context.Context) *fastServer {
	f := &fastServer{s: s, ln: ln, reqCtx: reqCtx, conns: map[*fastConn]struct{}{},
		handoff: &handoffListener{ch: make(chan net.Conn), done: make(chan struct{}), addr: ln.Addr()}}
	f.finished = sync.NewCond(&f.mu)
	return f
}

// serve accepts connections until the listener is closed, backing off on
// temporary errors (out of descriptors) as net/http does.
func (f *fastServer) serve() error {
	var delay time.Duration
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if temporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			f.handoff.Close()
			return err
		}
		delay = 0
		fc := &fastConn{f: f, conn: c, raw: rawConn(c), buf: make([]byte, 0, 4096), remote: c.RemoteAddr().String()}
		f.mu.Lock()
		if f.closing.Load() {
			f.mu.Unlock()
			c.Close()
			continue
		}
		f.conns[fc] = struct{}{}
		f.mu.Unlock()
		f.s.track.open.Add(1)
		go fc.serve()
	}
}

// temporary reports whether an Accept error passes (out of descriptors or
// memory, a connection aborted before it was accepted).
func temporary(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// shutdown stops accepting and closes the connections waiting for a
// request; the others close after their current response.
func (f *fastServer) shutdown() {
	f.closing.Store(true)
	f.ln.Close()
	f.closeIdle(time.Hour)
}

// closeIdle closes the connections waiting for a request with nothing of
// it read, and those that have read part of one and got nothing for stall.
func (f *fastServer) closeIdle(stall time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fc := range f.conns {
		switch fc.state.Load() {
		case connIdle:
			fc.conn.Close()
		case connReading:
			if time.Since(time.Unix(0, fc.lastRead.Load())) >= stall {
				fc.conn.Close()
			}
		}
	}
}

// closeAll closes every connection.
func (f *fastServer) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fc := range f.conns {
		fc.conn.Close()
	}
}

// wait returns true once every connection has ended, false at ctx's end.
func (f *fastServer) wait(ctx context.Context) bool {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.finished.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.conns) > 0 && ctx.Err() == nil {
		f.finished.Wait()
	}
	return len(f.conns) == 0
}

const (
	connIdle    int32 = iota // waiting for a request, nothing of it read
	connReading              // reading a request's head or body
	connActive               // serving a request
)

// fastConn is one connection the fast path serves.
type fastConn struct {
	f      *fastServer
	conn   net.Conn
	raw    syscall.RawConn // conn's descriptor, or nil
	buf    []byte          // bytes read and not yet used: the next request's start
	remote string          // conn.RemoteAddr, for each request's RemoteAddr

	state    atomic.Int32
	lastRead atomic.Int64 // unix nanoseconds, for closeIdle

	// watch: the background read of a request whose context's Done was
	// asked for (fastCtx).
	watchDone chan struct{}
	watchByte [1]byte
	watchN    int
	watchErr  error

	w fastWriter
}

func (c *fastConn) serve() {
	handedOff := false
	defer func() {
		if p := recover(); p != nil && p != http.ErrAbortHandler {
			c.f.s.log.Error("panic serving connection", "remote", c.remote, "panic", p, "stack", string(debug.Stack()))
		}
		if !handedOff {
			c.conn.Close()
			c.f.s.track.open.Add(-1)
		}
		c.f.mu.Lock()
		delete(c.f.conns, c)
		c.f.finished.Broadcast()
		c.f.mu.Unlock()
	}()
	afterPost := false
	for first := true; ; first = false {
		end, ok := c.readHead(first, afterPost)
		if !ok {
			return
		}
		var p fastHead
		ok = false
		if end > 0 {
			p, ok = parseFastHead(c.buf[:end])
		}
		if !ok {
			// Not a plain request: net/http serves the connection
			// from this request on.
			handedOff = c.handOff()
			return
		}
		afterPost = p.method == http.MethodPost
		body, err := c.readBody(end, p.length)
		if !c.serveOne(&p, body, err) {
			return
		}
	}
}

// readHead reads until buf starts with a whole head and returns its
// length, or 0 when buf holds what net/http must read (no request line, a
// head longer than maxFastHead). ok is false when the connection is to be
// closed: the client closed it or stopped sending, or shutdown closed it.
// afterPost: the connection's last request was a POST.
func (c *fastConn) readHead(first, afterPost bool) (end int, ok bool) {
	hdrTimeout := orDefault(c.f.s.cfg.HeaderTimeout, 30*time.Second)
	deadline := false
	if first {
		// As net/http: a new connection has the header timeout from the
		// start; a kept-alive one waits for its next request as long as
		// the client likes, and has it once that request has begun.
		c.conn.SetReadDeadline(time.Now().Add(hdrTimeout))
		deadline = true
	}
	if len(c.buf) > 0 {
		// The start of a pipelined request: reading, not serving, so that
		// shutdown closes it if the rest does not come.
		c.state.Store(connReading)
	}
	// As net/http after a POST: up to 4 CR or LF bytes an old client sends
	// after a body are skipped.
	skip := 0
	if afterPost {
		skip = 4
	}
	scanned, line := 0, 0
	for {
		for skip > 0 && len(c.buf) > 0 && (c.buf[0] == '\r' || c.buf[0] == '\n') {
			c.buf = c.buf[:copy(c.buf, c.buf[1:])]
			skip--
		}
		if len(c.buf) > 0 {
			end, scanned, line = headEnd(c.buf, scanned, line)
			if end > 0 && end <= maxFastHead {
				if deadline {
					c.conn.SetReadDeadline(time.Time{})
				}
				return end, true
			}
			if end == 0 || len(c.buf) > maxFastHead {
				return 0, true
			}
			if !deadline {
				c.conn.SetReadDeadline(time.Now().Add(hdrTimeout))
				deadline = true
			}
		} else {
			c.state.Store(connIdle)
			if c.f.closing.Load() {
				return 0, false
			}
		}
		if cap(c.buf)-len(c.buf) < 1024 {
			c.buf = slices.Grow(c.buf, cap(c.buf))
		}
		var n int
		var err error
		if c.raw != nil {
			n, err = rawRead(c.raw, c.buf[len(c.buf):cap(c.buf)])
		} else {
			n, err = c.conn.Read(c.buf[len(c.buf):cap(c.buf)])
		}
		c.buf = c.buf[:len(c.buf)+n]
		if n > 0 {
			c.lastRead.Store(time.Now().UnixNano())
			c.state.Store(connReading)
		}
		if err != nil {
			// A head cut short or that stopped arriving is closed, as
			// net/http does (it also writes a 408 or 400 that no client
			// waiting on a head it has not finished sending reads).
			return 0, false
		}
	}
}

// handOff gives the connection, and what has been read of it, to net/http.
// It reports false when net/http is shut down and the connection is left
// to the caller to close.
func (c *fastConn) handOff() bool {
	c.conn.SetReadDeadline(time.Time{})
	pc := &prefixConn{wrapped: wrapped{c.conn}, pre: c.buf}
	c.f.s.track.open.Add(-1) // net/http counts it again (connState)
	select {
	case c.f.handoff.ch <- pc:
		return true
	case <-c.f.handoff.done:
		c.f.s.track.open.Add(1)
		return false
	}
}

// readBody returns the body of length n that follows the head, and leaves
// in buf what follows it. A body that does not arrive whole is returned with
// what came of it and the error that ended it, for the handler to answer as
// it answers such a body from net/http (IncompleteBody, RequestTimeout).
func (c *fastConn) readBody(head int, n int64) ([]byte, error) {
	c.state.Store(connReading)
	if n == 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[head:])]
		return nil, nil
	}
	body := make([]byte, n)
	k := copy(body, c.buf[head:])
	c.buf = c.buf[:copy(c.buf, c.buf[head+k:])]
	if k == len(body) {
		return body, nil
	}
	idle := c.f.s.cfg.BodyIdleTimeout
	for k < len(body) {
		if idle > 0 {
			c.conn.SetReadDeadline(time.Now().Add(idle))
		}
		m, err := c.conn.Read(body[k:])
		k += m
		if m > 0 {
			c.lastRead.Store(time.Now().UnixNano())
		}
		if err != nil && k < len(body) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // as net/http reports a body cut short
			}
			return body[:k], err
		}
	}
	if idle > 0 {
		c.conn.SetReadDeadline(time.Time{})
	}
	return body, nil
}

// serveOne serves one request and reports whether the connection stays
// open.
func (c *fastConn) serveOne(p *fastHead, body []byte, bodyErr error) bool {
	c.state.Store(connActive)
	ctx := &fastCtx{Context: c.f.reqCtx, c: c}
	r := &http.Request{
		Method: p.method, URL: p.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: p.header, ContentLength: p.length, Host: p.host, Close: p.close,
		RemoteAddr: c.remote, RequestURI: p.target,
	}
	switch {
	case bodyErr != nil:
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), &failedRead{bodyErr}))
	case len(body) == 0:
		r.Body = http.NoBody
	default:
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	r = r.WithContext(ctx)
	w := &c.w
	w.reset()
	w.conn, w.isHead = c.conn, p.method == http.MethodHead
	w.keep = !r.Close && bodyErr == nil && !c.f.closing.Load()
	c.f.s.ServeHTTP(w, r)
	ctx.cancel(context.Canceled)
	gone := c.stopWatch()
	keep := !r.Close && !gone && bodyErr == nil && !c.f.closing.Load()
	out, keep := w.finish(r, keep)
	if len(out) > 0 {
		var err error
		if c.raw != nil {
			_, err = rawWrite(c.raw, out)
		} else {
			_, err = c.conn.Write(out)
		}
		if err != nil {
			return false
		}
	}
	w.trim()
	return keep
}

// failedRead is the end of a body that did not arrive whole.
type failedRead struct{ err error }

func (f *failedRead) Read([]byte) (int, error) { return 0, f.err }

// startWatch begins the background read that tells a request the client
// went away (fastCtx.Done).
func (c *fastConn) startWatch(x *fastCtx) {
	c.watchDone = make(chan struct{})
	go func() {
		defer close(c.watchDone)
		c.watchN, c.watchErr = c.conn.Read(c.watchByte[:])
		if c.watchN == 0 && c.watchErr != nil && !timedOut(c.watchErr) {
			x.cancel(context.Canceled)
		}
	}()
}

// stopWatch ends the background read, keeps the byte it read, and reports
// whether the client went away.
func (c *fastConn) stopWatch() (gone bool) {
	if c.watchDone == nil {
		return false
	}
	c.conn.SetReadDeadline(aLongTimeAgo)
	<-c.watchDone
	c.conn.SetReadDeadline(time.Time{})
	c.watchDone = nil
	if c.watchN > 0 {
		c.buf = append(c.buf, c.watchByte[0])
		return false
	}
	return !timedOut(c.watchErr)
}

var aLongTimeAgo = time.Unix(1, 0)

// fastCtx is a fast request's context: the server's request context, done
// also when the request ends or its client goes away. Its channel and the
// background read that watches the client are made on the first Done: most
// requests never wait on anything.
type fastCtx struct {
	context.Context
	c *fastConn

	mu   sync.Mutex
	done chan struct{}
	err  error
	stop func() bool
}

func (x *fastCtx) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done == nil {
		x.done = make(chan struct{})
		if x.err != nil {
			close(x.done)
		} else {
			x.stop = context.AfterFunc(x.Context, func() { x.cancel(context.Canceled) })
			x.c.startWatch(x)
		}
	}
	return x.done
}

func (x *fastCtx) Err() error {
	x.mu.Lock()
	err := x.err
	x.mu.Unlock()
	if err != nil {
		return err
	}
	return x.Context.Err()
}

func (x *fastCtx) cancel(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err != nil {
		return
	}
	x.err = err
	if x.done != nil {
		close(x.done)
	}
	if x.stop != nil {
		x.stop()
	}
}

// streamAfter is the most of a body a fastWriter holds: past it (an S3
// object), or at the handler's first Flush (the console's event stream),
// the head and what the handler wrote go out, and the rest of the body as
// the handler writes it, framed by the Content-Length the handler set or
// else chunked, as net/http frames a body it cannot hold.
const streamAfter = 64 << 10

// sniffLen is how much of a body http.DetectContentType reads.
const sniffLen = 512

// fastWriter is a fast request's ResponseWriter: it holds the response,
// which finish frames as net/http would, unless it grows past streamAfter
// or is flushed, when it is sent as it is written.
type fastWriter struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        []byte
	out         []byte
	keys        []string

	// Set by serveOne for each request.
	conn   net.Conn
	isHead bool // a HEAD: the body is counted in headLen, never sent
	keep   bool // whether the connection may stay open, as known before the handler ran

	headLen   int64
	streaming bool  // the head has gone out; the body goes as it is written
	noBody    bool  // the head went out at a Flush of a response without a body (a HEAD, 204, 304)
	chunked   bool  // the streamed body is chunked, not framed by declared
	declared  int64 // the Content-Length a streamed body was sent with
	sent      int64 // bytes of a streamed body sent
	tooLong   bool  // a write went past declared: the connection closes
	err       error // a write to the connection failed
}

func (w *fastWriter) reset() {
	if w.header == nil {
		w.header = make(http.Header, 8)
	}
	clear(w.header)
	w.status, w.wroteHeader = 0, false
	w.trim()
	w.body = w.body[:0]
	w.headLen, w.streaming, w.noBody, w.chunked, w.declared, w.sent, w.tooLong, w.err = 0, false, false, false, 0, 0, false, nil
}

// trim drops buffers a large response grew, so that a kept-alive
// connection waiting for its next request does not hold them.
func (w *fastWriter) trim() {
	if cap(w.body) > 2*streamAfter {
		w.body = nil
	}
	if cap(w.out) > 2*streamAfter {
		w.out = nil
	}
}

func (w *fastWriter) Header() http.Header { return w.header }

func (w *fastWriter) WriteHeader(code int) {
	if w.wroteHeader || code < 200 {
		return // as net/http, which also sends 1xx at once: none are sent here
	}
	w.status, w.wroteHeader = code, true
}

func (w *fastWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if !w.streaming && !w.isHead && len(w.body)+len(b) <= streamAfter {
		w.body = append(w.body, b...)
		return len(b), nil
	}
	return w.writeMore(b)
}

func (w *fastWriter) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	if !w.streaming && !w.isHead && len(w.body)+len(s) <= streamAfter {
		w.body = append(w.body, s...)
		return len(s), nil
	}
	if w.isHead || w.noBody {
		return w.discard(len(s), s[:min(len(s), sniffLen)]), nil
	}
	return w.writeMore([]byte(s))
}

// writeMore writes what the held body has no room for: a HEAD's body,
// which is counted, or a body that starts (or goes on) streaming.
func (w *fastWriter) writeMore(b []byte) (int, error) {
	switch {
	case w.err != nil:
		return 0, w.err
	case w.isHead || w.noBody:
		return w.discard(len(b), string(b[:min(len(b), sniffLen)])), nil
	case !bodyAllowed(w.status):
		w.body = append(w.body[:0], b[:min(len(b), sniffLen)]...) // dropped by finish
		return len(b), nil
	case !w.streaming:
		return w.startStream(b)
	}
	return w.send(b)
}

// discard counts n bytes of a body that is never sent, and keeps the
// start of it, for the Content-Type sniffed from it.
func (w *fastWriter) discard(n int, start string) int {
	w.headLen += int64(n)
	if len(w.body) < sniffLen {
		w.body = append(w.body, start[:min(len(start), sniffLen-len(w.body))]...)
	}
	return n
}

// Flush sends the head and what the body holds now, and the rest of the
// body as it is written (the console's event stream).
func (w *fastWriter) Flush() { w.FlushError() }

// FlushError is Flush for http.ResponseController.
func (w *fastWriter) FlushError() error {
	w.WriteHeader(http.StatusOK)
	switch {
	case w.err != nil || w.streaming:
	case w.isHead || !bodyAllowed(w.status):
		// The head alone, as net/http sends it: a client waiting on a
		// handler that flushes and goes on (the event stream, asked with
		// HEAD) gets its answer.
		w.dropBodyFields()
		w.streaming, w.noBody = true, true
		w.keep = w.keep && !hasToken(w.header.Get("Connection"), "close")
		w.out = w.appendHead(w.out[:0], w.body, w.keep, -1, false)
		w.body = w.body[:0]
		if _, err := w.conn.Write(w.out); err != nil {
			w.err = err
		}
	default:
		_, err := w.startStream(nil)
		return err
	}
	return w.err
}

// dropBodyFields removes the fields a response without a body does not
// send: a 204's or 304's length, a 304's type (as net/http), and any
// Transfer-Encoding.
func (w *fastWriter) dropBodyFields() {
	h := w.header
	delete(h, "Transfer-Encoding")
	if !bodyAllowed(w.status) {
		delete(h, "Content-Length")
		if w.status == http.StatusNotModified {
			delete(h, "Content-Type")
		}
	}
}

// startStream sends the head and the body held, then b, and makes the
// rest of the body go out as it is written. It returns what Write returns
// for b.
func (w *fastWriter) startStream(b []byte) (int, error) {
	w.streaming = true
	h := w.header
	w.keep = w.keep && !hasToken(h.Get("Connection"), "close")
	w.declared = responseLength(h)
	delete(h, "Transfer-Encoding")
	w.chunked = w.declared < 0
	held := w.body
	sniff := held
	if len(sniff) == 0 {
		sniff = b
	}
	out := w.appendHead(w.out[:0], sniff, w.keep, -1, w.chunked)
	// The head and the body held in one write.
	switch {
	case len(held) == 0:
	case w.chunked:
		out = appendChunk(out, held)
	case int64(len(held)) > w.declared:
		w.tooLong = true
	default:
		out = append(out, held...)
	}
	w.out, w.body = out, w.body[:0]
	if _, err := w.conn.Write(out); err != nil {
		w.err = err
		return 0, err
	}
	if !w.chunked && !w.tooLong {
		w.sent = int64(len(held))
	}
	if w.tooLong {
		return 0, http.ErrContentLength
	}
	if len(b) == 0 {
		return 0, nil
	}
	return w.send(b)
}

// send writes b as the next part of a streamed body: a chunk, or bytes up
// to the Content-Length declared. A write that would go past it is not
// sent: it fails with http.ErrContentLength and the connection closes
// after the response, as in net/http.
func (w *fastWriter) send(b []byte) (int, error) {
	switch {
	case w.err != nil:
		return 0, w.err
	case w.tooLong || !w.chunked && w.sent+int64(len(b)) > w.declared:
		w.tooLong = true
		return 0, http.ErrContentLength
	case len(b) == 0:
		return 0, nil // an empty chunk would end the body
	}
	var err error
	switch {
	case !w.chunked:
		_, err = w.conn.Write(b)
	case len(b) <= 4<<10:
		// One write per small chunk (an event of the console's stream).
		w.out = appendChunk(w.out[:0], b)
		_, err = w.conn.Write(w.out)
	default:
		size := append(strconv.AppendInt(w.out[:0], int64(len(b)), 16), "\r\n"...)
		bufs := net.Buffers{size, b, crlf}
		_, err = bufs.WriteTo(w.conn)
	}
	if err != nil {
		w.err = err
		return 0, err
	}
	w.sent += int64(len(b))
	return len(b), nil
}

// appendChunk appends b as one chunk of a chunked body.
func appendChunk(out, b []byte) []byte {
	out = strconv.AppendInt(out, int64(len(b)), 16)
	out = append(out, "\r\n"...)
	out = append(out, b...)
	return append(out, "\r\n"...)
}

// lastChunk ends a chunked body (no trailers).
var lastChunk = []byte("0\r\n\r\n")

// responseLength returns the Content-Length a response's header h
// declares, or -1 when it declares none; one that is not a length is
// removed, as net/http (which logs it) does.
func responseLength(h http.Header) int64 {
	cl := h.Get("Content-Length")
	if cl == "" {
		return -1
	}
	if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
		return n
	}
	delete(h, "Content-Length")
	return -1
}

// bodyAllowed reports whether a response of status has a body.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// finish returns the response's bytes (none left when it was streamed),
// and whether the connection stays open after it.
func (w *fastWriter) finish(r *http.Request, keep bool) ([]byte, bool) {
	w.WriteHeader(http.StatusOK)
	if w.streaming {
		if w.err == nil && w.chunked && !w.noBody {
			_, w.err = w.conn.Write(lastChunk)
		}
		// A body shorter or longer than it was declared leaves the client
		// waiting for the rest, or holding a body cut short: only closing
		// ends it, as net/http does.
		return nil, keep && w.keep && w.err == nil && !w.tooLong && (w.noBody || w.chunked || w.sent == w.declared)
	}
	h := w.header
	if hasToken(h.Get("Connection"), "close") {
		keep = false
	}
	body := w.body
	bodyOK := bodyAllowed(w.status)
	// The response is framed by its length: a Transfer-Encoding the
	// handler set would contradict it. A response that has no body has no
	// length, and a 304 no type either, as net/http sends them.
	w.dropBodyFields()
	if !bodyOK {
		body = nil
	}
	declared := responseLength(h)
	length := int64(-1)
	payload := body // what follows the head; body is also what Content-Type is sniffed from
	switch {
	case w.isHead:
		// No body, and the length a GET's would have: the one the handler
		// set, or else that of what it wrote (none when it wrote nothing,
		// which may be a handler that left a HEAD's body out), as net/http.
		payload = nil
		if declared < 0 && bodyOK && w.headLen > 0 {
			length = w.headLen
		}
	case declared < 0:
		if bodyOK {
			length = int64(len(body))
		}
	case declared != int64(len(body)):
		// A body that is not the length the handler declared cannot be
		// framed: send what fits and close, as net/http does.
		keep = false
		if declared < int64(len(body)) {
			payload = body[:declared]
		}
	}
	// w.out keeps the array for the next response; trim drops a large one.
	w.out = append(w.appendHead(w.out[:0], body, keep, length, false), payload...)
	return w.out, keep
}

// appendHead appends the response's status line and header: the handler's
// fields, then the Content-Type sniffed from body when it set none,
// Connection: close when the connection is not kept, Date, and a
// Content-Length of length when length is not negative or a
// Transfer-Encoding of chunked.
func (w *fastWriter) appendHead(out, body []byte, keep bool, length int64, chunked bool) []byte {
	h := w.header
	out = append(out, "HTTP/1.1 "...)
	out = strconv.AppendInt(out, int64(w.status), 10)
	out = append(out, ' ')
	if text := http.StatusText(w.status); text != "" {
		out = append(out, text...)
	} else {
		out = append(out, "status code "...) // as net/http names a code it does not know
		out = strconv.AppendInt(out, int64(w.status), 10)
	}
	out = append(out, "\r\n"...)
	w.keys = w.keys[:0]
	for k := range h {
		if validFieldName(k) { // as net/http, which drops the others
			w.keys = append(w.keys, k)
		}
	}
	slices.Sort(w.keys)
	for _, k := range w.keys {
		if !keep && k == "Connection" {
			continue // close, below, as net/http
		}
		for _, v := range h[k] {
			out = appendHeader(out, k, v)
		}
	}
	_, encoded := h["Content-Encoding"]
	if _, ok := h["Content-Type"]; !ok && !encoded && len(body) > 0 && bodyAllowed(w.status) {
		out = appendHeader(out, "Content-Type", http.DetectContentType(body))
	}
	if !keep {
		out = appendHeader(out, "Connection", "close")
	}
	if _, ok := h["Date"]; !ok {
		out = append(out, "Date: "...)
		out = appendDate(out, time.Now())
		out = append(out, "\r\n"...)
	}
	if length >= 0 {
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, length, 10)
		out = append(out, "\r\n"...)
	}
	if chunked {
		out = append(out, "Transfer-Encoding: chunked\r\n"...)
	}
	return append(out, "\r\n"...)
}

// validFieldName reports whether k is a header field name: one or more
// token bytes (tokenByte, which isToken checks request names against).
func validFieldName(k string) bool {
	for i := 0; i < len(k); i++ {
		if !tokenByte[k[i]] {
			return false
		}
	}
	return k != ""
}

// lastDate is the Date header value of the second the last response went
// out in: every response of a second has the same one (http.TimeFormat
// stops at seconds), formatted once instead of once a response.
var lastDate atomic.Pointer[dateValue]

type dateValue struct {
	sec int64
	v   []byte
}

// appendDate appends now as an HTTP Date value (http.TimeFormat, in UTC).
func appendDate(out []byte, now time.Time) []byte {
	sec := now.Unix()
	d := lastDate.Load()
	if d == nil || d.sec != sec {
		d = &dateValue{sec: sec, v: now.UTC().AppendFormat(nil, http.TimeFormat)}
		lastDate.Store(d)
	}
	return append(out, d.v...)
}

func appendHeader(out []byte, k, v string) []byte {
	out = append(out, k...)
	out = append(out, ": "...)
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
	}
	out = append(out, strings.TrimSpace(v)...)
	return append(out, "\r\n"...)
}

// hasToken reports whether the comma-separated list v holds tok (any case).
func hasToken(v, tok string) bool {
	for t := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// handoffListener is the listener net/http serves: the connections the
// fast path gave up on.
type handoffListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// prefixConn is a connection handed to net/http: pre, the bytes the fast
// path read, then the connection's. It keeps the optional methods net/http
// uses (sendfile, a graceful close).
type prefixConn struct {
	wrapped
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
