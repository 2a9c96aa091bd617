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

// Enter holds the gate for one request. The returned context is ctx, also
// cancelled when an Exclusive begins; call done when the request has ended.
func (g *Gate) Enter(ctx context.Context) (context.Context, func()) {
	g.mu.RLock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(g.epoch().ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
		g.mu.RUnlock()
	}
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
