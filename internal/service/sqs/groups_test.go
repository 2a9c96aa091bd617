package sqs

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// countingStore counts the keys every transaction reads (Get, and each key a
// Scan visits), to show what an operation's cost depends on.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

type countingTx struct {
	store.Tx
	n *atomic.Int64
}

func (s *countingStore) View(fn func(store.Tx) error) error {
	return s.Store.View(func(tx store.Tx) error { return fn(countingTx{tx, &s.reads}) })
}

func (s *countingStore) Update(fn func(store.Tx) error) error {
	return s.Store.Update(func(tx store.Tx) error { return fn(countingTx{tx, &s.reads}) })
}

func (t countingTx) Get(k []byte) ([]byte, error) { t.n.Add(1); return t.Tx.Get(k) }

func (t countingTx) Scan(p, start []byte, fn func(k, v []byte) (bool, error)) error {
	return t.Tx.Scan(p, start, func(k, v []byte) (bool, error) { t.n.Add(1); return fn(k, v) })
}

func (t countingTx) ScanReverse(p, start []byte, fn func(k, v []byte) (bool, error)) error {
	return t.Tx.ScanReverse(p, start, func(k, v []byte) (bool, error) { t.n.Add(1); return fn(k, v) })
}

// TestFIFOReceiveReadsWhatItReturnsNotTheQueue: with n groups in flight and
// one group visible, a receive reads as many keys whether n is 100 or 2000
// (it used to decode every message of the queue).
func TestFIFOReceiveReadsWhatItReturnsNotTheQueue(t *testing.T) {
	reads := map[int]int64{}
	for _, n := range []int{100, 2000} {
		st := &countingStore{Store: store.OpenMemory()}
		f := newFixtureOn(t, st, newFakeClock())
		url := f.createQueue("q.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
		for i := 0; i < n; i++ {
			f.sendGroup(url, fmt.Sprintf("busy-%d", i), fmt.Sprintf("g%d", i), "")
		}
		for got := 0; got < n; {
			msgs := f.receive(url, 10)
			if len(msgs) == 0 {
				t.Fatalf("n=%d: only %d of the busy messages received", n, got)
			}
			got += len(msgs)
		}
		f.sendGroup(url, "free-1", "free", "")
		f.sendGroup(url, "free-2", "free", "")
		st.reads.Store(0)
		if got := bodies(f.receive(url, 10)); !equal(got, []string{"free-1", "free-2"}) {
			t.Fatalf("n=%d: received %v", n, got)
		}
		reads[n] = st.reads.Load()
	}
	if reads[2000] != reads[100] {
		t.Errorf("a receive read %d keys with 100 groups in flight, %d with 2000", reads[100], reads[2000])
	}
}

// TestFIFOGroupsFollowDeletesAndVisibility: a group is blocked by its first
// message in flight, passes to its next message when that one is deleted,
// and other groups are served meanwhile, each in send order.
func TestFIFOGroupsFollowDeletesAndVisibility(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	for _, m := range []string{"a1", "b1", "a2", "b2", "a3", "c1"} {
		f.sendGroup(url, m, m[:1], "")
	}
	first := f.receive(url, 1)
	if got := bodies(first); !equal(got, []string{"a1"}) {
		t.Fatalf("first = %v", got)
	}
	if got := bodies(f.receive(url, 2)); !equal(got, []string{"b1", "b2"}) {
		t.Fatalf("second = %v", got)
	}
	if got := bodies(f.receive(url, 10)); !equal(got, []string{"c1"}) {
		t.Fatalf("third = %v", got)
	}
	if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if got := bodies(f.receive(url, 10)); !equal(got, []string{"a2", "a3"}) {
		t.Fatalf("after deleting a1 = %v", got)
	}
	f.clock.Advance(31 * time.Second) // b1, b2, c1, a2, a3 visible again
	got := bodies(f.receive(url, 10))
	if strings.Join(got, ",") != "b1,b2,c1,a2,a3" && strings.Join(got, ",") != "a2,a3,b1,b2,c1" {
		// Groups come earliest visible first; within a group, send order.
		order := map[string]int{}
		for i, b := range got {
			order[b] = i
		}
		if len(got) != 5 || order["b1"] > order["b2"] || order["a2"] > order["a3"] {
			t.Fatalf("after the timeout = %v", got)
		}
	}
	a := f.attrs(url)
	if a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "5" {
		t.Errorf("attributes %v", a)
	}
}

// TestFIFOIndexesAreBuiltForAQueueStoredWithout: a FIFO queue stored before
// the group indexes existed is indexed at its first receive.
func TestFIFOIndexesAreBuiltForAQueueStoredWithout(t *testing.T) {
	st := store.OpenMemory()
	f := newFixtureOn(t, st, newFakeClock())
	url := f.createQueue("q.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	for _, m := range []string{"a1", "b1", "a2"} {
		f.sendGroup(url, m, m[:1], "")
	}
	// Remove what this version adds, as if the queue came from an older one.
	if err := st.Update(func(tx store.Tx) error {
		var keys [][]byte
		err := tx.Scan([]byte("sqs/d/"), nil, func(k, _ []byte) (bool, error) {
			s := string(k)
			if strings.Contains(s, "/g/") || strings.Contains(s, "/h/") || strings.HasSuffix(s, "/gi") {
				keys = append(keys, []byte(s))
			}
			return true, nil
		})
		if err != nil || len(keys) == 0 {
			return fmt.Errorf("no index keys found (%v)", err)
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := bodies(f.receive(url, 10)); !equal(got, []string{"a1", "a2", "b1"}) && !equal(got, []string{"a1", "b1", "a2"}) {
		t.Fatalf("received %v", got)
	}
}
