package process

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// TestStatsMeasureTheProcessGroup: two samples of a process that keeps a
// CPU busy and holds 8 MiB show its CPU time growing and the memory; once it
// has exited it has no statistics.
func TestStatsMeasureTheProcessGroup(t *testing.T) {
	r := New()
	t.Cleanup(r.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id, err := r.Start(ctx, runtime.Spec{Image: taskBinary(t), Command: []string{"burn", "8", "50"}})
	if err != nil {
		t.Fatal(err)
	}
	var first runtime.Stats
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// The program touches its 8 MiB before it prints.
		if first, err = r.Stats(ctx, id); err == nil && first.MemoryUsage >= 8<<20 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("first sample %+v, %v", first, err)
		}
	}
	// Then a sample with more CPU time: /proc counts it in clock ticks, and
	// on a loaded machine the program can go without one for a while.
	var second runtime.Stats
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if second, err = r.Stats(ctx, id); err != nil {
			t.Fatal(err)
		}
		if second.Read.After(first.Read) && second.CPUTotal > first.CPUTotal {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("CPU time did not grow in 20 s: %+v then %+v", first, second)
		}
	}
	if second.CPUTotal != second.CPUUser+second.CPUKernel || second.PIDs == 0 {
		t.Errorf("samples %+v then %+v", first, second)
	}
	if err := r.Stop(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Wait(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stats(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("stats of an exited process: %v", err)
	}
}

func TestStatFieldsSurviveParenthesesInTheCommand(t *testing.T) {
	line := "4242 (a) b (c)) R 1 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 3 20 0 1 0 100 1000000 512 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	f, ok := statFields([]byte(line))
	if !ok || f.pgrp != 4242 || f.utime != 250 || f.stime != 30 || f.cutime != 7 || f.cstime != 3 || f.rss != 512 {
		t.Errorf("fields %+v, %v", f, ok)
	}
	if _, ok := statFields([]byte("12 (truncated")); ok {
		t.Error("a line without its fields parsed")
	}
}
