// Package storetest is the contract every store.Store implementation must
// meet, written once as tests (in the spirit of testing/fstest): a new backend
// (PostgreSQL, for several wharf replicas) starts by passing Run. It checks
// what store.go promises — Get/Put/Delete, an Update seeing its own writes,
// the key and value limits, read-only Views, scan order, bounds and early
// stops in both directions, errors and panics applying nothing, snapshots,
// serializable concurrent Updates, Close, and (when the backend outlives
// Close) durability across a reopen.
package storetest

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/store"
)

// Impl opens stores of one implementation.
type Impl struct {
	// Open returns a new, empty store that lives until t ends.
	Open func(t testing.TB) store.Store
	// Reopen closes s and opens it again from the same place; nil for a
	// backend whose contents do not outlive Close (memory).
	Reopen func(t testing.TB, s store.Store) store.Store
}

// Run runs the whole contract against im, each rule as a subtest.
func Run(t *testing.T, im Impl) {
	t.Run("GetPutDelete", func(t *testing.T) { testGetPutDelete(t, im) })
	t.Run("UpdateSeesItsOwnWrites", func(t *testing.T) { testUpdateSeesItsOwnWrites(t, im) })
	t.Run("PutRejectsBadKeysAndReadOnlyWrites", func(t *testing.T) { testPutRejectsBadKeysAndReadOnlyWrites(t, im) })
	t.Run("ScanOrderBoundsAndStart", func(t *testing.T) { testScanOrderBoundsAndStart(t, im) })
	t.Run("ScanReturnsCallbackError", func(t *testing.T) { testScanReturnsCallbackError(t, im) })
	t.Run("UpdateErrorAppliesNothing", func(t *testing.T) { testUpdateErrorAppliesNothing(t, im) })
	t.Run("ViewIsASnapshot", func(t *testing.T) { testViewIsASnapshot(t, im) })
	t.Run("ConcurrentUpdatesAreSerializable", func(t *testing.T) { testConcurrentUpdatesAreSerializable(t, im) })
	if im.Reopen != nil {
		t.Run("ReopenKeepsCommittedWrites", func(t *testing.T) { testReopenKeepsCommittedWrites(t, im) })
	}
	t.Run("ClosedStoreRefusesTransactions", func(t *testing.T) { testClosedStoreRefusesTransactions(t, im) })
	t.Run("GoexitInUpdateRollsBackAndKeepsTheStoreUsable", func(t *testing.T) { testGoexitInUpdateRollsBackAndKeepsTheStoreUsable(t, im) })
}

func put(t testing.TB, s store.Store, kvs ...string) {
	t.Helper()
	err := s.Update(func(tx store.Tx) error {
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

func get(t testing.TB, s store.Store, key string) (val string, ok bool) {
	t.Helper()
	err := s.View(func(tx store.Tx) error {
		v, err := tx.Get([]byte(key))
		val, ok = string(v), v != nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return val, ok
}

// scanAll returns every key under prefix, in order.
func scanAll(t *testing.T, s store.Store, prefix string) (keys []string) {
	t.Helper()
	err := s.View(func(tx store.Tx) error {
		return tx.Scan([]byte(prefix), nil, func(k, v []byte) (bool, error) { keys = append(keys, string(k)); return true, nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func testGetPutDelete(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
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
		err := s.Update(func(tx store.Tx) error {
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
	}()
}

func testUpdateSeesItsOwnWrites(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		put(t, s, "k", "old", "gone", "x")
		err := s.Update(func(tx store.Tx) error {
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
	}()
}

func testPutRejectsBadKeysAndReadOnlyWrites(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		for _, c := range []struct {
			name       string
			key, value []byte
			want       error
		}{
			{"empty key", nil, []byte("v"), store.ErrKeyEmpty},
			{"key too large", make([]byte, store.MaxKeySize+1), nil, store.ErrKeyTooLarge},
			{"value too large", []byte("k"), make([]byte, store.MaxValueSize+1), store.ErrValueTooLarge},
		} {
			err := s.Update(func(tx store.Tx) error { return tx.Put(c.key, c.value) })
			if !errors.Is(err, c.want) {
				t.Errorf("%s: Put = %v, want %v", c.name, err, c.want)
			}
		}
		put(t, s, string(make([]byte, store.MaxKeySize)), "largest key is fine")
		err := s.View(func(tx store.Tx) error {
			if err := tx.Put([]byte("k"), []byte("v")); !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("Put in View = %v, want store.ErrReadOnly", err)
			}
			if err := tx.Delete([]byte("k")); !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("Delete in View = %v, want store.ErrReadOnly", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}()
}

// scanKeys collects the keys a scan visits, stopping after limit (0: all).
func scanKeys(t *testing.T, s store.Store, reverse bool, prefix, start string, limit int) []string {
	t.Helper()
	var keys []string
	var startKey []byte
	if start != "" {
		startKey = []byte(start)
	}
	err := s.View(func(tx store.Tx) error {
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

func testScanOrderBoundsAndStart(t *testing.T, im Impl) {
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
	func() {
		s := im.Open(t)
		for _, k := range keys {
			put(t, s, k, "v:"+k)
		}
		for _, c := range cases {
			if got := scanKeys(t, s, c.reverse, c.prefix, c.start, c.limit); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %q, want %q", c.name, got, c.want)
			}
		}
	}()
}

func testScanReturnsCallbackError(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		put(t, s, "a", "1", "b", "2")
		boom := errors.New("boom")
		for _, reverse := range []bool{false, true} {
			calls := 0
			err := s.View(func(tx store.Tx) error {
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
	}()
}

func testUpdateErrorAppliesNothing(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		put(t, s, "keep", "1", "doomed", "1")
		boom := errors.New("boom")
		err := s.Update(func(tx store.Tx) error {
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
			s.Update(func(tx store.Tx) error {
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
	}()
}

func testViewIsASnapshot(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		put(t, s, "k", "before")
		inView, updated := make(chan struct{}), make(chan error)
		go func() {
			<-inView
			updated <- s.Update(func(tx store.Tx) error { return tx.Put([]byte("k"), []byte("after")) })
		}()
		err := s.View(func(tx store.Tx) error {
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
	}()
}

func testConcurrentUpdatesAreSerializable(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
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
					err := s.Update(func(tx store.Tx) error {
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
					err = s.Update(func(tx store.Tx) error {
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
		if n := len(scanAll(t, s, "w/")); n != writers*increments {
			t.Errorf("%d keys written, want %d", n, writers*increments)
		}
	}()
}

func testReopenKeepsCommittedWrites(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		put(t, s, "a", "1", "b", "2")
		s.Update(func(tx store.Tx) error { tx.Put([]byte("c"), []byte("3")); return errors.New("rolled back") })
		s = im.Reopen(t, s)
		if got := scanAll(t, s, ""); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("after reopen: %q, want [a b]", got)
		}
	}()
}

func testClosedStoreRefusesTransactions(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		put(t, s, "a", "1")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.View(func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
			t.Errorf("View after Close = %v", err)
		}
		if err := s.Update(func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Update after Close = %v", err)
		}
	}()
}

// testGoexitInUpdateRollsBackAndKeepsTheStoreUsable checks what t.Fatal (or
// runtime.Goexit) inside an Update's fn does: the caller's goroutine exits,
// its writes are undone, and other writers are not stuck behind it.
func testGoexitInUpdateRollsBackAndKeepsTheStoreUsable(t *testing.T, im Impl) {
	func() {
		s := im.Open(t)
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			s.Update(func(tx store.Tx) error {
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
	}()
}
