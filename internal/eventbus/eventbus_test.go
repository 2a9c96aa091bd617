package eventbus

import (
	"context"
	"errors"
	"testing"
	"time"
)

type failing struct{}

func (failing) Publish(context.Context, Event) error { return errors.New("down") }

func TestBusDeliversToEverySinkAttachedBeforePublish(t *testing.T) {
	b := New()
	if err := b.Publish(context.Background(), Event{Source: "dropped"}); err != nil {
		t.Fatalf("publish without sinks: %v", err)
	}
	var r1, r2 Recorder
	b.Attach(&r1)
	b.Attach(failing{})
	b.Attach(&r2)
	err := b.Publish(context.Background(), Event{Source: "aws.s3", DetailType: "Object Created"})
	if err == nil {
		t.Error("failing sink's error not returned")
	}
	for _, r := range []*Recorder{&r1, &r2} {
		ev := r.Events()
		if len(ev) != 1 || ev[0].Source != "aws.s3" {
			t.Errorf("recorded %+v", ev)
		}
	}
}

func TestRecorderWaitReturnsWhenEventsArrive(t *testing.T) {
	var r Recorder
	go func() {
		r.Publish(context.Background(), Event{Source: "a"})
		r.Publish(context.Background(), Event{Source: "b"})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := r.Wait(ctx, 2)
	if err != nil || len(ev) != 2 {
		t.Fatalf("Wait = %v, %v", ev, err)
	}
}
