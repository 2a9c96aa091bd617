package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// impl opens a fresh store of one implementation; reopen (nil for memory)
// closes a store and opens it again from the same place.
type impl struct {
	name   string
	open   func(t testing.TB) Store
	reopen func(t testing.TB, s Store) Store
}

func impls() []impl {
	return []impl{
		{name: "memory", open: func(t testing.TB) Store { return OpenMemory() }},
		{name: "disk", open: openDisk, reopen: reopenDisk},
	}
}

func openDisk(t testing.TB) Store {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	diskDirs.Store(s, dir)
	t.Cleanup(func() { s.Close() })
	return s
}

// diskDirs remembers where each test's disk store lives, for reopen.
var diskDirs sync.Map

func reopenDisk(t testing.TB, s Store) Store {
	t.Helper()
	dir, _ := diskDirs.Load(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir.(string))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	diskDirs.Store(s, dir)
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t testing.TB, s Store, kvs ...string) {
	t.Helper()
	err := s.Update(func(tx Tx) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := tx.Put([]byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t testing.TB, s Store, key string) (val string, ok bool) {
	t.Helper()
	err := s.View(func(tx Tx) error {
		v, err := tx.Get([]byte(key))
		val, ok = string(v), v != nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return val, ok
}

// scanPairs returns the first limit "key=value"s of a scan.
func scanPairs(s Store, reverse bool, prefix, start string, limit int) (pairs []string) {
	var startKey []byte
	if start != "" {
		startKey = []byte(start)
	}
	s.View(func(tx Tx) error {
		scan := tx.Scan
		if reverse {
			scan = tx.ScanReverse
		}
		return scan([]byte(prefix), startKey, func(k, v []byte) (bool, error) {
			pairs = append(pairs, string(k)+"="+string(v))
			return len(pairs) < limit, nil
		})
	})
	return pairs
}

// TestMemoryMatchesAModel drives random operations through memory and disk
// stores and a sorted map, and compares full scans: the B-tree's splits and merges
// and copying are where ordering bugs would hide. The third store has
// tiny log segments, so that a checkpoint runs every few Updates and scans
// merge the overlay's layers with the bbolt file in every state; it is also
// reopened halfway.
func TestMemoryMatchesAModel(t *testing.T) {
	defer func(n int64) { walSegmentSize = n }(walSegmentSize)
	walSegmentSize = 4096 + 512
	stores := []Store{OpenMemory(), openDisk(t), openDisk(t)}
	walSegmentSize = 4 << 20
	model := map[string]string{}
	compare := func(when string) {
		t.Helper()
		var want []string
		for k, v := range model {
			want = append(want, k+"="+v)
		}
		slices.Sort(want)
		for i, s := range stores {
			var got []string
			s.View(func(tx Tx) error {
				return tx.Scan(nil, nil, func(k, v []byte) (bool, error) { got = append(got, string(k)+"="+string(v)); return true, nil })
			})
			if !slices.Equal(got, want) {
				t.Errorf("%s: store %d: %d keys differ from the model's %d", when, i, len(got), len(want))
			}
			var rev []string
			s.View(func(tx Tx) error {
				return tx.ScanReverse(nil, nil, func(k, v []byte) (bool, error) { rev = append(rev, string(k)+"="+string(v)); return true, nil })
			})
			slices.Reverse(rev)
			if !slices.Equal(rev, want) {
				t.Errorf("%s: store %d: reverse scan differs from the model", when, i)
			}
			// Bounded scans, against the memory store's (tested above).
			for _, prefix := range []string{"k0", "k1", "k05", "k199", "x"} {
				for _, start := range []string{"", "k050", "k1", "k15", "k2"} {
					for _, reverse := range []bool{false, true} {
						got, want := scanPairs(s, reverse, prefix, start, 7), scanPairs(stores[0], reverse, prefix, start, 7)
						if !slices.Equal(got, want) {
							t.Errorf("%s: store %d: scan(%q, %q, reverse %v) = %v, want %v", when, i, prefix, start, reverse, got, want)
						}
					}
				}
			}
		}
	}

	seed := uint32(1)
	next := func(n int) int { seed = seed*1664525 + 1013904223; return int(seed>>8) % n }
	for round := 0; round < 300; round++ {
		if round == 150 {
			stores[2] = reopenDisk(t, stores[2])
		}
		type op struct {
			del  bool
			k, v string
		}
		var ops []op
		for i := next(8); i >= 0; i-- {
			ops = append(ops, op{next(3) == 0, fmt.Sprintf("k%03d", next(200)), fmt.Sprint(round)})
		}
		fail := next(5) == 0
		for _, s := range stores {
			s.Update(func(tx Tx) error {
				for _, o := range ops {
					if o.del {
						tx.Delete([]byte(o.k))
					} else {
						tx.Put([]byte(o.k), []byte(o.v))
					}
				}
				if fail {
					return errors.New("rollback")
				}
				return nil
			})
		}
		if !fail {
			for _, o := range ops {
				if o.del {
					delete(model, o.k)
				} else {
					model[o.k] = o.v
				}
			}
		}
		if round%50 == 49 {
			compare(fmt.Sprintf("round %d", round))
		}
	}
	stores[1] = reopenDisk(t, stores[1])
	stores[2] = reopenDisk(t, stores[2])
	compare("after a reopen")
}
