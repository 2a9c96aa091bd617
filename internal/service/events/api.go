package events

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/pattern"
	"github.com/wharf-dev/wharf/internal/schedule"
	"github.com/wharf-dev/wharf/internal/store"
)

var nameRE = lazyregexp.New(`^[\.\-_A-Za-z0-9]{1,64}$`)
var busNameRE = lazyregexp.New(`^[/\.\-_A-Za-z0-9]{1,256}$`)

// caller returns the account and region a request acts in.
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

// busName resolves an EventBusName parameter (a name or an ARN; empty is the
// default bus) to the account, region and name it designates.
func (s *Service) busName(ctx context.Context, p *string) (account, reg, name string) {
	account, reg = s.caller(ctx)
	name = awsapi.ToString(p)
	if strings.HasPrefix(name, "arn:") {
		parts := strings.SplitN(name, ":", 6)
		if len(parts) == 6 && strings.HasPrefix(parts[5], "event-bus/") {
			return parts[4], parts[3], strings.TrimPrefix(parts[5], "event-bus/")
		}
	}
	if name == "" {
		name = defaultBus
	}
	return account, reg, name
}

// lookup returns the bus; s.mu is held.
func (s *Service) lookupLocked(account, reg, name string) (*region, *bus, error) {
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, nil, err
	}
	b := r.buses[name]
	if b == nil {
		return r, nil, notFound("Event bus %s does not exist.", name)
	}
	return r, b, nil
}

func tagsIn(ts []eventsapi.Tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, t := range ts {
		m[awsapi.ToString(t.Key)] = awsapi.ToString(t.Value)
	}
	return m
}

func tagsOut(m map[string]string) []eventsapi.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []eventsapi.Tag{}
	for _, k := range keys {
		out = append(out, eventsapi.Tag{Key: awsapi.String(k), Value: awsapi.String(m[k])})
	}
	return out
}

// page returns items[from:from+limit] and the next token.
func page(n int, token *string, limit *int32) (from, to int, next *string, err error) {
	if t := awsapi.ToString(token); t != "" {
		from, err = strconv.Atoi(t)
		if err != nil || from < 0 || from > n {
			return 0, 0, nil, apierr.Validation("The NextToken is not valid.")
		}
	}
	l := int(awsapi.ToInt32(limit))
	if l <= 0 || l > 100 {
		l = 100
	}
	to = min(from+l, n)
	if to < n {
		next = awsapi.String(strconv.Itoa(to))
	}
	return from, to, next, nil
}

// CreateEventBus creates a custom event bus.
func (s *Service) CreateEventBus(ctx context.Context, in *eventsapi.CreateEventBusInput) (*eventsapi.CreateEventBusOutput, error) {
	account, reg := s.caller(ctx)
	name := awsapi.ToString(in.Name)
	// CreateEventBus checks, in AWS's words (CreateEventBus docs, Name): the
	// model's length and pattern, the default bus's name, '/' only in a
	// partner bus's name, which must be its event source's.
	switch src := awsapi.ToString(in.EventSourceName); {
	case len(name) > 256:
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must have length less than or equal to 256", name)
	case !busNameRE.MatchString(name):
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+", name)
	case name == defaultBus:
		return nil, eventsapi.ErrResourceAlreadyExistsException("Event bus default already exists.")
	case in.EventSourceName == nil && strings.Contains(name, "/"):
		return nil, apierr.Validation("Event bus name must not contain '/'.")
	case in.EventSourceName != nil && src != name:
		return nil, apierr.Validation("Event bus name must match event source name.")
	case in.EventSourceName != nil:
		// wharf has no partner event sources.
		return nil, notFound("Event source %s does not exist.", src)
	case strings.HasPrefix(name, "aws."):
		return nil, apierr.Validation("Event bus name must not start with 'aws.'.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	if r.buses[name] != nil {
		return nil, eventsapi.ErrResourceAlreadyExistsException("Event bus %s already exists.", name)
	}
	now := s.now().UTC()
	rec := busRecord{Name: name, Description: awsapi.ToString(in.Description), Created: now, Modified: now, Tags: tagsIn(in.Tags), Persisted: true}
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, busKey(account, reg, name), rec) }); err != nil {
		return nil, err
	}
	r.buses[name] = &bus{rec: rec, rules: map[string]*ruleRecord{}}
	return &eventsapi.CreateEventBusOutput{EventBusArn: awsapi.String(busArn(account, reg, name)), Description: in.Description}, nil
}

