// Package server is wharf's HTTP front: one listener for every service, the front
// door that picks the service, authentication, and the dispatch of each request
// through its protocol's codec to the service's typed operation.
package server

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/jsonstring"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/sigv4"
	"github.com/wharf-dev/wharf/internal/store"
)

// Registration is one service as the server needs it: its model and the handlers of
// the operations wharf implements. Operations of the model without a handler answer
// with NotImplemented, so a client always gets an AWS error, never a 404 page.
type Registration struct {
	Desc     *awsapi.Service
	Handlers map[string]awsapi.Handler
	// CORS, when set, answers browsers' cross-origin checks, which no model
	// operation describes (S3's OPTIONS preflight). The server calls it, before
	// authentication (browsers never sign a preflight), for every OPTIONS
	// request to the service and every request with an Origin header. It adds
	// the response's CORS headers to h. For OPTIONS it is the whole answer:
	// nil sends 200 with no body, an error is rendered by the codec. For other
	// requests the headers ride on the normal response, and an error only
	// means there are none.
	CORS func(r *http.Request, h http.Header) error
	// Check, when set, refuses a request for headers its operation's model
	// does not carry but the service answers anyway (S3 refuses
	// x-amz-server-side-encryption on a GetObject, whose input has no such
	// member). The server calls it after authentication, once the operation
	// is known and before its input is decoded; an error is rendered by the
	// codec.
	Check func(op string, r *http.Request) error
}

type service struct {
	desc     *awsapi.Service
	handlers map[string]awsapi.Handler
	cors     func(r *http.Request, h http.Header) error
	check    func(op string, r *http.Request) error
}

// Options configure a Server.
type Options struct {
	Config   *config.Config
	Logger   *slog.Logger
	Services []Registration
	// Codecs by protocol name (awsapi.ProtocolJSON, ...).
	Codecs map[string]protocol.Codec
	// Keys resolves access keys to their account and secret; nil knows only the
	// configured root key.
	Keys awsapi.Keys
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version is reported by the health endpoint.
	Version string
	// Degraded, when set, says why wharf cannot take every write (its
	// disk is full), or nil; the health endpoint reports it.
	Degraded func() error
	// Authorize, when set, decides whether caller may run op (of service
	// caller.Service) with its decoded input. It runs after decoding and
	// before the operation; an error refuses the request and is rendered by
	// the service's codec (AccessDenied in the service's shape).
	Authorize func(ctx context.Context, caller *awsapi.Caller, op string, input any) error
	// Endpoints are wharf's own GET endpoints by path (/_wharf/iam/denials).
	Endpoints map[string]http.Handler
	// Console, when set, serves every other /_wharf/ path, any method (the
	// web console, the timeline API, reset, the clock).
	Console http.Handler
	// Gate, when set, is held by every AWS request, so that a reset runs
	// between requests, never during one.
	Gate *Gate
	// Wake, when set, is called before every request but the health check,
	// so that what waits for the first request (the services' loops while
	// the store is empty) starts before it is served. It must be cheap once
	// it has run.
	Wake func()
}

// Server serves every registered service on one listener.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	codecs   map[string]protocol.Codec
	services []*service
	router   *router
	keys     awsapi.Keys
	now      func() time.Time
	version  string
	authz    func(ctx context.Context, caller *awsapi.Caller, op string, input any) error
	extra    map[string]http.Handler
	console  http.Handler
	gate     *Gate
	degraded func() error
	wake     func()

	mu    sync.Mutex
	http  *http.Server
	track *tracker
}

// New returns a server for opts.
func New(opts Options) *Server {
	s := &Server{
		cfg:     opts.Config,
		log:     opts.Logger,
		codecs:  opts.Codecs,
		keys:    opts.Keys,
		now:     opts.Now,
		version: opts.Version,
		authz:   opts.Authorize,
		extra:   opts.Endpoints,
		console: opts.Console,
		gate:    opts.Gate,
		wake:    opts.Wake,
	}
	s.degraded = opts.Degraded
	s.track = newTracker()
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.keys == nil {
		s.keys = rootKey{cfg: s.cfg}
	}
	for _, r := range opts.Services {
		s.services = append(s.services, &service{desc: r.Desc, handlers: r.Handlers, cors: r.CORS, check: r.Check})
	}
	s.router = newRouter(s.services, s.cfg.S3Domain)
	return s
}

