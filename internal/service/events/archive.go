package events

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/pattern"
	"github.com/wharf-dev/wharf/internal/store"
)

// Archives and replays ("Archiving and replaying events in Amazon EventBridge").
//
// Every event accepted on a bus (PutEvents, Publish, another bus) that an
// enabled archive of that bus matches is written to the archive in the same
// transaction that removes it from the outbox, keyed by ingestion time:
//
//	events/r/<account>/<region>/archive/<name>               archive (JSON)
//	events/r/<account>/<region>/replay/<name>                replay with its cursor (JSON)
//	events/archived/<account>/<region>/<archive>/<ns>/<seq>  an archived event
//
// A replay walks its archive between EventStartTime and EventEndTime (compared
// with the time each event was ingested) and puts each event back in the outbox
// with a top-level "replay-name", for the destination bus's rules (or only the
// FilterArns ones). A replay's cursor is committed with the events it enqueues,
// so a restart resumes it without resending. Replayed events are not archived
// again, as on AWS.

var archiveNameRE = lazyregexp.New(`^[\.\-_A-Za-z0-9]{1,48}$`)

type archiveRecord struct {
	Name          string
	Bus           string // source bus name, same account and region
	Description   string `json:",omitempty"`
	Pattern       string `json:",omitempty"`
	RetentionDays int32  `json:",omitempty"`
	State         string
	Created       time.Time
	compiled      *pattern.Pattern
}

type replayRecord struct {
	Name         string
	Description  string `json:",omitempty"`
	Archive      string
	Start, End   time.Time
	Destination  string
	FilterArns   []string `json:",omitempty"`
	State        string
	Started      time.Time
	Ended        time.Time `json:",omitzero"`
	LastReplayed time.Time `json:",omitzero"`
	Cursor       string    `json:",omitempty"` // last archived key replayed
}

// archived is one event in an archive.
type archived struct {
	Event    json.RawMessage
	Ingested time.Time
}

func archiveKey(account, reg, name string) []byte {
	return []byte(regionPrefix(account, reg) + "archive/" + name)
}
func replayKey(account, reg, name string) []byte {
	return []byte(regionPrefix(account, reg) + "replay/" + name)
}
func archivedPrefix(account, reg, name string) []byte {
	return []byte("events/archived/" + account + "/" + reg + "/" + name + "/")
}
func archiveArn(account, reg, name string) string {
	return "arn:aws:events:" + reg + ":" + account + ":archive/" + name
}
func replayArn(account, reg, name string) string {
	return "arn:aws:events:" + reg + ":" + account + ":replay/" + name
}

func (a *archiveRecord) compile() error {
	a.compiled = nil
	if a.Pattern == "" {
		return nil
	}
	p, err := pattern.Compile([]byte(a.Pattern))
	if err != nil {
		return invalidPattern(err)
	}
	a.compiled = p
	return nil
}

// archiveWrites returns the archive entries an event leaving the outbox adds:
// one per enabled archive of its bus that matches it.
func (s *Service) archiveWrites(p pending) map[string][]byte {
	if p.Event == nil || p.Rule != "" || p.Replay != "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[regionKey{p.Account, p.Region}]
	if r == nil || len(r.archives) == 0 {
		return nil
	}
	var ev *pattern.Event
	out := map[string][]byte{}
	for _, a := range r.archives {
		if a.Bus != p.Bus || a.State != "ENABLED" {
			continue
		}
		if a.compiled != nil {
			if ev == nil {
				var err error
				if ev, err = p.parsed(); err != nil {
					return nil
				}
			}
			if !a.compiled.MatchEvent(ev) {
				continue
			}
		}
		v, err := marshal(archived{Event: p.Event, Ingested: p.Ingested})
		if err != nil {
			continue
		}
		k := fmt.Sprintf("%s%020d/%020d", archivedPrefix(p.Account, p.Region, a.Name), p.Ingested.UnixNano(), s.seq.Add(1))
		out[k] = v
	}
	return out
}

