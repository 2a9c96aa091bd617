package timeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Entries are saved as JSON lines appended to a file of their own, not to
// the store: the timeline is a record, not acknowledged data, and in the
// store every hop cost a write to its log, a place in its overlay, a B+tree
// insert at the next checkpoint and a delete once trimmed — a visible share
// of what a durable SQS message or SNS publish cost. A write here is one
// write(2) per flush, never synced: a crash loses at most the unflushed
// tail, which the package documents already, and a torn last line is
// skipped when read. A write that fails (a full disk) is retried by the
// next flush, and reported once in the log.
//
// Two files bound the history: new entries go to current; once it holds
// limit entries it becomes previous (replacing the one before) and a new
// current begins. Loading reads previous, then current, and keeps the
// newest limit.
const (
	currentFile  = "timeline.jsonl"
	previousFile = "timeline.previous.jsonl"
)

// files is the part of a Log that saves entries, owned by the goroutine
// that flushes (and Reset, under the Log's fileMu).
type files struct {
	dir    string
	f      *os.File // current, opened on the first save
	n      int      // entries in current
	torn   bool     // current ends without a newline: a crash cut its last line
	opened bool
}

func (fs *files) path(name string) string { return filepath.Join(fs.dir, name) }

// save appends entries to current, starting a new current whenever it
// reaches limit entries.
func (fs *files) save(entries []Entry, limit int) error {
	var b []byte
	for i := range entries {
		b = append(appendJSON(b, &entries[i]), '\n')
	}
	_, err := fs.write(b, len(entries), limit)
	return err
}

// write appends b, n JSON lines, to current, starting a new current
// whenever it holds limit lines. It returns how much of b is in the files:
// all of it, or on an error the lines up to the last one written whole (a
// line cut by the error is ended before the next write, which writes it
// again).
func (fs *files) write(b []byte, n, limit int) (int, error) {
	if !fs.opened {
		if err := fs.open(); err != nil {
			return 0, err
		}
	}
	if fs.torn {
		// The cut line stays unreadable; the next one must not join it.
		if _, err := fs.f.Write([]byte{'\n'}); err != nil {
			return 0, err
		}
		fs.torn = false
	}
	done := 0
	for done < len(b) {
		if fs.n >= limit {
			if err := fs.rotate(); err != nil {
				return done, err
			}
		}
		chunk, lines := b[done:], n
		if room := limit - fs.n; lines > room {
			// Up to the end of the room-th line.
			end := 0
			for range room {
				end += bytes.IndexByte(chunk[end:], '\n') + 1
			}
			chunk, lines = chunk[:end], room
		}
		w, err := fs.f.Write(chunk)
		if err != nil {
			whole := bytes.LastIndexByte(chunk[:w], '\n') + 1
			fs.n += bytes.Count(chunk[:whole], []byte{'\n'})
			fs.torn = whole < w
			return done + whole, err
		}
		fs.n += lines
		n -= lines
		done += len(chunk)
	}
	return done, nil
}

func (fs *files) open() error {
	if err := os.MkdirAll(fs.dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(fs.path(currentFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fs.f, fs.opened = f, true
	return nil
}

// rotate makes current the previous file and starts an empty current.
func (fs *files) rotate() error {
	if err := fs.f.Close(); err != nil {
		return err
	}
	fs.opened = false
	if err := os.Rename(fs.path(currentFile), fs.path(previousFile)); err != nil {
		return err
	}
	fs.n = 0
	return fs.open()
}

// remove deletes both files.
func (fs *files) remove() error {
	if fs.opened {
		fs.f.Close()
		fs.opened = false
	}
	fs.n, fs.torn = 0, false
	var errs []error
	for _, name := range []string{currentFile, previousFile} {
		if err := os.Remove(fs.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (fs *files) close() {
	if fs.opened {
		fs.f.Close()
		fs.opened = false
	}
}

// read returns the saved entries, oldest first, and counts current's lines
// and notes whether its last one is cut.
func (fs *files) read() ([]Entry, error) {
	var out []Entry
	for _, name := range []string{previousFile, currentFile} {
		n, torn, err := readLines(fs.path(name), func(line []byte) {
			var e Entry
			if json.Unmarshal(line, &e) == nil {
				out = append(out, e)
			}
		})
		if err != nil {
			return out, err
		}
		if name == currentFile {
			fs.n, fs.torn = n, torn
		}
	}
	return out, nil
}

// readLines calls fn with each complete line of the file at path (none if
// it does not exist); it returns how many lines there were, a cut last one
// included, and whether the file ends inside a line.
func readLines(path string, fn func([]byte)) (n int, torn bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it.
			long := bytes.Clone(line)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			n++
		}
		if err == io.EOF {
			return n, len(line) > 0, nil
		}
		if err != nil {
			return n, false, err
		}
		fn(line[:len(line)-1])
	}
}

// lastSeq returns the number of the newest entry saved in dir, 0 when
// there is none. Only the end of a file is read: Open numbers on from it
// before the rest is loaded.
func lastSeq(dir string) (uint64, error) {
	for _, name := range []string{currentFile, previousFile} {
		seq, ok, err := lastSeqOf(filepath.Join(dir, name))
		if err != nil || ok {
			return seq, err
		}
	}
	return 0, nil
}

func lastSeqOf(path string) (uint64, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	// The tail holds the newest entries; a file whose tail holds no whole
	// one (a line longer than the tail) is read in full.
	const tail = 64 << 10
	for _, from := range []int64{max(st.Size()-tail, 0), 0} {
		b := make([]byte, st.Size()-from)
		if _, err := f.ReadAt(b, from); err != nil && err != io.EOF {
			return 0, false, err
		}
		lines := bytes.Split(b, []byte{'\n'})
		for i := len(lines) - 1; i >= 0; i-- {
			if i == 0 && from > 0 {
				break // may be the end of a line that starts before the tail
			}
			var e struct{ ID string }
			if json.Unmarshal(lines[i], &e) != nil || e.ID == "" {
				continue
			}
			var seq uint64
			if _, err := fmt.Sscanf(e.ID, "%x", &seq); err == nil {
				return seq, true, nil
			}
		}
		if from == 0 {
			break
		}
	}
	return 0, false, nil
}