// Serve accepts connections on ln until ctx is cancelled, then shuts down:
// it stops accepting, closes idle connections and those that stalled (a
// request's headers or body not arriving), and lets in-flight requests finish
// for the shutdown grace. Past it, requests are cancelled and their
// connections closed. A shutdown is a clean exit either way: Serve returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: orDefault(s.cfg.HeaderTimeout, 30*time.Second),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ConnState:         s.track.connState,
	}
	fast := newFastServer(s, limitPerClient(ln, s.cfg.MaxConnsPerClient), reqCtx)
	s.mu.Lock()
	s.http = hs
	s.mu.Unlock()

	// net/http serves the connections the fast path hands it; the fast
	// path's accept loop is the one that ends with the listener.
	go hs.Serve(passExpect(fast.handoff))
	done := make(chan error, 1)
	go func() { done <- fast.serve() }()
	select {
	case err := <-done:
		fast.shutdown()
		fast.closeAll()
		return err
	case <-ctx.Done():
	}
	s.shutdown(hs, fast, cancelRequests)
	<-done
	return nil
}

// shutdown stops hs as Serve describes.
func (s *Server) shutdown(hs *http.Server, fast *fastServer, cancelRequests func()) {
	grace := orDefault(s.cfg.ShutdownGrace, 10*time.Second)
	graceCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// net/http's Shutdown closes idle connections but waits for the rest,
	// and a connection whose client stopped sending never finishes by
	// itself: close those at once, and again as more stall.
	fast.shutdown()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			s.track.closeStalled(time.Second)
			fast.closeIdle(time.Second)
			select {
			case <-graceCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	if hs.Shutdown(graceCtx) == nil && fast.wait(graceCtx) {
		return
	}
	// The grace is over: cancel the requests still running, end their body
	// reads, and give them a moment to return before their connections close.
	cancelRequests()
	s.track.expireAll()
	waitCtx, cancelWait := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelWait()
	finished := s.track.wait(waitCtx)
	hs.Close()
	fast.closeAll()
	s.log.Warn("shutdown grace over; open connections closed", "grace", grace, "requests_finished", finished)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ServeHTTP is the request path: front door, auth, decode, operation, encode.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	restorePassedExpect(r)
	continueEmptyBody(w, r)
	// Serve a shallow copy: auth and the codecs replace r.Body (aws-chunked
	// decoding, signature hashing), and after the handler net/http inspects the
	// Body of the request it passed in to decide whether the connection can be
	// reused. A replaced body hides its expect-100-continue reader from it, so
	// an error answered before the body was read would leave net/http draining a
	// body the client was never told to send: the connection hung until the
	// client gave up waiting for 100 Continue and sent it anyway.
	// An AWS request holds the gate; the copy gets its context, so that
	// the request is copied once.
	ctx := r.Context()
	var held *Held
	if s.gate != nil && !s.ownEndpoint(r) {
		held = s.gate.Enter(ctx)
		ctx = held
	}
	r = r.WithContext(ctx)
	var body *requestBody
	if r.Body != nil && r.Body != http.NoBody {
		body = newRequestBody(r, connOf(ctx), s.cfg.BodyIdleTimeout)
		r.Body = body
	}
	s.track.begin(body)
	defer s.track.end(body)
	defer body.drain(w, r)
	if held != nil {
		// Before the drain: a reset need not wait for a body nobody reads.
		defer held.Exit()
	}
	if r.URL.Path == healthPath && r.Method == http.MethodGet {
		s.health(w)
		return
	}
	if s.wake != nil {
		s.wake()
	}
	if h := s.extra[r.URL.Path]; h != nil && r.Method == http.MethodGet {
		h.ServeHTTP(w, r)
		return
	}
	if s.console != nil && isConsolePath(r.URL.Path) {
		s.console.ServeHTTP(w, r)
		return
	}
	requestID := newRequestID()
	if bucket := s.router.virtualHostBucket(r.Host); bucket != "" {
		rewriteVirtualHost(r, bucket)
	}

	cred, authErr := parseCredential(r)
	scope := ""
	switch {
	case cred != nil:
		scope = cred.Service
	case authErr != nil:
		// A signature that cannot be read still says which service it was
		// for, and its error is that service's, in its protocol.
		scope = sigv4.ClaimedService(r)
	}
	svc := s.router.route(r, scope)
	if authErr != nil && scope == "" && svc == s.router.s3 {
		if m, ok := s.codecs[awsapi.ProtocolRestJSON].(pathMatcher); ok {
			if o := s.router.byPath(r, m); o != nil {
				svc = o
			}
		}
	}
	if body != nil && body.err != nil {
		// The front door read a form body to find the query Action, and it
		// did not arrive whole: never route, let alone run, a partial request.
		s.writeError(w, r, nil, body.err, requestID)
		return
	}
	if svc == nil {
		s.writeError(w, r, nil, apierr.New("UnknownService", 400, "wharf does not serve the service this request is for (%s).", scopeOrTarget(r, scope)), requestID)
		return
	}
	codec := s.codecs[protocol.Detect(svc.desc, r)]
	if codec == nil {
		s.writeError(w, r, nil, apierr.New("UnsupportedProtocol", 400, "wharf cannot read this request's protocol for %s.", svc.desc.ServiceID), requestID)
		return
	}
	fail := func(err error) {
		e := apierr.As(err)
		if e == nil && store.IsNoSpace(err) {
			// A full disk is temporary: answer what the service's SDKs retry.
			e = apierr.Unavailable(svc.desc.ID, "wharf's data directory is out of disk space")
		}
		if e == nil {
			s.log.Error("request failed", "service", svc.desc.ID, "request_id", requestID, "err", err)
			e = apierr.Internal()
		}
		if e.Code == "BadDigest" {
			// A body that does not match its digest may not be framed as
			// its sender meant (a Content-Length short of the body leaves
			// the rest to be read as the next request): the connection is
			// not reused.
			w.Header().Set("Connection", "close")
		}
		codec.EncodeError(w, r, svc.desc, e, requestID)
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "service", svc.desc.ID, "request_id", requestID, "panic", p, "stack", string(debug.Stack()))
			codec.EncodeError(w, r, svc.desc, apierr.Internal(), requestID)
		}
	}()

	if svc.desc.ID == "s3" && headerSectionSize(r) > maxS3HeaderSection {
		fail(headerSectionTooLarge())
		return
	}
	if lim := bodyLimits[svc.desc.ID]; lim != nil {
		if declaredLength(r) > lim.max {
			fail(lim.err())
			return
		}
		if body != nil {
			body.limit = lim
		}
	}

	if svc.cors != nil && (r.Method == http.MethodOptions || r.Header.Get("Origin") != "") {
		err := svc.cors(r, w.Header())
		if r.Method == http.MethodOptions {
			if err != nil {
				fail(err)
				return
			}
			w.WriteHeader(http.StatusOK)
			return
		}
	}

	// Authenticate before the codec looks for the operation: a query codec reads
	// the form body to find Action, and the signature covers that body.
	if authErr != nil {
		fail(authError(svc.desc, authErr))
		return
	}
	caller, err := s.authenticate(r, svc.desc, cred)
	if err != nil {
		fail(authError(svc.desc, err))
		return
	}
	op, err := codec.Operation(svc.desc, r)
	if err != nil {
		fail(err)
		return
	}
	if caller.Anonymous {
		if err := s.formAuth(r, codec, svc.desc, caller); err != nil {
			fail(err)
			return
		}
	}
	caller.RequestID = requestID
	caller.Service = svc.desc.ID
	caller.Operation = op.Name
	caller.Host = r.Host
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		caller.SourceIP = ip // aws:SourceIp
	}

	if svc.check != nil {
		if err := svc.check(op.Name, r); err != nil {
			fail(err)
			return
		}
	}
	in := op.NewInput()
	if err := codec.Decode(svc.desc, op, r, in); err != nil {
		fail(err)
		return
	}
	h := svc.handlers[op.Name]
	if h == nil {
		fail(apierr.NotImplemented(svc.desc.ServiceID, op.Name))
		return
	}
	ctx = awsapi.WithCaller(ctx, caller)
	if s.authz != nil {
		if err := s.authz(ctx, caller, op.Name, in); err != nil {
			fail(err)
			return
		}
	}
	out, err := h(ctx, in)
	if err != nil {
		fail(err)
		return
	}
	if err := codec.Encode(w, r, svc.desc, op, out, requestID); err != nil {
		// Headers may be gone already; all we can do is log it once here.
		s.log.Warn("response not fully written", "service", svc.desc.ID, "op", op.Name, "request_id", requestID, "err", err)
	}
	// Asked first: the arguments, strings made interfaces, are allocated
	// before Debug can find that nothing is logged at debug.
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("request", "service", svc.desc.ID, "op", op.Name, "request_id", requestID, "account", caller.Account)
	}
}

