package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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
	sys := testSystem(b)
	cfg, err := config.Parse([]string{"--ephemeral", "--listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Options{Authorize: sys.Authz.Authorize, Config: cfg, Services: sys.registrations(), Codecs: codecs(), Keys: sys.Keys()})
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	if _, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("bench-send-query")}); err != nil {
		b.Fatal(err)
	}
	body := url.Values{"Action": {"SendMessage"}, "Version": {"2012-11-05"}, "QueueUrl": {"http://localhost:4566/000000000000/bench-send-query"},
		"MessageBody": {"hello from the benchmark"}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "http://localhost:4566/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hex.EncodeToString(sum[:]), "sqs", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := req.Clone(context.Background())
		r.Body = readCloser{strings.NewReader(body)}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
