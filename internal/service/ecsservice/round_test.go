package ecsservice

import (
	"context"
	"sync"
	"testing"
	"time"

	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

// heldRunTask is the harness's tasks with a RunTask that says it began and
// waits to be let go.
type heldRunTask struct {
	*fakeTasks
	entered, release chan struct{}
}

func (h *heldRunTask) RunTask(ctx context.Context, in *ecsapi.RunTaskInput) (*ecsapi.RunTaskOutput, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.fakeTasks.RunTask(ctx, in)
}

// TestAResetWaitsForTheReconcileInFlight: a reconcile reads its service,
// launches a task and writes the service back. With Run's rounds holding
// the server's gate, a reset (the gate's Exclusive) waits for the
// reconcile in flight; without, the reset deleted the service while the
// task launched, and the reconcile wrote the service back after it.
func TestAResetWaitsForTheReconcileInFlight(t *testing.T) {
	h := newHarness(t)
	h.create("web", 1, nil)
	gate := &server.Gate{}
	held := &heldRunTask{fakeTasks: h.tasks, entered: make(chan struct{}, 1), release: make(chan struct{})}
	svc := New(Options{Store: h.st, Bus: eventbus.New(), Tasks: held, Account: account, Region: region,
		Clock: clock.Func(func() time.Time { return h.now }),
		Round: gate.Round})
	loopCtx, stop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		svc.Run(loopCtx)
	}()
	t.Cleanup(func() { stop(); <-loopDone })
	<-held.entered

	// The reset lets the launch go on once it has deleted the service, as
	// it would if the round held nothing; since the round holds the gate,
	// the reset cannot begin before the round is over, and the launch
	// goes on after a while instead.
	var once sync.Once
	release := func() { once.Do(func() { close(held.release) }) }
	timer := time.AfterFunc(500*time.Millisecond, release)
	defer timer.Stop()
	err := gate.Exclusive(func() error {
		storetest.DeletePrefix(t, h.st, "ecssvc/")
		release()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	<-loopDone
	left := storetest.Keys(t, h.st, "ecssvc/")
	if len(left) != 0 {
		t.Errorf("the reconcile in flight wrote back what the reset deleted: %q", left)
	}
}
