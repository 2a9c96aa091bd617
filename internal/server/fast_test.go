package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/protocol"
)

// echoCodec runs one operation, Echo, whose input is the request's body and
// whose output is written as the response body, with the request's method
// in an Echo-Method header.
type echoCodec struct{}

func (echoCodec) Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error) {
	return svc.Operations()["Echo"], nil
}

func (echoCodec) Decode(_ *awsapi.Service, _ *awsapi.Operation, r *http.Request, in any) error {
	b, err := io.ReadAll(r.Body)
	*in.(*string) = string(b)
	return err
}

func (echoCodec) Encode(w http.ResponseWriter, r *http.Request, _ *awsapi.Service, _ *awsapi.Operation, out any, _ string) error {
	w.Header().Set("Echo-Method", r.Method)
	_, err := io.WriteString(w, out.(string))
	return err
}

func (echoCodec) EncodeError(w http.ResponseWriter, _ *http.Request, _ *awsapi.Service, e *apierr.Error, _ string) {
	w.WriteHeader(e.Status)
	io.WriteString(w, e.Code)
}

// startEcho serves Echo (handler: its input back, or what echo returns) on
// a loopback port, with args as wharf's flags, and returns the address and
// a func that shuts the server down and waits for Serve to return.
func startEcho(t *testing.T, echo awsapi.Handler, args ...string) (string, func()) {
	t.Helper()
	cfg, err := config.Parse(append([]string{"--ephemeral"}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if echo == nil {
		echo = func(_ context.Context, in any) (any, error) { return *in.(*string), nil }
	}
	desc := &awsapi.Service{ID: "s3", SigningName: "s3", EndpointPrefix: "s3", Protocols: []string{awsapi.ProtocolRestXML},
		Quirks:        awsapi.Quirks{VirtualHostedBuckets: true},
		OperationList: []awsapi.Operation{{Name: "Echo", NewInput: func() any { return new(string) }}}}
	srv := New(Options{Config: cfg, Services: []Registration{{Desc: desc, Handlers: map[string]awsapi.Handler{"Echo": echo}}},
		Codecs: map[string]protocol.Codec{awsapi.ProtocolRestXML: echoCodec{}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			stop()
		}
	})
	return ln.Addr().String(), stop
}

func dialT(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

func post(body string, extra ...string) string {
	return "POST /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\n" + strings.Join(extra, "") +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a response body: %v", err)
	}
	return resp, string(b)
}

// TestFastPathServesPipelinedRequestsAndHandsTheRestToNetHTTP: requests
// sent in one write are answered in order, the plain ones by the fast path
// and, from the first one that is not (chunked, then a GET), by net/http,
// which gets the bytes the fast path had already read.
func TestFastPathServesPipelinedRequestsAndHandsTheRestToNetHTTP(t *testing.T) {
	addr, _ := startEcho(t, nil)
	c := dialT(t, addr)
	big := strings.Repeat("x", maxFastBody+1)
	reqs := post("one") + post("") + post(big) +
		"POST /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthree\r\n0\r\n\r\n" +
		post("four") + "GET /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	if _, err := io.WriteString(c, reqs); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i, want := range []string{"one", "", big, "three", "four", ""} {
		resp, body := readResponse(t, br, "POST")
		if resp.StatusCode != 200 || body != want || resp.Close {
			t.Errorf("response %d: %s close=%v body %.20q, want 200 %.20q", i, resp.Status, resp.Close, body, want)
		}
		// net/http sends a body over its buffer chunked.
		if resp.Header.Get("Date") == "" || len(want) < 4096 && resp.ContentLength != int64(len(want)) {
			t.Errorf("response %d: Date %q, Content-Length %d", i, resp.Header.Get("Date"), resp.ContentLength)
		}
	}
}

// TestFastPathServesEveryPlainMethod: POSTs, PUTs, DELETEs, GETs and HEADs
// are served by the fast path, and from the first request it does not take
// (a chunked body) net/http serves the connection. The two frame a body of
// more than 4 KiB apart: the fast path by its length, net/http chunked; and
// the fast path answers a HEAD with the length its GET would have.
func TestFastPathServesEveryPlainMethod(t *testing.T) {
	big := strings.Repeat("g", 8<<10)
	addr, _ := startEcho(t, func(_ context.Context, in any) (any, error) {
		if s := *in.(*string); s != "" {
			return s, nil
		}
		return big, nil
	})
	c := dialT(t, addr)
	req := func(method, body string) string {
		return method + " /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
	}
	io.WriteString(c, req("PUT", big)+req("DELETE", "")+req("GET", "")+req("HEAD", "")+req("POST", "p")+
		"POST /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n0\r\n\r\n"+
		req("GET", "")+req("HEAD", ""))
	br := bufio.NewReader(c)
	for i, want := range []struct {
		method, body string
		length       int64 // -1: chunked
	}{{"PUT", big, 8 << 10}, {"DELETE", big, 8 << 10}, {"GET", big, 8 << 10}, {"HEAD", "", 8 << 10}, {"POST", "p", 1},
		{"POST", "c", 1}, {"GET", big, -1}, {"HEAD", "", -1}} {
		resp, body := readResponse(t, br, want.method)
		length := resp.ContentLength
		if len(resp.TransferEncoding) > 0 {
			length = -1
		}
		if resp.StatusCode != 200 || body != want.body || length != want.length {
			t.Errorf("response %d to %s: %s %d bytes, Content-Length %d, Transfer-Encoding %v; want %d bytes, length %d",
				i, want.method, resp.Status, len(body), resp.ContentLength, resp.TransferEncoding, len(want.body), want.length)
		}
	}
}

// TestFastPathStreamsALargeBody: a body over streamAfter is sent as the
// handler writes it, chunked when the handler set no length, and the
// connection serves the next request after it.
func TestFastPathStreamsALargeBody(t *testing.T) {
	addr, _ := startEcho(t, nil)
	c := dialT(t, addr)
	big := strings.Repeat("s", streamAfter+1)
	io.WriteString(c, post(big)+post("next"))
	br := bufio.NewReader(c)
	resp, body := readResponse(t, br, "POST")
	if resp.StatusCode != 200 || body != big || len(resp.TransferEncoding) == 0 || resp.Header.Get("Content-Type") == "" {
		t.Errorf("a body of %d bytes: %s, %d bytes, Transfer-Encoding %v, Content-Type %q; want it whole and chunked, with a type",
			len(big), resp.Status, len(body), resp.TransferEncoding, resp.Header.Get("Content-Type"))
	}
	if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || body != "next" {
		t.Errorf("the request after it: %s %q", resp.Status, body)
	}
}

// fastWriterPair returns a fastWriter writing to one end of a loopback
// TCP connection and a reader of the other end.
func fastWriterPair(t *testing.T, head bool) (*fastWriter, *bufio.Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client := dialT(t, ln.Addr().String())
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	w := &fastWriter{}
	w.reset()
	w.conn, w.isHead, w.keep = server, head, true
	return w, bufio.NewReader(client)
}

// TestFastWriterStreamsADeclaredLength: a streamed body the handler set a
// Content-Length for is framed by it. A write past it is not sent and
// fails with http.ErrContentLength, as in net/http, and a body that ends
// short of it, or was cut, closes the connection, the only way its client
// learns it is not whole.
func TestFastWriterStreamsADeclaredLength(t *testing.T) {
	for _, tc := range []struct {
		name    string
		declare int
		keep    bool
	}{{"exact", 2 * streamAfter, true}, {"short", 2*streamAfter + 10, false}, {"long", 2*streamAfter - 10, false}} {
		t.Run(tc.name, func(t *testing.T) {
			w, br := fastWriterPair(t, false)
			w.Header().Set("Content-Length", strconv.Itoa(tc.declare))
			w.Header().Set("Content-Type", "application/octet-stream")
			part := []byte(strings.Repeat("d", streamAfter))
			var errs []error
			for range 2 {
				_, err := w.Write(part)
				errs = append(errs, err)
			}
			out, keep := w.finish(&http.Request{Method: "GET"}, true)
			if len(out) != 0 || keep != tc.keep {
				t.Errorf("finish: %d bytes left to write, keep %v; want none, keep %v", len(out), keep, tc.keep)
			}
			if wantErr := tc.declare < 2*streamAfter; (errs[1] == http.ErrContentLength) != wantErr || errs[0] != nil {
				t.Errorf("the writes: %v", errs)
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.ContentLength != int64(tc.declare) || len(resp.TransferEncoding) > 0 {
				t.Errorf("Content-Length %d, Transfer-Encoding %v; want %d", resp.ContentLength, resp.TransferEncoding, tc.declare)
			}
			if tc.keep {
				b, err := io.ReadAll(resp.Body)
				if err != nil || len(b) != min(tc.declare, 2*streamAfter) {
					t.Errorf("the body: %d bytes, %v", len(b), err)
				}
			}
		})
	}
}

// TestFastWriterFlushSendsTheHeadAndWhatIsHeld: the console's event stream
// flushes each event; each reaches the client then, chunked.
func TestFastWriterFlushSendsTheHeadAndWhatIsHeld(t *testing.T) {
	w, br := fastWriterPair(t, false)
	var _ http.Flusher = w
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, ": hello\n\n")
	if err := http.NewResponseController(w).Flush(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) == 0 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("a flushed head: Transfer-Encoding %v, Content-Type %q", resp.TransferEncoding, resp.Header.Get("Content-Type"))
	}
	line := make([]byte, len(": hello\n\n"))
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != ": hello\n\n" {
		t.Fatalf("the first event: %q, %v", line, err)
	}
	io.WriteString(w, "data: 1\n\n")
	w.Flush()
	line = make([]byte, len("data: 1\n\n"))
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "data: 1\n\n" {
		t.Fatalf("the second event: %q, %v", line, err)
	}
	if out, keep := w.finish(&http.Request{Method: "GET"}, true); len(out) != 0 || !keep {
		t.Errorf("finish: %d bytes, keep %v", len(out), keep)
	}
	if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != 0 {
		t.Errorf("the end of the stream: %q, %v", rest, err)
	}
}