// DeleteEventBus deletes a custom bus and its rules. Deleting a missing bus succeeds,
// as on AWS; the default bus cannot be deleted.
func (s *Service) DeleteEventBus(ctx context.Context, in *eventsapi.DeleteEventBusInput) (*eventsapi.DeleteEventBusOutput, error) {
	account, reg, name := s.busName(ctx, in.Name)
	if name == defaultBus {
		return nil, apierr.Validation("Cannot delete event bus default.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, b, err := s.lookupLocked(account, reg, name)
	if r == nil {
		return nil, err
	}
	if b == nil {
		return &eventsapi.DeleteEventBusOutput{}, nil
	}
	err = s.st.Update(func(tx store.Tx) error {
		for rn := range b.rules {
			if err := tx.Delete(ruleKey(account, reg, name, rn)); err != nil {
				return err
			}
		}
		return tx.Delete(busKey(account, reg, name))
	})
	if err != nil {
		return nil, err
	}
	delete(r.buses, name)
	return &eventsapi.DeleteEventBusOutput{}, nil
}

func busOut(account, reg string, b *bus) eventsapi.EventBus {
	return eventsapi.EventBus{
		Name: awsapi.String(b.rec.Name), Arn: awsapi.String(busArn(account, reg, b.rec.Name)),
		Description: optional(b.rec.Description), CreationTime: &b.rec.Created, LastModifiedTime: &b.rec.Modified,
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// DescribeEventBus describes a bus; without a name, the default bus.
func (s *Service) DescribeEventBus(ctx context.Context, in *eventsapi.DescribeEventBusInput) (*eventsapi.DescribeEventBusOutput, error) {
	account, reg, name := s.busName(ctx, in.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, err := s.lookupLocked(account, reg, name)
	if b == nil {
		return nil, err
	}
	o := busOut(account, reg, b)
	out := &eventsapi.DescribeEventBusOutput{Name: o.Name, Arn: o.Arn, Description: o.Description, CreationTime: o.CreationTime, LastModifiedTime: o.LastModifiedTime}
	if b.rec.Policy != "" {
		out.Policy = awsapi.String(b.rec.Policy)
	}
	return out, nil
}

// ListEventBuses lists buses by name, the default one included.
func (s *Service) ListEventBuses(ctx context.Context, in *eventsapi.ListEventBusesInput) (*eventsapi.ListEventBusesOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range r.buses {
		if strings.HasPrefix(n, awsapi.ToString(in.NamePrefix)) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	from, to, next, err := page(len(names), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &eventsapi.ListEventBusesOutput{EventBuses: []eventsapi.EventBus{}, NextToken: next}
	for _, n := range names[from:to] {
		out.EventBuses = append(out.EventBuses, busOut(account, reg, r.buses[n]))
	}
	return out, nil
}

// PutRule creates or updates a rule with an event pattern, a schedule, or both.
func (s *Service) PutRule(ctx context.Context, in *eventsapi.PutRuleInput) (*eventsapi.PutRuleOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	name := awsapi.ToString(in.Name)
	if !nameRE.MatchString(name) {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name)
	}
	if in.EventPattern == nil && in.ScheduleExpression == nil {
		return nil, apierr.Validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	state := awsapi.ToString(in.State)
	switch state {
	case "":
		state = "ENABLED"
	case "ENABLED", "DISABLED":
	default:
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", state)
	}
	if in.ScheduleExpression != nil && busName != defaultBus {
		return nil, apierr.Validation("ScheduleExpression is supported only on the default event bus.")
	}
	rr := &ruleRecord{
		Name: name, Bus: busName, Pattern: awsapi.ToString(in.EventPattern), Schedule: awsapi.ToString(in.ScheduleExpression),
		State: state, Description: awsapi.ToString(in.Description), RoleArn: awsapi.ToString(in.RoleArn),
		Tags: tagsIn(in.Tags), Created: s.now().UTC(),
	}
	if rr.Schedule != "" && schedule.CheckSpacing(rr.Schedule) != nil {
		return nil, apierr.Validation("Parameter ScheduleExpression is not valid.")
	}
	if err := rr.compile(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, err := s.lookupLocked(account, reg, busName)
	if b == nil {
		return nil, err
	}
	if old := b.rules[name]; old != nil && old.ManagedBy != "" {
		return nil, managedRule(old)
	}
	if old := b.rules[name]; old != nil {
		// PutRule replaces the rule's definition but keeps its targets, and its
		// tags unless new ones are given.
		rr.Targets, rr.Created = old.Targets, old.Created
		if rr.Tags == nil {
			rr.Tags = old.Tags
		}
	}
	now := s.now()
	err = s.st.Update(func(tx store.Tx) error {
		if err := putJSON(tx, ruleKey(account, reg, busName, name), rr); err != nil {
			return err
		}
		if busName != defaultBus {
			return nil
		}
		if rr.compiledSchd != nil {
			return putJSON(tx, firedKey(account, reg, name), now)
		}
		return tx.Delete(firedKey(account, reg, name))
	})
	if err != nil {
		return nil, err
	}
	b.rules[name] = rr
	b.index(rr)
	arn := ruleArn(account, reg, busName, name)
	if rr.compiledSchd != nil {
		s.lastFire[arn] = now
	} else {
		delete(s.lastFire, arn)
	}
	return &eventsapi.PutRuleOutput{RuleArn: awsapi.String(arn)}, nil
}

// ruleLocked finds a rule; s.mu is held.
func (s *Service) ruleLocked(account, reg, busName, name string) (*bus, *ruleRecord, error) {
	_, b, err := s.lookupLocked(account, reg, busName)
	if b == nil {
		return nil, nil, err
	}
	rr := b.rules[name]
	if rr == nil {
		return b, nil, notFound("Rule %s does not exist on EventBus %s.", name, busName)
	}
	return b, rr, nil
}

// DescribeRule describes a rule.
func (s *Service) DescribeRule(ctx context.Context, in *eventsapi.DescribeRuleInput) (*eventsapi.DescribeRuleOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rr, err := s.ruleLocked(account, reg, busName, awsapi.ToString(in.Name))
	if rr == nil {
		return nil, err
	}
	o := ruleOut(account, reg, rr)
	return &eventsapi.DescribeRuleOutput{
		Name: o.Name, Arn: o.Arn, EventPattern: o.EventPattern, ScheduleExpression: o.ScheduleExpression,
		State: o.State, Description: o.Description, RoleArn: o.RoleArn, EventBusName: o.EventBusName,
		CreatedBy: awsapi.String(account), ManagedBy: o.ManagedBy,
	}, nil
}

func ruleOut(account, reg string, rr *ruleRecord) eventsapi.Rule {
	return eventsapi.Rule{
		Name: awsapi.String(rr.Name), Arn: awsapi.String(ruleArn(account, reg, rr.Bus, rr.Name)),
		EventPattern: optional(rr.Pattern), ScheduleExpression: optional(rr.Schedule), State: awsapi.String(rr.State),
		Description: optional(rr.Description), RoleArn: optional(rr.RoleArn), EventBusName: awsapi.String(rr.Bus),
		ManagedBy: optional(rr.ManagedBy),
	}
}

// managedRule is the error for a change to a rule an AWS service manages.
func managedRule(rr *ruleRecord) error {
	return eventsapi.ErrManagedRuleException("Rule %s is managed by %s and cannot be changed by the user.", rr.Name, rr.ManagedBy)
}

// ListRules lists a bus's rules by name.
func (s *Service) ListRules(ctx context.Context, in *eventsapi.ListRulesInput) (*eventsapi.ListRulesOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, err := s.lookupLocked(account, reg, busName)
	if b == nil {
		return nil, err
	}
	var names []string
	for n := range b.rules {
		if strings.HasPrefix(n, awsapi.ToString(in.NamePrefix)) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	from, to, next, err := page(len(names), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &eventsapi.ListRulesOutput{Rules: []eventsapi.Rule{}, NextToken: next}
	for _, n := range names[from:to] {
		out.Rules = append(out.Rules, ruleOut(account, reg, b.rules[n]))
	}
	return out, nil
}

// DeleteRule deletes a rule that has no targets left. Deleting a missing rule
// succeeds, as on AWS.
func (s *Service) DeleteRule(ctx context.Context, in *eventsapi.DeleteRuleInput) (*eventsapi.DeleteRuleOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	name := awsapi.ToString(in.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	b, rr, err := s.ruleLocked(account, reg, busName, name)
	if b == nil {
		return nil, err
	}
	if rr == nil {
		return &eventsapi.DeleteRuleOutput{}, nil
	}
	if rr.ManagedBy != "" && !awsapi.ToBool(in.Force) {
		return nil, managedRule(rr)
	}
	if len(rr.Targets) > 0 && rr.ManagedBy == "" {
		return nil, apierr.Validation("Rule can't be deleted since it has targets.")
	}
	err = s.st.Update(func(tx store.Tx) error {
		if busName == defaultBus {
			if err := tx.Delete(firedKey(account, reg, name)); err != nil {
				return err
			}
		}
		return tx.Delete(ruleKey(account, reg, busName, name))
	})
	if err != nil {
		return nil, err
	}
	delete(b.rules, name)
	b.unindex(name)
	delete(s.lastFire, ruleArn(account, reg, busName, name))
	return &eventsapi.DeleteRuleOutput{}, nil
}

func (s *Service) setState(ctx context.Context, busP, nameP *string, state string) error {
	account, reg, busName := s.busName(ctx, busP)
	s.mu.Lock()
	defer s.mu.Unlock()
	b, rr, err := s.ruleLocked(account, reg, busName, awsapi.ToString(nameP))
	if rr == nil {
		return err
	}
	next := *rr
	next.State = state
	now := s.now()
	// A schedule rule that is enabled again counts its periods from now.
	restart := state == "ENABLED" && rr.State != "ENABLED" && rr.compiledSchd != nil && busName == defaultBus
	err = s.st.Update(func(tx store.Tx) error {
		if restart {
			if err := putJSON(tx, firedKey(account, reg, rr.Name), now); err != nil {
				return err
			}
		}
		return putJSON(tx, ruleKey(account, reg, busName, rr.Name), &next)
	})
	if err != nil {
		return err
	}
	rr.State = state
	b.index(rr)
	if restart {
		s.lastFire[ruleArn(account, reg, busName, rr.Name)] = now
	}
	return nil
}

// EnableRule enables a rule.
func (s *Service) EnableRule(ctx context.Context, in *eventsapi.EnableRuleInput) (*eventsapi.EnableRuleOutput, error) {
	return &eventsapi.EnableRuleOutput{}, s.setState(ctx, in.EventBusName, in.Name, "ENABLED")
}

// DisableRule disables a rule: it stops matching events and firing.
func (s *Service) DisableRule(ctx context.Context, in *eventsapi.DisableRuleInput) (*eventsapi.DisableRuleOutput, error) {
	return &eventsapi.DisableRuleOutput{}, s.setState(ctx, in.EventBusName, in.Name, "DISABLED")
}

// maxTargets is the number of targets a rule may have (EventBridge quotas).
const maxTargets = 5

// PutTargets adds or replaces targets of a rule. Targets that cannot be added
// are reported per entry; the others are added.
func (s *Service) PutTargets(ctx context.Context, in *eventsapi.PutTargetsInput) (*eventsapi.PutTargetsOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	if len(in.Targets) == 0 {
		return nil, apierr.Validation("1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null")
	}
	for i, t := range in.Targets {
		if err := checkTargetRequest(i, &t); err != nil {
			return nil, err
		}
		// EventBridge reaches an ECS cluster only through a role it assumes
		// ("Permissions for Amazon ECS targets"); AWS refuses the whole call.
		if arn := awsapi.ToString(t.Arn); arnService(arn) == "ecs" && awsapi.ToString(t.RoleArn) == "" {
			return nil, apierr.Validation("RoleArn is required for target %s.", arn)
		}
		// A target wharf cannot deliver to is refused here, so no event is
		// accepted for it and then dropped.
		if arn := awsapi.ToString(t.Arn); validARN(arn) {
			if why := Unsupported(arn); why != "" {
				return nil, apierr.Validation("Parameter %s is not valid. Reason: %s", arn, why)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rr, err := s.ruleLocked(account, reg, busName, awsapi.ToString(in.Rule))
	if rr == nil {
		return nil, err
	}
	if rr.ManagedBy != "" {
		return nil, managedRule(rr)
	}
	next := append([]eventsapi.Target(nil), rr.Targets...)
	out := &eventsapi.PutTargetsOutput{FailedEntries: []eventsapi.PutTargetsResultEntry{}}
	fail := func(id, code, msg string) {
		out.FailedEntries = append(out.FailedEntries, eventsapi.PutTargetsResultEntry{TargetId: awsapi.String(id), ErrorCode: awsapi.String(code), ErrorMessage: awsapi.String(msg)})
	}
	for _, t := range in.Targets {
		id := awsapi.ToString(t.Id)
		if msg := checkTarget(&t); msg != "" {
			fail(id, "ValidationException", msg)
			continue
		}
		replaced := false
		for i := range next {
			if awsapi.ToString(next[i].Id) == id {
				next[i], replaced = t, true
			}
		}
		if !replaced {
			next = append(next, t)
		}
	}
	if len(next) > maxTargets {
		return nil, eventsapi.ErrLimitExceededException("The requested resource exceeds the maximum number allowed.")
	}
	upd := *rr
	upd.Targets = next
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, ruleKey(account, reg, busName, rr.Name), &upd) }); err != nil {
		return nil, err
	}
	rr.Targets = next
	out.FailedEntryCount = awsapi.Int32(int32(len(out.FailedEntries)))
	return out, nil
}

// validARN reports whether arn has an ARN's six parts, with a service and a
// resource.
func validARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] != "" && parts[5] != ""
}

// checkTargetRequest refuses the whole PutTargets call for a target whose id
// breaks its constraints, that has more than one of Input, InputPath and
// InputTransformer, or whose InputTemplate names a variable it does not
// define, in EventBridge's words (localstack's AWS-validated snapshots of
// PutTargets): those are not reported as failed entries.
func checkTargetRequest(i int, t *eventsapi.Target) error {
	id := awsapi.ToString(t.Id)
	switch {
	case t.Id == nil:
		return apierr.Validation("1 validation error detected: Value null at 'targets.%d.member.id' failed to satisfy constraint: Member must not be null", i+1)
	case id == "":
		return apierr.Validation("1 validation error detected: Value '' at 'targets.%d.member.id' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
	case utf8.RuneCountInString(id) > 64:
		return apierr.Validation("1 validation error detected: Value '%s' at 'targets.%d.member.id' failed to satisfy constraint: Member must have length less than or equal to 64", id, i+1)
	case !nameRE.MatchString(id):
		return apierr.Validation("1 validation error detected: Value '%s' at 'targets.%d.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", id, i+1)
	}
	n := 0
	for _, set := range []bool{t.Input != nil, t.InputPath != nil, t.InputTransformer != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return apierr.Validation("Only one of Input, InputPath, or InputTransformer must be provided for target %s.", id)
	}
	if tr := t.InputTransformer; tr != nil {
		if name := undefinedPlaceholder(tr); name != "" {
			return apierr.Validation("InputTemplate for target %s contains invalid placeholder %s.", id, name)
		}
	}
	return nil
}

// checkTarget returns why a target cannot be added, or "".
func checkTarget(t *eventsapi.Target) string {
	id, arn := awsapi.ToString(t.Id), awsapi.ToString(t.Arn)
	if !nameRE.MatchString(id) {
		return "Target id is not valid: " + id
	}
	if !validARN(arn) {
		return "Parameter " + arn + " is not valid. Reason: Provided Arn is not in correct format."
	}
	n := 0
	if t.Input != nil {
		n++
		if !json.Valid([]byte(*t.Input)) {
			return "Input is not valid JSON."
		}
	}
	if t.InputPath != nil {
		n++
		if _, err := parsePath(*t.InputPath); err != nil {
			return "InputPath is not a valid JSON path: " + *t.InputPath
		}
	}
	if t.InputTransformer != nil {
		n++
		if err := checkTransformer(t.InputTransformer); err != "" {
			return err
		}
	}
	if n > 1 {
		return "Only one of Input, InputPath, or InputTransformer must be provided."
	}
	return ""
}

// RemoveTargets removes targets from a rule; ids it does not have are reported.
func (s *Service) RemoveTargets(ctx context.Context, in *eventsapi.RemoveTargetsInput) (*eventsapi.RemoveTargetsOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rr, err := s.ruleLocked(account, reg, busName, awsapi.ToString(in.Rule))
	if rr == nil {
		return nil, err
	}
	remove := map[string]bool{}
	for _, id := range in.Ids {
		remove[id] = true
	}
	var next []eventsapi.Target
	for _, t := range rr.Targets {
		id := awsapi.ToString(t.Id)
		if remove[id] {
			delete(remove, id)
			continue
		}
		next = append(next, t)
	}
	out := &eventsapi.RemoveTargetsOutput{FailedEntries: []eventsapi.RemoveTargetsResultEntry{}}
	for _, id := range in.Ids {
		if remove[id] {
			out.FailedEntries = append(out.FailedEntries, eventsapi.RemoveTargetsResultEntry{TargetId: awsapi.String(id), ErrorCode: awsapi.String("ResourceNotFoundException"), ErrorMessage: awsapi.String("Target " + id + " does not exist on rule " + rr.Name + ".")})
		}
	}
	upd := *rr
	upd.Targets = next
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, ruleKey(account, reg, busName, rr.Name), &upd) }); err != nil {
		return nil, err
	}
	rr.Targets = next
	out.FailedEntryCount = awsapi.Int32(int32(len(out.FailedEntries)))
	return out, nil
}

// ListTargetsByRule lists a rule's targets.
func (s *Service) ListTargetsByRule(ctx context.Context, in *eventsapi.ListTargetsByRuleInput) (*eventsapi.ListTargetsByRuleOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rr, err := s.ruleLocked(account, reg, busName, awsapi.ToString(in.Rule))
	if rr == nil {
		return nil, err
	}
	from, to, next, err := page(len(rr.Targets), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	return &eventsapi.ListTargetsByRuleOutput{Targets: append([]eventsapi.Target{}, rr.Targets[from:to]...), NextToken: next}, nil
}

// ListRuleNamesByTarget lists the rules of a bus that have a target with the ARN.
func (s *Service) ListRuleNamesByTarget(ctx context.Context, in *eventsapi.ListRuleNamesByTargetInput) (*eventsapi.ListRuleNamesByTargetOutput, error) {
	account, reg, busName := s.busName(ctx, in.EventBusName)
	arn := awsapi.ToString(in.TargetArn)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, err := s.lookupLocked(account, reg, busName)
	if b == nil {
		return nil, err
	}
	var names []string
	for n, rr := range b.rules {
		for _, t := range rr.Targets {
			if awsapi.ToString(t.Arn) == arn {
				names = append(names, n)
				break
			}
		}
	}
	sort.Strings(names)
	from, to, next, err := page(len(names), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	return &eventsapi.ListRuleNamesByTargetOutput{RuleNames: append([]string{}, names[from:to]...), NextToken: next}, nil
}

// TestEventPattern reports whether an event matches a pattern. The event must
// carry the envelope fields AWS requires.
func (s *Service) TestEventPattern(ctx context.Context, in *eventsapi.TestEventPatternInput) (*eventsapi.TestEventPatternOutput, error) {
	p, err := pattern.Compile([]byte(awsapi.ToString(in.EventPattern)))
	if err != nil {
		return nil, invalidPattern(err)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(awsapi.ToString(in.Event)), &env); err != nil || env == nil {
		return nil, apierr.Validation("Parameter Event is not valid.")
	}
	for _, f := range []string{"id", "account", "source", "time", "region", "detail-type"} {
		if _, ok := env[f]; !ok {
			return nil, apierr.Validation("Parameter Event is not valid. Reason: Provided Event is missing required field '%s'.", f)
		}
	}
	ok, err := p.Match([]byte(*in.Event))
	if err != nil {
		return nil, apierr.Validation("Parameter Event is not valid.")
	}
	return &eventsapi.TestEventPatternOutput{Result: awsapi.Bool(ok)}, nil
}

// resourceLocked finds the tags of the bus or rule an ARN names; s.mu is held.
// save writes the owner back.
func (s *Service) resourceLocked(arn string) (tags *map[string]string, save func() error, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "events" {
		return nil, nil, notFound("Resource %s does not exist.", arn)
	}
	reg, account, res := parts[3], parts[4], parts[5]
	switch {
	case strings.HasPrefix(res, "event-bus/"):
		name := strings.TrimPrefix(res, "event-bus/")
		_, b, err := s.lookupLocked(account, reg, name)
		if b == nil {
			return nil, nil, err
		}
		return &b.rec.Tags, func() error {
			b.rec.Persisted = true
			return s.st.Update(func(tx store.Tx) error { return putJSON(tx, busKey(account, reg, name), b.rec) })
		}, nil
	case strings.HasPrefix(res, "rule/"):
		busName, name := defaultBus, strings.TrimPrefix(res, "rule/")
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			busName, name = name[:i], name[i+1:]
		}
		_, rr, err := s.ruleLocked(account, reg, busName, name)
		if rr == nil {
			return nil, nil, err
		}
		return &rr.Tags, func() error {
			return s.st.Update(func(tx store.Tx) error { return putJSON(tx, ruleKey(account, reg, busName, name), rr) })
		}, nil
	}
	return nil, nil, notFound("Resource %s does not exist.", arn)
}

// TagResource adds tags to a bus or rule.
func (s *Service) TagResource(ctx context.Context, in *eventsapi.TagResourceInput) (*eventsapi.TagResourceOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, save, err := s.resourceLocked(awsapi.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	old := *tags
	m := map[string]string{}
	for k, v := range old {
		m[k] = v
	}
	for k, v := range tagsIn(in.Tags) {
		m[k] = v
	}
	*tags = m
	if err := save(); err != nil {
		*tags = old
		return nil, err
	}
	return &eventsapi.TagResourceOutput{}, nil
}

// UntagResource removes tags from a bus or rule.
func (s *Service) UntagResource(ctx context.Context, in *eventsapi.UntagResourceInput) (*eventsapi.UntagResourceOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, save, err := s.resourceLocked(awsapi.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	old := *tags
	m := map[string]string{}
	for k, v := range old {
		m[k] = v
	}
	for _, k := range in.TagKeys {
		delete(m, k)
	}
	*tags = m
	if err := save(); err != nil {
		*tags = old
		return nil, err
	}
	return &eventsapi.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a bus's or rule's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *eventsapi.ListTagsForResourceInput) (*eventsapi.ListTagsForResourceOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, _, err := s.resourceLocked(awsapi.ToString(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	return &eventsapi.ListTagsForResourceOutput{Tags: tagsOut(*tags)}, nil
}
