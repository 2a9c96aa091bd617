package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/store"
)

// Composite alarms are stored with the metric alarms (an alarm with a Rule),
// since names are shared between the two kinds and tags, deletion and
// SetAlarmState treat them alike. After each pass over the metric alarms,
// every composite alarm's rule is evaluated over the current states of the
// alarms it names: TRUE puts it in ALARM, FALSE in OK ("Create a composite
// alarm" in the CloudWatch User Guide).

// maxRuleLength is AlarmRule's limit in the model.
const maxRuleLength = 10240

// ruleNode is a parsed alarm rule.
type ruleNode struct {
	op    string // "AND", "OR", "NOT", "STATE", "CONST"
	kids  []*ruleNode
	state string // STATE: ALARM, OK or INSUFFICIENT_DATA
	name  string // STATE: the alarm's name (or ARN, as written)
	val   bool   // CONST
}

type ruleParser struct {
	s     string
	i     int
	depth int
}

func parseRule(rule string) (*ruleNode, error) {
	p := &ruleParser{s: rule}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.fail()
	}
	return n, nil
}

func (p *ruleParser) fail() error {
	return invalidValue("Error in alarm rule: unexpected input at position %d.", p.i+1)
}

func (p *ruleParser) space() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\r\n", rune(p.s[p.i])) {
		p.i++
	}
}

// word consumes kw (case-sensitive, as CloudWatch's keywords are upper case)
// when it is followed by a non-identifier character.
func (p *ruleParser) word(kw string) bool {
	p.space()
	if !strings.HasPrefix(p.s[p.i:], kw) {
		return false
	}
	j := p.i + len(kw)
	if j < len(p.s) && (isWordChar(p.s[j])) {
		return false
	}
	p.i = j
	return true
}

func isWordChar(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func (p *ruleParser) or() (*ruleNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.word("OR") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &ruleNode{op: "OR", kids: []*ruleNode{l, r}}
	}
	return l, nil
}

func (p *ruleParser) and() (*ruleNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.word("AND") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &ruleNode{op: "AND", kids: []*ruleNode{l, r}}
	}
	return l, nil
}

func (p *ruleParser) unary() (*ruleNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 100 {
		return nil, invalidValue("Error in alarm rule: expressions are nested too deeply.")
	}
	switch {
	case p.word("NOT"):
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &ruleNode{op: "NOT", kids: []*ruleNode{n}}, nil
	case p.word("TRUE"):
		return &ruleNode{op: "CONST", val: true}, nil
	case p.word("FALSE"):
		return &ruleNode{op: "CONST", val: false}, nil
	}
	for _, st := range []string{stateAlarm, stateOK, stateInsufficient} {
		if p.word(st) {
			return p.call(st)
		}
	}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.fail()
		}
		p.i++
		return n, nil
	}
	return nil, p.fail()
}

// call parses "(name)" after a state function; the name is quoted, or runs
// to the closing parenthesis.
func (p *ruleParser) call(state string) (*ruleNode, error) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, p.fail()
	}
	p.i++
	p.space()
	var name string
	if p.i < len(p.s) && p.s[p.i] == '"' {
		j := strings.IndexByte(p.s[p.i+1:], '"')
		if j < 0 {
			return nil, p.fail()
		}
		name = p.s[p.i+1 : p.i+1+j]
		p.i += j + 2
		p.space()
	} else {
		j := strings.IndexByte(p.s[p.i:], ')')
		if j < 0 {
			return nil, p.fail()
		}
		name = strings.TrimSpace(p.s[p.i : p.i+j])
		p.i += j
	}
	if p.i >= len(p.s) || p.s[p.i] != ')' || name == "" {
		return nil, p.fail()
	}
	p.i++
	return &ruleNode{op: "STATE", state: state, name: name}, nil
}

// alarmName returns the name an operand refers to: a name, or an alarm ARN.
func (n *ruleNode) alarmName() string {
	if i := strings.Index(n.name, ":alarm:"); strings.HasPrefix(n.name, "arn:") && i >= 0 {
		return n.name[i+len(":alarm:"):]
	}
	return n.name
}

func (n *ruleNode) names(out []string) []string {
	if n.op == "STATE" {
		return append(out, n.alarmName())
	}
	for _, k := range n.kids {
		out = k.names(out)
	}
	return out
}

