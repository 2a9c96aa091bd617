// Package events is wharf's Amazon EventBridge: event buses, rules with event
// patterns or schedules, targets with input transformation, PutEvents, and the
// sink through which other services' events (S3, ECS) reach the default bus.
//
// # Key layout
//
//	events/r/<account>/<region>/bus/<name>           bus (JSON)
//	events/r/<account>/<region>/rule/<bus>/<name>    rule with its targets (JSON)
//	events/r/<account>/<region>/fired/<rule>         when a schedule rule last fired
//	events/outbox/<seq>                              an accepted event not yet delivered
//	events/retry/<seq>                               a failed delivery waiting for its next attempt
//
// PutEvents (and Publish) commit accepted events that match a rule or an
// archive of their bus to the outbox before they return (the others go
// nowhere, and are only recorded on the timeline); the dispatcher (Run) matches each against its bus's rules, delivers to
// the targets, and only then deletes it, so an accepted event is delivered even
// across a restart (at least once). Events a PutEvents accepts whose rules'
// targets are all one SQS queue (and that no archive keeps) skip the outbox:
// PutEvents delivers them before it returns, in one commit to that queue, or
// keeps a failed delivery as a retry (deliverNow). A store kept in memory (--ephemeral) has
// no restart to outlive: accepted events then wait in a queue in memory
// (Options.Volatile).
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/pattern"
	"github.com/wharf-dev/wharf/internal/schedule"
	"github.com/wharf-dev/wharf/internal/store"
)

// Delivery is one event on its way to one target.
type Delivery struct {
	Account string // the rule's account and region
	Region  string
	RuleArn string
	EventID string
	// Target is the target as configured with PutTargets: Arn, RoleArn,
	// SqsParameters (MessageGroupId), EcsParameters, ...
	Target eventsapi.Target
	// Input is what the target receives: the event, or the result of the
	// target's Input, InputPath or InputTransformer.
	Input []byte
	// Attributes are message attributes to attach where the target has them
	// (SQS): a dead-letter delivery carries RULE_ARN, TARGET_ARN, ERROR_CODE
	// and ERROR_MESSAGE, as AWS adds them.
	Attributes map[string]string `json:",omitempty"`
	// ScheduleArn is set on EventBridge Scheduler's deliveries (Submit): a
	// dead-letter message then carries Scheduler's attributes, not a rule's.
	ScheduleArn string `json:",omitempty"`
	// Source and DetailType are set when a Scheduler schedule targets an event
	// bus (EventBridgeParameters): the event put on the bus has them as its
	// source and detail-type, and Input as its detail.
	Source     string `json:",omitempty"`
	DetailType string `json:",omitempty"`
}

// Target delivers events to one kind of AWS resource (SQS queues, SNS topics,
// CloudWatch Logs log groups, ECS task definitions). The service owning the
// resource implements it; EventBridge picks the Target by the service part of
// the target's ARN. An error counts as a failed invocation and is retried.
type Target interface {
	Deliver(ctx context.Context, d *Delivery) error
}

// BatchTarget is a Target that also delivers several events to one resource
// at once. The dispatcher hands it each round's deliveries to a resource (one
// target ARN) together, in the order it would have delivered them one by one,
// so that a busy resource gets one call (one store commit) a round rather
// than one per event.
type BatchTarget interface {
	Target
	// DeliverBatch delivers ds, which all have the same Target.Arn, and
	// returns each one's outcome: errs[i] is what Deliver would have
	// returned for ds[i] (and the error a dead-letter ERROR_MESSAGE shows).
	DeliverBatch(ctx context.Context, ds []*Delivery) []error
}

// DeliveryError is a failed delivery EventBridge does not retry: missing
// permissions, a role it cannot assume, a target that no longer exists. It
// goes straight to the target's dead-letter queue with Code as ERROR_CODE
// ("Using dead-letter queues to process undelivered events in EventBridge":
// errors from missing permissions or a missing resource are not retried).
type DeliveryError struct {
	Code string // NO_PERMISSIONS, FAILED_TO_ASSUME_ROLE, NO_RESOURCE
	Err  error
}

