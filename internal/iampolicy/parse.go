// Package iampolicy parses IAM policy documents and decides requests against
// them as AWS documents it ("Policy evaluation logic"): explicit deny first,
// then resource-based policies, identity-based policies, permissions
// boundaries and session policies, with the same-account and cross-account
// rules and the root user's exemptions. It knows nothing of wharf's services:
// callers give it the documents and a request context.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/accountid"
	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/jsonlimit"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
)

// Kind is where a policy is attached, which decides whether it may or must
// name a Principal.
type Kind int

// Policy kinds.
const (
	// Identity policies (inline, managed, boundaries, session policies) must
	// not name a principal: the principal is whoever they are attached to.
	Identity Kind = iota
	// Resource policies (bucket, queue, topic, role trust) must name one.
	Resource
)

// Limits on a document before it is parsed. IAM's own size quotas (2,048
// characters inline for users, 6,144 managed, 20 KB bucket policies ...) are
// the caller's to check, with each service's message; these only keep a
// hostile document from costing more than any real one.
const (
	MaxSize  = 1 << 20
	maxDepth = 16 // a policy nests at most Statement[] → Condition → operator → key → values[]
)

// Version strings a policy may declare.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed policy document.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
	// keys are the condition keys the policy reads, in conditions or as
	// policy variables, lower-cased: callers compute the costly keys of a
	// request (a resource's tags, DynamoDB's leading keys) only for policies
	// that read them.
	keys map[string]bool
	// resourceTags is set when a key of keys is an aws:ResourceTag one (or
	// a service's own form, ecs:ResourceTag).
	resourceTags bool

	ix *actionIndex // built by Parse; nil checks every statement
}

// NeedsResourceTags reports whether the policy reads aws:ResourceTag keys
// (or a service's own form of them, ecs:ResourceTag/KEY),
// as a condition key or a policy variable: a request's resource tags need to
// be in its Context only for such policies.
func (p *Policy) NeedsResourceTags() bool { return p != nil && p.resourceTags }

// Reads reports whether the policy reads the condition key key.
func (p *Policy) Reads(key string) bool { return p != nil && readsKey(p.keys, key) }

// policyVariable finds ${key} in a policy's text.
var policyVariable = lazyregexp.New(`\$\{([^}]*)\}`)

// NeedsObjectTags reports whether the policy reads s3:ExistingObjectTag
// keys: an object's tags are read for a request only for such policies.
func (p *Policy) NeedsObjectTags() bool {
	if p == nil {
		return false
	}
	for k := range p.keys {
		if strings.HasPrefix(k, "s3:existingobjecttag/") {
			return true
		}
	}
	return false
}

// Effect is Allow or Deny.
type Effect string

// Effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Actions are the Action (or, with NotAction set, NotAction) patterns.
	Actions   []string
	NotAction bool
	actions   []string // Actions lower-cased once: actions match case-insensitively
	// Resources are the Resource (or NotResource) patterns; none means the
	// statement names no resource (trust policies).
	Resources   []string
	NotResource bool
	// Principals are Principal (or NotPrincipal) by type ("AWS", "Service",
	// "Federated", "CanonicalUser"); AnyPrincipal is "Principal": "*".
	Principals   map[string][]string
	AnyPrincipal bool
	NotPrincipal bool
	HasPrincipal bool
	Conditions   []Condition
}

// Condition is one key of one operator block: "StringEquals": {"aws:SourceArn": [...]}.
type Condition struct {
	Operator string // as written: "ForAnyValue:StringLikeIfExists"
	op       *operator
	set      string // "", "ForAllValues", "ForAnyValue"
	ifExists bool
	Key      string
	Values   []string
	lkey     string // Key lower-cased, as Context holds keys; set by Parse
	vars     bool   // a value holds a policy variable; set by Parse
}

// hasVariable reports whether a value may hold a policy variable.
func hasVariable(vals []string) bool {
	for _, v := range vals {
		if strings.Contains(v, "${") {
			return true
		}
	}
	return false
}

