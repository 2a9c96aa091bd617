package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// requestBody is every request body as codecs and services read it. It turns
// the ways a body can fail to arrive into AWS errors that no reader can take for
// a clean end: net/http reports a body cut short of its Content-Length (or of
// its final chunk) as io.ErrUnexpectedEOF, which io.ReadFull also returns for a
// body that was merely short, so a truncated upload was once stored as a short
// object. It also gives each read an idle deadline, so a client that stops
// sending mid-body is failed instead of holding its connection forever, and it
// stops at the service's largest request body.
type requestBody struct {
	src      io.ReadCloser
	conn     net.Conn // for the idle deadline; nil when unknown
	idle     time.Duration
	declared int64 // Content-Length, or -1 when unknown (chunked)
	read     int64
	sawEOF   bool
	limit    *bodyLimit // nil: none
	err      *apierr.Error

	// lastRead is when a read last returned bytes (unix nanoseconds), and
	// blocked is set while a read waits on the client: shutdown closes bodies
	// that stalled.
	lastRead atomic.Int64
	blocked  atomic.Bool
	// armed is when the idle deadline was last set (unix nanoseconds).
	armed int64
}

func newRequestBody(r *http.Request, conn net.Conn, idle time.Duration) *requestBody {
	b := &requestBody{src: r.Body, conn: conn, idle: idle, declared: r.ContentLength}
	now := time.Now()
	b.lastRead.Store(now.UnixNano())
	if conn != nil && idle > 0 {
		// Set now, not only on the first read: a body the operation never
		// reads is drained by net/http after the handler, before the response
		// goes out, and that wait needs the deadline too.
		conn.SetReadDeadline(now.Add(idle))
		b.armed = now.UnixNano()
	}
	return b
}

// rearmSlack is the share of the idle timeout a read may start after the
// deadline was set without setting it again: a small body is read moments
// after the request arrives, and each deadline set is a runtime timer
// changed. A client is cut off at most idle/rearmSlack early.
const rearmSlack = 64

func (b *requestBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.limit != nil && b.limit.stream && int64(len(p)) > b.limit.max-b.read+1 {
		// Read one byte past the limit at most, to tell "at" from "over".
		p = p[:b.limit.max-b.read+1]
	}
	if b.conn != nil && b.idle > 0 {
		if now := time.Now(); now.UnixNano()-b.armed > int64(b.idle/rearmSlack) {
			b.conn.SetReadDeadline(now.Add(b.idle))
			b.armed = now.UnixNano()
		}
	}
	b.blocked.Store(true)
	n, err := b.src.Read(p)
	b.blocked.Store(false)
	b.read += int64(n)
	if n > 0 {
		b.lastRead.Store(time.Now().UnixNano())
	}
	if b.limit != nil && b.limit.stream && b.read > b.limit.max {
		b.err = b.limit.err()
		return 0, b.err
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		b.sawEOF = true
		// Clear the deadline: once the body is read, net/http waits on the
		// connection in the background to notice a client going away, and
		// that wait must not time out while the operation runs.
		if b.conn != nil && b.idle > 0 {
			b.conn.SetReadDeadline(time.Time{})
		}
		return n, io.EOF
	}
	b.err = b.failure(err)
	return n, b.err
}

// failure is the AWS error for a body that stopped arriving because of err.
func (b *requestBody) failure(err error) *apierr.Error {
	if e := apierr.As(err); e != nil {
		return e
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return requestTimeout()
	}
	if b.declared >= 0 {
		return apierr.New("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header")
	}
	return apierr.New("IncompleteBody", 400, "The request body terminated unexpectedly")
}

func (b *requestBody) Close() error { return b.src.Close() }

// drainLimit bounds how much of an unread body drain discards: enough for
// any part or object a client sends in one go without streaming, small enough
// that a refused multi-gigabyte upload is cut off quickly.
const drainLimit = 64 << 20

// continueWait is how long drain waits for the first byte of a body whose
// client asked for 100 Continue and never got it. Such a client normally
// sends nothing after a final response, but SDKs stop waiting for 100
// Continue after a second or so (aws-sdk-go-v2, botocore) and send the body
// anyway, so it may be on its way.
const continueWait = 2 * time.Second

// drain reads and discards what is left of a body the operation answered
// without reading (an error found first: no such bucket, access denied, a
// full disk), after the response has gone out.
//
// net/http closes such a connection with the body's bytes unread, and closing
// a TCP socket with unread data sends a reset, which can reach the client
// before it has read the response: the SDK then reports "connection reset by
// peer" instead of the AWS error, and retries a request that will fail the
// same way. Reading the rest first lets the close be a clean one.
func (b *requestBody) drain(w http.ResponseWriter, r *http.Request) {
	if b == nil || b.sawEOF || b.err != nil || b.conn == nil || (b.declared >= 0 && b.read >= b.declared) {
		return
	}
	wait := b.idle
	if expectsContinue(r) && b.read == 0 {
		wait = continueWait
	}
	if wait <= 0 {
		wait = continueWait
	}
	// The response first: the client reads it while it still sends.
	if http.NewResponseController(w).Flush() != nil {
		return
	}
	buf := make([]byte, 32<<10)
	for left := int64(drainLimit); left > 0; {
		b.conn.SetReadDeadline(time.Now().Add(wait))
		b.blocked.Store(true)
		n, err := b.src.Read(buf[:min(int64(len(buf)), left)])
		b.blocked.Store(false)
		left -= int64(n)
		if n > 0 {
			b.lastRead.Store(time.Now().UnixNano())
		}
		if err != nil {
			break
		}
	}
	b.conn.SetReadDeadline(time.Time{})
}

// stalled reports whether the body is waiting on a client that sent nothing
// for at least d.
func (b *requestBody) stalled(d time.Duration) bool {
	return b.blocked.Load() && time.Since(time.Unix(0, b.lastRead.Load())) >= d
}

// requestTimeout is S3's error for a client that stopped sending; the other
// services get the same code, as no model names one for it.
func requestTimeout() *apierr.Error {
	return apierr.New("RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
}

// bodyLimit is the largest request body a service accepts, and the error AWS
// answers a larger one with.
type bodyLimit struct {
	max int64
	// stream counts the body's bytes as they are read, for bodies without a
	// Content-Length; without it only the declared length is checked (S3,
	// whose aws-chunked bodies are longer on the wire than the object, and
	// which counts the object's bytes itself).
	stream bool
	code   string
	status int
	msg    string
	fields func(max int64) map[string]any
}

func (l *bodyLimit) err() *apierr.Error {
	e := apierr.New(l.code, l.status, "%s", l.msg)
	if l.fields != nil {
		e.Fields = l.fields(l.max)
	}
	return e
}
