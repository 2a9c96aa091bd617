package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// errRollback makes an Update of FuzzMemoryMatchesASortedMap roll back.
var errRollback = errors.New("rollback")

// FuzzMemoryMatchesASortedMap drives the in-memory store's B-tree with
// sequences of Put, Delete, Get, Scan and ScanReverse (bounded by prefix,
// start and a limit), runs of ascending puts and deletes (so that leaves
// split, merge and even out, and the tree grows three levels deep), and
// commits and rollbacks, against a sorted map. It also checks what the
// copy-on-write design promises: a committed version never changes after
// later Updates (each one's root is kept and scanned again), values a Get
// returned stay as they were until the Update ends, and the tree's shape
// stays a B-tree.
func FuzzMemoryMatchesASortedMap(f *testing.F) {
	f.Add([]byte{0, 1, 5, 7, 0, 2, 1, 1, 7, 1, 3, 0, 4})
	// Runs of puts that build a tree three levels deep, then deletes that
	// empty whole leaves, with scans and rollbacks between.
	var deep []byte
	for i := range 40 {
		deep = append(deep, 5, byte(i*7), byte(i), 255, 7, byte(i))
	}
	for i := range 30 {
		deep = append(deep, 6, byte(i*11), byte(i), 200, 3, byte(i), 9, 4, byte(i), 9, 7, byte(i%2))
	}
	f.Add(deep)
	r := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		seq := make([]byte, 4000)
		for i := range seq {
			seq[i] = byte(r.IntN(256))
		}
		f.Add(seq)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := OpenMemory().(*memStore)
		defer s.Close()
		m := &model{vals: map[string]string{}}
		type version struct {
			root *node
			m    *model
		}
		var versions []version
		// Bounded work per input: the fuzzer counts a slow input as a hang.
		ops = ops[:min(len(ops), 3000)]
		for n := 0; len(ops) > 0; n++ {
			var tx *model
			err := s.Update(func(txn Tx) error {
				tx = m.clone()
				var held []heldValue
				rest, end := runOps(t, txn, tx, ops, &held)
				ops = rest
				for _, h := range held {
					if !bytes.Equal(h.got, h.want) {
						t.Fatalf("a value Get returned changed within its Update: %q, was %q", h.got, h.want)
					}
				}
				return end
			})
			switch {
			case err == nil:
				m = tx
			case !errors.Is(err, errRollback):
				t.Fatal(err)
			}
			checkTree(t, s.root.Load())
			if n%4 != 0 && len(ops) > 0 {
				continue
			}
			compareScan(t, "after an Update", s.root.Load(), m)
			for i, v := range versions {
				compareScan(t, fmt.Sprintf("committed version %d, later", i), v.root, v.m)
			}
			if len(versions) < 6 && err == nil {
				versions = append(versions, version{s.root.Load(), m.clone()})
			}
		}
	})
}

type heldValue struct{ got, want []byte }

