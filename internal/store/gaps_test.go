package store

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestLookupsMissingTheFileRememberWhatLiesBetween fills the bbolt file
// with every other key of a range spanning many pages and then, from
// several goroutines, looks up every key of the range in random order, the
// missing ones too: a miss remembers the gap around its key, between the
// file's keys before and after it, and answers later misses in it. A gap
// that took in a key it is bounded by, or one too wide (a neighbour taken
// from the wrong page), would read a present key as absent. Deletes of
// present keys after that must still leave tombstones over the file's
// values, and deletes of missing ones nothing that hides a later put.
func TestLookupsMissingTheFileRememberWhatLiesBetween(t *testing.T) {
	s := openDisk(t)
	const n = 3000
	key := func(i int) []byte { return fmt.Appendf(nil, "k/%05d", i) }
	if err := s.Update(func(tx Tx) error {
		for i := 0; i < n; i += 2 {
			if err := tx.Put(key(i), key(i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s = reopenDisk(t, s) // Close checkpoints: the keys are in the file, the overlay empty
	ds := s.(*diskStore)

	check := func(tx Tx, i int) error {
		v, err := tx.Get(key(i))
		switch {
		case err != nil:
			return err
		case i%2 == 0 && string(v) != string(key(i)):
			return fmt.Errorf("Get(%s) = %q, want its value", key(i), v)
		case i%2 == 1 && v != nil:
			return fmt.Errorf("Get(%s) = %q, want nothing", key(i), v)
		}
		return nil
	}
	// Below the first key and past the last one too.
	if err := s.View(func(tx Tx) error {
		for _, k := range []string{"a", "k/", "k/99999", "z"} {
			if v, err := tx.Get([]byte(k)); err != nil || v != nil {
				return fmt.Errorf("Get(%s) = %q, %v; want nothing", k, v, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			order := rng.Perm(n)
			errs <- s.View(func(tx Tx) error {
				for _, i := range order {
					if err := check(tx, i); err != nil {
						return err
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ds.snap.RLock()
	rt := ds.shared
	ds.snap.RUnlock()
	rt.mu.RLock()
	gaps := len(rt.gaps)
	rt.mu.RUnlock()
	if gaps == 0 {
		t.Fatal("no gap remembered: every miss sought the file")
	}

	// Deletes through gaps and next to them.
	if err := s.Update(func(tx Tx) error {
		for i := 100; i < 200; i++ {
			if err := tx.Delete(key(i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx Tx) error { return tx.Put(key(151), []byte("new")) }); err != nil {
		t.Fatal(err)
	}
	verify := func(s Store) {
		t.Helper()
		if err := s.View(func(tx Tx) error {
			for i := range n {
				v, err := tx.Get(key(i))
				if err != nil {
					return err
				}
				want := ""
				switch {
				case i == 151:
					want = "new"
				case i >= 100 && i < 200:
				case i%2 == 0:
					want = string(key(i))
				}
				if string(v) != want || (want == "") != (v == nil) {
					return fmt.Errorf("Get(%s) = %q, want %q", key(i), v, want)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	verify(s)
	verify(reopenDisk(t, s))
}
