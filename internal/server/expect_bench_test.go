package server

import (
	"io"
	"net"
	"testing"
)

// repeatConn serves req again on every read of at least its length, as a
// client sending one request at a time does.
type repeatConn struct {
	net.Conn
	req []byte
}

func (c *repeatConn) Read(p []byte) (int, error) {
	if len(p) < len(c.req) {
		return 0, io.ErrShortBuffer
	}
	return copy(p, c.req), nil
}

// BenchmarkExpectConnPlainRequest reads a signed query-protocol SendMessage
// (head and body in one read) through passExpect's connection, as net/http
// reads it: a 4 KiB buffer.
func BenchmarkExpectConnPlainRequest(b *testing.B) {
	body := "Action=SendMessage&MessageBody=hello+from+the+benchmark&QueueUrl=http%3A%2F%2F127.0.0.1%3A4566%2F000000000000%2Fbench-send-query&Version=2012-11-05"
	head := "POST / HTTP/1.1\r\nHost: 127.0.0.1:4566\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 147\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/sqs/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nX-Amz-Date: 20261207T061700Z\r\nAccept-Encoding: gzip\r\n\r\n"
	c := &expectConn{wrapped: wrapped{&repeatConn{req: []byte(head + body)}}}
	p := make([]byte, 4096)
	b.SetBytes(int64(len(head) + len(body)))
	for b.Loop() {
		if n, err := c.Read(p); err != nil || n != len(head)+len(body) {
			b.Fatalf("read %d, %v", n, err)
		}
	}
}
