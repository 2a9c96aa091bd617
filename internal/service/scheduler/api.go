package scheduler

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/schedule"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/store"
)

var nameRE = lazyregexp.New(`^[0-9a-zA-Z\-_.]{1,64}$`)

// page returns items[from:to] of n and the next token.
func page(n int, token *string, limit *int32) (from, to int, next *string, err error) {
	if t := awsapi.ToString(token); t != "" {
		from, err = strconv.Atoi(t)
		if err != nil || from < 0 || from > n {
			return 0, 0, nil, validation("Invalid NextToken.")
		}
	}
	l := int(awsapi.ToInt32(limit))
	if limit != nil && (l < 1 || l > 100) {
		return 0, 0, nil, validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", l)
	}
	if l == 0 {
		l = 100
	}
	to = min(from+l, n)
	if to < n {
		next = awsapi.String(strconv.Itoa(to))
	}
	return from, to, next, nil
}

func groupName(p *string) string {
	if g := awsapi.ToString(p); g != "" {
		return g
	}
	return defaultGroup
}

// scheduleInput is what CreateSchedule and UpdateSchedule share.
type scheduleInput struct {
	name, group, description, expression, timezone, state, action, kms *string
	start, end                                                         *time.Time
	flexible                                                           *schedapi.FlexibleTimeWindow
	target                                                             *schedapi.Target
}

// build validates a schedule definition as AWS does and returns its record.
func (s *Service) build(in scheduleInput, now time.Time) (*scheduleRecord, error) {
	name := awsapi.ToString(in.name)
	if !nameRE.MatchString(name) {
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$", name)
	}
	if in.expression == nil || *in.expression == "" {
		return nil, validation("1 validation error detected: Value null at 'scheduleExpression' failed to satisfy constraint: Member must not be null")
	}
	if in.flexible == nil {
		return nil, validation("1 validation error detected: Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null")
	}
	if in.target == nil {
		return nil, validation("1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null")
	}
	sc := &scheduleRecord{
		Name: name, Group: groupName(in.group), Description: awsapi.ToString(in.description),
		Expression: *in.expression, Timezone: awsapi.ToString(in.timezone), State: awsapi.ToString(in.state),
		ActionAfterCompletion: awsapi.ToString(in.action), KmsKeyArn: awsapi.ToString(in.kms),
		Flexible: *in.flexible, Target: *in.target, Created: now, Modified: now,
	}
	switch sc.State {
	case "":
		sc.State = "ENABLED"
	case "ENABLED", "DISABLED":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", sc.State)
	}
	switch sc.ActionAfterCompletion {
	case "", "NONE", "DELETE":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'actionAfterCompletion' failed to satisfy constraint: Member must satisfy enum value set: [NONE, DELETE]", sc.ActionAfterCompletion)
	}
	switch mode := awsapi.ToString(sc.Flexible.Mode); mode {
	case "OFF":
		if sc.Flexible.MaximumWindowInMinutes != nil {
			return nil, validation("MaximumWindowInMinutes is not allowed when Mode is OFF.")
		}
	case "FLEXIBLE":
		// wharf fires at the start of the window: a flexible schedule may
		// fire anywhere in it, the start included.
		if m := awsapi.ToInt32(sc.Flexible.MaximumWindowInMinutes); m < 1 || m > 1440 {
			return nil, validation("MaximumWindowInMinutes must be between 1 and 1440 when Mode is FLEXIBLE.")
		}
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]", mode)
	}
	if err := checkTarget(&sc.Target); err != nil {
		return nil, err
	}
	if schedule.CheckSpacing(sc.Expression) != nil {
		return nil, validation("Invalid Schedule Expression %s.", sc.Expression)
	}
	if err := sc.compile(); err != nil {
		return nil, err
	}
	if in.start != nil {
		sc.Start = in.start.UTC()
	}
	if in.end != nil {
		sc.End = in.end.UTC()
	}
	if !sc.oneTime() {
		// StartDate and EndDate apply to recurring schedules only.
		if !sc.Start.IsZero() && sc.Start.Before(now.Add(-5*time.Minute)) {
			return nil, validation("The StartDate you specify cannot be earlier than 5 minutes ago.")
		}
		if !sc.End.IsZero() && !sc.End.After(now) {
			return nil, validation("The EndDate you specify cannot be earlier than the current time.")
		}
		if !sc.Start.IsZero() && !sc.End.IsZero() && !sc.End.After(sc.Start) {
			return nil, validation("The EndDate must be after the StartDate.")
		}
	}
	return sc, nil
}