// runOps applies ops to txn and to the model tx until an end-of-Update op,
// and returns the ops left and what the Update's fn returns.
func runOps(t *testing.T, txn Tx, tx *model, ops []byte, held *[]heldValue) ([]byte, error) {
	arg := func() int {
		if len(ops) == 0 {
			return 0
		}
		b := ops[0]
		ops = ops[1:]
		return int(b)
	}
	key := func(n, i int) string { return fmt.Sprintf("%c/%05d", "ab"[n%2], (n+i)%4999) }
	for len(ops) > 0 {
		op := arg() % 10
		switch op {
		case 0, 5: // a Put, or a run of puts of ascending keys
			k, run := arg()*20+arg(), 1
			size := []int{0, 1, 10, 100, 250, 300, 1000}[arg()%7]
			if op == 5 {
				run = arg()
			}
			for i := range run {
				key := key(k, i)
				val := strings.Repeat(string(rune('a'+i%26)), size)
				if err := txn.Put([]byte(key), []byte(val)); err != nil {
					t.Fatal(err)
				}
				tx.put(key, val)
			}
		case 1, 6: // a Delete, or a run of deletes of ascending keys
			k, run := arg()*20+arg(), 1
			if op == 6 {
				run = arg()
			}
			for i := range run {
				key := key(k, i)
				if err := txn.Delete([]byte(key)); err != nil {
					t.Fatal(err)
				}
				tx.del(key)
			}
		case 2:
			k := key(arg()*20+arg(), 0)
			got, _ := txn.Get([]byte(k))
			want, ok := tx.vals[k]
			if (got != nil) != ok || string(got) != want {
				t.Fatalf("Get(%q) = %q, want %q (present %v)", k, got, want, ok)
			}
			if got != nil {
				*held = append(*held, heldValue{got, bytes.Clone(got)})
			}
		case 3, 4, 8, 9:
			prefix := []string{"", "a", "a/", "b/0", "b/01", "a/049", "c"}[arg()%7]
			var start []byte
			if b := arg(); b%3 != 0 {
				start = []byte(key(b*20+arg(), 0))
			}
			limit := arg() + 1
			reverse := op == 4 || op == 9
			var got []string
			scan := txn.Scan
			if reverse {
				scan = txn.ScanReverse
			}
			if err := scan([]byte(prefix), start, func(k, v []byte) (bool, error) {
				got = append(got, string(k)+"="+string(v))
				return len(got) < limit, nil
			}); err != nil {
				t.Fatal(err)
			}
			want := tx.scan(prefix, string(start), start != nil, reverse, limit)
			if !slices.Equal(got, want) {
				t.Fatalf("scan(%q, %q, reverse %v, limit %d) = %d pairs %.200v, want %d %.200v", prefix, start, reverse, limit, len(got), got, len(want), want)
			}
		case 7:
			if arg()%3 == 0 {
				return ops, errRollback
			}
			return ops, nil
		}
	}
	return ops, nil
}

// model is the sorted map the store is compared with.
type model struct {
	keys []string // sorted
	vals map[string]string
}

func (m *model) clone() *model {
	return &model{keys: slices.Clone(m.keys), vals: maps.Clone(m.vals)}
}

func (m *model) put(k, v string) {
	if _, ok := m.vals[k]; !ok {
		i, _ := slices.BinarySearch(m.keys, k)
		m.keys = slices.Insert(m.keys, i, k)
	}
	m.vals[k] = v
}

func (m *model) del(k string) {
	if i, ok := slices.BinarySearch(m.keys, k); ok {
		m.keys = slices.Delete(m.keys, i, i+1)
		delete(m.vals, k)
	}
}

// scan is Scan (or ScanReverse) over the model, as "key=value" strings.
func (m *model) scan(prefix, start string, hasStart, reverse bool, limit int) []string {
	var out []string
	if !reverse {
		from := prefix
		if hasStart && start > from {
			from = start
		}
		i, _ := slices.BinarySearch(m.keys, from)
		for ; i < len(m.keys) && strings.HasPrefix(m.keys[i], prefix) && len(out) != limit; i++ {
			out = append(out, m.keys[i]+"="+m.vals[m.keys[i]])
		}
		return out
	}
	i := len(m.keys)
	if end := prefixEnd([]byte(prefix)); end != nil {
		i, _ = slices.BinarySearch(m.keys, string(end))
	}
	if hasStart {
		j, found := slices.BinarySearch(m.keys, start)
		if found {
			j++
		}
		i = min(i, j)
	}
	for i--; i >= 0 && strings.HasPrefix(m.keys[i], prefix) && len(out) != limit; i-- {
		out = append(out, m.keys[i]+"="+m.vals[m.keys[i]])
	}
	return out
}

// compareScan checks that the tree holds exactly m, forwards and backwards.
func compareScan(t *testing.T, when string, root *node, m *model) {
	t.Helper()
	want := m.scan("", "", false, false, -1)
	var got []string
	for c := newCursor(root, nil, false, nil); c.key() != nil; c.next() {
		got = append(got, string(c.key())+"="+string(c.val()))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: the tree has %d pairs, the model %d", when, len(got), len(want))
	}
	got = got[:0]
	for c := newCursor(root, nil, true, nil); c.key() != nil; c.next() {
		got = append(got, string(c.key())+"="+string(c.val()))
	}
	slices.Reverse(got)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: the tree in reverse differs from the model", when)
	}
}

