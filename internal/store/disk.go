package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fileName is the store's file inside the directory given to Open.
const fileName = "wharf.db"

// bucket holds every key: services namespace their keys themselves, so one
// flat, ordered key space is all the store needs.
var bucket = []byte("kv")

// diskStore is a bbolt file behind a write-ahead log and an in-memory
// overlay. An Update's writes go to one log record, made durable with one
// synchronous write of a preallocated, rewritten-in-place log segment that
// it shares with every Update queued meanwhile, and to a
// persistent (copy-on-write) B-tree, the overlay, that reads consult before the
// bbolt file. The bbolt file is only ever written by ordinary, fully synced
// bbolt transactions: a checkpoint copies a frozen overlay into it, and only
// then is the log segment that holds those writes recycled. So the bbolt file
// is always a consistent B+tree, and the log holds everything after it.
// docs/decisions/0002-store-commit-path.md has the measurements.
//
// Updates run one at a time under the commit lock (mu), each fn on its
// caller's goroutine, so panics and runtime.Goexit stay the caller's; a
// failing fn is dropped by keeping the overlay root from before it. An
// Update queues its record for the log writer and waits for it: the writer
// takes every record queued while it wrote and synced the previous ones
// (group commit, docs/decisions/0001-store-engine.md). A committer goroutine
// used to hand each fn its turn and take it back: two goroutine wake-ups
// per Update that the lock does not need.
type diskStore struct {
	db      *bolt.DB
	stop    chan struct{} // closed by Close to end the idle and space loops
	stopped chan struct{} // closed by the idle loop when it returns

	// checkpoints carries frozen overlays from freeze to the checkpointer
	// goroutine; Close closes it once no Update or idle loop is left.
	checkpoints chan checkpoint
	ckptStopped chan struct{}

	// snap makes "begin a bbolt read transaction, then take the overlay"
	// atomic with respect to a checkpoint dropping the frozen overlay it has
	// just copied into bbolt: without it a reader could pair the bbolt file
	// from before the checkpoint with the overlay from after it, and miss
	// the checkpointed writes.
	snap    sync.RWMutex
	layers  *layers  // guarded by snap; replaced, never changed
	shared  *readTx  // guarded by snap: the read transaction that goes with layers, nil during a checkpoint
	spare   *segment // guarded by snap: the next log segment, once recycled
	ckptErr error    // guarded by snap: a checkpoint failed

	failed error // guarded by snap: a log write failed; refuse further Updates

	// space is the disk's state: while it is full the store admits only
	// Updates that add no data. A checkpoint that found the disk full is
	// kept in retry (guarded by snap) until it succeeds or Close takes it.
	space        *space
	retry        *checkpoint
	spaceStopped chan struct{}

	// mu is the commit lock: an Update holds it while its fn runs and its
	// record is queued, the idle loop while it freezes. It guards the
	// fields below it.
	mu      sync.Mutex
	seg     *segment      // the log segment being appended to
	limit   int64         // log bytes that start a checkpoint (walSegmentSize)
	idle    time.Duration // quiet time that starts one (idleCheckpoint)
	gen     uint64        // tree generation of the running fn
	tip     *node         // the overlay with every Update's writes, durable or in flight
	updates uint64        // Updates run, for the idle loop

	// flights carries Updates whose log records are to be written, in log
	// order, to the acknowledger; pending counts them
	// until they are acknowledged.
	flights  chan *flight
	pending  sync.WaitGroup
	ackerEnd chan struct{}
	// expect is how many Updates the log writer waits for in a batch (see
	// lingerMax): the most a batch has held since a wait last ran out.
	// Owned by the writer.
	expect int
	linger time.Duration // lingerMax when the store was opened
	// queued counts the Updates in flights not yet taken by the writer;
	// want, while it waits, how many end the wait (0: not waiting), when
	// an Update sends on enough.
	queued, want atomic.Int64
	enough       chan struct{}
	// nudge ends the writer's wait at once: a freeze waits for every Update
	// to be acknowledged, so nothing more comes until then.
	nudge chan struct{}

	// live counts running transactions; Close takes it exclusively to wait
	// for them.
	live   sync.RWMutex
	closed bool // guarded by live
}

// layers is the overlay as readers see it: active holds the writes since the
// last freeze, frozen (nil unless a checkpoint is running) the writes being
// copied into bbolt. A nil val in either is a tombstone.
type layers struct {
	active, frozen *node
}

// readTx is a bbolt read transaction that Views (and Updates) share
// instead of each beginning their own: beginning and ending one
// takes bbolt's meta lock, its mmap lock and its freelist's reader map, a few
// microseconds on every View, and serializes them. Only checkpoints write the
// bbolt file, so one read transaction begun after a checkpoint, paired with
// the overlay, is the store's state until the next checkpoint: the
// checkpointer retires it before it writes (a commit that remaps the file
// waits for every open read transaction, its own retired one included) and
// installs a new one with the overlay that no longer holds what it copied.
// Views that start while a checkpoint runs begin their own, as before.
//
// Sharing relies on bbolt's read-only transactions and buckets changing
// nothing when read: lookups and cursors read the mapped file, and the only
// counters they touch (cursor counts) are atomic. The race detector checks it
// (TestViewsShareAReadTransactionAcrossCheckpoints under -race).
type readTx struct {
	tx   *bolt.Tx
	b    *bolt.Bucket
	refs atomic.Int64 // users, plus one while it is s.shared; ended at zero

	// got remembers what point lookups in the file found (nil: absent,
	// once gaps are full) for the transaction's life, in which the file
	// does not change: the records every request reads (a queue's, a
	// table's) are in the file once checkpointed, and a bbolt lookup walks
	// its pages from the root, a few microseconds, where the map takes
	// tens of nanoseconds. The first maxRemembered keys looked up are
	// kept; the hot ones come first, as every request reads them.
	mu   sync.RWMutex
	got  map[string][]byte
	full atomic.Bool // got has maxRemembered keys
	// gaps are ranges of keys the file has none of, found by lookups that
	// missed: sorted, disjoint (each lies between two keys next to one
	// another in the file), the first maxGaps found. A delete asks the
	// file whether its key is there (see diskTx.below), and the keys an
	// SQS receive or delete removes (a message, its state and visibility
	// entries) were mostly put since the last checkpoint, each once:
	// absent from the file, never the same key twice, and past the queue's
	// last keys in it, so a few gaps answer them all with a binary search
	// instead of a seek from the root (and a map entry each). Guarded by
	// mu.
	gaps     []gap
	gapsFull atomic.Bool
	// single is set in a transaction begun for one View or Update while
	// a checkpoint runs: it remembers nothing, as nothing else would use it.
	single bool
}

