package store

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// copyStore copies the store's files as they are now, as a crash would
// leave them for the next Open (SIGKILL keeps the page cache).
func copyStore(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	for _, name := range append([]string{fileName}, walFiles[:]...) {
		src, err := os.Open(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		dst.Close()
	}
	return to
}

// TestTornLogTailIsDiscarded writes Updates, copies the store mid-life
// (no Close: the log holds them), damages the last log record in the copy
// the ways an interrupted write can, and opens the copy: every earlier
// Update is there, and the last one is there whole or not at all.
func TestTornLogTailIsDiscarded(t *testing.T) {
	const n = 20
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ds := s.(*diskStore)
	var last, end int64 // the last record's offsets
	var gen uint64
	for i := 0; i < n; i++ {
		last = ds.seg.size
		put(t, s, fmt.Sprintf("k%02d", i), fmt.Sprint(i), fmt.Sprintf("k%02d/pair", i), "p")
		end, gen = ds.seg.size, ds.seg.gen
	}
	if last == end {
		t.Fatal("the last Update wrote no log record")
	}
	seg := filepath.Base(ds.seg.f.Name()) // the segment being appended to
	// stale is a well-formed record of the segment's previous generation,
	// as a recycled segment holds after its tail.
	stale := appendOp(make([]byte, walRecordHead), opPut, []byte("ghost"), []byte("boo"))
	sealRecord(stale, gen-1)

	cases := []struct {
		name     string
		damage   func(f *os.File)
		lastKept bool
	}{
		{"intact", func(f *os.File) {}, true},
		{"second half of the record never written", func(f *os.File) {
			mid := last + (end-last)/2
			f.WriteAt(make([]byte, end-mid), mid)
		}, false},
		{"only the head written", func(f *os.File) {
			f.WriteAt(make([]byte, end-last-walRecordHead), last+walRecordHead)
		}, false},
		{"last byte corrupt", func(f *os.File) {
			b := []byte{0}
			f.ReadAt(b, end-1)
			b[0] ^= 0x55
			f.WriteAt(b, end-1)
		}, false},
		{"length beyond the file", func(f *os.File) {
			f.WriteAt([]byte{0xff, 0xff, 0xff, 0x7f}, last)
		}, false},
		{"file cut inside the record", func(f *os.File) {
			f.Truncate(end - 3)
		}, false},
		{"stale record of an older generation after the tail", func(f *os.File) {
			f.WriteAt(stale, end)
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			crashed := copyStore(t, dir)
			f, err := os.OpenFile(filepath.Join(crashed, seg), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			c.damage(f)
			f.Close()
			s, err := Open(crashed)
			if err != nil {
				t.Fatalf("open after a torn tail: %v", err)
			}
			diskDirs.Store(s, crashed)
			t.Cleanup(func() { s.Close() })
			for i := 0; i < n-1; i++ {
				if v, _ := get(t, s, fmt.Sprintf("k%02d", i)); v != fmt.Sprint(i) {
					t.Errorf("k%02d = %q, want %d", i, v, i)
				}
			}
			v, ok := get(t, s, fmt.Sprintf("k%02d", n-1))
			_, pairOK := get(t, s, fmt.Sprintf("k%02d/pair", n-1))
			if ok != c.lastKept || pairOK != c.lastKept || (ok && v != fmt.Sprint(n-1)) {
				t.Errorf("last Update: value %q %v, pair %v; want present=%v", v, ok, pairOK, c.lastKept)
			}
			if _, ok := get(t, s, "ghost"); ok {
				t.Error("a record of an older generation was replayed")
			}
			// The store takes writes after recovery, and keeps them.
			put(t, s, "after", "ok")
			s = reopenDisk(t, s)
			if v, _ := get(t, s, "after"); v != "ok" {
				t.Errorf("after = %q following a reopen", v)
			}
			if v, _ := get(t, s, "k00"); v != "0" {
				t.Errorf("k00 = %q following a second reopen", v)
			}
		})
	}
}

// FuzzReplay feeds arbitrary bytes to the log reader as a segment's records:
// it must stop or fail cleanly, never panic, and hand out only keys a Put
// accepts.
func FuzzReplay(f *testing.F) {
	rec := appendOp(make([]byte, walRecordHead), opPut, []byte("k"), []byte("v"))
	rec = appendOp(rec, opDelete, []byte("gone"), nil)
	sealRecord(rec, 7)
	f.Add(rec)
	f.Add(append(bytes.Clone(rec), rec...))
	f.Add(rec[:len(rec)-1])
	f.Add([]byte{})
	bad := appendOp(make([]byte, walRecordHead), 9, []byte("k"), nil)
	sealRecord(bad, 7)
	f.Add(bad)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "seg")
		seg := &segment{}
		fh, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		seg.f = fh
		if err := seg.reset(7); err != nil {
			t.Fatal(err)
		}
		if _, err := fh.WriteAt(data, walHeaderSize); err != nil {
			t.Fatal(err)
		}
		seg.replay(func(kind byte, key, val []byte) error {
			if len(key) == 0 || (kind == opDelete && val != nil) {
				t.Errorf("replay handed out op %d with key %q, value %q", kind, key, val)
			}
			return nil
		})
	})
}

