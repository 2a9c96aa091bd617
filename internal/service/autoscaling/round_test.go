package autoscaling

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

// heldECS is the harness's ECS with a SetDesiredCount whose first call says
// it began and waits to be let go.
type heldECS struct {
	*fakeECS
	once             sync.Once
	entered, release chan struct{}
}

func (h *heldECS) SetDesiredCount(ctx context.Context, account, region, cluster, service string, count int32) error {
	h.once.Do(func() {
		h.entered <- struct{}{}
		<-h.release
	})
	return h.fakeECS.SetDesiredCount(ctx, account, region, cluster, service, count)
}

// TestAResetWaitsForTheScalingInFlight: a scaling reads its target, sets
// the service's desired count and records the activity. With Run's rounds
// holding the server's gate, a reset (the gate's Exclusive) waits for the
// scaling in flight; without, the reset deleted the target while the count
// was set, and the activity was written after the reset: a scaling of a
// target the reset had deleted was listed by DescribeScalingActivities.
func TestAResetWaitsForTheScalingInFlight(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	_, err := h.svc.PutScheduledAction(h.ctx, &aas.PutScheduledActionInput{
		ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
		ScheduledActionName: awsapi.String("once"), Schedule: awsapi.String("at(2025-03-01T09:30:00)"),
		ScalableTargetAction: &aas.ScalableTargetAction{MinCapacity: awsapi.Int32(2), MaxCapacity: awsapi.Int32(3)}})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour) // the action is due, and raises the count from 1 to 2

	gate := &server.Gate{}
	held := &heldECS{fakeECS: h.ecs, entered: make(chan struct{}, 1), release: make(chan struct{})}
	svc := New(Options{Store: h.svc.st, Clock: clock.Func(h.clock.Now), Interval: time.Millisecond,
		Round: gate.Round})
	svc.SetServices(held)
	loopCtx, stop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		svc.Run(loopCtx)
	}()
	t.Cleanup(func() { stop(); <-loopDone })
	<-held.entered

	// The reset lets the scaling go on once it has deleted the target, as
	// it would if the round held nothing; since the round holds the gate,
	// the reset cannot begin before the round is over, and the scaling
	// goes on after a while instead.
	var once sync.Once
	release := func() { once.Do(func() { close(held.release) }) }
	timer := time.AfterFunc(500*time.Millisecond, release)
	defer timer.Stop()
	err = gate.Exclusive(func() error {
		storetest.DeletePrefix(t, h.svc.st, "aas/")
		release()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	<-loopDone
	left := storetest.Keys(t, h.svc.st, "aas/")
	if len(left) != 0 {
		t.Errorf("the scaling in flight wrote back what the reset deleted: %q", left)
	}
}
