package store

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// TestViewsShareAReadTransactionAcrossCheckpoints runs Views on many
// goroutines while Updates fill small log segments, so that checkpoints
// retire and replace the shared bbolt read transaction all along. Every
// Update keeps an invariant across keys in different layers (a/i and b/i
// together, the oldest pair deleted, n their count), which a View pairing a
// bbolt file with an overlay from another checkpoint would break. Under
// -race it also checks that sharing one read transaction is race-free.
func TestViewsShareAReadTransactionAcrossCheckpoints(t *testing.T) {
	checkpoints := smallSegments(t)
	s := openDisk(t)
	ds := s.(*diskStore)
	const keep, updates, readers = 20, 150, 4

	var done atomic.Bool
	var views, shared atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				err := s.View(func(tx Tx) error {
					views.Add(1)
					ds.snap.RLock()
					if ds.shared != nil && ds.shared.refs.Load() > 1 {
						shared.Add(1)
					}
					ds.snap.RUnlock()
					v, err := tx.Get([]byte("n"))
					if err != nil || v == nil {
						return err
					}
					n, _ := strconv.Atoi(string(v))
					var as, bs []string
					collect := func(to *[]string) func(k, v []byte) (bool, error) {
						return func(k, v []byte) (bool, error) {
							*to = append(*to, string(k[2:])+"="+string(v))
							return true, nil
						}
					}
					if err := tx.Scan([]byte("a/"), nil, collect(&as)); err != nil {
						return err
					}
					if err := tx.ScanReverse([]byte("b/"), nil, collect(&bs)); err != nil {
						return err
					}
					if len(as) != n || len(bs) != n {
						return fmt.Errorf("n is %d, but %d a/ keys and %d b/ keys", n, len(as), len(bs))
					}
					for i := range as {
						if as[i] != bs[n-1-i] {
							return fmt.Errorf("a/%s but b/%s", as[i], bs[n-1-i])
						}
						k := "a/" + as[i][:6]
						if v, err := tx.Get([]byte(k)); err != nil || v == nil {
							return fmt.Errorf("scanned %s, Get finds %q, %v", k, v, err)
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	pad := make([]byte, 100)
	for i := range updates {
		err := s.Update(func(tx Tx) error {
			val := append(fmt.Appendf(nil, "%d:", i), pad...)
			for _, p := range []string{"a/", "b/"} {
				if err := tx.Put(fmt.Appendf(nil, "%s%06d", p, i), val); err != nil {
					return err
				}
				if i >= keep {
					if err := tx.Delete(fmt.Appendf(nil, "%s%06d", p, i-keep)); err != nil {
						return err
					}
				}
			}
			return tx.Put([]byte("n"), []byte(strconv.Itoa(min(i+1, keep))))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()
	// Checkpoints ran (every ~8 Updates) to replace the shared transaction,
	// and Views used it.
	if views.Load() == 0 || shared.Load() == 0 || checkpoints.Load() < 5 {
		t.Fatalf("%d Views, %d of them on the shared read transaction, across %d checkpoints", views.Load(), shared.Load(), checkpoints.Load())
	}
	t.Logf("%d Views, %d on the shared read transaction, across %d checkpoints", views.Load(), shared.Load(), checkpoints.Load())
	s = reopenDisk(t, s)
	if v, _ := get(t, s, "n"); v != strconv.Itoa(keep) {
		t.Fatalf("after reopen n = %q", v)
	}
}

// smallSegments makes log segments 2 KiB for the rest of the test, so that
// a checkpoint runs every few Updates, and counts the checkpoints applied.
func smallSegments(t *testing.T) *atomic.Int64 {
	n, h := walSegmentSize, checkpointHook
	t.Cleanup(func() { walSegmentSize, checkpointHook = n, h })
	walSegmentSize = walHeaderSize + 2<<10
	var checkpoints atomic.Int64
	checkpointHook = func(stage string) {
		if stage == "applied" {
			checkpoints.Add(1)
		}
	}
	return &checkpoints
}
