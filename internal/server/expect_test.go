package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// chunkConn serves data in reads of the sizes sizes gives (cycled), and
// answers every fourth read with a timeout and no data, as a deadline set by
// net/http's background read does.
type chunkConn struct {
	net.Conn
	data  []byte
	sizes []byte
	reads int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	c.reads++
	if c.reads%4 == 0 {
		return 0, timeoutErr{}
	}
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.sizes) > 0 {
		n = min(n, int(c.sizes[c.reads%len(c.sizes)])+1)
	}
	n = copy(p, c.data[:min(n, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

// readThrough returns what an expectConn over in yields, read in pieces of
// the sizes sizes gives, until EOF.
func readThrough(t testing.TB, in, sizes []byte) []byte {
	c := &expectConn{wrapped: wrapped{&chunkConn{data: in, sizes: sizes}}}
	var out []byte
	for i := 0; ; i++ {
		size := 4096
		if len(sizes) > 0 {
			size = int(sizes[(i+1)%len(sizes)]) + 1
		}
		p := make([]byte, size)
		n, err := c.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil && !isTimeout(err) {
			t.Fatalf("read: %v", err)
		}
		if i > 10*len(in)+100 {
			t.Fatalf("no EOF after %d reads", i)
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// checkOnlyExpectRenamed fails unless out is in with passedExpectPrefix put
// before some header names "Expect" (any case) at line starts, and nothing
// else changed.
func checkOnlyExpectRenamed(t testing.TB, in, out []byte) {
	t.Helper()
	if !bytes.Contains(bytes.ToLower(in), []byte("expect")) && !bytes.Equal(in, out) {
		t.Fatalf("input without an Expect header changed:\nin  %q\nout %q", in, out)
	}
	if bytes.Contains(in, []byte(passedExpectPrefix)) {
		return
	}
	for rest := out; ; {
		i := bytes.Index(rest, []byte(passedExpectPrefix))
		if i < 0 {
			break
		}
		after := rest[i+len(passedExpectPrefix):]
		if i == 0 || rest[i-1] != '\n' || len(after) < 7 || !strings.EqualFold(string(after[:7]), "expect:") {
			t.Fatalf("prefix put elsewhere than before an Expect header:\nin  %q\nout %q", in, out)
		}
		rest = after
	}
	if got := bytes.ReplaceAll(out, []byte(passedExpectPrefix), nil); !bytes.Equal(got, in) {
		t.Fatalf("bytes other than Expect names changed:\nin  %q\nout %q", in, out)
	}
}

// FuzzExpectConnRenamesOnlyExpectHeaders: whatever a client sends, in reads
// of any sizes and with timeouts between them, the connection yields the same
// bytes, except that Expect header names may gain the prefix.
func FuzzExpectConnRenamesOnlyExpectHeaders(f *testing.F) {
	f.Add([]byte("PUT /b/k HTTP/1.1\r\nHost: x\r\nExpect: 200\r\nContent-Length: 30\r\n\r\nGET / HTTP/1.1\r\nExpect: 200\r\n\r\nGET / HTTP/1.1\r\nexpect: 201\r\n\r\n"), []byte{0, 3, 200})
	f.Add([]byte("GET / HTTP/1.1\nExpect: x\n\nPOST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nExpect: 2\r\n\r\n"), []byte{1})
	f.Add([]byte("GET / HTTP/1.1\r\nExpect: 100-continue\r\nExpect: 200\r\n\r\n\r\nGET / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"), []byte{})
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		checkOnlyExpectRenamed(t, in, readThrough(t, in, sizes))
	})
}

// TestExpectConnRenamesWhatNetHTTPWouldRefuse pins which heads change.
func TestExpectConnRenamesWhatNetHTTPWouldRefuse(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"GET / HTTP/1.1\r\nExpect: 200\r\n\r\n", "GET / HTTP/1.1\r\nX-Wharf-Passed-Expect: 200\r\n\r\n"},
		{"GET / HTTP/1.1\r\nexpect: 100-continues\r\n\r\n", "GET / HTTP/1.1\r\nX-Wharf-Passed-expect: 100-continues\r\n\r\n"},
		// net/http honours only the first value: both lines go when it refuses.
		{"GET / HTTP/1.1\r\nExpect: 200\r\nExpect: 100-continue\r\n\r\n", "GET / HTTP/1.1\r\nX-Wharf-Passed-Expect: 200\r\nX-Wharf-Passed-Expect: 100-continue\r\n\r\n"},
		{"GET / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nExpect: 200, 100-continue\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nExpect: 100-continue\r\nExpect: 200\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nExpect:\r\n\r\n", ""},
		// After a body of unknown length nothing is touched any more.
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nExpect: 200\r\n\r\n", ""},
		// A body is passed as it is, even when it reads like a head.
		{"PUT / HTTP/1.1\r\nContent-Length: 18\r\n\r\nX\r\nExpect: 200\r\n\r\nGET / HTTP/1.1\r\nExpect: 1\r\n\r\n", "PUT / HTTP/1.1\r\nContent-Length: 18\r\n\r\nX\r\nExpect: 200\r\n\r\nGET / HTTP/1.1\r\nX-Wharf-Passed-Expect: 1\r\n\r\n"},
		// A read of a plain head and part of its body is passed on whole
		// (passDirect); the rest of the body, and the head after it, are not
		// taken for heads.
		{"PUT /bucket/key HTTP/1.1\r\nHost: example.com\r\nContent-Length: 40\r\nX-Pad: abcdefghij\r\n\r\nGET / HTTP/1.1\r\nExpect: 2\r\n\r\n0123456789GET / HTTP/1.1\r\nExpect: 1\r\n\r\n",
			"PUT /bucket/key HTTP/1.1\r\nHost: example.com\r\nContent-Length: 40\r\nX-Pad: abcdefghij\r\n\r\nGET / HTTP/1.1\r\nExpect: 2\r\n\r\n0123456789GET / HTTP/1.1\r\nX-Wharf-Passed-Expect: 1\r\n\r\n"},
	}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		for _, sizes := range [][]byte{nil, {0}, {6, 1, 30}, {99}} {
			if got := readThrough(t, []byte(c.in), sizes); string(got) != want {
				t.Errorf("%q in reads of %v:\n got %q\nwant %q", c.in, sizes, got, want)
			}
		}
	}
	for _, v := range []string{"100-continue", "100-CONTINUE", "a, 100-continue", "100-continue\t,b", "x 100-continue"} {
		if !hasContinueToken(v) {
			t.Errorf("hasContinueToken(%q) = false", v)
		}
	}
	for _, v := range []string{"", "100-continues", "a100-continue", "100-continue;q=1", "200"} {
		if hasContinueToken(v) {
			t.Errorf("hasContinueToken(%q) = true", v)
		}
	}
}

// TestPassExpectUnderNetHTTP runs net/http over passExpect: pipelined
// requests with expectations other than 100-continue are each served on one
// kept-alive connection, and the handler sees the Expect header as sent.
func TestPassExpectUnderNetHTTP(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		restorePassedExpect(r)
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %q %s", r.Method, r.Header.Values("Expect"), body)
	})}
	go hs.Serve(passExpect(raw))
	defer hs.Close()

	c, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 200\r\nContent-Length: 5\r\n\r\nhello"+
		"GET /b HTTP/1.1\r\nHost: x\r\nexpect: 200-ok\r\n\r\n"+
		"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{`PUT ["200"] hello`, `GET ["200-ok"] `, `POST [] `} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != want || resp.Close {
			t.Errorf("got %s %q (close=%v), want 200 %q", resp.Status, body, resp.Close, want)
		}
	}
}

