package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// connKey is the context key under which ConnContext stores a request's
// connection, for the body's idle deadline.
type connKey struct{}

func connOf(ctx context.Context) net.Conn {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	return c
}

// clientLimiter caps the connections open at once from one client IP address.
// A connection over the cap is answered 503 and closed at once, so one client
// holding many connections (idle, or trickling a byte now and then) cannot use
// up the descriptors every other client needs; SDKs retry a 503.
type clientLimiter struct {
	net.Listener
	max int

	mu   sync.Mutex
	open map[string]int
}

func limitPerClient(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &clientLimiter{Listener: ln, max: max, open: map[string]int{}}
}

func (l *clientLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			go refuse(c, l.max)
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &limitedConn{wrapped: wrapped{c}, l: l, ip: ip}, nil
	}
}

func (l *clientLimiter) release(ip string) {
	l.mu.Lock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
	l.mu.Unlock()
}

// refuse answers a connection over the cap with 503 Service Unavailable, which
// every SDK retries with backoff, and closes it. It never waits long on the
// client: a second at most.
func refuse(c net.Conn, max int) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	msg := "Too many connections from your address (at most " + strconv.Itoa(max) + "); retry when one closes.\n"
	io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "+
		strconv.Itoa(len(msg))+"\r\n\r\n"+msg)
	// Half-close and drain what the client already sent, so closing does not
	// reset the connection before the client has read the answer.
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}
}

// limitedConn gives its slot back when closed. It keeps the optional methods
// net/http uses on a *net.TCPConn: ReadFrom (sendfile for S3 GETs of files)
// and CloseWrite (a graceful close after an unread body).
type limitedConn struct {
	wrapped
	l    *clientLimiter
	ip   string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

// wrapped is embedded by the server's connection wrappers (limitedConn,
// expectConn, prefixConn): it keeps the optional methods net/http uses on
// the connection underneath (sendfile, a graceful close), which embedding
// net.Conn alone would hide.
type wrapped struct{ net.Conn }

func (c wrapped) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c wrapped) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// tracker follows what shutdown must close at once rather than wait for:
// connections that have not sent a whole request yet, and request bodies
// that stopped arriving.
type tracker struct {
	mu       sync.Mutex
	fresh    map[net.Conn]struct{} // StateNew: no complete request yet
	bodies   map[*requestBody]net.Conn
	inFlight int
	idle     *sync.Cond
	open     atomic.Int64 // connections accepted and not yet closed
}

func newTracker() *tracker {
	t := &tracker{fresh: map[net.Conn]struct{}{}, bodies: map[*requestBody]net.Conn{}}
	t.idle = sync.NewCond(&t.mu)
	return t
}

// connState is the http.Server's ConnState hook.
func (t *tracker) connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		t.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		t.open.Add(-1)
	}
	t.mu.Lock()
	if st == http.StateNew {
		t.fresh[c] = struct{}{}
	} else {
		delete(t.fresh, c)
	}
	t.mu.Unlock()
}

// begin records a request in flight, and its body when it has one; end undoes
// it.
func (t *tracker) begin(b *requestBody) {
	t.mu.Lock()
	t.inFlight++
	if b != nil && b.conn != nil {
		t.bodies[b] = b.conn
	}
	t.mu.Unlock()
}

func (t *tracker) end(b *requestBody) {
	t.mu.Lock()
	t.inFlight--
	if b != nil {
		delete(t.bodies, b)
	}
	if t.inFlight == 0 {
		t.idle.Broadcast()
	}
	t.mu.Unlock()
}

// closeStalled closes connections without a complete request, and expires
// the read deadline of bodies that sent nothing for stall (their requests
// then fail with RequestTimeout and finish).
func (t *tracker) closeStalled(stall time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.fresh {
		c.Close()
		delete(t.fresh, c)
	}
	for b, c := range t.bodies {
		if b.stalled(stall) {
			c.SetReadDeadline(time.Now())
		}
	}
}

// expireAll ends every pending body read now.
func (t *tracker) expireAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.bodies {
		c.SetReadDeadline(time.Now())
	}
}

// wait returns when no request is in flight, or at ctx's end.
func (t *tracker) wait(ctx context.Context) bool {
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.idle.Broadcast()
		t.mu.Unlock()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.inFlight > 0 && ctx.Err() == nil {
		t.idle.Wait()
	}
	return t.inFlight == 0
}
