// Package eventbus is how services announce events to EventBridge: S3 object
// events, ECS task state changes, CloudWatch alarm state changes. Publishers hold a
// *Bus from the moment they are built; EventBridge attaches itself as the Bus's
// sink when it is built, so construction order does not matter.
package eventbus

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Event is an event as a service emits it. EventBridge wraps it in AWS's envelope
// (version, id, detail-type, source, account, time, region, resources, detail).
type Event struct {
	ID         string          // envelope id; empty means EventBridge assigns one
	Source     string          // "aws.s3"
	DetailType string          // "Object Created"
	Detail     json.RawMessage // the detail object, exactly as AWS sends it
	Resources  []string        // ARNs the event is about
	Account    string
	Region     string
	Time       time.Time
	BusName    string // "" means the account's default bus
}

// Sink receives published events. EventBridge implements it.
type Sink interface {
	Publish(ctx context.Context, e Event) error
}

// Bus forwards published events to its sinks.
type Bus struct {
	mu    sync.RWMutex
	sinks []Sink
}

// New returns a bus with no sinks; events published to it are dropped until one is attached.
func New() *Bus { return &Bus{} }

// Attach adds a sink; every later Publish reaches it.
func (b *Bus) Attach(s Sink) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sinks = append(b.sinks, s)
}

// Publish hands e to every sink and returns the first error.
func (b *Bus) Publish(ctx context.Context, e Event) error {
	b.mu.RLock()
	sinks := b.sinks
	b.mu.RUnlock()
	var first error
	for _, s := range sinks {
		if err := s.Publish(ctx, e); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Recorder is a Sink that keeps what it receives, for tests and the debug endpoint.
type Recorder struct {
	mu     sync.Mutex
	events []Event
	notify chan struct{}
}

// Publish records e.
func (r *Recorder) Publish(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	if r.notify != nil {
		close(r.notify)
		r.notify = nil
	}
	return nil
}

// Events returns the events recorded so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Wait blocks until at least n events are recorded or ctx ends, and returns them.
func (r *Recorder) Wait(ctx context.Context, n int) ([]Event, error) {
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			ev := append([]Event(nil), r.events...)
			r.mu.Unlock()
			return ev, nil
		}
		if r.notify == nil {
			r.notify = make(chan struct{})
		}
		ch := r.notify
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return r.Events(), ctx.Err()
		}
	}
}