// TestFastWriterFlushOfAHeadSendsTheHead: a HEAD whose handler flushes and
// goes on (the console's event stream, asked with HEAD) gets its head then,
// as from net/http, not when the handler returns, which may be never.
func TestFastWriterFlushOfAHeadSendsTheHead(t *testing.T) {
	w, br := fastWriterPair(t, true)
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, ": hello\n\n")
	if err := w.FlushError(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(resp.TransferEncoding) > 0 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("a flushed HEAD: %s, Transfer-Encoding %v, Content-Type %q", resp.Status, resp.TransferEncoding, resp.Header.Get("Content-Type"))
	}
	io.WriteString(w, "data: 1\n\n")
	if out, keep := w.finish(&http.Request{Method: "HEAD"}, true); len(out) != 0 || !keep {
		t.Errorf("finish: %d bytes, keep %v", len(out), keep)
	}
	if br.Buffered() != 0 {
		t.Errorf("a HEAD's body was sent")
	}
}

// TestFastWriterFramesABadContentLengthByLength: a Content-Length a handler
// set that is not a length is dropped and the body framed by its own, as
// net/http does (a negative one once cut the body at -1 and panicked); a
// Connection: keep-alive it set becomes close when the connection closes.
func TestFastWriterFramesABadContentLengthByLength(t *testing.T) {
	for _, cl := range []string{"-1", "abc"} {
		w := &fastWriter{}
		w.reset()
		w.Header().Set("Content-Length", cl)
		w.Header().Set("Connection", "keep-alive")
		io.WriteString(w, "abc")
		out, keep := w.finish(&http.Request{Method: "GET"}, false)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("Content-Length %q: %v: %q", cl, err, out)
		}
		b, _ := io.ReadAll(resp.Body)
		if keep || string(b) != "abc" || resp.ContentLength != 3 || !resp.Close ||
			!bytes.Contains(out, []byte("\r\nConnection: close\r\n")) || bytes.Contains(out, []byte("keep-alive")) {
			t.Errorf("Content-Length %q: keep %v, %q, length %d, close %v: %q", cl, keep, b, resp.ContentLength, resp.Close, out)
		}
	}
}

