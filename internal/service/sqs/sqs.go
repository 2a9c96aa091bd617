// Package sqs is wharf's Amazon SQS: queues, messages, visibility timeouts,
// delays, long polling, dead-letter queues and FIFO queues, kept in the durable
// store so that an acknowledged message survives a restart.
//
// # Key layout
//
// Queue metadata lives under the caller's account and region; a queue's
// messages live under the queue's unique id, so a queue deleted and created
// again under the same name never sees its predecessor's messages:
//
//	sqs/q/<account>/<region>/<name>        queue metadata (JSON)
//	sqs/d/<qid>/n                          number of messages (8 bytes), then the not-visible
//	                                       counters (24 bytes) once set up (notvisible.go)
//	sqs/d/<qid>/nv                         those counters as earlier versions kept them,
//	                                       read until the next write of n deletes them
//	sqs/d/<qid>/m/<seq>                    a message (JSON), seq is 8 bytes big-endian
//	sqs/d/<qid>/v/<visibleAt><seq>         visibility index: one key per message
//	sqs/d/<qid>/dd/<deduplication id>      FIFO deduplication record
//
// seq grows with time, so the m/ keys are in send order (FIFO order, and the
// order in which retention expires messages). The v/ keys are ordered by the
// time a message becomes visible, so a standard queue's receive is an ordered
// scan from the front that stops at the first key in the future, and the
// not-visible counts are a reverse scan over only the messages not visible.
package sqs

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Random fills ids and receipt handles; defaults to crypto/rand.
	Random func(b []byte)
	// Logger defaults to slog.Default.
	Logger *slog.Logger
	// DefaultHost is used in queue URLs when the request carries no Host.
	DefaultHost string
	// MetricsInterval is how often RunMetrics publishes; defaults to
	// DefaultMetricsInterval.
	MetricsInterval time.Duration
}

// Service implements the SQS operations.
type Service struct {
	st     store.Store
	clock  clock.Clock
	random func([]byte)
	log    *slog.Logger
	host   string

	mu      sync.Mutex
	lastSeq uint64
	waiters map[string]chan struct{} // queue key → closed and replaced when messages arrive

	// queues are decoded queue records by queue key (getQueue); a map
	// under a lock, not a sync.Map, whose lookup by a []byte key converted
	// to a string put the key on the heap on every read.
	queuesMu sync.RWMutex
	queues   map[string]*cachedQueue

	authMu  sync.Mutex
	authGen uint64               // bumped by every write to a queue record
	auth    map[string]queueAuth // queue key → what the authorizer asks; dropped on every write

	metrics         Metrics
	metricsInterval time.Duration
	stats           sync.Map // queue key → *queueCounters

	moveKick chan struct{} // wakes RunMoves when a task starts

	tl Timeline // nil records nothing
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	s := &Service{
		st:      opts.Store,
		clock:   opts.Clock,
		random:  opts.Random,
		log:     opts.Logger,
		host:    opts.DefaultHost,
		waiters: map[string]chan struct{}{},
		auth:    map[string]queueAuth{},
		queues:  map[string]*cachedQueue{},

		metricsInterval: opts.MetricsInterval,
		moveKick:        make(chan struct{}, 1),
	}
	if s.metricsInterval <= 0 {
		s.metricsInterval = DefaultMetricsInterval
	}
	if s.clock == nil {
		s.clock = clock.Real
	}
	if s.random == nil {
		s.random = func(b []byte) { _, _ = rand.Read(b) }
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.host == "" {
		s.host = "localhost:4566"
	}
	return s
}

// Run deletes messages past their retention period and expired FIFO
// deduplication records once a minute, until ctx is cancelled. Receives also
// skip expired messages, so the loop only bounds the space they use.
func (s *Service) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(time.Minute):
		}
		if err := s.Sweep(); err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.Error("sqs sweep", "err", err)
		}
	}
}

// nextSeq returns a number larger than any returned before, close to the
// current time in nanoseconds, so it also orders messages across restarts.
func (s *Service) nextSeq() uint64 { return s.nextSeqs(1) }

// nextSeqs reserves n consecutive sequence numbers, as n calls of nextSeq
// would return them, and returns the first.
func (s *Service) nextSeqs(n int) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := uint64(s.clock.Now().UnixNano())
	if first <= s.lastSeq {
		first = s.lastSeq + 1
	}
	if n > 0 {
		s.lastSeq = first + uint64(n) - 1
	}
	return first
}

// newID returns a random UUID (version 4), the format of SQS message ids.
func (s *Service) newID() string {
	var id [1]string
	s.newIDs(id[:])
	return id[0]
}