// Error is the error's text as a dead-letter ERROR_MESSAGE carries it: an
// API error's message without its code.
func (e *DeliveryError) Error() string {
	if ae := apierr.As(e.Err); ae != nil {
		return ae.Message
	}
	return e.Err.Error()
}
func (e *DeliveryError) Unwrap() error { return e.Err }

// errorCode is the ERROR_CODE a dead-lettered delivery that failed with err
// carries, and whether that error is retried.
func errorCode(err error) (code string, retried bool) {
	var de *DeliveryError
	if errors.As(err, &de) && de.Code != "" {
		return de.Code, false
	}
	return "SDK_CLIENT_ERROR", true
}

// Targets resolves the Target for an ARN's service ("sqs", "sns", "logs",
// "ecs"). It returns nil when wharf has no implementation; such deliveries fail.
type Targets func(service string) Target

// TargetServices are the services whose resources EventBridge delivers to
// through a Target: wharf must provide a Target for each. An event bus target
// ("events") is EventBridge's own. PutTargets accepts other ARNs, as AWS does;
// their deliveries fail and are retried, then dead-lettered.
var TargetServices = []string{"ecs", "logs", "sns", "sqs"}

// Options configure a Service.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// NewID returns event ids; defaults to random UUIDs.
	NewID func() string
	// Targets resolves target implementations; nil means none.
	Targets Targets
	// Account and Region are where events published without them (Publish) go.
	Account, Region string
	// Volatile says Store is kept in memory only (--ephemeral): accepted
	// events then wait for the dispatcher in a queue in memory instead of
	// the store's outbox. The outbox is there to outlive a restart, which
	// nothing in such a store does, and committing each event to it and
	// deleting it again was a large part of PutEvents' cost.
	Volatile bool
	// Round, when set, is held for each round of the loop's timed work
	// (firing schedule rules, replays, retries) and returns the round's
	// context. wharf's reset takes it exclusively (it is the server's
	// gate): the reset waits for a round in flight and none begins until
	// it is over, so a round never writes back what the reset deletes.
	// The dispatcher's rounds need no such hold: Forget waits for them.
	Round func(ctx context.Context) (context.Context, func())
}

// Service is EventBridge.
type Service struct {
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	newID   func() string
	targets Targets
	account string
	region  string

	mu      sync.Mutex
	regions map[regionKey]*region
	seq     atomic.Uint64
	wake    chan struct{}
	// dispatching is held by Dispatch; cursor, which it guards, is the
	// outbox key Dispatch reads from next (nil: not yet resumed).
	dispatching sync.Mutex
	cursor      []byte
	// held is the array of a dispatcher round's held deliveries, kept
	// between rounds (guarded by dispatching).
	held []heldDelivery
	// delivered are outbox entries delivered and not yet deleted: the
	// next commit that adds to the outbox deletes them (dispatch).
	deliveredMu sync.Mutex
	delivered   [][]byte
	// hot holds outbox entries as enqueued, by key, until the dispatcher
	// takes them (keepHot).
	hotMu sync.Mutex
	hot   map[string]pending
	// volatile: accepted events wait in queue, guarded by hotMu, instead
	// of the store's outbox (Options.Volatile).
	volatile bool
	queue    []pending
	// spare is an empty array the dispatcher is done with, for queue.
	spare []pending
	// resumed is set once the key sequence is past an earlier run's outbox.
	resumed atomic.Bool
	// lastFire is when each schedule rule last fired (or was created or loaded),
	// keyed by rule ARN.
	lastFire map[string]time.Time
	round    func(ctx context.Context) (context.Context, func()) // see Options.Round

	obs observer // timeline and metrics
}

// regionKey is what a region is kept by: a struct, so looking one up
// builds no string (every event looks its region up several times).
type regionKey struct{ account, region string }

// region is one account's buses in one region, loaded from the store once.
type region struct {
	account, name string
	buses         map[string]*bus
	archives      map[string]*archiveRecord
	replays       map[string]*replayRecord
}