// eval evaluates the rule over states; triggering collects the operands
// that are true.
func (n *ruleNode) eval(states map[string]string, triggering *[]string) bool {
	switch n.op {
	case "CONST":
		return n.val
	case "NOT":
		return !n.kids[0].eval(states, nil)
	case "AND":
		l := n.kids[0].eval(states, triggering)
		r := n.kids[1].eval(states, triggering)
		return l && r
	case "OR":
		l := n.kids[0].eval(states, triggering)
		r := n.kids[1].eval(states, triggering)
		return l || r
	}
	ok := states[n.alarmName()] == n.state
	if ok && triggering != nil {
		*triggering = append(*triggering, n.alarmName())
	}
	return ok
}

// PutCompositeAlarm creates or replaces a composite alarm. A new one starts
// in INSUFFICIENT_DATA; the next evaluation sets it from its rule.
func (s *Service) PutCompositeAlarm(ctx context.Context, in *cwapi.PutCompositeAlarmInput) (*cwapi.PutCompositeAlarmOutput, error) {
	sc := scopeOf(ctx)
	name := awsapi.ToString(in.AlarmName)
	if name == "" || len(name) > 255 {
		return nil, invalidValue("The value %s for parameter AlarmName is invalid.", name)
	}
	rule := awsapi.ToString(in.AlarmRule)
	if rule == "" || len(rule) > maxRuleLength {
		return nil, invalidValue("The value for parameter AlarmRule must be between 1 and %d characters long.", maxRuleLength)
	}
	tree, err := parseRule(rule)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	a := &alarm{
		Name: name, ARN: "arn:aws:cloudwatch:" + sc.region + ":" + sc.account + ":alarm:" + name,
		Description: awsapi.ToString(in.AlarmDescription), ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
		OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientActs: in.InsufficientDataActions,
		Rule: rule, Suppressor: awsapi.ToString(in.ActionsSuppressor),
		SuppressorWait: awsapi.ToInt32(in.ActionsSuppressorWaitPeriod), SuppressorExtension: awsapi.ToInt32(in.ActionsSuppressorExtensionPeriod),
		ConfigUpdated: now,
	}
	if a.Suppressor == "" && (in.ActionsSuppressorWaitPeriod != nil || in.ActionsSuppressorExtensionPeriod != nil) {
		return nil, invalidCombination("ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod can only be used with ActionsSuppressor.")
	}
	for _, list := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientActs} {
		if len(list) > 5 {
			return nil, invalidValue("The collection of actions must not have a size greater than 5.")
		}
		for _, arn := range list {
			if !strings.HasPrefix(arn, "arn:") {
				return nil, invalidValue("Invalid action ARN: %s", arn)
			}
		}
	}
	for _, t := range in.Tags {
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		a.Tags[awsapi.ToString(t.Key)] = awsapi.ToString(t.Value)
	}
	err = s.st.Update(func(tx store.Tx) error {
		var missing []string
		for _, n := range tree.names(nil) {
			if n == name {
				return invalidValue("The alarm rule of %s refers to the alarm itself.", name)
			}
			child, err := s.readAlarm(tx, sc, n)
			if err != nil {
				return err
			}
			if child == nil {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return cwapi.ErrValidationError("Could not save the composite alarm as alarms [%s] in the alarm rule do not exist", strings.Join(missing, ", "))
		}
		old, err := s.readAlarm(tx, sc, name)
		if err != nil {
			return err
		}
		summary := fmt.Sprintf("Alarm %q created", name)
		if old != nil {
			if old.Rule == "" {
				return invalidValue("The alarm %s is a metric alarm; a composite alarm cannot replace it.", name)
			}
			a.State, a.Reason, a.ReasonData = old.State, old.Reason, old.ReasonData
			a.StateUpdated, a.StateTransitioned = old.StateUpdated, old.StateTransitioned
			if a.Tags == nil {
				a.Tags = old.Tags
			}
			summary = fmt.Sprintf("Alarm %q updated", name)
		} else {
			a.State, a.Reason = stateInsufficient, "Unchecked: Initial alarm creation"
			a.StateUpdated, a.StateTransitioned = now, now
		}
		if err := writeAlarm(tx, sc, a); err != nil {
			return err
		}
		return s.addHistory(tx, sc, name, now, "ConfigurationUpdate", summary, "")
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.PutCompositeAlarmOutput{}, nil
}

func (a *alarm) compositeAPI() cwapi.CompositeAlarm {
	out := cwapi.CompositeAlarm{
		AlarmName: awsapi.String(a.Name), AlarmArn: awsapi.String(a.ARN), AlarmRule: awsapi.String(a.Rule),
		AlarmConfigurationUpdatedTimestamp: timePtr(a.ConfigUpdated),
		ActionsEnabled:                     awsapi.Bool(a.ActionsEnabled),
		OKActions:                          nonNilList(a.OKActions), AlarmActions: nonNilList(a.AlarmActions), InsufficientDataActions: nonNilList(a.InsufficientActs),
		StateValue: awsapi.String(a.State), StateReason: awsapi.String(a.Reason),
		StateUpdatedTimestamp: timePtr(a.StateUpdated), StateTransitionedTimestamp: timePtr(a.StateTransitioned),
	}
	if a.Description != "" {
		out.AlarmDescription = awsapi.String(a.Description)
	}
	if a.ReasonData != "" {
		out.StateReasonData = awsapi.String(a.ReasonData)
	}
	if a.Suppressor != "" {
		out.ActionsSuppressor = awsapi.String(a.Suppressor)
		out.ActionsSuppressorWaitPeriod = awsapi.Int32(a.SuppressorWait)
		out.ActionsSuppressorExtensionPeriod = awsapi.Int32(a.SuppressorExtension)
	}
	return out
}

// evaluateComposites sets every composite alarm of every account from the
// states its rule names, repeating while one composite's change can change
// another's (a bounded number of times: rules may form a cycle).
func (s *Service) evaluateComposites(ctx context.Context, now time.Time) error {
	for range 10 {
		changed := false
		var trs []*transition
		err := s.st.Update(func(tx store.Tx) error {
			type entry struct {
				sc scope
				a  alarm
			}
			var all []entry
			base := []byte("cw/a/")
			err := tx.Scan(base, nil, func(k, v []byte) (bool, error) {
				parts := strings.SplitN(string(k[len(base):]), "/", 3)
				if len(parts) != 3 {
					return true, nil
				}
				var a alarm
				if err := json.Unmarshal(v, &a); err != nil {
					return false, err
				}
				all = append(all, entry{scope{parts[0], parts[1]}, a})
				return true, nil
			})
			if err != nil {
				return err
			}
			states := map[scope]map[string]string{}
			for _, e := range all {
				if states[e.sc] == nil {
					states[e.sc] = map[string]string{}
				}
				states[e.sc][e.a.Name] = e.a.State
			}
			for i := range all {
				e := &all[i]
				if e.a.Rule == "" {
					continue
				}
				tree, err := parseRule(e.a.Rule)
				if err != nil {
					continue // stored rules were parsed when put
				}
				var triggering []string
				state := stateOK
				if tree.eval(states[e.sc], &triggering) {
					state = stateAlarm
				}
				if state == e.a.State {
					continue
				}
				reason, data := compositeReason(e.sc, e.a.Rule, state, triggering, states[e.sc], now)
				tr, err := s.transition(tx, e.sc, &e.a, state, reason, data, now)
				if err != nil {
					return err
				}
				states[e.sc][e.a.Name] = state
				changed = true
				trs = append(trs, tr)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, tr := range trs {
			s.announce(ctx, tr)
		}
		if !changed {
			return nil
		}
	}
	return nil
}

// compositeReason words a composite alarm's state reason as CloudWatch does,
// naming the alarms that made the rule true.
func compositeReason(sc scope, rule, state string, triggering []string, states map[string]string, now time.Time) (string, string) {
	if state != stateAlarm || len(triggering) == 0 {
		return fmt.Sprintf("Alarm rule %s evaluated to FALSE", rule), ""
	}
	var parts []string
	var trig []map[string]string
	for _, n := range triggering {
		arn := "arn:aws:cloudwatch:" + sc.region + ":" + sc.account + ":alarm:" + n
		parts = append(parts, arn+" transitioned to "+states[n]+" at "+now.Format(time.RFC1123))
		trig = append(trig, map[string]string{"arn": arn, "state": states[n]})
	}
	data, _ := json.Marshal(map[string]any{"triggeringAlarms": trig})
	return strings.Join(parts, ", "), string(data)
}