// checkTarget validates a schedule's target.
func checkTarget(t *schedapi.Target) error {
	arn, role := awsapi.ToString(t.Arn), awsapi.ToString(t.RoleArn)
	if parts := strings.SplitN(arn, ":", 6); len(parts) != 6 || parts[0] != "arn" || parts[2] == "" {
		return validation("Invalid Target Arn %s.", arn)
	}
	// Scheduler delivers through EventBridge's targets: one wharf cannot
	// deliver to (a Lambda function, a universal aws-sdk target) is refused
	// here rather than accepted and never delivered.
	if why := events.Unsupported(arn); why != "" {
		return validation("Invalid Target Arn %s: %s", arn, why)
	}
	if !strings.HasPrefix(role, "arn:") || !strings.Contains(role, ":iam::") {
		return validation("Invalid RoleArn %s.", role)
	}
	if p := t.RetryPolicy; p != nil {
		if n := awsapi.ToInt32(p.MaximumRetryAttempts); p.MaximumRetryAttempts != nil && (n < 0 || n > 185) {
			return validation("1 validation error detected: Value '%d' at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value between 0 and 185", n)
		}
		if n := awsapi.ToInt32(p.MaximumEventAgeInSeconds); p.MaximumEventAgeInSeconds != nil && (n < 60 || n > 86400) {
			return validation("1 validation error detected: Value '%d' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 86400", n)
		}
	}
	if p := t.EventBridgeParameters; p != nil {
		if awsapi.ToString(p.Source) == "" || awsapi.ToString(p.DetailType) == "" {
			return validation("EventBridgeParameters requires Source and DetailType.")
		}
		if strings.HasPrefix(*p.Source, "aws.") {
			return validation("Invalid Source %s: Source cannot start with aws.", *p.Source)
		}
	}
	if p := t.EcsParameters; p != nil && awsapi.ToString(p.TaskDefinitionArn) == "" {
		return validation("1 validation error detected: Value null at 'target.ecsParameters.taskDefinitionArn' failed to satisfy constraint: Member must not be null")
	}
	return nil
}

// CreateSchedule creates a schedule in a group (the default group without one).
func (s *Service) CreateSchedule(ctx context.Context, in *schedapi.CreateScheduleInput) (*schedapi.CreateScheduleOutput, error) {
	account, reg := s.caller(ctx)
	now := s.now().UTC()
	sc, err := s.build(scheduleInput{in.Name, in.GroupName, in.Description, in.ScheduleExpression, in.ScheduleExpressionTimezone,
		in.State, in.ActionAfterCompletion, in.KmsKeyArn, in.StartDate, in.EndDate, in.FlexibleTimeWindow, in.Target}, now)
	if err != nil {
		return nil, err
	}
	sc.plan(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	if r.groups[sc.Group] == nil {
		return nil, notFound("Schedule group %s does not exist.", sc.Group)
	}
	if r.schedules[sc.Group+"/"+sc.Name] != nil {
		return nil, conflict("Schedule %s already exists.", sc.Name)
	}
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, scheduleKey(account, reg, sc.Group, sc.Name), sc) }); err != nil {
		return nil, err
	}
	r.schedules[sc.Group+"/"+sc.Name] = sc
	s.signal()
	return &schedapi.CreateScheduleOutput{ScheduleArn: awsapi.String(scheduleArn(account, reg, sc.Group, sc.Name))}, nil
}

