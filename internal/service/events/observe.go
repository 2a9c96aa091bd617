package events

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records each hop an event takes through EventBridge: received,
// matched a rule or matched none, each target invocation with its outcome.
// timeline.Log implements it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// Metrics receives the AWS/Events metrics. CloudWatch implements it.
type Metrics interface {
	Put(ctx context.Context, account, region, namespace string, data ...cloudwatch.Datum) error
}

// SetTimeline makes the service record its hops on t. Call it before Run.
func (s *Service) SetTimeline(t Timeline) { s.obs.tl = t }

// SetMetrics makes the service publish AWS/Events metrics to m. Call it
// before Run.
func (s *Service) SetMetrics(m Metrics) { s.obs.metrics = m }

// observer is what the service tells about itself: timeline hops and the
// counts behind AWS/Events metrics, summed between publications.
type observer struct {
	tl      Timeline
	metrics Metrics

	mu     sync.Mutex
	counts map[metricKey]float64
}

// metricKey is one AWS/Events metric: per rule ("Metrics that specify only
// the RuleName dimension refer to the default event bus", Monitoring Amazon
// EventBridge), or account-wide when rule is empty.
type metricKey struct {
	account, region, name, bus, rule string
	// group is set for AWS/Scheduler's metrics, whose deliveries
	// EventBridge makes: per schedule group, or account-wide when "-".
	group string
}

// countSchedule adds one to AWS/Scheduler metric name for the schedule d
// fires, account-wide and per ScheduleGroup (Monitoring Amazon EventBridge
// Scheduler with Amazon CloudWatch).
func (s *Service) countSchedule(d *Delivery, name string) {
	if s.obs.metrics == nil || d.ScheduleArn == "" {
		return
	}
	// arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>
	group := "default"
	if _, res, ok := strings.Cut(d.ScheduleArn, ":schedule/"); ok {
		if g, _, ok := strings.Cut(res, "/"); ok {
			group = g
		}
	}
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	if s.obs.counts == nil {
		s.obs.counts = map[metricKey]float64{}
	}
	s.obs.counts[metricKey{account: d.Account, region: d.Region, name: name, group: "-"}]++
	s.obs.counts[metricKey{account: d.Account, region: d.Region, name: name, group: group}]++
}

func (s *Service) hop(ctx context.Context, e timeline.Entry) {
	if s.obs.tl != nil {
		e.Service = "events"
		s.obs.tl.Record(ctx, e)
	}
}

// count adds n to metric name, for ruleArn's rule and account-wide.
func (s *Service) count(account, region, ruleArn, name string, n float64) {
	if s.obs.metrics == nil || n == 0 {
		return
	}
	bus, rule := ruleOfArn(ruleArn)
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	if s.obs.counts == nil {
		s.obs.counts = map[metricKey]float64{}
	}
	s.obs.counts[metricKey{account: account, region: region, name: name}] += n
	if rule != "" {
		s.obs.counts[metricKey{account: account, region: region, name: name, bus: bus, rule: rule}] += n
	}
}

// ruleOfArn splits a rule ARN into its bus (empty for the default bus) and name.
func ruleOfArn(arn string) (bus, rule string) {
	_, res, ok := strings.Cut(arn, ":rule/")
	if !ok {
		return "", ""
	}
	if b, r, custom := strings.Cut(res, "/"); custom {
		return b, r
	}
	return "", res
}

