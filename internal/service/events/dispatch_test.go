package events

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/service/sqs"
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
		{"ARoundsDeliveriesToATargetAreOneBatchInOrder", TestARoundsDeliveriesToATargetAreOneBatchInOrder},
		{"RulesChangedBeforeDispatchAreMatchedAsTheyAreThen", TestRulesChangedBeforeDispatchAreMatchedAsTheyAreThen},
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

// batchRecorder is a BatchTarget that records each DeliverBatch call and
// fails the deliveries whose input has "fail" in it.
type batchRecorder struct {
	recorder
	calls [][]string // each call's deliveries, as "target ARN event id"
}

func (r *batchRecorder) DeliverBatch(_ context.Context, ds []*Delivery) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var call []string
	errs := make([]error, len(ds))
	for i, d := range ds {
		call = append(call, awsapi.ToString(d.Target.Arn)+" "+d.EventID)
		if strings.Contains(string(d.Input), "fail") {
			errs[i] = fmt.Errorf("refused %s", d.EventID)
			continue
		}
		r.got = append(r.got, *d)
	}
	r.calls = append(r.calls, call)
	return errs
}

// TestARoundsDeliveriesToATargetAreOneBatchInOrder checks that the events
// of one round reach a BatchTarget as one DeliverBatch call per target ARN,
// in the order they were put, and that a delivery the batch fails is retried
// and dead-lettered on its own, with its own error, as one delivered alone.
func TestARoundsDeliveriesToATargetAreOneBatchInOrder(t *testing.T) {
	f := newFixture(t)
	queues, dlq := &batchRecorder{}, &recorder{}
	f.tgt["sqs"] = queues
	f.tgt["sns"] = dlq
	f.putRule(t, "r", `{"source":["a"]}`)
	for _, q := range []string{"q1", "q2"} {
		f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String(q), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:" + q),
			RetryPolicy:      &eventsapi.RetryPolicy{MaximumRetryAttempts: awsapi.Int32(0)},
			DeadLetterConfig: &eventsapi.DeadLetterConfig{Arn: awsapi.String("arn:aws:sns:us-east-1:123456789012:dlq")}})
	}
	var entries []eventsapi.PutEventsRequestEntry
	for _, d := range []string{`{"n":1}`, `{"n":2,"x":"fail"}`, `{"n":3}`} {
		entries = append(entries, eventsapi.PutEventsRequestEntry{Source: awsapi.String("a"), DetailType: awsapi.String("t"), Detail: awsapi.String(d)})
	}
	out, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: entries})
	if err != nil || *out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := func(i int) string { return *out.Entries[i].EventId }
	q1, q2 := "arn:aws:sqs:us-east-1:123456789012:q1 ", "arn:aws:sqs:us-east-1:123456789012:q2 "
	want := [][]string{{q1 + id(0), q1 + id(1), q1 + id(2)}, {q2 + id(0), q2 + id(1), q2 + id(2)}}
	if fmt.Sprint(queues.calls) != fmt.Sprint(want) {
		t.Errorf("DeliverBatch calls %v, want %v", queues.calls, want)
	}
	dead := dlq.deliveries()
	if len(dead) != 2 {
		t.Fatalf("dead-lettered %d, want the failed event's two deliveries", len(dead))
	}
	for i, d := range dead {
		q := []string{"q1", "q2"}[i]
		if d.EventID != id(1) || d.Attributes["ERROR_MESSAGE"] != "refused "+id(1) || d.Attributes["ERROR_CODE"] != "SDK_CLIENT_ERROR" ||
			d.Attributes["TARGET_ARN"] != "arn:aws:sqs:us-east-1:123456789012:"+q {
			t.Errorf("dead letter %d: %+v", i, d)
		}
	}
}

