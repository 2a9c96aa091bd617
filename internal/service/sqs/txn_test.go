package sqs

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/wharf-dev/wharf/internal/store"
)

// TestTxnCountersAreWrittenOnceAndReadThrough checks that a txn's counters
// reach the store when its work succeeds, that reading a counter's key or
// scanning over it inside the transaction sees the counts so far, and that
// a failed transaction leaves the stored counts as they were.
func TestTxnCountersAreWrittenOnceAndReadThrough(t *testing.T) {
	s := New(Options{Store: store.OpenMemory()})
	stored := func() uint64 {
		var n uint64
		if err := s.st.View(func(tx store.Tx) error {
			var err error
			n, err = getCount(tx, "q1")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	err := s.update(func(tx *txn) error {
		for range 5 {
			if err := addCount(tx, "q1", 1); err != nil {
				return err
			}
		}
		putNotVisible(tx, "q1", notVisible{w: 7, received: 2})
		v, err := tx.Get(countKey("q1")) // read through: commits what it holds
		if err != nil || binary.BigEndian.Uint64(v) != 5 {
			t.Errorf("Get inside the transaction: %v %v", v, err)
		}
		if err := addCount(tx, "q1", -2); err != nil {
			return err
		}
		seen := map[string][]byte{}
		err = tx.Scan(dataPrefix("q1"), nil, func(k, v []byte) (bool, error) {
			seen[string(k)] = append([]byte(nil), v...)
			return true, nil
		})
		if err != nil {
			return err
		}
		rec := seen[string(countKey("q1"))]
		if len(rec) != countAndNVLen || binary.BigEndian.Uint64(rec) != 3 {
			t.Errorf("Scan inside the transaction saw count %v", rec)
		}
		if nv, ok := decodeNotVisible(rec[min(len(rec), 8):]); !ok || nv.w != 7 || nv.received != 2 {
			t.Errorf("Scan inside the transaction saw %v %v", nv, ok)
		}
		if v, ok := seen[string(notVisibleKey("q1"))]; ok {
			t.Errorf("Scan inside the transaction saw an old not-visible record %v", v)
		}
		return addCount(tx, "q1", 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := stored(); n != 4 {
		t.Fatalf("stored count %d, want 4", n)
	}
	boom := errors.New("boom")
	err = s.update(func(tx *txn) error {
		if err := addCount(tx, "q1", 10); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || stored() != 4 {
		t.Fatalf("after a failed update: %v, count %d", err, stored())
	}
}

// TestMessageIDsAreVersion4UUIDs checks newID's layout, as SQS's message ids
// have it, against a fixed random source.
func TestMessageIDsAreVersion4UUIDs(t *testing.T) {
	s := New(Options{Store: store.OpenMemory(), Random: func(b []byte) {
		for i := range b {
			b[i] = byte(0xf0 + i)
		}
	}})
	if got, want := s.newID(), "f0f1f2f3-f4f5-46f7-b8f9-fafbfcfdfeff"; got != want {
		t.Fatalf("newID() = %q, want %q", got, want)
	}
}