// maxRemembered bounds a read transaction's remembered lookups.
const maxRemembered = 512

// remember keeps what a lookup of key found (v aliases the file's
// mapping, valid while rt is open).
func (rt *readTx) remember(key, v []byte) {
	if rt.full.Load() {
		return
	}
	rt.mu.Lock()
	if rt.got == nil {
		rt.got = make(map[string][]byte)
	}
	rt.got[string(key)] = v
	rt.full.Store(len(rt.got) >= maxRemembered)
	rt.mu.Unlock()
}

// gap is the keys strictly between lo and hi, which the file has none of
// (lo nil: from the first key; hi nil: to the last). lo and hi alias the
// file's mapping, valid while the read transaction is open.
type gap struct{ lo, hi []byte }

// maxGaps bounds a read transaction's remembered gaps: a queue's message,
// state and visibility keys each fall in one.
const maxGaps = 256

// recall returns what a lookup of key in rt's file found before, or
// that key lies in a gap (v nil).
func (rt *readTx) recall(key []byte) (v []byte, ok bool) {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	if v, ok := rt.got[string(key)]; ok {
		return v, true
	}
	// The first gap that ends after key is the only one that may hold it.
	i := sort.Search(len(rt.gaps), func(i int) bool {
		hi := rt.gaps[i].hi
		return hi == nil || bytes.Compare(key, hi) < 0
	})
	if i < len(rt.gaps) {
		lo := rt.gaps[i].lo
		return nil, lo == nil || bytes.Compare(lo, key) < 0
	}
	return nil, false
}

// rememberGap keeps g, unless rt has it or has maxGaps already.
func (rt *readTx) rememberGap(g gap) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	// Gaps are told apart by their low ends, nil (the file's start) first.
	i, found := slices.BinarySearchFunc(rt.gaps, g, func(a, b gap) int {
		if a.lo == nil || b.lo == nil {
			return boolInt(a.lo != nil) - boolInt(b.lo != nil)
		}
		return bytes.Compare(a.lo, b.lo)
	})
	if found {
		return
	}
	rt.gaps = slices.Insert(rt.gaps, i, g)
	rt.gapsFull.Store(len(rt.gaps) >= maxGaps)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// beginShared begins a read transaction to share, holding its installer's
// reference.
func (s *diskStore) beginShared() (*readTx, error) {
	btx, err := s.db.Begin(false)
	if err != nil {
		return nil, err
	}
	rt := &readTx{tx: btx, b: btx.Bucket(bucket)}
	rt.refs.Store(1)
	return rt, nil
}

// release drops one reference to rt and ends it with the last.
func (rt *readTx) release() {
	if rt.refs.Add(-1) == 0 {
		rt.tx.Rollback()
	}
}

// retireShared stops sharing the current read transaction; it ends once its
// last View does.
func (s *diskStore) retireShared() {
	s.snap.Lock()
	rt := s.shared
	s.shared = nil
	s.snap.Unlock()
	if rt != nil {
		rt.release()
	}
}

// flight is one Update whose log record is waiting to be written: rec, at
// off in seg, unless writes is false.
type flight struct {
	req    *request
	root   *node // the overlay with the Update's writes, to publish
	writes bool
	seg    *segment
	off    int64
	rec    []byte
	recBuf *[]byte // rec's pooled buffer, given back once rec is written
	// refused fails the Update without failing the log: nothing of it was
	// written (the disk had no room to extend the log).
	refused error
}

// maxFlights bounds the Updates waiting for the log writer. The writer
// takes every Update queued while it wrote and synced the previous ones and
// writes them with one pwrite and one fdatasync: a sync covers every record
// written before it began, so one sync in flight at a time serves any
// number of Updates, and the CPU a durable Update spends in the kernel
// falls as load rises. (Four concurrent fdatasyncs, one per group, were
// measured before: they share the disk's cache flushes, but each costs its
// own system call and journal work, about one per Update at 8 clients.)
const maxFlights = 256

// checkpoint is one frozen overlay and the segment holding its writes, to
// be recycled under gen once they are in bbolt.
type checkpoint struct {
	frozen *node
	seg    *segment
	gen    uint64
}

// request is one Update waiting for its record: it learns the commit's
// outcome on committed.
type request struct {
	committed chan error
	refused   error // fn's writes were dropped (a full disk)
}

// File names of the two log segments inside the store's directory.
var walFiles = [2]string{"wharf.wal.0", "wharf.wal.1"}

