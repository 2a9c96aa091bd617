package events

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

// heldTarget fails every delivery; the first says it began and waits to be
// let go.
type heldTarget struct {
	once             sync.Once
	entered, release chan struct{}
}

func (h *heldTarget) Deliver(context.Context, *Delivery) error {
	h.once.Do(func() {
		h.entered <- struct{}{}
		<-h.release
	})
	return fmt.Errorf("target unavailable")
}

// TestAResetWaitsForTheRetryInFlight: a retry reads its record, delivers
// and writes the record back. With Run's rounds holding the server's gate,
// a reset (the gate's Exclusive) waits for the retry in flight; without,
// the reset deleted the record while the delivery ran, and the retry wrote
// it back after the reset: the event of before the reset was delivered
// again after it, to whatever then had its target's ARN.
func TestAResetWaitsForTheRetryInFlight(t *testing.T) {
	f := newFixture(t)
	held := &heldTarget{entered: make(chan struct{}, 1), release: make(chan struct{})}
	f.tgt["sqs"] = &recorder{fail: true}
	f.putRule(t, "r", `{"source":["a"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")})
	f.putEvent(t, "a", "t", `{}`) // fails, and leaves a retry
	f.tgt["sqs"] = held
	f.clk.t = f.clk.t.Add(time.Hour) // the retry is due

	gate := &server.Gate{}
	s := New(Options{Store: f.st, Clock: clock.Func(f.clk.now), Account: "123456789012", Region: "us-east-1",
		Targets: func(svc string) Target { return f.tgt[svc] },
		Round:   gate.Round})
	loopCtx, stop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		s.Run(loopCtx)
	}()
	t.Cleanup(func() { stop(); <-loopDone })
	<-held.entered

	// The reset lets the delivery go on once it has deleted the retry, as
	// it would if the round held nothing; since the round holds the gate,
	// the reset cannot begin before the round is over, and the delivery
	// goes on after a while instead.
	var once sync.Once
	release := func() { once.Do(func() { close(held.release) }) }
	timer := time.AfterFunc(500*time.Millisecond, release)
	defer timer.Stop()
	err := gate.Exclusive(func() error {
		storetest.DeletePrefix(t, f.st, "events/")
		s.Forget()
		release()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	<-loopDone
	left := storetest.Keys(t, f.st, "events/")
	if len(left) != 0 {
		t.Errorf("the retry in flight wrote back what the reset deleted: %q", left)
	}
}
