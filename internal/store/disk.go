package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fileName is the store's file inside the directory given to Open.
const fileName = "wharf.db"

// bucket holds every key: services namespace their keys themselves, so one
// flat, ordered key space is all the store needs.
var bucket = []byte("kv")

// diskStore is a bbolt file plus group commit. One committer goroutine,
// owned by the store and stopped by Close, takes every Update queued while
// the previous commit ran, opens one bbolt write transaction for them, hands
// it to each Update's fn in turn (each fn runs on its caller's goroutine, so
// panics and runtime.Goexit stay the caller's), and commits the group with
// one fsync. bbolt's own Batch waits a fixed delay (10ms by default) before
// committing and re-runs every fn when one fails; this needs neither: a lone
// writer commits at once, and a failing fn is undone by its own undo log while
// the rest of its group commits. docs/decisions/0001-store-engine.md has the
// measurements.
type diskStore struct {
	db       *bolt.DB
	requests chan *request
	stop     chan struct{} // closed by Close to end the committer
	stopped  chan struct{} // closed by the committer when it returns

	// live counts running transactions; Close takes it exclusively to wait
	// for them.
	live   sync.RWMutex
	closed bool // guarded by live
}

// request is one Update in a group: the committer sends the transaction on
// turn, the caller answers on finished once its fn is done (an error there
// fails the whole group), and learns the commit's outcome on committed.
type request struct {
	turn      chan *diskTx
	finished  chan error
	committed chan error
}

// Open opens (creating if needed) the store kept in dir. Only one process may
// have it open at a time: Open fails if another holds it.
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
	if os.IsNotExist(statErr) {
		// bbolt fsyncs the new file but not its directory entry.
		if err := syncDir(dir); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &diskStore{
		db:       db,
		requests: make(chan *request, 1024),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go s.commitLoop()
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

func (s *diskStore) View(fn func(Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.live.RUnlock()
	return s.db.View(func(tx *bolt.Tx) error {
		return fn(&diskTx{b: tx.Bucket(bucket)})
	})
}

func (s *diskStore) Update(fn func(Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.live.RUnlock()
	r := &request{turn: make(chan *diskTx), finished: make(chan error, 1), committed: make(chan error, 1)}
	s.requests <- r
	tx := <-r.turn
	if tx == nil {
		return <-r.committed // the group failed before fn's turn
	}
	ok := false
	defer func() {
		if !ok {
			// fn panicked or called runtime.Goexit: undo its writes and let
			// the group go on while this goroutine unwinds.
			tx.writable = false
			r.finished <- tx.rollback()
		}
	}()
	err := fn(tx)
	ok = true
	tx.writable = false // a Tx leaked out of fn must not write
	if err != nil {
		r.finished <- tx.rollback()
		return err
	}
	r.finished <- nil
	return <-r.committed
}

// commitLoop is the committer: it commits groups of queued Updates until
// Close stops it.
func (s *diskStore) commitLoop() {
	defer close(s.stopped)
	for {
		var group []*request
		select {
		case r := <-s.requests:
			group = append(group, r)
		case <-s.stop:
			return
		}
	drain:
		for {
			select {
			case r := <-s.requests:
				group = append(group, r)
			default:
				break drain
			}
		}
		s.commit(group)
	}
}

// commit runs the group's fns in one bbolt transaction, in order, each seeing
// the writes of those before it, and commits them with one fsync.
func (s *diskStore) commit(group []*request) {
	i := 0 // requests handed the transaction so far
	err := s.db.Update(func(btx *bolt.Tx) error {
		b := btx.Bucket(bucket)
		for ; i < len(group); i++ {
			r := group[i]
			r.turn <- &diskTx{b: b, writable: true}
			if err := <-r.finished; err != nil {
				i++
				return err // its writes could not be undone: fail the group
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("store commit: %w", err)
	}
	for j, r := range group {
		if j >= i {
			r.turn <- nil // never ran: the group failed first
		}
		r.committed <- err // buffered; unread by fns that failed or panicked
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
	return s.db.Close()
}

type diskTx struct {
	b        *bolt.Bucket
	writable bool
	undo     []undo
}

// undo restores one key to what it was before a write.
type undo struct {
	key, old []byte
	existed  bool
}

func (t *diskTx) Get(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, nil // bbolt has no empty key; neither does the store
	}
	v := t.b.Get(key)
	if v == nil {
		return nil, nil
	}
	if len(v) == 0 {
		// bbolt may hand back nil-backed empty values; present keys must
		// read non-nil.
		return []byte{}, nil
	}
	return v, nil
}

// remember records key's current value so that rollback can restore it.
// Values are copied: the page bbolt returns them from may be rewritten by the
// writes that follow.
func (t *diskTx) remember(key []byte) {
	old := t.b.Get(key)
	t.undo = append(t.undo, undo{key: bytes.Clone(key), old: bytes.Clone(old), existed: old != nil})
}

func (t *diskTx) Put(key, value []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if err := checkPut(key, value); err != nil {
		return err
	}
	t.remember(key)
	if value == nil {
		value = []byte{}
	}
	return t.b.Put(key, value)
}

func (t *diskTx) Delete(key []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if len(key) == 0 {
		return nil
	}
	t.remember(key)
	return t.b.Delete(key)
}

func (t *diskTx) rollback() error {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		var err error
		if u.existed {
			err = t.b.Put(u.key, u.old)
		} else {
			err = t.b.Delete(u.key)
		}
		if err != nil {
			return fmt.Errorf("undo: %w", err)
		}
	}
	return nil
}

func (t *diskTx) Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	from := prefix
	if bytes.Compare(start, prefix) > 0 {
		from = start
	}
	c := t.b.Cursor()
	var k, v []byte
	if len(from) == 0 {
		k, v = c.First()
	} else {
		k, v = c.Seek(from)
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if more, err := fn(k, nonNil(v)); err != nil || !more {
			return err
		}
	}
	return nil
}

func (t *diskTx) ScanReverse(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	// Start at the last key < end, or <= start when start is below end.
	end, inclusive := prefixEnd(prefix), false
	if start != nil && (end == nil || bytes.Compare(start, end) < 0) {
		end, inclusive = start, true
	}
	c := t.b.Cursor()
	var k, v []byte
	if end == nil {
		k, v = c.Last()
	} else if k, v = c.Seek(end); k == nil {
		k, v = c.Last()
	} else if !inclusive || !bytes.Equal(k, end) {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		if more, err := fn(k, nonNil(v)); err != nil || !more {
			return err
		}
	}
	return nil
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}
