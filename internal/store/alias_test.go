package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRolledBackUpdatesNeverWriteWhatOthersRead alternates Updates that
// write to copies of the same leaves and roll back with Updates that write
// to them again and commit, while Views read every committed version. The
// copies share their originals' data arrays and append past their ends, so
// a rolled-back Update's appends must never land where a committed
// version's pairs are (Views would see its values), and an Update must
// never write over bytes a View, or an earlier Get of its own, holds.
// Under -race it also shows readers and the writer touch different bytes.
func TestRolledBackUpdatesNeverWriteWhatOthersRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(testing.TB) Store
	}{
		{"memory", func(testing.TB) Store { return OpenMemory() }},
		{"disk", openDisk},
		// Small log segments: the overlay is frozen and checkpointed
		// (tombstones and all) over and over while Views read it.
		{"disk checkpointing", func(t testing.TB) Store {
			old := walSegmentSize
			walSegmentSize = walHeaderSize + 4<<10
			t.Cleanup(func() { walSegmentSize = old })
			return openDisk(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			defer s.Close()
			// Enough keys for interior nodes, whose copies share their
			// separators too.
			const keys, rounds, readers = 100, 80, 3
			key := func(i int) []byte { return fmt.Appendf(nil, "k%03d", i) }
			val := func(r int) []byte { return fmt.Appendf(nil, "%06d", r) }
			if err := s.Update(func(tx Tx) error {
				for i := range keys {
					if err := tx.Put(key(i), val(0)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var versions []*node // the memory store's committed roots
			ms, _ := s.(*memStore)

			var done atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, readers)
			for range readers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !done.Load() {
						err := s.View(func(tx Tx) error {
							held, err := tx.Get(key(keys / 2))
							if err != nil {
								return err
							}
							want := bytes.Clone(held)
							n := 0
							err = tx.Scan([]byte("k"), nil, func(k, v []byte) (bool, error) {
								n++
								if !bytes.Equal(v, want) {
									return false, fmt.Errorf("one View read %s=%q and k%03d=%q: every committed Update writes every key alike", k, v, keys/2, want)
								}
								return true, nil
							})
							if err == nil && n != keys {
								err = fmt.Errorf("a View read %d keys, want %d", n, keys)
							}
							if err == nil && !bytes.Equal(held, want) {
								err = fmt.Errorf("a value Get returned changed within its View: %q, was %q", held, want)
							}
							return err
						})
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}

			errRolledBack := errors.New("rolled back")
			for r := 1; r <= rounds && len(errs) == 0; r++ {
				// A: writes to copies of every leaf, one key twice (its first
				// value held), deletes and puts back another, then fails.
				err := s.Update(func(tx Tx) error {
					for i := range keys {
						if err := tx.Put(key(i), []byte("AAAAAA")); err != nil {
							return err
						}
					}
					if err := tx.Delete(key(3)); err != nil {
						return err
					}
					if err := tx.Put(key(3), []byte("AAAAAA")); err != nil {
						return err
					}
					return errRolledBack
				})
				if !errors.Is(err, errRolledBack) {
					t.Fatalf("round %d: the failing Update returned %v", r, err)
				}
				// B: writes to copies of the same leaves and commits.
				err = s.Update(func(tx Tx) error {
					held, err := tx.Get(key(7))
					if err != nil {
						return err
					}
					want := bytes.Clone(held)
					for i := range keys {
						if err := tx.Put(key(i), val(r)); err != nil {
							return err
						}
					}
					if err := tx.Delete(key(3)); err != nil {
						return err
					}
					if err := tx.Put(key(3), val(r)); err != nil {
						return err
					}
					if !bytes.Equal(held, want) || !bytes.Equal(want, val(r-1)) {
						return fmt.Errorf("round %d: a value Get returned changed within its Update: %q, was %q, want %q", r, held, want, val(r-1))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if ms != nil && r%10 == 0 {
					versions = append(versions, ms.root.Load())
				}
			}
			done.Store(true)
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			// Every version kept still reads as it was committed.
			for i, root := range versions {
				want := val((i + 1) * 10)
				n := 0
				for c := newCursor(root, nil, false, nil); c.key() != nil; c.next() {
					n++
					if !bytes.Equal(c.val(), want) {
						t.Fatalf("version %d, later: %s=%q, want %q", i, c.key(), c.val(), want)
					}
				}
				if n != keys {
					t.Fatalf("version %d, later: %d keys, want %d", i, n, keys)
				}
			}
			if err := s.View(func(tx Tx) error {
				v, err := tx.Get(key(3))
				if err == nil && !bytes.Equal(v, val(rounds)) {
					err = fmt.Errorf("k003=%q after the last round, want %q", v, val(rounds))
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