// busArnLocal resolves an event bus ARN to a bus of the caller's account and
// region; s.mu is held.
func (s *Service) busFromArn(arn, account, reg string) (*bus, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "events" || !strings.HasPrefix(parts[5], "event-bus/") {
		return nil, apierr.Validation("Parameter EventSourceArn is not valid. Reason: Provided Arn is not in correct format.")
	}
	name := strings.TrimPrefix(parts[5], "event-bus/")
	if parts[4] != account || parts[3] != reg {
		return nil, notFound("Event bus %s does not exist.", name)
	}
	_, b, err := s.lookupLocked(account, reg, name)
	return b, err
}

func retention(p *int32) (int32, error) {
	n := awsapi.ToInt32(p)
	if n < 0 {
		return 0, apierr.Validation("1 validation error detected: Value '%d' at 'retentionDays' failed to satisfy constraint: Member must have value greater than or equal to 0", n)
	}
	return n, nil
}

// CreateArchive creates an archive of the events a bus accepts that match its
// pattern (every event without one).
func (s *Service) CreateArchive(ctx context.Context, in *eventsapi.CreateArchiveInput) (*eventsapi.CreateArchiveOutput, error) {
	account, reg := s.caller(ctx)
	name := awsapi.ToString(in.ArchiveName)
	if !archiveNameRE.MatchString(name) {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'archiveName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length less than or equal to 48", name)
	}
	days, err := retention(in.RetentionDays)
	if err != nil {
		return nil, err
	}
	a := &archiveRecord{Name: name, Description: awsapi.ToString(in.Description), Pattern: awsapi.ToString(in.EventPattern),
		RetentionDays: days, State: "ENABLED", Created: s.now().UTC()}
	if err := a.compile(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.busFromArn(awsapi.ToString(in.EventSourceArn), account, reg)
	if b == nil {
		return nil, err
	}
	a.Bus = b.rec.Name
	r, _ := s.regionLocked(account, reg)
	if r.archives[name] != nil {
		return nil, eventsapi.ErrResourceAlreadyExistsException("Archive %s already exists.", name)
	}
	rule, err := s.archiveRule(a)
	if err != nil {
		return nil, err
	}
	if old := b.rules[rule.Name]; old != nil {
		return nil, eventsapi.ErrResourceAlreadyExistsException("Rule %s already exists.", rule.Name)
	}
	if err := s.st.Update(func(tx store.Tx) error {
		if err := putJSON(tx, ruleKey(account, reg, b.rec.Name, rule.Name), rule); err != nil {
			return err
		}
		return putJSON(tx, archiveKey(account, reg, name), a)
	}); err != nil {
		return nil, err
	}
	r.archives[name] = a
	b.rules[rule.Name] = rule
	b.index(rule)
	return &eventsapi.CreateArchiveOutput{ArchiveArn: awsapi.String(archiveArn(account, reg, name)), State: awsapi.String(a.State), CreationTime: optionalTime(a.Created)}, nil
}

// archiveLocked finds an archive; s.mu is held.
func (s *Service) archiveLocked(account, reg, name string) (*region, *archiveRecord, error) {
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, nil, err
	}
	a := r.archives[name]
	if a == nil {
		return r, nil, notFound("Archive %s does not exist.", name)
	}
	return r, a, nil
}

// archiveStats counts an archive's events and their bytes.
func (s *Service) archiveStats(account, reg, name string) (count, size int64, err error) {
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(archivedPrefix(account, reg, name), nil, func(_, v []byte) (bool, error) {
			var e archived
			if json.Unmarshal(v, &e) == nil {
				count++
				size += int64(len(e.Event))
			}
			return true, nil
		})
	})
	return count, size, err
}