// UpdateSchedule replaces a schedule's definition (every member, as on AWS:
// members left out take their defaults).
func (s *Service) UpdateSchedule(ctx context.Context, in *schedapi.UpdateScheduleInput) (*schedapi.UpdateScheduleOutput, error) {
	account, reg := s.caller(ctx)
	now := s.now().UTC()
	sc, err := s.build(scheduleInput{in.Name, in.GroupName, in.Description, in.ScheduleExpression, in.ScheduleExpressionTimezone,
		in.State, in.ActionAfterCompletion, in.KmsKeyArn, in.StartDate, in.EndDate, in.FlexibleTimeWindow, in.Target}, now)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, old, err := s.scheduleLocked(account, reg, sc.Group, sc.Name)
	if old == nil {
		return nil, err
	}
	sc.Created = old.Created
	sc.plan(now)
	if sc.State == "ENABLED" && old.State == "ENABLED" && !old.Next.IsZero() && sc.Expression == old.Expression &&
		sc.Timezone == old.Timezone && sc.Start.Equal(old.Start) {
		// The same timing keeps its phase: a rate schedule is not fired again
		// at once because its target or description changed.
		if t, ok := sc.withinEnd(old.Next); ok {
			sc.Next, sc.Done = t, false
		} else {
			sc.Next, sc.Done = time.Time{}, true
		}
	}
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, scheduleKey(account, reg, sc.Group, sc.Name), sc) }); err != nil {
		return nil, err
	}
	r.schedules[sc.Group+"/"+sc.Name] = sc
	s.signal()
	return &schedapi.UpdateScheduleOutput{ScheduleArn: awsapi.String(scheduleArn(account, reg, sc.Group, sc.Name))}, nil
}

// scheduleLocked finds a schedule; s.mu is held.
func (s *Service) scheduleLocked(account, reg, group, name string) (*region, *scheduleRecord, error) {
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, nil, err
	}
	if r.groups[group] == nil {
		return r, nil, notFound("Schedule group %s does not exist.", group)
	}
	sc := r.schedules[group+"/"+name]
	if sc == nil {
		return r, nil, notFound("Schedule %s does not exist.", name)
	}
	return r, sc, nil
}

