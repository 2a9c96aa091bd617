package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/pattern"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

const (
	outboxPrefix = "events/outbox/"
	retryPrefix  = "events/retry/"
	// maxEntrySize is PutEvents' limit on the entries of one request: 1 MB
	// since January 2026, when EventBridge, SQS and asynchronous Lambda went
	// from 256 KB to 1 MB ("More room to build: serverless services now
	// support payloads up to 1 MB", AWS Compute Blog).
	maxEntrySize = 1 << 20
	// maxHops stops bus-to-bus loops.
	maxHops = 5
	// Default RetryPolicy: 185 attempts within 24 hours (PutTargets docs).
	defaultAttempts = 185
	defaultMaxAge   = 24 * time.Hour
)

// envelope is an event as EventBridge delivers it, members in AWS's order.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`

	// validDetail is set by a caller that has checked Detail is JSON:
	// encode then only copies a compact one (encoding/json's check runs at
	// tens of nanoseconds a byte).
	validDetail bool
}

// pending is an accepted event in the outbox.
type pending struct {
	Account, Region, Bus string
	Event                json.RawMessage
	Rule                 string `json:",omitempty"` // a scheduled event goes to this rule only
	Hops                 int    `json:",omitempty"`
	Ingested             time.Time
	// Direct is a delivery to one target made outside any rule (Submit).
	Direct *Delivery `json:",omitempty"`
	// Replay names the replay that re-sent this archived event; ReplayRules,
	// when set, are the only rules (by ARN) it goes to.
	Replay      string   `json:",omitempty"`
	ReplayRules []string `json:",omitempty"`

	// ev is Event parsed, when routed has parsed it.
	ev *pattern.Event
	// matched are the rules of matchedOn that routed found ev matches, when
	// matchedOn's rules were at generation matchedGen: route matches again
	// only when they have changed since.
	matched    []string
	matchedOn  *bus
	matchedGen uint64
	// id, detailType and source are the event's, when the code that made it
	// knows them, so that recording it need not decode it again.
	id, detailType, source string
	// compact is set when Event is envelope.encode's: compact, valid JSON,
	// which encode copies into the outbox entry without checking it again.
	compact bool
	// queue is set by routed on an event PutEvents may deliver itself,
	// before it answers, instead of leaving it in the outbox (deliverNow):
	// the one SQS queue every target of its rules is.
	queue string
}

// retry is a delivery that failed and waits for its next attempt.
type retry struct {
	Delivery  Delivery
	Attempts  int
	First     time.Time
	Due       time.Time
	LastError string
	// ErrorCode is the dead-letter ERROR_CODE of the last failure.
	ErrorCode string `json:",omitempty"`
}

func (s *Service) nextKey(prefix string) []byte {
	return appendSeqKey(nil, prefix, s.seq.Add(1))
}

// appendSeqKey appends prefix and n in 20 digits, zero-padded, as
// fmt's "%s%020d" does (every uint64 fits), so that keys sort as their
// numbers do; by hand, as every durable event's outbox key is one.
func appendSeqKey(b []byte, prefix string, n uint64) []byte {
	b = append(b, prefix...)
	var d [20]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:]...)
}

