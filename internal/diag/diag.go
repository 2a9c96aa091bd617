// Package diag serves wharf's profiling switch (--debug-addr): Go's profiles
// (at net/http/pprof's paths and in its formats, see profiles.go) and
// counters in expvar's format (goroutines, open connections, store commit
// latency) on a loopback address of their own, never on the service port.
package diag

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// CheckLoopback returns an error unless addr (host:port) names a loopback
// address: profiles and counters show request data and cost CPU, so they are
// never offered beyond this machine. "localhost" counts as loopback.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address (want 127.0.0.1:PORT, [::1]:PORT or localhost:PORT)", host)
	}
	return nil
}

// Counters are the figures served at /debug/vars under "wharf".
type Counters struct {
	// OpenConns, when set, counts the service port's open connections.
	OpenConns func() int64
	// Store, when set, is the store whose commits are timed.
	Store *TimedStore
}

// Server is a running debug endpoint.
type Server struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

// Start listens on addr, which must be loopback, and serves until ctx is
// cancelled or Close is called.
func Start(ctx context.Context, addr string, c Counters) (*Server, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, fmt.Errorf("debug address: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug address: %w", err)
	}
	// localhost may resolve to something else on an odd machine: judge
	// the address actually bound.
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("debug address: %s is not a loopback address", ln.Addr())
	}
	s := &Server{addr: ln.Addr().String(), srv: &http.Server{Handler: Handler(c), ReadHeaderTimeout: 10 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed once Close is called
	}()
	stop := context.AfterFunc(ctx, func() { s.srv.Close() })
	go func() { <-s.done; stop() }()
	return s, nil
}

// Addr is the address served (host:port).
func (s *Server) Addr() string { return s.addr }

// Close stops serving and waits for the server to return.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// Handler serves /debug/pprof/... and /debug/vars. Its vars are this wharf's,
// not a process-wide registry's: tests run several wharfs in one process.
// The vars are written here rather than through expvar, whose package init
// registers on http.DefaultServeMux at every start of wharf (the mux records
// each caller's file and line), though the endpoint is off by default.
func Handler(c Counters) http.Handler {
	mux := http.NewServeMux()
	// Every answer says nosniff: a profile's labels and the command line
	// hold request data, and a browser must not read any of them as HTML.
	nosniff := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	}
	mux.HandleFunc("/debug/pprof/", profileIndex)
	mux.HandleFunc("/debug/pprof/cmdline", cmdline)
	mux.HandleFunc("/debug/pprof/profile", cpuProfile)
	mux.HandleFunc("/debug/pprof/symbol", symbol)
	mux.HandleFunc("/debug/pprof/trace", execTrace)
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, r *http.Request) {
		vars := map[string]any{"goroutines": runtime.NumGoroutine()}
		if c.OpenConns != nil {
			vars["open_connections"] = c.OpenConns()
		}
		if c.Store != nil {
			vars["store_commit"] = c.Store.Latency()
		}
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		// expvar's two standard variables, cmdline and memstats, beside wharf's.
		json.NewEncoder(w).Encode(map[string]any{"wharf": vars, "cmdline": os.Args, "memstats": &mem})
	})
	return http.HandlerFunc(nosniff)
}

// latencyBounds are the upper bounds, in milliseconds, of the commit latency
// histogram's buckets; the last bucket counts everything slower.
var latencyBounds = [...]float64{0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000}

// TimedStore is a store whose Updates (commits, with their fsync on disk)
// are timed. It forwards store.Space when the store it wraps has it.
type TimedStore struct {
	store.Store
	commits atomic.Int64
	failed  atomic.Int64
	totalNs atomic.Int64
	maxNs   atomic.Int64
	buckets [len(latencyBounds) + 1]atomic.Int64
}

// spaceStore is a TimedStore over a store with store.Space.
type spaceStore struct {
	*TimedStore
	store.Space
}

// Time wraps st so that its commits are timed; t is the timing half of the
// returned store.
func Time(st store.Store) (s store.Store, t *TimedStore) {
	t = &TimedStore{Store: st}
	if sp, ok := st.(store.Space); ok {
		return spaceStore{TimedStore: t, Space: sp}, t
	}
	return t, t
}

// Update runs the wrapped store's Update and records how long it took,
// waiting for the group commit included.
func (t *TimedStore) Update(fn func(store.Tx) error) error {
	start := time.Now()
	err := t.Store.Update(fn)
	d := time.Since(start)
	if err != nil {
		t.failed.Add(1)
		return err
	}
	ns := d.Nanoseconds()
	t.commits.Add(1)
	t.totalNs.Add(ns)
	for {
		m := t.maxNs.Load()
		if ns <= m || t.maxNs.CompareAndSwap(m, ns) {
			break
		}
	}
	ms := float64(ns) / 1e6
	i := 0
	for i < len(latencyBounds) && ms > latencyBounds[i] {
		i++
	}
	t.buckets[i].Add(1)
	return nil
}

// Latency summarises the commits so far: count, failures, mean and max in
// milliseconds, and a histogram by upper bound ("le_<ms>", then "inf").
func (t *TimedStore) Latency() map[string]any {
	n := t.commits.Load()
	mean := 0.0
	if n > 0 {
		mean = float64(t.totalNs.Load()) / float64(n) / 1e6
	}
	hist := map[string]int64{}
	for i, b := range latencyBounds {
		hist["le_"+strconv.FormatFloat(b, 'f', -1, 64)+"ms"] = t.buckets[i].Load()
	}
	hist["inf"] = t.buckets[len(latencyBounds)].Load()
	return map[string]any{
		"commits": n,
		"failed":  t.failed.Load(),
		"mean_ms": mean,
		"max_ms":  float64(t.maxNs.Load()) / 1e6,
		"buckets": hist,
	}
}
