package s3_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/restxml"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// env is a real server (front door, auth, rest-xml codec) serving only S3,
// with an event recorder on the bus and a recording notifier.
type env struct {
	addr     string
	client   *awss3.Client
	events   *eventbus.Recorder
	notifier *recordingNotifier
	svc      *s3.Service
}

type sent struct{ arn, subject, body string }

type recordingNotifier struct {
	ch chan sent
}

func (n *recordingNotifier) SendToQueue(_ context.Context, arn, body string) error {
	n.ch <- sent{arn: arn, body: body}
	return nil
}

func (n *recordingNotifier) PublishToTopic(_ context.Context, arn, subject, body string) error {
	n.ch <- sent{arn: arn, subject: subject, body: body}
	return nil
}

func (n *recordingNotifier) next(t *testing.T) sent {
	t.Helper()
	select {
	case s := <-n.ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no notification sent")
		return sent{}
	}
}

func newEnvWith(t testing.TB, st store.Store, dir string, args ...string) *env {
	t.Helper()
	return newEnvClock(t, st, dir, nil, args...)
}

// newEnvClock is newEnvWith on the clock clk (nil: the real clock).
func newEnvClock(t testing.TB, st store.Store, dir string, clk clock.Clock, args ...string) *env {
	t.Helper()
	cfg, err := config.Parse(append([]string{"--listen", "127.0.0.1:0", "--ephemeral"}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	bus := eventbus.New()
	rec := &eventbus.Recorder{}
	bus.Attach(rec)
	n := &recordingNotifier{ch: make(chan sent, 100)}
	svc, err := s3.New(s3.Options{Store: st, Dir: dir, Bus: bus, Notifier: n, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Options{
		Config:   cfg,
		Services: []server.Registration{{Desc: s3api.Service, Handlers: s3.Bind(svc), CORS: svc.CORS, Check: svc.Check}},
		Codecs:   map[string]protocol.Codec{awsapi.ProtocolRestXML: restxml.Codec{}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		srv.Serve(ctx, ln)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	e := &env{addr: ln.Addr().String(), events: rec, notifier: n, svc: svc}
	e.client = newClient(e.addr)
	return e
}

func newEnv(t *testing.T) *env {
	return newEnvWith(t, store.OpenMemory(), t.TempDir())
}

func newClient(addr string, opts ...func(*awss3.Options)) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Timeout: 60 * time.Second},
	}, opts...)
}

func (e *env) bucket(t testing.TB, name string) string {
	t.Helper()
	if _, err := e.client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

// errCode returns the AWS error code of err, or "" when err is nil.
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

// httpStatus returns the HTTP status of a failed SDK call.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func ctx() context.Context { return context.Background() }

func staticCreds(key string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, "secret", "")
}
