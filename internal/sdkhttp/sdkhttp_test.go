package sdkhttp

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// seen records the request a transport is handed.
type seen struct{ req *http.Request }

func (s *seen) RoundTrip(r *http.Request) (*http.Response, error) {
	s.req = r
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
}

// writerToBody is a body that, like smithy-go's, has a WriteTo of its own.
type writerToBody struct{ *bytes.Reader }

func (writerToBody) Close() error { return nil }

func TestTransportHidesWriteToAndKeepsTheBody(t *testing.T) {
	var s seen
	c := Client(&s)
	body := writerToBody{bytes.NewReader([]byte("payload"))}
	req, err := http.NewRequest("PUT", "http://127.0.0.1:1/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Body, req.ContentLength = body, 7
	if _, err := c.Transport.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.req.Body.(io.WriterTo); ok {
		t.Fatal("the transport was handed a body with WriteTo")
	}
	if s.req == req {
		t.Fatal("the caller's request was handed on, not a copy")
	}
	if req.Body != io.ReadCloser(body) {
		t.Fatal("the caller's request was modified")
	}
	got, err := io.ReadAll(s.req.Body)
	if err != nil || string(got) != "payload" {
		t.Fatalf("body read %q, %v; want payload", got, err)
	}
	if s.req.ContentLength != 7 || s.req.Method != "PUT" {
		t.Fatalf("request changed: %s, length %d", s.req.Method, s.req.ContentLength)
	}
}

func TestTransportPassesRequestsWithoutABody(t *testing.T) {
	var s seen
	req, _ := http.NewRequest("GET", "http://127.0.0.1:1/x", nil)
	if _, err := Client(&s).Transport.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if s.req != req {
		t.Fatal("a request without a body should go as it is")
	}
}