// ownEndpoint reports whether r is for one of wharf's own endpoints (health,
// Endpoints, the console), which ServeHTTP answers without the gate.
func (s *Server) ownEndpoint(r *http.Request) bool {
	if r.Method == http.MethodGet && (r.URL.Path == healthPath || s.extra[r.URL.Path] != nil) {
		return true
	}
	return s.console != nil && isConsolePath(r.URL.Path)
}

// isConsolePath reports whether path is under /_wharf. No bucket is named
// _wharf (S3 bucket names have no underscore).
func isConsolePath(path string) bool {
	return path == "/_wharf" || strings.HasPrefix(path, "/_wharf/")
}

// writeError renders an error for a request whose service is unknown: JSON for
// JSON-looking requests, else the query protocol's XML.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, e *apierr.Error, requestID string) {
	p := awsapi.ProtocolQuery
	if r.Header.Get("X-Amz-Target") != "" {
		p = awsapi.ProtocolJSON
	}
	if c := s.codecs[p]; c != nil {
		c.EncodeError(w, r, svc, e, requestID)
		return
	}
	http.Error(w, e.Error(), http.StatusBadRequest)
}

func scopeOrTarget(r *http.Request, scope string) string {
	if scope != "" {
		return scope
	}
	return r.Header.Get("X-Amz-Target")
}