// TestReadsSeeEveryLayerDuringACheckpoint holds a checkpoint at its start,
// so that the writes before it sit in the frozen overlay, not yet in bbolt,
// and checks that Gets and scans see them, and see later writes and deletes
// over them, then again once the checkpoint is done and after a reopen.
func TestReadsSeeEveryLayerDuringACheckpoint(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	defer func(n int64, h func(string)) { walSegmentSize, checkpointHook = n, h }(walSegmentSize, checkpointHook)
	walSegmentSize = walHeaderSize + 2048
	checkpointHook = func(stage string) {
		if stage == "begin" {
			once.Do(func() { close(entered); <-release })
		}
	}
	s := openDisk(t)
	model := OpenMemory()
	both := func(fn func(tx Tx) error) {
		t.Helper()
		for _, st := range []Store{s, model} {
			if err := st.Update(fn); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Keys in bbolt already, then keys that will be frozen.
	both(func(tx Tx) error { return tx.Put([]byte("base/1"), []byte("b")) })
	s = reopenDisk(t, s)
	for i := 0; ; i++ {
		both(func(tx Tx) error { return tx.Put(fmt.Appendf(nil, "k%03d", i), []byte(strings.Repeat("v", 100))) })
		select {
		case <-entered:
		default:
			if i > 1000 {
				t.Fatal("no checkpoint started")
			}
			continue
		}
		break
	}
	// Over the frozen layer: delete one frozen key and one bbolt key,
	// overwrite another, add new ones.
	both(func(tx Tx) error {
		tx.Delete([]byte("k001"))
		tx.Delete([]byte("base/1"))
		tx.Put([]byte("k002"), []byte("new"))
		return tx.Put([]byte("k0015"), []byte("between"))
	})
	check := func(when string) {
		t.Helper()
		for _, k := range []string{"base/1", "k000", "k001", "k0015", "k002", "k003", "nope"} {
			want, wantOK := get(t, model, k)
			if got, ok := get(t, s, k); got != want || ok != wantOK {
				t.Errorf("%s: Get(%s) = %q %v, want %q %v", when, k, got, ok, want, wantOK)
			}
		}
		for _, reverse := range []bool{false, true} {
			for _, prefix := range []string{"", "k00", "base"} {
				got, want := scanPairs(s, reverse, prefix, "", 1000), scanPairs(model, reverse, prefix, "", 1000)
				if !slices.Equal(got, want) {
					t.Errorf("%s: scan(%q, reverse %v) has %d pairs, want %d", when, prefix, reverse, len(got), len(want))
				}
			}
		}
	}
	ds := s.(*diskStore)
	ds.snap.RLock()
	frozen := ds.layers.frozen
	ds.snap.RUnlock()
	if frozen == nil {
		t.Fatal("no frozen layer while the checkpoint is held")
	}
	check("checkpoint held")
	close(release)
	s = reopenDisk(t, s) // Close waits for the checkpoint
	check("after the checkpoint and a reopen")
}

// TestQuietStoreCheckpoints checks that a store with no Updates for a while
// moves its overlay into bbolt, so that its memory goes back.
func TestQuietStoreCheckpoints(t *testing.T) {
	defer func(d time.Duration) { idleCheckpoint = d }(idleCheckpoint)
	idleCheckpoint = time.Millisecond
	s := openDisk(t)
	put(t, s, "k", "v")
	ds := s.(*diskStore)
	overlay := func() (empty bool) {
		ds.snap.RLock()
		defer ds.snap.RUnlock()
		return ds.layers.active == nil && ds.layers.frozen == nil
	}
	for deadline := time.Now().Add(10 * time.Second); !overlay(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the overlay still holds writes long after the last Update")
		}
	}
	if v, _ := get(t, s, "k"); v != "v" {
		t.Errorf("k = %q after the checkpoint", v)
	}
}

// TestGroupsQueuedDuringAWriteShareTheNextOne holds the log writer inside
// its first write while more Updates arrive, each as its own caller: every
// group that queued meanwhile is written and synced by the one write that
// follows, all are acknowledged, and all are in the log after a crash.
func TestGroupsQueuedDuringAWriteShareTheNextOne(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold, held := make(chan struct{}), make(chan struct{})
	var writes int
	var once sync.Once
	logWriteHook = func() {
		writes++ // the log writer is one goroutine
		once.Do(func() { close(held); <-hold })
	}
	defer func() { logWriteHook = func() {} }()

	first := make(chan error, 1)
	go func() { first <- s.Update(func(tx Tx) error { return tx.Put([]byte("first"), []byte("1")) }) }()
	<-held // the first group's record is about to be written
	const n = 15
	var fns sync.WaitGroup
	fns.Add(n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- s.Update(func(tx Tx) error {
				defer fns.Done()
				return tx.Put(fmt.Appendf(nil, "k%02d", i), []byte("v"))
			})
		}()
	}
	// The committer takes groups in turn and queues each for the log
	// writer before taking the next: an Update begun after the n fns ran
	// is in a later group, so once its fn runs, theirs are all queued.
	fns.Wait()
	ran := make(chan struct{})
	last := make(chan error, 1)
	go func() {
		last <- s.Update(func(tx Tx) error { close(ran); return tx.Put([]byte("last"), []byte("1")) })
	}()
	<-ran
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-last; err != nil {
		t.Fatal(err)
	}
	// The first write, one for the n, and one for "last" unless it joined them.
	if writes > 3 {
		t.Errorf("%d log writes for %d Updates queued during the first: want at most 3", writes, n+2)
	}
	crashed := copyStore(t, dir)
	c, err := Open(crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, k := range []string{"first", "last", "k00", fmt.Sprintf("k%02d", n-1)} {
		if _, ok := get(t, c, k); !ok {
			t.Errorf("%s lost after a crash", k)
		}
	}
	var keys int
	c.View(func(tx Tx) error {
		return tx.Scan([]byte("k"), nil, func(k, v []byte) (bool, error) { keys++; return true, nil })
	})
	if keys != n {
		t.Errorf("%d of %d Updates in the log after a crash", keys, n)
	}
}

// TestReadOnlyUpdateWaitsForWhatItRead: an Update that writes nothing but
// read a write whose record is still being written returns only once that
// write is on disk (a View then sees it), as an Update that wrote would.
func TestReadOnlyUpdateWaitsForWhatItRead(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	logWriteHook = func() { once.Do(func() { close(held); <-hold }) }
	defer func() { logWriteHook = func() {} }()

	first := make(chan error, 1)
	go func() { first <- s.Update(func(tx Tx) error { return tx.Put([]byte("k"), []byte("v")) }) }()
	<-held
	read := make(chan struct{})
	seen := make(chan string, 1)
	go func() {
		var v []byte
		err := s.Update(func(tx Tx) error {
			defer close(read)
			got, err := tx.Get([]byte("k"))
			v = bytes.Clone(got)
			return err
		})
		if err != nil || string(v) != "v" {
			seen <- fmt.Sprintf("Update: %v, read %q", err, v)
			return
		}
		// Returned nil after reading k: k must be durable, so visible.
		s.View(func(tx Tx) error {
			got, err := tx.Get([]byte("k"))
			if err != nil {
				seen <- err.Error()
			} else {
				seen <- string(got)
			}
			return nil
		})
	}()
	<-read
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "v" {
		t.Errorf("after the read-only Update returned, a View read k = %q, want v", got)
	}
}

// TestDirectWritesKeepEarlierRecordsOfTheirBlock: records written one after
// another share blocks, and a direct write rewrites the whole block, so
// each must carry the block's earlier records — from the tail kept after
// the previous write, or read back when that is unknown (as after a
// degraded Open) — and one crossing a block boundary must arrive whole.
// Replay then finds every record in order. The same holds through the page
// cache, the path of a file system that refuses direct writes.
func TestDirectWritesKeepEarlierRecordsOfTheirBlock(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), walFiles[0])
			seg, _, err := openSegment(path)
			if err != nil {
				t.Fatal(err)
			}
			defer seg.close()
			if direct && seg.direct == nil && runtime.GOOS == "linux" && os.Getenv("WHARF_TEST_NO_DIRECT_IO") == "" {
				t.Fatal("the temporary directory's file system refused O_DIRECT (set WHARF_TEST_NO_DIRECT_IO=1 where that is expected)")
			}
			if !direct && seg.direct != nil {
				seg.direct.Close()
				seg.direct = nil
			}
			if err := seg.reset(7); err != nil {
				t.Fatal(err)
			}
			var want []string
			write := func(key string, size int) {
				t.Helper()
				rec := appendOp(make([]byte, walRecordHead), opPut, []byte(key), bytes.Repeat([]byte{'v'}, size))
				sealRecord(rec, seg.gen)
				if err := seg.writeAt(rec, seg.size); err != nil {
					t.Fatal(err)
				}
				seg.size += int64(len(rec))
				want = append(want, key)
			}
			write("a", 100) // at the segment's first block
			write("b", 200) // same block: its start from the kept tail
			seg.tail, seg.wend, seg.stage = nil, -1, nil
			write("c", 300)  // same block, its start read back
			write("d", 5000) // across the next block boundary
			write("e", 10)
			seg.tail, seg.wend, seg.stage = nil, -1, nil
			write("f", 4096-(int(seg.size)%4096)-walRecordHead-4) // ends on a boundary
			write("g", 1)

			again, _, err := openSegment(path)
			if err != nil {
				t.Fatal(err)
			}
			defer again.close()
			var got []string
			n, end, err := again.replay(func(kind byte, key, val []byte) error {
				got = append(got, string(key))
				return nil
			})
			if err != nil || n != len(want) || end != seg.size || !slices.Equal(got, want) {
				t.Fatalf("replayed %d records %v ending at %d (%v), want %v ending at %d", n, got, end, err, want, seg.size)
			}
		})
	}
}

