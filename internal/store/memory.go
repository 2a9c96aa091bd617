package store

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// memStore keeps the store in a persistent (copy-on-write) B-tree. A committed
// version is immutable, so View takes the current root and reads it without a
// lock for as long as it likes, while Update builds the next version beside
// it and publishes it with one pointer swap: that swap is the atomic commit,
// and dropping the new root is the rollback.
type memStore struct {
	write sync.Mutex // serialises Updates: one writer at a time, like bbolt
	root  atomic.Pointer[node]
	gen   uint64 // generation of the running Update; guarded by write

	// live counts running transactions; Close takes it exclusively to wait
	// for them.
	live   sync.RWMutex
	closed atomic.Bool
}

// OpenMemory returns an empty store kept in memory, for --ephemeral and for
// tests. It has the same semantics as a store from Open, durability aside.
func OpenMemory() Store { return &memStore{} }

func (s *memStore) View(fn func(Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.live.RUnlock()
	return fn(&memTx{root: s.root.Load()})
}

func (s *memStore) Update(fn func(Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.live.RUnlock()
	s.write.Lock()
	defer s.write.Unlock()
	s.gen++
	tx := &memTx{root: s.root.Load(), gen: s.gen, writable: true}
	// A panic in fn leaves s.root untouched, so nothing is applied.
	err := fn(tx)
	tx.writable = false // a Tx leaked out of fn must not mutate the new version
	if err != nil {
		return err
	}
	s.root.Store(tx.root)
	return nil
}

func (s *memStore) begin() error {
	s.live.RLock()
	if s.closed.Load() {
		s.live.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *memStore) Close() error {
	s.live.Lock()
	defer s.live.Unlock()
	s.closed.Store(true)
	s.root.Store(nil)
	return nil
}

type memTx struct {
	root     *node
	gen      uint64
	writable bool
}

func (t *memTx) Get(key []byte) ([]byte, error) {
	v, _ := lookup(t.root, key)
	return v, nil
}

func (t *memTx) Put(key, value []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if err := checkPut(key, value); err != nil {
		return err
	}
	// insert copies both (the caller may reuse its slices); a nil value
	// must read back as an empty, non-nil one, not as a tombstone.
	if value == nil {
		value = []byte{}
	}
	t.root = insert(t.root, t.gen, key, value)
	return nil
}

func (t *memTx) Delete(key []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	t.root = remove(t.root, t.gen, key)
	return nil
}

func (t *memTx) Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	from := prefix
	if bytes.Compare(start, prefix) > 0 {
		from = start
	}
	return t.walk(newCursor(t.root, from, false, nil), prefix, fn)
}

func (t *memTx) ScanReverse(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	// Visit keys < end, or <= start when start is below end.
	end, inclusive := prefixEnd(prefix), false
	if start != nil && (end == nil || bytes.Compare(start, end) < 0) {
		end, inclusive = start, true
	}
	var below func(k []byte) bool
	if end != nil {
		below = func(k []byte) bool {
			c := bytes.Compare(k, end)
			return c < 0 || (inclusive && c == 0)
		}
	}
	return t.walk(newCursor(t.root, end, true, below), prefix, fn)
}

// walk calls fn for each pair from c's position while its key has prefix.
func (t *memTx) walk(c *cursor, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	for k := c.key(); k != nil && bytes.HasPrefix(k, prefix); k = c.key() {
		if more, err := fn(k, c.val()); err != nil || !more {
			return err
		}
		c.next()
	}
	return nil
}
