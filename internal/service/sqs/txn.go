package sqs

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// txn is the transaction of a message path (send, receive, delete, change
// visibility). Those touch a queue's message count and not-visible counters
// once per message, and build a few keys per message: txn keeps the
// counters in memory and writes their record once, when the work is done (commit),
// and builds message and visibility keys in buffers it reuses, since the
// store keeps no key it is given. Reads through txn see its writes: a Get,
// Scan or Delete reaching a counter it holds goes to the store after it.
type txn struct {
	store.Tx
	msg, vis, state []byte // key buffers: a key is valid until the next of its kind
	queue           []byte // getQueue's key buffer
	rec             []byte // a message or state record being stored
	val             []byte // a counter's value being stored
	counters        []*counters
	spare           []*counters // counters of earlier updates, kept for their keys

	fn  func(tx *txn) error  // the update's function
	run func(store.Tx) error // t.runFn, made once per txn
	// late are timeline entries recorded in the update whose log lines
	// update writes after it (see recordSent).
	late []timeline.Entry
}

// counters are one queue's counter record (see counterRecord) as a txn
// holds it.
type counters struct {
	qid   string
	nKey  []byte
	nvKey []byte // the old not-visible counters' key
	rec   counterRecord
	read  bool
	dirty bool
}

// txns holds txns between updates, with their buffers and counters: the
// keys and records of a send were a dozen allocations of every update, and
// the next update most often writes the same queue's counters again.
var txns = sync.Pool{New: func() any {
	t := new(txn)
	t.run = t.runFn
	return t
}}

// Most a pooled txn keeps: a record buffer bigger than maxPooledRec (a big
// message's) is dropped, as are counters past maxSpare.
const (
	maxPooledRec = 16 << 10
	maxSpare     = 4
	// maxLate is the most late entries a pooled txn keeps room for: a
	// SendMessageBatch records ten.
	maxLate = 16
)

// update runs fn in a store update through a txn, committing its counters
// after fn succeeds.
func (s *Service) update(fn func(tx *txn) error) error {
	tx := txns.Get().(*txn)
	tx.fn = fn
	err := s.st.Update(tx.run)
	// Outside the store's lock. A send is recorded before the store admits
	// its update: refused (a full disk, which the store outlives), its
	// messages were not stored, and the timeline says so after the send.
	if err == nil {
		s.logLate(tx.late)
	} else {
		s.unsent(tx.late, err)
	}
	tx.release()
	return err
}

// runFn is the function a txn's update runs in the store.
func (t *txn) runFn(stx store.Tx) error {
	t.reset(stx)
	if err := t.fn(t); err != nil {
		return err
	}
	return t.commit()
}

// reset readies t for an update of stx, keeping its counters' keys.
func (t *txn) reset(stx store.Tx) {
	t.Tx = stx
	for _, c := range t.counters {
		if len(t.spare) < maxSpare {
			t.spare = append(t.spare, c)
		}
	}
	clear(t.counters)
	t.counters = t.counters[:0]
}

// release returns t to txns once its update is over: nothing the update
// was given is kept (the store copies what it is given, and keeps none of
// t's buffers).
func (t *txn) release() {
	t.reset(nil)
	t.fn = nil
	clear(t.late)
	t.late = t.late[:0]
	if cap(t.late) > maxLate {
		t.late = nil // a rare large batch's array is not kept in the pool
	}
	if cap(t.rec) > maxPooledRec {
		t.rec = nil
	}
	txns.Put(t)
}

// commit writes the counter records changed since the last commit.
func (t *txn) commit() error {
	for _, c := range t.counters {
		if c.dirty {
			var err error
			if t.val, err = writeCounters(t.Tx, c.nKey, c.nvKey, &c.rec, t.val); err != nil {
				return err
			}
			c.dirty = false
		}
	}
	return nil
}

func (t *txn) of(qid string) *counters {
	for _, c := range t.counters {
		if c.qid == qid {
			return c
		}
	}
	var c *counters
	for i, sc := range t.spare {
		if sc.qid == qid {
			c = sc
			t.spare = slices.Delete(t.spare, i, i+1)
			*c = counters{qid: c.qid, nKey: c.nKey, nvKey: c.nvKey}
			break
		}
	}
	if c == nil {
		c = &counters{qid: qid, nKey: countKey(qid), nvKey: notVisibleKey(qid)}
	}
	t.counters = append(t.counters, c)
	return c
}

