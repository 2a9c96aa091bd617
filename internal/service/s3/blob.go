package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/wharf-dev/wharf/internal/store"
)

// blobs keeps object bytes in immutable files named by random ids, under
// <dir>/blobs/<first two hex digits>/<id>. Writes go to <dir>/tmp first and
// are renamed into place once complete and synced, so a blob that exists is
// whole. Keys never name files, so no key can escape the directory.
type blobs struct {
	dir  string
	sync bool
	// atOpen are the blob files present when the directory was opened,
	// before this process wrote any: the only candidates for the orphan
	// sweep, since a file written since may belong to a PUT not yet committed.
	atOpen []string
	// space, when the store watches its disk, is told of writes that found
	// the disk full, and refuses new blobs while it is.
	space store.Space
}

// full returns an error wrapping store.ErrNoSpace while the disk is full:
// it takes no new object bytes then, since the space freed for the store is
// for deletes.
func (b *blobs) full() error {
	if b.space == nil {
		return nil
	}
	if err := b.space.Degraded(); store.IsNoSpace(err) {
		return fmt.Errorf("s3: %w", err)
	}
	return nil
}

// noSpace tells the store when err means the disk is full, and returns err.
func (b *blobs) noSpace(err error) error {
	if err != nil && b.space != nil {
		b.space.NoSpace(err)
	}
	return err
}

func openBlobs(dir string, sync bool) (*blobs, error) {
	if dir == "" {
		return nil, errors.New("s3: no data directory")
	}
	b := &blobs{dir: dir, sync: sync}
	// Temporary files left by a crash are never referenced: drop them. The
	// directory stays: making it again takes a block, which a full disk may
	// not have, and S3 must start on a full disk.
	if names, err := readNames(filepath.Join(dir, "tmp")); err == nil {
		for _, n := range names {
			if err := os.RemoveAll(filepath.Join(dir, "tmp", n)); err != nil {
				return nil, fmt.Errorf("s3: clean tmp: %w", err)
			}
		}
		if err := os.Chmod(filepath.Join(dir, "tmp"), 0o700); err != nil {
			return nil, fmt.Errorf("s3: data dir: %w", err)
		}
	}
	// Object bytes are as private as the store: files 0600 in 0700
	// directories. A directory made 0755 by an older wharf is closed here.
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("s3: data dir: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o700); err != nil {
		return nil, fmt.Errorf("s3: data dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("s3: data dir: %w", err)
	}
	// Shard directories (blobs/00 … blobs/ff) are made when a blob first lands
	// in one (see placeDir), so a new data directory costs two mkdirs, not 256,
	// and startup only reads the shards that exist.
	shards, err := readNames(filepath.Join(dir, "blobs"))
	if err != nil {
		return nil, fmt.Errorf("s3: data dir: %w", err)
	}
	for _, sh := range shards {
		names, err := readNames(filepath.Join(dir, "blobs", sh))
		if err != nil {
			return nil, fmt.Errorf("s3: data dir: %w", err)
		}
		b.atOpen = append(b.atOpen, names...)
	}
	if sync {
		syncDir(filepath.Join(dir, "blobs"))
		syncDir(dir)
	}
	return b, nil
}

func newBlobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (b *blobs) path(id string) string {
	if len(id) < 2 {
		id = "00" + id
	}
	return filepath.Join(b.dir, "blobs", id[:2], id)
}

// blobWriter writes one new blob.
type blobWriter struct {
	b  *blobs
	f  *os.File
	id string

	// unsynced counts bytes written since the last early sync started;
	// syncing is that sync's outcome, nil when none is running.
	unsynced int64
	syncing  chan error
}

// earlySync is how many bytes a large blob accumulates before a sync of
// what is written so far starts beside the writing: the disk then works
// while the body still arrives, and the sync before the rename only has
// the last bytes left to flush.
const earlySync = 16 << 20

// create starts a new blob in the temporary directory.
func (b *blobs) create() (*blobWriter, error) {
	if err := b.full(); err != nil {
		return nil, err
	}
	id := newBlobID()
	f, err := os.OpenFile(filepath.Join(b.dir, "tmp", id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("s3: create blob: %w", b.noSpace(err))
	}
	return &blobWriter{b: b, f: f, id: id}, nil
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.b.noSpace(err)
	if w.unsynced += int64(n); w.b.sync && w.unsynced >= earlySync && w.syncing == nil {
		w.unsynced = 0
		w.syncing = make(chan error, 1)
		go func(f *os.File, done chan<- error) { done <- f.Sync() }(w.f, w.syncing)
	}
	return n, err
}

// waitSync waits for a running early sync and returns its error.
func (w *blobWriter) waitSync() error {
	if w.syncing == nil {
		return nil
	}
	err := <-w.syncing
	w.syncing = nil
	return err
}

// commit syncs the blob and moves it into place; it returns the blob's id.
func (w *blobWriter) commit() (string, error) {
	tmp := w.f.Name()
	if w.b.sync {
		err := w.waitSync()
		if err == nil {
			err = w.f.Sync()
		}
		if err != nil {
			w.abort()
			return "", fmt.Errorf("s3: sync blob: %w", w.b.noSpace(err))
		}
	}
	if err := w.f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("s3: close blob: %w", w.b.noSpace(err))
	}
	dst := w.b.path(w.id)
	if err := w.b.placeDir(dst); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("s3: place blob: %w", w.b.noSpace(err))
	}
	if w.b.sync {
		syncDir(filepath.Dir(dst))
	}
	return w.id, nil
}