// TestFastWriterAnswersAHead: a HEAD's response has no body, and the
// length the handler set, or else that of what it wrote, however long.
func TestFastWriterAnswersAHead(t *testing.T) {
	for _, tc := range []struct {
		name    string
		declare string
		write   int
		want    int64
	}{{"declared", "123", 0, 123}, {"written", "", 3 * streamAfter, 3 * streamAfter}, {"nothing", "", 0, -1}} {
		t.Run(tc.name, func(t *testing.T) {
			w, br := fastWriterPair(t, true)
			if tc.declare != "" {
				w.Header().Set("Content-Length", tc.declare)
			}
			w.Write(make([]byte, tc.write))
			out, keep := w.finish(&http.Request{Method: "HEAD"}, true)
			if !keep {
				t.Errorf("a HEAD closed the connection")
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), &http.Request{Method: "HEAD"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.ContentLength != tc.want || !bytes.HasSuffix(out, []byte("\r\n\r\n")) {
				t.Errorf("Content-Length %d, want %d: %q", resp.ContentLength, tc.want, out)
			}
			if br.Buffered() != 0 {
				t.Errorf("a HEAD streamed")
			}
		})
	}
}

// TestFastPathConnectionClose: a request with Connection: close is answered
// with it, and the connection ends after the response.
func TestFastPathConnectionClose(t *testing.T) {
	addr, _ := startEcho(t, nil)
	c := dialT(t, addr)
	io.WriteString(c, post("bye", "Connection: close\r\n")+post("unread"))
	br := bufio.NewReader(c)
	resp, body := readResponse(t, br, "POST")
	if !resp.Close || body != "bye" {
		t.Errorf("got close=%v %q, want Connection: close and bye", resp.Close, body)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after the response: %d bytes, %v; want EOF", n, err)
	}
}

// TestFastPathLeavesMalformedHeadsToNetHTTP: heads the fast path does not
// take get net/http's answer, a 400 for each of these.
func TestFastPathLeavesMalformedHeadsToNetHTTP(t *testing.T) {
	addr, _ := startEcho(t, nil)
	for _, head := range []string{
		"POST /b/k HTTP/1.1\r\nContent-Length: 0\r\n\r\n", // no Host
		"POST /b/k HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"POST /b/k HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
		"POST /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
		"POST /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
		"POST /b/k HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", // a TLS hello
	} {
		c := dialT(t, addr)
		io.WriteString(c, head)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 400 {
			t.Errorf("%q: %v %v, want 400", head, resp, err)
		}
	}
}

// waitForCancel returns an Echo handler that closes waiting once called and
// then waits, for 20 s at most, for its context to end, sending the
// context's error to cancelled (nil if it never ended).
func waitForCancel() (echo awsapi.Handler, waiting chan struct{}, cancelled chan error) {
	waiting, cancelled = make(chan struct{}), make(chan error, 1)
	echo = func(ctx context.Context, in any) (any, error) {
		close(waiting)
		select {
		case <-ctx.Done():
			cancelled <- ctx.Err()
		case <-time.After(20 * time.Second):
			cancelled <- nil
		}
		return "", nil
	}
	return echo, waiting, cancelled
}

// TestFastPathCancelsARequestWhoseClientLeft: a request waiting on its
// context (a long poll) is cancelled when its client closes the
// connection, as net/http's background read does.
func TestFastPathCancelsARequestWhoseClientLeft(t *testing.T) {
	echo, waiting, cancelled := waitForCancel()
	addr, _ := startEcho(t, echo)
	c := dialT(t, addr)
	io.WriteString(c, post("wait"))
	<-waiting
	c.Close()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("the request's context: %v, want Canceled", err)
	}
}

