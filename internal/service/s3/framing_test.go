package s3_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The headers that frame an upload are checked as S3 checks them: an empty
// Content-MD5 is InvalidDigest, and a body shorter than its digest (a
// Content-Length short of what was sent) is BadDigest, after which the
// connection is closed rather than reading the rest as a request.
func TestUploadFramingHeadersAsS3ChecksThem(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "framing")
	url := "http://" + e.addr + "/" + b + "/k"

	resp, body := send(t, http.MethodPut, url, "bar", map[string]string{"Content-MD5": ""})
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>InvalidDigest</Code>") {
		t.Errorf("empty Content-MD5 = %d %s", resp.StatusCode, body)
	}

	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// "bar" with Content-MD5 of "bar" but Content-Length 2: the server reads
	// "ba", and the "r" left over must not become the start of a request.
	raw := "PUT /" + b + "/short HTTP/1.1\r\nHost: " + e.addr + "\r\nContent-MD5: N7UdGUp1E+RbVvZSTy1R8g==\r\nContent-Length: 2\r\n\r\nbar"
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	r1, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(r1.Body)
	r1.Body.Close()
	if r1.StatusCode != 400 || !strings.Contains(string(msg), "<Code>BadDigest</Code>") || !r1.Close {
		t.Errorf("short Content-Length = %d close=%v %s", r1.StatusCode, r1.Close, msg)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after BadDigest the connection was left open (read: %v)", err)
	}
}