// TestRulesChangedBeforeDispatchAreMatchedAsTheyAreThen checks that the
// rules PutEvents found an event matches (to decide it goes through the
// outbox) are taken again by the dispatcher only while the bus's rules are
// unchanged: a rule deleted, disabled, replaced or added in between is
// matched as it is when the event is dispatched, as when every event was
// matched there.
func TestRulesChangedBeforeDispatchAreMatchedAsTheyAreThen(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, f *fixture)
		want   string // rules whose target got the event
	}{
		{"unchanged", func(*testing.T, *fixture) {}, "a b"},
		{"deleted", func(t *testing.T, f *fixture) {
			if _, err := f.s.RemoveTargets(f.ctx, &eventsapi.RemoveTargetsInput{Rule: new("b"), Ids: []string{"b"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.s.DeleteRule(f.ctx, &eventsapi.DeleteRuleInput{Name: new("b")}); err != nil {
				t.Fatal(err)
			}
		}, "a"},
		{"disabled", func(t *testing.T, f *fixture) {
			if _, err := f.s.DisableRule(f.ctx, &eventsapi.DisableRuleInput{Name: new("a")}); err != nil {
				t.Fatal(err)
			}
		}, "b"},
		{"pattern replaced", func(t *testing.T, f *fixture) { f.putRule(t, "a", `{"source":["other"]}`) }, "b"},
		{"added", func(t *testing.T, f *fixture) {
			f.putRule(t, "c", `{"source":["s"]}`)
			f.putTarget(t, "c", eventsapi.Target{Id: new("c"), Arn: new("arn:aws:sqs:us-east-1:123456789012:c")})
		}, "a b c"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			rec := &recorder{}
			f.tgt["sqs"] = rec
			for _, r := range []string{"a", "b"} {
				f.putRule(t, r, `{"source":["s"]}`)
				f.putTarget(t, r, eventsapi.Target{Id: new(r), Arn: new("arn:aws:sqs:us-east-1:123456789012:" + r)})
			}
			out, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{
				{Source: new("s"), DetailType: new("t"), Detail: new(`{}`)}}})
			if err != nil || *out.FailedEntryCount != 0 {
				t.Fatalf("PutEvents: %v %+v", err, out)
			}
			c.change(t, f)
			if err := f.s.Dispatch(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range rec.deliveries() {
				got = append(got, d.RuleArn[strings.LastIndexByte(d.RuleArn, '/')+1:])
			}
			slices.Sort(got)
			if strings.Join(got, " ") != c.want {
				t.Errorf("delivered through rules %v, want %s", got, c.want)
			}
		})
	}
}

