// Package timeline records every hop an event, message or task takes through
// wharf (an object created, the event it became, the rules it matched or that
// none did, each target invocation with its outcome and error, the task it
// started, the messages it sent), each entry linked to what caused it. It is
// what answers "why didn't my rule fire?": the log, GET /_wharf/api/timeline,
// /_wharf/api/trace/{id} and the console all read it.
//
// Entries are kept in memory (the newest Limit) and flushed in the background
// to files in the data directory (see file.go), so a restart keeps the recent
// history. The timeline is a record, not acknowledged data: entries not yet
// flushed when wharf is killed are lost, which is why a hop never waits for a
// disk write, and why they are not kept in the store, whose every write is
// synced.
package timeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// Outcomes of an entry that did something that can fail.
const (
	OK     = "ok"
	Failed = "failed"
)

// Entry is one hop. Subject names the thing the hop is about (an event id, a
// message id, a task ARN, a request id); Cause is the Subject of what caused
// it. Entries that share a Subject are one node of a causal chain; Trace follows
// Cause links up to the root and down to every descendant.
type Entry struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`            // "s3", "events", "sqs", ...
	Kind     string    `json:"kind"`               // "ObjectCreated", "RuleMatched", "Invocation", ...
	Resource string    `json:"resource,omitempty"` // the ARN the hop concerns
	Subject  string    `json:"subject,omitempty"`
	Cause    string    `json:"cause,omitempty"`
	Outcome  string    `json:"outcome,omitempty"` // OK, Failed or empty
	Error    string    `json:"error,omitempty"`
	Detail   string    `json:"detail,omitempty"` // one short sentence for people
	// Quiet hops (every SQS receive and delete) are logged at debug, not info:
	// the default log tells the story without a line per message.
	Quiet bool `json:"quiet,omitempty"`
}

type causeKey struct{}

// WithCause returns ctx carrying id as the cause of the hops recorded under
// it, so that a service acting for another (SQS sending what a rule
// delivered) links its entry to the one before without knowing it.
func WithCause(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, causeKey{}, id)
}

// CauseOf returns the cause WithCause put in ctx, or "".
func CauseOf(ctx context.Context) string {
	s, _ := ctx.Value(causeKey{}).(string)
	return s
}

// DefaultLimit is how many entries a Log keeps, in memory and on disk.
const DefaultLimit = 10000

const prefix = "timeline/"

// Options configure a Log.
type Options struct {
	// Dir is the directory the entries are saved in; empty keeps them in
	// memory only.
	Dir string
	// Store, when set, may hold entries an older wharf saved there under
	// timeline/<id>: they are read once, moved to Dir, and deleted from it.
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time
	Limit  int // entries kept; DefaultLimit when zero
}

// Log is the timeline. It is safe for concurrent use.
type Log struct {
	st    store.Store
	log   *slog.Logger
	now   func() time.Time
	limit int

	mu      sync.Mutex
	entries entries // oldest first, at most limit
	views   int     // views of entries being read (see view)
	seq     uint64
	// ids holds the ids of the entries after seq, idsFor the first's seq:
	// nextID renders them idRun at a time into one string, since an SQS
	// batch records thirty entries and a string each was thirty
	// allocations.
	ids    string
	idsFor uint64
	// pending holds the entries not yet written to the files, encoded as
	// the JSON lines they are saved as, npending of them: bytes the garbage
	// collector need not scan, encoded once, and no second copy of each
	// entry's strings kept alive until the next flush.
	pending  []byte
	npending int
	subs     map[chan Entry]struct{}
	flushed  chan struct{} // signalled when pending grows
	full     chan struct{} // signalled when pending passes flushBytes

	// fileMu serialises flush and Reset on the files (nil: memory only).
	fileMu sync.Mutex
	files  *files
	spare  []byte // the buffer pending had before the last flush, for the next
	// failing is set while saving fails: the failure is logged once, and
	// again when saving works again.
	failing bool

	// loaded is closed once the entries saved by an earlier wharf are in
	// entries: Open leaves reading them to a goroutine, so that up to
	// DefaultLimit entries to decode do not delay the ready line. Readers
	// of entries from before Open, and flush, wait for it.
	loaded chan struct{}
}

// Open returns a timeline holding the entries saved in opts.Dir (and any an
// older wharf left in opts.Store).
func Open(opts Options) (*Log, error) {
	l := &Log{st: opts.Store, log: opts.Logger, now: opts.Now, limit: opts.Limit,
		subs: map[chan Entry]struct{}{}, flushed: make(chan struct{}, 1), full: make(chan struct{}, 1), loaded: make(chan struct{})}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.limit <= 0 {
		l.limit = DefaultLimit
	}
	if opts.Dir == "" {
		l.st = nil
		close(l.loaded)
		return l, nil
	}
	l.files = &files{dir: opts.Dir}
	// Only the newest saved entry is read now, to go on numbering from it.
	seq, err := lastSeq(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("timeline: load: %w", err)
	}
	l.seq = seq
	if l.st != nil {
		err := l.st.View(func(tx store.Tx) error {
			return tx.ScanReverse([]byte(prefix), nil, func(k, _ []byte) (bool, error) {
				var old uint64
				fmt.Sscanf(string(k[len(prefix):]), "%x", &old)
				l.seq = max(l.seq, old)
				return false, nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("timeline: load: %w", err)
		}
	}
	go l.load()
	return l, nil
}

// load reads the saved entries (those of earlier runs: nothing is saved
// before it is done) into entries, before the ones recorded since Open.
// Entries an older wharf kept in the store come first; they are written to
// the files and deleted from the store.
func (l *Log) load() {
	defer close(l.loaded)
	var legacy []Entry
	var legacyKeys [][]byte
	if l.st != nil {
		err := l.st.View(func(tx store.Tx) error {
			return tx.Scan([]byte(prefix), nil, func(k, v []byte) (bool, error) {
				var e Entry
				if json.Unmarshal(v, &e) == nil {
					legacy = append(legacy, e)
				}
				legacyKeys = append(legacyKeys, bytes.Clone(k))
				return true, nil
			})
		})
		if err != nil {
			l.log.Warn("timeline: the entries of earlier runs could not be read", "err", err)
			return
		}
	}
	saved, err := l.files.read()
	if err != nil {
		l.log.Warn("timeline: the entries of earlier runs could not be read", "err", err)
	}
	saved = append(legacy, saved...)
	if over := len(saved) - l.limit; over > 0 {
		saved = saved[over:]
	}
	if len(legacyKeys) > 0 {
		l.migrate(saved, legacyKeys)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var kept entries
	for _, e := range append(saved, l.entries.all()...) {
		kept.add(e)
	}
	kept.trim(l.limit, false)
	l.entries = kept
}

// migrate writes saved, the entries of earlier runs with those an older
// wharf kept in the store, as the files' only content, and then deletes
// the store's keys.
func (l *Log) migrate(saved []Entry, keys [][]byte) {
	if err := l.files.remove(); err != nil {
		l.log.Warn("timeline: moving saved entries out of the store", "err", err)
		return
	}
	if err := l.files.save(saved, l.limit); err != nil {
		l.log.Warn("timeline: moving saved entries out of the store", "err", err)
		return
	}
	err := l.st.Update(func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.log.Warn("timeline: moving saved entries out of the store", "err", err)
	}
}

// Record adds e: it fills ID and Time (when zero) and Cause from ctx (when
// empty), logs it, and hands it to every live subscriber.
func (l *Log) Record(ctx context.Context, e Entry) {
	l.LogEntry(l.RecordUnlogged(ctx, e))
}

// RecordUnlogged is Record without the log line, which LogEntry writes
// with the entry it returns: for a caller that records while holding a
// lock (SQS, inside a store update) that must not wait on the log's
// writer.
func (l *Log) RecordUnlogged(ctx context.Context, e Entry) Entry {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	if e.Cause == "" {
		e.Cause = CauseOf(ctx)
	}
	if e.Cause == e.Subject {
		e.Cause = ""
	}
	// The saved line, all but its id, encoded outside the lock (on the
	// stack unless it is long).
	var buf [512]byte
	var line []byte
	if l.files != nil {
		line = appendAfterID(buf[:0], &e)
	}
	l.mu.Lock()
	l.seq++
	e.ID = l.nextID()
	l.entries.add(e)
	l.entries.trim(l.limit, l.views == 0)
	full := false
	if l.files != nil {
		// The id is 16 hex digits: nothing to escape.
		was := len(l.pending)
		l.pending = append(l.pending, `{"id":"`...)
		l.pending = append(l.pending, e.ID...)
		l.pending = append(l.pending, `",`...)
		l.pending = append(append(l.pending, line...), '\n')
		l.npending++
		full = was < flushBytes && len(l.pending) >= flushBytes
	}
	for ch := range l.subs {
		select {
		case ch <- e:
		default: // a slow reader misses entries rather than slowing a hop
		}
	}
	l.mu.Unlock()
	if l.files != nil {
		select {
		case l.flushed <- struct{}{}:
		default:
		}
		if full {
			select {
			case l.full <- struct{}{}:
			default:
			}
		}
	}
	return e
}

