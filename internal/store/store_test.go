package store

import (
	"errors"
	"fmt"
	"runtime"
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

// forEach runs the test against every implementation.
func forEach(t *testing.T, test func(t *testing.T, im impl)) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) { test(t, im) })
	}
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

func TestGetPutDelete(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		if _, ok := get(t, s, "a"); ok {
			t.Fatal("Get of a key never written: present")
		}
		put(t, s, "a", "1", "b", "2", "empty", "")
		put(t, s, "a", "3") // overwrite
		for _, c := range []struct {
			key, want string
			ok        bool
		}{{"a", "3", true}, {"b", "2", true}, {"empty", "", true}, {"c", "", false}} {
			if got, ok := get(t, s, c.key); got != c.want || ok != c.ok {
				t.Errorf("Get(%q) = %q, present %v; want %q, %v", c.key, got, ok, c.want, c.ok)
			}
		}
		err := s.Update(func(tx Tx) error {
			if err := tx.Delete([]byte("a")); err != nil {
				return err
			}
			return tx.Delete([]byte("never")) // absent: not an error
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := get(t, s, "a"); ok {
			t.Error("Get after Delete: present")
		}
		if v, _ := get(t, s, "b"); v != "2" {
			t.Errorf("Delete of a removed b: %q", v)
		}
	})
}