// publishMetrics sends the counts gathered since the last call. EventBridge
// sends a metric only when it is not zero (Monitoring Amazon EventBridge).
func (s *Service) publishMetrics(ctx context.Context) {
	if s.obs.metrics == nil {
		return
	}
	s.obs.mu.Lock()
	counts := s.obs.counts
	s.obs.counts = nil
	s.obs.mu.Unlock()
	type scope struct{ account, region, namespace string }
	data := map[scope][]cloudwatch.Datum{}
	now := s.now()
	for k, v := range counts {
		d := cloudwatch.Datum{MetricName: k.name, Time: now, Value: v, Unit: "Count"}
		ns := "AWS/Events"
		switch {
		case k.group != "":
			ns = "AWS/Scheduler"
			if k.group != "-" {
				d.Dimensions = map[string]string{"ScheduleGroup": k.group}
			}
		case k.rule != "":
			d.Dimensions = map[string]string{"RuleName": k.rule}
			if k.bus != "" {
				d.Dimensions["EventBusName"] = k.bus
			}
		}
		sc := scope{k.account, k.region, ns}
		data[sc] = append(data[sc], d)
	}
	for sc, ds := range data {
		if err := s.obs.metrics.Put(ctx, sc.account, sc.region, sc.namespace, ds...); err != nil && ctx.Err() == nil {
			s.log.Debug("events: metrics", "err", err)
		}
	}
}

// invoke delivers d and records the invocation: its outcome on the timeline,
// and, on a first attempt, in the Invocations metric.
func (s *Service) invoke(ctx context.Context, d *Delivery, attempt int) error {
	ctx = timeline.WithCause(ctx, d.EventID)
	err := s.deliver(ctx, d)
	s.invoked(ctx, d, attempt, err)
	return err
}

// invoked records an invocation of d that ended with err, as invoke does.
// ctx carries d's event as the cause.
func (s *Service) invoked(ctx context.Context, d *Delivery, attempt int, err error) {
	if s.obs.tl != nil {
		target := awsapi.ToString(d.Target.Arn)
		e := timeline.Entry{Kind: "Invocation", Resource: target, Subject: d.EventID, Outcome: timeline.OK}
		if err == nil {
			kind, name := viaParts(d)
			e.Detail = kind + name + " delivered to " + target // one concatenation: every delivery has one
		} else {
			e.Outcome, e.Error = timeline.Failed, err.Error()
			e.Detail = fmt.Sprintf("%s could not deliver to %s (attempt %d; retried under the target's retry policy)", via(d), target, attempt)
		}
		if d.EventID == "" {
			e.Subject = d.ScheduleArn
		}
		s.hop(ctx, e)
	}
	if attempt == 1 && d.RuleArn != "" {
		s.count(d.Account, d.Region, d.RuleArn, "Invocations", 1)
	}
	// A schedule's every attempt counts, and each one its target refused.
	s.countSchedule(d, "InvocationAttemptCount")
	if err != nil {
		s.countSchedule(d, "TargetErrorCount")
	}
}

// via names what made d: "rule <name>", "schedule <name>" or "event".
func via(d *Delivery) string {
	kind, name := viaParts(d)
	return kind + name
}

// viaParts is via in two parts, for callers that concatenate it with more.
func viaParts(d *Delivery) (kind, name string) {
	if d.RuleArn != "" {
		_, name := ruleOfArn(d.RuleArn)
		return "rule ", name
	}
	if d.ScheduleArn != "" {
		return "schedule ", d.ScheduleArn[strings.LastIndexByte(d.ScheduleArn, '/')+1:]
	}
	return "event", ""
}

