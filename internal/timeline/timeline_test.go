package timeline

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// chain records an upload that became an event, matched a rule and sent a
// message, plus an unrelated event.
func chain(l *Log) {
	ctx := context.Background()
	l.Record(ctx, Entry{Service: "s3", Kind: "ObjectCreated", Resource: "arn:aws:s3:::b/k", Subject: "req-1"})
	l.Record(WithCause(ctx, "req-1"), Entry{Service: "events", Kind: "EventReceived", Subject: "ev-1"})
	l.Record(ctx, Entry{Service: "events", Kind: "RuleMatched", Resource: "arn:aws:events:us-east-1:1:rule/r", Subject: "ev-1"})
	l.Record(WithCause(ctx, "ev-1"), Entry{Service: "sqs", Kind: "MessageSent", Resource: "arn:aws:sqs:us-east-1:1:q", Subject: "msg-1"})
	l.Record(ctx, Entry{Service: "sqs", Kind: "MessageReceived", Resource: "arn:aws:sqs:us-east-1:1:q", Subject: "msg-1", Quiet: true})
	l.Record(ctx, Entry{Service: "events", Kind: "NoRuleMatched", Subject: "ev-2"})
}

func kinds(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

func TestTraceFollowsCausesUpAndDown(t *testing.T) {
	l, _ := Open(Options{})
	chain(l)
	want := []string{"ObjectCreated", "EventReceived", "RuleMatched", "MessageSent", "MessageReceived"}
	for _, id := range []string{"req-1", "ev-1", "msg-1"} {
		if got := kinds(l.Trace(id)); !equal(got, want) {
			t.Errorf("Trace(%s) = %v, want %v", id, got, want)
		}
	}
	if got := kinds(l.Trace("ev-2")); !equal(got, []string{"NoRuleMatched"}) {
		t.Errorf("Trace(ev-2) = %v", got)
	}
	if got := l.Trace("nothing"); got != nil {
		t.Errorf("Trace of an unknown id = %v", got)
	}
}

func TestListFiltersNewestFirst(t *testing.T) {
	l, _ := Open(Options{})
	chain(l)
	if got := kinds(l.List(Filter{Service: "sqs"})); !equal(got, []string{"MessageReceived", "MessageSent"}) {
		t.Errorf("service filter: %v", got)
	}
	if got := kinds(l.List(Filter{ID: "ev-1"})); !equal(got, []string{"MessageSent", "RuleMatched", "EventReceived"}) {
		t.Errorf("id filter: %v", got)
	}
	if got := kinds(l.List(Filter{Resource: "arn:aws:s3:::b"})); !equal(got, []string{"ObjectCreated"}) {
		t.Errorf("resource filter: %v", got)
	}
	if got := l.List(Filter{Limit: 2}); len(got) != 2 || got[0].Kind != "NoRuleMatched" {
		t.Errorf("limit: %v", kinds(got))
	}
	if got := l.List(Filter{Since: time.Now().Add(time.Hour)}); len(got) != 0 {
		t.Errorf("since in the future: %v", kinds(got))
	}
}

func TestEntriesSurviveReopenAndStayBounded(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	chain(l) // 6 entries, the newest 4 read back
	l.flush()
	l2, err := Open(Options{Dir: dir, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := l2.List(Filter{})
	if want := []string{"NoRuleMatched", "MessageReceived", "MessageSent", "RuleMatched"}; !equal(kinds(got), want) {
		t.Fatalf("after reopen: %v, want %v", kinds(got), want)
	}
	// New ids continue after the saved ones.
	l2.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageDeleted", Subject: "msg-1"})
	if last := l2.List(Filter{Limit: 1})[0]; last.ID <= got[0].ID {
		t.Errorf("new id %s not after %s", last.ID, got[0].ID)
	}
	if err := l2.Reset(); err != nil {
		t.Fatal(err)
	}
	l3, _ := Open(Options{Dir: dir})
	if n := len(l3.List(Filter{})); n != 0 {
		t.Errorf("after reset %d entries remain", n)
	}
}

// TestFilesStayBounded: however many entries are flushed, the files hold at
// most twice the limit, and a reopen reads the newest limit of them.
func TestFilesStayBounded(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(Options{Dir: dir, Limit: 4})
	for i := 0; i < 11; i++ {
		l.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageSent", Subject: hexID(uint64(i))})
		if i%3 == 0 {
			l.flush()
		}
	}
	l.flush()
	lines := 0
	for _, name := range []string{currentFile, previousFile} {
		n, _, err := readLines(filepath.Join(dir, name), func([]byte) {})
		if err != nil {
			t.Fatal(err)
		}
		lines += n
	}
	if lines > 8 {
		t.Errorf("%d entries in the files, want at most 8", lines)
	}
	l2, _ := Open(Options{Dir: dir, Limit: 4})
	got := l2.List(Filter{})
	var subjects []string
	for _, e := range got {
		subjects = append(subjects, e.Subject)
	}
	if want := []string{hexID(10), hexID(9), hexID(8), hexID(7)}; !equal(subjects, want) {
		t.Errorf("after reopen: %v, want %v", subjects, want)
	}
}

// TestCutLastLineIsSkipped: a crash in the middle of a write leaves the
// last line cut; it is skipped, and what is saved after it reads back.
func TestCutLastLineIsSkipped(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(Options{Dir: dir})
	chain(l)
	l.flush()
	f, err := os.OpenFile(filepath.Join(dir, currentFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"00000000000000ff","time":"2026-12-`)
	f.Close()
	l2, _ := Open(Options{Dir: dir})
	if got := kinds(l2.List(Filter{})); len(got) != 6 {
		t.Fatalf("after the cut: %v", got)
	}
	l2.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageDeleted", Subject: "msg-1"})
	l2.flush()
	l3, _ := Open(Options{Dir: dir})
	got := l3.List(Filter{})
	if len(got) != 7 || got[0].Kind != "MessageDeleted" {
		t.Fatalf("after a save past the cut: %v", kinds(got))
	}
	if got[0].ID <= got[1].ID {
		t.Errorf("new id %s not after %s", got[0].ID, got[1].ID)
	}
}

// TestEntriesMoveOutOfTheStore: entries an older wharf saved in the store
// are read, written to the files and deleted from the store, and numbering
// goes on after them.
func TestEntriesMoveOutOfTheStore(t *testing.T) {
	st := store.OpenMemory()
	ctx := context.Background()
	err := st.Update(func(tx store.Tx) error {
		for i, kind := range []string{"ObjectCreated", "EventReceived", "RuleMatched"} {
			e := Entry{ID: hexID(uint64(i + 1)), Time: time.Now().UTC(), Service: "events", Kind: kind}
			if err := tx.Put([]byte(prefix+e.ID), appendJSON(nil, &e)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	l.Record(ctx, Entry{Service: "sqs", Kind: "MessageSent", Subject: "msg-1"})
	l.flush()
	want := []string{"MessageSent", "RuleMatched", "EventReceived", "ObjectCreated"}
	got := l.List(Filter{})
	if !equal(kinds(got), want) {
		t.Fatalf("listed %v, want %v", kinds(got), want)
	}
	if got[0].ID != hexID(4) {
		t.Errorf("new id %s, want %s", got[0].ID, hexID(4))
	}
	n := 0
	st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(prefix), nil, func(_, _ []byte) (bool, error) { n++; return true, nil })
	})
	if n != 0 {
		t.Errorf("%d entries left in the store", n)
	}
	l2, _ := Open(Options{Dir: dir, Store: st})
	if got := kinds(l2.List(Filter{})); !equal(got, want) {
		t.Errorf("after reopen: %v, want %v", got, want)
	}
}

func TestSubscribeSeesNewEntries(t *testing.T) {
	l, _ := Open(Options{})
	ch, cancel := l.Subscribe()
	defer cancel()
	l.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageSent", Subject: "m"})
	select {
	case e := <-ch:
		if e.Kind != "MessageSent" || e.ID == "" {
			t.Errorf("got %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no entry")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEntriesRecordedWhileLoadingFollowTheSavedOnes: Open reads the saved
// entries in the background; what is recorded meanwhile is numbered after
// them and listed after them, and a flush keeps the bound on disk.
func TestEntriesRecordedWhileLoadingFollowTheSavedOnes(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	chain(l)
	l.flush()
	// The load's scan of the store (for an older wharf's entries) waits
	// until a new entry is recorded.
	release := make(chan struct{})
	l2, err := Open(Options{Dir: dir, Store: &heldScans{Store: store.OpenMemory(), release: release}, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	l2.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageDeleted", Subject: "msg-1"})
	close(release)
	got := l2.List(Filter{})
	if want := []string{"MessageDeleted", "NoRuleMatched", "MessageReceived", "MessageSent", "RuleMatched"}; !equal(kinds(got), want) {
		t.Fatalf("listed %v, want %v", kinds(got), want)
	}
	if got[0].ID <= got[1].ID {
		t.Errorf("new id %s not after %s", got[0].ID, got[1].ID)
	}
	l2.flush()
	l3, _ := Open(Options{Dir: dir, Limit: 5})
	if got3 := l3.List(Filter{}); !equal(kinds(got3), kinds(got)) {
		t.Errorf("after reopen %v, want %v", kinds(got3), kinds(got))
	}
}

// heldScans is a store whose Scans wait for release.
type heldScans struct {
	store.Store
	release chan struct{}
}

func (h *heldScans) View(fn func(store.Tx) error) error {
	return h.Store.View(func(tx store.Tx) error { return fn(heldTx{tx, h.release}) })
}

type heldTx struct {
	store.Tx
	release chan struct{}
}

func (t heldTx) Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	<-t.release
	return t.Tx.Scan(prefix, start, fn)
}

// TestFailedSaveIsRetriedAndReported: entries a flush cannot write (here the
// data directory is a file) stay pending, the newest limit of them, and the
// first flush that can write saves them; the failure is logged once, and
// again only when it drops entries from what will be saved.
func TestFailedSaveIsRetriedAndReported(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var logged bytes.Buffer
	l, err := Open(Options{Dir: dir, Limit: 4, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	chain(l) // 6 entries: the oldest 2 are past the limit
	if l.flush() {
		t.Fatal("a flush into a file that is not a directory succeeded")
	}
	if l.flush() {
		t.Fatal("the second flush succeeded")
	}
	if n := strings.Count(logged.String(), "could not be saved"); n != 1 {
		t.Errorf("the failure logged %d times, want once:\n%s", n, logged.String())
	}
	l.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageDeleted", Subject: "msg-1"})
	if l.flush() {
		t.Fatal("the third flush succeeded")
	}
	if !strings.Contains(logged.String(), "dropped=1") {
		t.Errorf("the entry dropped from the files is not reported:\n%s", logged.String())
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if !l.flush() {
		t.Fatal("the flush after the directory came back failed")
	}
	if !strings.Contains(logged.String(), "saving entries again") {
		t.Errorf("the recovery is not logged:\n%s", logged.String())
	}
	l2, err := Open(Options{Dir: dir, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := l2.List(Filter{})
	if want := []string{"MessageDeleted", "NoRuleMatched", "MessageReceived", "MessageSent"}; !equal(kinds(got), want) {
		t.Fatalf("after reopen: %v, want %v", kinds(got), want)
	}
	if got[0].ID != hexID(7) || got[3].ID != hexID(4) {
		t.Errorf("ids %s..%s, want %s..%s", got[3].ID, got[0].ID, hexID(4), hexID(7))
	}
}

// TestBusyTimelineFlushesEarly: once the entries waiting to be saved pass
// flushBytes, Record asks Run to flush now rather than at the end of its
// wait, so that the buffer they are kept in stays the size the last flush
// left; fewer do not ask.
func TestBusyTimelineFlushesEarly(t *testing.T) {
	l, _ := Open(Options{Dir: t.TempDir(), Limit: 100000})
	ctx := context.Background()
	e := Entry{Service: "sns", Kind: "Delivery", Resource: "arn:aws:sns:us-east-1:000000000000:t:sub", Subject: "id", Detail: strings.Repeat("d", 200)}
	for len(l.pending) < flushBytes/2 {
		l.Record(ctx, e)
	}
	select {
	case <-l.full:
		t.Fatalf("asked for an early flush with %d bytes pending", len(l.pending))
	default:
	}
	for len(l.pending) < flushBytes {
		l.Record(ctx, e)
	}
	select {
	case <-l.full:
	default:
		t.Fatalf("%d bytes pending and no early flush asked for", len(l.pending))
	}
	l.Record(ctx, e)
	select {
	case <-l.full:
		t.Fatal("asked again before a flush")
	default:
	}
	if !l.flush() || len(l.pending) != 0 {
		t.Fatalf("flush left %d bytes pending", len(l.pending))
	}
}

// TestEntriesAreNumberedInOrderAcrossIDRuns: ids are handed out from runs
// rendered idRun at a time; every entry still has the next number, past
// the end of a run and after a reopen continues from the saved ones.
func TestEntriesAreNumberedInOrderAcrossIDRuns(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(Options{Dir: dir})
	const n = 2*idRun + 5
	for range n {
		l.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageSent"})
	}
	got := l.List(Filter{}) // newest first
	if len(got) != n {
		t.Fatalf("%d entries, want %d", len(got), n)
	}
	for i, e := range got {
		if want := hexID(uint64(n - i)); e.ID != want {
			t.Fatalf("entry %d from the newest has id %s, want %s", i, e.ID, want)
		}
	}
	l.flush()
	l2, _ := Open(Options{Dir: dir})
	<-l2.loaded
	l2.Record(context.Background(), Entry{Service: "sqs", Kind: "MessageSent"})
	if got := l2.List(Filter{}); got[0].ID != hexID(n+1) {
		t.Errorf("after a reopen the next id is %s, want %s", got[0].ID, hexID(n+1))
	}
}
