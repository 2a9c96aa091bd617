package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentUpdatesAreSerializableAcrossCheckpoints runs transfers
// between a few accounts from several goroutines at once, while small log
// segments make checkpoints replace the shared bbolt read transaction (and
// its remembered lookups) all along. A transfer that empties an account
// deletes it, so deletes hit keys in every layer (active, frozen, bbolt);
// some transfers fail or panic after writing, and must leave nothing. Views
// and read-only Updates read every account with point lookups, and the
// total must always be the same: a lookup answered from a bbolt snapshot
// other than the one paired with the overlay, a lost update, or a failed
// fn's surviving write all break it. A counter that every committed
// transfer increments must end equal to the transfers that returned nil,
// also after a reopen.
func TestConcurrentUpdatesAreSerializableAcrossCheckpoints(t *testing.T) {
	checkpoints := smallSegments(t)
	s := openDisk(t)
	const accounts, each, writers, transfers, readers = 12, 100, 4, 150, 2
	const total = accounts * each
	acct := func(i int) []byte { return fmt.Appendf(nil, "acct/%02d", i) }
	balance := func(tx Tx, i int) (int, error) {
		v, err := tx.Get(acct(i))
		if err != nil || v == nil {
			return 0, err
		}
		return strconv.Atoi(string(v))
	}
	sum := func(tx Tx) error {
		n := 0
		for i := range accounts {
			b, err := balance(tx, i)
			if err != nil {
				return err
			}
			n += b
		}
		if n != total {
			return fmt.Errorf("the accounts hold %d, not %d", n, total)
		}
		return nil
	}
	if err := s.Update(func(tx Tx) error {
		for i := range accounts {
			if err := tx.Put(acct(i), []byte(strconv.Itoa(each))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	errFailed := errors.New("failed on purpose")
	var committed atomic.Int64
	var done atomic.Bool
	var wg, rg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range transfers {
				from, to := rng.IntN(accounts), rng.IntN(accounts)
				fail := rng.IntN(8) // 0: fn fails, 1: fn panics
				wrote := false
				transfer := func(tx Tx) error {
					a, err := balance(tx, from)
					if err != nil {
						return err
					}
					b, err := balance(tx, to)
					if err != nil {
						return err
					}
					if from == to || a == 0 {
						return nil
					}
					amount := 1 + rng.IntN(a)
					if err := tx.Put(acct(to), []byte(strconv.Itoa(b+amount))); err != nil {
						return err
					}
					// A failing fn stops half way: what it wrote breaks
					// the total.
					switch fail {
					case 0:
						return errFailed
					case 1:
						panic(errFailed)
					}
					if amount == a {
						err = tx.Delete(acct(from))
					} else {
						err = tx.Put(acct(from), []byte(strconv.Itoa(a-amount)))
					}
					if err != nil {
						return err
					}
					c, err := tx.Get([]byte("count"))
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(c))
					wrote = true
					return tx.Put([]byte("count"), []byte(strconv.Itoa(n+1)))
				}
				err := func() (err error) {
					defer func() {
						if p := recover(); p != nil {
							if e, ok := p.(error); ok && errors.Is(e, errFailed) {
								err = e
								return
							}
							panic(p)
						}
					}()
					return s.Update(transfer)
				}()
				switch {
				case err == nil:
					if wrote {
						committed.Add(1)
					}
				case errors.Is(err, errFailed):
				default:
					errs <- err
					return
				}
			}
		}()
	}
	for range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for i := 0; !done.Load(); i++ {
				var err error
				if i%4 == 3 {
					err = s.Update(sum) // read-only, sees writes in flight
				} else {
					err = s.View(sum)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	check := func(s Store) string {
		var count string
		if err := s.View(func(tx Tx) error {
			c, err := tx.Get([]byte("count"))
			count = string(c)
			if err != nil {
				return err
			}
			return sum(tx)
		}); err != nil {
			t.Fatal(err)
		}
		return count
	}
	if checkpoints.Load() < 5 {
		t.Fatalf("only %d checkpoints ran", checkpoints.Load())
	}
	t.Logf("%d transfers committed across %d checkpoints", committed.Load(), checkpoints.Load())
	want := strconv.Itoa(int(committed.Load()))
	if got := check(s); got != want {
		t.Fatalf("count is %s, but %s transfers returned nil", got, want)
	}
	s = reopenDisk(t, s)
	if got := check(s); got != want {
		t.Fatalf("after reopen count is %s, but %s transfers returned nil", got, want)
	}
}

// TestCloseDuringUpdatesKeepsEveryAcknowledgedOne closes the store while
// Updates run on several goroutines, with small log segments and a short
// idle checkpoint so that freezes and checkpoints run around the Close:
// Close must wait for the running Updates, later ones must fail with
// ErrClosed, and every Update that returned nil must be there after a
// reopen.
func TestCloseDuringUpdatesKeepsEveryAcknowledgedOne(t *testing.T) {
	defer func(n int64, d time.Duration) { walSegmentSize, idleCheckpoint = n, d }(walSegmentSize, idleCheckpoint)
	walSegmentSize, idleCheckpoint = walHeaderSize+2<<10, time.Millisecond
	for round := range 5 {
		s := openDisk(t)
		const writers = 4
		var mu sync.Mutex
		var acked []string
		var wg sync.WaitGroup
		started := make(chan struct{}, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					k := fmt.Sprintf("r%d/w%d/%05d", round, w, i)
					err := s.Update(func(tx Tx) error { return tx.Put([]byte(k), []byte(k)) })
					if i == 10 {
						started <- struct{}{}
					}
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked = append(acked, k)
					mu.Unlock()
				}
			}()
		}
		for range writers {
			<-started
		}
		s2 := reopenDisk(t, s)
		wg.Wait()
		if err := s2.View(func(tx Tx) error {
			for _, k := range acked {
				if v, err := tx.Get([]byte(k)); err != nil || string(v) != k {
					return fmt.Errorf("%s acknowledged, reads %q after reopen (%v)", k, v, err)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s2.Close()
	}
}