// checkTree checks the B-tree's shape: every leaf at one depth, nodes no
// larger than their limits and none empty but the root, keys in order and
// inside their separators.
func checkTree(t *testing.T, root *node) {
	t.Helper()
	if root == nil {
		return
	}
	if !root.leaf && len(root.kids) < 2 {
		t.Fatalf("an interior root with %d children", len(root.kids))
	}
	depth := -1
	var walk func(n *node, d int, lo, hi []byte)
	walk = func(n *node, d int, lo, hi []byte) {
		for i := range n.ents {
			k := n.key(i)
			if lo != nil && bytes.Compare(k, lo) < 0 || hi != nil && bytes.Compare(k, hi) >= 0 {
				t.Fatalf("key %q outside its node's range [%q, %q)", k, lo, hi)
			}
			if i > 0 && bytes.Compare(n.key(i-1), k) >= 0 {
				t.Fatalf("keys out of order: %q, %q", n.key(i-1), k)
			}
		}
		if n.leaf {
			if depth < 0 {
				depth = d
			}
			if d != depth {
				t.Fatalf("leaves at depths %d and %d", depth, d)
			}
			if len(n.ents) > maxEnts || n != root && len(n.ents) == 0 {
				t.Fatalf("a leaf of %d pairs", len(n.ents))
			}
			return
		}
		if len(n.kids) != len(n.ents)+1 || len(n.kids) > maxKids || len(n.kids) == 0 {
			t.Fatalf("an interior node of %d children and %d separators", len(n.kids), len(n.ents))
		}
		for i, k := range n.kids {
			klo, khi := lo, hi
			if i > 0 {
				klo = n.key(i - 1)
			}
			if i < len(n.ents) {
				khi = n.key(i)
			}
			walk(k, d+1, klo, khi)
		}
	}
	walk(root, 0, nil, nil)
}

// TestTreeTombstonesAndOldVersions covers what the disk store's overlay
// asks of the tree and the store's API does not show: tombstones read back
// as present with a nil value and are walked by cursors, and a version
// another generation built on stays as it was.
func TestTreeTombstonesAndOldVersions(t *testing.T) {
	var root *node
	for i := range 3000 {
		root = insert(root, 1, fmt.Appendf(nil, "k%05d", i), fmt.Appendf(nil, "v%d", i))
	}
	old := root
	for i := 0; i < 3000; i += 3 {
		root = insert(root, 2, fmt.Appendf(nil, "k%05d", i), nil)
	}
	checkTree(t, root)
	checkTree(t, old)
	for i := range 3000 {
		k := fmt.Appendf(nil, "k%05d", i)
		v, ok := lookup(root, k)
		if !ok || (v == nil) != (i%3 == 0) {
			t.Fatalf("new version: %s = %q, %v", k, v, ok)
		}
		if v, _ := lookup(old, k); string(v) != fmt.Sprintf("v%d", i) {
			t.Fatalf("old version: %s = %q", k, v)
		}
	}
	tombs := 0
	for c := newCursor(root, []byte("k01000"), false, nil); c.key() != nil; c.next() {
		if c.val() == nil {
			tombs++
		}
	}
	if tombs != 666 { // k01002, k01005, ..., k02997
		t.Errorf("a cursor from k01000 walked %d tombstones, want 666", tombs)
	}
}

