package store

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// The in-memory store and the disk store's overlay keep their pairs in a
// persistent (copy-on-write) B-tree of nodes. A committed version is
// immutable, so readers take its root and read it without a lock; a writer
// builds the next version beside it, changing in place only the nodes it
// made itself (those of its generation) and copying the path to any other
// node it changes. Dropping the new root is the rollback.
//
// The nodes are wide and keep their pairs' bytes packed, because the garbage
// collector marks every object of the live heap on each cycle and the store
// is most of that heap: a queue of hundreds of thousands of messages was
// two objects per pair in the treap this replaces, one of them with three
// pointers to follow, and every write copied a path of about 2 ln N small
// nodes. A leaf here is three objects for up to maxEnts pairs, two of which
// hold no pointers, and a write copies about log₃₂ N nodes.

const (
	// maxEnts is the most pairs a leaf holds, and maxKids the most children
	// an interior node has. A leaf or interior node with fewer than a
	// quarter of that after a delete is merged with a neighbour, or evened
	// with it when both do not fit in one.
	maxEnts = 32
	maxKids = 32

	// inlineMax is the largest pair (key and value) packed into its leaf's
	// data; a larger one is its own allocation, referenced from ext, so that
	// copying a leaf does not copy big values (they are immutable, and
	// shared by every version that has them).
	inlineMax = 256
)

// Flags of an ent.
const (
	entTomb = 1 << iota // the disk store's overlay: the key was deleted
	entExt              // the pair is ext[off], not in data
)

// ent locates one pair of a leaf, or one separator key of an interior node.
type ent struct {
	off  uint32 // where the pair starts in data, or its index in ext
	vlen uint32 // MaxValueSize fits
	klen uint16 // MaxKeySize fits
	flag uint8
}

// node is a B-tree node. A node whose gen is the running writer's belongs to
// that writer alone and is changed in place (along with its arrays, which
// are never shared); any other node may be shared with committed versions
// and is copied before a change.
//
// Bytes once written into data (or an ext pair) are never overwritten: a
// Get earlier in an Update may have returned them, valid until the Update
// ends, and a copy of a node shares its data array with the original (see
// dataHead), writing new pairs past the end of what the original uses.
// Overwrites and deletes leave garbage in data, dropped when it is full.
type node struct {
	gen  uint64
	leaf bool
	// run is how many inserts in a row went each just after the one
	// before it, and after is 1 + where the last of them went (in ents of
	// a leaf, kids of an interior node; 0: none yet): keys ascending in
	// the middle of a node (see splitPoint).
	run   uint8
	after uint16
	// A leaf's ents are its pairs in key order. An interior node's ents are
	// its separators: kids[i] holds the keys k with key(i-1) <= k < key(i).
	ents []ent
	data []byte
	ext  [][]byte
	kids []*node // interior nodes only

	// sharedEnts is set in an interior node that gen owns but whose ents
	// are still those of the node it copied (see ownEnts).
	sharedEnts bool
}

// size is the number of pairs of a leaf, or of children of an interior node.
func (n *node) size() int {
	if n.leaf {
		return len(n.ents)
	}
	return len(n.kids)
}

// underfull reports whether a node is small enough to be merged with a
// neighbour after a delete.
func (n *node) underfull() bool {
	if n.leaf {
		return len(n.ents) < maxEnts/4
	}
	return len(n.kids) < maxKids/4
}

// key returns the key of ents[i]; callers must not modify it.
func (n *node) key(i int) []byte {
	e := &n.ents[i]
	k := int(e.klen)
	if e.flag&entExt != 0 {
		return n.ext[e.off][:k:k]
	}
	o := int(e.off)
	return n.data[o : o+k : o+k]
}

// val returns the value of ents[i] (nil for a tombstone, never nil
// otherwise); callers must not modify it.
func (n *node) val(i int) []byte {
	e := &n.ents[i]
	if e.flag&entTomb != 0 {
		return nil
	}
	var b []byte
	if e.flag&entExt != 0 {
		b = n.ext[e.off]
	} else {
		b = n.data[e.off:]
	}
	k, end := int(e.klen), int(e.klen)+int(e.vlen)
	return b[k:end:end]
}

