package sqs

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// hops records the timeline entries a service records.
type hops struct {
	mu  sync.Mutex
	got []timeline.Entry
}

func (h *hops) Record(ctx context.Context, e timeline.Entry) { h.RecordUnlogged(ctx, e) }

func (h *hops) RecordUnlogged(ctx context.Context, e timeline.Entry) timeline.Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Cause == "" {
		e.Cause = timeline.CauseOf(ctx)
	}
	h.got = append(h.got, e)
	return e
}

func (h *hops) LogEntry(timeline.Entry) {}

// TestSendMessagesIsSendMessageOneAfterAnother sends the same inputs to two
// services, one SendMessage call at a time and in one SendMessages call, and
// checks that each input gets the same error (or none), that the queues then
// hold the same messages in the same order, and that each sent message has
// its own cause on the timeline: for a FIFO queue with duplicates, bad group
// ids and bad bodies among good messages, for a standard queue, and for a
// queue that does not exist.
func TestSendMessagesIsSendMessageOneAfterAnother(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		queue string
		attrs map[string]string
		ins   func(url string) []*sqsapi.SendMessageInput
	}{
		{"jobs.fifo", map[string]string{"FifoQueue": "true"}, func(url string) []*sqsapi.SendMessageInput {
			return []*sqsapi.SendMessageInput{
				{QueueUrl: &url, MessageBody: str("a"), MessageGroupId: str("g"), MessageDeduplicationId: str("1")},
				{QueueUrl: &url, MessageBody: str("b"), MessageGroupId: str("not a group"), MessageDeduplicationId: str("2")},
				{QueueUrl: &url, MessageBody: str("c"), MessageGroupId: str("g"), MessageDeduplicationId: str("1")}, // a duplicate of a
				{QueueUrl: &url, MessageBody: str("d\uffff"), MessageGroupId: str("g"), MessageDeduplicationId: str("3")},
				{QueueUrl: &url, MessageBody: str("e"), MessageDeduplicationId: str("4")}, // no group
				{QueueUrl: &url, MessageBody: str("f"), MessageGroupId: str("h"), MessageDeduplicationId: str("5"),
					MessageAttributes: map[string]sqsapi.MessageAttributeValue{"ERROR_MESSAGE": {DataType: str("String"), StringValue: str("x")}}},
			}
		}},
		{"plain", nil, func(url string) []*sqsapi.SendMessageInput {
			return []*sqsapi.SendMessageInput{
				{QueueUrl: &url, MessageBody: str("a")},
				{QueueUrl: &url, MessageBody: str("")},
				{QueueUrl: &url, MessageBody: str("c"), DelaySeconds: awsapi.Int32(1000)},
				{QueueUrl: &url, MessageBody: str("d"), MessageGroupId: str("g")},
			}
		}},
		{"", nil, func(string) []*sqsapi.SendMessageInput {
			url := "https://sqs.us-east-1.amazonaws.com/123456789012/missing"
			return []*sqsapi.SendMessageInput{{QueueUrl: &url, MessageBody: str("a")}, {QueueUrl: &url, MessageBody: str("b")}}
		}},
	} {
		name := c.queue
		if name == "" {
			name = "missing"
		}
		t.Run(name, func(t *testing.T) {
			one, batch := newFixtureOn(t, store.OpenMemory(), newFakeClock()), newFixtureOn(t, store.OpenMemory(), newFakeClock())
			tl := &hops{}
			batch.svc.SetTimeline(tl)
			var urls [2]string
			for i, f := range []*fixture{one, batch} {
				if c.queue != "" {
					urls[i] = f.createQueue(c.queue, c.attrs)
				}
			}
			var want []string
			for _, in := range c.ins(urls[0]) {
				_, err := one.svc.SendMessage(one.ctx, in)
				want = append(want, fmt.Sprint(err))
			}
			ins := c.ins(urls[1])
			var causes []string
			for i := range ins {
				causes = append(causes, fmt.Sprintf("event-%d", i))
			}
			errs := batch.svc.SendMessages(batch.ctx, ins, causes)
			var sent []int // inputs sent as a new message
			for i, err := range errs {
				if fmt.Sprint(err) != want[i] {
					t.Errorf("input %d: error %v, one by one %s", i, err, want[i])
				}
			}
			if c.queue == "" {
				return
			}
			for i, in := range ins {
				if errs[i] == nil && !(c.queue == "jobs.fifo" && *in.MessageBody == "c") {
					sent = append(sent, i)
				}
			}
			got := [2][]string{}
			for i, f := range []*fixture{one, batch} {
				f.clock.Advance(2000e9) // past every delay
				out, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &urls[i], MaxNumberOfMessages: awsapi.Int32(10),
					MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []string{"MessageGroupId"}})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range out.Messages {
					got[i] = append(got[i], fmt.Sprint(*m.Body, " ", *m.MD5OfBody, " ", awsapi.ToString(m.MD5OfMessageAttributes), " ", m.Attributes["MessageGroupId"]))
				}
			}
			if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) || len(got[1]) != len(sent) {
				t.Errorf("received %v, one by one %v", got[1], got[0])
			}
			var sentCauses []string
			for _, e := range tl.got {
				if e.Kind == "MessageSent" {
					sentCauses = append(sentCauses, e.Cause)
				}
			}
			var wantCauses []string
			for _, i := range sent {
				wantCauses = append(wantCauses, causes[i])
			}
			if fmt.Sprint(sentCauses) != fmt.Sprint(wantCauses) {
				t.Errorf("MessageSent causes %v, want %v", sentCauses, wantCauses)
			}
		})
	}
}