// TestFastPathKeepsAPipelinedRequestAcrossAWait: the background read of a
// waiting request keeps the byte it reads for the next request (dropped,
// the next request's method would read OST, which net/http would serve).
func TestFastPathKeepsAPipelinedRequestAcrossAWait(t *testing.T) {
	waiting, release := make(chan struct{}), make(chan struct{})
	addr, _ := startEcho(t, func(ctx context.Context, in any) (any, error) {
		if *in.(*string) == "wait" {
			done := ctx.Done() // starts the background read
			close(waiting)
			select {
			case <-done:
				return "", ctx.Err()
			case <-release:
			}
		}
		return *in.(*string), nil
	})
	c := dialT(t, addr)
	io.WriteString(c, post("wait"))
	<-waiting
	next := post("next")
	io.WriteString(c, next)
	// The first request ends once the background read has taken the next
	// one's first byte: when the server's socket holds only the rest.
	waitUnread(t, c, len(next)-1)
	close(release)
	br := bufio.NewReader(c)
	for _, want := range []string{"wait", "next"} {
		if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || body != want || resp.Header.Get("Echo-Method") != "POST" {
			t.Errorf("got %s %q to a %s, want 200 %q to a POST", resp.Status, body, resp.Header.Get("Echo-Method"), want)
		}
	}
}