// Open opens (creating if needed) the store kept in dir. Only one process may
// have it open at a time: Open fails if another holds it. Writes left in the
// log by a crash are copied into the bbolt file before Open returns.
func Open(dir string) (Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(dir, fileName)
	_, statErr := os.Stat(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		// Another wharf holding the file's lock is an error, not a hang.
		Timeout:      time.Second,
		FreelistType: bolt.FreelistMapType,
		// bbolt remaps the file when it outgrows the mapping, and a remap
		// waits for every open View. Mapping 1 GiB up front (address space
		// only: neither the file nor RSS grows) makes that wait rare.
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	sp, err := openSpace(dir)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	s, err := recoverLog(dir, db, os.IsNotExist(statErr), sp)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Without a shared read transaction (bbolt would refuse any), each
	// View begins its own and reports bbolt's error.
	if rt, err := s.beginShared(); err == nil {
		s.shared = rt
	}
	go s.idleLoop()
	go s.ackLoop()
	go s.checkpointLoop()
	go s.spaceLoop()
	return s, nil
}

// recoverLog opens the log segments, copies every record they hold into the
// bbolt file in one synced transaction, and returns the store ready to
// append.
//
// On a full disk, when the records cannot be copied into bbolt, the store
// opens all the same, degraded: the records become the frozen overlay, whose
// checkpoint is retried until the disk has room, and the log goes on after
// the newer segment's last record.
func recoverLog(dir string, db *bolt.DB, created bool, sp *space) (*diskStore, error) {
	var segs [2]*segment
	for i, name := range walFiles {
		seg, made, err := openSegment(filepath.Join(dir, name))
		if err != nil {
			if i == 1 {
				segs[0].close()
			}
			return nil, err
		}
		segs[i] = seg
		created = created || made
	}
	closeSegs := func() { segs[0].close(); segs[1].close() }
	if created {
		// New files are fsync'd but not their directory entries.
		if err := syncDir(dir); err != nil {
			closeSegs()
			return nil, err
		}
	}
	if segs[0].gen > segs[1].gen {
		segs[0], segs[1] = segs[1], segs[0] // replay the older first
	}
	btx, err := db.Begin(true)
	if err != nil {
		closeSegs()
		return nil, err
	}
	b, err := btx.CreateBucketIfNotExists(bucket)
	records, writes := 0, 0
	var end int64 // past the newer segment's last record
	for _, seg := range segs {
		if err != nil {
			break
		}
		var n int
		n, end, err = seg.replay(func(kind byte, key, val []byte) error {
			writes++
			if kind == opDelete {
				return b.Delete(key)
			}
			return b.Put(key, val)
		})
		records += n
	}
	if err == nil {
		fillFor(b, writes)
	}
	if err == nil && (records > 0 || created) {
		err = btx.Commit()
	} else {
		btx.Rollback()
	}
	if err != nil && !created && records > 0 && IsNoSpace(err) {
		sp.noSpace(err)
		s, err := openDegraded(db, segs, end, sp)
		if err != nil {
			closeSegs()
		}
		return s, err
	}
	if err != nil {
		closeSegs()
		return nil, err
	}
	if records > 0 || segs[0].gen == 0 {
		// The records are in bbolt now: start both segments afresh.
		top := segs[1].gen
		// (A reset error was once shadowed here and ignored.)
		err = segs[0].reset(top + 1)
		if err == nil {
			err = segs[1].reset(top + 2)
		}
		if err != nil {
			closeSegs()
			return nil, err
		}
	}
	return newDiskStore(db, segs[0], segs[1], sp), nil
}

func newDiskStore(db *bolt.DB, seg, spare *segment, sp *space) *diskStore {
	return &diskStore{
		db:           db,
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
		checkpoints:  make(chan checkpoint, 1),
		ckptStopped:  make(chan struct{}),
		layers:       &layers{},
		seg:          seg,
		spare:        spare,
		limit:        walSegmentSize,
		flights:      make(chan *flight, maxFlights),
		ackerEnd:     make(chan struct{}),
		expect:       1,
		linger:       lingerMax,
		nudge:        make(chan struct{}, 1),
		enough:       make(chan struct{}, 1),
		idle:         idleCheckpoint,
		space:        sp,
		spaceStopped: make(chan struct{}),
	}
}

// openDegraded opens a store whose log could not be copied into bbolt for
// want of disk space. segs are in replay order (older first); end is where
// the newer one's records end. The records are read again into an overlay,
// which becomes frozen, as if the older segment had just filled: its
// checkpoint is queued, to be retried until the disk has room, and then
// recycles the older segment. The newer one takes the log's next records;
// its own records, checkpointed with the older one's, will be replayed
// again after a crash, which is harmless since replay applies the whole log
// in order.
func openDegraded(db *bolt.DB, segs [2]*segment, end int64, sp *space) (*diskStore, error) {
	var root *node
	for _, seg := range segs {
		if _, _, err := seg.replay(func(kind byte, key, val []byte) error {
			v := []byte(nil) // a tombstone
			if kind == opPut {
				v = append(make([]byte, 0, len(val)), val...)
			}
			root = insert(root, 1, key, v)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	// Records written after the last valid one, unacknowledged or of an
	// older generation, must never be read as the continuation of the log:
	// zero them. This overwrites blocks the segment has, so it needs no
	// space.
	older, newer := segs[0], segs[1]
	if newer.alloc > end {
		if err := writeZeros(newer.f, end, newer.alloc-end); err != nil {
			return nil, err
		}
		if err := fdatasync(newer.f); err != nil {
			return nil, err
		}
	}
	newer.size = end
	s := newDiskStore(db, newer, nil, sp)
	s.layers = &layers{frozen: root}
	s.checkpoints <- checkpoint{frozen: root, seg: older, gen: newer.gen + 1}
	return s, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *diskStore) begin() error {
	s.live.RLock()
	if s.closed {
		s.live.RUnlock()
		return ErrClosed
	}
	return nil
}

// snapshot takes a bbolt read transaction, the shared one unless a
// checkpoint is running, and the overlay that goes with it. The caller
// releases the transaction.
func (s *diskStore) snapshot() (*readTx, *layers, error) {
	s.snap.RLock()
	defer s.snap.RUnlock()
	if rt := s.shared; rt != nil {
		rt.refs.Add(1)
		return rt, s.layers, nil
	}
	rt, err := s.beginShared()
	if err == nil {
		rt.single = true
	}
	return rt, s.layers, err
}

func (s *diskStore) View(fn func(Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.live.RUnlock()
	rt, lay, err := s.snapshot()
	if err != nil {
		return err
	}
	defer rt.release()
	return fn(&diskTx{rt: rt, b: rt.b, active: lay.active, frozen: lay.frozen})
}

func (s *diskStore) Update(fn func(Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.live.RUnlock()
	r := requestPool.Get().(*request)
	r.refused = nil
	queued, err := s.commit(r, fn)
	if queued {
		err = <-r.committed
	}
	// Every channel of r is drained and nothing else refers to it now.
	requestPool.Put(r)
	return err
}

// requestPool keeps requests and their channels.
var requestPool = sync.Pool{New: func() any { return &request{committed: make(chan error, 1)} }}

// recPool keeps Updates' log record buffers once they are written.
var recPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// commit runs fn under the commit lock over the overlay, seeing the writes
// of every Update before it (those still in flight too), and queues what
// it wrote as one log record for the log writer, which shows the new
// overlay to readers and acknowledges r once that record, and every record
// before it, is on disk. queued is false when there is nothing to wait
// for: fn failed (err is fn's) or the store refuses Updates.
func (s *diskStore) commit(r *request, fn func(Tx) error) (queued bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	s.snap.RLock()
	err = cmp.Or(s.failed, s.ckptErr)
	s.snap.RUnlock()
	var rt *readTx
	var lay *layers
	if err == nil {
		if rt, lay, err = s.snapshot(); err != nil {
			err = fmt.Errorf("store commit: %w", err)
		}
	}
	if err != nil {
		return false, err
	}
	defer rt.release()
	recBuf := recPool.Get().(*[]byte)
	// On a full disk fn's writes are measured, and dropped if they would
	// add data.
	full := s.space.degraded()
	s.gen++
	tx := &diskTx{rt: rt, b: rt.b, active: s.tip, frozen: lay.frozen, gen: s.gen, writable: true,
		start: s.tip, rec: (*recBuf)[:walRecordHead], recStart: walRecordHead, measure: full != nil}
	ok := false
	defer func() {
		if !ok {
			// fn panicked or called runtime.Goexit: its writes are
			// dropped with tx, as the lock is released.
			tx.writable = false
			recPool.Put(recBuf)
		}
	}()
	err = fn(tx)
	ok = true
	tx.writable = false // a Tx leaked out of fn must not write
	if err != nil {
		recPool.Put(recBuf)
		return false, err
	}
	if tx.measure && len(tx.rec) > tx.recStart && !s.space.admit(tx.netBytes, tx.netKeys) {
		tx.rollback()
		r.refused = full
	}
	root, rec := tx.active, tx.rec
	f := &flight{req: r, root: root, writes: len(rec) > walRecordHead}
	if !f.writes {
		recPool.Put(recBuf)
	}
	if f.writes {
		seg, off := s.seg, s.seg.size
		if err := seg.ensure(off + int64(len(rec))); err != nil {
			// Nothing of the Update is written and the log goes on: it
			// fails, retryably when the disk is full.
			if s.space.noSpace(err) {
				err = s.space.degraded()
			}
			f.writes, f.refused = false, fmt.Errorf("store commit: %w", err)
			recPool.Put(recBuf)
			s.queue(f)
			return true, nil
		}
		s.tip = root
		seg.size += int64(len(rec))
		sealRecord(rec, seg.gen)
		f.seg, f.off, f.rec, f.recBuf = seg, off, rec, recBuf
	}
	// An Update with nothing to write may have read writes still in
	// flight: it is acknowledged in order all the same.
	s.queue(f)
	if s.seg.size >= s.limit {
		s.freeze()
	}
	return true, nil
}

// idleLoop checkpoints the log segment once no Update has come for s.idle
// (within twice that), so that the overlay's memory goes back and a
// restart after a crash has little to replay, until Close.
func (s *diskStore) idleLoop() {
	defer close(s.stopped)
	t := time.NewTimer(s.idle)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.updates == seen && s.seg.size > walHeaderSize {
			s.freeze()
		}
		seen = s.updates
		s.mu.Unlock()
		t.Reset(s.idle)
	}
}

// queue hands f to the log writer, and wakes it if it waits for Updates
// and this makes enough.
func (s *diskStore) queue(f *flight) {
	s.pending.Add(1)
	s.flights <- f
	q := s.queued.Add(1)
	// (A half full channel wakes it too: the wait must not outlast the
	// room Updates have to queue records in.)
	if w := s.want.Load(); w > 0 && (q >= w || len(s.flights) >= cap(s.flights)/2) {
		select {
		case s.enough <- struct{}{}:
		default:
		}
	}
}

// ackLoop is the log writer and acknowledger: it takes every Update queued
// (in log order), writes their records, which follow one another in the
// segment, with one synchronous write, and then publishes the last overlay
// and acknowledges the Updates. A failed write fails its Updates and every
// later one, and the store refuses Updates from
// then on: what reached the disk is unknown, and the log must not go on
// after a hole.
func (s *diskStore) ackLoop() {
	defer close(s.ackerEnd)
	var batch []*flight
	var buf []byte
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for f := range s.flights {
		batch = append(batch[:0], f)
		s.queued.Add(-1)
		// take adds every Update queued now to the batch.
		take := func() {
			for len(batch) < maxFlights {
				select {
				case f, ok := <-s.flights:
					if !ok {
						return
					}
					batch = append(batch, f)
					s.queued.Add(-1)
				default:
					return
				}
			}
		}
		take()
		n := len(batch)
		if need := int64(s.expect - n); need > 0 && s.linger > 0 {
			// Updates wake this goroutine once need of them are
			// queued, not each one (see queue).
			lingerHook("wait")
			s.want.Store(need)
			linger.Reset(s.linger)
		wait:
			for s.queued.Load() < need && len(s.flights) < cap(s.flights)/2 {
				select {
				case <-s.enough: // or a stale wake-up: check again
				case <-linger.C:
					s.expect = n + int(max(s.queued.Load(), 0)) // fewer writers now: expect what came
					lingerHook("ran out")
					break wait
				case <-s.nudge:
					break wait
				}
			}
			s.want.Store(0)
			linger.Stop()
			take()
			n = len(batch)
		}
		s.expect = max(s.expect, n)
		logWriteHook()
		var err error
		buf, err = s.writeBatch(batch, buf)
		s.snap.Lock()
		switch {
		case s.failed != nil:
		case err != nil:
			s.failed = fmt.Errorf("store commit: %w", err)
		default:
			// The last Update that wrote has every earlier one's writes.
			for i := len(batch) - 1; i >= 0; i-- {
				if f := batch[i]; f.writes {
					s.layers = &layers{active: f.root, frozen: s.layers.frozen}
					break
				}
			}
		}
		failed := s.failed
		s.snap.Unlock()
		for _, f := range batch {
			err := cmp.Or(failed, f.refused)
			if r := f.req; r.refused != nil && err == nil {
				r.committed <- r.refused
			} else {
				r.committed <- err // buffered
			}
			if f.recBuf != nil && cap(f.rec) <= 64<<10 { // not a rare huge one
				*f.recBuf = f.rec[:0]
				recPool.Put(f.recBuf)
			}
			s.pending.Done()
		}
		clear(batch) // drop the Updates' overlays and records
	}
}

// writeBatch writes the records of batch's Updates, which follow one another
// in one segment, and syncs them. buf is reused to join them.
func (s *diskStore) writeBatch(batch []*flight, buf []byte) ([]byte, error) {
	var first, last *flight
	n := 0
	for _, f := range batch {
		if f.writes {
			if first == nil {
				first = f
			}
			last, n = f, n+1
		}
	}
	switch n {
	case 0:
		return buf, nil
	case 1:
		return buf, first.seg.writeAt(first.rec, first.off)
	}
	buf = buf[:0]
	for _, f := range batch {
		if f.writes {
			buf = append(buf, f.rec...)
		}
	}
	if first.seg != last.seg || first.off+int64(len(buf)) != last.off+int64(len(last.rec)) {
		// Updates take offsets in order under the commit lock, and a
		// freeze waits until every one is acknowledged, so this cannot happen; writing
		// anyway would leave a hole in the log.
		return buf, errors.New("log records of one batch do not follow one another")
	}
	err := first.seg.writeAt(buf, first.off)
	if cap(buf) > int(walSegmentSize) {
		buf = nil // do not keep a rare huge batch's buffer
	}
	return buf, err
}

// freeze starts a checkpoint when the segment is full and the previous
// checkpoint has finished: the overlay becomes frozen, and the log goes on
// in the spare segment. If the previous checkpoint is still running, the
// segment just grows past its preallocation until it is done. The caller
// holds the commit lock.
func (s *diskStore) freeze() {
	s.snap.RLock()
	busy := s.layers.frozen != nil || s.spare == nil || s.ckptErr != nil || s.failed != nil
	s.snap.RUnlock()
	if busy {
		return
	}
	// Only the checkpointer changes what busy reads, and only towards
	// not busy. Wait for the Updates in flight, so that the overlay is the
	// tip and nothing more is written to the full segment; the log writer
	// need not wait for more.
	select {
	case s.nudge <- struct{}{}:
	default:
	}
	s.pending.Wait()
	s.snap.Lock()
	defer s.snap.Unlock()
	if s.failed != nil {
		return
	}
	s.tip = nil
	full := s.seg
	s.seg, s.spare = s.spare, nil
	s.layers = &layers{frozen: s.layers.active}
	s.checkpoints <- checkpoint{frozen: s.layers.frozen, seg: full, gen: s.seg.gen + 1}
}

// checkpointLoop copies each frozen overlay into bbolt with a synced
// transaction, then recycles the log segment that held it and drops the
// frozen overlay.
//
// A checkpoint that finds the disk full degrades the store (which releases
// the reserve) and is tried again at once, then every probeInterval, until it
// succeeds or Close takes it over. Meanwhile the frozen overlay serves reads
// and the log goes on in the other segment.
func (s *diskStore) checkpointLoop() {
	defer close(s.ckptStopped)
	for c := range s.checkpoints {
		s.retireShared()
		err := s.checkpoint(c)
		for tries := 1; IsNoSpace(err); tries++ {
			s.space.noSpace(err)
			if tries > 1 && !s.sleep(probeInterval) {
				break
			}
			err = s.checkpoint(c)
		}
		// Whatever the outcome, bbolt holds what a transaction begun now
		// sees until the next checkpoint, which only this goroutine runs.
		rt, rtErr := s.beginShared()
		s.snap.Lock()
		if rtErr == nil {
			s.shared = rt
		}
		switch {
		case IsNoSpace(err):
			// Closing on a full disk: Close tries once more, and
			// otherwise leaves both segments for the next Open.
			s.retry = &c
		case err != nil:
			// Keep the frozen overlay: reads stay right, and Close (or the
			// next Open's replay) can still get the writes into bbolt.
			s.ckptErr = fmt.Errorf("store checkpoint: %w", err)
		default:
			s.layers = &layers{active: s.layers.active}
			s.spare = c.seg
		}
		s.snap.Unlock()
	}
}

// sleep waits for d, or returns false at once when Close has begun.
func (s *diskStore) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.stop:
		return false
	case <-t.C:
		return true
	}
}

// checkpoint copies c's frozen overlay into bbolt and recycles its segment.
func (s *diskStore) checkpoint(c checkpoint) error {
	checkpointHook("begin")
	err := s.db.Update(func(btx *bolt.Tx) error {
		return applyOverlay(btx.Bucket(bucket), c.frozen)
	})
	if err == nil {
		checkpointHook("applied")
		err = c.seg.reset(c.gen)
	}
	checkpointHook("recycled")
	return err
}

// spaceLoop probes a full disk for space until Close.
func (s *diskStore) spaceLoop() {
	defer close(s.spaceStopped)
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.space.probe()
		}
	}
}

// Degraded says why the store refuses writes, if it does: the disk is full
// (ErrNoSpace; reads, deletes and other writes that add no data are still
// served), or a log write or checkpoint failed.
func (s *diskStore) Degraded() error {
	s.snap.RLock()
	err := cmp.Or(s.failed, s.ckptErr)
	s.snap.RUnlock()
	return cmp.Or(err, s.space.degraded())
}

// NoSpace degrades the store if err means the disk is full.
func (s *diskStore) NoSpace(err error) bool { return s.space.noSpace(err) }

// idleCheckpoint is how long the store waits without Updates before it
// checkpoints a log segment that is not yet full. A variable for tests.
var idleCheckpoint = 2 * time.Second

// lingerMax is how long the log writer waits, with fewer Updates queued
// than its last batches held, for the rest of them before it writes: at 8
// clients a sync otherwise carries the ~3 Updates that arrived while the
// previous one was written, and each sync costs its system call, the Go
// runtime's hand-off of a blocked thread's P, and the wake-ups around it.
// The writer expects as many Updates as its largest batch since a wait
// last ran out, so a lone writer never waits, and one that stops coming
// costs one wait. A variable for tests.
//
// Measured with bench/peers' durable wharf at 8 clients on this project's
// loaded 2-core VM: a client's next Update comes 1-3 ms after its
// acknowledgement, so 0.2 ms caught nothing, and 2-3 ms took SendMessage
// from 0.43 to 0.29 syncs per operation and 0.167 to 0.139 ms of CPU, at
// the same or higher throughput (bench/README.md). SQS receive+delete
// (send, receive and delete a batch of 10, three Updates in turn) at 8
// clients then split into two cohorts of about 5 Updates a sync, each
// written while the other came back, and a wait that ran out (a client's
// turn took over 2 ms) set the writer to expect as few again: 4 ms took it
// to about 7 Updates a sync, and 0.83 to 0.75 ms of CPU per operation at the
// same p50 (two alternating runs, load ~20).
var lingerMax = 4 * time.Millisecond

// lingerHook is called when the log writer starts waiting for more
// Updates ("wait") and when a wait runs out ("ran out"); a test sets it.
var lingerHook = func(event string) {}

// logWriteHook is called before each write of a batch of Updates' records;
// a test sets it to hold the log writer while Updates queue up.
var logWriteHook = func() {}

// checkpointHook is called at each stage of a checkpoint; the crash test
// sets it to kill the process there.
var checkpointHook = func(stage string) {}

// applyOverlay writes overlays' puts and tombstones into b, the older
// overlay first, and sets how full b's pages are to be filled (see
// fillFor).
func applyOverlay(b *bolt.Bucket, roots ...*node) error {
	writes := 0
	for _, root := range roots {
		for it := newCursor(root, nil, false, nil); it.key() != nil; it.next() {
			var err error
			if v := it.val(); v == nil {
				err = b.Delete(it.key())
			} else {
				err = b.Put(it.key(), v)
			}
			if err != nil {
				return err
			}
			writes++
		}
	}
	fillFor(b, writes)
	return nil
}

// Pages a commit splits are filled to bbolt's default (half a page) after
// writes scattered across the file, and to denseFill after writes that
// came in runs of adjacent keys: a transaction that made at least
// denseWrites writes for each node (page) it changed.
//
// A queue's messages and index entries are keys in ascending order, which
// a checkpoint appends to the end of their ranges; each range's last leaf
// takes them all and splits into pages when the transaction commits.
// Filled by half, those pages stay half empty for good (no later key falls
// in them), and the file, the pages each checkpoint writes and the
// commit's work per key are twice what they need be: BenchmarkCheckpoint,
// ascending, went from 0.127 to 0.068 pages per key and about a quarter
// less CPU with 0.9. After scattered writes (random keys: DynamoDB items,
// S3 objects) a split page is one that was nearly full, and filling one
// half to 0.9 leaves it to split again at the next write or two, so those
// keep the default: at 0.9 throughout, the random case grew the file by
// 0.157 pages per key instead of 0.095, for no less CPU (0.104 as chosen
// here, its first 20,000 keys having been loaded in one dense
// transaction). The fill only matters for a node that outgrew one page: a
// page rewritten in place is not split. A checkpoint that mixes runs with
// scattered writes is judged by the average.
const (
	denseFill   = 0.9
	denseWrites = 8
)

// fillFor sets b's FillPercent, before its transaction commits, for the
// writes it made: denseFill when they were at least denseWrites for each
// node they changed (nodes count the branch pages above the leaves too).
func fillFor(b *bolt.Bucket, writes int) {
	b.FillPercent = bolt.DefaultFillPercent
	st := b.Tx().Stats()
	if nodes := st.GetNodeCount(); nodes > 0 && int64(writes) >= denseWrites*nodes {
		b.FillPercent = denseFill
	}
}

func (s *diskStore) Close() error {
	s.live.Lock()
	defer s.live.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.stop)
	<-s.stopped
	close(s.flights) // every Update has returned, so every one is acknowledged
	<-s.ackerEnd
	close(s.checkpoints)
	<-s.ckptStopped
	<-s.spaceStopped
	// No View is left (live is held) and the checkpointer is gone: end the
	// shared read transaction, which a commit that remaps the file would
	// wait for, and db.Close too.
	s.retireShared()
	// Everything into bbolt, then both segments afresh, so that the next
	// Open has nothing to replay. On an error the log keeps the writes.
	// other is the second segment: the spare, or the one a checkpoint
	// that found the disk full still holds.
	lay, other := s.layers, s.spare
	if other == nil && s.retry != nil {
		other = s.retry.seg
	}
	closeSegs := func() {
		s.seg.close()
		if other != nil {
			other.close()
		}
	}
	err := s.failed
	if err == nil && lay.active == nil && lay.frozen == nil {
		// Nothing since the last checkpoint, which recycled its segment.
		closeSegs()
		return s.db.Close()
	}
	if err == nil {
		err = s.db.Update(func(btx *bolt.Tx) error {
			return applyOverlay(btx.Bucket(bucket), lay.frozen, lay.active)
		})
		if IsNoSpace(err) {
			// Not a failure: every acknowledged write is in the log,
			// which the next Open replays (or serves from memory, degraded,
			// if the disk is still full then).
			closeSegs()
			return s.db.Close()
		}
	}
	if err == nil && other != nil {
		// With neither, a failed checkpoint holds a segment: leave both.
		if err = s.seg.reset(max(s.seg.gen, other.gen) + 1); err == nil {
			err = other.reset(s.seg.gen + 1)
		}
	}
	closeSegs()
	return errors.Join(err, s.db.Close())
}

