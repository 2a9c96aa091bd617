package store

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// teach holds the log writer in its first write while k-1 more Updates
// queue, so that it writes k-1 Updates at once and expects as many from
// then on.
func teach(t *testing.T, s Store, k int) {
	t.Helper()
	hold, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	logWriteHook = func() { once.Do(func() { close(held); <-hold }) }
	defer func() { logWriteHook = func() {} }()
	errs := make(chan error, k)
	go func() { errs <- s.Update(func(tx Tx) error { return tx.Put([]byte("teach/0"), []byte("v")) }) }()
	<-held
	for i := 1; i < k; i++ {
		go func() {
			errs <- s.Update(func(tx Tx) error { return tx.Put(fmt.Appendf(nil, "teach/%d", i), []byte("v")) })
		}()
	}
	// Release the writer once all k-1 are queued for it.
	for s.(*diskStore).queued.Load() < int64(k-1) {
		runtime.Gosched()
	}
	close(hold)
	for range k {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestLogWriterWaitsForTheUpdatesItExpects: once the log writer has written
// three Updates in one batch, it holds a lone Update until two more have
// come, is woken by the last of them (not by the clock), and writes the
// three with one sync; all are acknowledged and in the log after a crash.
func TestLogWriterWaitsForTheUpdatesItExpects(t *testing.T) {
	// Long enough that only the count, never the clock, ends the wait here
	// (and no idle checkpoint's freeze, which ends it too).
	defer func(d, i time.Duration) { lingerMax, idleCheckpoint = d, i }(lingerMax, idleCheckpoint)
	lingerMax, idleCheckpoint = 10*time.Second, time.Minute
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const k = 4
	teach(t, s, k)
	if e := s.(*diskStore).expect; e != k-1 {
		t.Fatalf("the writer expects %d Updates after a batch of %d", e, k-1)
	}
	want := s.(*diskStore).expect

	waiting := make(chan struct{}, 1)
	var ranOut bool
	lingerHook = func(event string) {
		switch event {
		case "wait":
			waiting <- struct{}{}
		case "ran out":
			ranOut = true // the log writer is one goroutine
		}
	}
	var writes int
	logWriteHook = func() { writes++ } // the log writer is one goroutine
	defer func() { lingerHook, logWriteHook = func(string) {}, func() {} }()

	errs := make(chan error, want)
	put := func(i int) {
		ran := make(chan struct{})
		go func() {
			errs <- s.Update(func(tx Tx) error {
				close(ran)
				return tx.Put(fmt.Appendf(nil, "k%d", i), []byte("v"))
			})
		}()
		<-ran
	}
	put(0)
	select {
	case <-waiting: // the writer holds the first Update, waiting for more
	case err := <-errs:
		t.Fatalf("a lone Update was written (%v) without waiting for the %d expected", err, want)
	}
	for i := 1; i < want; i++ {
		select {
		case err := <-errs:
			t.Fatalf("an Update was acknowledged (%v) while the writer waited for %d", err, want)
		default:
		}
		put(i)
	}
	for range want {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if writes != 1 {
		t.Errorf("%d log writes for %d Updates the writer waited for, want 1", writes, want)
	}
	if ranOut {
		t.Error("the wait ran out: the last Update did not wake the writer")
	}
	c, err := Open(copyStore(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range want {
		if _, ok := get(t, c, fmt.Sprintf("k%d", i)); !ok {
			t.Errorf("k%d lost after a crash", i)
		}
	}
}

// TestLogWriterStopsExpectingWritersThatLeft: when the Updates the writer
// waits for do not come within lingerMax, it writes what it has and
// expects no more than that from then on.
func TestLogWriterStopsExpectingWritersThatLeft(t *testing.T) {
	defer func(d time.Duration) { lingerMax = d }(lingerMax)
	lingerMax = time.Millisecond
	s := openDisk(t)
	teach(t, s, 4)
	if e := s.(*diskStore).expect; e != 3 {
		t.Fatalf("the writer expects %d Updates after a batch of 3", e)
	}
	put(t, s, "alone", "v")
	// Read after the acknowledgement, which follows the writer's update.
	if e := s.(*diskStore).expect; e != 1 {
		t.Errorf("after a lone Update the writer expects %d, want 1", e)
	}
	if v, ok := get(t, s, "alone"); !ok || v != "v" {
		t.Errorf("alone = %q, %v", v, ok)
	}
}
