//go:build pebble

package main

import (
	"github.com/cockroachdb/pebble"
)

func init() { engines["pebble"] = openPebble }

type pebbleEngine struct{ db *pebble.DB }

func openPebble(dir string) (engine, error) {
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		return nil, err
	}
	return &pebbleEngine{db: db}, nil
}

// put uses a Sync write: pebble's commit pipeline shares one WAL fsync among
// the concurrent writers waiting for it (native group commit).
func (e *pebbleEngine) put(k, v []byte) error { return e.db.Set(k, v, pebble.Sync) }

func (e *pebbleEngine) load(kvs [][2][]byte) error {
	b := e.db.NewBatch()
	for _, kv := range kvs {
		if err := b.Set(kv[0], kv[1], nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

func (e *pebbleEngine) get(k []byte) ([]byte, error) {
	v, c, err := e.db.Get(k)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return append([]byte(nil), v...), nil
}

func (e *pebbleEngine) scan(prefix []byte, n int) (int, error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, err
	}
	count := 0
	for ok := it.First(); ok && count < n; ok = it.Next() {
		_ = it.Value()
		count++
	}
	return count, it.Close()
}

func (e *pebbleEngine) close() error { return e.db.Close() }