// holds reports whether a key with prefix (a key itself when exact) may be
// one of the records t holds counters of: the counter record, or the old
// not-visible counters' record it read them from.
func (t *txn) holds(prefix []byte, exact bool) bool {
	for _, c := range t.counters {
		if matches(c.nKey, prefix, exact) || c.rec.legacy && matches(c.nvKey, prefix, exact) {
			return true
		}
	}
	return false
}

func matches(k, prefix []byte, exact bool) bool {
	if exact {
		return bytes.Equal(k, prefix)
	}
	return bytes.HasPrefix(k, prefix)
}

// forget commits the counters and drops them, so that the store's values
// are read again.
func (t *txn) forget() error {
	err := t.commit()
	t.counters = t.counters[:0]
	return err
}

func (t *txn) Get(key []byte) ([]byte, error) {
	if t.holds(key, true) {
		if err := t.forget(); err != nil {
			return nil, err
		}
	}
	return t.Tx.Get(key)
}

func (t *txn) Put(key, value []byte) error {
	if t.holds(key, true) {
		if err := t.forget(); err != nil {
			return err
		}
	}
	return t.Tx.Put(key, value)
}

func (t *txn) Delete(key []byte) error {
	if t.holds(key, true) {
		if err := t.forget(); err != nil {
			return err
		}
	}
	return t.Tx.Delete(key)
}

func (t *txn) Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	if t.holds(prefix, false) {
		if err := t.forget(); err != nil {
			return err
		}
	}
	return t.Tx.Scan(prefix, start, fn)
}

func (t *txn) ScanReverse(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	if t.holds(prefix, false) {
		if err := t.forget(); err != nil {
			return err
		}
	}
	return t.Tx.ScanReverse(prefix, start, fn)
}

// load reads the queue's counter record, once per commit.
func (t *txn) load(qid string) (*counters, error) {
	c := t.of(qid)
	if !c.read {
		rec, err := readCounters(t.Tx.Get, c.nKey, c.nvKey)
		if err != nil {
			return nil, err
		}
		c.rec, c.read = rec, true
	}
	return c, nil
}

// count returns the queue's message count.
func (t *txn) count(qid string) (uint64, error) {
	c, err := t.load(qid)
	if err != nil {
		return 0, err
	}
	return c.rec.n, nil
}

func (t *txn) addCount(qid string, delta int64) error {
	c, err := t.load(qid)
	if err != nil {
		return err
	}
	c.rec.n, c.dirty = addTo(c.rec.n, delta), true
	return nil
}

func (t *txn) notVisible(qid string) (notVisible, bool, error) {
	c, err := t.load(qid)
	if err != nil {
		return notVisible{}, false, err
	}
	return c.rec.nv, c.rec.nvOK, nil
}

func (t *txn) putNotVisible(qid string, nv notVisible) error {
	c, err := t.load(qid)
	if err != nil {
		return err
	}
	c.rec.nv, c.rec.nvOK, c.dirty = nv, true, true
	return nil
}

func (t *txn) msgKey(qid string, seq uint64) []byte {
	t.msg = append(append(append(t.msg[:0], "sqs/d/"...), qid...), "/m/"...)
	t.msg = binary.BigEndian.AppendUint64(t.msg, seq)
	return t.msg
}

func (t *txn) stateKey(qid string, seq uint64) []byte {
	t.state = append(append(append(t.state[:0], "sqs/d/"...), qid...), "/r/"...)
	t.state = binary.BigEndian.AppendUint64(t.state, seq)
	return t.state
}

func (t *txn) visKey(qid string, visibleAt int64, seq uint64) []byte {
	t.vis = append(append(append(t.vis[:0], "sqs/d/"...), qid...), "/v/"...)
	t.vis = binary.BigEndian.AppendUint64(t.vis, uint64(visibleAt))
	t.vis = binary.BigEndian.AppendUint64(t.vis, seq)
	return t.vis
}