// GetSchedule describes a schedule.
func (s *Service) GetSchedule(ctx context.Context, in *schedapi.GetScheduleInput) (*schedapi.GetScheduleOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sc, err := s.scheduleLocked(account, reg, groupName(in.GroupName), awsapi.ToString(in.Name))
	if sc == nil {
		return nil, err
	}
	fw, tgt := sc.Flexible, sc.Target
	out := &schedapi.GetScheduleOutput{
		Arn: awsapi.String(scheduleArn(account, reg, sc.Group, sc.Name)), Name: awsapi.String(sc.Name), GroupName: awsapi.String(sc.Group),
		Description: optional(sc.Description), ScheduleExpression: awsapi.String(sc.Expression),
		ScheduleExpressionTimezone: optional(sc.Timezone), State: awsapi.String(sc.State), FlexibleTimeWindow: &fw,
		ActionAfterCompletion: awsapi.String(sc.ActionAfterCompletion), KmsKeyArn: optional(sc.KmsKeyArn), Target: &tgt,
		CreationDate: optionalTime(sc.Created), LastModificationDate: optionalTime(sc.Modified), StartDate: optionalTime(sc.Start), EndDate: optionalTime(sc.End),
	}
	if sc.ActionAfterCompletion == "" {
		out.ActionAfterCompletion = awsapi.String("NONE")
	}
	if tgt.RetryPolicy == nil {
		// AWS reports the default retry policy it applies.
		out.Target.RetryPolicy = &schedapi.RetryPolicy{MaximumEventAgeInSeconds: awsapi.Int32(86400), MaximumRetryAttempts: awsapi.Int32(185)}
	}
	return out, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// DeleteSchedule deletes a schedule.
func (s *Service) DeleteSchedule(ctx context.Context, in *schedapi.DeleteScheduleInput) (*schedapi.DeleteScheduleOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, sc, err := s.scheduleLocked(account, reg, groupName(in.GroupName), awsapi.ToString(in.Name))
	if sc == nil {
		return nil, err
	}
	if err := s.st.Update(func(tx store.Tx) error { return tx.Delete(scheduleKey(account, reg, sc.Group, sc.Name)) }); err != nil {
		return nil, err
	}
	delete(r.schedules, sc.Group+"/"+sc.Name)
	return &schedapi.DeleteScheduleOutput{}, nil
}

// ListSchedules lists schedules by group and name, filtered by group, name
// prefix and state.
func (s *Service) ListSchedules(ctx context.Context, in *schedapi.ListSchedulesInput) (*schedapi.ListSchedulesOutput, error) {
	account, reg := s.caller(ctx)
	if st := awsapi.ToString(in.State); in.State != nil && st != "ENABLED" && st != "DISABLED" {
		return nil, validation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	if in.GroupName != nil && r.groups[*in.GroupName] == nil {
		return nil, notFound("Schedule group %s does not exist.", *in.GroupName)
	}
	var keys []string
	for k, sc := range r.schedules {
		if in.GroupName != nil && sc.Group != *in.GroupName || !strings.HasPrefix(sc.Name, awsapi.ToString(in.NamePrefix)) ||
			in.State != nil && sc.State != *in.State {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	from, to, next, err := page(len(keys), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &schedapi.ListSchedulesOutput{Schedules: []schedapi.ScheduleSummary{}, NextToken: next}
	for _, k := range keys[from:to] {
		sc := r.schedules[k]
		out.Schedules = append(out.Schedules, schedapi.ScheduleSummary{
			Arn: awsapi.String(scheduleArn(account, reg, sc.Group, sc.Name)), Name: awsapi.String(sc.Name), GroupName: awsapi.String(sc.Group),
			State: awsapi.String(sc.State), CreationDate: optionalTime(sc.Created), LastModificationDate: optionalTime(sc.Modified),
			Target: &schedapi.TargetSummary{Arn: sc.Target.Arn},
		})
	}
	return out, nil
}

func tagsIn(ts []schedapi.Tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, t := range ts {
		m[awsapi.ToString(t.Key)] = awsapi.ToString(t.Value)
	}
	return m
}

// CreateScheduleGroup creates a schedule group.
func (s *Service) CreateScheduleGroup(ctx context.Context, in *schedapi.CreateScheduleGroupInput) (*schedapi.CreateScheduleGroupOutput, error) {
	account, reg := s.caller(ctx)
	name := awsapi.ToString(in.Name)
	if !nameRE.MatchString(name) {
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	if r.groups[name] != nil {
		return nil, conflict("Schedule group %s already exists.", name)
	}
	now := s.now().UTC()
	g := &groupRecord{Name: name, Created: now, Modified: now, Tags: tagsIn(in.Tags)}
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, groupKey(account, reg, name), g) }); err != nil {
		return nil, err
	}
	r.groups[name] = g
	return &schedapi.CreateScheduleGroupOutput{ScheduleGroupArn: awsapi.String(groupArn(account, reg, name))}, nil
}

func groupSummary(account, reg string, g *groupRecord) schedapi.ScheduleGroupSummary {
	return schedapi.ScheduleGroupSummary{Arn: awsapi.String(groupArn(account, reg, g.Name)), Name: awsapi.String(g.Name),
		State: awsapi.String("ACTIVE"), CreationDate: optionalTime(g.Created), LastModificationDate: optionalTime(g.Modified)}
}

// GetScheduleGroup describes a schedule group.
func (s *Service) GetScheduleGroup(ctx context.Context, in *schedapi.GetScheduleGroupInput) (*schedapi.GetScheduleGroupOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	g := r.groups[awsapi.ToString(in.Name)]
	if g == nil {
		return nil, notFound("Schedule group %s does not exist.", awsapi.ToString(in.Name))
	}
	o := groupSummary(account, reg, g)
	return &schedapi.GetScheduleGroupOutput{Arn: o.Arn, Name: o.Name, State: o.State, CreationDate: o.CreationDate, LastModificationDate: o.LastModificationDate}, nil
}

// ListScheduleGroups lists schedule groups by name, the default one included.
func (s *Service) ListScheduleGroups(ctx context.Context, in *schedapi.ListScheduleGroupsInput) (*schedapi.ListScheduleGroupsOutput, error) {
	account, reg := s.caller(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range r.groups {
		if strings.HasPrefix(n, awsapi.ToString(in.NamePrefix)) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	from, to, next, err := page(len(names), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &schedapi.ListScheduleGroupsOutput{ScheduleGroups: []schedapi.ScheduleGroupSummary{}, NextToken: next}
	for _, n := range names[from:to] {
		out.ScheduleGroups = append(out.ScheduleGroups, groupSummary(account, reg, r.groups[n]))
	}
	return out, nil
}

// DeleteScheduleGroup deletes a group and every schedule in it. The default
// group cannot be deleted.
func (s *Service) DeleteScheduleGroup(ctx context.Context, in *schedapi.DeleteScheduleGroupInput) (*schedapi.DeleteScheduleGroupOutput, error) {
	account, reg := s.caller(ctx)
	name := awsapi.ToString(in.Name)
	if name == defaultGroup {
		return nil, validation("You cannot delete the default group.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return nil, err
	}
	if r.groups[name] == nil {
		return nil, notFound("Schedule group %s does not exist.", name)
	}
	err = s.st.Update(func(tx store.Tx) error {
		for _, sc := range r.schedules {
			if sc.Group == name {
				if err := tx.Delete(scheduleKey(account, reg, name, sc.Name)); err != nil {
					return err
				}
			}
		}
		return tx.Delete(groupKey(account, reg, name))
	})
	if err != nil {
		return nil, err
	}
	for k, sc := range r.schedules {
		if sc.Group == name {
			delete(r.schedules, k)
		}
	}
	delete(r.groups, name)
	return &schedapi.DeleteScheduleGroupOutput{}, nil
}

// groupByArnLocked finds the schedule group an ARN names (only groups have
// tags in Scheduler); s.mu is held.
func (s *Service) groupByArnLocked(arn string) (string, string, *groupRecord, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "scheduler" || !strings.HasPrefix(parts[5], "schedule-group/") {
		return "", "", nil, validation("Invalid ResourceArn %s.", arn)
	}
	reg, account, name := parts[3], parts[4], strings.TrimPrefix(parts[5], "schedule-group/")
	r, err := s.regionLocked(account, reg)
	if err != nil {
		return "", "", nil, err
	}
	g := r.groups[name]
	if g == nil {
		return "", "", nil, notFound("Schedule group %s does not exist.", name)
	}
	return account, reg, g, nil
}

func (s *Service) retag(arn string, change func(map[string]string)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	account, reg, g, err := s.groupByArnLocked(arn)
	if err != nil {
		return err
	}
	next := *g
	next.Tags = map[string]string{}
	for k, v := range g.Tags {
		next.Tags[k] = v
	}
	change(next.Tags)
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, groupKey(account, reg, g.Name), &next) }); err != nil {
		return err
	}
	*g = next
	return nil
}

// TagResource adds tags to a schedule group.
func (s *Service) TagResource(ctx context.Context, in *schedapi.TagResourceInput) (*schedapi.TagResourceOutput, error) {
	return &schedapi.TagResourceOutput{}, s.retag(awsapi.ToString(in.ResourceArn), func(m map[string]string) {
		for k, v := range tagsIn(in.Tags) {
			m[k] = v
		}
	})
}

// UntagResource removes tags from a schedule group.
func (s *Service) UntagResource(ctx context.Context, in *schedapi.UntagResourceInput) (*schedapi.UntagResourceOutput, error) {
	return &schedapi.UntagResourceOutput{}, s.retag(awsapi.ToString(in.ResourceArn), func(m map[string]string) {
		for _, k := range in.TagKeys {
			delete(m, k)
		}
	})
}

// ListTagsForResource lists a schedule group's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *schedapi.ListTagsForResourceInput) (*schedapi.ListTagsForResourceOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, g, err := s.groupByArnLocked(awsapi.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(g.Tags))
	for k := range g.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &schedapi.ListTagsForResourceOutput{Tags: []schedapi.Tag{}}
	for _, k := range keys {
		out.Tags = append(out.Tags, schedapi.Tag{Key: awsapi.String(k), Value: awsapi.String(g.Tags[k])})
	}
	return out, nil
}