func TestUpdateSeesItsOwnWrites(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		put(t, s, "k", "old", "gone", "x")
		err := s.Update(func(tx Tx) error {
			tx.Put([]byte("k"), []byte("new"))
			tx.Delete([]byte("gone"))
			if v, _ := tx.Get([]byte("k")); string(v) != "new" {
				t.Errorf("Get after Put in the same Update = %q", v)
			}
			if v, _ := tx.Get([]byte("gone")); v != nil {
				t.Errorf("Get after Delete in the same Update = %q", v)
			}
			var keys []string
			tx.Scan(nil, nil, func(k, v []byte) (bool, error) { keys = append(keys, string(k)); return true, nil })
			if !slices.Equal(keys, []string{"k"}) {
				t.Errorf("Scan in the same Update = %q", keys)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestPutRejectsBadKeysAndReadOnlyWrites(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		for _, c := range []struct {
			name       string
			key, value []byte
			want       error
		}{
			{"empty key", nil, []byte("v"), ErrKeyEmpty},
			{"key too large", make([]byte, MaxKeySize+1), nil, ErrKeyTooLarge},
			{"value too large", []byte("k"), make([]byte, MaxValueSize+1), ErrValueTooLarge},
		} {
			err := s.Update(func(tx Tx) error { return tx.Put(c.key, c.value) })
			if !errors.Is(err, c.want) {
				t.Errorf("%s: Put = %v, want %v", c.name, err, c.want)
			}
		}
		put(t, s, string(make([]byte, MaxKeySize)), "largest key is fine")
		err := s.View(func(tx Tx) error {
			if err := tx.Put([]byte("k"), []byte("v")); !errors.Is(err, ErrReadOnly) {
				t.Errorf("Put in View = %v, want ErrReadOnly", err)
			}
			if err := tx.Delete([]byte("k")); !errors.Is(err, ErrReadOnly) {
				t.Errorf("Delete in View = %v, want ErrReadOnly", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// scanKeys collects the keys a scan visits, stopping after limit (0: all).
func scanKeys(t *testing.T, s Store, reverse bool, prefix, start string, limit int) []string {
	t.Helper()
	var keys []string
	var startKey []byte
	if start != "" {
		startKey = []byte(start)
	}
	err := s.View(func(tx Tx) error {
		scan := tx.Scan
		if reverse {
			scan = tx.ScanReverse
		}
		return scan([]byte(prefix), startKey, func(k, v []byte) (bool, error) {
			if want := "v:" + string(k); string(v) != want {
				t.Errorf("value of %q = %q, want %q", k, v, want)
			}
			keys = append(keys, string(k))
			return limit == 0 || len(keys) < limit, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestScanOrderBoundsAndStart(t *testing.T) {
	keys := []string{"a", "q/1", "q/10", "q/2", "q/2/x", "q0", "q\xff", "r", "\xff", "\xff\xff"}
	cases := []struct {
		name          string
		reverse       bool
		prefix, start string
		limit         int
		want          []string
	}{
		{"all keys in byte order", false, "", "", 0, keys},
		{"prefix only", false, "q/", "", 0, []string{"q/1", "q/10", "q/2", "q/2/x"}},
		{"prefix is itself no key", false, "q/2", "", 0, []string{"q/2", "q/2/x"}},
		{"start inside prefix", false, "q/", "q/10", 0, []string{"q/10", "q/2", "q/2/x"}},
		{"start between keys", false, "q/", "q/15", 0, []string{"q/2", "q/2/x"}},
		{"start before prefix", false, "q/", "a", 0, []string{"q/1", "q/10", "q/2", "q/2/x"}},
		{"start after prefix", false, "q/", "q0", 0, nil},
		{"start without prefix", false, "", "q0", 0, []string{"q0", "q\xff", "r", "\xff", "\xff\xff"}},
		{"prefix with no keys", false, "z", "", 0, nil},
		{"stop early", false, "q/", "", 2, []string{"q/1", "q/10"}},
		{"prefix of 0xff", false, "\xff", "", 0, []string{"\xff", "\xff\xff"}},
		{"reverse all", true, "", "", 0, []string{"\xff\xff", "\xff", "r", "q\xff", "q0", "q/2/x", "q/2", "q/10", "q/1", "a"}},
		{"reverse prefix", true, "q/", "", 0, []string{"q/2/x", "q/2", "q/10", "q/1"}},
		{"reverse start is a key", true, "q/", "q/2", 0, []string{"q/2", "q/10", "q/1"}},
		{"reverse start between keys", true, "q/", "q/15", 0, []string{"q/10", "q/1"}},
		{"reverse start after prefix", true, "q/", "zz", 0, []string{"q/2/x", "q/2", "q/10", "q/1"}},
		{"reverse start before prefix", true, "q/", "a", 0, nil},
		{"reverse stop early", true, "q/", "", 1, []string{"q/2/x"}},
		{"reverse prefix of 0xff", true, "\xff", "", 0, []string{"\xff\xff", "\xff"}},
		{"reverse prefix ending in 0xff", true, "q", "", 0, []string{"q\xff", "q0", "q/2/x", "q/2", "q/10", "q/1"}},
	}
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		for _, k := range keys {
			put(t, s, k, "v:"+k)
		}
		for _, c := range cases {
			if got := scanKeys(t, s, c.reverse, c.prefix, c.start, c.limit); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %q, want %q", c.name, got, c.want)
			}
		}
	})
}

func TestScanReturnsCallbackError(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		put(t, s, "a", "1", "b", "2")
		boom := errors.New("boom")
		for _, reverse := range []bool{false, true} {
			calls := 0
			err := s.View(func(tx Tx) error {
				scan := tx.Scan
				if reverse {
					scan = tx.ScanReverse
				}
				return scan(nil, nil, func(k, v []byte) (bool, error) { calls++; return true, boom })
			})
			if !errors.Is(err, boom) || calls != 1 {
				t.Errorf("reverse=%v: err %v after %d calls, want boom after 1", reverse, err, calls)
			}
		}
	})
}

func TestUpdateErrorAppliesNothing(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		put(t, s, "keep", "1", "doomed", "1")
		boom := errors.New("boom")
		err := s.Update(func(tx Tx) error {
			tx.Put([]byte("keep"), []byte("2"))
			tx.Put([]byte("new"), []byte("x"))
			tx.Delete([]byte("doomed"))
			tx.Put([]byte("keep"), []byte("3"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want boom", err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a panic in Update's fn did not reach the caller")
				}
			}()
			s.Update(func(tx Tx) error {
				tx.Put([]byte("keep"), []byte("panic"))
				panic("boom")
			})
		}()
		if v, _ := get(t, s, "keep"); v != "1" {
			t.Errorf("keep = %q after failed Updates, want 1", v)
		}
		if _, ok := get(t, s, "new"); ok {
			t.Error("new was written by a failed Update")
		}
		if _, ok := get(t, s, "doomed"); !ok {
			t.Error("doomed was deleted by a failed Update")
		}
		put(t, s, "after", "ok") // the store still works
		if v, _ := get(t, s, "after"); v != "ok" {
			t.Errorf("after = %q", v)
		}
	})
}

func TestViewIsASnapshot(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		put(t, s, "k", "before")
		inView, updated := make(chan struct{}), make(chan error)
		go func() {
			<-inView
			updated <- s.Update(func(tx Tx) error { return tx.Put([]byte("k"), []byte("after")) })
		}()
		err := s.View(func(tx Tx) error {
			close(inView)
			if err := <-updated; err != nil {
				return err
			}
			v, err := tx.Get([]byte("k"))
			if string(v) != "before" {
				t.Errorf("View saw %q after a concurrent Update committed, want its snapshot", v)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := get(t, s, "k"); v != "after" {
			t.Errorf("a new View saw %q", v)
		}
	})
}

func TestConcurrentUpdatesAreSerializable(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		const writers, increments = 16, 25
		var wg sync.WaitGroup
		boom := errors.New("boom")
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < increments; i++ {
					// Read-modify-write of one shared counter: a lost update
					// shows as a short count.
					err := s.Update(func(tx Tx) error {
						v, err := tx.Get([]byte("counter"))
						if err != nil {
							return err
						}
						n := 0
						fmt.Sscan(string(v), &n)
						if err := tx.Put([]byte("counter"), fmt.Appendf(nil, "%d", n+1)); err != nil {
							return err
						}
						return tx.Put(fmt.Appendf(nil, "w/%02d/%03d", w, i), []byte("x"))
					})
					if err != nil {
						t.Error(err)
					}
					// Interleave failing Updates: they must not disturb
					// the ones committed with them.
					err = s.Update(func(tx Tx) error {
						tx.Put([]byte("counter"), []byte("-1000"))
						return boom
					})
					if !errors.Is(err, boom) {
						t.Errorf("failing Update = %v", err)
					}
				}
			}()
		}
		wg.Wait()
		if v, _ := get(t, s, "counter"); v != fmt.Sprint(writers*increments) {
			t.Errorf("counter = %s, want %d", v, writers*increments)
		}
		if n := len(scanKeys2(t, s, "w/")); n != writers*increments {
			t.Errorf("%d keys written, want %d", n, writers*increments)
		}
	})
}

func scanKeys2(t *testing.T, s Store, prefix string) (keys []string) {
	t.Helper()
	err := s.View(func(tx Tx) error {
		return tx.Scan([]byte(prefix), nil, func(k, v []byte) (bool, error) { keys = append(keys, string(k)); return true, nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestReopenKeepsCommittedWrites(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		if im.reopen == nil {
			t.Skip("memory does not outlive Close")
		}
		s := im.open(t)
		put(t, s, "a", "1", "b", "2")
		s.Update(func(tx Tx) error { tx.Put([]byte("c"), []byte("3")); return errors.New("rolled back") })
		s = im.reopen(t, s)
		if got := scanKeys2(t, s, ""); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("after reopen: %q, want [a b]", got)
		}
	})
}

func TestClosedStoreRefusesTransactions(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		put(t, s, "a", "1")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.View(func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Errorf("View after Close = %v", err)
		}
		if err := s.Update(func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Errorf("Update after Close = %v", err)
		}
	})
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
// stores and a sorted map, and compares full scans: the treap's rotations
// and path copying are where ordering bugs would hide. The third store has
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

// TestGoexitInUpdateRollsBackAndKeepsTheStoreUsable checks what t.Fatal (or
// runtime.Goexit) inside an Update's fn does: the caller's goroutine exits,
// its writes are undone, and other writers are not stuck behind it.
func TestGoexitInUpdateRollsBackAndKeepsTheStoreUsable(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		s := im.open(t)
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			s.Update(func(tx Tx) error {
				tx.Put([]byte("k"), []byte("from an exited goroutine"))
				runtime.Goexit()
				return nil
			})
			t.Error("Update returned after its fn called runtime.Goexit")
		}()
		<-exited
		put(t, s, "after", "ok")
		if _, ok := get(t, s, "k"); ok {
			t.Error("the exited Update's write was committed")
		}
	})
}