// diskTx reads the overlay (active, then frozen) and then the bbolt file;
// in an Update it writes to active and appends each write to its log
// record.
type diskTx struct {
	rt             *readTx
	b              *bolt.Bucket
	cur            *bolt.Cursor // b's, for point lookups (boltGet); nil until the first
	active, frozen *node
	writable       bool
	gen            uint64 // tree generation: nodes of this gen are fn's own

	start    *node  // active before fn, for rollback
	rec      []byte // the Update's log record
	recStart int    // len(rec) before fn

	// measure is set while the disk is full: netBytes and netKeys then
	// count the key and value bytes, and the keys, that fn adds (negative
	// when it frees more than it adds).
	measure           bool
	netBytes, netKeys int64
}

// account adds to the measured growth the change of key from its current
// value to val (nil: deleted).
func (t *diskTx) account(key, val []byte) {
	old, _ := t.Get(key)
	if old != nil {
		t.netBytes -= int64(len(key) + len(old))
		t.netKeys--
	}
	if val != nil {
		t.netBytes += int64(len(key) + len(val))
		t.netKeys++
	}
}

func (t *diskTx) Get(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, nil // bbolt has no empty key; neither does the store
	}
	if v, ok := lookup(t.active, key); ok {
		return v, nil // nil for a tombstone
	}
	if v, ok := lookup(t.frozen, key); ok {
		return v, nil
	}
	return t.boltGet(key), nil
}

