package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/server"
)

// BenchmarkSendMessageQuery is bench/peers' sqs-send-query without the
// network: a signed query-protocol SendMessage through the server's whole
// request path (front door, SigV4 parsing, query decoding, the authorizer
// under --iam audit, the operation, the XML answer), in memory.
func BenchmarkSendMessageQuery(b *testing.B) {
	benchmarkQuery(b, "bench-send-query", url.Values{"Action": {"SendMessage"}, "MessageBody": {"hello from the benchmark"}})
}

// BenchmarkSendMessageBatchQuery is bench/peers' sqs-batch-query (ten
// messages) the same way.
func BenchmarkSendMessageBatchQuery(b *testing.B) {
	v := url.Values{"Action": {"SendMessageBatch"}}
	for i := 0; i < 10; i++ {
		p := "SendMessageBatchRequestEntry." + strconv.Itoa(i+1) + "."
		v.Set(p+"Id", strconv.Itoa(i))
		v.Set(p+"MessageBody", "hello from the benchmark")
	}
	benchmarkQuery(b, "bench-batch-query", v)
}

// benchmarkQuery sends the query request v (its QueueUrl and Version
// added) to a new queue named queue, over and over.
func benchmarkQuery(b *testing.B, queue string, v url.Values) {
	sys, srv := benchServer(b)
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	if _, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String(queue)}); err != nil {
		b.Fatal(err)
	}
	v.Set("Version", "2012-11-05")
	v.Set("QueueUrl", "http://localhost:4566/000000000000/"+queue)
	body := v.Encode()
	req := httptest.NewRequest(http.MethodPost, "http://localhost:4566/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	serveSigned(b, srv, req, body, "sqs")
}

// benchServer is testSystem behind the server's whole request path, as
// --ephemeral runs it.
func benchServer(b *testing.B) (*System, *server.Server) {
	sys := testSystem(b)
	cfg, err := config.Parse([]string{"--ephemeral", "--listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	return sys, server.New(server.Options{Authorize: sys.Authz.Authorize, Config: cfg, Services: sys.registrations(), Codecs: codecs(), Keys: sys.Keys()})
}

// serveSigned signs req, whose body is body, for service with the default
// root key, and has srv serve it over and over, failing at an answer other
// than 200.
func serveSigned(b *testing.B, srv *server.Server, req *http.Request, body, service string) {
	serveSignedThen(b, srv, req, body, service, nil)
}

// serveSignedThen is serveSigned, calling after (when not nil) after each
// answer.
func serveSignedThen(b *testing.B, srv *server.Server, req *http.Request, body, service string, after func()) {
	signRequest(b, req, body, service)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		serveOnce(b, srv, req, body)
		if after != nil {
			after()
		}
	}
	// Wall time per op follows the machine's load; CPU time is steadier.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

// signRequest signs req, whose body is body, for service with the default
// root key.
func signRequest(b *testing.B, req *http.Request, body, service string) {
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
}

// serveOnce has srv serve a copy of req with body, failing at an answer
// other than 200.
func serveOnce(b *testing.B, srv *server.Server, req *http.Request, body string) *httptest.ResponseRecorder {
	r := req.Clone(context.Background())
	r.Body = readCloser{strings.NewReader(body)}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return w
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