// LogEntry writes the one line of e, an entry RecordUnlogged returned:
// failures at warn, quiet hops at debug, the rest at info.
func (l *Log) LogEntry(e Entry) {
	level := slog.LevelInfo
	switch {
	case e.Outcome == Failed:
		level = slog.LevelWarn
	case e.Quiet:
		level = slog.LevelDebug
	}
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	msg := e.Detail
	if msg == "" {
		msg = e.Kind
	}
	attrs := []slog.Attr{slog.String("service", e.Service), slog.String("kind", e.Kind)}
	if e.Resource != "" {
		attrs = append(attrs, slog.String("resource", e.Resource))
	}
	if e.Subject != "" {
		attrs = append(attrs, slog.String("id", e.Subject))
	}
	if e.Cause != "" {
		attrs = append(attrs, slog.String("cause", e.Cause))
	}
	if e.Error != "" {
		attrs = append(attrs, slog.String("err", e.Error))
	}
	l.log.LogAttrs(context.Background(), level, e.Service+": "+msg, attrs...)
}

// Run saves recorded entries to the files in batches until ctx is
// cancelled, then saves the rest.
func (l *Log) Run(ctx context.Context) {
	if l.files == nil {
		<-ctx.Done()
		return
	}
	for {
		select {
		case <-ctx.Done():
			l.flush()
			l.fileMu.Lock()
			l.files.close()
			l.fileMu.Unlock()
			return
		case <-l.flushed:
		}
		wait := 200 * time.Millisecond // one write for the hops of the next moment, not one each
		full := l.full
		if !l.flush() {
			full = nil // a failing write is retried on time only
			// Try again in a while, even if nothing new is recorded.
			wait = 2 * time.Second
			select {
			case l.flushed <- struct{}{}:
			default:
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-full:
			// Busy: flush now, so that pending does not outgrow the
			// buffer the last flush left (growing one again each
			// flush, and past maxSpare from nothing, was most of a
			// busy durable wharf's cost of its hops).
		}
		t.Stop()
	}
}

// flushBytes is how much pending flushes without waiting for the rest of
// the moment.
const flushBytes = 256 << 10

// maxSpare bounds the buffer a flush keeps for the next one: a burst's
// buffer is not held for good.
const maxSpare = 1 << 20

// flush appends the pending entries to the files. It reports false when
// some could not be written (a full disk, a directory gone): those stay
// pending, ahead of the entries recorded since, for the next flush to write;
// the newest limit of them are kept, the older are dropped from the files
// (not from memory) and counted in the log. Whatever is still pending when
// the timeline stops is lost, as entries recorded just before a crash are.
func (l *Log) flush() bool {
	<-l.loaded // the entries of earlier runs go first
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	l.mu.Lock()
	batch, n := l.pending, l.npending
	l.pending, l.npending = l.spare[:0], 0
	l.mu.Unlock()
	l.spare = nil
	if n == 0 {
		l.spare = batch[:0]
		return true
	}
	written, err := l.files.write(batch, n, l.limit)
	if err == nil {
		if l.failing {
			l.failing = false
			l.log.Info("timeline: saving entries again")
		}
		if cap(batch) <= maxSpare {
			l.spare = batch[:0]
		}
		return true
	}
	// Put what was not written back in front of what was recorded since.
	rest := batch[written:]
	left := bytes.Count(rest, []byte{'\n'})
	l.mu.Lock()
	newer := l.pending
	back := append(batch[:copy(batch, rest)], newer...)
	dropped := 0
	if over := left + l.npending - l.limit; over > 0 {
		cut := 0
		for range over {
			cut += bytes.IndexByte(back[cut:], '\n') + 1
		}
		back = back[:copy(back, back[cut:])]
		dropped = over
	}
	l.pending, l.npending = back, left+l.npending-dropped
	pending := l.npending
	l.mu.Unlock()
	if cap(newer) <= maxSpare {
		l.spare = newer[:0]
	}
	if !l.failing || dropped > 0 {
		l.log.Warn("timeline: entries could not be saved; they are kept in memory and saving is retried",
			"err", err, "pending", pending, "dropped", dropped)
	}
	l.failing = true
	return false
}

// Filter selects entries. Zero fields select everything.
type Filter struct {
	Since, Until time.Time
	Service      string
	Resource     string // an ARN: entries about it, or about a resource under it
	ID           string // an event, message or task id: entries about it or caused by it
	Limit        int
}

// Match reports whether f selects e (Limit aside).
func (f *Filter) Match(e *Entry) bool {
	switch {
	case !f.Since.IsZero() && e.Time.Before(f.Since):
		return false
	case !f.Until.IsZero() && e.Time.After(f.Until):
		return false
	case f.Service != "" && e.Service != f.Service:
		return false
	case f.Resource != "" && e.Resource != f.Resource && !under(e.Resource, f.Resource):
		return false
	case f.ID != "" && e.Subject != f.ID && e.Cause != f.ID && e.ID != f.ID:
		return false
	}
	return true
}

// view returns the entries to read without the lock, until done is
// called: no chunk it holds is filled again meanwhile.
func (l *Log) view() (kept entries, done func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.views++
	return l.entries.view(), func() {
		l.mu.Lock()
		l.views--
		l.mu.Unlock()
	}
}

// under reports whether resource is parent + "/" + something (without
// building that string for every entry a List reads).
func under(resource, parent string) bool {
	return len(resource) > len(parent) && resource[len(parent)] == '/' && strings.HasPrefix(resource, parent)
}

// List returns the entries f selects, newest first, at most f.Limit (all
// when zero).
func (l *Log) List(f Filter) []Entry {
	<-l.loaded
	kept, done := l.view()
	defer done()
	var out []Entry
	for i := kept.n - 1; i >= 0; i-- {
		if e := kept.at(i); f.Match(e) {
			out = append(out, *e)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out
}

// maxTrace bounds a trace: a schedule firing every second for hours is one
// chain, and the answer must stay readable.
const maxTrace = 2000

// Trace returns the causal chain id belongs to, oldest first: from the root
// cause down to every hop it led to. id is an entry id or a Subject (an event
// id, a message id, a task ARN). It returns nil when id is unknown.
func (l *Log) Trace(id string) []Entry {
	<-l.loaded
	kept, done := l.view()
	defer done()
	bySubject := map[string][]int{}
	byCause := map[string][]string{}
	start := ""
	for i := range kept.n {
		e := kept.at(i)
		s := subjectOf(e)
		bySubject[s] = append(bySubject[s], i)
		if e.Cause != "" {
			byCause[e.Cause] = append(byCause[e.Cause], s)
		}
		if e.ID == id {
			start = s
		}
	}
	if start == "" {
		if _, ok := bySubject[id]; !ok {
			return nil
		}
		start = id
	}
	// Up to the root: the first known cause of each subject.
	root, seen := start, map[string]bool{start: true}
	for {
		next := ""
		for _, i := range bySubject[root] {
			if c := kept.at(i).Cause; c != "" {
				next = c
				break
			}
		}
		if next == "" || seen[next] {
			break
		}
		seen[next] = true
		if _, known := bySubject[next]; !known {
			// The cause was trimmed or recorded nowhere: keep it as the root
			// so its other effects are found too.
			root = next
			break
		}
		root = next
	}
	// Down: every subject caused, transitively, by the root.
	in := map[string]bool{root: true}
	queue := []string{root}
	for len(queue) > 0 && len(in) < maxTrace {
		s := queue[0]
		queue = queue[1:]
		for _, c := range byCause[s] {
			if !in[c] {
				in[c] = true
				queue = append(queue, c)
			}
		}
	}
	var out []Entry
	for i := range kept.n {
		if e := kept.at(i); in[subjectOf(e)] {
			out = append(out, *e)
			if len(out) == maxTrace {
				break
			}
		}
	}
	return out
}

// hexID is seq as 16 lower-case hex digits, the form of an entry's ID.
func hexID(seq uint64) string {
	return string(appendHexID(nil, seq))
}

func appendHexID(b []byte, seq uint64) []byte {
	const digits = "0123456789abcdef"
	var d [16]byte
	for i := 15; i >= 0; i-- {
		d[i] = digits[seq&0xf]
		seq >>= 4
	}
	return append(b, d[:]...)
}

// idRun is how many ids nextID renders at once.
const idRun = 64

// nextID returns hexID(l.seq), cut from a run of ids rendered together; l.mu
// is held. A run is rendered again from l.seq when l.seq is not the one it
// was for (Open sets l.seq from the saved entries).
func (l *Log) nextID() string {
	if l.ids == "" || l.idsFor != l.seq {
		var b [16 * idRun]byte
		run := b[:0]
		for i := range uint64(idRun) {
			run = appendHexID(run, l.seq+i)
		}
		l.ids = string(run)
	}
	id := l.ids[:16]
	l.ids, l.idsFor = l.ids[16:], l.seq+1
	return id
}

func subjectOf(e *Entry) string {
	if e.Subject != "" {
		return e.Subject
	}
	return e.ID
}

// Subscribe returns a channel that receives every entry recorded from now on
// (a slow reader misses some), and a function that ends the subscription.
func (l *Log) Subscribe() (<-chan Entry, func()) {
	ch := make(chan Entry, 256)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.subs, ch)
			l.mu.Unlock()
		})
	}
}

// Reset forgets every entry, in memory and on disk.
func (l *Log) Reset() error {
	<-l.loaded
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	l.mu.Lock()
	l.entries, l.pending, l.npending = entries{}, l.pending[:0], 0
	l.mu.Unlock()
	l.failing = false
	if l.files == nil {
		return nil
	}
	err := l.files.remove()
	if l.st != nil {
		// Entries an older wharf left in the store, if moving them failed.
		err = errors.Join(err, l.st.Update(func(tx store.Tx) error {
			var keys [][]byte
			err := tx.Scan([]byte(prefix), nil, func(k, _ []byte) (bool, error) {
				keys = append(keys, bytes.Clone(k))
				return true, nil
			})
			for _, k := range keys {
				if err == nil {
					err = tx.Delete(k)
				}
			}
			return err
		}))
	}
	return err
}