// waitUnread waits until the server's end of c has n bytes received and not
// yet read, as Linux's /proc/net/tcp reports (rx_queue).
func waitUnread(t *testing.T, c net.Conn, n int) {
	t.Helper()
	local, remote := c.RemoteAddr().(*net.TCPAddr).Port, c.LocalAddr().(*net.TCPAddr).Port
	lport, rport := fmt.Sprintf(":%04X", local), fmt.Sprintf(":%04X", remote)
	got := "no socket"
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		tab, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			t.Skipf("the server's unread bytes cannot be seen here: %v", err)
		}
		for _, line := range strings.Split(string(tab), "\n") {
			// sl local_address rem_address st tx_queue:rx_queue ...
			f := strings.Fields(line)
			if len(f) < 5 || !strings.HasSuffix(f[1], lport) || !strings.HasSuffix(f[2], rport) {
				continue
			}
			_, rx, _ := strings.Cut(f[4], ":")
			if v, err := strconv.ParseInt(rx, 16, 64); err == nil && v == int64(n) {
				return
			}
			got = "rx_queue " + rx
		}
	}
	t.Fatalf("the server's socket never held %d unread bytes (last: %s)", n, got)
}

// TestShutdownClosesIdleFastConnectionsAndFinishesInFlightOnes: at
// shutdown a connection waiting for its next request is closed at once; a
// request being served is answered, with Connection: close.
func TestShutdownClosesIdleFastConnectionsAndFinishesInFlightOnes(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	addr, stop := startEcho(t, func(ctx context.Context, in any) (any, error) {
		if *in.(*string) == "slow" {
			close(entered)
			<-release
		}
		return *in.(*string), nil
	})
	idle, busy := dialT(t, addr), dialT(t, addr)
	io.WriteString(idle, post("fast"))
	idleR := bufio.NewReader(idle)
	readResponse(t, idleR, "POST")
	io.WriteString(busy, post("slow"))
	<-entered
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	if n, err := idleR.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("the idle connection: read %d, %v; want it closed", n, err)
	}
	close(release)
	resp, body := readResponse(t, bufio.NewReader(busy), "POST")
	if body != "slow" || !resp.Close {
		t.Errorf("the request in flight: %q close=%v, want slow with Connection: close", body, resp.Close)
	}
	<-stopped
}

// TestShutdownCancelsFastRequestsPastTheGrace: a request still waiting
// when the shutdown grace ends has its context cancelled, and Serve returns.
func TestShutdownCancelsFastRequestsPastTheGrace(t *testing.T) {
	echo, waiting, cancelled := waitForCancel()
	addr, stop := startEcho(t, echo, "--shutdown-grace", "100ms")
	c := dialT(t, addr)
	io.WriteString(c, post("wait"))
	<-waiting
	stop()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("the request's context: %v, want Canceled", err)
	}
}

// TestFastPathClosesAHeadThatStops: a client that sends part of a head and
// stops is cut off at the header timeout.
func TestFastPathClosesAHeadThatStops(t *testing.T) {
	addr, _ := startEcho(t, nil, "--header-timeout", "100ms")
	c := dialT(t, addr)
	io.WriteString(c, "POST /b/k HTTP/1.1\r\nHost: a\r\n")
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("reading until the server closed: %v", err)
	}
}