// newIDs sets each of ids to a new id (as newID), all read from one random
// buffer and written into one string: a batch's ten ids cost two allocations,
// not twenty.
func (s *Service) newIDs(ids []string) {
	if len(ids) == 0 {
		return
	}
	b := make([]byte, 16*len(ids))
	s.random(b)
	var buf [36 * 10]byte // a batch's ten ids, on the stack: all is a copy
	var h []byte
	if 36*len(ids) <= len(buf) {
		h = buf[:36*len(ids)]
	} else {
		h = make([]byte, 36*len(ids))
	}
	for i := range ids {
		u, d := b[16*i:16*i+16], h[36*i:36*i+36]
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		hex.Encode(d[0:8], u[0:4])
		hex.Encode(d[9:13], u[4:6])
		hex.Encode(d[14:18], u[6:8])
		hex.Encode(d[19:23], u[8:10])
		hex.Encode(d[24:], u[10:])
		d[8], d[13], d[18], d[23] = '-', '-', '-', '-'
	}
	all := string(h)
	for i := range ids {
		ids[i] = all[36*i : 36*i+36]
	}
}

func (s *Service) randomToken(n int) string {
	b := make([]byte, n)
	s.random(b)
	return hex.EncodeToString(b)
}

// notify wakes the long polls waiting on the queue whose key is qk.
func (s *Service) notify(qk string) {
	s.mu.Lock()
	if ch, ok := s.waiters[qk]; ok {
		close(ch)
		delete(s.waiters, qk)
	}
	s.mu.Unlock()
}

// waitChan returns a channel closed at the next notify of the queue key qk.
func (s *Service) waitChan(qk string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.waiters[qk]
	if !ok {
		ch = make(chan struct{})
		s.waiters[qk] = ch
	}
	return ch
}

// Keys.

func queueKey(account, region, name string) []byte {
	return []byte("sqs/q/" + account + "/" + region + "/" + name)
}

// appendQueueKey appends queueKey(account, region, name) to b.
func appendQueueKey(b []byte, account, region, name string) []byte {
	b = append(append(append(append(append(b, "sqs/q/"...), account...), '/'), region...), '/')
	return append(b, name...)
}

func queuePrefix(account, region string) []byte {
	return []byte("sqs/q/" + account + "/" + region + "/")
}

func dataPrefix(qid string) []byte { return []byte("sqs/d/" + qid + "/") }
func countKey(qid string) []byte   { return []byte("sqs/d/" + qid + "/n") }
func msgPrefix(qid string) []byte  { return []byte("sqs/d/" + qid + "/m/") }
func visPrefix(qid string) []byte  { return []byte("sqs/d/" + qid + "/v/") }

// statePrefix holds the receive state records (see encodeState).
func statePrefix(qid string) []byte { return []byte("sqs/d/" + qid + "/r/") }
func dedupPrefix(qid string) []byte {
	return []byte("sqs/d/" + qid + "/dd/")
}

func msgKey(qid string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(msgPrefix(qid), seq)
}

func stateKey(qid string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(statePrefix(qid), seq)
}

func visKey(qid string, visibleAt int64, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64(visPrefix(qid), uint64(visibleAt))
	return binary.BigEndian.AppendUint64(k, seq)
}

// msgKeyIn, stateKeyIn and visKeyIn are msgKey, stateKey and visKey,
// built in tx's buffer when tx is a txn: valid until the next key of their
// kind.
func msgKeyIn(tx store.Tx, qid string, seq uint64) []byte {
	if t, ok := tx.(*txn); ok {
		return t.msgKey(qid, seq)
	}
	return msgKey(qid, seq)
}

func stateKeyIn(tx store.Tx, qid string, seq uint64) []byte {
	if t, ok := tx.(*txn); ok {
		return t.stateKey(qid, seq)
	}
	return stateKey(qid, seq)
}

func visKeyIn(tx store.Tx, qid string, visibleAt int64, seq uint64) []byte {
	if t, ok := tx.(*txn); ok {
		return t.visKey(qid, visibleAt, seq)
	}
	return visKey(qid, visibleAt, seq)
}

func dedupKey(qid, id string) []byte { return append(dedupPrefix(qid), id...) }

