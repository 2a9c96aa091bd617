//go:build pebble2

package main

import (
	"github.com/cockroachdb/pebble/v2"
)

func init() { engines["pebble2"] = openPebble2 }

type pebble2Engine struct{ db *pebble.DB }

func openPebble2(dir string) (engine, error) {
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		return nil, err
	}
	return &pebble2Engine{db: db}, nil
}

func (e *pebble2Engine) put(k, v []byte) error { return e.db.Set(k, v, pebble.Sync) }

func (e *pebble2Engine) load(kvs [][2][]byte) error {
	b := e.db.NewBatch()
	for _, kv := range kvs {
		if err := b.Set(kv[0], kv[1], nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

func (e *pebble2Engine) get(k []byte) ([]byte, error) {
	v, c, err := e.db.Get(k)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return append([]byte(nil), v...), nil
}

func (e *pebble2Engine) scan(prefix []byte, n int) (int, error) {
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

func (e *pebble2Engine) close() error { return e.db.Close() }