// TestFastPathAnswersABodyThatDoesNotArriveWhole: a body cut short, or
// that stops for the body idle timeout, reaches the handler as net/http's
// would, and the connection closes after the answer.
func TestFastPathAnswersABodyThatDoesNotArriveWhole(t *testing.T) {
	addr, _ := startEcho(t, nil, "--body-idle-timeout", "100ms")
	for _, tc := range []struct {
		name, want string
		halfClose  bool
	}{{"cut short", "IncompleteBody", true}, {"stopped", "RequestTimeout", false}} {
		c := dialT(t, addr)
		io.WriteString(c, "POST /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
		if tc.halfClose {
			c.(*net.TCPConn).CloseWrite()
		}
		resp, body := readResponse(t, bufio.NewReader(c), "POST")
		if resp.StatusCode != 400 || body != tc.want || !resp.Close {
			t.Errorf("%s: %s %q close=%v, want 400 %s and Connection: close", tc.name, resp.Status, body, resp.Close, tc.want)
		}
	}
}

// TestParseFastHeadKeepsEachValueAsSent checks the values the fast path
// cuts from one copy of the head: trimmed of the spaces and tabs around
// them (not inside), a name sent twice has both in order, and each name's
// values are a slice of their own, which an append to does not write into
// the next name's.
func TestParseFastHeadKeepsEachValueAsSent(t *testing.T) {
	head := "POST / HTTP/1.1\r\nHost:  h:1 \r\nX-A:\t a b \t\r\nX-B: 1\r\nx-a: second\r\nX-Empty:\r\nX-C:c\r\n\r\n"
	p, ok := parseFastHead([]byte(head))
	if !ok {
		t.Fatal("not parsed")
	}
	want := http.Header{"X-A": {"a b", "second"}, "X-B": {"1"}, "X-Empty": {""}, "X-C": {"c"}}
	if p.host != "h:1" || !reflect.DeepEqual(p.header, want) {
		t.Fatalf("host %q, header %q; want h:1, %q", p.host, p.header, want)
	}
	p.header["X-B"] = append(p.header["X-B"], "2")
	if got := p.header["X-Empty"]; len(got) != 1 || got[0] != "" {
		t.Errorf("appending to X-B changed X-Empty to %q", got)
	}
	if got := p.header["X-A"]; !slices.Equal(got, []string{"a b", "second"}) {
		t.Errorf("appending to X-B changed X-A to %q", got)
	}
}

func TestParseFastHead(t *testing.T) {
	const sdk = "POST / HTTP/1.1\r\nHost: 127.0.0.1:4566\r\nUser-Agent: aws-sdk-go-v2/1.30\r\nContent-Length: 120\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nX-Amz-Date: 20261206T150000Z\r\nAccept-Encoding: gzip\r\n\r\n"
	p, ok := parseFastHead([]byte(sdk))
	if !ok || p.host != "127.0.0.1:4566" || p.length != 120 || p.url.Path != "/" || p.close ||
		p.header.Get("Content-Type") != "application/x-www-form-urlencoded" || p.header.Get("Host") != "" || len(p.header) != 5 {
		t.Errorf("an SDK's head: %+v %v", p, ok)
	}
	if p, ok := parseFastHead([]byte("POST /q?x=1 HTTP/1.1\r\nhost: h\r\nconnection: Keep-Alive, close\r\nx-amz-target: A.B\r\n\r\n")); !ok ||
		!p.close || p.header.Get("X-Amz-Target") != "A.B" || p.url.RawQuery != "x=1" || p.length != 0 {
		t.Errorf("lower-case names, Connection: close: %+v %v", p, ok)
	}
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodGet, http.MethodHead} {
		length := "3"
		if method == http.MethodGet || method == http.MethodHead {
			length = "0"
		}
		if p, ok := parseFastHead([]byte(method + " /b/k?uploadId=1 HTTP/1.1\r\nHost: b.h\r\nContent-Length: " + length + "\r\n\r\n")); !ok ||
			p.method != method || strconv.FormatInt(p.length, 10) != length || p.url.Path != "/b/k" || p.host != "b.h" {
			t.Errorf("a %s: %+v %v", method, p, ok)
		}
	}
	if p, ok := parseFastHead([]byte("GET /_wharf/health HTTP/1.1\r\nHost: h\r\nUser-Agent: curl\r\nContent-Length: 0\r\n\r\n")); !ok ||
		p.method != http.MethodGet || p.url.Path != "/_wharf/health" || p.length != 0 {
		t.Errorf("the health check: %+v %v", p, ok)
	}
	for _, head := range []string{
		"GET /_wharf/health HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n",
		"HEAD /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n",
		"OPTIONS /b/k HTTP/1.1\r\nHost: h\r\n\r\n",
		"PATCH /b/k HTTP/1.1\r\nHost: h\r\n\r\n",
		"put /b/k HTTP/1.1\r\nHost: h\r\n\r\n",
		"PUT /b/k HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
		"POST / HTTP/1.0\r\nHost: h\r\n\r\n",
		"POST / HTTP/1.1\nHost: h\n\n",
		"POST * HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\n X: folded\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n",
		fmt.Sprintf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", maxFastBody+1),
		"POST / HTTP/1.1\r\nHost: h/x\r\n\r\n",
		"POST / HTTP/1.1\r\n\r\n",
	} {
		if p, ok := parseFastHead([]byte(head)); ok {
			t.Errorf("%q taken: %+v", head, p)
		}
	}
}

