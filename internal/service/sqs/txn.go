package sqs

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/wharf-dev/wharf/internal/store"
)

// txn is the transaction of a message path (send, receive, delete, change
// visibility). Those touch a queue's message count and not-visible counters
// once per message, and build a few keys per message: txn keeps the
// counters in memory and writes each once, when the work is done (commit),
// and builds message and visibility keys in buffers it reuses, since the
// store keeps no key it is given. Reads through txn see its writes: a Get,
// Scan or Delete reaching a counter it holds goes to the store after it.
type txn struct {
	store.Tx
	msg, vis, state []byte // key buffers: a key is valid until the next of its kind
	rec             []byte // a message or state record being stored
	val             []byte // a counter's value being stored
	counters        []*counters
	spare           []*counters // counters of earlier updates, kept for their keys

	fn  func(tx *txn) error  // the update's function
	run func(store.Tx) error // t.runFn, made once per txn
}

// counters are one queue's counters as a txn holds them.
type counters struct {
	qid     string
	nKey    []byte
	n       uint64
	nRead   bool
	nDirty  bool
	nvKey   []byte
	nv      notVisible
	nvRead  bool
	nvOK    bool // the queue has the key
	nvDirty bool
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
)

// update runs fn in a store update through a txn, committing its counters
// after fn succeeds.
func (s *Service) update(fn func(tx *txn) error) error {
	tx := txns.Get().(*txn)
	tx.fn = fn
	err := s.st.Update(tx.run)
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
	if cap(t.rec) > maxPooledRec {
		t.rec = nil
	}
	txns.Put(t)
}

// commit writes the counters changed since the last commit.
func (t *txn) commit() error {
	for _, c := range t.counters {
		if c.nDirty {
			t.val = binary.BigEndian.AppendUint64(t.val[:0], c.n) // Put copies it
			if err := t.Tx.Put(c.nKey, t.val); err != nil {
				return err
			}
			c.nDirty = false
		}
		if c.nvDirty {
			t.val = appendNotVisible(t.val[:0], c.nv)
			if err := t.Tx.Put(c.nvKey, t.val); err != nil {
				return err
			}
			c.nvDirty = false
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
// one of the counters t holds.
func (t *txn) holds(prefix []byte, exact bool) bool {
	for _, c := range t.counters {
		for _, k := range [][]byte{c.nKey, c.nvKey} {
			if exact && bytes.Equal(k, prefix) || !exact && bytes.HasPrefix(k, prefix) {
				return true
			}
		}
	}
	return false
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

// count returns the queue's message count.
func (t *txn) count(qid string) (uint64, error) {
	c := t.of(qid)
	if !c.nRead {
		v, err := t.Tx.Get(c.nKey)
		if err != nil {
			return 0, err
		}
		c.n, c.nRead = 0, true
		if len(v) == 8 {
			c.n = binary.BigEndian.Uint64(v)
		}
	}
	return c.n, nil
}

func (t *txn) addCount(qid string, delta int64) error {
	n, err := t.count(qid)
	if err != nil {
		return err
	}
	m := int64(n) + delta
	if m < 0 {
		m = 0
	}
	c := t.of(qid)
	c.n, c.nDirty = uint64(m), true
	return nil
}

func (t *txn) notVisible(qid string) (notVisible, bool, error) {
	c := t.of(qid)
	if !c.nvRead {
		v, err := t.Tx.Get(c.nvKey)
		if err != nil {
			return notVisible{}, false, err
		}
		c.nv, c.nvOK = decodeNotVisible(v)
		c.nvRead = true
	}
	return c.nv, c.nvOK, nil
}

func (t *txn) putNotVisible(qid string, nv notVisible) {
	c := t.of(qid)
	c.nv, c.nvOK, c.nvRead, c.nvDirty = nv, true, true, true
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

// appendNotVisible appends encodeNotVisible(nv) to b.
func appendNotVisible(b []byte, nv notVisible) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(nv.w))
	b = binary.BigEndian.AppendUint64(b, nv.received)
	return binary.BigEndian.AppendUint64(b, nv.fresh)
}
