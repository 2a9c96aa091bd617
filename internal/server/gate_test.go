package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExclusiveCancelsHeldRequestsAndWaitsForThem(t *testing.T) {
	var g Gate
	asked := g.Enter(context.Background()) // Done asked for before the Exclusive
	unasked := g.Enter(context.Background())
	done := asked.Done()
	ran := make(chan struct{})
	go func() {
		_ = g.Exclusive(func() error { close(ran); return nil })
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("an Exclusive did not cancel a held request's context")
	}
	if !errors.Is(asked.Err(), context.Canceled) || !errors.Is(unasked.Err(), context.Canceled) {
		t.Fatalf("Err = %v, %v; want context.Canceled for both", asked.Err(), unasked.Err())
	}
	select {
	case <-unasked.Done(): // Done asked for after the Exclusive began
	case <-time.After(10 * time.Second):
		t.Fatal("Done asked for after an Exclusive began is not closed")
	}
	select {
	case <-ran:
		t.Fatal("Exclusive ran while requests held the gate")
	default:
	}
	asked.Exit()
	unasked.Exit()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Exclusive did not run once the requests had ended")
	}
	// A request after the Exclusive is not cancelled by it.
	next := g.Enter(context.Background())
	defer next.Exit()
	if next.Err() != nil {
		t.Fatalf("a request after the Exclusive has Err %v", next.Err())
	}
	select {
	case <-next.Done():
		t.Fatal("a request after the Exclusive was cancelled")
	default:
	}
}

func TestHeldFollowsTheRequestsContext(t *testing.T) {
	var g Gate
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), connKey{}, "conn"))
	h := g.Enter(ctx)
	if h.Value(connKey{}) != "conn" {
		t.Fatal("the held context lost the request's values")
	}
	done := h.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the request did not close Done")
	}
	if !errors.Is(h.Err(), context.Canceled) {
		t.Fatalf("Err = %v, want context.Canceled", h.Err())
	}
	h.Exit()
	// Done after Exit is the request's own, never a new context joined to
	// the gate.
	if h.Done() != ctx.Done() && h.Done() != done {
		t.Fatal("Done after Exit is neither the request's nor the joined one")
	}
}
