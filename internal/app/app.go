// Package app assembles wharf: the store, every service, the codecs and the server.
// The binary and the integration tests start wharf the same way, through Start.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	bberrors "go.etcd.io/bbolt/errors"

	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/console"
	"github.com/wharf-dev/wharf/internal/diag"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/inithooks"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/store"
)

// Wharf is a running wharf.
type Wharf struct {
	addr    string
	storage string
	runtime string
	srv     *server.Server
	st      store.Store
	done    chan error
	debug   *diag.Server
	loops   *Loops
}

// Start opens the store, builds every service and starts serving on cfg.Listen.
// It returns once the listener accepts connections. Cancelling ctx shuts wharf
// down; Wait returns when it has.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger, version string) (*Wharf, error) {
	// The runtime is chosen (Docker's engine pinged, a cluster's API server
	// asked) while the store opens: both wait on something outside the
	// process, and neither needs the other. The default choice cannot fail
	// (without an engine tasks run as processes), so wharf does not wait for
	// it: it serves at once, and ECS's calls on the runtime wait for it. A
	// runtime named by --runtime is waited for, since wharf does not start
	// without it.
	var runner runtime.Runner
	var st store.Store
	var storage string
	var err error
	if cfg.Runtime == "" {
		runner = choose(func() runtime.Runner {
			r, _ := chooseRuntime(ctx, cfg, log.With("service", "ecs"))
			return r
		})
		st, storage, err = openStore(cfg)
		if err != nil {
			return nil, err
		}
	} else {
		type chosen struct {
			runner runtime.Runner
			err    error
		}
		choice := make(chan chosen, 1)
		go func() {
			r, err := chooseRuntime(ctx, cfg, log.With("service", "ecs"))
			choice <- chosen{r, err}
		}()
		st, storage, err = openStore(cfg)
		c := <-choice
		if c.err != nil {
			if err == nil {
				st.Close()
			}
			return nil, c.err
		}
		if err != nil {
			return nil, err
		}
		runner = c.runner
	}
	var timed *diag.TimedStore
	if cfg.DebugAddr != "" {
		st, timed = diag.Time(st)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	loops := &Loops{}
	// Read before build, whose services write their index markers: a store
	// empty here holds nothing any loop could have to work on.
	idle := empty(st)
	// One clock for every service: real time until a user moves it
	// (POST /_wharf/clock).
	clk := clock.NewMovable()
	gate := &server.Gate{}
	sys := build(deps{cfg: cfg, st: st, log: log, bus: eventbus.New(), loops: loops, clock: clk, runner: runner, gate: gate})
	rs := &resetter{sys: sys, st: st, gate: gate}
	var degraded func() error
	if sp, ok := st.(store.Space); ok {
		degraded = sp.Degraded
	}
	az := sys.Authz
	srv := server.New(server.Options{
		Authorize: az.Authorize,
		Endpoints: map[string]http.Handler{"/_wharf/iam/denials": az.Handler()},
		Console: console.Handler(console.Options{Timeline: sys.Timeline, Done: ctx.Done(), Clock: clk,
			Reset:     func(ctx context.Context, service string) (any, error) { return rs.Reset(ctx, service) },
			Resources: &resources{sys: sys, cfg: cfg, clock: clk}}),
		Gate:     gate,
		Wake:     loops.wake,
		Degraded: degraded,
		Config:   cfg,
		Logger:   log,
		Services: sys.registrations(),
		Codecs:   codecs(),
		Keys:     sys.Keys(),
		Version:  version,
	})
	w := &Wharf{addr: ln.Addr().String(), storage: storage, srv: srv, st: st, done: make(chan error, 1), loops: loops}
	if cfg.DebugAddr != "" {
		ds, err := diag.Start(ctx, cfg.DebugAddr, diag.Counters{OpenConns: srv.OpenConns, Store: timed})
		if err != nil {
			ln.Close()
			st.Close()
			return nil, err
		}
		w.debug = ds
		log.Info("debug endpoint", "addr", ds.Addr(), "pprof", "http://"+ds.Addr()+"/debug/pprof/", "vars", "http://"+ds.Addr()+"/debug/vars")
	}
	if cfg.InitDir != "" {
		hooks := &hookRunner{hooks: inithooks.Hooks{Dir: cfg.InitDir, Env: hookEnv(cfg, w.addr), Store: st, Log: log.With("service", "init")}}
		rs.hooks = hooks // a full reset runs them again
		loops.GoNow(func(ctx context.Context) { hooks.run(ctx) })
	}
	loopCtx, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	loops.start(loopCtx, idle)
	go func() {
		err := srv.Serve(ctx, ln)
		if w.debug != nil {
			w.debug.Close()
		}
		// Requests have finished; now stop the background loops, then the store.
		stopLoops()
		loops.wait()
		if cerr := st.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
		w.done <- err
	}()
	if sys.Runner != nil {
		// Said in the ready line: wharf serves already, while the default
		// runtime's choice completes.
		w.runtime = sys.Runner.Name()
	}
	return w, nil
}

