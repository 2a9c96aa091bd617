package sqs

import (
	"bytes"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// refusingStore refuses every Update once refuse is set, after its fn has
// run, as the disk store does on a full disk: fn's writes are dropped and
// Update returns an error, the store going on.
type refusingStore struct {
	store.Store
	refuse atomic.Bool
}

var errRefused = errors.New("store commit: no space left on device")

func (s *refusingStore) Update(fn func(store.Tx) error) error {
	if !s.refuse.Load() {
		return s.Store.Update(fn)
	}
	return s.Store.Update(func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errRefused
	})
}

// TestARefusedSendIsNotOnTheTimeline: a send whose update the store
// refuses (a full disk, which does not fail the store) stored no message,
// so the timeline must not leave it as sent, nor the log write its
// "message sent" line.
func TestARefusedSendIsNotOnTheTimeline(t *testing.T) {
	st := &refusingStore{Store: store.OpenMemory()}
	var logged bytes.Buffer
	tl, err := timeline.Open(timeline.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, st, newFakeClock())
	f.svc.SetTimeline(tl)
	url := f.createQueue("work", nil)
	f.ctx = timeline.WithCause(f.ctx, "event-1") // a delivery: logged at info
	st.refuse.Store(true)
	body := "hello"
	if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err == nil {
		t.Fatal("SendMessage succeeded on a store refusing every update")
	}
	st.refuse.Store(false)
	if got := f.receive(url, 10); len(got) != 0 {
		t.Fatalf("received %d messages after a refused send", len(got))
	}
	// Recorded in the update, before the store refused it, the send may stay
	// on the timeline only if a failure of the same message follows it.
	entries := tl.List(timeline.Filter{}) // newest first
	for i, e := range entries {
		if e.Kind != "MessageSent" || e.Outcome == timeline.Failed {
			continue
		}
		failed := false
		for _, later := range entries[:i] {
			failed = failed || later.Subject == e.Subject && later.Outcome == timeline.Failed
		}
		if !failed {
			t.Errorf("timeline has %+v, and nothing after it says the store refused it", e)
		}
	}
	if bytes.Contains(logged.Bytes(), []byte("message sent")) {
		t.Errorf("log says a refused send was sent: %s", logged.Bytes())
	}
}