// abort drops the unfinished blob.
func (w *blobWriter) abort() {
	w.waitSync()
	w.f.Close()
	os.Remove(w.f.Name())
}

// open opens blob id for reading.
func (b *blobs) open(id string) (*os.File, error) { return os.Open(b.path(id)) }

// link makes a new blob with the same bytes as id. Blobs never change, so a
// hard link is a copy; where links are not supported the bytes are copied.
func (b *blobs) link(id string) (string, error) {
	nid := newBlobID()
	dst := b.path(nid)
	if err := b.placeDir(dst); err != nil {
		return "", err
	}
	if err := os.Link(b.path(id), dst); err == nil {
		if b.sync {
			syncDir(filepath.Dir(dst))
		}
		return nid, nil
	}
	src, err := b.open(id)
	if err != nil {
		return "", err
	}
	defer src.Close()
	w, err := b.create()
	if err != nil {
		return "", err
	}
	if _, err := copyBuffered(w, src); err != nil {
		w.abort()
		return "", err
	}
	return w.commit()
}

// remove deletes blobs no longer referenced. A failure leaves an orphan file,
// which costs space but never correctness, so it is only logged by callers.
func (b *blobs) remove(ids ...string) error {
	var first error
	for _, id := range ids {
		if id == "" || isInline(id) {
			continue
		}
		if err := os.Remove(b.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// placeDir makes sure the shard directory of blob path p exists; a shard made
// now is synced into blobs/ so the blob placed in it survives a crash.
func (b *blobs) placeDir(p string) error {
	shard := filepath.Dir(p)
	if _, err := os.Stat(shard); err == nil {
		return nil
	}
	if err := os.MkdirAll(shard, 0o700); err != nil {
		return fmt.Errorf("s3: data dir: %w", b.noSpace(err))
	}
	if b.sync {
		syncDir(filepath.Dir(shard))
	}
	return nil
}

func readNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// copyBuffers are reused across requests: the body of every PUT passes
// through one, so memory per request is one buffer whatever the object size.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func copyBuffered(dst io.Writer, src io.Reader) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	return io.CopyBuffer(dst, src, *bp)
}

// readCloser joins a reader (a section of a file) with the file's Close.
type readCloser struct {
	io.Reader
	io.Closer
}

// inlineMax is the largest object kept in the store rather than a file.
const inlineMax = 64 << 10

// inlinePrefix marks the ids of blobs kept in the store (s3/d/<id>).
const inlinePrefix = "i"

func isInline(id string) bool { return len(id) > 0 && id[:1] == inlinePrefix }

// blobReader is an open blob: a file, or the bytes of an inline one.
type blobReader interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

type memBlob struct{ *bytes.Reader }

func (memBlob) Close() error { return nil }

func readInline(tx store.Tx, id string) (blobReader, error) {
	v, err := tx.Get(dataKey(id))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("s3: inline blob %s missing", id)
	}
	return memBlob{bytes.NewReader(bytes.Clone(v))}, nil
}

// openBlob opens blob id, inline or file, outside any transaction.
func (s *Service) openBlob(id string) (blobReader, error) {
	if !isInline(id) {
		return s.blobs.open(id)
	}
	var r blobReader
	err := s.st.View(func(tx store.Tx) error {
		var err error
		r, err = readInline(tx, id)
		return err
	})
	return r, err
}

// dropInline deletes, inside the committing transaction, the inline blobs
// among ids; files are removed after the commit by dropBlobs.
func dropInline(tx store.Tx, ids []string) error {
	for _, id := range ids {
		if isInline(id) {
			if err := tx.Delete(dataKey(id)); err != nil {
				return err
			}
		}
	}
	return nil
}

// SweepOrphans removes the blob files no object, version or part refers to:
// those a crash left between placing a file and committing its metadata, or
// between committing an overwrite and removing the old file. Only files
// present when the service was created are considered, so a PUT of this
// process whose file is placed but not yet committed is never touched: a
// file the snapshot below does not reference was unreferenced for good
// (ids are random and never reused). It returns how many files it removed.
func (s *Service) SweepOrphans(ctx context.Context) (int, error) {
	candidates := make(map[string]bool, len(s.blobs.atOpen))
	for _, id := range s.blobs.atOpen {
		candidates[id] = true
	}
	s.blobs.atOpen = nil
	if len(candidates) == 0 {
		return 0, nil
	}
	// Only the blob id is needed from each record.
	var ref struct{ Blob string }
	keep := func(k, v []byte) (bool, error) {
		ref.Blob = ""
		if len(v) > 0 && v[0] == objectRecordV1 {
			// An object's binary record (a part's is JSON).
			blob, err := recordBlob(v)
			if err != nil {
				return false, fmt.Errorf("s3: sweep %q: %w", k, err)
			}
			ref.Blob = blob
		} else if err := json.Unmarshal(v, &ref); err != nil {
			return false, fmt.Errorf("s3: sweep %q: %w", k, err)
		}
		delete(candidates, ref.Blob)
		return ctx.Err() == nil, nil
	}
	err := s.st.View(func(tx store.Tx) error {
		for _, prefix := range []string{"s3/o/", "s3/v/", "s3/p/"} {
			if err := tx.Scan([]byte(prefix), nil, keep); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for id := range candidates {
		if err := os.Remove(s.blobs.path(id)); err == nil {
			n++
		} else if !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("s3: sweep: %w", err)
		}
	}
	return n, nil
}