// boltGet is bbolt's Bucket.Get through the transaction's own cursor,
// which it keeps for every lookup: Get allocates a cursor and grows its
// stack a page at a time on each call, and a durable SQS receive and delete
// make dozens of lookups that miss the overlay (their keys' tombstones
// need one each, see below). What it finds is remembered for the read
// transaction's other users (see readTx). A missing key reads nil; bbolt
// may hand back nil-backed empty values, and present keys must read non-nil.
func (t *diskTx) boltGet(key []byte) []byte {
	remember := !t.rt.single
	if remember {
		if v, ok := t.rt.recall(key); ok {
			return v
		}
	}
	if t.cur == nil {
		t.cur = t.b.Cursor()
	}
	k, v := t.cur.Seek(key)
	if bytes.Equal(k, key) {
		v = nonNil(v)
		if remember {
			t.rt.remember(key, v)
		}
		return v
	}
	switch {
	case !remember:
	case !t.rt.gapsFull.Load():
		// Absent: the file has nothing between the key before this one
		// and k, the key after it (nil: none).
		var lo []byte
		if k == nil {
			lo, _ = t.cur.Last()
		} else {
			lo, _ = t.cur.Prev()
		}
		t.rt.rememberGap(gap{lo: lo, hi: k})
	default:
		t.rt.remember(key, nil)
	}
	return nil
}