// DescribeArchive describes an archive with its event count and size.
func (s *Service) DescribeArchive(ctx context.Context, in *eventsapi.DescribeArchiveInput) (*eventsapi.DescribeArchiveOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	_, a, err := s.archiveLocked(account, reg, awsapi.ToString(in.ArchiveName))
	var rec archiveRecord
	if a != nil {
		rec = *a
	}
	s.mu.Unlock()
	if a == nil {
		return nil, err
	}
	n, size, err := s.archiveStats(account, reg, rec.Name)
	if err != nil {
		return nil, err
	}
	return &eventsapi.DescribeArchiveOutput{
		ArchiveArn: awsapi.String(archiveArn(account, reg, rec.Name)), ArchiveName: awsapi.String(rec.Name),
		EventSourceArn: awsapi.String(busArn(account, reg, rec.Bus)), Description: optional(rec.Description),
		EventPattern: optional(rec.Pattern), State: awsapi.String(rec.State), RetentionDays: awsapi.Int32(rec.RetentionDays),
		SizeBytes: awsapi.Int64(size), EventCount: awsapi.Int64(n), CreationTime: &rec.Created,
	}, nil
}

// ListArchives lists archives by name; at most one filter may be given, as on AWS.
func (s *Service) ListArchives(ctx context.Context, in *eventsapi.ListArchivesInput) (*eventsapi.ListArchivesOutput, error) {
	account, reg := s.caller(ctx)
	filters := 0
	for _, f := range []*string{in.NamePrefix, in.EventSourceArn, in.State} {
		if f != nil {
			filters++
		}
	}
	if filters > 1 {
		return nil, apierr.Validation("At most one filter is allowed for ListArchives. Use either : State, EventSourceArn, or NamePrefix.")
	}
	if st := awsapi.ToString(in.State); in.State != nil && st != "ENABLED" && st != "DISABLED" && st != "CREATING" && st != "UPDATING" && st != "CREATE_FAILED" && st != "UPDATE_FAILED" {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, CREATING, UPDATING, CREATE_FAILED, UPDATE_FAILED]", st)
	}
	s.mu.Lock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var recs []archiveRecord
	for _, a := range r.archives {
		if !strings.HasPrefix(a.Name, awsapi.ToString(in.NamePrefix)) ||
			in.EventSourceArn != nil && *in.EventSourceArn != busArn(account, reg, a.Bus) ||
			in.State != nil && *in.State != a.State {
			continue
		}
		recs = append(recs, *a)
	}
	s.mu.Unlock()
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	from, to, next, err := page(len(recs), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &eventsapi.ListArchivesOutput{Archives: []eventsapi.Archive{}, NextToken: next}
	for _, a := range recs[from:to] {
		n, size, err := s.archiveStats(account, reg, a.Name)
		if err != nil {
			return nil, err
		}
		out.Archives = append(out.Archives, eventsapi.Archive{ArchiveName: awsapi.String(a.Name), EventSourceArn: awsapi.String(busArn(account, reg, a.Bus)),
			State: awsapi.String(a.State), RetentionDays: awsapi.Int32(a.RetentionDays), SizeBytes: awsapi.Int64(size), EventCount: awsapi.Int64(n), CreationTime: &a.Created})
	}
	return out, nil
}