// FuzzParseFastHeadAgreesWithNetHTTP: a head the fast path takes is one
// net/http's server takes too, read the same way.
func FuzzParseFastHeadAgreesWithNetHTTP(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nHost: 127.0.0.1:4566\r\nUser-Agent: aws-sdk-go-v2/1.30\r\nContent-Length: 120\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Amz-Date: 20261206T150000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"))
	f.Add([]byte("POST /q?x=%20 HTTP/1.1\r\nhost: h\r\nconnection: close\r\ncontent-length:  007 \r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: [::1]:80\r\nX: a\tb\r\nX: c\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200\r\n\r\n"))
	f.Add([]byte("GET /_wharf/health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
	f.Add([]byte("PUT /b/k?partNumber=1&uploadId=x HTTP/1.1\r\nHost: b.s3.localhost\r\nContent-Length: 5\r\nX-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\n\r\n"))
	f.Add([]byte("DELETE /b HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		p, ok := parseFastHead(head)
		if !ok {
			return
		}
		br := bufio.NewReaderSize(bytes.NewReader(head), len(head)+16)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("%q: taken, but net/http refuses it: %v", head, err)
		}
		if br.Buffered() != 0 || req.Method != p.method || req.RequestURI != p.target || req.URL.String() != p.url.String() ||
			req.Host != p.host || req.ContentLength != p.length || req.Close != p.close || len(req.TransferEncoding) > 0 {
			t.Fatalf("%q: fast %+v; net/http %s %s host %q length %d close %v, %d bytes left",
				head, p, req.Method, req.RequestURI, req.Host, req.ContentLength, req.Close, br.Buffered())
		}
		if fmt.Sprint(req.Header) != fmt.Sprint(p.header) {
			t.Fatalf("%q: fast header %v; net/http %v", head, p.header, req.Header)
		}
	})
}

// TestShutdownClosesAPipelinedHeadThatStops: a connection that sent a
// request and the start of the next one, then stopped, is closed at
// shutdown as a stalled head, not waited on for the whole grace (the state
// once stayed "serving" after the first response).
func TestShutdownClosesAPipelinedHeadThatStops(t *testing.T) {
	addr, stop := startEcho(t, nil, "--header-timeout", "10m", "--shutdown-grace", "10m")
	c := dialT(t, addr)
	io.WriteString(c, post("one")+"POST /b/k HTTP/1.1\r\nHost: a\r\n")
	br := bufio.NewReader(c)
	readResponse(t, br, "POST")
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the stalled connection: read %d, %v; want it closed", n, err)
	}
	<-stopped
}

// TestFastPathHandsALongHeadToNetHTTP: a head longer than maxFastHead goes
// to net/http; it was once served as a request with no URL, whose panic
// closed the connection unanswered.
func TestFastPathHandsALongHeadToNetHTTP(t *testing.T) {
	addr, _ := startEcho(t, nil)
	c := dialT(t, addr)
	io.WriteString(c, post("long", "X-Long: "+strings.Repeat("x", maxFastHead)+"\r\n")+post("next"))
	br := bufio.NewReader(c)
	// The echo service is S3's, which refuses a header section over 8 KiB.
	if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 400 || body != "RequestHeaderSectionTooLarge" {
		t.Errorf("a long head: %s %q, want 400 RequestHeaderSectionTooLarge", resp.Status, body)
	}
	if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || body != "next" {
		t.Errorf("the request after it: %s %q, want 200 next", resp.Status, body)
	}
}

// TestFastPathSkipsTheEmptyLineAfterABody: up to 4 CR or LF bytes an old
// client sends after a POST's body are skipped, as net/http skips them; a
// connection handed to net/http with them answered 400 (net/http skips
// them only after a POST it served).
func TestFastPathSkipsTheEmptyLineAfterABody(t *testing.T) {
	addr, _ := startEcho(t, nil)
	c := dialT(t, addr)
	io.WriteString(c, post("one")+"\r\n"+post("two"))
	br := bufio.NewReader(c)
	for _, want := range []string{"one", "two"} {
		if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || body != want {
			t.Errorf("got %s %q, want 200 %q", resp.Status, body, want)
		}
	}
}

// TestFastPathServesTheHealthCheck: GET /_wharf/health, the one request an
// idle wharf gets, is answered on the fast path's connection, which goes on
// serving; the empty line an old client sends after a body is skipped after
// a POST only, as net/http skips it, so the one after the health check gets
// net/http's 400.
func TestFastPathServesTheHealthCheck(t *testing.T) {
	addr, _ := startEcho(t, nil)
	c := dialT(t, addr)
	health := "GET /_wharf/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	io.WriteString(c, health+post("one")+health+"\r\n"+post("two"))
	br := bufio.NewReader(c)
	for i, want := range []struct {
		method string
		status int
		body   string
	}{{"GET", 200, `"status":"running"`}, {"POST", 200, "one"}, {"GET", 200, `"status":"running"`}, {"POST", 400, ""}} {
		resp, body := readResponse(t, br, want.method)
		if resp.StatusCode != want.status || !strings.Contains(body, want.body) {
			t.Errorf("response %d: %s %q, want %d with %q", i, resp.Status, body, want.status, want.body)
		}
		if want.method == "GET" && (resp.Header.Get("Content-Type") != "application/json" || resp.ContentLength != int64(len(body)) || resp.Close) {
			t.Errorf("health answer: %v, length %d, close %v", resp.Header, resp.ContentLength, resp.Close)
		}
	}
}

