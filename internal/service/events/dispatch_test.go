package events

import (
	"context"
	"testing"

	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/store"
)

// outboxLen counts the events waiting for the dispatcher: in the store's
// outbox or, for a volatile service, in its queue.
func outboxLen(t *testing.T, f *fixture) int {
	t.Helper()
	n := 0
	err := f.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(outboxPrefix), nil, func(_, _ []byte) (bool, error) { n++; return true, nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	f.s.hotMu.Lock()
	n += len(f.s.queue)
	f.s.hotMu.Unlock()
	return n
}

// TestVolatileOutbox runs the tests of accepting, matching, delivering,
// archiving and replaying events with services that keep accepted events in
// memory (Options.Volatile, as --ephemeral makes them), which must behave
// as the store's outbox does, restarts aside; and checks that nothing goes
// to the store's outbox then.
func TestVolatileOutbox(t *testing.T) {
	volatileFixtures = true
	defer func() { volatileFixtures = false }()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"OnlyEventsThatMatchARuleOrArchiveGoThroughTheOutbox", TestOnlyEventsThatMatchARuleOrArchiveGoThroughTheOutbox},
		{"DispatchDeliversEveryEventAcrossRounds", func(t *testing.T) { testDispatchDeliversEveryEventAcrossRounds(t) }},
		{"PutEventsDeliversAWSEnvelopeToMatchingRulesOnly", TestPutEventsDeliversAWSEnvelopeToMatchingRulesOnly},
		{"PutEventsReportsEachEntry", TestPutEventsReportsEachEntry},
		{"DisabledRulesDoNotMatch", TestDisabledRulesDoNotMatch},
		{"EventBusTargetForwardsToAnotherBus", TestEventBusTargetForwardsToAnotherBus},
		{"ScheduledRuleFiresWithInjectedClock", TestScheduledRuleFiresWithInjectedClock},
		{"FailedDeliveriesAreRetriedThenDeadLettered", TestFailedDeliveriesAreRetriedThenDeadLettered},
		{"PublishedServiceEventsReachTheDefaultBus", TestPublishedServiceEventsReachTheDefaultBus},
		{"SQSTargetSendsToARealQueue", TestSQSTargetSendsToARealQueue},
		{"ArchiveKeepsMatchingEventsAndReplayRedeliversThemWithReplayName", TestArchiveKeepsMatchingEventsAndReplayRedeliversThemWithReplayName},
		{"ReplayGoesOnlyToFilterArnsRules", TestReplayGoesOnlyToFilterArnsRules},
		{"CancelReplayStopsIt", TestCancelReplayStopsIt},
		{"ArchiveRetentionExpiresOldEvents", TestArchiveRetentionExpiresOldEvents},
		{"SubmitDeliversThroughTheSameRetriesAndDeadLetters", TestSubmitDeliversThroughTheSameRetriesAndDeadLetters},
		{"SubmitToAnEventBusPutsAnEventWithTheGivenSourceAndDetailType", TestSubmitToAnEventBusPutsAnEventWithTheGivenSourceAndDetailType},
	} {
		t.Run(tc.name, tc.fn)
	}

	f := newFixture(t)
	f.putRule(t, "all", `{"source":["com.example.orders"]}`)
	f.putTarget(t, "all", eventsapi.Target{Id: new("q"), Arn: new("arn:aws:sqs:us-east-1:123456789012:q")})
	f.putOnly(t, `{"amount":1}`)
	stored := 0
	f.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(outboxPrefix), nil, func(_, _ []byte) (bool, error) { stored++; return true, nil })
	})
	if n := outboxLen(t, f); stored != 0 || n != 1 {
		t.Fatalf("%d events in the store's outbox and %d waiting in all, want 0 and 1", stored, n)
	}
	// A reset forgets what waits.
	f.s.Forget()
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("%d events waiting after Forget", n)
	}
}

// putOnly puts events without dispatching them.
func (f *fixture) putOnly(t *testing.T, details ...string) {
	t.Helper()
	for _, d := range details {
		src, dt := "com.example.orders", "Order"
		out, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{{Source: &src, DetailType: &dt, Detail: &d}}})
		if err != nil || *out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, out)
		}
	}
}

func TestOnlyEventsThatMatchARuleOrArchiveGoThroughTheOutbox(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "big", `{"detail":{"amount":[{"numeric":[">",100]}]}}`)
	f.putTarget(t, "big", eventsapi.Target{Id: new("q"), Arn: new("arn:aws:sqs:us-east-1:123456789012:q")})
	f.putOnly(t, `{"amount":150}`, `{"amount":5}`, `{"amount":7}`)
	if n := outboxLen(t, f); n != 1 {
		t.Fatalf("outbox holds %d events, want only the one a rule matches", n)
	}
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.deliveries(); len(got) != 1 {
		t.Fatalf("delivered %d events, want 1", len(got))
	}
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("outbox holds %d events after dispatch", n)
	}

	// An archive of the bus keeps every event, so each one now goes through.
	src := "arn:aws:events:us-east-1:123456789012:event-bus/default"
	if _, err := f.s.CreateArchive(f.ctx, &eventsapi.CreateArchiveInput{ArchiveName: new("all"), EventSourceArn: &src}); err != nil {
		t.Fatal(err)
	}
	f.putOnly(t, `{"amount":5}`)
	if n := outboxLen(t, f); n != 1 {
		t.Fatalf("outbox holds %d events, want the one the archive keeps", n)
	}
}

func TestDispatchDeliversEveryEventAcrossRoundsAndRestarts(t *testing.T) {
	f, rec := testDispatchDeliversEveryEventAcrossRounds(t)

	// A restart under the same (fixed) clock: the new service's key sequence
	// starts where the old one's did, below the events the old one left.
	f.putOnly(t, `{"amount":3}`, `{"amount":3}`)
	f.s = f.service()
	f.putOnly(t, `{"amount":4}`)
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.putOnly(t, `{"amount":5}`)
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.deliveries()); got != 305 {
		t.Fatalf("delivered %d events, want 305 (none lost across the restart)", got)
	}
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("outbox holds %d events after dispatch", n)
	}
}

// testDispatchDeliversEveryEventAcrossRounds puts more events than one
// dispatch round takes, then more after the first rounds, and checks that
// each is delivered once.
func testDispatchDeliversEveryEventAcrossRounds(t *testing.T) (*fixture, *recorder) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "all", `{"source":["com.example.orders"]}`)
	f.putTarget(t, "all", eventsapi.Target{Id: new("q"), Arn: new("arn:aws:sqs:us-east-1:123456789012:q")})

	// More than one dispatch round (256 entries), then more after the cursor
	// has moved on.
	var batch []string
	for range 300 {
		batch = append(batch, `{"amount":1}`)
	}
	f.putOnly(t, batch...)
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.putOnly(t, `{"amount":2}`)
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.deliveries()); got != 301 {
		t.Fatalf("delivered %d events, want 301", got)
	}
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("outbox holds %d events after dispatch", n)
	}
	return f, rec
}
