package integration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// rawConn is a client connection that writes requests byte for byte, as an
// unlucky or hostile client would, from the loopback address from (empty:
// the default 127.0.0.1). Every read is bounded by a safety deadline, so a
// server that never answers fails the test instead of hanging it.
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialFrom(t *testing.T, addr, from string) (*rawConn, error) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}, nil
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	rc, err := dialFrom(t, addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// hangUp closes the sending side: the server sees the body end early.
func (rc *rawConn) hangUp() { rc.c.(*net.TCPConn).CloseWrite() }

// response reads one response and its body.
func (rc *rawConn) response() (*http.Response, string) {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil {
		rc.t.Fatalf("reading the response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// closedByServer reports whether the server closed the connection (a read
// ends with EOF or a reset, not with this test's own safety deadline).
func (rc *rawConn) closedByServer() bool {
	_, err := rc.r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// wantCode checks an error response's status and AWS code (XML <Code> or
// JSON __type, with or without its namespace; CBOR's __type as text; rest-json's X-Amzn-Errortype).
func wantCode(t *testing.T, what string, resp *http.Response, body string, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || !(strings.Contains(body, "<Code>"+code+"</Code>") || strings.Contains(body, `"__type":"`+code+`"`) || strings.Contains(body, `#`+code+`"`) ||
		strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), code) ||
		resp.Header.Get("Content-Type") == "application/cbor" && strings.Contains(body, "__type") && strings.Contains(body, code)) {
		t.Errorf("%s: got %s %s, want %d %s", what, resp.Status, body, status, code)
	}
}

// TestTruncatedBodiesAreRefusedAndNothingIsStored sends requests whose bodies
// end before their declared length, in every framing and protocol: each gets
// 400 IncompleteBody and leaves nothing behind.
func TestTruncatedBodiesAreRefusedAndNothingIsStored(t *testing.T) {
	srv := wharftest.Start(t)
	ctx := callTimeout(t)
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(srv.Config())
	ddb := dynamodb.NewFromConfig(srv.Config())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cut")}); err != nil {
		t.Fatal(err)
	}
	up, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cut"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("b", 100<<10) // past the 64 KiB kept in the store
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }
	awsChunked := "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nContent-Encoding: aws-chunked\r\n"
	json := func(target string) string {
		return "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " + target + "\r\nContent-Type: application/x-amz-json-1.0\r\n"
	}
	tests := []struct {
		name, head, body string
		declared         int // Content-Length; 0: the body's own length
		code             string
	}{
		{"small object", "PUT /cut/small HTTP/1.1\r\nHost: x\r\n", "0123456789", 100, "IncompleteBody"},
		{"object past 64 KiB", "PUT /cut/big HTTP/1.1\r\nHost: x\r\n", big, 200 << 10, "IncompleteBody"},
		{"aws-chunked object cut mid-chunk", "PUT /cut/chunked HTTP/1.1\r\nHost: x\r\n" + awsChunked + "x-amz-decoded-content-length: 20\r\n",
			"14\r\n0123456789", 200, "IncompleteBody"},
		{"aws-chunked object without its last chunk", "PUT /cut/nolast HTTP/1.1\r\nHost: x\r\n" + awsChunked + "x-amz-decoded-content-length: 10\r\n",
			chunk("0123456789"), 0, "IncompleteBody"},
		{"chunked transfer encoding without its last chunk", "PUT /cut/te HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n",
			chunk("0123456789"), -1, "IncompleteBody"},
		{"multipart part", "PUT /cut/mp?partNumber=1&uploadId=" + aws.ToString(up.UploadId) + " HTTP/1.1\r\nHost: x\r\n", "part", 50, "IncompleteBody"},
		{"query CreateQueue", "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n",
			"Action=CreateQueue&Version=2012-11-05&QueueName=cut-query", 200, "IncompleteBody"},
		{"json CreateQueue", json("AmazonSQS.CreateQueue"), `{"QueueName":"cut-json"}`, 100, "IncompleteBody"},
		{"rest-json CreateScheduleGroup", "POST /schedule-groups/cut-group HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Amz-Date: 20261206T000000Z\r\n" +
			"Authorization: AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=00\r\n", "{}", 50, "IncompleteBody"},
		{"cbor PutMetricData", "POST /service/GraniteServiceVersion20100801/operation/PutMetricData HTTP/1.1\r\nHost: x\r\n" +
			"Smithy-Protocol: rpc-v2-cbor\r\nContent-Type: application/cbor\r\n", "\xa1", 50, "IncompleteBody"},
		{"json CreateTable", json("DynamoDB_20120810.CreateTable"),
			`{"TableName":"cut","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, 400, "IncompleteBody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dial(t, srv.Addr)
			head := tt.head
			switch {
			case tt.declared > 0:
				head += fmt.Sprintf("Content-Length: %d\r\n", tt.declared)
			case tt.declared == 0:
				head += fmt.Sprintf("Content-Length: %d\r\n", len(tt.body))
			}
			rc.send(head + "\r\n" + tt.body)
			rc.hangUp()
			resp, body := rc.response()
			wantCode(t, tt.name, resp, body, 400, tt.code)
		})
	}

	for _, key := range []string{"small", "big", "chunked", "nolast", "te"} {
		if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cut"), Key: aws.String(key)}); err == nil {
			t.Errorf("object %s was stored from a truncated body", key)
		}
	}
	parts, err := s3c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("cut"), Key: aws.String("mp"), UploadId: up.UploadId})
	if err != nil || len(parts.Parts) != 0 {
		t.Errorf("ListParts after a truncated part: %v parts, err %v", len(parts.Parts), err)
	}
	for _, q := range []string{"cut-query", "cut-json"} {
		if _, err := sqsc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)}); err == nil {
			t.Errorf("queue %s was created from a truncated body", q)
		}
	}
	rc := dial(t, srv.Addr)
	rc.send("GET /schedule-groups/cut-group HTTP/1.1\r\nHost: x\r\nX-Amz-Date: 20261206T000000Z\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n")
	if resp, body := rc.response(); resp.StatusCode != http.StatusNotFound {
		t.Errorf("schedule group from a truncated body: GetScheduleGroup %s %s", resp.Status, body)
	}
	if _, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("cut")}); err == nil {
		t.Error("table cut was created from a truncated body")
	}
}

// TestOversizedBodiesAreRefusedBeforeTheyAreRead: a declared length over the
// service's limit is answered at once, with AWS's error, without waiting for
// (or buffering) a byte of the body.
func TestOversizedBodiesAreRefusedBeforeTheyAreRead(t *testing.T) {
	srv := wharftest.Start(t)
	tests := []struct {
		name, head string
		status     int
		code       string
	}{
		{"S3 PutObject over 5 GiB", "PUT /any-bucket/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5368709121\r\n", 400, "EntityTooLarge"},
		{"S3 aws-chunked object over 5 GiB", "PUT /any-bucket/k HTTP/1.1\r\nHost: x\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n" +
			"Content-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 5368709121\r\nContent-Length: 5368809121\r\n", 400, "EntityTooLarge"},
		{"DynamoDB request over 16 MB", "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n" +
			"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 16777217\r\n", 413, "RequestEntityTooLargeException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dial(t, srv.Addr)
			rc.send(tt.head + "\r\n{")
			resp, body := rc.response()
			wantCode(t, tt.name, resp, body, tt.status, tt.code)
			if !resp.Close {
				t.Errorf("%s: the connection stays open for a body that will not be read", tt.name)
			}
		})
	}

	// A DynamoDB body streamed without a length is cut off at 16 MB.
	rc := dial(t, srv.Addr)
	rc.send("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Type: application/x-amz-json-1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
	go func() {
		w := bufio.NewWriter(rc.c)
		part := strings.Repeat(" ", 1<<20)
		for i := 0; i < 17; i++ {
			if _, err := fmt.Fprintf(w, "%x\r\n%s\r\n", len(part), part); err != nil {
				return // the server answered and closed: expected
			}
		}
		w.Flush()
	}()
	resp, body := rc.response()
	wantCode(t, "chunked DynamoDB body over 16 MB", resp, body, 413, "RequestEntityTooLargeException")
}

// TestSlowBodyTimesOutWhileOthersAreServed: a body that stops arriving fails
// with RequestTimeout once the (here tiny) idle deadline passes, its connection
// is closed, and other clients are served meanwhile.
func TestSlowBodyTimesOutWhileOthersAreServed(t *testing.T) {
	srv := wharftest.Start(t, "--body-idle-timeout", "300ms")
	ctx := callTimeout(t)
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, head string }{
		{"S3 PutObject", "PUT /slow/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123"},
		{"SQS query", "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAction=Crea"},
		{"DynamoDB JSON", "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{"},
	} {
		rc := dial(t, srv.Addr)
		rc.send(tt.head)
		// Others are served while the body stalls.
		if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Fatalf("%s: another client was not served: %v", tt.name, err)
		}
		resp, body := rc.response()
		wantCode(t, tt.name, resp, body, 400, "RequestTimeout")
		if !rc.closedByServer() {
			t.Errorf("%s: the connection of a timed-out body stays open", tt.name)
		}
	}
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("slow"), Key: aws.String("k")}); err == nil {
		t.Error("an object was stored from a body that timed out")
	}
}

// TestSlowHeadersAreCutOffWhileOthersAreServed: a client that never finishes
// its headers is disconnected at the header deadline (tiny here); others are
// served meanwhile.
func TestSlowHeadersAreCutOffWhileOthersAreServed(t *testing.T) {
	srv := wharftest.Start(t, "--header-timeout", "1s")
	ctx := callTimeout(t)
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	rc := dial(t, srv.Addr)
	rc.send("PUT /slow/k HTTP/1.1\r\nHost: x\r\n")
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("another client was not served: %v", err)
	}
	if !rc.closedByServer() {
		t.Error("a connection whose headers never finished stays open")
	}
}

// TestManyConnectionsFromOneClientDoNotStarveOthers: one address holding many
// idle connections gets no more than the per-client cap (the rest are told 503
// and closed), while other addresses are served; a slot freed is reused.
func TestManyConnectionsFromOneClientDoNotStarveOthers(t *testing.T) {
	const max = 8
	srv := wharftest.Start(t, "--max-conns-per-client", fmt.Sprint(max))
	ctx := callTimeout(t)
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	// The server takes connections in the order they were made: the first
	// max are held, and each one after them is answered 503 and closed. The
	// answer is waited for (a loaded machine can take a while to send it);
	// a connection held instead of refused never answers, and fails the
	// read at the connection's deadline.
	var held []*rawConn
	for i := 0; i < 3*max; i++ {
		rc, err := dialFrom(t, srv.Addr, "127.0.0.2")
		if err != nil {
			t.Fatal(err)
		}
		if i < max {
			held = append(held, rc)
			continue
		}
		if resp, err := http.ReadResponse(rc.r, nil); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("connection %d from one address, over the cap of %d: %v %v, want 503", i+1, max, resp, err)
		}
	}
	// Other clients (127.0.0.1) are served while 127.0.0.2 holds its cap.
	for i := 0; i < 3; i++ {
		if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Fatalf("another client was not served: %v", err)
		}
	}
	// The held connections were not refused: each still works. And one
	// closed frees a slot.
	for i, rc := range held {
		rc.send("GET /_wharf/health HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := rc.response(); resp.StatusCode != http.StatusOK {
			t.Errorf("connection %d, within the cap: %s", i+1, resp.Status)
		}
	}
	held[1].c.Close()
	for attempt := 0; ; attempt++ {
		rc, err := dialFrom(t, srv.Addr, "127.0.0.2")
		if err != nil {
			t.Fatal(err)
		}
		rc.send("GET /_wharf/health HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := rc.response(); resp.StatusCode == http.StatusOK {
			break
		}
		if attempt == 100 {
			t.Fatal("a closed connection's slot was never freed")
		}
		time.Sleep(20 * time.Millisecond) // the server notices the close asynchronously
	}
}

// TestManyIdleConnectionsUnderTheDefaultCap: a couple of hundred idle
// connections from one address (under the default cap) cost others nothing.
func TestManyIdleConnectionsUnderTheDefaultCap(t *testing.T) {
	srv := wharftest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 200; i++ {
		rc, err := dialFrom(t, srv.Addr, "127.0.0.3")
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			rc.send("PUT /x/y HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1") // a stalled body too
		}
	}
	sqsc := sqs.NewFromConfig(srv.Config())
	for i := 0; i < 5; i++ {
		if _, err := sqsc.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
			t.Fatalf("another client was not served: %v", err)
		}
	}
}