func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// PutEvents accepts up to 10 events, reporting each one's id or error; accepted
// events are in the outbox, or delivered (deliverNow), when it returns.
func (s *Service) PutEvents(ctx context.Context, in *eventsapi.PutEventsInput) (*eventsapi.PutEventsOutput, error) {
	if len(in.Entries) == 0 || len(in.Entries) > 10 {
		return nil, apierr.Validation("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	size := 0
	for _, e := range in.Entries {
		size += entrySize(&e)
	}
	if size > maxEntrySize {
		return nil, apierr.Validation("Total size of the entries in the request is over the limit.")
	}
	account, reg := s.caller(ctx)
	now := s.now().UTC()
	out := &eventsapi.PutEventsOutput{Entries: make([]eventsapi.PutEventsResultEntry, len(in.Entries))}
	var batch, unrouted []pending
	var unroutedIDs []string
	failed := int32(0)
	for i, e := range in.Entries {
		p, id, err := s.accept(ctx, &e, account, reg, now)
		if err != nil {
			failed++
			out.Entries[i] = eventsapi.PutEventsResultEntry{ErrorCode: awsapi.String(err.Code), ErrorMessage: awsapi.String(err.Message)}
			continue
		}
		if s.routed(&p) {
			batch = append(batch, p)
		} else {
			unrouted, unroutedIDs = append(unrouted, p), append(unroutedIDs, id)
		}
		out.Entries[i] = eventsapi.PutEventsResultEntry{EventId: awsapi.String(id)}
	}
	// Recorded before the commit wakes the dispatcher, so that an event is
	// received on the timeline before it matches anything.
	for _, p := range batch {
		s.received(ctx, p)
	}
	if oneQueue(batch) {
		if err := s.deliverNow(batch); err != nil {
			return nil, err
		}
	} else if err := s.enqueue(batch); err != nil {
		return nil, err
	}
	for i, p := range unrouted {
		s.received(ctx, p)
		s.matched(ctx, p, unroutedIDs[i], nil)
	}
	out.FailedEntryCount = awsapi.Int32(failed)
	return out, nil
}

// routed reports whether an event accepted on a bus goes anywhere: a rule of
// the bus matches it or an enabled archive of the bus keeps it. Only such
// events are committed: to the outbox, or, when every routed event of the
// request goes to the one queue routed sets as p.queue, to that queue by
// PutEvents itself (deliverNow); the others are answered
// without a commit, as nothing would ever read them back. An event whose rule
// or archive is created after it was accepted does not reach them, as on AWS,
// where rules apply to events from their creation on.
func (s *Service) routed(p *pending) bool {
	if p.Rule != "" || p.Direct != nil || p.Replay != "" {
		return true
	}
	ev := p.ev
	if ev == nil {
		var err error
		if ev, err = pattern.ParseEvent(p.Event); err != nil {
			return true // let the dispatcher log and drop it as before
		}
		p.ev = ev
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, _ := s.lookupLocked(p.Account, p.Region, p.Bus)
	if b == nil {
		return true
	}
	p.matched, p.matchedOn, p.matchedGen = b.set.Match(ev), b, b.gen
	archived := false
	if r := s.regions[regionKey{p.Account, p.Region}]; r != nil {
		for _, a := range r.archives {
			if a.Bus == p.Bus && a.State == "ENABLED" && (a.compiled == nil || a.compiled.MatchEvent(ev)) {
				archived = true
				break
			}
		}
	}
	if len(p.matched) == 0 {
		return archived
	}
	if !s.volatile && !archived && p.Hops == 0 {
		p.queue = s.oneQueueLocked(b, p.matched)
	}
	return true
}

// oneQueueLocked returns the queue every target of the rules named is, when
// they all are one target that takes batches (an SQS queue), or "". s.mu is
// held.
func (s *Service) oneQueueLocked(b *bus, rules []string) string {
	queue := ""
	for _, name := range rules {
		rr := b.rules[name]
		if rr == nil || len(rr.Targets) == 0 {
			return ""
		}
		for i := range rr.Targets {
			arn := awsapi.ToString(rr.Targets[i].Arn)
			if queue == "" && s.batches(arn) {
				queue = arn
			}
			if arn != queue {
				return ""
			}
		}
	}
	return queue
}

// oneQueue reports whether PutEvents delivers the routed events itself
// (deliverNow): when they all go to one SQS queue, that delivery is one
// commit, as the outbox's is. Events bound for several queues, or for
// anything else, go through the outbox: delivering them before answering
// would be one commit, and one wait for the disk, per queue.
func oneQueue(events []pending) bool {
	if len(events) == 0 || events[0].queue == "" {
		return false
	}
	for _, p := range events[1:] {
		if p.queue != events[0].queue {
			return false
		}
	}
	return true
}

// deliverNow delivers events PutEvents accepted, on its own goroutine and
// before it answers, instead of committing them to the outbox for the
// dispatcher: events that match rules, and no archive, whose targets are
// all one SQS queue (oneQueue), whose delivery is a store commit of its own.
// Such an event is on disk when PutEvents answers as it was in the outbox,
// only already in its queue: each delivery is committed by its target, or
// failed and is retried from its retry record (or dead-lettered) as the
// dispatcher's are, and PutEvents fails if a retry record cannot be
// committed. It saves the outbox's commit, the dispatcher's read of it and
// the delete, and PutEvents waits for one sync (its target's) where it
// waited for one and shared the disk with the dispatcher's. It does what
// a dispatcher round does for these events (route, deliverHeld), so they
// are matched, transformed, delivered, recorded and retried as the
// dispatcher's are, by the rules as they are when they are delivered.
func (s *Service) deliverNow(events []pending) error {
	// Not the request's context: a delivery is the service's, as the
	// dispatcher's is, and goes on when the caller goes away.
	ctx := context.Background()
	var rd round
	for _, p := range events {
		s.route(ctx, p, &rd)
	}
	s.deliverHeld(ctx, &rd)
	return rd.err
}

// entrySize is an entry's size as "Calculating Amazon EventBridge PutEvents
// event entry size" counts it.
func entrySize(e *eventsapi.PutEventsRequestEntry) int {
	n := 0
	if e.Time != nil {
		n += 14
	}
	n += len(awsapi.ToString(e.Source)) + len(awsapi.ToString(e.DetailType)) + len(awsapi.ToString(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// accept validates one entry and builds its envelope.
func (s *Service) accept(ctx context.Context, e *eventsapi.PutEventsRequestEntry, account, reg string, now time.Time) (pending, string, *apierr.Error) {
	invalid := func(param, reason string) (pending, string, *apierr.Error) {
		return pending{}, "", eventsapi.ErrInvalidArgument("Parameter %s is not valid. Reason: %s", param, reason)
	}
	switch {
	case e.Source == nil || *e.Source == "":
		return invalid("Source", "Source is a required argument.")
	case e.DetailType == nil || *e.DetailType == "":
		return invalid("DetailType", "DetailType is a required argument.")
	case e.Detail == nil || *e.Detail == "":
		return invalid("Detail", "Detail is a required argument.")
	}
	if strings.HasPrefix(*e.Source, "aws.") {
		return pending{}, "", eventsapi.ErrNotAuthorizedForSourceException("Not authorized for the source.")
	}
	// Detail must be a JSON object: valid JSON whose first token is '{'
	// (checked without decoding it, which was a tenth of PutEvents' cost).
	if d := strings.TrimLeft(*e.Detail, " \t\r\n"); !strings.HasPrefix(d, "{") || !json.Valid([]byte(d)) || !utf8.ValidString(d) {
		return pending{}, "", eventsapi.ErrMalformedDetail("Detail is malformed.")
	}
	bAccount, bReg, busName := s.busName(ctx, e.EventBusName)
	s.mu.Lock()
	_, b, err := s.lookupLocked(bAccount, bReg, busName)
	s.mu.Unlock()
	if b == nil {
		code, msg := "InternalFailure", "Internal failure."
		if ae := apierr.As(err); ae != nil {
			code, msg = ae.Code, ae.Message
		}
		return pending{}, "", &apierr.Error{Code: code, Message: msg}
	}
	t := now
	if e.Time != nil {
		t = e.Time.UTC()
	}
	res := e.Resources
	if res == nil {
		res = []string{}
	}
	env := envelope{Version: "0", ID: s.newID(), DetailType: *e.DetailType, Source: *e.Source, Account: account,
		Time: t.Format("2006-01-02T15:04:05Z"), Region: reg, Resources: res, Detail: json.RawMessage(*e.Detail),
		validDetail: true} // checked above
	raw, mErr := env.encode() // compacts the detail
	if mErr != nil {
		return pending{}, "", eventsapi.ErrMalformedDetail("Detail is malformed.")
	}
	p := pending{Account: bAccount, Region: bReg, Bus: busName, Event: raw, compact: true, Ingested: now,
		id: env.ID, detailType: env.DetailType, source: env.Source}
	p.ev, _ = env.event()
	return p, env.ID, nil
}

func compactJSON(s string) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(s)) == nil {
		return buf.Bytes()
	}
	return json.RawMessage(s)
}

// enqueue commits events to the outbox and wakes the dispatcher.
func (s *Service) enqueue(batch []pending) error { return s.enqueueWith(batch, nil) }

// enqueueWith commits events to the outbox, and runs also in the same
// transaction, then wakes the dispatcher.
func (s *Service) enqueueWith(batch []pending, also func(tx store.Tx) error) error {
	if len(batch) == 0 && also == nil {
		return nil
	}
	if s.volatile {
		return s.enqueueVolatile(batch, also)
	}
	// Encoded before the transaction, not in it: Updates run one at a
	// time, and the less each holds the commit lock the sooner the next
	// one (another client's) runs.
	var one [1][]byte
	vals := one[:0]
	if len(batch) > 1 {
		vals = make([][]byte, 0, len(batch))
	}
	for i := range batch {
		v, err := batch[i].encode()
		if err != nil {
			return err
		}
		vals = append(vals, v)
	}
	var keys []string
	var gone [][]byte // delivered entries this commit deletes (takeDelivered)
	err := s.st.Update(func(tx store.Tx) error {
		if err := s.resumeOutbox(tx); err != nil {
			return err
		}
		for i, p := range batch {
			// The key is taken inside the transaction, not before it:
			// Updates run one after another and a View sees a prefix of
			// them, so outbox keys become visible in ascending order and
			// the dispatcher's cursor never passes a key still to come.
			k := s.nextKey(outboxPrefix)
			if err := tx.Put(k, vals[i]); err != nil {
				return err
			}
			if p.ev != nil {
				// Before the commit makes k visible, so the dispatcher
				// cannot read k first.
				if s.keepHot(string(k), p) {
					keys = append(keys, string(k))
				}
			}
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		// Last, so that nothing after it can fail and leave them taken
		// but not deleted.
		gone = s.takeDelivered()
		for _, k := range gone {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.hotMu.Lock()
		for _, k := range keys {
			delete(s.hot, k)
		}
		s.hotMu.Unlock()
		s.giveBackDelivered(gone)
		return err
	}
	s.signal()
	return nil
}

// enqueueVolatile is enqueueWith for a store kept in memory: also is
// committed, then the events join the queue in memory, in order.
func (s *Service) enqueueVolatile(batch []pending, also func(tx store.Tx) error) error {
	if also != nil {
		if err := s.st.Update(also); err != nil {
			return err
		}
	}
	if len(batch) == 0 {
		return nil
	}
	s.hotMu.Lock()
	if s.queue == nil {
		s.queue, s.spare = s.spare, nil
	}
	s.queue = append(s.queue, batch...)
	s.hotMu.Unlock()
	s.signal()
	return nil
}

// Submit durably accepts one delivery to one target made outside any rule
// (EventBridge Scheduler's firings). It is in the outbox when Submit returns;
// the dispatcher then delivers it, retries it and dead-letters it exactly as it
// does a rule's delivery, under d.Target's RetryPolicy and DeadLetterConfig, so
// EventBridge and Scheduler share one delivery implementation.
func (s *Service) Submit(ctx context.Context, d Delivery) error {
	if d.Account == "" {
		d.Account = s.account
	}
	if d.Region == "" {
		d.Region = s.region
	}
	return s.enqueue([]pending{{Account: d.Account, Region: d.Region, Direct: &d, Ingested: s.now().UTC()}})
}

// Publish puts a service's event (S3, ECS) on a bus, by default the account's
// default bus. It implements eventbus.Sink.
func (s *Service) Publish(ctx context.Context, e eventbus.Event) error {
	account, reg := e.Account, e.Region
	if account == "" {
		account = s.account
	}
	if reg == "" {
		reg = s.region
	}
	id := e.ID
	if id == "" {
		id = s.newID()
	}
	t := e.Time
	if t.IsZero() {
		t = s.now()
	}
	detail := e.Detail
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	res := e.Resources
	if res == nil {
		res = []string{}
	}
	env := envelope{Version: "0", ID: id, DetailType: e.DetailType, Source: e.Source, Account: account,
		Time: t.UTC().Format("2006-01-02T15:04:05Z"), Region: reg, Resources: res, Detail: detail}
	raw, err := env.encode()
	if err != nil {
		return fmt.Errorf("events: publish: %w", err)
	}
	busName := e.BusName
	if busName == "" {
		busName = defaultBus
	}
	p := pending{Account: account, Region: reg, Bus: busName, Event: raw, compact: true, Ingested: s.now().UTC(),
		id: id, detailType: e.DetailType, source: e.Source}
	p.ev, _ = env.event()
	if !s.routed(&p) {
		s.received(ctx, p)
		s.matched(ctx, p, id, nil)
		return nil
	}
	s.received(ctx, p) // before the dispatcher can match it
	return s.enqueue([]pending{p})
}

// received records an accepted event on the timeline.
func (s *Service) received(ctx context.Context, p pending) {
	if s.obs.tl == nil {
		return
	}
	id, detailType, source := p.id, p.detailType, p.source
	if id == "" {
		// Decoded only here, so that an event whose members are known
		// puts no envelope on the heap.
		var env envelope
		json.Unmarshal(p.Event, &env)
		id, detailType, source = env.ID, env.DetailType, env.Source
	}
	s.hop(ctx, timeline.Entry{Kind: "EventReceived", Resource: busArn(p.Account, p.Region, p.Bus), Subject: id,
		Detail: "event " + strconv.Quote(detailType) + " from " + source + " received on bus " + p.Bus})
}

// Run delivers accepted events, retries failed deliveries and fires schedules
// until ctx is cancelled.
func (s *Service) Run(ctx context.Context) {
	if err := s.loadAll(); err != nil {
		s.log.Error("events: load", "err", err)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	flush := time.NewTimer(flushDelay)
	flush.Stop()
	defer flush.Stop()
	for {
		if err := s.dispatch(ctx, true); err != nil && ctx.Err() == nil {
			s.log.Error("events: dispatch", "err", err)
		}
		var flushC <-chan time.Time
		if s.deliveredLen() > 0 {
			flush.Reset(flushDelay)
			flushC = flush.C
		}
		select {
		case <-ctx.Done():
			// The store is closed after the loops end: a restart
			// delivers nothing twice after a clean stop.
			if err := s.flushDelivered(); err != nil {
				s.log.Error("events: delete delivered events", "err", err)
			}
			return
		case <-flushC:
			if err := s.flushDelivered(); err != nil && ctx.Err() == nil {
				s.log.Error("events: delete delivered events", "err", err)
			}
		case <-s.wake:
			rctx, done := s.round(ctx)
			if err := s.RunReplays(rctx); err != nil && rctx.Err() == nil {
				s.log.Error("events: replay", "err", err)
			}
			done()
		case <-tick.C:
			// Each of these reads records, then acts and writes them
			// back: a round holds a reset back (Options.Round).
			rctx, done := s.round(ctx)
			s.FireSchedules(rctx)
			s.publishMetrics(rctx)
			if err := s.RunReplays(rctx); err != nil && rctx.Err() == nil {
				s.log.Error("events: replay", "err", err)
			}
			if err := s.ExpireArchives(); err != nil && rctx.Err() == nil {
				s.log.Error("events: archive retention", "err", err)
			}
			if err := s.Retry(rctx); err != nil && rctx.Err() == nil {
				s.log.Error("events: retry", "err", err)
			}
			done()
		}
	}
}

// Dispatch delivers every event in the outbox now, and returns when it is empty.
//
// It reads the outbox from a cursor, the key after the last entry it took,
// rather than from its start: deleted entries stay in the store's overlay as
// tombstones until a checkpoint, and walking them again every round was most
// of a busy dispatcher's work. The cursor is safe because outbox keys become
// visible in ascending order (enqueueWith). A round's deliveries to one
// target that takes batches (an SQS queue) go in one call, so one commit and
// one fsync, not one per event: delivering one at a time, the dispatcher fell
// behind durable PutEvents by seconds. Each round's entries are deleted,
// with their archive copies, in one commit after the round is delivered; a
// crash before that commit delivers the round again (at least once).
func (s *Service) Dispatch(ctx context.Context) error { return s.dispatch(ctx, false) }

// dispatch is Dispatch; lazy (Run's) leaves the deletes of a round with no
// archive copies to the next commit that adds to the outbox (enqueueWith),
// which under a stream of PutEvents comes within a millisecond or so, and
// Run commits them itself when none has come by flushDelay. A PutEvents
// then waits for one sync where it shared the disk with two of the
// dispatcher's per round (the targets' and the deletes'). Deleting late
// only widens the window of at least once: a crash before the deletes are
// on disk delivers those events again after the restart, as a crash just
// before a round's delete commit always did.
func (s *Service) dispatch(ctx context.Context, lazy bool) error {
	s.dispatching.Lock()
	defer s.dispatching.Unlock()
	if s.volatile {
		return s.dispatchVolatile(ctx)
	}
	if s.cursor == nil {
		if err := s.st.Update(s.resumeOutbox); err != nil {
			return err
		}
		s.cursor = []byte(outboxPrefix)
	}
	for ctx.Err() == nil {
		type item struct {
			key []byte
			p   pending
		}
		var items []item
		err := s.st.View(func(tx store.Tx) error {
			return tx.Scan([]byte(outboxPrefix), s.cursor, func(k, v []byte) (bool, error) {
				p, ok := s.takeHot(k)
				if ok {
					items = append(items, item{append([]byte(nil), k...), p})
					return len(items) < 256, nil
				}
				if err := json.Unmarshal(v, &p); err != nil {
					s.log.Error("events: dropping unreadable outbox entry", "key", string(k), "err", err)
				}
				items = append(items, item{append([]byte(nil), k...), p})
				return len(items) < 256, nil
			})
		})
		if err != nil {
			return err
		}
		if len(items) == 0 {
			if lazy {
				return nil
			}
			return s.flushDelivered()
		}
		archive := map[string][]byte{}
		rd := round{held: s.held}
		for _, it := range items {
			if it.p.Event != nil || it.p.Direct != nil {
				s.route(ctx, it.p, &rd)
				maps.Copy(archive, s.archiveWrites(it.p))
			}
		}
		// Delivered before the round leaves the outbox.
		s.deliverHeld(ctx, &rd)
		s.held = rd.held
		// The next round starts just after this round's last key.
		s.cursor = append(items[len(items)-1].key, 0)
		keys := make([][]byte, len(items))
		for i, it := range items {
			keys[i] = it.key
		}
		s.addDelivered(keys)
		if lazy && len(archive) == 0 && s.deliveredLen() < maxDelivered {
			continue
		}
		// Archive copies are written as their events leave the outbox,
		// just after delivery, not whenever the next event comes.
		if err := s.commitDelivered(archive); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// flushDelay is how long Run leaves delivered outbox entries for the next
// enqueue to delete before it deletes them itself; maxDelivered is how many
// it leaves at most.
const (
	flushDelay   = 20 * time.Millisecond
	maxDelivered = 4096
)

// addDelivered adds delivered outbox entries to those to delete.
func (s *Service) addDelivered(keys [][]byte) {
	s.deliveredMu.Lock()
	s.delivered = append(s.delivered, keys...)
	s.deliveredMu.Unlock()
}

// deliveredLen is how many delivered outbox entries wait to be deleted.
func (s *Service) deliveredLen() int {
	s.deliveredMu.Lock()
	defer s.deliveredMu.Unlock()
	return len(s.delivered)
}

// takeDelivered returns the delivered outbox entries waiting to be deleted,
// for a commit to delete: it gives them back (giveBackDelivered) if the
// commit fails.
func (s *Service) takeDelivered() [][]byte {
	s.deliveredMu.Lock()
	defer s.deliveredMu.Unlock()
	keys := s.delivered
	s.delivered = nil
	return keys
}

// giveBackDelivered returns keys takeDelivered took to those to delete.
func (s *Service) giveBackDelivered(keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	s.deliveredMu.Lock()
	s.delivered = append(keys, s.delivered...)
	s.deliveredMu.Unlock()
}

// flushDelivered deletes the delivered outbox entries no enqueue has
// deleted yet.
func (s *Service) flushDelivered() error { return s.commitDelivered(nil) }

// commitDelivered writes archive copies and deletes every delivered outbox
// entry in one commit.
func (s *Service) commitDelivered(archive map[string][]byte) error {
	keys := s.takeDelivered()
	if len(keys) == 0 && len(archive) == 0 {
		return nil
	}
	err := s.st.Update(func(tx store.Tx) error {
		for k, v := range archive {
			if err := tx.Put([]byte(k), v); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.giveBackDelivered(keys)
	}
	return err
}

// dispatchVolatile is Dispatch for a store kept in memory: it delivers the
// events queued in memory, up to 256 a round as from the outbox, and
// commits each round's archive copies.
func (s *Service) dispatchVolatile(ctx context.Context) error {
	for ctx.Err() == nil {
		s.hotMu.Lock()
		items, whole := s.queue, false
		if len(items) > 256 {
			items, s.queue = items[:256:256], items[256:]
		} else {
			s.queue, whole = nil, true
		}
		s.hotMu.Unlock()
		if len(items) == 0 {
			return nil
		}
		var archive map[string][]byte
		rd := round{held: s.held}
		for _, p := range items {
			s.route(ctx, p, &rd)
			if w := s.archiveWrites(p); len(w) > 0 {
				if archive == nil {
					archive = map[string][]byte{}
				}
				maps.Copy(archive, w)
			}
		}
		s.deliverHeld(ctx, &rd)
		s.held = rd.held
		if whole && cap(items) <= 1024 { // not a rare burst's
			// The queue's array is the next queue's once delivered, so
			// that a steady stream of events reuses two arrays instead of
			// allocating one per round.
			clear(items) // its events are delivered: let them go
			s.hotMu.Lock()
			s.spare = items[:0]
			s.hotMu.Unlock()
		}
		if len(archive) > 0 {
			err := s.st.Update(func(tx store.Tx) error {
				for k, v := range archive {
					if err := tx.Put([]byte(k), v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// maxHot bounds the outbox entries kept decoded in memory for the dispatcher.
const maxHot = 4096

// keepHot keeps an outbox entry, with its event already parsed, for the
// dispatcher, which then decodes and parses it not a second time; it reports
// whether there was room.
func (s *Service) keepHot(key string, p pending) bool {
	s.hotMu.Lock()
	defer s.hotMu.Unlock()
	if len(s.hot) >= maxHot {
		return false
	}
	if s.hot == nil {
		s.hot = map[string]pending{}
	}
	s.hot[key] = p
	return true
}

// takeHot returns and forgets the entry keepHot kept under key.
func (s *Service) takeHot(key []byte) (pending, bool) {
	s.hotMu.Lock()
	defer s.hotMu.Unlock()
	p, ok := s.hot[string(key)]
	if ok {
		delete(s.hot, string(key))
	}
	return p, ok
}

// resumeOutbox moves the key sequence past every outbox entry left by an
// earlier run, once, inside the first transaction that writes or reads the
// outbox, so that it is ordered with every enqueue: the sequence starts at the
// clock's reading, which after a restart (or under a test's fixed clock) can
// be below the keys already there, and a new key could then overwrite an
// entry or fall below the dispatcher's cursor.
func (s *Service) resumeOutbox(tx store.Tx) error {
	if s.resumed.Load() {
		return nil
	}
	err := tx.ScanReverse([]byte(outboxPrefix), nil, func(k, _ []byte) (bool, error) {
		if n, err := strconv.ParseUint(strings.TrimPrefix(string(k), outboxPrefix), 10, 64); err == nil {
			for {
				cur := s.seq.Load()
				if cur >= n || s.seq.CompareAndSwap(cur, n) {
					break
				}
			}
		}
		return false, nil
	})
	if err == nil {
		s.resumed.Store(true)
	}
	return err
}

// match is one rule an event goes to, with its targets at that moment.
type match struct {
	arn, name string
	targets   []eventsapi.Target
	account   string
	region    string
}

// direct delivers a submitted delivery; an event-bus target gets the event
// the delivery's Source, DetailType and Input make.
func (s *Service) direct(ctx context.Context, p pending) {
	d := *p.Direct
	if arnService(awsapi.ToString(d.Target.Arn)) == "events" {
		detail := compactJSON(string(d.Input))
		if !json.Valid(detail) {
			s.log.Warn("events: dropping a submitted event whose detail is not JSON", "target", awsapi.ToString(d.Target.Arn))
			return
		}
		res := []string{}
		if d.ScheduleArn != "" {
			res = append(res, d.ScheduleArn)
		}
		env := envelope{Version: "0", ID: s.newID(), DetailType: d.DetailType, Source: d.Source, Account: d.Account,
			Time: s.now().UTC().Format("2006-01-02T15:04:05Z"), Region: d.Region, Resources: res, Detail: detail}
		raw, err := env.encode()
		if err != nil {
			return
		}
		d.Input = raw
		s.forward(d, p)
		return
	}
	if err := s.invoke(ctx, &d, 1); err != nil {
		s.scheduleRetry(d, err, p.Ingested)
	}
}

// round holds a dispatcher round's deliveries to targets that take several
// at once (BatchTarget) until the round's events are all routed. deliverHeld
// empties held and leaves its array for the next round.
type round struct {
	held []heldDelivery
	// err is the first error a failed delivery's retry record (or an
	// event bus target's forward) could not be committed with; deliverNow
	// fails PutEvents with it.
	err error
}

// failed records a failed delivery's retry, and in rd, when given, an
// error committing it.
func (s *Service) failed(rd *round, d Delivery, err error, first time.Time) {
	if rerr := s.scheduleRetry(d, err, first); rerr != nil && rd != nil && rd.err == nil {
		rd.err = rerr
	}
}

// done empties rd for the next round, keeping its array unless a rare
// burst made it large.
func (rd *round) done() {
	clear(rd.held)
	if cap(rd.held) > 1024 {
		rd.held = nil
	}
	rd.held = rd.held[:0]
}

type heldDelivery struct {
	d        Delivery
	ingested time.Time // the event's, where its retries count from
}

// deliverHeld delivers rd's held deliveries, one DeliverBatch per target ARN
// with that ARN's deliveries in the order they were routed, and records and
// retries each as invoke and route do one delivered alone.
func (s *Service) deliverHeld(ctx context.Context, rd *round) {
	if len(rd.held) == 1 {
		// Alone, as route would have delivered it.
		h := &rd.held[0]
		if err := s.invoke(ctx, &h.d, 1); err != nil {
			s.failed(rd, h.d, err, h.ingested)
		}
		rd.done()
		return
	}
	// The round's target ARNs, in the order they first came, each with its
	// deliveries; a round has few, found by looking until they are many.
	type group struct {
		arn string
		idx []int
	}
	var groups []group
	var byArn map[string]int
	for i := range rd.held {
		arn := awsapi.ToString(rd.held[i].d.Target.Arn)
		j := -1
		if byArn != nil {
			if k, ok := byArn[arn]; ok {
				j = k
			}
		} else {
			for k := range groups {
				if groups[k].arn == arn {
					j = k
					break
				}
			}
		}
		if j >= 0 {
			groups[j].idx = append(groups[j].idx, i)
			continue
		}
		groups = append(groups, group{arn, []int{i}})
		if byArn != nil {
			byArn[arn] = len(groups) - 1
		} else if len(groups) > 16 {
			byArn = make(map[string]int, 2*len(groups))
			for k, g := range groups {
				byArn[g.arn] = k
			}
		}
	}
	for _, g := range groups {
		ds := make([]*Delivery, len(g.idx))
		for j, i := range g.idx {
			ds[j] = &rd.held[i].d
		}
		errs := s.targets(arnService(g.arn)).(BatchTarget).DeliverBatch(ctx, ds)
		for j, d := range ds {
			s.invoked(timeline.WithCause(ctx, d.EventID), d, 1, errs[j])
			if errs[j] != nil {
				s.failed(rd, *d, errs[j], rd.held[g.idx[j]].ingested)
			}
		}
	}
	rd.done()
}

// batches reports whether deliveries to arn are held for deliverHeld.
func (s *Service) batches(arn string) bool {
	_, ok := s.targets(arnService(arn)).(BatchTarget)
	return ok
}

// route matches an event against its bus's rules and delivers it; a delivery
// to a BatchTarget is held in rd, when given, for deliverHeld.
func (s *Service) route(ctx context.Context, p pending, rd *round) {
	if p.Direct != nil {
		s.direct(ctx, p)
		return
	}
	var buf [2]match // an event matches a rule or two, usually
	ms := buf[:0]
	s.mu.Lock()
	_, b, _ := s.lookupLocked(p.Account, p.Region, p.Bus)
	if b != nil {
		if p.Rule != "" {
			if rr := b.rules[p.Rule]; rr != nil {
				ms = append(ms, match{ruleArn(p.Account, p.Region, p.Bus, rr.Name), rr.Name, rr.Targets, p.Account, p.Region})
			}
		} else if ev, err := p.parsed(); err == nil {
			names := p.matched
			if p.matchedOn != b || p.matchedGen != b.gen {
				names = b.set.Match(ev)
			}
			for _, name := range names {
				rr := b.rules[name]
				arn := ruleArn(p.Account, p.Region, p.Bus, name)
				if len(p.ReplayRules) > 0 && !slices.Contains(p.ReplayRules, arn) {
					continue
				}
				ms = append(ms, match{arn, name, rr.Targets, p.Account, p.Region})
			}
		}
	}
	s.mu.Unlock()
	var ingested string // <aws.events.event.ingestion-time>, for input transformers only
	id := p.id
	if id == "" {
		var env struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(p.Event, &env) == nil {
			id = env.ID
		}
	}
	s.matched(ctx, p, id, ms)
	for _, m := range ms {
		for _, t := range m.targets {
			if t.InputTransformer != nil && ingested == "" {
				ingested = p.Ingested.UTC().Format(time.RFC3339Nano)
			}
			input, err := targetInput(&t, p.Event, m.arn, m.name, ingested)
			if err != nil {
				s.log.Warn("events: input transformation failed", "rule", m.arn, "target", awsapi.ToString(t.Id), "err", err)
				continue
			}
			// Built where it goes, not once before: invoke takes its
			// address, which would put every delivery on the heap.
			mk := func() Delivery {
				return Delivery{Account: m.account, Region: m.region, RuleArn: m.arn, EventID: id, Target: t, Input: input}
			}
			if arnService(awsapi.ToString(t.Arn)) == "events" {
				if err := s.forward(mk(), p); err != nil && rd != nil && rd.err == nil {
					rd.err = err
				}
				continue
			}
			if rd != nil && s.batches(awsapi.ToString(t.Arn)) {
				rd.held = append(rd.held, heldDelivery{mk(), p.Ingested})
				continue
			}
			d := mk()
			if err := s.invoke(ctx, &d, 1); err != nil {
				s.failed(rd, d, err, p.Ingested)
			}
		}
	}
}

// parsed is the event parsed for matching, parsed now unless routed did.
func (p *pending) parsed() (*pattern.Event, error) {
	if p.ev != nil {
		return p.ev, nil
	}
	return pattern.ParseEvent(p.Event)
}

func arnService(arn string) string {
	f, ok := arnFields(arn)
	if !ok {
		return ""
	}
	return f[2]
}

// arnFields splits an ARN into its six fields as strings.SplitN(arn, ":", 6)
// does (the resource keeps any further colons), and reports whether it has
// all six. It allocates nothing: the dispatcher splits every target's ARN
// several times per delivery.
func arnFields(arn string) (f [6]string, ok bool) {
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(arn, ':')
		if j < 0 {
			return f, false
		}
		f[i], arn = arn[:j], arn[j+1:]
	}
	f[5] = arn
	return f, true
}

// forward puts an event on another bus (an event bus target). The event keeps
// its envelope; a hop count stops loops between buses. It returns the error
// the event could not be committed to the outbox with.
func (s *Service) forward(d Delivery, p pending) error {
	if p.Hops >= maxHops {
		s.log.Warn("events: dropping event looping between buses", "rule", d.RuleArn)
		return nil
	}
	parts, ok := arnFields(awsapi.ToString(d.Target.Arn))
	if !ok || !strings.HasPrefix(parts[5], "event-bus/") {
		s.log.Warn("events: target is not an event bus", "arn", awsapi.ToString(d.Target.Arn))
		return nil
	}
	next := pending{Account: parts[4], Region: parts[3], Bus: strings.TrimPrefix(parts[5], "event-bus/"), Event: d.Input, Hops: p.Hops + 1, Ingested: s.now().UTC()}
	if err := s.enqueue([]pending{next}); err != nil {
		s.log.Error("events: forward to bus", "arn", awsapi.ToString(d.Target.Arn), "err", err)
		return err
	}
	return nil
}

// deliver hands d to the Target for its ARN's service.
func (s *Service) deliver(ctx context.Context, d *Delivery) error {
	svc := arnService(awsapi.ToString(d.Target.Arn))
	t := s.targets(svc)
	if t == nil {
		return fmt.Errorf("wharf has no %q target", svc)
	}
	return t.Deliver(ctx, d)
}

// scheduleRetry records a failed delivery for its next attempt, and returns
// the error it could not commit the record with.
func (s *Service) scheduleRetry(d Delivery, err error, first time.Time) error {
	code, retried := errorCode(err)
	r := retry{Delivery: d, Attempts: 1, First: first, LastError: err.Error(), ErrorCode: code}
	r.Due = s.now().Add(backoff(1))
	if !retried || s.exhausted(&r) {
		s.deadLetter(context.Background(), &r)
		return nil
	}
	if uerr := s.st.Update(func(tx store.Tx) error { return putJSON(tx, s.nextKey(retryPrefix), r) }); uerr != nil {
		s.log.Error("events: record retry", "err", uerr)
		return uerr
	}
	return nil
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 8)
	return min(d, 5*time.Minute)
}

func (s *Service) exhausted(r *retry) bool {
	attempts, age := defaultAttempts, defaultMaxAge
	if p := r.Delivery.Target.RetryPolicy; p != nil {
		if p.MaximumRetryAttempts != nil {
			attempts = int(*p.MaximumRetryAttempts)
		}
		if p.MaximumEventAgeInSeconds != nil {
			age = time.Duration(*p.MaximumEventAgeInSeconds) * time.Second
		}
	}
	// MaximumRetryAttempts counts retries after the first attempt.
	return r.Attempts > attempts || s.now().Sub(r.First) >= age
}

// Retry makes the next attempt of every failed delivery that is due.
func (s *Service) Retry(ctx context.Context) error {
	now := s.now()
	type item struct {
		key []byte
		r   retry
	}
	var due []item
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(retryPrefix), nil, func(k, v []byte) (bool, error) {
			var r retry
			if json.Unmarshal(v, &r) == nil && !r.Due.After(now) {
				due = append(due, item{append([]byte(nil), k...), r})
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	for _, it := range due {
		if ctx.Err() != nil {
			return ctx.Err() // a reset begins (Options.Round): the rest wait for the next round
		}
		r := it.r
		err := s.invoke(ctx, &r.Delivery, r.Attempts+1)
		r.Attempts++
		var done bool
		if err == nil {
			done = true
		} else {
			code, retried := errorCode(err)
			r.LastError, r.ErrorCode = err.Error(), code
			r.Due = s.now().Add(backoff(r.Attempts))
			if !retried || s.exhausted(&r) {
				s.deadLetter(ctx, &r)
				done = true
			}
		}
		err = s.st.Update(func(tx store.Tx) error {
			if done {
				return tx.Delete(it.key)
			}
			return putJSON(tx, it.key, r)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// deadLetter sends an undeliverable event to the target's dead-letter queue with
// the attributes AWS adds ("Using dead-letter queues to process undelivered
// events in EventBridge"), or drops it when there is none.
func (s *Service) deadLetter(ctx context.Context, r *retry) {
	dlq := ""
	if c := r.Delivery.Target.DeadLetterConfig; c != nil {
		dlq = awsapi.ToString(c.Arn)
	}
	if dlq == "" {
		// The timeline's line says it: no second line here.
		s.gaveUp(ctx, r, "", nil)
		return
	}
	code := r.ErrorCode
	if code == "" {
		code = "SDK_CLIENT_ERROR"
	}
	d := Delivery{
		Account: r.Delivery.Account, Region: r.Delivery.Region, RuleArn: r.Delivery.RuleArn, EventID: r.Delivery.EventID,
		Target: eventsapi.Target{Id: r.Delivery.Target.Id, Arn: awsapi.String(dlq)}, Input: r.Delivery.Input,
		Attributes: map[string]string{
			"RULE_ARN": r.Delivery.RuleArn, "TARGET_ARN": awsapi.ToString(r.Delivery.Target.Arn),
			"ERROR_CODE": code, "ERROR_MESSAGE": r.LastError,
		},
		// Scheduler sends to a schedule's dead-letter queue with the
		// schedule's execution role; EventBridge sends as itself, so the
		// queue's policy must let events.amazonaws.com in.
		ScheduleArn: r.Delivery.ScheduleArn,
	}
	if r.Delivery.ScheduleArn != "" {
		d.Target.RoleArn = r.Delivery.Target.RoleArn
	}
	if r.Delivery.ScheduleArn != "" {
		// Scheduler's dead-letter attributes ("Configuring a dead-letter queue
		// for EventBridge Scheduler").
		condition := "MaximumRetryAttempts"
		if p := r.Delivery.Target.RetryPolicy; p != nil && p.MaximumEventAgeInSeconds != nil &&
			s.now().Sub(r.First) >= time.Duration(*p.MaximumEventAgeInSeconds)*time.Second {
			condition = "MaximumEventAgeInSeconds"
		}
		d.Attributes = map[string]string{
			"SCHEDULE_ARN": r.Delivery.ScheduleArn, "TARGET_ARN": awsapi.ToString(r.Delivery.Target.Arn),
			"ERROR_CODE": code, "ERROR_MESSAGE": r.LastError,
			"EXHAUSTED_RETRY_CONDITION": condition, "RETRY_ATTEMPTS": strconv.Itoa(r.Attempts - 1),
		}
	}
	err := s.deliver(timeline.WithCause(ctx, d.EventID), &d)
	s.gaveUp(ctx, r, dlq, err)
}

// FireSchedules fires every enabled schedule rule that is due at the clock's
// now: one "Scheduled Event" per rule, even when several periods were missed.
func (s *Service) FireSchedules(ctx context.Context) {
	now := s.now()
	var batch []pending
	type firing struct {
		key []byte
		at  time.Time
	}
	var fired []firing
	var missed []missedFiring
	s.mu.Lock()
	for _, r := range s.regions {
		b := r.buses[defaultBus]
		if b == nil {
			continue
		}
		for _, rr := range b.rules {
			if rr.compiledSchd == nil || rr.State != "ENABLED" {
				continue
			}
			arn := ruleArn(r.account, r.name, defaultBus, rr.Name)
			last, ok := s.lastFire[arn]
			if !ok {
				s.lastFire[arn] = now
				continue
			}
			next, ok := rr.compiledSchd.Next(last)
			if !ok || next.After(now) {
				continue
			}
			s.lastFire[arn] = next
			skipped := 0
			for {
				n2, ok := rr.compiledSchd.Next(s.lastFire[arn])
				if !ok || n2.After(now) {
					break
				}
				s.lastFire[arn] = n2
				skipped++
			}
			if skipped > 0 {
				missed = append(missed, missedFiring{arn, next, s.lastFire[arn], skipped})
			}
			env := envelope{Version: "0", ID: s.newID(), DetailType: "Scheduled Event", Source: "aws.events",
				Account: r.account, Time: next.UTC().Format("2006-01-02T15:04:05Z"), Region: r.name,
				Resources: []string{arn}, Detail: json.RawMessage("{}")}
			raw, _ := env.encode()
			batch = append(batch, pending{Account: r.account, Region: r.name, Bus: defaultBus, Event: raw, Rule: rr.Name, Ingested: now.UTC()})
			fired = append(fired, firing{firedKey(r.account, r.name, rr.Name), s.lastFire[arn]})
		}
	}
	s.mu.Unlock()
	for _, m := range missed {
		s.missedFirings(ctx, m)
	}
	if len(batch) == 0 {
		return
	}
	// The firing times are committed with the events they produced, so a
	// restart neither repeats nor loses a firing.
	err := s.enqueueWith(batch, func(tx store.Tx) error {
		for _, f := range fired {
			if err := putJSON(tx, f.key, f.at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("events: enqueue scheduled events", "err", err)
	}
}

// loadAll loads every account and region that has state, so that their
// schedules fire after a restart before anyone calls the API.
func (s *Service) loadAll() error {
	seen := map[string]bool{}
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("events/r/"), nil, func(k, _ []byte) (bool, error) {
			parts := strings.SplitN(strings.TrimPrefix(string(k), "events/r/"), "/", 3)
			if len(parts) == 3 {
				seen[parts[0]+"/"+parts[1]] = true
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range seen {
		account, reg, _ := strings.Cut(k, "/")
		if _, err := s.regionLocked(account, reg); err != nil {
			return err
		}
	}
	return nil
}