// TestDeletesLeaveTombstonesOnlyOverOlderValues checks that a key put and
// deleted while only the active overlay has it leaves nothing behind there
// (a queue's keys live that way, and their tombstones were what every scan
// of the queue walked), while a delete of a key the bbolt file has still
// hides it, before and after a crash and a reopen.
func TestDeletesLeaveTombstonesOnlyOverOlderValues(t *testing.T) {
	s := openDisk(t)
	put(t, s, "old/1", "a", "old/2", "b")
	s = reopenDisk(t, s) // both in bbolt now, the overlay empty
	ds := s.(*diskStore)
	for i := range 50 {
		k := fmt.Sprintf("q/%03d", i)
		put(t, s, k, "msg")
		if err := s.Update(func(tx Tx) error { return tx.Delete([]byte(k)) }); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Update(func(tx Tx) error {
		// In one Update: a put then its delete, a delete of a key nobody
		// has, and an overwrite of a bbolt key then its delete.
		tx.Put([]byte("q/new"), []byte("x"))
		tx.Delete([]byte("q/new"))
		tx.Delete([]byte("q/never"))
		tx.Put([]byte("old/2"), []byte("changed"))
		return tx.Delete([]byte("old/2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	var overlay []string
	ds.snap.RLock()
	for it := newCursor(ds.layers.active, nil, false, nil); it.key() != nil; it.next() {
		overlay = append(overlay, fmt.Sprintf("%s=%q", it.key(), it.val()))
	}
	ds.snap.RUnlock()
	if want := []string{`old/2=""`}; !slices.Equal(overlay, want) {
		t.Errorf("the active overlay holds %v, want only old/2's tombstone %v", overlay, want)
	}
	check := func(when string, s Store) {
		t.Helper()
		got := scanPairs(s, false, "", "", 100)
		if want := []string{"old/1=a"}; !slices.Equal(got, want) {
			t.Errorf("%s: the store holds %v, want %v", when, got, want)
		}
	}
	check("open", s)
	dir, _ := diskDirs.Load(s)
	crashed, err := Open(copyStore(t, dir.(string)))
	if err != nil {
		t.Fatal(err)
	}
	check("after a crash", crashed)
	crashed.Close()
	check("after a reopen", reopenDisk(t, s))
}