func TestArnFieldsSplitsAsSplitN(t *testing.T) {
	for _, arn := range []string{
		"", "arn", "arn:aws:sqs:us-east-1:123456789012", "arn:aws:sqs:us-east-1:123456789012:",
		"arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:events:us-east-1:123456789012:event-bus/b",
		"arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/x:*", ":::::", "::::", "a:b:c:d:e:f:g",
	} {
		parts := strings.SplitN(arn, ":", 6)
		f, ok := arnFields(arn)
		if ok != (len(parts) == 6) {
			t.Errorf("arnFields(%q) ok = %v, SplitN has %d parts", arn, ok, len(parts))
			continue
		}
		if ok && !slices.Equal(f[:], parts) {
			t.Errorf("arnFields(%q) = %q, SplitN = %q", arn, f, parts)
		}
		want := ""
		if ok {
			want = parts[2]
		}
		if got := arnService(arn); got != want {
			t.Errorf("arnService(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestSeqKeysAreWhatFmtMade(t *testing.T) {
	for _, n := range []uint64{0, 1, 9, 10, 12345, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
		if got, want := string(appendSeqKey(nil, outboxPrefix, n)), fmt.Sprintf("%s%020d", outboxPrefix, n); got != want {
			t.Errorf("appendSeqKey(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestDeliveredEventsLeaveTheOutboxWithTheNextEvent checks Run's dispatching
// (lazy): a delivered event's outbox entry is deleted by the commit of the
// next accepted event, not by a commit of the dispatcher's, and an event
// delivered but not yet deleted when wharf stops without a clean shutdown
// is delivered again after the restart (at least once), not lost.
func TestDeliveredEventsLeaveTheOutboxWithTheNextEvent(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "all", `{"source":["com.example.orders"]}`)
	f.putTarget(t, "all", eventsapi.Target{Id: new("q"), Arn: new("arn:aws:sqs:us-east-1:123456789012:q")})

	f.putOnly(t, `{"n":1}`)
	if err := f.s.dispatch(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if got := rec.deliveries(); len(got) != 1 {
		t.Fatalf("delivered %d events, want 1", len(got))
	}
	if n := outboxLen(t, f); n != 1 {
		t.Fatalf("outbox holds %d events after a lazy dispatch, want the delivered one still", n)
	}
	f.putOnly(t, `{"n":2}`)
	if n := outboxLen(t, f); n != 1 {
		t.Fatalf("outbox holds %d events after the next PutEvents, want only the new one", n)
	}
	if err := f.s.dispatch(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if got := rec.deliveries(); len(got) != 2 {
		t.Fatalf("delivered %d events, want 2", len(got))
	}

	// Stopped without a flush: the second event's entry is still there, and
	// a new service over the same store delivers it again, the first not.
	f.s = f.service()
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.deliveries()
	if len(got) != 3 || !strings.Contains(string(got[2].Input), `"n":2`) {
		t.Fatalf("after the restart delivered %d events (%v), want the second one again", len(got), got)
	}
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("outbox holds %d events after Dispatch", n)
	}
}

// TestRunDeletesDeliveredEventsWhenNoneFollow checks that Run deletes
// delivered events itself when no PutEvents comes to, and as it stops.
func TestRunDeletesDeliveredEventsWhenNoneFollow(t *testing.T) {
	for _, stop := range []bool{false, true} {
		t.Run(fmt.Sprint("stop=", stop), func(t *testing.T) {
			f := newFixture(t)
			rec := &recorder{}
			f.tgt["sqs"] = rec
			f.putRule(t, "all", `{"source":["com.example.orders"]}`)
			f.putTarget(t, "all", eventsapi.Target{Id: new("q"), Arn: new("arn:aws:sqs:us-east-1:123456789012:q")})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); f.s.Run(ctx) }()
			f.putOnly(t, `{"n":1}`)
			// Generous bounds that only a broken Run reaches.
			deadline := time.Now().Add(30 * time.Second)
			for len(rec.deliveries()) == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if stop {
				cancel()
				<-done
			} else {
				for outboxLen(t, f) != 0 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				cancel()
				<-done
			}
			if got := rec.deliveries(); len(got) != 1 {
				t.Fatalf("delivered %d events, want 1", len(got))
			}
			if n := outboxLen(t, f); n != 0 {
				t.Fatalf("outbox holds %d events, want none", n)
			}
		})
	}
}

// TestEventsForQueuesAreDeliveredBeforePutEventsAnswers checks the path
// that skips the outbox (deliverNow): an event whose rules' targets are
// all SQS queues is in its queue, on disk, when PutEvents answers, with
// nothing left in the outbox, so a crash just after the answer loses
// nothing and delivers nothing twice; the store's files copied at that
// moment stand for the disk after the crash. An event that also matches a
// rule with another kind of target still goes through the outbox.
func TestEventsForQueuesAreDeliveredBeforePutEventsAnswers(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newFixture(t)
	f.st = st
	f.s = f.service()
	q := sqs.New(sqs.Options{Store: st})
	f.tgt["sqs"] = SQSTarget{Queues: q}
	rec := &recorder{}
	f.tgt["sns"] = rec
	for _, name := range []string{"a", "b"} {
		if _, err := q.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	// One queue, twice (the event and its detail): one commit, delivered
	// by PutEvents. Two queues would be a commit each: the outbox's one.
	f.putRule(t, "queue", `{"detail":{"q":["a"]}}`)
	f.putTarget(t, "queue", eventsapi.Target{Id: new("a"), Arn: new("arn:aws:sqs:us-east-1:123456789012:a")})
	f.putTarget(t, "queue", eventsapi.Target{Id: new("a-detail"), Arn: new("arn:aws:sqs:us-east-1:123456789012:a"),
		InputPath: new("$.detail")})
	f.putRule(t, "queues", `{"detail":{"q":["ab"]}}`)
	f.putTarget(t, "queues", eventsapi.Target{Id: new("a"), Arn: new("arn:aws:sqs:us-east-1:123456789012:a")})
	f.putTarget(t, "queues", eventsapi.Target{Id: new("b"), Arn: new("arn:aws:sqs:us-east-1:123456789012:b")})
	f.putRule(t, "topic", `{"detail":{"topic":[true]}}`)
	f.putTarget(t, "topic", eventsapi.Target{Id: new("t"), Arn: new("arn:aws:sns:us-east-1:123456789012:t")})

	f.putOnly(t, `{"n":1,"q":"a"}`, `{"n":2,"q":"a"}`)
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("outbox holds %d events for one queue, want none", n)
	}
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	f.putOnly(t, `{"n":3,"q":"ab"}`)
	if n := outboxLen(t, f); n != 1 {
		t.Fatalf("outbox holds %d events, want the one for two queues", n)
	}
	f.putOnly(t, `{"n":4,"q":"a","topic":true}`)
	if n := outboxLen(t, f); n != 2 {
		t.Fatalf("outbox holds %d events, want also the one a topic's rule matches", n)
	}

	// What a restart after the crash finds: both events in their queue,
	// each as itself and as its detail, and nothing for the dispatcher to
	// deliver again.
	st2, err := store.Open(crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	q2 := sqs.New(sqs.Options{Store: st2})
	f2 := &fixture{st: st2, clk: f.clk, tgt: map[string]Target{"sqs": SQSTarget{Queues: q2}, "sns": rec}, ctx: f.ctx}
	f2.s = f2.service()
	if err := f2.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"a": {`{"n":1,"q":"a"}`, `{"n":2,"q":"a"}`, `"detail":{"n":1,"q":"a"}`, `"detail":{"n":2,"q":"a"}`},
		"b": nil,
	} {
		var got []string
		for range 3 {
			out, err := q2.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: awsapi.String("/123456789012/" + name), MaxNumberOfMessages: awsapi.Int32(10)})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				got = append(got, awsapi.ToString(m.Body))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("queue %s after the crash holds %q, want %q, each once", name, got, want)
		}
		for _, w := range want {
			// The details are whole bodies; the events hold theirs.
			n := 0
			for _, g := range got {
				if g == w || strings.HasPrefix(w, `"detail"`) && strings.Contains(g, w) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("queue %s after the crash holds %q: %d bodies are (or hold) %s, want 1", name, got, n, w)
			}
		}
	}
	if n := len(rec.deliveries()); n != 0 {
		t.Errorf("%d deliveries to the topic after the crash, want none (its event came after)", n)
	}
}

// TestAFailedDeliveryBeforePutEventsAnswersIsRetriedAfterARestart checks
// that an event PutEvents delivers itself (deliverNow) and its queue
// refuses is kept as a retry before PutEvents answers, and delivered by
// the retry after a restart.
func TestAFailedDeliveryBeforePutEventsAnswersIsRetriedAfterARestart(t *testing.T) {
	f := newFixture(t)
	q := sqs.New(sqs.Options{Store: f.st})
	f.tgt["sqs"] = SQSTarget{Queues: q}
	f.putRule(t, "r", `{"source":["com.example.orders"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: new("q"), Arn: new("arn:aws:sqs:us-east-1:123456789012:later")})
	f.putOnly(t, `{"n":1}`) // the queue does not exist yet
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("outbox holds %d events, want none", n)
	}

	f.s = f.service() // a restart
	if _, err := q.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("later")}); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(time.Hour)
	if err := f.s.Retry(f.ctx); err != nil {
		t.Fatal(err)
	}
	out, err := q.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: awsapi.String("/123456789012/later"), MaxNumberOfMessages: awsapi.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || !strings.Contains(awsapi.ToString(out.Messages[0].Body), `"detail":{"n":1}`) {
		t.Fatalf("queue holds %+v after the retry, want the event", out.Messages)
	}
}

// copyDir copies the files of dir into to, as they are now.
func copyDir(t *testing.T, dir, to string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := os.MkdirAll(filepath.Join(to, e.Name()), 0o755); err != nil {
				t.Fatal(err)
			}
			copyDir(t, filepath.Join(dir, e.Name()), filepath.Join(to, e.Name()))
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPutEventsFailsWhenAFailedDeliverysRetryCannotBeStored: an event
// PutEvents delivers itself (deliverNow) whose queue refuses it is kept as
// a retry record; when that record cannot be committed, the event would be
// lost with nothing on disk to deliver it later, so PutEvents must fail and
// the caller retry, not answer the event accepted.
func TestPutEventsFailsWhenAFailedDeliverysRetryCannotBeStored(t *testing.T) {
	f := newFixture(t)
	f.st = retryRefusingStore{f.st}
	f.s = f.service()
	f.tgt["sqs"] = SQSTarget{Queues: sqs.New(sqs.Options{Store: f.st})}
	f.putRule(t, "r", `{"source":["com.example.orders"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: new("q"), Arn: new("arn:aws:sqs:us-east-1:123456789012:missing")})
	src, dt, detail := "com.example.orders", "Order", `{"n":1}`
	out, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{{Source: &src, DetailType: &dt, Detail: &detail}}})
	if err == nil {
		t.Fatalf("PutEvents answered %+v though the failed delivery's retry was not stored", out)
	}
}

// retryRefusingStore is a store whose Updates fail when they write a
// delivery's retry record.
type retryRefusingStore struct{ store.Store }

func (s retryRefusingStore) Update(fn func(store.Tx) error) error {
	return s.Store.Update(func(tx store.Tx) error { return fn(retryRefusingTx{tx}) })
}

type retryRefusingTx struct{ store.Tx }

func (tx retryRefusingTx) Put(k, v []byte) error {
	if strings.HasPrefix(string(k), retryPrefix) {
		return fmt.Errorf("refused %s", k)
	}
	return tx.Tx.Put(k, v)
}