// hookEnv is init hooks' environment: wharf's own without AWS settings that
// would point elsewhere, plus wharf's endpoint, region and root credentials,
// so the aws CLI and SDKs in a hook reach this wharf.
func hookEnv(cfg *config.Config, addr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
			"AWS_REGION", "AWS_DEFAULT_REGION":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "AWS_ENDPOINT_URL=http://"+containerEndpoint(addr), "AWS_REGION="+cfg.Region, "AWS_DEFAULT_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID="+cfg.AccessKey, "AWS_SECRET_ACCESS_KEY="+cfg.SecretKey)
}

func openStore(cfg *config.Config) (store.Store, string, error) {
	if cfg.Ephemeral {
		return store.OpenMemory(), "memory (ephemeral)", nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("data dir: %w", err)
	}
	pidFile := filepath.Join(cfg.DataDir, "wharf.pid")
	st, err := store.Open(cfg.DataDir)
	if errors.Is(err, bberrors.ErrTimeout) {
		// The store's file lock is held: another wharf serves this
		// directory. Name it, rather than bbolt's "timeout".
		pid := "unknown"
		if b, rerr := os.ReadFile(pidFile); rerr == nil && strings.TrimSpace(string(b)) != "" {
			pid = strings.TrimSpace(string(b))
		}
		return nil, "", fmt.Errorf("data directory %s is in use by another wharf (pid %s); use --data-dir or --ephemeral", cfg.DataDir, pid)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open store: %w", err)
	}
	// Written once the lock is ours, so it names the holder for the message
	// above; a stale file is never read while no wharf holds the lock. On a
	// full disk wharf still starts (serving reads, docs/decisions/0003), and
	// the message above then says "pid unknown".
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil && !errors.Is(err, syscall.ENOSPC) {
		st.Close()
		return nil, "", fmt.Errorf("data dir: %w", err)
	}
	return st, cfg.DataDir, nil
}

// Addr is the address wharf listens on (host:port).
func (w *Wharf) Addr() string { return w.addr }

// DebugAddr is the address of the debug endpoint (--debug-addr), or "" when
// it is off.
func (w *Wharf) DebugAddr() string {
	if w.debug == nil {
		return ""
	}
	return w.debug.Addr()
}

// Runtime names the runtime ECS tasks run on ("docker", "process").
func (w *Wharf) Runtime() string { return w.runtime }

// StorageDescription says where state is kept.
func (w *Wharf) StorageDescription() string { return w.storage }

// ServiceIDs lists the registered services.
func (w *Wharf) ServiceIDs() []string { return w.srv.ServiceIDs() }

// Wait blocks until wharf has shut down and returns the first shutdown error.
func (w *Wharf) Wait() error { return <-w.done }

// Loops are the long-running loops of every service. Each has one owner (the
// service that added it) and one way to stop (its context).
//
// A loop added with Go works on its service's stored state (queues, rules,
// schedules, alarms, tasks ...), so while the store holds nothing and no
// request has come, every such loop would find nothing to do. wharf then
// starts them on the first request instead of at startup (wake): an idle
// wharf runs none of their code, and its memory holds none of it (issue 20's
// idle RSS). A store that holds anything at startup starts them at once, so a
// restart resumes schedules, deliveries and tasks without waiting for a
// request.
type Loops struct {
	fns, now []func(ctx context.Context)
	wg       sync.WaitGroup
	ctx      context.Context
	once     sync.Once
	mu       sync.Mutex
	woke     bool // the Go loops have started
	stopped  bool // wait has begun: wake starts nothing more
}

// Go registers fn to run from the first request (or from startup, when the
// store holds state) until shutdown. fn must return promptly once ctx is
// cancelled, and must have nothing to do before a request while the store is
// empty. Call it while building a service, before wharf starts.
func (l *Loops) Go(fn func(ctx context.Context)) { l.fns = append(l.fns, fn) }

// GoNow registers fn to run from startup until shutdown, request or not: work
// that does not wait for one (init hooks, cleanup when ctx ends).
func (l *Loops) GoNow(fn func(ctx context.Context)) { l.now = append(l.now, fn) }

// start starts the GoNow loops, and the Go loops too unless lazy.
func (l *Loops) start(ctx context.Context, lazy bool) {
	l.ctx = ctx
	l.run(l.now)
	if !lazy {
		l.wake()
	}
}

// wake starts the Go loops, once. The server calls it on every request but
// the health check; after the first it costs an atomic load.
func (l *Loops) wake() {
	l.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.stopped {
			l.woke = true
			l.run(l.fns)
		}
	})
}

// awake says whether the Go loops have started.
func (l *Loops) awake() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.woke
}

func (l *Loops) run(fns []func(ctx context.Context)) {
	for _, fn := range fns {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			fn(l.ctx)
		}()
	}
}

// wait waits for the loops to return, once their context is cancelled. Go
// loops never woken are not started any more.
func (l *Loops) wait() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.wg.Wait()
}

// empty says whether st holds no key at all.
func empty(st store.Store) bool {
	found := false
	err := st.View(func(tx store.Tx) error {
		return tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
			found = true
			return false, nil
		})
	})
	return err == nil && !found
}
