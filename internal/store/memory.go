package store

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// memStore keeps the store in a persistent (path-copying) treap. A committed
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

// node is a treap node. A node whose gen is the running Update's belongs to
// that Update alone and is changed in place; any other node may be shared
// with committed versions and is copied before a change.
//
// The key and the value share one allocation (kv), so that a stored pair is
// two objects (node and bytes), not three: every Put copies a path of nodes,
// and the garbage collector marks every node of the store on each cycle.
type node struct {
	kv          []byte // the key, then the value
	klen        int32  // MaxKeySize fits
	prio        uint32
	tomb        bool // the disk store's overlay: the key was deleted
	gen         uint64
	left, right *node
}

// key returns the node's key; callers must not modify it.
func (n *node) key() []byte { return n.kv[:n.klen:n.klen] }

// val returns the node's value (nil for a tombstone, never nil otherwise);
// callers must not modify it.
func (n *node) val() []byte {
	if n.tomb {
		return nil
	}
	return n.kv[n.klen:]
}

// pair returns a copy of key and val in one allocation.
func pair(key, val []byte) []byte {
	kv := make([]byte, len(key)+len(val))
	copy(kv, key)
	copy(kv[len(key):], val)
	return kv
}

type memTx struct {
	root     *node
	gen      uint64
	writable bool
}

func (t *memTx) Get(key []byte) ([]byte, error) {
	for n := t.root; n != nil; {
		switch c := bytes.Compare(key, n.key()); {
		case c < 0:
			n = n.left
		case c > 0:
			n = n.right
		default:
			return n.val(), nil
		}
	}
	return nil, nil
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
	t.root = t.insert(t.root, key, value)
	return nil
}

func (t *memTx) Delete(key []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	t.root = t.remove(t.root, key)
	return nil
}

// own returns n itself if this transaction made it, or a copy it may change.
func (t *memTx) own(n *node) *node {
	if n.gen == t.gen {
		return n
	}
	c := *n
	c.gen = t.gen
	return &c
}

// insert sets key to a copy of val in the treap n (a nil val is a
// tombstone) and returns the new root.
func (t *memTx) insert(n *node, key, val []byte) *node {
	if n == nil {
		return &node{kv: pair(key, val), klen: int32(len(key)), tomb: val == nil, prio: rand.Uint32(), gen: t.gen}
	}
	c := bytes.Compare(key, n.key())
	if c == 0 {
		// A new allocation even for a node of this Update: a Get earlier in
		// it may have returned the old value, valid until the Update ends.
		n = t.own(n)
		n.kv, n.tomb = pair(key, val), val == nil
		return n
	}
	n = t.own(n)
	if c < 0 {
		n.left = t.insert(n.left, key, val)
		if l := n.left; l.prio > n.prio { // rotate right; l is ours (just built)
			n.left, l.right = l.right, n
			return l
		}
	} else {
		n.right = t.insert(n.right, key, val)
		if r := n.right; r.prio > n.prio { // rotate left
			n.right, r.left = r.left, n
			return r
		}
	}
	return n
}

func (t *memTx) remove(n *node, key []byte) *node {
	if n == nil {
		return nil // absent: nothing copied, the version is unchanged
	}
	switch c := bytes.Compare(key, n.key()); {
	case c < 0:
		l := t.remove(n.left, key)
		if l == n.left {
			return n
		}
		n = t.own(n)
		n.left = l
	case c > 0:
		r := t.remove(n.right, key)
		if r == n.right {
			return n
		}
		n = t.own(n)
		n.right = r
	default:
		return t.merge(n.left, n.right)
	}
	return n
}

// merge joins two treaps whose keys are all in a < all in b.
func (t *memTx) merge(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a = t.own(a)
		a.right = t.merge(a.right, b)
		return a
	default:
		b = t.own(b)
		b.left = t.merge(a, b.left)
		return b
	}
}

func (t *memTx) Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	from := prefix
	if bytes.Compare(start, prefix) > 0 {
		from = start
	}
	// stack holds the nodes >= from whose right subtrees are still unvisited,
	// smallest on top.
	var stack []*node
	for n := t.root; n != nil; {
		if bytes.Compare(n.key(), from) >= 0 {
			stack = append(stack, n)
			n = n.left
		} else {
			n = n.right
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !bytes.HasPrefix(n.key(), prefix) {
			return nil
		}
		if more, err := fn(n.key(), n.val()); err != nil || !more {
			return err
		}
		for m := n.right; m != nil; m = m.left {
			stack = append(stack, m)
		}
	}
	return nil
}

func (t *memTx) ScanReverse(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	// Visit keys < end, or <= start when start is below end.
	end, inclusive := prefixEnd(prefix), false
	if start != nil && (end == nil || bytes.Compare(start, end) < 0) {
		end, inclusive = start, true
	}
	below := func(k []byte) bool {
		if end == nil {
			return true
		}
		c := bytes.Compare(k, end)
		return c < 0 || (inclusive && c == 0)
	}
	var stack []*node
	for n := t.root; n != nil; {
		if below(n.key()) {
			stack = append(stack, n)
			n = n.right
		} else {
			n = n.left
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !bytes.HasPrefix(n.key(), prefix) {
			return nil
		}
		if more, err := fn(n.key(), n.val()); err != nil || !more {
			return err
		}
		for m := n.left; m != nil; m = m.right {
			stack = append(stack, m)
		}
	}
	return nil
}
