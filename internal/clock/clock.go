// Package clock is the time every wharf service reads. Services take a Clock
// instead of calling time.Now and time.After, so that one clock, shared by all
// of them, can be the real one (Real) or one a test or a user moves (Manual).
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Clock tells the time and waits for it.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the machine's clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Or returns c, or Real when c is nil: what a service's clock option defaults to.
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Func is a Clock whose Now is now and whose After waits in real time: for
// tests that fix the time a service records but not how long it waits.
func Func(now func() time.Time) Clock { return funcClock(now) }

type funcClock func() time.Time

func (f funcClock) Now() time.Time                       { return f() }
func (funcClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Manual is a Clock that moves only when told: After fires once Advance or Set
// has moved the time to or past it. The zero Manual starts at the zero time.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a Manual clock at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// After returns a channel that receives the clock's time once it has moved d
// forward; d <= 0 fires at once.
func (m *Manual) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- m.now
		return ch
	}
	m.waiters = append(m.waiters, waiter{at: m.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock d forward and fires every After now due.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(m.now.Add(d))
}

// Set moves the clock to t (never backwards) and fires every After now due.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.After(m.now) {
		m.setLocked(t)
	}
}

func (m *Manual) setLocked(t time.Time) {
	m.now = t
	kept := m.waiters[:0]
	for _, w := range m.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	m.waiters = kept
}

// Movable is the machine's clock moved forward by an offset that only grows:
// what wharf serves by, so that a user can fire an hourly schedule, expire a
// visibility timeout or elapse an alarm period without waiting (POST
// /_wharf/clock). After waits in real time as Real does, and fires early once
// a move brings the time to or past it. Never moving it is Real.
type Movable struct {
	mu      sync.Mutex
	offset  time.Duration
	waiters map[*movableWaiter]struct{}
}

type movableWaiter struct {
	at    time.Time
	ch    chan time.Time
	timer *time.Timer
}

// NewMovable returns a Movable at real time.
func NewMovable() *Movable { return &Movable{waiters: map[*movableWaiter]struct{}{}} }

// Now returns the real time plus the offset.
func (m *Movable) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return time.Now().Add(m.offset)
}

// Offset is how far the clock has been moved ahead of real time.
func (m *Movable) Offset() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.offset
}

// After returns a channel that receives the time once d has passed, in real
// time or by moves, whichever comes first.
func (m *Movable) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan time.Time, 1)
	now := time.Now().Add(m.offset)
	if d <= 0 {
		ch <- now
		return ch
	}
	w := &movableWaiter{at: now.Add(d), ch: ch}
	m.waiters[w] = struct{}{}
	w.timer = time.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.waiters[w]; ok {
			delete(m.waiters, w)
			w.ch <- time.Now().Add(m.offset)
		}
	})
	return ch
}

// Advance moves the clock d forward (d must not be negative) and fires every
// After now due. It returns the new time.
func (m *Movable) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("the clock only moves forward: cannot advance by %s", d)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offset += d
	now := time.Now().Add(m.offset)
	for w := range m.waiters {
		if !w.at.After(now) {
			delete(m.waiters, w)
			w.timer.Stop()
			w.ch <- now
		}
	}
	return now, nil
}

// Set moves the clock to t, which must not be before its time now: services
// keep times they have handed out (visibility deadlines, next firings), and
// time running backwards would break what they promised.
func (m *Movable) Set(t time.Time) (time.Time, error) {
	now := m.Now()
	if t.Before(now) {
		return time.Time{}, fmt.Errorf("the clock only moves forward: %s is before its time now, %s",
			t.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	return m.Advance(t.Sub(now))
}
