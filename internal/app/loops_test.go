package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/sdkhttp"
)

// startLoopsWharf starts wharf on a free loopback port with args, for the
// tests of when the services' loops start; it returns wharf and a function
// that shuts it down and waits for it.
func startLoopsWharf(t *testing.T, args ...string) (*Wharf, func()) {
	t.Helper()
	cfg, err := config.Parse(append([]string{"--listen", "127.0.0.1:0", "--runtime", "process"}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Start(ctx, cfg, slog.New(slog.DiscardHandler), "test")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := w.Wait(); err != nil {
			t.Errorf("wharf shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	return w, stop
}

func sqsClient(w *Wharf) *sqs.Client {
	return sqs.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + w.Addr()),
		HTTPClient:   sdkhttp.Client(nil),
	})
}

// TestLoopsWaitForTheFirstRequestWhileTheStoreIsEmpty: in memory, no loop has
// anything to do before a request, so none runs while wharf is idle (issue
// 20's idle RSS); the health check, which a supervisor polls, does not wake
// them, and the first other request starts them before it is served.
func TestLoopsWaitForTheFirstRequestWhileTheStoreIsEmpty(t *testing.T) {
	w, _ := startLoopsWharf(t, "--ephemeral")
	resp, err := http.Get("http://" + w.Addr() + "/_wharf/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w.loops.awake() {
		t.Fatal("the loops started before any request but the health check")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sqsClient(w)
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("first")}); err != nil {
		t.Fatal(err)
	}
	if !w.loops.awake() {
		t.Fatal("the loops did not start on the first request")
	}
}

// TestLoopsStartAtOnceOnAStoreWithState: a restart on a data directory that
// holds state resumes the loops without waiting for a request (schedules must
// fire, tasks be re-adopted, deliveries retried).
func TestLoopsStartAtOnceOnAStoreWithState(t *testing.T) {
	dir := t.TempDir()
	w, stop := startLoopsWharf(t, "--data-dir", dir)
	if w.loops.awake() {
		t.Fatal("the loops started on a new, empty data directory before any request")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := sqsClient(w).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	stop()

	w, _ = startLoopsWharf(t, "--data-dir", dir)
	if !w.loops.awake() {
		t.Fatal("after a restart on a store with state, the loops wait for a request")
	}
}

// TestIdleWharfStillCleansUpAtShutdown: what a loop did at shutdown is done
// even when no request ever woke the loops: in memory, S3's temporary object
// directory is removed.
func TestIdleWharfStillCleansUpAtShutdown(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, stop := startLoopsWharf(t, "--ephemeral")
	dirs, _ := filepath.Glob(filepath.Join(tmp, "wharf-s3-*"))
	if len(dirs) != 1 {
		t.Fatalf("S3's temporary directories while serving: %v, want one", dirs)
	}
	stop()
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Fatalf("%s after shutdown: %v, want it removed", dirs[0], err)
	}
}

// TestWakeRunsTheGoLoopsOnce: the Go loops of a lazy start run on the first
// wake only (GoNow ones at start), with the loops' context; a wake once
// shutdown has begun starts nothing.
func TestWakeRunsTheGoLoopsOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var l Loops
	runs, nowRan := make(chan struct{}, 4), make(chan struct{})
	l.Go(func(ctx context.Context) { runs <- struct{}{}; <-ctx.Done() })
	l.GoNow(func(ctx context.Context) { close(nowRan); <-ctx.Done() })
	l.start(ctx, true)
	<-nowRan
	if l.awake() {
		t.Fatal("a lazy start started the Go loops")
	}
	l.wake()
	l.wake()
	<-runs
	cancel()
	l.wait()
	if len(runs) != 0 {
		t.Fatalf("the Go loop ran %d more times", len(runs))
	}

	var late Loops
	late.Go(func(context.Context) { runs <- struct{}{} })
	late.start(ctx, true)
	late.wait()
	late.wake()
	if late.awake() || len(runs) != 0 {
		t.Fatal("a wake after wait started the Go loops")
	}
}
