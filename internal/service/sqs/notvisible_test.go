package sqs

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// scanCounts is what the counts were before the watermark: every entry of
// the visibility index still ahead of now, by kind.
func scanCounts(t *testing.T, st store.Store, qid string, now int64) (notVisible, delayed uint64) {
	t.Helper()
	p := visPrefix(qid)
	err := st.View(func(tx store.Tx) error {
		return tx.Scan(p, nil, func(k, v []byte) (bool, error) {
			if int64(binary.BigEndian.Uint64(k[len(p):])) > now {
				if flagOf(v) == visReceived {
					notVisible++
				} else {
					delayed++
				}
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return notVisible, delayed
}

// TestNotVisibleCountsMatchAScan: through sends (delayed or not), receives,
// deletes, visibility changes and time passing with and without receives,
// GetQueueAttributes' in-flight and delayed counts are those a scan of the
// visibility index gives.
func TestNotVisibleCountsMatchAScan(t *testing.T) {
	st := store.OpenMemory()
	f := newFixtureOn(t, st, newFakeClock())
	url := f.createQueue("q", map[string]string{"VisibilityTimeout": "30"})
	q := f.queue(url)
	check := func(step string) {
		t.Helper()
		a := f.attrs(url)
		nv, d := scanCounts(t, st, q.ID, f.clock.Now().UnixMilli())
		if a["ApproximateNumberOfMessagesNotVisible"] != fmt.Sprint(nv) || a["ApproximateNumberOfMessagesDelayed"] != fmt.Sprint(d) {
			t.Fatalf("%s: attributes say %s in flight, %s delayed; the index %d, %d", step,
				a["ApproximateNumberOfMessagesNotVisible"], a["ApproximateNumberOfMessagesDelayed"], nv, d)
		}
	}
	for i := 0; i < 20; i++ {
		delay := int32(i % 4 * 10) // 0, 10, 20, 30 s
		body := fmt.Sprint("m", i)
		if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body, DelaySeconds: &delay}); err != nil {
			t.Fatal(err)
		}
	}
	check("after sends")
	got := f.receive(url, 3)
	check("after a receive")
	if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: got[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	zero := int32(0)
	if _, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: got[1].ReceiptHandle, VisibilityTimeout: &zero}); err != nil {
		t.Fatal(err)
	}
	check("after a delete and a visibility change")
	for _, step := range []time.Duration{5 * time.Second, 10 * time.Second, 11 * time.Second} {
		f.clock.Advance(step) // no receive: the watermark stays behind
		check(fmt.Sprint("after ", step, " more without receiving"))
	}
	f.receive(url, 10)
	check("after a second receive")
	f.clock.Advance(31 * time.Second)
	check("after the visibility timeouts")
	f.receive(url, 10)
	check("after a third receive")
}

// TestQueueAttributesReadWhatTurnedVisibleNotTheQueue: with 100 or 2000
// messages in flight, GetQueueAttributes reads as many keys.
func TestQueueAttributesReadWhatTurnedVisibleNotTheQueue(t *testing.T) {
	reads := map[int]int64{}
	for _, n := range []int{100, 2000} {
		st := &countingStore{Store: store.OpenMemory()}
		f := newFixtureOn(t, st, newFakeClock())
		url := f.createQueue("q", nil)
		for i := 0; i < n; i++ {
			f.send(url, fmt.Sprint("m", i))
		}
		for got := 0; got < n; {
			msgs := f.receive(url, 10)
			if len(msgs) == 0 {
				t.Fatalf("n=%d: only %d received", n, got)
			}
			got += len(msgs)
		}
		st.reads.Store(0)
		a := f.attrs(url)
		if a["ApproximateNumberOfMessagesNotVisible"] != fmt.Sprint(n) {
			t.Fatalf("n=%d: attributes %v", n, a)
		}
		reads[n] = st.reads.Load()
	}
	if reads[2000] != reads[100] {
		t.Errorf("GetQueueAttributes read %d keys with 100 messages in flight, %d with 2000", reads[100], reads[2000])
	}
}

// TestQueueAttributesOfAQueueOnlySentTo: a queue nobody receives from is
// counted as cheaply with 2000 messages as with 100 (each send moves the
// watermark, not only receives).
func TestQueueAttributesOfAQueueOnlySentTo(t *testing.T) {
	reads := map[int]int64{}
	for _, n := range []int{100, 2000} {
		st := &countingStore{Store: store.OpenMemory()}
		f := newFixtureOn(t, st, newFakeClock())
		url := f.createQueue("q", nil)
		for i := 0; i < n; i++ {
			f.send(url, fmt.Sprint("m", i))
			if i%100 == 0 {
				f.clock.Advance(time.Millisecond)
			}
		}
		f.clock.Advance(time.Second)
		st.reads.Store(0)
		if a := f.attrs(url); a["ApproximateNumberOfMessages"] != fmt.Sprint(n) {
			t.Fatalf("n=%d: attributes %v", n, a)
		}
		reads[n] = st.reads.Load()
	}
	if reads[2000] != reads[100] {
		t.Errorf("GetQueueAttributes read %d keys with 100 messages sent, %d with 2000", reads[100], reads[2000])
	}
}

// TestCountersOfTheOldLayoutAreReadAndMoved reopens a data directory whose
// queue keeps its message count and its not-visible counters as earlier
// versions did, in two records (and, as before the counters, in one with no
// counters at all): the counts read as they were, the next send writes one
// record and deletes the old one, and the counts survive another restart.
func TestCountersOfTheOldLayoutAreReadAndMoved(t *testing.T) {
	for _, withNV := range []bool{true, false} {
		t.Run(fmt.Sprint("withNV=", withNV), func(t *testing.T) {
			f := newDiskFixture(t)
			url := f.createQueue("q", map[string]string{"VisibilityTimeout": "30"})
			q := f.queue(url)
			for _, body := range []string{"a", "b", "c"} {
				f.send(url, body)
			}
			delay := int32(60)
			body := "delayed"
			if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body, DelaySeconds: &delay}); err != nil {
				t.Fatal(err)
			}
			f.receive(url, 1)
			want := func(step string, visible, inFlight, delayed int) {
				t.Helper()
				a := f.attrs(url)
				got := [3]string{a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"], a["ApproximateNumberOfMessagesDelayed"]}
				if got != [3]string{fmt.Sprint(visible), fmt.Sprint(inFlight), fmt.Sprint(delayed)} {
					t.Fatalf("%s: visible, in flight, delayed = %v, want %d %d %d", step, got, visible, inFlight, delayed)
				}
			}
			want("before", 2, 1, 1)

			// Rewrite the counter record as earlier versions wrote it.
			err := f.st.Update(func(tx store.Tx) error {
				v, err := tx.Get(countKey(q.ID))
				if err != nil || len(v) != countAndNVLen {
					t.Fatalf("counter record %v %v", v, err)
				}
				if err := tx.Put(countKey(q.ID), append([]byte(nil), v[:8]...)); err != nil {
					return err
				}
				if !withNV {
					return nil
				}
				return tx.Put(notVisibleKey(q.ID), append([]byte(nil), v[8:]...))
			})
			if err != nil {
				t.Fatal(err)
			}
			f.restart()
			want("reopened in the old layout", 2, 1, 1)

			f.send(url, "d")
			err = f.st.View(func(tx store.Tx) error {
				v, err := tx.Get(countKey(q.ID))
				if err != nil || len(v) != countAndNVLen || binary.BigEndian.Uint64(v) != 5 {
					t.Errorf("counter record after a send: %v %v", v, err)
				}
				if v, err := tx.Get(notVisibleKey(q.ID)); err != nil || v != nil {
					t.Errorf("old not-visible record after a send: %v %v", v, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want("after a send", 3, 1, 1)
			f.restart()
			want("reopened", 3, 1, 1)
			f.clock.Advance(45 * time.Second)
			want("after the visibility timeout", 4, 0, 1)
		})
	}
}

// queue is the stored queue url names.
func (f *fixture) queue(url string) *queue {
	f.t.Helper()
	r, err := f.svc.ref(f.ctx, &url)
	if err != nil {
		f.t.Fatal(err)
	}
	q, err := f.svc.viewQueue(r)
	if err != nil {
		f.t.Fatal(err)
	}
	return q
}
