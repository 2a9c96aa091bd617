// Package scheduler is wharf's Amazon EventBridge Scheduler: schedule groups,
// schedules with at(), rate() and cron() expressions in a time zone, start and
// end dates, and the loop that fires them.
//
// Scheduler does not deliver by itself: each firing becomes an events.Delivery
// handed to EventBridge's Submit, so schedules reach SQS, SNS, ECS and event
// buses through the same targets, retry policy and dead-letter queues as rules.
//
// # Key layout
//
//	scheduler/r/<account>/<region>/group/<name>              schedule group (JSON)
//	scheduler/r/<account>/<region>/schedule/<group>/<name>   schedule with its next fire time (JSON)
//	scheduler/fire/<seq>                                     a firing not yet handed to EventBridge
//
// # Firing and restarts
//
// A schedule's next fire time is stored with it. When it is due, one
// transaction writes the firing to scheduler/fire/ and the schedule's following
// fire time (or deletes a completed schedule whose ActionAfterCompletion is
// DELETE); only then is the firing handed to EventBridge, which commits it to
// its own outbox, and the firing record deleted. A crash before the
// transaction fires the schedule on start; a crash after it resends the
// recorded firing. So a restart neither loses nor repeats a firing of the
// schedule, and the target sees it at least once (twice only if wharf stops
// between EventBridge accepting a firing and Scheduler deleting its record).
//
// A schedule that came due while wharf was down fires once on start, for the
// latest of its missed times, if that time is younger than the target's
// RetryPolicy.MaximumEventAgeInSeconds (24 hours by default): it is treated as
// an invocation delayed by an outage, which AWS would retry for that long.
// Older missed firings are skipped. A one-time schedule created with an at()
// time already past never fires (it is accepted, as AWS accepts it).
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // ScheduleExpressionTimezone must work on hosts without zoneinfo

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/schedule"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/store"
)

// Submitter accepts a delivery durably and delivers it with retries and a
// dead-letter queue. *events.Service implements it.
type Submitter interface {
	Submit(ctx context.Context, d events.Delivery) error
}

// Options configure a Service.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// NewID returns execution ids; defaults to random UUIDs.
	NewID func() string
	// Account and Region are used when a request carries none.
	Account, Region string
	// Round, when set, is held for each round of the loop's work (firing
	// what is due, then delivering the firings) and returns the round's
	// context. wharf's reset takes it exclusively (it is the server's
	// gate): the reset waits for a round in flight and none begins until
	// it is over, so a round never writes back what the reset deletes.
	Round func(ctx context.Context) (context.Context, func())
}

// Service is EventBridge Scheduler.
type Service struct {
	tl      Timeline // nil records nothing
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time
	newID   func() string
	account string
	region  string
	seq     atomic.Uint64
	wake    chan struct{}
	round   func(ctx context.Context) (context.Context, func()) // see Options.Round

	mu      sync.Mutex
	regions map[string]*region
	submit  Submitter
}

type region struct {
	account, name string
	groups        map[string]*groupRecord
	schedules     map[string]*scheduleRecord // "<group>/<name>"
}

type groupRecord struct {
	Name     string
	Created  time.Time
	Modified time.Time
	Tags     map[string]string `json:",omitempty"`
}

type scheduleRecord struct {
	Name                  string
	Group                 string
	Description           string `json:",omitempty"`
	Expression            string
	Timezone              string    `json:",omitempty"`
	Start                 time.Time `json:",omitzero"`
	End                   time.Time `json:",omitzero"`
	State                 string
	Flexible              schedapi.FlexibleTimeWindow
	ActionAfterCompletion string `json:",omitempty"`
	KmsKeyArn             string `json:",omitempty"`
	Target                schedapi.Target
	Created               time.Time
	Modified              time.Time
	// Next is when the schedule fires next; zero when it never will (or is
	// disabled).
	Next time.Time `json:",omitzero"`
	// Done is set on a schedule that will not fire again.
	Done  bool `json:",omitempty"`
	sched schedule.Schedule
}

