package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// TestClientLimiterRefusesOverTheCapAndFreesSlots: with a cap of 2, a third
// connection from the address is answered 503 and closed; closing an
// accepted one lets the next in.
func TestClientLimiterRefusesOverTheCapAndFreesSlots(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitPerClient(raw, 2)
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	defer second.Close()

	over := dial()
	over.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(over), nil)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third connection: %v %v, want 503", resp, err)
	}

	first.Close()
	dial()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the slot of a closed connection was not freed")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// failingReader returns data, then err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func (f *failingReader) Close() error { return nil }

// TestRequestBodyNamesEveryWayABodyFails: what net/http reports as an
// unexpected EOF or a timeout reaches readers as an AWS error that no reader
// can take for a clean end, and a streamed body stops at its service's limit.
func TestRequestBodyNamesEveryWayABodyFails(t *testing.T) {
	limit := &bodyLimit{max: 10, stream: true, code: "TooBig", status: 413, msg: "too big"}
	tests := []struct {
		name     string
		src      io.ReadCloser
		declared int64
		limit    *bodyLimit
		code     string
		msg      string
	}{
		{"cut short of Content-Length", &failingReader{"abc", io.ErrUnexpectedEOF}, 100, nil, "IncompleteBody", "Content-Length"},
		{"chunked body without its last chunk", &failingReader{"abc", io.ErrUnexpectedEOF}, -1, nil, "IncompleteBody", "terminated unexpectedly"},
		{"reset by the client", &failingReader{"abc", errors.New("connection reset by peer")}, 100, nil, "IncompleteBody", "Content-Length"},
		{"idle deadline", &failingReader{"abc", timeoutErr{}}, 100, nil, "RequestTimeout", "timeout period"},
		{"over the service's limit", &failingReader{strings.Repeat("x", 11), io.EOF}, -1, limit, "TooBig", "too big"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &requestBody{src: tt.src, declared: tt.declared, limit: tt.limit}
			_, err := io.ReadAll(b)
			e := apierr.As(err)
			if e == nil || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v, want %s (%s)", err, tt.code, tt.msg)
			}
			if _, again := b.Read(make([]byte, 1)); apierr.As(again) != e {
				t.Errorf("a read after the failure: %v, want the same error", again)
			}
		})
	}
	b := &requestBody{src: &failingReader{strings.Repeat("x", 10), io.EOF}, declared: 10, limit: limit}
	if got, err := io.ReadAll(b); err != nil || len(got) != 10 {
		t.Errorf("a body of exactly the limit: %d bytes, %v", len(got), err)
	}
}

// TestTrackerClosesFreshConnectionsAndWaitsForRequests: shutdown's view of
// the server. A connection with no complete request is closed at once; wait
// returns when the last request ends, or at its context's end.
func TestTrackerClosesFreshConnectionsAndWaitsForRequests(t *testing.T) {
	tr := newTracker()
	client, server := net.Pipe()
	defer client.Close()
	tr.connState(server, http.StateNew)
	tr.closeStalled(time.Second)
	if _, err := server.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("a fresh connection survived closeStalled: write %v", err)
	}

	tr.begin(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if tr.wait(ctx) {
		t.Error("wait reported no request in flight while one was")
	}
	go tr.end(nil)
	if !tr.wait(context.Background()) {
		t.Error("wait did not see the request end")
	}
}
