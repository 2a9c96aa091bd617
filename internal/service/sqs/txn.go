package sqs

import (
	"bytes"
	"encoding/binary"

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
	msg, vis []byte // key buffers: a key is valid until the next of its kind
	rec      []byte // a message record being stored
	counters []*counters
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

// update runs fn in a store update through a txn, committing its counters
// after fn succeeds.
func (s *Service) update(fn func(tx *txn) error) error {
	return s.st.Update(func(stx store.Tx) error {
		tx := &txn{Tx: stx}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.commit()
	})
}

// commit writes the counters changed since the last commit.
func (t *txn) commit() error {
	for _, c := range t.counters {
		if c.nDirty {
			if err := t.Tx.Put(c.nKey, binary.BigEndian.AppendUint64(nil, c.n)); err != nil {
				return err
			}
			c.nDirty = false
		}
		if c.nvDirty {
			if err := t.Tx.Put(c.nvKey, encodeNotVisible(c.nv)); err != nil {
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
	c := &counters{qid: qid, nKey: countKey(qid), nvKey: notVisibleKey(qid)}
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

func (t *txn) visKey(qid string, visibleAt int64, seq uint64) []byte {
	t.vis = append(append(append(t.vis[:0], "sqs/d/"...), qid...), "/v/"...)
	t.vis = binary.BigEndian.AppendUint64(t.vis, uint64(visibleAt))
	t.vis = binary.BigEndian.AppendUint64(t.vis, seq)
	return t.vis
}
