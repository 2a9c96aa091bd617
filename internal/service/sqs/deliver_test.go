package sqs

import (
	"errors"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// updateCountingStore counts the updates made through it.
type updateCountingStore struct {
	store.Store
	updates int
}

func (s *updateCountingStore) Update(fn func(store.Tx) error) error {
	s.updates++
	return s.Store.Update(fn)
}

// TestDeliverToQueuesStoresEveryMessageInOneUpdate: the messages for
// several queues are stored in one update (on disk one commit), a FIFO
// queue's deduplication holds as in SendMessage, and a missing queue or an
// invalid message fails only its own delivery.
func TestDeliverToQueuesStoresEveryMessageInOneUpdate(t *testing.T) {
	st := &updateCountingStore{Store: store.OpenMemory()}
	f := newFixtureOn(t, st, newFakeClock())
	a := f.createQueue("a", nil)
	b := f.createQueue("b", nil)
	fifo := f.createQueue("c.fifo", map[string]string{"FifoQueue": "true"})
	arn := func(name string) string { return "arn:aws:sqs:us-east-1:" + testAccount + ":" + name }
	color := map[string]sqsapi.MessageAttributeValue{"color": {DataType: awsapi.String("String"), StringValue: awsapi.String("red")}}
	ds := []Delivery{
		{QueueARN: arn("a"), Body: "to a", Attrs: color},
		{QueueARN: arn("missing"), Body: "lost"},
		{QueueARN: arn("b"), Body: "to b"},
		{QueueARN: arn("c.fifo"), Body: "first", GroupID: "g", DedupID: "d"},
		{QueueARN: arn("b"), Body: ""}, // SendMessage refuses an empty body
		{QueueARN: "not an arn", Body: "lost"},
	}
	before := st.updates
	errs := f.svc.DeliverToQueues(f.ctx, ds)
	if st.updates-before != 1 {
		t.Errorf("%d updates, want 1", st.updates-before)
	}
	for i, want := range []string{"", "QueueDoesNotExist", "", "", "MissingParameter", "QueueDoesNotExist"} {
		if want == "" {
			if errs[i] != nil {
				t.Errorf("delivery %d: %v", i, errs[i])
			}
			continue
		}
		wantCode(t, errs[i], want)
	}
	// The same deduplication id again within five minutes is accepted and
	// not stored.
	if errs := f.svc.DeliverToQueues(f.ctx, ds[3:4]); errs[0] != nil {
		t.Fatalf("duplicate: %v", errs[0])
	}
	out, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &a, MaxNumberOfMessages: awsapi.Int32(10), MessageAttributeNames: []string{"All"}})
	if err != nil || !equal(bodies(out.Messages), []string{"to a"}) {
		t.Fatalf("queue a: %v %v", err, bodies(out.Messages))
	}
	if v := out.Messages[0].MessageAttributes["color"].StringValue; v == nil || *v != "red" {
		t.Errorf("attributes of the delivered message: %+v", out.Messages[0].MessageAttributes)
	}
	for _, c := range []struct {
		url  string
		want []string
	}{{b, []string{"to b"}}, {fifo, []string{"first"}}} {
		if got := bodies(f.receive(c.url, 10)); !equal(got, c.want) {
			t.Errorf("%s holds %v, want %v", c.url, got, c.want)
		}
	}
	if got := f.svc.DeliverToQueues(f.ctx, nil); len(got) != 0 {
		t.Errorf("no deliveries: %v", got)
	}
}

// TestDeliverToQueuesWithStoresTheCallersWritesInTheSameUpdate: also's
// writes are made once, in the messages' update; in an update of their own
// when every delivery is refused; and when they fail, no message is
// stored and every delivery returns their error.
func TestDeliverToQueuesWithStoresTheCallersWritesInTheSameUpdate(t *testing.T) {
	st := &updateCountingStore{Store: store.OpenMemory()}
	f := newFixtureOn(t, st, newFakeClock())
	a := f.createQueue("a", nil)
	arn := "arn:aws:sqs:us-east-1:" + testAccount + ":a"
	calls := 0
	put := func(key string) func(store.Tx) error {
		return func(tx store.Tx) error { calls++; return tx.Put([]byte(key), []byte("v")) }
	}
	stored := func(key string) bool {
		var v []byte
		_ = st.View(func(tx store.Tx) error { var err error; v, err = tx.Get([]byte(key)); return err })
		return v != nil
	}

	before := st.updates
	errs, err := f.svc.DeliverToQueuesWith(f.ctx, []Delivery{{QueueARN: arn, Body: "one"}}, put("caller/1"))
	if err != nil || errs[0] != nil || st.updates-before != 1 || calls != 1 || !stored("caller/1") {
		t.Fatalf("with a message: err %v, errs %v, %d updates, %d calls, stored %v; want one update holding both", err, errs, st.updates-before, calls, stored("caller/1"))
	}

	before, calls = st.updates, 0
	errs, err = f.svc.DeliverToQueuesWith(f.ctx, []Delivery{{QueueARN: arn + "-missing", Body: "lost"}}, put("caller/2"))
	if err != nil || st.updates-before != 1 || calls != 1 || !stored("caller/2") {
		t.Fatalf("every delivery refused: err %v, %d updates, %d calls; want the writes in an update of their own", err, st.updates-before, calls)
	}
	wantCode(t, errs[0], "QueueDoesNotExist")

	boom := errors.New("boom")
	errs, err = f.svc.DeliverToQueuesWith(f.ctx, []Delivery{{QueueARN: arn, Body: "two"}}, func(store.Tx) error { return boom })
	if !errors.Is(err, boom) || !errors.Is(errs[0], boom) {
		t.Fatalf("failing writes: err %v, errs %v; want boom for both", err, errs)
	}
	if got := bodies(f.receive(a, 10)); !equal(got, []string{"one"}) {
		t.Errorf("queue holds %v, want only the first message", got)
	}
}