// UpdateArchive changes an archive's description, pattern or retention.
func (s *Service) UpdateArchive(ctx context.Context, in *eventsapi.UpdateArchiveInput) (*eventsapi.UpdateArchiveOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a, err := s.archiveLocked(account, reg, awsapi.ToString(in.ArchiveName))
	if a == nil {
		return nil, err
	}
	next := *a
	if in.Description != nil {
		next.Description = *in.Description
	}
	if in.EventPattern != nil {
		next.Pattern = *in.EventPattern
	}
	if in.RetentionDays != nil {
		if next.RetentionDays, err = retention(in.RetentionDays); err != nil {
			return nil, err
		}
	}
	if err := next.compile(); err != nil {
		return nil, err
	}
	rule, err := s.archiveRule(&next)
	if err != nil {
		return nil, err
	}
	_, b, _ := s.lookupLocked(account, reg, a.Bus)
	if err := s.st.Update(func(tx store.Tx) error {
		if b != nil {
			if err := putJSON(tx, ruleKey(account, reg, b.rec.Name, rule.Name), rule); err != nil {
				return err
			}
		}
		return putJSON(tx, archiveKey(account, reg, a.Name), &next)
	}); err != nil {
		return nil, err
	}
	if b != nil {
		if old := b.rules[rule.Name]; old != nil {
			rule.Created = old.Created
		}
		b.unindex(rule.Name)
		b.rules[rule.Name] = rule
		b.index(rule)
	}
	*a = next
	return &eventsapi.UpdateArchiveOutput{ArchiveArn: awsapi.String(archiveArn(account, reg, a.Name)), State: awsapi.String(a.State), CreationTime: optionalTime(a.Created)}, nil
}

// DeleteArchive deletes an archive and the events in it.
func (s *Service) DeleteArchive(ctx context.Context, in *eventsapi.DeleteArchiveInput) (*eventsapi.DeleteArchiveOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, a, err := s.archiveLocked(account, reg, awsapi.ToString(in.ArchiveName))
	if a == nil {
		return nil, err
	}
	ruleName := archiveRuleName(a.Name)
	_, b, _ := s.lookupLocked(account, reg, a.Bus)
	if b != nil && b.rules[ruleName] != nil {
		if err := s.st.Update(func(tx store.Tx) error { return tx.Delete(ruleKey(account, reg, b.rec.Name, ruleName)) }); err != nil {
			return nil, err
		}
		delete(b.rules, ruleName)
		b.unindex(ruleName)
	}
	if err := s.deletePrefix(archivedPrefix(account, reg, a.Name), archiveKey(account, reg, a.Name)); err != nil {
		return nil, err
	}
	delete(r.archives, a.Name)
	return &eventsapi.DeleteArchiveOutput{}, nil
}