// TestBatchEntriesGetTheirOwnIdsAndDigests sends a batch whose ids, sequence
// numbers and digests are made for all its valid entries at once, with an
// invalid entry between them: each entry's result, and the message received,
// carries its own id and its own body's digest.
func TestBatchEntriesGetTheirOwnIdsAndDigests(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	var entries []sqsapi.SendMessageBatchRequestEntry
	for i := range 10 {
		body := "body " + strings.Repeat("x", i*40) // some longer than a digest
		if i == 4 {
			body = "" // invalid: fails alone
		}
		entries = append(entries, sqsapi.SendMessageBatchRequestEntry{Id: awsapi.String("e" + strconv.Itoa(i)), MessageBody: awsapi.String(body)})
	}
	out, err := f.svc.SendMessageBatch(f.ctx, &sqsapi.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 9 || len(out.Failed) != 1 || *out.Failed[0].Id != "e4" {
		t.Fatalf("batch result = %+v", out)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	bodyOf := map[string]string{} // message id → body sent
	for _, r := range out.Successful {
		var body string
		for _, e := range entries {
			if *e.Id == *r.Id {
				body = *e.MessageBody
			}
		}
		sum := md5.Sum([]byte(body))
		if *r.MD5OfMessageBody != hex.EncodeToString(sum[:]) {
			t.Errorf("entry %s: digest %s, want the MD5 of %q", *r.Id, *r.MD5OfMessageBody, body)
		}
		if !uuid.MatchString(*r.MessageId) {
			t.Errorf("entry %s: message id %q is not a UUID v4", *r.Id, *r.MessageId)
		}
		if _, dup := bodyOf[*r.MessageId]; dup {
			t.Errorf("message id %s given twice", *r.MessageId)
		}
		bodyOf[*r.MessageId] = body
	}
	got := 0
	for got < 9 {
		msgs := f.receive(url, 10)
		if len(msgs) == 0 {
			t.Fatalf("received %d messages of 9", got)
		}
		for _, m := range msgs {
			if body, ok := bodyOf[*m.MessageId]; !ok || *m.Body != body || *m.MD5OfBody != md5Hex([]byte(body)) {
				t.Errorf("received %s with body %q and digest %s; sent %q", *m.MessageId, *m.Body, *m.MD5OfBody, body)
			}
			got++
		}
	}
}

// TestSendMessagesToSeveralQueuesInOneUpdate: inputs naming several queues
// are stored in one update, each in its own queue and in order, a bad
// queue URL or a missing queue failing only its own inputs.
func TestSendMessagesToSeveralQueuesInOneUpdate(t *testing.T) {
	st := &updateCountingStore{Store: store.OpenMemory()}
	f := newFixtureOn(t, st, newFakeClock())
	a, b := f.createQueue("a", nil), f.createQueue("b", nil)
	missing, bad := "https://sqs.us-east-1.amazonaws.com/123456789012/missing", ""
	str := func(s string) *string { return &s }
	ins := []*sqsapi.SendMessageInput{
		{QueueUrl: &a, MessageBody: str("a1")},
		{QueueUrl: &b, MessageBody: str("b1")},
		{QueueUrl: &missing, MessageBody: str("lost")},
		{QueueUrl: &a, MessageBody: str("a2")},
		{QueueUrl: &bad, MessageBody: str("lost")},
		{QueueUrl: &b, MessageBody: str("")},
	}
	before := st.updates
	errs := f.svc.SendMessages(f.ctx, ins, make([]string, len(ins)))
	if st.updates-before != 1 {
		t.Errorf("%d updates, want 1", st.updates-before)
	}
	for i, want := range []string{"", "", "QueueDoesNotExist", "", "MissingParameter", "MissingParameter"} {
		if want == "" {
			if errs[i] != nil {
				t.Errorf("input %d: %v", i, errs[i])
			}
			continue
		}
		wantCode(t, errs[i], want)
	}
	for _, c := range []struct {
		url  string
		want []string
	}{{a, []string{"a1", "a2"}}, {b, []string{"b1"}}} {
		if got := bodies(f.receive(c.url, 10)); !equal(got, c.want) {
			t.Errorf("%s holds %v, want %v", c.url, got, c.want)
		}
	}
}

// updateFlag is a store that says whether one of its Updates' fn is
// running.
type updateFlag struct {
	store.Store
	in atomic.Bool
}

func (s *updateFlag) Update(fn func(store.Tx) error) error {
	return s.Store.Update(func(tx store.Tx) error {
		s.in.Store(true)
		defer s.in.Store(false)
		return fn(tx)
	})
}

// lockProbe is a log writer that keeps its lines and counts those written
// while an Update of st ran (the only Updates are the test's).
type lockProbe struct {
	st    *updateFlag
	mu    sync.Mutex
	lines []string
	held  int
}

func (p *lockProbe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, string(b))
	if p.st.in.Load() {
		p.held++
	}
	return len(b), nil
}

// TestADeliveredSendIsRecordedThenLoggedOutsideItsUpdate: a send another
// service makes (with a cause) is on the timeline, recorded inside its
// update so that no receive comes before it, and its info line is written
// after the update, so that a log writer that blocks holds up no other
// update.
func TestADeliveredSendIsRecordedThenLoggedOutsideItsUpdate(t *testing.T) {
	st := &updateFlag{Store: store.OpenMemory()}
	probe := &lockProbe{st: st}
	tl, err := timeline.Open(timeline.Options{Logger: slog.New(slog.NewTextHandler(probe, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, st, newFakeClock())
	f.svc.SetTimeline(tl)
	url := f.createQueue("work", nil)
	f.ctx = timeline.WithCause(f.ctx, "event-1")
	out := f.send(url, "hello")
	entries := tl.List(timeline.Filter{})
	if len(entries) != 1 || entries[0].Kind != "MessageSent" || entries[0].Subject != *out.MessageId || entries[0].Cause != "event-1" {
		t.Fatalf("timeline: %+v", entries)
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if len(probe.lines) != 1 || !strings.Contains(probe.lines[0], "message sent to queue work") || probe.held != 0 {
		t.Errorf("log lines %q, %d written while the update held the store", probe.lines, probe.held)
	}
}