func (t *diskTx) Put(key, value []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if err := checkPut(key, value); err != nil {
		return err
	}
	if t.measure {
		t.account(key, nonNil(value))
	}
	t.rec = appendOp(t.rec, opPut, key, value)
	// insert copies it (the caller may reuse value); an empty value must
	// read back non-nil, not as a tombstone.
	t.active = insert(t.active, t.gen, key, nonNil(value))
	return nil
}

func (t *diskTx) Delete(key []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if len(key) == 0 || len(key) > MaxKeySize {
		return nil // never stored, so absent (and too long for the overlay)
	}
	if t.measure {
		t.account(key, nil)
	}
	t.rec = appendOp(t.rec, opDelete, key, nil)
	if t.below(key) {
		t.active = insert(t.active, t.gen, key, nil) // a tombstone hides the older value
	} else {
		// Nothing under the active overlay has the key, so a tombstone
		// would hide nothing: drop the key instead. A queue's keys are
		// mostly put and deleted between two checkpoints, and their
		// tombstones were what every scan of the queue's front walked
		// (a receive scans its visibility index from the start), and what
		// a checkpoint then deleted from bbolt, which never had them.
		t.active = remove(t.active, t.gen, key)
	}
	return nil
}

// below reports whether a layer under the active overlay (the frozen one,
// then bbolt) has a value for key: a delete must then leave a tombstone.
// Frozen and bbolt together are the same across a checkpoint (it copies the
// one into the other), whichever of the two the transaction's bbolt snapshot
// precedes.
func (t *diskTx) below(key []byte) bool {
	if v, ok := lookup(t.frozen, key); ok {
		return v != nil // a tombstone there already hides bbolt's value
	}
	return t.boltGet(key) != nil
}