// TestFastResponsesAreFramedAsNetHTTPFramesThem: what a handler writes
// reaches the client with the status line, headers and body net/http would
// send (Date aside), for the responses whose framing net/http adjusts: no
// length or type on a 204 or 304, a reason for a code it has no name for,
// header names that are not tokens dropped, no sniffed type on an encoded
// body. Where the handler set a Transfer-Encoding, net/http chunks the body
// and the fast path frames it by its length: the same body and headers
// arrive either way.
func TestFastResponsesAreFramedAsNetHTTPFramesThem(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"204 with a length and a type": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "5")
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNoContent)
		},
		"304 with a type": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Etag", `"x"`)
			w.WriteHeader(http.StatusNotModified)
		},
		"a code without a name": func(w http.ResponseWriter) {
			w.WriteHeader(599)
			io.WriteString(w, "odd")
		},
		"header names that are not tokens": func(w http.ResponseWriter) {
			w.Header()["Bad Key"] = []string{"v"}
			w.Header()["X-Injected\r\nEvil"] = []string{"v"}
			w.Header().Set("X-Ok", "v")
			io.WriteString(w, "{}")
		},
		"an encoded body without a type": func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
		},
		"a Transfer-Encoding set by the handler": func(w http.ResponseWriter) {
			w.Header().Set("Transfer-Encoding", "chunked")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"a":1}`)
		},
	}
	for name, handle := range cases {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { handle(w) })}
			go hs.Serve(ln)
			defer hs.Close()
			c := dialT(t, ln.Addr().String())
			io.WriteString(c, post("x"))
			want, wantBody := readResponse(t, bufio.NewReader(c), http.MethodPost)

			var fw fastWriter
			fw.reset()
			handle(&fw)
			r := &http.Request{Method: http.MethodPost}
			out, _ := fw.finish(r, true)
			got, gotBody := readResponse(t, bufio.NewReader(bytes.NewReader(out)), http.MethodPost)

			want.Header.Del("Date")
			got.Header.Del("Date")
			if want.TransferEncoding != nil { // chunked by net/http
				want.ContentLength, want.TransferEncoding = got.ContentLength, nil
				got.Header.Del("Content-Length")
			}
			if got.Status != want.Status || gotBody != wantBody || fmt.Sprint(got.Header) != fmt.Sprint(want.Header) ||
				got.ContentLength != want.ContentLength || fmt.Sprint(got.TransferEncoding) != fmt.Sprint(want.TransferEncoding) {
				t.Errorf("fast path sent %q %v (length %d, %v) %q\nnet/http sent %q %v (length %d, %v) %q", got.Status, got.Header, got.ContentLength, got.TransferEncoding, gotBody,
					want.Status, want.Header, want.ContentLength, want.TransferEncoding, wantBody)
			}
		})
	}
}

// TestAppendDateIsTheSecondsDate checks the fast writer's Date value against
// http.TimeFormat's for instants across second boundaries, in and out of
// order, as responses of several connections may ask for them.
func TestAppendDateIsTheSecondsDate(t *testing.T) {
	base := time.Date(2026, 12, 7, 13, 59, 58, 0, time.FixedZone("CET", 3600))
	for _, d := range []time.Duration{0, 999 * time.Millisecond, time.Second, 1500 * time.Millisecond, 400 * time.Millisecond, 3 * time.Second, -time.Hour, 2*time.Second + time.Nanosecond} {
		now := base.Add(d)
		got := string(appendDate([]byte("x"), now))
		if want := "x" + now.UTC().Format(http.TimeFormat); got != want {
			t.Errorf("appendDate(%v) = %q, want %q", now, got, want)
		}
	}
}

// TestAppendDateConcurrently: responses of many connections at once, with
// instants going forward and back across second boundaries (a clock step),
// each get their own second's date, never another's (run it with -race).
func TestAppendDateConcurrently(t *testing.T) {
	base := time.Date(2026, 12, 7, 13, 59, 58, 0, time.UTC)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				// Goroutines step by different amounts, some backwards.
				now := base.Add(time.Duration((i*(g+1)*137)%5000-1000) * time.Millisecond)
				got := appendDate(nil, now)
				if want := now.UTC().Format(http.TimeFormat); string(got) != want {
					t.Errorf("appendDate(%v) = %q, want %q", now, got, want)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
