package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrNoSpace is returned by Update, wrapped with the reason, when the disk
// that holds the store is full and the Update would add data. It is
// temporary: the store recovers by itself once space is freed, so callers
// answer it with their service's retryable error.
var ErrNoSpace = errors.New("store: the data directory's disk is full")

// IsNoSpace reports whether err means a full disk: ErrNoSpace, or a file
// system's ENOSPC or EDQUOT.
func IsNoSpace(err error) bool {
	return errors.Is(err, ErrNoSpace) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// Space is implemented by stores kept on a disk that can fill up (Open's).
// Writers that keep files beside the store, in the same data directory (S3's
// object bytes), use it to refuse new data while the disk is full and to
// report that a write of theirs found it full.
type Space interface {
	// Degraded returns nil while the store takes every write, else why it
	// does not (an error wrapping ErrNoSpace for a full disk).
	Degraded() error
	// NoSpace reports that err, from a write beside the store, may mean
	// that the disk is full. If it does, the store turns degraded (as if
	// one of its own writes had failed) and NoSpace returns true.
	NoSpace(err error) bool
}

// A full disk degrades the store instead of failing it. A reserve file of
// reserveSize bytes is kept in the store's directory while the disk has
// room. The first write that finds the disk full (a log extension or a
// checkpoint of the store's own, or a file beside it, through NoSpace)
// deletes the reserve, and from then on the store admits only Updates that
// do not add data: deletes, and rewrites in place that grow by at most
// growthSlack bytes (an SQS receive count), up to growthAllowance in all.
// The freed reserve is what those Updates' log records and checkpoints need,
// so space can be freed through the API on a disk that is full. A probe
// every probeInterval looks at the free space; once there is room for the
// reserve twice over, it makes the reserve again and the store takes every
// write again.
const (
	reserveFile     = "wharf.reserve"
	growthSlack     = 1 << 10
	growthAllowance = 1 << 20
)

// reserveSize and probeInterval are variables so that tests can shrink
// them.
var (
	reserveSize   int64 = 16 << 20
	probeInterval       = time.Second
)

// space tracks whether the disk under a store is full.
type space struct {
	dir string

	mu        sync.Mutex
	full      error // non-nil while degraded: why
	slackUsed int64 // growth admitted while degraded
}

// openSpace makes the reserve in dir, or starts degraded when the disk has
// no room for it.
func openSpace(dir string) (*space, error) {
	sp := &space{dir: dir}
	if err := sp.makeReserve(); err != nil {
		if !IsNoSpace(err) {
			return nil, fmt.Errorf("reserve: %w", err)
		}
		sp.full = fmt.Errorf("%w (no room for the %d MiB reserve: %v)", ErrNoSpace, reserveSize>>20, errors.Unwrap(err))
	}
	return sp, nil
}

// makeReserve creates the reserve file, fully allocated, unless it is
// there already. On failure no partial reserve is left.
func (sp *space) makeReserve() error {
	path := filepath.Join(sp.dir, reserveFile)
	if st, err := os.Stat(path); err == nil && st.Size() >= reserveSize {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	err = allocate(f, reserveSize)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// noSpace turns the store degraded if err means the disk is full, and
// releases the reserve so that deletes and checkpoints have room.
func (sp *space) noSpace(err error) bool {
	if !IsNoSpace(err) {
		return false
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.full == nil {
		if errors.Is(err, ErrNoSpace) {
			sp.full = err
		} else {
			sp.full = fmt.Errorf("%w (%v)", ErrNoSpace, err)
		}
		sp.slackUsed = 0
		os.Remove(filepath.Join(sp.dir, reserveFile))
	}
	return true
}

// degraded returns why the store is degraded, or nil.
func (sp *space) degraded() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.full
}

// admit says whether an Update that adds netBytes bytes and netKeys keys
// (either may be negative) may commit.
func (sp *space) admit(netBytes, netKeys int64) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	switch {
	case sp.full == nil, netBytes <= 0:
		return true
	case netKeys <= 0 && netBytes <= growthSlack && sp.slackUsed+netBytes <= growthAllowance:
		sp.slackUsed += netBytes
		return true
	}
	return false
}

// probe ends the degraded state when the disk has room for the reserve
// twice over and the reserve could be made again.
func (sp *space) probe() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.full == nil {
		return
	}
	if free, err := freeBytes(sp.dir); err != nil || free < 2*reserveSize {
		return
	}
	if sp.makeReserve() == nil {
		sp.full = nil
	}
}