// TestViewsReadLeavesUpdatesAppendTo has Views read and check a leaf while
// Updates write to its copies, which share the leaf's data array and
// append past the bytes the Views read; under -race it shows the two never
// touch the same bytes.
func TestViewsReadLeavesUpdatesAppendTo(t *testing.T) {
	s := OpenMemory()
	defer s.Close()
	for i := range 20 {
		if err := s.Update(func(tx Tx) error { return tx.Put(fmt.Appendf(nil, "k%02d", i), []byte("0")) }); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			err := s.View(func(tx Tx) error {
				var first []byte
				return tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
					if first == nil {
						first = v
					} else if !bytes.Equal(v, first) {
						return false, fmt.Errorf("one View saw %s=%q and earlier %q: Updates write every key at once", k, v, first)
					}
					return true, nil
				})
			})
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for round := 1; round <= 300; round++ {
		if err := s.Update(func(tx Tx) error {
			for i := range 20 {
				if err := tx.Put(fmt.Appendf(nil, "k%02d", i), fmt.Append(nil, round)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// TestEndSplitsLeaveRoomToFill writes keys in ascending and in descending
// order, one generation each, as a queue's sends are: after the first
// split, the leaf the keys go to takes a new data array only when it
// splits, filling the room split gave it in place (rather than moving to a
// larger array several times as it fills). Every version kept must still
// read as it was, since the versions share those arrays.
func TestEndSplitsLeaveRoomToFill(t *testing.T) {
	for _, descending := range []bool{false, true} {
		t.Run(fmt.Sprintf("descending=%v", descending), func(t *testing.T) {
			const keys = 40 * maxEnts
			key := func(i int) []byte {
				if descending {
					i = keys - i
				}
				return fmt.Appendf(nil, "k%06d", i)
			}
			end := func(n *node) *node { // the leaf the next key goes to
				for !n.leaf {
					if descending {
						n = n.kids[0]
					} else {
						n = n.kids[len(n.kids)-1]
					}
				}
				return n
			}
			var root *node
			roots := make([]*node, keys)
			var data *byte
			moves, splits, leaves := 0, 0, 1
			for i := range keys {
				root = insert(root, uint64(i+1), key(i), fmt.Appendf(nil, "v%06d", i)) // one size: the room fits
				roots[i] = root
				n := end(root)
				if count := countLeaves(root); count != leaves {
					leaves, splits = count, splits+1
				} else if splits > 0 && &n.data[0] != data {
					moves++
				}
				data = &n.data[0]
			}
			if splits < 30 || moves != 0 {
				t.Errorf("after %d end splits, the end leaf moved to a new data array %d times between splits", splits, moves)
			}
			checkVersions(t, roots, key)
		})
	}
}

// TestAscendingKeysBeforeOthersFillNodes writes keys in ascending order
// that sort before keys already there, as an SQS queue's messages go before
// its count and visibility index: the leaves they fill end up full, as at
// the end of the tree (TestEndSplitsLeaveRoomToFill), not half empty, and
// the leaf they go to moves to a new data array about once per split, not
// every few keys. Every version kept must still read as it was.
func TestAscendingKeysBeforeOthersFillNodes(t *testing.T) {
	const keys = 40 * maxEnts
	key := func(i int) []byte { return fmt.Appendf(nil, "k%06d", i) }
	var root *node
	gen := uint64(1)
	for _, k := range []string{"l", "m1", "m2", "m3"} { // after every k key
		root = insert(root, gen, []byte(k), []byte("other"))
		gen++
	}
	into := func(n *node, k []byte) *node { // the leaf k goes to
		for !n.leaf {
			n = n.kids[n.child(k)]
		}
		return n
	}
	roots := make([]*node, keys)
	moves := 0
	for i := range keys {
		var data *byte
		if i > 0 {
			if n := into(root, key(i)); len(n.data) > 0 {
				data = &n.data[0]
			}
		}
		root = insert(root, gen, key(i), fmt.Appendf(nil, "v%06d", i))
		gen++
		roots[i] = root
		if n := into(root, key(i)); data != nil && len(n.data) > 0 && &n.data[0] != data {
			moves++
		}
	}
	if leaves, most := countLeaves(root), keys/(maxEnts-2)+2; leaves > most {
		t.Errorf("%d keys in %d leaves, want at most %d", keys, leaves, most)
	}
	if most := 2 * keys / maxEnts; moves > most {
		t.Errorf("the leaf the keys went to moved to a new data array %d times, want at most %d", moves, most)
	}
	checkVersions(t, roots, key)
	for i := 0; i < keys; i += 37 {
		if v, ok := lookup(roots[i], []byte("m2")); !ok || string(v) != "other" {
			t.Fatalf("version %d: m2 = %q, %v", i, v, ok)
		}
	}
}

// countLeaves returns the number of leaves of the tree root.
func countLeaves(n *node) int {
	if n.leaf {
		return 1
	}
	c := 0
	for _, k := range n.kids {
		c += countLeaves(k)
	}
	return c
}

// checkVersions checks every 37th of roots, the versions after each of
// key(0), key(1), ... was inserted with the value "v%06d" of its number:
// its shape, and that it holds exactly the keys inserted up to it.
func checkVersions(t *testing.T, roots []*node, key func(int) []byte) {
	t.Helper()
	for i := 0; i < len(roots); i += 37 {
		checkTree(t, roots[i])
		for j := range roots {
			v, ok := lookup(roots[i], key(j))
			if ok != (j <= i) || ok && string(v) != fmt.Sprintf("v%06d", j) {
				t.Fatalf("version %d: %s = %q, %v", i, key(j), v, ok)
			}
		}
	}
}