// bus is an event bus with its rules and their compiled patterns.
type bus struct {
	rec   busRecord
	rules map[string]*ruleRecord
	set   pattern.Set // enabled pattern rules, by rule name
	// gen counts set's changes, so that rules matched against an event
	// are matched again only when set has changed since (pending.matched).
	gen uint64
}

type busRecord struct {
	Name        string
	Description string `json:",omitempty"`
	Created     time.Time
	Modified    time.Time
	Tags        map[string]string `json:",omitempty"`
	// Policy is the bus's resource-based policy (PutPermission).
	Policy    string `json:",omitempty"`
	Persisted bool   `json:"-"`
}

type ruleRecord struct {
	Name        string
	Bus         string
	Pattern     string `json:",omitempty"`
	Schedule    string `json:",omitempty"`
	State       string
	Description string             `json:",omitempty"`
	RoleArn     string             `json:",omitempty"`
	Tags        map[string]string  `json:",omitempty"`
	Targets     []eventsapi.Target `json:",omitempty"`
	// ManagedBy names the AWS service that owns the rule (an archive's rule);
	// users cannot change or delete it.
	ManagedBy    string `json:",omitempty"`
	Created      time.Time
	compiled     *pattern.Pattern
	compiledSchd schedule.Schedule
}

// New returns the service. Call Run (in a loop owned by the server) to deliver
// events and fire schedules.
func New(o Options) *Service {
	s := &Service{
		st: o.Store, log: o.Logger, now: clock.Or(o.Clock).Now, newID: o.NewID, targets: o.Targets,
		account: o.Account, region: o.Region, volatile: o.Volatile,
		regions: map[regionKey]*region{}, wake: make(chan struct{}, 1), lastFire: map[string]time.Time{}, round: o.Round,
	}
	if s.round == nil {
		s.round = func(ctx context.Context) (context.Context, func()) { return ctx, func() {} }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.newID == nil {
		s.newID = uuid
	}
	if s.targets == nil {
		s.targets = func(string) Target { return nil }
	}
	s.seq.Store(uint64(s.now().UnixNano()))
	return s
}

// uuid returns a random (version 4) UUID, formatted in place: every
// accepted event takes one.
func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:36], b[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}

const defaultBus = "default"

func regionPrefix(account, reg string) string { return "events/r/" + account + "/" + reg + "/" }
func busKey(account, reg, name string) []byte {
	return []byte(regionPrefix(account, reg) + "bus/" + name)
}

// firedKey holds when a schedule rule (always on the default bus) last fired.
func firedKey(account, reg, name string) []byte {
	return []byte(regionPrefix(account, reg) + "fired/" + name)
}
func ruleKey(account, reg, busName, name string) []byte {
	return []byte(regionPrefix(account, reg) + "rule/" + busName + "/" + name)
}

func busArn(account, reg, name string) string {
	return "arn:aws:events:" + reg + ":" + account + ":event-bus/" + name
}

func ruleArn(account, reg, busName, name string) string {
	if busName == defaultBus {
		return "arn:aws:events:" + reg + ":" + account + ":rule/" + name
	}
	return "arn:aws:events:" + reg + ":" + account + ":rule/" + busName + "/" + name
}

