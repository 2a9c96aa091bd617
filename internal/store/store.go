// Package store is wharf's embedded, durable, ordered key-value store: every
// service keeps its metadata and messages here, under its own key prefix
// ("sqs/<account>/<region>/q/<name>/..."). The interface is small so that
// another backend (PostgreSQL, for several wharf replicas) can come later.
//
// Keys are flat byte strings compared with bytes.Compare. A transaction is
// either a read-only snapshot (View) or a read-write, atomic unit (Update).
// Open returns a store on disk whose Update is on disk (fsync'd) before it
// returns nil; concurrent Updates share fsyncs (group commit). OpenMemory
// returns a store with the same semantics, kept in memory, for --ephemeral and
// tests.
package store

import "errors"

// Store is a transactional ordered key-value store. It is safe for
// concurrent use by many goroutines.
type Store interface {
	// View runs fn in a read-only transaction that sees a consistent snapshot
	// of the store. Put and Delete inside fn return ErrReadOnly. View returns
	// fn's error. fn must not wait for an Update to finish: on disk, a
	// commit that grows the file waits for open Views.
	View(fn func(Tx) error) error

	// Update runs fn in a read-write transaction. If fn returns nil, its
	// writes are committed atomically and are durable when Update returns
	// nil. If fn returns an error (or panics), nothing it wrote is applied and
	// Update returns that error.
	//
	// fn is called exactly once, on the caller's goroutine. Concurrent
	// Updates run their fns one after another, each seeing the writes of
	// those before it, and are committed together (group commit), so they
	// are serializable. fn must not retain the Tx after it returns, and must not
	// call View or Update itself.
	Update(fn func(Tx) error) error

	// Close waits for running transactions to finish, flushes, and releases
	// the store. Transactions started after Close return ErrClosed.
	Close() error
}

// Tx is a transaction, valid only inside the View or Update function that
// received it. It must not be used from several goroutines at once.
//
// Byte slices returned by Get and passed to Scan's callback are owned by the
// store and valid only until the transaction ends; copy them (bytes.Clone) to
// keep them. Callers must not modify them. Slices passed to Put are not
// retained after Put returns, so callers may reuse them.
type Tx interface {
	// Get returns the value of key, or nil, nil when key is absent. A present
	// key with an empty value returns a non-nil empty slice.
	Get(key []byte) ([]byte, error)

	// Put sets key to value. The key must be non-empty and at most MaxKeySize
	// bytes. A later Get in the same transaction sees the new value.
	Put(key, value []byte) error

	// Delete removes key. Deleting an absent key is not an error.
	Delete(key []byte) error

	// Scan calls fn for each key that has the given prefix and is >= start,
	// in ascending key order; that is, it starts at max(prefix, start). A nil
	// or empty prefix matches every key; a nil start means "from the first
	// key with the prefix". fn returns false to stop early; an error from fn
	// stops the scan and is returned by Scan. fn must not Put or Delete
	// through the same Tx while scanning.
	Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error

	// ScanReverse is Scan in descending key order: it visits the keys that
	// have the prefix and are <= start (every key with the prefix when start
	// is nil), largest first. It serves "newest first" listings and finding
	// the last key under a prefix.
	ScanReverse(prefix, start []byte, fn func(k, v []byte) (bool, error)) error
}

// MaxKeySize is the largest key the store accepts. It is bbolt's limit, kept
// for every implementation so that code tested against memory works on disk.
const MaxKeySize = 32768

// MaxValueSize is the largest value the store accepts. Larger blobs (S3
// object bytes) belong in files, not in the store.
const MaxValueSize = 64 << 20

var (
	// ErrClosed is returned by transactions started after Close.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly is returned by Put and Delete inside View.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrKeyEmpty is returned by Put for an empty key.
	ErrKeyEmpty = errors.New("store: empty key")
	// ErrKeyTooLarge is returned by Put for a key longer than MaxKeySize.
	ErrKeyTooLarge = errors.New("store: key too large")
	// ErrValueTooLarge is returned by Put for a value longer than MaxValueSize.
	ErrValueTooLarge = errors.New("store: value too large")
)

// checkPut enforces the key and value limits every implementation shares.
func checkPut(key, value []byte) error {
	switch {
	case len(key) == 0:
		return ErrKeyEmpty
	case len(key) > MaxKeySize:
		return ErrKeyTooLarge
	case len(value) > MaxValueSize:
		return ErrValueTooLarge
	}
	return nil
}

// prefixEnd returns the smallest key greater than every key that has the
// prefix, or nil when there is none (an empty prefix, or one of only 0xff).
func prefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xff {
			end := append([]byte(nil), prefix[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}