// healthPath is the health check's path.
const healthPath = "/_wharf/health"

// health answers GET /_wharf/health: each service and whether wharf implements it.
func (s *Server) health(w http.ResponseWriter) {
	var reason string
	// Degraded: wharf serves reads and deletes but refuses new data.
	if s.degraded != nil {
		if err := s.degraded(); err != nil {
			reason = err.Error()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(healthBody(s.services, s.version, reason))
}

// healthBody is the health answer, byte for byte what encoding/json's Encoder
// writes for {"reason"?, "services": {id: {state, operations, implemented}},
// "status", "version"} (keys sorted, HTML-safe escaping, a final newline),
// written by hand: the health check is the one request a supervisor sends an
// idle wharf, over and over, and the reflection-driven encoder would keep
// ~0.4 MiB of the binary resident for it (issue 20's idle RSS).
// reason, when not empty, makes the status "degraded".
func healthBody(services []*service, version, reason string) []byte {
	sorted := slices.Clone(services)
	slices.SortStableFunc(sorted, func(a, b *service) int { return strings.Compare(a.desc.ID, b.desc.ID) })
	b := []byte{'{'}
	if reason != "" {
		b = jsonstring.AppendHTMLSafe(append(b, `"reason":`...), reason)
		b = append(b, ',')
	}
	b = append(b, `"services":{`...)
	first := true
	for i, sv := range sorted {
		if i+1 < len(sorted) && sorted[i+1].desc.ID == sv.desc.ID {
			continue // one entry per id, the last, as a map has
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		state := "running"
		if len(sv.handlers) == 0 {
			state = "not_implemented"
		}
		b = jsonstring.AppendHTMLSafe(b, sv.desc.ID)
		b = jsonstring.AppendHTMLSafe(append(b, `:{"state":`...), state)
		b = strconv.AppendInt(append(b, `,"operations":`...), int64(len(sv.desc.OperationList)), 10)
		b = strconv.AppendInt(append(b, `,"implemented":`...), int64(len(sv.handlers)), 10)
		b = append(b, '}')
	}
	status := "running"
	if reason != "" {
		status = "degraded"
	}
	b = jsonstring.AppendHTMLSafe(append(b, `},"status":`...), status)
	b = jsonstring.AppendHTMLSafe(append(b, `,"version":`...), version)
	return append(b, "}\n"...)
}

// OpenConns is the number of connections open on the service port.
func (s *Server) OpenConns() int64 { return s.track.open.Load() }

// ServiceIDs returns the registered services' ids, sorted.
func (s *Server) ServiceIDs() []string {
	var ids []string
	for _, sv := range s.services {
		ids = append(ids, sv.desc.ID)
	}
	sort.Strings(ids)
	return ids
}

// newRequestID returns a random UUID (version 4), the form most AWS protocols use.
// A request id must be unique, not secret: its bits come from math/rand/v2's
// generator (ChaCha8, per thread), not crypto/rand, which cost 1-2% of the
// CPU of a small request (SQS SendMessage at 8 clients).
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:16], rand.Uint64())
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}