// regionLocked returns (loading once) the state of account in reg. s.mu is held.
func (s *Service) regionLocked(account, reg string) (*region, error) {
	k := regionKey{account, reg}
	if r, ok := s.regions[k]; ok {
		return r, nil
	}
	r := &region{account: account, name: reg, buses: map[string]*bus{}, archives: map[string]*archiveRecord{}, replays: map[string]*replayRecord{}}
	fired := map[string]time.Time{}
	now := s.now().UTC()
	r.buses[defaultBus] = &bus{rec: busRecord{Name: defaultBus, Created: now, Modified: now}, rules: map[string]*ruleRecord{}}
	prefix := []byte(regionPrefix(account, reg))
	var rules []*ruleRecord
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, nil, func(key, v []byte) (bool, error) {
			rest := string(key[len(prefix):])
			switch {
			case strings.HasPrefix(rest, "bus/"):
				var b busRecord
				if err := json.Unmarshal(v, &b); err != nil {
					return false, fmt.Errorf("events: bus %s: %w", rest, err)
				}
				b.Persisted = true
				r.buses[b.Name] = &bus{rec: b, rules: map[string]*ruleRecord{}}
			case strings.HasPrefix(rest, "rule/"):
				var rr ruleRecord
				if err := json.Unmarshal(v, &rr); err != nil {
					return false, fmt.Errorf("events: rule %s: %w", rest, err)
				}
				rules = append(rules, &rr)
			case strings.HasPrefix(rest, "archive/"):
				var a archiveRecord
				if err := json.Unmarshal(v, &a); err != nil {
					return false, fmt.Errorf("events: archive %s: %w", rest, err)
				}
				if err := a.compile(); err != nil {
					s.log.Warn("events: stored archive pattern no longer compiles", "archive", a.Name, "err", err)
				}
				r.archives[a.Name] = &a
			case strings.HasPrefix(rest, "replay/"):
				var rp replayRecord
				if err := json.Unmarshal(v, &rp); err != nil {
					return false, fmt.Errorf("events: replay %s: %w", rest, err)
				}
				r.replays[rp.Name] = &rp
			case strings.HasPrefix(rest, "fired/"):
				var t time.Time
				if err := json.Unmarshal(v, &t); err == nil {
					fired[strings.TrimPrefix(rest, "fired/")] = t
				}
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	for _, rr := range rules {
		b := r.buses[rr.Bus]
		if b == nil {
			continue
		}
		if err := rr.compile(); err != nil {
			s.log.Warn("events: stored rule no longer compiles", "rule", rr.Name, "err", err)
			continue
		}
		b.rules[rr.Name] = rr
		b.index(rr)
		if rr.compiledSchd != nil {
			// A schedule rule resumes from when it last fired, so a period that
			// ended while wharf was down fires once on start (FireSchedules
			// collapses several missed periods into one event).
			last, ok := fired[rr.Name]
			if !ok {
				last = now
			}
			s.lastFire[ruleArn(account, reg, rr.Bus, rr.Name)] = last
		}
	}
	s.regions[k] = r
	return r, nil
}

// compile parses the rule's pattern and schedule.
func (rr *ruleRecord) compile() error {
	rr.compiled, rr.compiledSchd = nil, nil
	if rr.Pattern != "" {
		p, err := pattern.Compile([]byte(rr.Pattern))
		if err != nil {
			return invalidPattern(err)
		}
		rr.compiled = p
	}
	if rr.Schedule != "" {
		sc, err := schedule.Parse(rr.Schedule)
		if err != nil {
			return apierr.Validation("Parameter ScheduleExpression is not valid.")
		}
		if _, ok := sc.(*schedule.At); ok {
			return apierr.Validation("Parameter ScheduleExpression is not valid.")
		}
		rr.compiledSchd = sc
	}
	return nil
}

// index puts an enabled pattern rule in the bus's matcher, or takes it out.
func (b *bus) index(rr *ruleRecord) {
	b.gen++
	if rr.compiled != nil && rr.State == "ENABLED" {
		b.set.Put(rr.Name, rr.compiled)
	} else {
		b.set.Delete(rr.Name)
	}
}

// unindex takes a rule out of the bus's matcher.
func (b *bus) unindex(name string) {
	b.gen++
	b.set.Delete(name)
}

func invalidPattern(err error) *apierr.Error {
	return eventsapi.ErrInvalidEventPatternException("Event pattern is not valid. Reason: %s", err.Error())
}

func notFound(format string, a ...any) *apierr.Error {
	return eventsapi.ErrResourceNotFoundException(format, a...)
}

// putJSON stores v as JSON, leaving <, > and & unescaped so that stored events
// keep their exact text.
func putJSON(tx store.Tx, key []byte, v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}
