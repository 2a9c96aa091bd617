package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

// TestAScheduleFiringDuringAResetDoesNotSurviveIt: a service's loop that
// writes from what its service holds in memory, here the scheduler's firing
// as it would without its hold on the gate (the system is built without
// one). A schedule that fires once the reset has deleted its key, but
// before the scheduler forgot it, writes the schedule back (with its next
// fire time) and a record of the firing; a reset that ended there left
// both, and the schedule came back on the next start and fired again.
func TestAScheduleFiringDuringAResetDoesNotSurviveIt(t *testing.T) {
	for _, service := range []string{"scheduler", ""} {
		t.Run("service="+service, func(t *testing.T) {
			clk := clock.NewManual(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
			sys, cfg, st := systemWith(t, clk, nil, "--ephemeral")
			ctx := context.Background()
			_, err := sys.Scheduler.CreateSchedule(ctx, &schedapi.CreateScheduleInput{Name: awsapi.String("every-minute"),
				ScheduleExpression: awsapi.String("rate(1 minute)"),
				FlexibleTimeWindow: &schedapi.FlexibleTimeWindow{Mode: awsapi.String("OFF")},
				Target: &schedapi.Target{Arn: awsapi.String("arn:aws:sqs:us-east-1:" + cfg.Account + ":work"),
					RoleArn: awsapi.String("arn:aws:iam::" + cfg.Account + ":role/s")}})
			if err != nil {
				t.Fatal(err)
			}

			fired := 0
			old := resetPassHook
			resetPassHook = func(pass int) {
				if pass != 1 {
					return
				}
				// The scheduler's loop, between the first pass's deletes
				// and forget.
				clk.Advance(2 * time.Minute)
				if err := sys.Scheduler.Fire(ctx); err != nil {
					t.Errorf("fire: %v", err)
				}
				fired = len(storetest.Keys(t, st, "scheduler/"))
			}
			t.Cleanup(func() { resetPassHook = old })

			r := &resetter{sys: sys, st: st, gate: &server.Gate{}}
			if _, err := r.Reset(ctx, service); err != nil {
				t.Fatal(err)
			}
			if fired == 0 {
				t.Fatal("the firing wrote nothing back: the test no longer races the reset")
			}
			if left := storetest.Keys(t, st, "scheduler/"); len(left) != 0 {
				t.Errorf("after the reset the store still holds %q", left)
			}
			clk.Advance(2 * time.Minute)
			if err := sys.Scheduler.Fire(ctx); err != nil {
				t.Fatal(err)
			}
			if left := storetest.Keys(t, st, "scheduler/"); len(left) != 0 {
				t.Errorf("the schedule fired again after the reset: %q", left)
			}
		})
	}
}

// heldSubmitter is EventBridge as the scheduler's loop submits firings to
// it, but a submit signals entered and waits for release; submitted is
// closed once the submit has written.
type heldSubmitter struct {
	inner                       *events.Service
	entered, release, submitted chan struct{}
}

func (h *heldSubmitter) Submit(ctx context.Context, d events.Delivery) error {
	h.entered <- struct{}{}
	<-h.release
	defer close(h.submitted)
	return h.inner.Submit(ctx, d)
}

// TestAResetWaitsForTheSchedulersRoundInFlight: the scheduler's loop works
// from the store as well as from what Forget drops: it fires what is due,
// then reads the firings back and submits each to EventBridge, whose outbox
// record it writes. A submit that landed after the reset had passed the
// outbox's keys left a firing of a deleted schedule to be delivered after
// the reset (here to the queue made again after it, as a full reset's init
// hooks would). The loop holds the server's gate for each round, so the
// reset waits for the round in flight and deletes what it wrote. The wharf
// is durable: its EventBridge outbox is in the store.
func TestAResetWaitsForTheSchedulersRoundInFlight(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	gate := &server.Gate{}
	sys, cfg, st := systemWith(t, clk, gate, "--data-dir", t.TempDir())
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: cfg.Account, Region: cfg.Region, Host: "localhost:4566"})
	makeQueue := func() string {
		out, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("work")})
		if err != nil {
			t.Fatal(err)
		}
		return *out.QueueUrl
	}
	makeQueue()
	_, err := sys.Scheduler.CreateSchedule(ctx, &schedapi.CreateScheduleInput{Name: awsapi.String("every-minute"),
		ScheduleExpression: awsapi.String("rate(1 minute)"),
		FlexibleTimeWindow: &schedapi.FlexibleTimeWindow{Mode: awsapi.String("OFF")},
		Target: &schedapi.Target{Arn: awsapi.String("arn:aws:sqs:" + cfg.Region + ":" + cfg.Account + ":work"),
			RoleArn: awsapi.String("arn:aws:iam::" + cfg.Account + ":role/s")}})
	if err != nil {
		t.Fatal(err)
	}
	held := &heldSubmitter{inner: sys.Events, entered: make(chan struct{}, 1), release: make(chan struct{}), submitted: make(chan struct{})}
	sys.Scheduler.SetSubmitter(held)

	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		sys.Scheduler.Run(loopCtx)
	}()
	t.Cleanup(func() { stopLoop(); <-loopDone })
	// The schedule is due: the loop fires it and submits the firing. The
	// clock moves again until it does: a move that lands while the loop is
	// between reading the clock and setting its timer is not seen.
	for entered := false; !entered; {
		clk.Advance(2 * time.Minute)
		select {
		case <-held.entered:
			entered = true
		case <-time.After(100 * time.Millisecond):
		}
	}

	// The submit goes on once the reset's second pass is over, as a loop
	// that held nothing would have it; with the loop holding the gate the
	// reset cannot begin before the round ends, and the submit goes on
	// after a while instead.
	var once sync.Once
	release := func() { once.Do(func() { close(held.release) }) }
	timer := time.AfterFunc(500*time.Millisecond, release)
	defer timer.Stop()
	old := resetPassHook
	resetPassHook = func(pass int) {
		if pass == 2 {
			release()
			<-held.submitted
		}
	}
	t.Cleanup(func() { resetPassHook = old })

	r := &resetter{sys: sys, st: st, gate: gate}
	if _, err := r.Reset(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	stopLoop()
	<-loopDone
	left := storetest.Keys(t, st, "")
	url := makeQueue()
	if err := sys.Events.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := sys.SQS.ReceiveMessage(ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: awsapi.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 || len(out.Messages) != 0 {
		t.Errorf("after the reset the store held %q, and the queue made again received %d messages", left, len(out.Messages))
	}
}

// TestAResetOfIAMOrSTSRevokesSessions: STS sessions are kept under sts/,
// not iam/. A reset of iam or sts alone (they share their state) must
// delete them, as a full reset does: kept, credentials issued before the
// reset still authenticated after it.
func TestAResetOfIAMOrSTSRevokesSessions(t *testing.T) {
	for _, service := range []string{"sts", "iam"} {
		t.Run("service="+service, func(t *testing.T) {
			sys, cfg, st := systemWith(t, clock.Real, nil, "--ephemeral")
			ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: cfg.Account, AccessKey: cfg.AccessKey, Region: cfg.Region})
			out, err := sys.STS.GetSessionToken(ctx, &stsapi.GetSessionTokenInput{})
			if err != nil {
				t.Fatal(err)
			}
			akid := *out.Credentials.AccessKeyId
			if _, ok := sys.IAM.LookupKey(ctx, akid); !ok {
				t.Fatal("the session's key does not authenticate before the reset")
			}
			r := &resetter{sys: sys, st: st, gate: &server.Gate{}}
			if _, err := r.Reset(ctx, service); err != nil {
				t.Fatal(err)
			}
			if _, ok := sys.IAM.LookupKey(ctx, akid); ok {
				t.Error("a session issued before the reset still authenticates after it")
			}
			if left := storetest.Keys(t, st, "sts/"); len(left) != 0 {
				t.Errorf("after the reset the store still holds %q", left)
			}
		})
	}
}