func getCount(tx store.Tx, qid string) (uint64, error) {
	if t, ok := tx.(*txn); ok {
		return t.count(qid)
	}
	v, err := tx.Get(countKey(qid))
	if err != nil || len(v) != countOnlyLen && len(v) != countAndNVLen {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

func addCount(tx store.Tx, qid string, delta int64) error {
	if t, ok := tx.(*txn); ok {
		return t.addCount(qid, delta)
	}
	nKey, nvKey := countKey(qid), notVisibleKey(qid)
	c, err := readCounters(tx.Get, nKey, nvKey)
	if err != nil {
		return err
	}
	c.n = addTo(c.n, delta)
	_, err = writeCounters(tx, nKey, nvKey, &c, nil)
	return err
}

// addTo returns n+delta, or 0 when that is negative.
func addTo(n uint64, delta int64) uint64 {
	m := int64(n) + delta
	if m < 0 {
		m = 0
	}
	return uint64(m)
}

// URLs and ARNs.

// queueURL is the URL clients use for a queue: http://<host>/<account>/<name>.
func (s *Service) queueURL(ctx context.Context, account, name string) string {
	host := awsapi.CallerFrom(ctx).Host
	if host == "" {
		host = s.host
	}
	return "http://" + host + "/" + account + "/" + name
}

func queueARN(region, account, name string) string {
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// parseQueueURL returns the account and queue name of a QueueUrl, which may be
// a full URL or only its path ("/000000000000/name"). The account defaults to
// the caller's.
func parseQueueURL(raw, callerAccount string) (account, name string, err error) {
	p := raw
	full := strings.Contains(raw, "://")
	if full {
		var ok bool
		if p, ok = plainURLPath(raw); !ok {
			u, perr := url.Parse(raw)
			if perr != nil {
				return "", "", errQueueDoesNotExist()
			}
			p = u.Path
		}
	}
	// Cut, not Split: every request naming a queue parses its URL.
	first, rest, two := strings.Cut(strings.Trim(p, "/"), "/")
	switch {
	case two && first != "" && rest != "" && !strings.Contains(rest, "/"):
		return first, rest, nil
	case !two && first != "" && !full:
		// A bare queue name: some clients (and moto) accept it.
		return callerAccount, first, nil
	}
	return "", "", errQueueDoesNotExist()
}

// plainURLPath returns the path of raw when raw is a URL url.Parse reads
// without unescaping or checking anything it could refuse: a scheme, "://", a
// host of letters, digits, dots and hyphens with an optional port of digits,
// and a path of letters, digits and "/._-" (what every SDK's queue URL is).
// ok is false for anything else, which url.Parse then reads.
func plainURLPath(raw string) (path string, ok bool) {
	scheme, rest, _ := strings.Cut(raw, "://")
	if scheme == "" || !isLetter(scheme[0]) {
		return "", false
	}
	for i := 1; i < len(scheme); i++ {
		if c := scheme[i]; !isLetter(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return "", false
		}
	}
	host := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	host, port, _ := strings.Cut(host, ":")
	for i := 0; i < len(host); i++ {
		if c := host[i]; !isLetter(c) && !isDigit(c) && c != '.' && c != '-' {
			return "", false
		}
	}
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return "", false
		}
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; !isLetter(c) && !isDigit(c) && c != '/' && c != '.' && c != '_' && c != '-' {
			return "", false
		}
	}
	return path, true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// parseQueueARN returns the region, account and name of an SQS queue ARN.
func parseQueueARN(arn string) (region, account, name string, ok bool) {
	// Cut, not Split: every message another service delivers, and every
	// send's timeline entry, parses one, and the slice was an allocation.
	var parts [6]string
	rest := arn
	for i := range 5 {
		var found bool
		if parts[i], rest, found = strings.Cut(rest, ":"); !found {
			return "", "", "", false
		}
	}
	parts[5] = rest
	if parts[0] != "arn" || parts[2] != "sqs" || rest == "" || strings.IndexByte(rest, ':') >= 0 {
		return "", "", "", false
	}
	return parts[3], parts[4], parts[5], true
}

// Errors, with AWS's messages.

func errQueueDoesNotExist() error {
	return sqsapi.ErrQueueDoesNotExist("The specified queue does not exist.")
}

func errInvalidParameter(format string, args ...any) error {
	return sqsapi.ErrInvalidParameterValue(format, args...)
}

func errMissingParameter(name string) error {
	return sqsapi.ErrMissingParameter("The request must contain the parameter %s.", name)
}

func errInvalidAttributeName(name string) error {
	return sqsapi.ErrInvalidAttributeName("Unknown Attribute %s.", name)
}

func errInvalidAttributeValue(name, reason string) error {
	msg := "Invalid value for the parameter " + name + "."
	if reason != "" {
		msg += " Reason: " + reason
	}
	return sqsapi.ErrInvalidAttributeValue("%s", msg)
}

func errReceiptHandleInvalid(h string) error {
	return sqsapi.ErrReceiptHandleIsInvalid("The input receipt handle \"%s\" is not a valid receipt handle.", h)
}