// deletePrefix deletes every key under prefix, and the extra keys, in batches.
func (s *Service) deletePrefix(prefix []byte, extra ...[]byte) error {
	for {
		var keys [][]byte
		err := s.st.View(func(tx store.Tx) error {
			return tx.Scan(prefix, nil, func(k, _ []byte) (bool, error) {
				keys = append(keys, append([]byte(nil), k...))
				return len(keys) < 1000, nil
			})
		})
		if err != nil {
			return err
		}
		last := len(keys) < 1000
		err = s.st.Update(func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			if last {
				for _, k := range extra {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil || last {
			return err
		}
	}
}

// StartReplay starts replaying an archive's events to its bus's rules.
func (s *Service) StartReplay(ctx context.Context, in *eventsapi.StartReplayInput) (*eventsapi.StartReplayOutput, error) {
	account, reg := s.caller(ctx)
	name := awsapi.ToString(in.ReplayName)
	if !nameRE.MatchString(name) {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'replayName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name)
	}
	if in.Destination == nil || in.EventStartTime == nil || in.EventEndTime == nil {
		return nil, apierr.Validation("Parameters EventStartTime, EventEndTime and Destination are required.")
	}
	dest := awsapi.ToString(in.Destination.Arn)
	if parts := strings.SplitN(dest, ":", 6); len(parts) != 6 || parts[2] != "events" || !strings.HasPrefix(parts[5], "event-bus/") {
		return nil, apierr.Validation("Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN.")
	}
	src := awsapi.ToString(in.EventSourceArn)
	archiveName := src[strings.LastIndexByte(src, '/')+1:]
	if !in.EventStartTime.Before(*in.EventEndTime) {
		return nil, apierr.Validation("Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
	}
	if in.EventEndTime.After(s.now()) {
		// AWS refuses an end in the future: events still arriving are not replayable.
		return nil, apierr.Validation("Parameter EventEndTime is not valid. Reason: EventEndTime must be in the past.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, a, _ := s.archiveLocked(account, reg, archiveName)
	if a == nil || src != archiveArn(account, reg, archiveName) {
		return nil, apierr.Validation("Parameter EventSourceArn is not valid. Reason: Archive %s does not exist.", archiveName)
	}
	if dest != busArn(account, reg, a.Bus) {
		return nil, apierr.Validation("Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")
	}
	if r.replays[name] != nil {
		return nil, eventsapi.ErrResourceAlreadyExistsException("Replay %s already exists.", name)
	}
	now := s.now().UTC()
	rp := &replayRecord{Name: name, Description: awsapi.ToString(in.Description), Archive: archiveName,
		Start: in.EventStartTime.UTC(), End: in.EventEndTime.UTC(), Destination: dest,
		FilterArns: in.Destination.FilterArns, State: "STARTING", Started: now}
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, replayKey(account, reg, name), rp) }); err != nil {
		return nil, err
	}
	r.replays[name] = rp
	s.signal()
	return &eventsapi.StartReplayOutput{ReplayArn: awsapi.String(replayArn(account, reg, name)), State: awsapi.String(rp.State), ReplayStartTime: optionalTime(rp.Started)}, nil
}

func (s *Service) replayLocked(account, reg, name string) (*replayRecord, error) {
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	rp := r.replays[name]
	if rp == nil {
		return nil, notFound("Replay %s does not exist.", name)
	}
	return rp, nil
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// DescribeReplay describes a replay and how far it has got.
func (s *Service) DescribeReplay(ctx context.Context, in *eventsapi.DescribeReplayInput) (*eventsapi.DescribeReplayOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.replayLocked(account, reg, awsapi.ToString(in.ReplayName))
	if rp == nil {
		return nil, err
	}
	return &eventsapi.DescribeReplayOutput{
		ReplayName: awsapi.String(rp.Name), ReplayArn: awsapi.String(replayArn(account, reg, rp.Name)), Description: optional(rp.Description),
		State: awsapi.String(rp.State), EventSourceArn: awsapi.String(archiveArn(account, reg, rp.Archive)),
		Destination:    &eventsapi.ReplayDestination{Arn: awsapi.String(rp.Destination), FilterArns: rp.FilterArns},
		EventStartTime: optionalTime(rp.Start), EventEndTime: optionalTime(rp.End), EventLastReplayedTime: optionalTime(rp.LastReplayed),
		ReplayStartTime: optionalTime(rp.Started), ReplayEndTime: optionalTime(rp.Ended),
	}, nil
}

// ListReplays lists replays by name; at most one filter may be given.
func (s *Service) ListReplays(ctx context.Context, in *eventsapi.ListReplaysInput) (*eventsapi.ListReplaysOutput, error) {
	account, reg := s.caller(ctx)
	filters := 0
	for _, f := range []*string{in.NamePrefix, in.EventSourceArn, in.State} {
		if f != nil {
			filters++
		}
	}
	if filters > 1 {
		return nil, apierr.Validation("At most one filter is allowed for ListReplays. Use either : State, EventSourceArn, or NamePrefix.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	var names []string
	for n, rp := range r.replays {
		if !strings.HasPrefix(n, awsapi.ToString(in.NamePrefix)) ||
			in.EventSourceArn != nil && *in.EventSourceArn != archiveArn(account, reg, rp.Archive) ||
			in.State != nil && *in.State != rp.State {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	from, to, next, err := page(len(names), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &eventsapi.ListReplaysOutput{Replays: []eventsapi.Replay{}, NextToken: next}
	for _, n := range names[from:to] {
		rp := r.replays[n]
		out.Replays = append(out.Replays, eventsapi.Replay{ReplayName: awsapi.String(n), EventSourceArn: awsapi.String(archiveArn(account, reg, rp.Archive)),
			State: awsapi.String(rp.State), EventStartTime: optionalTime(rp.Start), EventEndTime: optionalTime(rp.End),
			EventLastReplayedTime: optionalTime(rp.LastReplayed), ReplayStartTime: optionalTime(rp.Started), ReplayEndTime: optionalTime(rp.Ended)})
	}
	return out, nil
}

// CancelReplay stops a replay that is starting or running. AWS answers
// CANCELLING and the replay becomes CANCELLED; here no event is replayed after
// the answer, so the stored state is CANCELLED at once.
func (s *Service) CancelReplay(ctx context.Context, in *eventsapi.CancelReplayInput) (*eventsapi.CancelReplayOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.replayLocked(account, reg, awsapi.ToString(in.ReplayName))
	if rp == nil {
		return nil, err
	}
	if rp.State != "STARTING" && rp.State != "RUNNING" {
		return nil, eventsapi.ErrIllegalStatusException("Replay %s is not in a valid state for this operation.", rp.Name)
	}
	next := *rp
	next.State, next.Ended = "CANCELLED", s.now().UTC()
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, replayKey(account, reg, rp.Name), &next) }); err != nil {
		return nil, err
	}
	*rp = next
	return &eventsapi.CancelReplayOutput{ReplayArn: awsapi.String(replayArn(account, reg, rp.Name)), State: awsapi.String("CANCELLING")}, nil
}

// withReplayName adds the top-level "replay-name" AWS puts on replayed events.
func withReplayName(event json.RawMessage, name string) json.RawMessage {
	b := []byte(strings.TrimRight(string(event), " \n\t\r"))
	if len(b) < 2 || b[len(b)-1] != '}' {
		return event
	}
	q, _ := json.Marshal(name)
	out := append([]byte(nil), b[:len(b)-1]...)
	if len(out) > 1 {
		out = append(out, ',')
	}
	out = append(out, `"replay-name":`...)
	out = append(out, q...)
	return append(out, '}')
}

// replayBatch is how many archived events one replay step enqueues.
const replayBatch = 256

// RunReplays advances every starting or running replay until it has enqueued
// all its events, committing each batch with the replay's cursor.
func (s *Service) RunReplays(ctx context.Context) error {
	type job struct {
		account, reg string
		rp           replayRecord
		bus          string
	}
	var jobs []job
	s.mu.Lock()
	for _, r := range s.regions {
		for _, rp := range r.replays {
			if rp.State != "STARTING" && rp.State != "RUNNING" {
				continue
			}
			bus := ""
			if a := r.archives[rp.Archive]; a != nil {
				bus = a.Bus
			}
			jobs = append(jobs, job{r.account, r.name, *rp, bus})
		}
	}
	s.mu.Unlock()
	for _, j := range jobs {
		for ctx.Err() == nil {
			done, err := s.replayStep(j.account, j.reg, j.rp.Name, j.bus)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	return ctx.Err()
}

// replayStep enqueues the next batch of a replay; done reports that the replay
// is finished (or gone, or cancelled).
func (s *Service) replayStep(account, reg, name, busName string) (done bool, err error) {
	s.mu.Lock()
	r := s.regions[regionKey{account, reg}]
	var rp replayRecord
	if r != nil && r.replays[name] != nil {
		rp = *r.replays[name]
	}
	s.mu.Unlock()
	if rp.State != "STARTING" && rp.State != "RUNNING" {
		return true, nil
	}
	prefix := archivedPrefix(account, reg, rp.Archive)
	start := fmt.Appendf(nil, "%s%020d", prefix, rp.Start.UnixNano())
	if rp.Cursor != "" {
		start = append([]byte(rp.Cursor), 0)
	}
	var batch []pending
	last := rp.LastReplayed
	cursor := rp.Cursor
	finished := true
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			if len(batch) == replayBatch {
				finished = false
				return false, nil
			}
			ns, _, _ := strings.Cut(string(k[len(prefix):]), "/")
			n, _ := strconv.ParseInt(ns, 10, 64)
			if t := time.Unix(0, n).UTC(); !t.Before(rp.End) {
				return false, nil
			}
			var e archived
			if json.Unmarshal(v, &e) != nil {
				return true, nil
			}
			cursor = string(k)
			last = e.Ingested.UTC()
			batch = append(batch, pending{Account: account, Region: reg, Bus: busName, Event: withReplayName(e.Event, name),
				Replay: name, ReplayRules: rp.FilterArns, Ingested: s.now().UTC()})
			return true, nil
		})
	})
	if err != nil {
		return false, err
	}
	next := rp
	next.Cursor, next.LastReplayed, next.State = cursor, last, "RUNNING"
	if finished {
		next.State, next.Ended = "COMPLETED", s.now().UTC()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := r.replays[name]
	if cur == nil || cur.State != "STARTING" && cur.State != "RUNNING" {
		return true, nil // cancelled or deleted meanwhile
	}
	if busName == "" {
		next.State, next.Ended = "FAILED", s.now().UTC()
		batch = nil
	}
	err = s.enqueueWith(batch, func(tx store.Tx) error { return putJSON(tx, replayKey(account, reg, name), &next) })
	if err != nil {
		return false, err
	}
	*cur = next
	return next.State != "RUNNING", nil
}

// ExpireArchives deletes archived events older than their archive's retention.
func (s *Service) ExpireArchives() error {
	type item struct {
		account, reg, name string
		days               int32
	}
	var items []item
	s.mu.Lock()
	for _, r := range s.regions {
		for _, a := range r.archives {
			if a.RetentionDays > 0 {
				items = append(items, item{r.account, r.name, a.Name, a.RetentionDays})
			}
		}
	}
	s.mu.Unlock()
	for _, it := range items {
		cutoff := s.now().Add(-time.Duration(it.days) * 24 * time.Hour).UnixNano()
		prefix := archivedPrefix(it.account, it.reg, it.name)
		var keys [][]byte
		err := s.st.View(func(tx store.Tx) error {
			return tx.Scan(prefix, nil, func(k, _ []byte) (bool, error) {
				ns, _, _ := strings.Cut(string(k[len(prefix):]), "/")
				n, _ := strconv.ParseInt(ns, 10, 64)
				if n >= cutoff || len(keys) >= 1000 {
					return false, nil
				}
				keys = append(keys, append([]byte(nil), k...))
				return true, nil
			})
		})
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			continue
		}
		err = s.st.Update(func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// archiveManager is who AWS says manages an archive's rule (ManagedBy).
const archiveManager = "prod.vhs.events.aws.internal"

func archiveRuleName(archive string) string { return "Events-Archive-" + archive }

// archiveRule is the rule AWS creates on the bus for an archive
// ("Events-Archive-<name>", managed by EventBridge): the archive's pattern
// with "replay-name" required absent, so replayed events are not archived
// again. The archive itself captures the events; the rule shows what it
// matches, as on AWS.
func (s *Service) archiveRule(a *archiveRecord) (*ruleRecord, error) {
	p := map[string]json.RawMessage{}
	if a.Pattern != "" {
		if err := json.Unmarshal([]byte(a.Pattern), &p); err != nil {
			return nil, eventsapi.ErrInvalidEventPatternException("Event pattern is not valid. Reason: %v", err)
		}
	}
	p["replay-name"] = json.RawMessage(`[{"exists":false}]`)
	doc, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	rr := &ruleRecord{Name: archiveRuleName(a.Name), Bus: a.Bus, Pattern: string(doc), State: "ENABLED",
		ManagedBy: archiveManager, Created: s.now().UTC()}
	if err := rr.compile(); err != nil {
		return nil, err
	}
	return rr, nil
}