// TestAResetThatCannotForgetStillEmptiesTheStore: when a service cannot
// forget what it holds (S3, its blob directory gone), the reset answers
// with that error, but only after stopping the tasks and deleting every
// key; it used to stop at the first pass, which leaves ECS's keys (and
// its running tasks) for the tasks' stop.
func TestAResetThatCannotForgetStillEmptiesTheStore(t *testing.T) {
	dir := t.TempDir()
	gate := &server.Gate{}
	sys, cfg, st := systemWith(t, clock.Real, gate, "--data-dir", dir)
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: cfg.Account, Region: cfg.Region, Host: "localhost:4566"})
	if _, err := sys.ECS.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: awsapi.String("c")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("q")}); err != nil {
		t.Fatal(err)
	}
	if len(storetest.Keys(t, st, "ecs/")) == 0 {
		t.Fatal("the cluster left no ecs/ key to reset")
	}
	if err := os.RemoveAll(filepath.Join(dir, "s3", "blobs")); err != nil {
		t.Fatal(err)
	}
	r := &resetter{sys: sys, st: st, gate: gate}
	_, err := r.Reset(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "s3") {
		t.Fatalf("reset with S3's blob directory gone: %v, want S3's error", err)
	}
	if n := strings.Count(err.Error(), "s3: reset"); n != 1 {
		t.Errorf("S3's error is in the answer %d times: %v", n, err)
	}
	if left := storetest.Keys(t, st, ""); len(left) != 0 {
		t.Errorf("after the reset the store held %q", left)
	}
}