// FuzzPlainHeadAgreesWithNetHTTP: a head plainHead takes without net/http's
// parser is one that parser takes too, unchanged, with the same body length.
func FuzzPlainHeadAgreesWithNetHTTP(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nHost: 127.0.0.1:4566\r\nUser-Agent: aws-sdk-go-v2/1.30\r\nContent-Length: 120\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Amz-Date: 20261206T150000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"))
	f.Add([]byte("GET /b/k?x=1 HTTP/1.0\ncontent-length:  007 \n\n"))
	f.Add([]byte("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\n X: folded\r\n\r\n"))
	f.Add([]byte("CONNECT x:1 HTTP/1.1\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nExpect: 200\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		n, ok := plainHead(head)
		if !ok {
			return
		}
		br := bufio.NewReaderSize(bytes.NewReader(head), len(head)+16)
		req, err := http.ReadRequest(br)
		if err != nil {
			// net/http refuses it and closes the connection: what follows
			// is never read, so its length does not matter.
			return
		}
		if br.Buffered() != 0 || req.ContentLength != n || req.Header.Get("Expect") != "" || len(req.TransferEncoding) > 0 {
			t.Fatalf("%q: plainHead body %d; net/http body %d, %d bytes left, Expect %q, TE %v",
				head, n, req.ContentLength, br.Buffered(), req.Header.Get("Expect"), req.TransferEncoding)
		}
	})
}