// rollback drops everything fn wrote. Nodes fn made carry its own
// generation, so the root from before fn is untouched.
func (t *diskTx) rollback() {
	t.active, t.rec = t.start, t.rec[:t.recStart]
}

func (t *diskTx) Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	from := prefix
	if bytes.Compare(start, prefix) > 0 {
		from = start
	}
	return t.scan(prefix, from, false, nil, fn)
}

func (t *diskTx) ScanReverse(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	// Start at the last key < end, or <= start when start is below end.
	end, inclusive := prefixEnd(prefix), false
	if start != nil && (end == nil || bytes.Compare(start, end) < 0) {
		end, inclusive = start, true
	}
	below := func(k []byte) bool {
		if end == nil {
			return true
		}
		c := bytes.Compare(k, end)
		return c < 0 || (inclusive && c == 0)
	}
	return t.scan(prefix, end, true, below, fn)
}

// scan merges the overlay's layers and the bbolt file, newest layer first
// where a key is in several, skipping tombstones. Forward, it starts at the
// first key >= from; in reverse, at the last key for which below holds.
func (t *diskTx) scan(prefix, from []byte, reverse bool, below func([]byte) bool, fn func(k, v []byte) (bool, error)) error {
	its := make([]iter, 0, 3)
	for _, root := range []*node{t.active, t.frozen} {
		if root != nil {
			its = append(its, newCursor(root, from, reverse, below))
		}
	}
	base := newBoltIter(t.b.Cursor(), from, reverse, below)
	if len(its) == 0 {
		// No overlay (a quiet or freshly opened store): bbolt alone.
		for ; base.k != nil && bytes.HasPrefix(base.k, prefix); base.next() {
			if more, err := fn(base.k, nonNil(base.v)); err != nil || !more {
				return err
			}
		}
		return nil
	}
	its = append(its, base)
	for {
		best := -1
		var k []byte
		for i, it := range its {
			ik := it.key()
			if ik == nil {
				continue
			}
			if c := bytes.Compare(ik, k); best < 0 || (!reverse && c < 0) || (reverse && c > 0) {
				best, k = i, ik
			}
		}
		if best < 0 || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		v := its[best].val()
		for i, it := range its {
			if i != best && bytes.Equal(it.key(), k) {
				it.next() // shadowed by a newer layer
			}
		}
		its[best].next()
		if v == nil {
			continue // a tombstone
		}
		if more, err := fn(k, v); err != nil || !more {
			return err
		}
	}
}

// iter walks one layer in key order; key is nil when it is done. val is nil
// for a tombstone.
type iter interface {
	key() []byte
	val() []byte
	next()
}

// boltIter walks the bbolt file.
type boltIter struct {
	c       *bolt.Cursor
	k, v    []byte
	reverse bool
}

func newBoltIter(c *bolt.Cursor, from []byte, reverse bool, below func([]byte) bool) *boltIter {
	it := &boltIter{c: c, reverse: reverse}
	switch {
	case !reverse && len(from) == 0:
		it.k, it.v = c.First()
	case !reverse:
		it.k, it.v = c.Seek(from)
	case from == nil:
		it.k, it.v = c.Last()
	default:
		if it.k, it.v = c.Seek(from); it.k == nil {
			it.k, it.v = c.Last()
		} else if !below(it.k) {
			it.k, it.v = c.Prev()
		}
	}
	return it
}

func (it *boltIter) key() []byte { return it.k }
func (it *boltIter) val() []byte { return nonNil(it.v) }

func (it *boltIter) next() {
	if it.reverse {
		it.k, it.v = it.c.Prev()
	} else {
		it.k, it.v = it.c.Next()
	}
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}
