//go:build bolt

package main

import (
	"os"
	"path/filepath"
	"sync"

	bolt "go.etcd.io/bbolt"
)

type boltMode int

const (
	modeUpdate boltMode = iota // one db.Update (two fsyncs) per put
	modeBatch                  // bbolt's db.Batch (timer-based coalescing)
	modeGroup                  // group commit with no timer (internal/store's algorithm, minus its per-fn handoff)
)

var bucket = []byte("kv")

func init() {
	engines["bolt"] = func(d string) (engine, error) { return openBolt(d, modeUpdate, false) }
	engines["bolt-batch"] = func(d string) (engine, error) { return openBolt(d, modeBatch, false) }
	engines["bolt-group"] = func(d string) (engine, error) { return openBolt(d, modeGroup, false) }
	engines["bolt-group-nofl"] = func(d string) (engine, error) { return openBolt(d, modeGroup, true) }
}

type boltEngine struct {
	db   *bolt.DB
	mode boltMode

	mu      sync.Mutex
	pending []*boltReq
	leading bool
}

type boltReq struct {
	k, v []byte
	done chan error
}

// openBolt opens a bbolt file in dir. noFreelistSync skips writing the
// freelist on each commit, at the cost of rebuilding it at open.
func openBolt(dir string, mode boltMode, noFreelistSync bool) (engine, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "data.db"), 0o600, &bolt.Options{NoFreelistSync: noFreelistSync, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	return &boltEngine{db: db, mode: mode}, err
}

func (e *boltEngine) put(k, v []byte) error {
	fn := func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(k, v) }
	switch e.mode {
	case modeBatch:
		return e.db.Batch(fn)
	case modeGroup:
		return e.group(k, v)
	}
	return e.db.Update(fn)
}

// group queues the put; the first writer to find no leader becomes it and
// commits everything queued in one transaction, repeatedly, until the queue is
// empty. Writers arriving during a commit ride the next one.
func (e *boltEngine) group(k, v []byte) error {
	r := &boltReq{k: k, v: v, done: make(chan error, 1)}
	e.mu.Lock()
	e.pending = append(e.pending, r)
	if e.leading {
		e.mu.Unlock()
		return <-r.done
	}
	e.leading = true
	for len(e.pending) > 0 {
		batch := e.pending
		e.pending = nil
		e.mu.Unlock()
		err := e.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			for _, r := range batch {
				if err := b.Put(r.k, r.v); err != nil {
					return err
				}
			}
			return nil
		})
		for _, r := range batch {
			r.done <- err
		}
		e.mu.Lock()
	}
	e.leading = false
	e.mu.Unlock()
	return <-r.done
}

func (e *boltEngine) load(kvs [][2][]byte) error {
	return e.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, kv := range kvs {
			if err := b.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *boltEngine) get(k []byte) (v []byte, err error) {
	err = e.db.View(func(tx *bolt.Tx) error {
		v = append([]byte(nil), tx.Bucket(bucket).Get(k)...)
		return nil
	})
	return v, err
}

func (e *boltEngine) scan(prefix []byte, n int) (count int, err error) {
	err = e.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && count < n && hasPrefix(k, prefix); k, _ = c.Next() {
			count++
		}
		return nil
	})
	return count, err
}

func (e *boltEngine) close() error { return e.db.Close() }