// gaveUp records a delivery that failed permanently, and whether it reached
// the target's dead-letter queue (dlqErr nil) or not.
func (s *Service) gaveUp(ctx context.Context, r *retry, dlq string, dlqErr error) {
	d := &r.Delivery
	target := awsapi.ToString(d.Target.Arn)
	subject := d.EventID
	if subject == "" {
		subject = d.ScheduleArn
	}
	s.hop(ctx, timeline.Entry{Kind: "InvocationFailed", Resource: target, Subject: subject, Outcome: timeline.Failed,
		Error: r.LastError, Detail: fmt.Sprintf("%s gave up on %s after %d attempt(s)", via(d), target, r.Attempts)})
	if d.RuleArn != "" {
		s.count(d.Account, d.Region, d.RuleArn, "FailedInvocations", 1)
	}
	s.countSchedule(d, "InvocationDroppedCount")
	if dlq == "" {
		return
	}
	e := timeline.Entry{Kind: "DeadLettered", Resource: dlq, Subject: subject, Outcome: timeline.OK,
		Detail: fmt.Sprintf("sent to dead-letter queue %s", dlq)}
	name := "InvocationsSentToDlq"
	if dlqErr != nil {
		e.Outcome, e.Error, e.Detail = timeline.Failed, dlqErr.Error(), fmt.Sprintf("could not send to dead-letter queue %s", dlq)
		name = "InvocationsFailedToBeSentToDlq"
	}
	s.hop(ctx, e)
	if d.RuleArn != "" {
		s.count(d.Account, d.Region, d.RuleArn, name, 1)
	}
	if dlqErr != nil {
		s.countSchedule(d, "InvocationsFailedToBeSentToDeadLetterCount")
	} else {
		s.countSchedule(d, "InvocationsSentToDeadLetterCount")
	}
}

// matched records the rules an event matched, or that it matched none, and
// counts MatchedEvents and TriggeredRules.
func (s *Service) matched(ctx context.Context, p pending, id string, ms []match) {
	if len(ms) == 0 {
		if p.Rule != "" {
			return // a schedule rule deleted since it fired
		}
		s.hop(ctx, timeline.Entry{Kind: "NoRuleMatched", Resource: busArn(p.Account, p.Region, p.Bus), Subject: id,
			Detail: fmt.Sprintf("event matched no rule on bus %s", p.Bus)})
		return
	}
	if s.obs.tl != nil {
		for _, m := range ms {
			detail := "event matched rule " + m.name + " (" + strconv.Itoa(len(m.targets)) + " target(s))"
			if p.Rule != "" {
				detail = "schedule rule " + m.name + " fired (" + strconv.Itoa(len(m.targets)) + " target(s))"
			}
			s.hop(ctx, timeline.Entry{Kind: "RuleMatched", Resource: m.arn, Subject: id, Detail: detail})
		}
	}
	if s.obs.metrics == nil {
		return
	}
	// Every event's counts under one lock.
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	if s.obs.counts == nil {
		s.obs.counts = map[metricKey]float64{}
	}
	for _, m := range ms {
		// TriggeredRules as count adds it: account-wide and per rule.
		bus, rule := ruleOfArn(m.arn)
		s.obs.counts[metricKey{account: m.account, region: m.region, name: "TriggeredRules"}]++
		if rule != "" {
			s.obs.counts[metricKey{account: m.account, region: m.region, name: "TriggeredRules", bus: bus, rule: rule}]++
		}
		s.obs.counts[metricKey{account: m.account, region: m.region, name: "MatchedEvents", bus: bus, rule: rule}]++
	}
	// Account-wide, MatchedEvents counts events, TriggeredRules rules.
	s.obs.counts[metricKey{account: p.Account, region: p.Region, name: "MatchedEvents"}]++
}

// missedFiring is a schedule rule's periods that passed while wharf was not
// looking (stopped, or its clock moved ahead): EventBridge does not catch up,
// so they were collapsed into the firing at first.
type missedFiring struct {
	rule        string
	first, last time.Time
	skipped     int
}

// missedFirings records the firings a schedule rule did not make.
func (s *Service) missedFirings(ctx context.Context, m missedFiring) {
	_, name := ruleOfArn(m.rule)
	s.hop(ctx, timeline.Entry{Kind: "ScheduleMissed", Resource: m.rule, Outcome: timeline.Failed,
		Error: fmt.Sprintf("%d firing(s) missed", m.skipped),
		Detail: fmt.Sprintf("schedule rule %s fired once for the periods from %s to %s: %d firing(s) in between were missed (EventBridge does not catch up)",
			name, m.first.UTC().Format(time.RFC3339), m.last.UTC().Format(time.RFC3339), m.skipped)})
}