// New returns the service. Run fires schedules; SetSubmitter connects it to
// EventBridge's delivery.
func New(o Options) *Service {
	s := &Service{st: o.Store, log: o.Logger, now: clock.Or(o.Clock).Now, after: clock.Or(o.Clock).After, newID: o.NewID, account: o.Account, region: o.Region,
		regions: map[string]*region{}, wake: make(chan struct{}, 1), round: o.Round}
	if s.round == nil {
		s.round = func(ctx context.Context) (context.Context, func()) { return ctx, func() {} }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.newID == nil {
		s.newID = uuid
	}
	s.seq.Store(uint64(s.now().UnixNano()))
	return s
}

// SetSubmitter sets where firings are delivered (EventBridge).
func (s *Service) SetSubmitter(x Submitter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submit = x
}

func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

const (
	defaultGroup = "default"
	firePrefix   = "scheduler/fire/"
	// defaultMaxAge is Scheduler's default RetryPolicy.MaximumEventAgeInSeconds.
	defaultMaxAge = 24 * time.Hour
)

func regionPrefix(account, reg string) string { return "scheduler/r/" + account + "/" + reg + "/" }
func groupKey(account, reg, name string) []byte {
	return []byte(regionPrefix(account, reg) + "group/" + name)
}
func scheduleKey(account, reg, group, name string) []byte {
	return []byte(regionPrefix(account, reg) + "schedule/" + group + "/" + name)
}
func groupArn(account, reg, name string) string {
	return "arn:aws:scheduler:" + reg + ":" + account + ":schedule-group/" + name
}
func scheduleArn(account, reg, group, name string) string {
	return "arn:aws:scheduler:" + reg + ":" + account + ":schedule/" + group + "/" + name
}

func (s *Service) caller(ctx context.Context) (string, string) {
	c := awsapi.CallerFrom(ctx)
	account, reg := c.Account, c.Region
	if account == "" {
		account = s.account
	}
	if reg == "" {
		reg = s.region
	}
	return account, reg
}

// regionLocked returns (loading once) an account's state in a region; s.mu is held.
func (s *Service) regionLocked(account, reg string) (*region, error) {
	k := account + "/" + reg
	if r, ok := s.regions[k]; ok {
		return r, nil
	}
	now := s.now().UTC()
	r := &region{account: account, name: reg, groups: map[string]*groupRecord{
		defaultGroup: {Name: defaultGroup, Created: now, Modified: now},
	}, schedules: map[string]*scheduleRecord{}}
	prefix := []byte(regionPrefix(account, reg))
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, nil, func(key, v []byte) (bool, error) {
			rest := string(key[len(prefix):])
			switch {
			case strings.HasPrefix(rest, "group/"):
				var g groupRecord
				if err := json.Unmarshal(v, &g); err != nil {
					return false, fmt.Errorf("scheduler: group %s: %w", rest, err)
				}
				r.groups[g.Name] = &g
			case strings.HasPrefix(rest, "schedule/"):
				var sc scheduleRecord
				if err := json.Unmarshal(v, &sc); err != nil {
					return false, fmt.Errorf("scheduler: schedule %s: %w", rest, err)
				}
				if err := sc.compile(); err != nil {
					s.log.Warn("scheduler: stored schedule no longer parses", "schedule", sc.Name, "err", err)
				}
				r.schedules[sc.Group+"/"+sc.Name] = &sc
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.regions[k] = r
	return r, nil
}

func (sc *scheduleRecord) compile() error {
	loc := time.UTC
	if sc.Timezone != "" {
		l, err := time.LoadLocation(sc.Timezone)
		if err != nil {
			return validation("Invalid time zone: %s.", sc.Timezone)
		}
		loc = l
	}
	p, err := schedule.ParseIn(sc.Expression, loc)
	if err != nil {
		return validation("Invalid Schedule Expression %s.", sc.Expression)
	}
	sc.sched = p
	return nil
}

func (sc *scheduleRecord) oneTime() bool {
	_, ok := sc.sched.(*schedule.At)
	return ok
}

// first is when a schedule enabled at now fires first: a one-time schedule
// at its time (StartDate and EndDate do not apply to it); a rate schedule at
// its StartDate, or at once without one ("Rate-based schedules"); a cron
// schedule at its first match after now and StartDate.
func (sc *scheduleRecord) first(now time.Time) (time.Time, bool) {
	if sc.sched == nil {
		return time.Time{}, false
	}
	if sc.oneTime() {
		return sc.sched.Next(now.Add(-time.Nanosecond))
	}
	var t time.Time
	if _, ok := sc.sched.(*schedule.Rate); ok {
		t = now
		if sc.Start.After(now) {
			t = sc.Start
		}
	} else {
		from := now
		if sc.Start.After(from) {
			from = sc.Start.Add(-time.Nanosecond)
		}
		var ok bool
		if t, ok = sc.sched.Next(from); !ok {
			return time.Time{}, false
		}
	}
	return sc.withinEnd(t)
}

// after is the firing following t.
func (sc *scheduleRecord) after(t time.Time) (time.Time, bool) {
	if sc.sched == nil || sc.oneTime() {
		return time.Time{}, false
	}
	n, ok := sc.sched.Next(t)
	if !ok {
		return time.Time{}, false
	}
	return sc.withinEnd(n)
}

func (sc *scheduleRecord) withinEnd(t time.Time) (time.Time, bool) {
	if !sc.End.IsZero() && !t.Before(sc.End) {
		return time.Time{}, false
	}
	return t, true
}

// plan sets Next for a schedule (re)configured or enabled at now.
func (sc *scheduleRecord) plan(now time.Time) {
	sc.Next, sc.Done = time.Time{}, false
	if sc.State != "ENABLED" {
		return
	}
	if t, ok := sc.first(now); ok {
		sc.Next = t
	} else {
		sc.Done = true
	}
}

func validation(format string, a ...any) *apierr.Error {
	return schedapi.ErrValidationException(format, a...)
}

func notFound(format string, a ...any) *apierr.Error {
	return schedapi.ErrResourceNotFoundException(format, a...)
}

func conflict(format string, a ...any) *apierr.Error {
	return schedapi.ErrConflictException(format, a...)
}

func putJSON(tx store.Tx, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run fires due schedules and hands their firings to EventBridge until ctx is
// cancelled.
func (s *Service) Run(ctx context.Context) {
	if err := s.loadAll(); err != nil {
		s.log.Error("scheduler: load", "err", err)
	}
	for {
		rctx, done := s.round(ctx)
		if err := s.Fire(rctx); err != nil && rctx.Err() == nil {
			s.log.Error("scheduler: fire", "err", err)
		}
		if err := s.Drain(rctx); err != nil && rctx.Err() == nil {
			s.log.Error("scheduler: deliver", "err", err)
		}
		done()
		// Wake at the next due schedule, and at least every second so that
		// firings EventBridge could not take yet are retried.
		wait := time.Second
		if next, ok := s.nextDue(); ok {
			wait = min(wait, max(next.Sub(s.now()), 0))
		}
		// The shared clock's After, so that moving the clock fires what
		// became due at once.
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.after(wait):
		}
	}
}

func (s *Service) nextDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, r := range s.regions {
		for _, sc := range r.schedules {
			if !sc.Next.IsZero() && (next.IsZero() || sc.Next.Before(next)) {
				next = sc.Next
			}
		}
	}
	return next, !next.IsZero()
}

// loadAll loads every account and region with schedules, so that they fire
// after a restart before anyone calls the API.
func (s *Service) loadAll() error {
	seen := map[string]bool{}
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("scheduler/r/"), nil, func(k, _ []byte) (bool, error) {
			parts := strings.SplitN(strings.TrimPrefix(string(k), "scheduler/r/"), "/", 3)
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

// Fire records a firing for every enabled schedule due at the clock's now,
// and moves each to its next fire time, in one transaction per schedule.
func (s *Service) Fire(ctx context.Context) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.regions {
		for key, sc := range r.schedules {
			if sc.State != "ENABLED" || sc.Next.IsZero() || sc.Next.After(now) {
				continue
			}
			first, due, skipped := sc.Next, sc.Next, 0
			for {
				n, ok := sc.after(due)
				if !ok || n.After(now) {
					break
				}
				due = n // missed periods collapse into one firing
				skipped++
			}
			arn := scheduleArn(r.account, r.name, sc.Group, sc.Name)
			if skipped > 0 {
				s.missed(ctx, arn, first, due, skipped, "")
			}
			next := *sc
			next.Next, next.Done = time.Time{}, false
			if n, ok := sc.after(due); ok {
				next.Next = n
			} else {
				next.Done = true
			}
			maxAge := defaultMaxAge
			if p := sc.Target.RetryPolicy; p != nil && p.MaximumEventAgeInSeconds != nil {
				maxAge = time.Duration(*p.MaximumEventAgeInSeconds) * time.Second
			}
			var d *events.Delivery
			if now.Sub(due) < maxAge {
				d = s.delivery(r.account, r.name, sc, due)
			} else {
				s.log.Warn("scheduler: skipping a firing missed for longer than the target's maximum event age",
					"schedule", arn, "due", due)
				s.missed(ctx, arn, due, due, 1, fmt.Sprintf("it was due %s ago, longer than the target's maximum event age (%s)", now.Sub(due).Round(time.Second), maxAge))
			}
			remove := next.Done && sc.ActionAfterCompletion == "DELETE"
			k := scheduleKey(r.account, r.name, sc.Group, sc.Name)
			err := s.st.Update(func(tx store.Tx) error {
				if d != nil {
					if err := putJSON(tx, fmt.Appendf(nil, "%s%020d", firePrefix, s.seq.Add(1)), d); err != nil {
						return err
					}
				}
				if remove {
					return tx.Delete(k)
				}
				return putJSON(tx, k, &next)
			})
			if err != nil {
				return err
			}
			if remove {
				delete(r.schedules, key)
			} else {
				*sc = next
			}
		}
	}
	return nil
}

// delivery is the EventBridge delivery of one firing of sc, due at due.
func (s *Service) delivery(account, reg string, sc *scheduleRecord, due time.Time) *events.Delivery {
	arn := scheduleArn(account, reg, sc.Group, sc.Name)
	id := s.newID()
	input := "{}"
	if sc.Target.Input != nil {
		input = *sc.Target.Input
	}
	// Context attributes ("Adding context attributes to your target").
	input = strings.NewReplacer(
		"<aws.scheduler.schedule-arn>", arn,
		"<aws.scheduler.scheduled-time>", due.UTC().Format(time.RFC3339),
		"<aws.scheduler.execution-id>", id,
		"<aws.scheduler.attempt-number>", "1",
	).Replace(input)
	t := sc.Target
	d := &events.Delivery{Account: account, Region: reg, ScheduleArn: arn, EventID: id, Input: []byte(input),
		Target: eventsapi.Target{Id: awsapi.String(sc.Name), Arn: t.Arn, RoleArn: t.RoleArn}}
	if t.SqsParameters != nil {
		d.Target.SqsParameters = &eventsapi.SqsParameters{MessageGroupId: t.SqsParameters.MessageGroupId}
	}
	if t.RetryPolicy != nil {
		d.Target.RetryPolicy = &eventsapi.RetryPolicy{MaximumRetryAttempts: t.RetryPolicy.MaximumRetryAttempts, MaximumEventAgeInSeconds: t.RetryPolicy.MaximumEventAgeInSeconds}
	}
	if t.DeadLetterConfig != nil {
		d.Target.DeadLetterConfig = &eventsapi.DeadLetterConfig{Arn: t.DeadLetterConfig.Arn}
	}
	if t.EcsParameters != nil {
		d.Target.EcsParameters = ecsParameters(t.EcsParameters)
	}
	if p := t.EventBridgeParameters; p != nil {
		d.Source, d.DetailType = awsapi.ToString(p.Source), awsapi.ToString(p.DetailType)
	}
	return d
}

// ecsParameters converts Scheduler's ECS RunTask parameters to EventBridge's:
// the members are the same but for Tags, a list of one-entry maps here.
func ecsParameters(p *schedapi.EcsParameters) *eventsapi.EcsParameters {
	cp := *p
	cp.Tags = nil
	b, _ := json.Marshal(cp)
	var out eventsapi.EcsParameters
	json.Unmarshal(b, &out)
	for _, m := range p.Tags {
		for k, v := range m {
			out.Tags = append(out.Tags, eventsapi.Tag{Key: awsapi.String(k), Value: awsapi.String(v)})
		}
	}
	return &out
}

// Drain hands every recorded firing to EventBridge, deleting each once
// EventBridge has accepted it.
func (s *Service) Drain(ctx context.Context) error {
	s.mu.Lock()
	sub := s.submit
	s.mu.Unlock()
	if sub == nil {
		return nil
	}
	for ctx.Err() == nil {
		type item struct {
			key []byte
			d   events.Delivery
		}
		var items []item
		err := s.st.View(func(tx store.Tx) error {
			return tx.Scan([]byte(firePrefix), nil, func(k, v []byte) (bool, error) {
				var d events.Delivery
				if err := json.Unmarshal(v, &d); err != nil {
					s.log.Error("scheduler: dropping unreadable firing", "key", string(k), "err", err)
				}
				items = append(items, item{append([]byte(nil), k...), d})
				return len(items) < 256, nil
			})
		})
		if err != nil || len(items) == 0 {
			return err
		}
		for _, it := range items {
			if it.d.Target.Arn != nil {
				if err := sub.Submit(ctx, it.d); err != nil {
					return fmt.Errorf("submit %s: %w", it.d.ScheduleArn, err)
				}
				s.fired(ctx, &it.d)
			}
			if err := s.st.Update(func(tx store.Tx) error { return tx.Delete(it.key) }); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
