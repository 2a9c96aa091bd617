package server

import (
	"context"
	"sync"
	"sync/atomic"
)

// Gate lets wharf-wide operations (a reset) run while no AWS request is
// being served: each request holds the gate shared; Exclusive cancels the
// contexts of the requests in flight (a long poll then answers at once, with
// nothing), waits for them to end, and holds new ones back until it is done.
// The zero Gate is ready to use.
type Gate struct {
	mu      sync.RWMutex
	excl    sync.Mutex // one Exclusive at a time
	current atomic.Pointer[epoch]
}

type epoch struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (g *Gate) epoch() *epoch {
	for {
		if e := g.current.Load(); e != nil {
			return e
		}
		ctx, cancel := context.WithCancel(context.Background())
		if g.current.CompareAndSwap(nil, &epoch{ctx, cancel}) {
			continue
		}
		cancel()
	}
}

// Enter holds the gate for one request. The returned Held is the request's
// context: ctx, also cancelled when an Exclusive begins. Call its Exit when
// the request has ended.
func (g *Gate) Enter(ctx context.Context) *Held {
	g.mu.RLock()
	return &Held{Context: ctx, g: g, e: g.epoch()}
}

// Round holds the gate for one round of a service loop's work, as Enter
// does for a request, and returns the round's context and its end: the
// form of the Round option of the services whose loops a reset must not
// interleave with.
func (g *Gate) Round(ctx context.Context) (context.Context, func()) {
	h := g.Enter(ctx)
	return h, h.Exit
}

// Held is a request's context while it holds the gate.
//
// A context joined to the epoch's (a cancelable child of the request's,
// cancelled by a callback on the epoch's) is what Done needs, but most
// requests never ask for Done: a send or a delete runs to its end without
// waiting on anything. Making that context on every request was a fifth of
// the allocations of wharf's own request path (a context, its entry in the
// request context's children, a callback registered on the epoch's context
// under a lock every request took), so it is made on the first Done only.
type Held struct {
	context.Context // the request's

	g *Gate
	e *epoch

	once   sync.Once
	joined context.Context // made by once: the request's, cancelled with e too
	stop   func() bool
	cancel context.CancelFunc
}

// join makes the joined context unless Exit came first.
func (h *Held) join() {
	h.once.Do(func() {
		ctx, cancel := context.WithCancel(h.Context)
		h.stop = context.AfterFunc(h.e.ctx, cancel)
		h.joined, h.cancel = ctx, cancel
	})
}

// Done is closed when the request's context is done or an Exclusive
// begins.
func (h *Held) Done() <-chan struct{} {
	h.join()
	return h.joined.Done()
}

// Err is context.Canceled once an Exclusive has begun, else the request's
// context's error.
func (h *Held) Err() error {
	if err := h.e.ctx.Err(); err != nil {
		return err
	}
	return h.Context.Err()
}

// Exit ends the request's hold on the gate. A Done asked for after it is
// the request's own (net/http has cancelled it by then, or is about to).
func (h *Held) Exit() {
	h.once.Do(func() { h.joined = h.Context })
	if h.stop != nil {
		h.stop()
		h.cancel()
	}
	h.g.mu.RUnlock()
}

// Exclusive runs fn once every request in flight has ended, holding new
// requests until fn returns.
func (g *Gate) Exclusive(fn func() error) error {
	g.excl.Lock()
	defer g.excl.Unlock()
	e := g.epoch()
	e.cancel()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.current.CompareAndSwap(e, nil)
	return fn()
}
