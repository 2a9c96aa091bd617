package timeline

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

func TestEntriesKeepTheNewestAcrossChunks(t *testing.T) {
	const limit = chunkLen + 5
	var s entries
	total := 3*chunkLen + 17
	for i := range total {
		s.add(Entry{Subject: strconv.Itoa(i)})
		s.trim(limit, true)
		want := min(i+1, limit)
		if s.n != want {
			t.Fatalf("after %d adds: %d kept, want %d", i+1, s.n, want)
		}
		if len(s.chunks) > limit/chunkLen+2 {
			t.Fatalf("after %d adds: %d chunks held for %d entries", i+1, len(s.chunks), s.n)
		}
	}
	for i := range s.n {
		if got, want := s.at(i).Subject, strconv.Itoa(total-limit+i); got != want {
			t.Fatalf("entry %d = %s, want %s", i, got, want)
		}
	}
	all := s.all()
	if len(all) != limit || all[0].Subject != strconv.Itoa(total-limit) || all[limit-1].Subject != strconv.Itoa(total-1) {
		t.Fatalf("all: %d entries, from %s to %s", len(all), all[0].Subject, all[len(all)-1].Subject)
	}
	s.trim(0, true)
	if s.n != 0 || len(s.all()) != 0 {
		t.Fatalf("trimmed to nothing: %d kept", s.n)
	}
	s.add(Entry{Subject: "again"})
	if s.n != 1 || s.at(0).Subject != "again" {
		t.Fatalf("an entry after an empty trim: %d kept, first %q", s.n, s.at(0).Subject)
	}
}

// TestListsAndTracesReadWhileRecordsGoOn runs Record beside List and Trace,
// which read the entries after letting go of the Log's lock: under -race, a
// read of an entry Record is writing (in a chunk filled again while a view
// held it), or of a chunk list a trim is changing, fails the test. Each List must also be whole: newest first,
// with no gap, as the entries are numbered in the order recorded.
func TestListsAndTracesReadWhileRecordsGoOn(t *testing.T) {
	const limit = 3*chunkLen + 7
	l, err := Open(Options{Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const records = 20 * chunkLen
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range records {
			l.Record(ctx, Entry{Service: "sqs", Kind: "MessageSent", Subject: "m-" + strconv.Itoa(i)})
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	lists := 0
	for running := true; running; lists++ {
		select {
		case <-done:
			running = false
		default:
		}
		got := l.List(Filter{Service: "sqs"})
		if len(got) > limit {
			t.Fatalf("List returned %d entries, more than the %d kept", len(got), limit)
		}
		for i := 1; i < len(got); i++ {
			if a, b := subjectNumber(t, got[i-1]), subjectNumber(t, got[i]); a != b+1 {
				t.Fatalf("List is not whole and newest first: %d then %d", a, b)
			}
		}
		if len(got) > 0 {
			// The entry may have been trimmed since: then the trace is empty.
			s := got[0].Subject
			if tr := l.Trace(s); len(tr) > 1 || len(tr) == 1 && tr[0].Subject != s {
				t.Fatalf("Trace of %s = %v, want it alone", s, tr)
			}
		}
	}
	got := l.List(Filter{})
	if len(got) != limit || subjectNumber(t, got[0]) != records-1 {
		t.Fatalf("at the end: %d entries, the newest %s; want %d, the newest m-%d", len(got), got[0].Subject, limit, records-1)
	}
	t.Logf("%d lists beside %d records", lists, records)
}

func subjectNumber(t *testing.T, e Entry) int {
	t.Helper()
	n, err := strconv.Atoi(e.Subject[len("m-"):])
	if err != nil {
		t.Fatalf("subject %q", e.Subject)
	}
	return n
}