func malformed(format string, args ...any) error {
	return apierr.New("MalformedPolicyDocument", 400, format, args...)
}

// Parse parses doc as a policy of kind k. Errors are MalformedPolicyDocument
// API errors with IAM's messages.
func Parse(doc string, k Kind) (*Policy, error) {
	if len(doc) > MaxSize {
		return nil, malformed("Policy document is too large.")
	}
	if jsonlimit.Depth([]byte(doc), maxDepth) > maxDepth {
		return nil, malformed("Syntax errors in policy.")
	}
	var raw map[string]json.RawMessage
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil || raw == nil {
		return nil, malformed("Syntax errors in policy.")
	}
	if d.More() {
		return nil, malformed("Syntax errors in policy.")
	}
	p := &Policy{Version: Version2008}
	for key, v := range raw {
		switch key {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil || (p.Version != Version2012 && p.Version != Version2008) {
				return nil, malformed("The policy failed legacy parsing")
			}
		case "Id":
			if err := json.Unmarshal(v, &p.ID); err != nil {
				return nil, malformed("Syntax errors in policy.")
			}
		case "Statement":
		default:
			return nil, malformed("Syntax errors in policy.")
		}
	}
	st, ok := raw["Statement"]
	if !ok {
		return nil, malformed("Missing required field Statement")
	}
	var list []json.RawMessage
	if t := bytes.TrimSpace(st); len(t) > 0 && t[0] == '{' {
		list = []json.RawMessage{st}
	} else if err := json.Unmarshal(st, &list); err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	sids := map[string]bool{}
	for _, r := range list {
		s, err := parseStatement(r, k)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed("Statement IDs (SID) in a single policy must be unique")
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	p.keys = map[string]bool{}
	for i := range p.Statements {
		for _, c := range p.Statements[i].Conditions {
			p.keys[strings.ToLower(c.Key)] = true
		}
	}
	for _, m := range policyVariable.FindAllStringSubmatch(doc, -1) {
		name, _, _ := strings.Cut(m[1], ",") // ${key, 'default'}
		p.keys[strings.ToLower(strings.TrimSpace(name))] = true
	}
	p.index()
	for k := range p.keys {
		// aws:ResourceTag/KEY, or a service's own form (ecs:ResourceTag/KEY).
		if strings.Contains(k, ":resourcetag/") {
			p.resourceTags = true
		}
	}
	return p, nil
}

func parseStatement(r json.RawMessage, k Kind) (Statement, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r, &raw); err != nil || raw == nil {
		return Statement{}, malformed("Syntax errors in policy.")
	}
	var s Statement
	for key := range raw {
		switch key {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition":
		default:
			return s, malformed("Syntax errors in policy.")
		}
	}
	if v, ok := raw["Sid"]; ok {
		if err := json.Unmarshal(v, &s.Sid); err != nil {
			return s, malformed("Syntax errors in policy.")
		}
	}
	v, ok := raw["Effect"]
	if !ok {
		return s, malformed("Missing required field Effect")
	}
	var eff string
	if err := json.Unmarshal(v, &eff); err != nil {
		return s, malformed("Syntax errors in policy.")
	}
	if eff != string(Allow) && eff != string(Deny) {
		return s, malformed("Invalid effect: %s", eff)
	}
	s.Effect = Effect(eff)

	var err error
	if s.Actions, s.NotAction, err = pair(raw, "Action", "NotAction"); err != nil {
		return s, err
	}
	if s.Actions == nil {
		return s, malformed("Policy statement must contain actions.")
	}
	for _, a := range s.Actions {
		if a != "*" && !strings.Contains(a, ":") {
			return s, malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
		s.actions = append(s.actions, strings.ToLower(a))
	}
	if s.Resources, s.NotResource, err = pair(raw, "Resource", "NotResource"); err != nil {
		return s, err
	}
	_, hasP := raw["Principal"]
	_, hasNP := raw["NotPrincipal"]
	switch {
	case hasP && hasNP:
		return s, malformed("Syntax errors in policy.")
	case k == Identity && (hasP || hasNP):
		return s, malformed("Policy document should not specify a principal.")
	case k == Resource && !hasP && !hasNP:
		return s, malformed("Missing required field Principal")
	case k == Identity && s.Resources == nil:
		return s, malformed("Policy statement must contain resources.")
	}
	if hasP || hasNP {
		s.HasPrincipal, s.NotPrincipal = true, hasNP
		pv := raw["Principal"]
		if hasNP {
			pv = raw["NotPrincipal"]
		}
		if s.Principals, s.AnyPrincipal, err = parsePrincipal(pv); err != nil {
			return s, err
		}
	}
	if c, ok := raw["Condition"]; ok {
		if s.Conditions, err = parseConditions(c); err != nil {
			return s, err
		}
	}
	return s, nil
}

// pair reads one of two mutually exclusive elements (Action/NotAction).
func pair(raw map[string]json.RawMessage, name, notName string) ([]string, bool, error) {
	v, has := raw[name]
	nv, hasNot := raw[notName]
	if has && hasNot {
		return nil, false, malformed("Syntax errors in policy.")
	}
	if !has && !hasNot {
		return nil, false, nil
	}
	if hasNot {
		v = nv
	}
	list, err := stringList(v)
	if err != nil {
		return nil, false, err
	}
	if len(list) == 0 {
		return nil, false, malformed("Syntax errors in policy.")
	}
	return list, hasNot, nil
}

// stringList reads a string or a list of strings.
func stringList(v json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	if list == nil {
		list = []string{}
	}
	return list, nil
}

func parsePrincipal(v json.RawMessage) (map[string][]string, bool, error) {
	var star string
	if err := json.Unmarshal(v, &star); err == nil {
		if star != "*" {
			return nil, false, malformed("Invalid principal in policy")
		}
		return nil, true, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || len(m) == 0 {
		return nil, false, malformed("Invalid principal in policy")
	}
	out := map[string][]string{}
	for typ, vals := range m {
		switch typ {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, false, malformed("Invalid principal in policy")
		}
		list, err := stringList(vals)
		if err != nil || len(list) == 0 {
			return nil, false, malformed("Invalid principal in policy")
		}
		for _, p := range list {
			if typ == "AWS" && p != "*" && !accountid.Valid(p) && !strings.HasPrefix(p, "arn:") {
				return nil, false, malformed("Invalid principal in policy: \"AWS\":\"%s\"", p)
			}
		}
		out[typ] = list
	}
	return out, false, nil
}

func parseConditions(v json.RawMessage) ([]Condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &ops); err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	var out []Condition
	for name, keys := range ops {
		op, set, ifExists, ok := lookupOperator(name)
		if !ok {
			return nil, malformed("Invalid Condition type : %s", name)
		}
		for key, raw := range keys {
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, err
			}
			if op.name == "Null" && set != "" {
				return nil, malformed("Invalid Condition type : %s", name)
			}
			out = append(out, Condition{Operator: name, op: op, set: set, ifExists: ifExists, Key: key, Values: vals,
				lkey: strings.ToLower(key), vars: hasVariable(vals)})
		}
	}
	// Map order is random; evaluation order must not be, so reasons are stable.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// conditionValues reads a condition's value or values: strings, numbers and
// booleans are all written as their JSON text ("Bool": {"aws:SecureTransport": false}).
func conditionValues(raw json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, malformed("Syntax errors in policy.")
		}
	} else {
		list = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(list))
	for _, r := range list {
		var v any
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, malformed("Syntax errors in policy.")
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, strconv.FormatBool(x))
		default:
			return nil, malformed("Syntax errors in policy.")
		}
	}
	return out, nil
}

// String renders the condition for reasons: StringEquals aws:SourceArn.
func (c Condition) String() string { return fmt.Sprintf("%s %s", c.Operator, c.Key) }
