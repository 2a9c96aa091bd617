package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestAppendedRunsThenScatteredDeletesSurviveReopen writes keys in
// ascending runs under three prefixes, ten to an Update as an SQS
// SendMessageBatch does (so that the B-tree splits its last leaf and its
// parents at the end, keeping the left half in place, and checkpoints copy
// long runs into bbolt, filling its pages densely), then deletes and
// overwrites keys scattered across them (so that leaves left by end
// splits are changed again, merge and even out, and checkpoints write
// scattered keys), with Updates that roll back among them. A memory store,
// a disk store, that disk store's files copied as a crash would leave them,
// and the disk store reopened must all hold what a sorted map holds.
func TestAppendedRunsThenScatteredDeletesSurviveReopen(t *testing.T) {
	defer func(n int64) { walSegmentSize = n }(walSegmentSize)
	walSegmentSize = walHeaderSize + 64<<10 // a checkpoint every few hundred keys
	mem := OpenMemory().(*memStore)
	defer mem.Close()
	disk := openDisk(t)
	stores := []Store{mem, disk}
	m := &model{vals: map[string]string{}}
	r := rand.New(rand.NewPCG(3, 4))
	val := func(i, round int) string {
		v := fmt.Sprintf("v%d.%d.", i, round)
		if i%7 == 0 { // too long to pack into a leaf: its own allocation
			return v + strings.Repeat("x", inlineMax)
		}
		return v + strings.Repeat("y", 40)
	}
	type op struct {
		del  bool
		k, v string
	}
	update := func(fail bool, ops []op) {
		t.Helper()
		for _, s := range stores {
			err := s.Update(func(tx Tx) error {
				for _, o := range ops {
					var err error
					if o.del {
						err = tx.Delete([]byte(o.k))
					} else {
						err = tx.Put([]byte(o.k), []byte(o.v))
					}
					if err != nil {
						return err
					}
				}
				if fail {
					return errRollback
				}
				return nil
			})
			if err != nil && !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
		}
		for _, o := range ops {
			if fail {
				break
			}
			if o.del {
				m.del(o.k)
			} else {
				m.put(o.k, o.v)
			}
		}
	}
	check := func(when string, ss ...Store) {
		t.Helper()
		checkTree(t, mem.root.Load())
		want := m.scan("", "", false, false, -1)
		for i, s := range ss {
			if got := scanPairs(s, false, "", "", 1<<30); !slices.Equal(got, want) {
				t.Fatalf("%s: store %d holds %d pairs, the model %d", when, i, len(got), len(want))
			}
		}
	}

	const perPrefix = 3000
	var keys []string
	for i := 0; i < perPrefix; i += 10 {
		fail := r.IntN(10) == 0
		var ops []op
		for p := range 3 {
			for j := i; j < i+10; j++ {
				ops = append(ops, op{k: fmt.Sprintf("q%d/%08d", p, j), v: val(j, 0)})
			}
		}
		update(fail, ops)
		if fail { // written again, as a client retries
			i -= 10
		}
	}
	for p := range 3 {
		for j := range perPrefix {
			keys = append(keys, fmt.Sprintf("q%d/%08d", p, j))
		}
	}
	check("after the runs", stores...)
	disk = reopenDisk(t, disk)
	stores[1] = disk
	check("after the runs and a reopen", stores...)
	// Runs were copied into bbolt's pages filled densely, not by half.
	if fill := leafFill(t, disk); fill < 0.75 {
		t.Errorf("bbolt's leaf pages are %.2f full after ascending runs, want at least 0.75", fill)
	}

	for round := 1; round <= 400; round++ {
		var ops []op
		for range 10 {
			k := keys[r.IntN(len(keys))]
			if r.IntN(4) == 0 {
				ops = append(ops, op{k: k, v: val(r.IntN(1000), round)})
			} else {
				ops = append(ops, op{del: true, k: k})
			}
		}
		update(r.IntN(8) == 0, ops)
		if round%100 == 0 {
			check(fmt.Sprintf("round %d", round), stores...)
		}
	}
	dir, _ := diskDirs.Load(disk)
	crashed, err := Open(copyStore(t, dir.(string)))
	if err != nil {
		t.Fatal(err)
	}
	check("after a crash", crashed)
	crashed.Close()
	stores[1] = reopenDisk(t, disk)
	check("after a reopen", stores...)
}

// leafFill is how full the disk store's bbolt leaf pages are.
func leafFill(t *testing.T, s Store) float64 {
	t.Helper()
	ds := s.(*diskStore)
	var fill float64
	err := ds.db.View(func(btx *bolt.Tx) error {
		st := btx.Bucket(bucket).Stats()
		fill = float64(st.LeafInuse) / float64(st.LeafAlloc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fill
}