// inline reports whether a pair of this many bytes is packed into data.
func inline(size int) bool { return size <= inlineMax }

// pairSize is the bytes of ents[i]'s pair.
func (e ent) pairSize() int { return int(e.klen) + int(e.vlen) }

// search returns the index of the first pair whose key is >= key, and
// whether that key is equal.
func (n *node) search(key []byte) (int, bool) {
	lo, hi := 0, len(n.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(n.key(m), key); {
		case c < 0:
			lo = m + 1
		case c > 0:
			hi = m
		default:
			return m, true
		}
	}
	return lo, false
}

// child returns the index of the child whose range holds key: the number of
// separators <= key.
func (n *node) child(key []byte) int {
	lo, hi := 0, len(n.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(n.key(m), key) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// dataHead is the bytes at the start of every data array that hold its
// high-water mark: how much of the array some node uses. Copying a node
// copies neither its data nor its pairs but shares the array, so a write to
// a leaf allocates a few hundred bytes instead of a leaf's worth. A node
// whose data ends at the mark may append in place (no other version uses
// the bytes past it; readers never read past their own data's end); any
// other must move its pairs to a new array first. Only the store's one
// writer reads or writes the mark.
const dataHead = 4

// newData returns an empty data array with room for size bytes of pairs.
func newData(size int) []byte {
	return make([]byte, dataHead, dataHead+size)
}

// mark records that n's data is in use up to its end.
func (n *node) mark() {
	binary.LittleEndian.PutUint32(n.data, uint32(len(n.data)))
}

// canAppend reports whether size more bytes fit in n's data array in place.
func (n *node) canAppend(size int) bool {
	return n.data != nil && cap(n.data)-len(n.data) >= size &&
		binary.LittleEndian.Uint32(n.data) == uint32(len(n.data))
}

// newNode returns an empty node of gen with room for ents entries and
// data bytes packed. Most halves of a split and merged nodes get no room
// for more: most of them are written to again rarely (a queue's full
// leaves never), and compactData makes room when one is (see half for the
// exception).
func newNode(gen uint64, leaf bool, ents, data int) *node {
	n := &node{gen: gen, leaf: leaf, ents: make([]ent, 0, ents)}
	if data > 0 {
		n.data = newData(data)
	}
	if !leaf {
		n.kids = make([]*node, 0, ents+1)
	}
	return n
}

// packed returns the bytes of the pairs ents[lo:hi] that live in data.
func (n *node) packed(lo, hi int) int {
	size := 0
	for _, e := range n.ents[lo:hi] {
		if e.flag&entExt == 0 {
			size += e.pairSize()
		}
	}
	return size
}

// appendEnts appends m's entries [lo,hi) to n, copying packed pairs into
// n's own data (newly made, with room for them) and sharing ext ones (which
// never change).
func (n *node) appendEnts(m *node, lo, hi int) {
	for _, e := range m.ents[lo:hi] {
		if e.flag&entExt != 0 {
			n.ext = append(n.ext, m.ext[e.off])
			e.off = uint32(len(n.ext) - 1)
		} else {
			if n.data == nil {
				n.data = newData(m.packed(lo, hi))
			}
			o := int(e.off)
			e.off = uint32(len(n.data))
			n.data = append(n.data, m.data[o:o+e.pairSize()]...)
		}
		n.ents = append(n.ents, e)
	}
	if n.data != nil {
		n.mark()
	}
}

// own returns n itself if gen made it, or a copy gen may change, which
// shares n's data array.
func own(n *node, gen uint64) *node {
	if n.gen == gen {
		return n
	}
	c := &node{gen: gen, leaf: n.leaf, data: n.data, run: n.run, after: n.after}
	if !n.leaf {
		c.kids = append(make([]*node, 0, len(n.kids)+1), n.kids...)
		if n.ext == nil {
			// A write through an interior node changes a child pointer
			// and, rarely, its separators: those are copied when they are.
			c.ents, c.sharedEnts = n.ents, true
			return c
		}
	}
	c.ents = append(make([]ent, 0, len(n.ents)+1), n.ents...)
	if n.ext != nil {
		// Only the ext slots in use; the ents pointing at them follow.
		// Counted first, so that they are copied into one array with room
		// for the pair the copy is usually made to store, not appended one
		// by one (an array per doubling).
		live := 0
		for _, e := range c.ents {
			if e.flag&entExt != 0 {
				live++
			}
		}
		c.ext = make([][]byte, 0, live+1)
		for i := range c.ents {
			if e := &c.ents[i]; e.flag&entExt != 0 {
				c.ext = append(c.ext, n.ext[e.off])
				e.off = uint32(len(c.ext) - 1)
			}
		}
	}
	return c
}

// ownEnts gives n (which gen owns) its own copy of ents, before a change,
// if it shares them with the node it was copied from.
func (n *node) ownEnts() {
	if n.sharedEnts {
		n.ents = append(make([]ent, 0, len(n.ents)+1), n.ents...)
		n.sharedEnts = false
	}
}

// store writes a pair's bytes into n (which gen owns) and returns its ent,
// which the caller places in ents. A nil val with tomb set is a tombstone;
// separators have an empty val.
func (n *node) store(key, val []byte, tomb bool) ent {
	n.ownEnts() // compacting rewrites every ent's offset
	e := ent{klen: uint16(len(key)), vlen: uint32(len(val))}
	if tomb {
		e.flag = entTomb
	}
	size := len(key) + len(val)
	if !inline(size) {
		if len(n.ext) == cap(n.ext) {
			n.compactExt()
		}
		e.flag |= entExt
		e.off = uint32(len(n.ext))
		n.ext = append(n.ext, pair(key, val))
		return e
	}
	if !n.canAppend(size) {
		n.compactData(size)
	}
	e.off = uint32(len(n.data))
	n.data = append(n.data, key...)
	n.data = append(n.data, val...)
	n.mark()
	return e
}

// compactData moves n's packed pairs into a new array with room for need
// more bytes and half as many again as it has, for the writes to come; the
// old array stays as it is for the versions and slices that use it.
func (n *node) compactData(need int) {
	live := n.packed(0, len(n.ents))
	data := newData(live + live/2 + need)
	for i := range n.ents {
		e := &n.ents[i]
		if e.flag&entExt == 0 {
			o := int(e.off)
			e.off = uint32(len(data))
			data = append(data, n.data[o:o+e.pairSize()]...)
		}
	}
	n.data = data
	n.mark()
}

// compactExt drops the ext slots no ent uses, leaving room to append.
func (n *node) compactExt() {
	live := 0
	for _, e := range n.ents {
		if e.flag&entExt != 0 {
			live++
		}
	}
	ext := make([][]byte, 0, 2*live+1)
	for i := range n.ents {
		e := &n.ents[i]
		if e.flag&entExt != 0 {
			ext = append(ext, n.ext[e.off])
			e.off = uint32(len(ext) - 1)
		}
	}
	n.ext = ext
}

// forget releases what ents[i] holds, before it is overwritten or removed:
// an ext pair is no longer kept alive by this node.
func (n *node) forget(i int) {
	n.ownEnts() // the caller changes ents next
	if e := n.ents[i]; e.flag&entExt != 0 {
		n.ext[e.off] = nil
	}
}

// pair returns a copy of key and val in one allocation.
func pair(key, val []byte) []byte {
	kv := make([]byte, len(key)+len(val))
	copy(kv, key)
	copy(kv[len(key):], val)
	return kv
}

// lookup returns the value of key in the tree (nil for a tombstone) and
// whether the tree has key.
func lookup(n *node, key []byte) ([]byte, bool) {
	if n == nil {
		return nil, false
	}
	for !n.leaf {
		n = n.kids[n.child(key)]
	}
	i, ok := n.search(key)
	if !ok {
		return nil, false
	}
	return n.val(i), true
}

// insert sets key to a copy of val in the tree root, as gen, and returns
// the new root. A nil val is a tombstone.
func insert(root *node, gen uint64, key, val []byte) *node {
	if root == nil {
		size := len(key) + len(val)
		n := newNode(gen, true, 4, 0)
		if inline(size) {
			n.data = newData(4 * size)
		}
		n.ents = append(n.ents, n.store(key, val, val == nil))
		return n
	}
	l, sep, r := putIn(root, gen, key, val)
	if r == nil {
		return l
	}
	n := newNode(gen, false, 2, len(sep))
	n.ents = append(n.ents, n.store(sep, nil, false))
	n.kids = append(n.kids, l, r)
	return n
}

// putIn sets key in the subtree n. When n had to split, it returns the two
// halves and the first key of the second (a slice of it).
func putIn(n *node, gen uint64, key, val []byte) (*node, []byte, *node) {
	if n.leaf {
		i, found := n.search(key)
		n = own(n, gen)
		e := n.store(key, val, val == nil)
		if found {
			n.forget(i)
			n.ents[i] = e
			return n, nil, nil
		}
		n.ents = slices.Insert(n.ents, i, e)
		run := n.inserted(i)
		if len(n.ents) <= maxEnts {
			return n, nil, nil
		}
		return split(n, gen, splitPoint(len(n.ents), i, run))
	}
	n = own(n, gen)
	i := n.child(key)
	k, sep, r := putIn(n.kids[i], gen, key, val)
	n.kids[i] = k
	if r == nil {
		return n, nil, nil
	}
	e := n.store(sep, nil, false) // first: it may replace n.ents
	n.ents = slices.Insert(n.ents, i, e)
	n.kids = slices.Insert(n.kids, i+1, r)
	run := n.inserted(i + 1)
	if len(n.kids) <= maxKids {
		return n, nil, nil
	}
	return split(n, gen, splitPoint(len(n.kids), i+1, run))
}

// inserted records an insert at i into n (which gen owns) and reports
// whether it continues a run of ascending inserts: the last two inserts
// before it went each just after the one before.
func (n *node) inserted(i int) bool {
	if int(n.after) == i {
		n.run = min(n.run+1, 2)
	} else {
		n.run = 0
	}
	n.after = uint16(i + 1)
	return n.run >= 2
}

// splitPoint is where a node of size entries (or children) that has just
// taken one at i splits: in the middle, but next to i when i is at an end,
// so that keys written in ascending (or descending) order, as a queue's
// messages are, fill nodes instead of leaving them half empty. Keys that
// ascend in the middle of a node (run: the inserts before this one went
// each just after the last) split just after i, the new key ending the
// first node: the keys that follow them there are other kinds of key
// (an SQS queue's messages are followed by its count and its visibility
// index, and that index by the next queue's keys), and split in the middle
// the node the next keys go to was copied into a new array every few of
// them and split when half full, leaving nodes half empty.
func splitPoint(size, i int, run bool) int {
	switch {
	case i == size-1:
		return size - 1
	case i == 0:
		return 1
	case run:
		return i + 1
	}
	return size / 2
}

// split returns new nodes of gen holding n's first at entries (or
// children) and the rest, and the separator between them. When the first
// part is the larger (an end split, or a run's, see splitPoint), n itself
// becomes it if gen owns n.
func split(n *node, gen uint64, at int) (*node, []byte, *node) {
	if n.leaf {
		end := at == len(n.ents)-1
		r := n.half(gen, at, len(n.ents), end)
		if (end || 2*at > len(n.ents)) && n.gen == gen {
			n.keepFirst(at, end)
			return n, r.key(0), r
		}
		l := n.half(gen, 0, at, at == 1)
		return l, r.key(0), r
	}
	// Separator at-1 moves up: l keeps kids[:at], r the rest.
	end := at == len(n.kids)-1
	r := n.half(gen, at, len(n.ents), end)
	r.kids = append(r.kids, n.kids[at:]...)
	sep := n.key(at - 1)
	if (end || 2*at > len(n.kids)) && n.gen == gen {
		n.keepFirst(at-1, end)
		clear(n.kids[at:])
		n.kids = n.kids[:at]
		return n, sep, r
	}
	l := n.half(gen, 0, at-1, at == 1)
	l.kids = append(l.kids, n.kids[:at]...)
	return l, sep, r
}

// keepFirst drops every entry of n (which gen owns) from the at-th on,
// after an end split has copied them into the new right half: n itself is
// then the left half. Keys written in ascending order (a queue's) split
// their last leaf and its parents that way once every few dozen writes, and
// copying the left half, which holds all but one of the entries, was most
// of what such a split cost. The bytes of the dropped pairs stay in data,
// unused, as an overwrite's do; the left half of an end split is rarely
// written to again, so its ents are trimmed to size when writes in place
// left them much room (trim). A run's split (see splitPoint) keeps n too:
// the next keys go to it.
func (n *node) keepFirst(at int, trim bool) {
	n.ownEnts()
	for _, e := range n.ents[at:] {
		if e.flag&entExt != 0 {
			n.ext[e.off] = nil // the right half holds the pair now
		}
	}
	n.ents = n.ents[:at]
	if trim && cap(n.ents) > at+at/8 {
		n.ents = append(make([]ent, 0, at), n.ents...)
	}
}

// half returns a new node of gen with n's entries [lo,hi), for split. A
// half that split's end case (see splitPoint) left with one entry (or
// child) is where ascending (or descending) keys go next: it is made lone,
// with room for as many entries and packed bytes as n has, so that it fills
// in place instead of being copied again each time it outgrows its arrays
// (by half again, compactData), four or five times until it is full. An
// end split is rare for random keys (one leaf in sixteen), and the room is
// used as the node fills.
func (n *node) half(gen uint64, lo, hi int, lone bool) *node {
	ents, data := hi-lo+1, n.packed(lo, hi)
	if lone {
		ents, data = max(ents, len(n.ents)), n.packed(0, len(n.ents))
	}
	h := newNode(gen, n.leaf, ents, data)
	h.appendEnts(n, lo, hi)
	return h
}

// remove deletes key from the tree root, as gen, and returns the new root
// (root itself when key is absent: nothing is copied).
func remove(root *node, gen uint64, key []byte) *node {
	if root == nil {
		return nil
	}
	n, changed := del(root, gen, key)
	if !changed {
		return root
	}
	for {
		switch {
		case n.size() == 0:
			return nil
		case !n.leaf && len(n.kids) == 1:
			n = n.kids[0]
		default:
			return n
		}
	}
}

// del deletes key from the subtree n and reports whether it was there.
func del(n *node, gen uint64, key []byte) (*node, bool) {
	if n.leaf {
		i, found := n.search(key)
		if !found {
			return n, false
		}
		n = own(n, gen)
		n.forget(i)
		n.ents = slices.Delete(n.ents, i, i+1)
		return n, true
	}
	i := n.child(key)
	k, changed := del(n.kids[i], gen, key)
	if !changed {
		return n, false
	}
	n = own(n, gen)
	n.kids[i] = k
	switch {
	case k.size() == 0:
		n.removeKid(i)
	case k.underfull() && len(n.kids) > 1:
		n.rebalance(gen, i)
	}
	return n, true
}

// removeKid drops the empty child i of n (which gen owns) and a separator
// beside it.
func (n *node) removeKid(i int) {
	n.kids = slices.Delete(n.kids, i, i+1)
	if len(n.ents) == 0 {
		return
	}
	s := max(i-1, 0)
	n.forget(s)
	n.ents = slices.Delete(n.ents, s, s+1)
}

// rebalance merges n's underfull child i with a neighbour, or, when both
// do not fit in one node, shares their entries evenly between two new ones.
// n has at least two children and gen owns it.
func (n *node) rebalance(gen uint64, i int) {
	lo := i - 1
	if i == 0 {
		lo = 0
	}
	a, b := n.kids[lo], n.kids[lo+1]
	m := merge(gen, a, n.key(lo), b)
	limit := maxKids
	if m.leaf {
		limit = maxEnts
	}
	if m.size() <= limit {
		n.kids[lo] = m
		n.kids = slices.Delete(n.kids, lo+1, lo+2)
		n.forget(lo)
		n.ents = slices.Delete(n.ents, lo, lo+1)
		return
	}
	l, sep, r := split(m, gen, m.size()/2)
	n.kids[lo], n.kids[lo+1] = l, r
	n.forget(lo)
	e := n.store(sep, nil, false) // first: it may replace n.ents
	n.ents[lo] = e
}

// merge returns a new node of gen with a's entries and then b's; sep, the
// separator between them in their parent, joins them when they are
// interior nodes.
func merge(gen uint64, a *node, sep []byte, b *node) *node {
	packed := a.packed(0, len(a.ents)) + b.packed(0, len(b.ents))
	if !a.leaf && inline(len(sep)) {
		packed += len(sep)
	}
	m := newNode(gen, a.leaf, len(a.ents)+len(b.ents)+1, packed)
	m.appendEnts(a, 0, len(a.ents))
	if !a.leaf {
		m.ents = append(m.ents, m.store(sep, nil, false))
		m.kids = append(append(m.kids, a.kids...), b.kids...)
	}
	m.appendEnts(b, 0, len(b.ents))
	return m
}

// frame is one node on a cursor's path and the index of the entry (in a
// leaf) or child (in an interior node) the cursor is at.
type frame struct {
	n *node
	i int
}

// cursor walks a tree's pairs in key order, or in reverse. Its key is nil
// once it has passed the last (or first) pair.
type cursor struct {
	path    []frame // root first; the last is a leaf while the cursor is valid
	reverse bool
	buf     [6]frame
}

// newCursor starts at the first key >= from (nil: the first key), or in
// reverse at the last key for which below holds (nil: the last key); below
// must hold for every key up to some point and for none after it.
func newCursor(root *node, from []byte, reverse bool, below func([]byte) bool) *cursor {
	c := &cursor{reverse: reverse}
	c.path = c.buf[:0]
	if root == nil {
		return c
	}
	n := root
	for {
		var i int
		if !reverse {
			if n.leaf {
				i, _ = n.search(from)
			} else {
				i = n.child(from)
			}
		} else {
			// The number of keys (separators) for which below holds.
			lo, hi := 0, len(n.ents)
			if below == nil {
				lo = hi
			}
			for lo < hi {
				m := int(uint(lo+hi) >> 1)
				if below(n.key(m)) {
					lo = m + 1
				} else {
					hi = m
				}
			}
			i = lo
			if n.leaf {
				i--
			}
		}
		c.path = append(c.path, frame{n, i})
		if n.leaf {
			break
		}
		n = n.kids[i]
	}
	c.settle()
	return c
}

// settle moves the cursor from where its path points to the nearest pair
// in its direction, climbing out of exhausted (or empty) nodes.
func (c *cursor) settle() {
	for len(c.path) > 0 {
		top := &c.path[len(c.path)-1]
		if top.i >= 0 && top.i < top.n.size() {
			if top.n.leaf {
				return
			}
			k := top.n.kids[top.i]
			i := 0
			if c.reverse {
				i = k.size() - 1
			}
			c.path = append(c.path, frame{k, i})
			continue
		}
		c.path = c.path[:len(c.path)-1]
		if len(c.path) > 0 {
			if c.reverse {
				c.path[len(c.path)-1].i--
			} else {
				c.path[len(c.path)-1].i++
			}
		}
	}
}

func (c *cursor) key() []byte {
	if len(c.path) == 0 {
		return nil
	}
	f := c.path[len(c.path)-1]
	return f.n.key(f.i)
}

// val is the current pair's value, nil for a tombstone.
func (c *cursor) val() []byte {
	f := c.path[len(c.path)-1]
	return f.n.val(f.i)
}

func (c *cursor) next() {
	if c.reverse {
		c.path[len(c.path)-1].i--
	} else {
		c.path[len(c.path)-1].i++
	}
	c.settle()
}
