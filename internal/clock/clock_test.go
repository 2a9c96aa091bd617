package clock

import (
	"testing"
	"time"
)

func fired(ch <-chan time.Time) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestManualAfterFiresOnlyOnceAdvancedPastIt(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := NewManual(t0)
	soon, later := m.After(time.Second), m.After(time.Minute)
	m.Advance(999 * time.Millisecond)
	if fired(soon) || fired(later) {
		t.Fatal("a waiter fired before its time")
	}
	m.Advance(time.Millisecond)
	if !fired(soon) || fired(later) {
		t.Fatal("after 1 s: want the 1 s waiter fired and the 1 min one not")
	}
	m.Set(t0.Add(time.Hour))
	if !fired(later) {
		t.Fatal("Set past a waiter did not fire it")
	}
	m.Set(t0) // never backwards
	if got := m.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("Now = %v after setting an earlier time, want %v", got, t0.Add(time.Hour))
	}
	if !fired(m.After(0)) {
		t.Error("After(0) did not fire at once")
	}
}

func TestFuncTellsItsTime(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	if got := Func(func() time.Time { return t0 }).Now(); !got.Equal(t0) {
		t.Errorf("Now = %v, want %v", got, t0)
	}
}

func TestMovableAfterFiresWhenMovedPastIt(t *testing.T) {
	m := NewMovable()
	hour, day := m.After(time.Hour), m.After(24*time.Hour)
	before := m.Now()
	if _, err := m.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	if !fired(hour) {
		t.Fatal("After(1h) did not fire after Advance(1h)")
	}
	if fired(day) {
		t.Fatal("After(24h) fired after Advance(1h)")
	}
	if got := m.Now().Sub(before); got < time.Hour {
		t.Fatalf("Now moved %s after Advance(1h), want at least 1h", got)
	}
	if _, err := m.Set(before); err == nil {
		t.Fatal("Set to an earlier time was accepted")
	}
	if _, err := m.Advance(-time.Second); err == nil {
		t.Fatal("a negative Advance was accepted")
	}
	if _, err := m.Set(m.Now().Add(23 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !fired(day) {
		t.Fatal("After(24h) did not fire once the clock was set past it")
	}
}

func TestMovableAfterFiresInRealTime(t *testing.T) {
	m := NewMovable()
	select {
	case <-m.After(time.Millisecond):
	case <-time.After(10 * time.Second):
		t.Fatal("After(1ms) did not fire in real time")
	}
}
