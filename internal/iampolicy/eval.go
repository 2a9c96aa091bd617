package iampolicy

import (
	"fmt"
	"strings"
)

// Context holds a request's condition keys (aws:SourceIp, s3:prefix, ...),
// each with one value or, for multivalued keys (aws:TagKeys), several. Keys
// are matched case-insensitively, as IAM matches them.
type Context map[string][]string

// Set sets key to vals.
func (c Context) Set(key string, vals ...string) { c[strings.ToLower(key)] = vals }

// Principal is who makes a request.
type Principal struct {
	// ARN is the principal: arn:aws:iam::ACCOUNT:root, an IAM user, or an
	// assumed-role session (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION).
	// Empty for a service principal.
	ARN     string
	Account string
	// RoleARN is, for an assumed-role session, the role's ARN: a resource
	// policy naming the role grants to every session of it.
	RoleARN string
	// Service is the service principal acting ("events.amazonaws.com").
	Service string
	// Anonymous marks an unsigned request (S3): no account and no
	// policies of its own; only a resource policy granting everyone ("*")
	// lets it in.
	Anonymous bool
}

// Root reports whether p is an account's root user.
func (p Principal) Root() bool {
	return strings.HasPrefix(p.ARN, "arn:aws:iam::") && strings.HasSuffix(p.ARN, ":root")
}

// Named is a policy with the name its decisions report (an inline policy's
// name, a managed policy's ARN, "bucket policy").
type Named struct {
	Name   string
	Policy *Policy
}

// Policies are every policy that applies to one request.
type Policies struct {
	// Identity are the principal's identity-based policies: inline and
	// attached managed policies of the user or role (and its groups).
	Identity []Named
	// Resource are the resource's resource-based policies (bucket, queue,
	// topic, trust policy); usually none or one.
	Resource []Named
	// Boundary is the principal's permissions boundary, nil when it has none.
	Boundary *Named
	// Session are the session policies the credentials were issued with;
	// nil when none were passed.
	Session []Named
	// IdentitySet, when set, is Identity compiled (NewSet(Identity)):
	// Evaluate then finds the statements an action can match across all of
	// them at once.
	IdentitySet *Set
}

// Empty reports whether p holds no policy at all.
func (p Policies) Empty() bool {
	return len(p.Identity) == 0 && len(p.Resource) == 0 && p.Boundary == nil && len(p.Session) == 0 && p.IdentitySet == nil
}

// Reads reports whether a policy of p reads the condition key key.
func (p Policies) Reads(key string) bool {
	return p.any(func(s *Set) bool { return s.Reads(key) }, func(pol *Policy) bool { return pol.Reads(key) })
}

// NeedsResourceTags reports whether a policy of p reads aws:ResourceTag keys
// (or a service's own form of them): only then are the resource's tags read.
func (p Policies) NeedsResourceTags() bool {
	return p.any((*Set).NeedsResourceTags, (*Policy).NeedsResourceTags)
}

// NeedsObjectTags reports whether a policy of p reads s3:ExistingObjectTag
// keys.
func (p Policies) NeedsObjectTags() bool {
	return p.any((*Set).NeedsObjectTags, (*Policy).NeedsObjectTags)
}

// any reports whether a policy of p answers true, asking the IdentitySet
// (inSet) in place of each identity policy when there is one.
func (p Policies) any(inSet func(*Set) bool, of func(*Policy) bool) bool {
	if p.IdentitySet != nil {
		if inSet(p.IdentitySet) {
			return true
		}
	} else {
		for _, n := range p.Identity {
			if of(n.Policy) {
				return true
			}
		}
	}
	for _, set := range [][]Named{p.Resource, p.Session} {
		for _, n := range set {
			if of(n.Policy) {
				return true
			}
		}
	}
	return p.Boundary != nil && of(p.Boundary.Policy)
}

// Request is what is being decided.
type Request struct {
	Principal Principal
	Action    string // service:Action
	Resource  string // the resource's ARN, or "*"
	// ResourceAccount owns the resource; empty means the principal's account.
	ResourceAccount string
	// RequireResource makes the resource policy's grant necessary even
	// within the account, as a role's trust policy is for AssumeRole.
	RequireResource bool
	Context         Context
	// Base holds more condition keys, read when Context lacks a key: the
	// principal's own (aws:PrincipalArn, tags), shared by every request
	// of the principal and never changed.
	Base Context

	action string // Action lower-cased, set by Evaluate
}

// Policy types, as AWS names them in access denied messages.
const (
	TypeIdentity = "identity-based"
	TypeResource = "resource-based"
	TypeBoundary = "permissions boundary"
	TypeSession  = "session"
)

// Decision is the outcome of Evaluate and why.
type Decision struct {
	Allowed bool
	// Explicit is set when a Deny statement decided; Type, Policy and Sid
	// name it. For an implicit deny Type is the kind of policy that did not
	// allow the request.
	Explicit bool
	Type     string
	Policy   string
	Sid      string
}

// Reason is the end of AWS's access denied message: "with an explicit deny in
// a resource-based policy" or "because no identity-based policy allows the
// s3:GetObject action". It is empty for an allow.
func (d Decision) Reason(action string) string {
	if d.Allowed {
		return ""
	}
	article := "an"
	if d.Type != TypeIdentity {
		article = "a"
	}
	pol := " policy"
	if d.Type == TypeBoundary {
		pol = ""
	}
	// Concatenated, not formatted: audit mode records a reason for every
	// denied request.
	if d.Explicit {
		return "with an explicit deny in " + article + " " + d.Type + pol
	}
	return "because no " + d.Type + pol + " allows the " + action + " action"
}

// Detail names the statement that decided, for logs: `policy "x" statement "Sid"`.
func (d Decision) Detail() string {
	switch {
	case d.Allowed:
		return "allowed"
	case d.Explicit && d.Sid != "":
		return fmt.Sprintf("%s policy %q statement %q denied", d.Type, d.Policy, d.Sid)
	case d.Explicit:
		return fmt.Sprintf("%s policy %q denied", d.Type, d.Policy)
	}
	return "no " + d.Type + " policy allowed"
}

// Message is AWS's access denied message for a request this decision denied.
func (d Decision) Message(r *Request) string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", r.Principal.Name(), r.Action, r.Resource, d.Reason(r.Action))
}

// Name is how denials name p: its ARN, its service, or "anonymous".
func (p Principal) Name() string {
	switch {
	case p.ARN != "":
		return p.ARN
	case p.Anonymous:
		return "anonymous"
	}
	return p.Service
}

// grant is how an Allow statement of a resource policy matched the principal.
type grant int

const (
	noGrant      grant = iota
	grantAccount       // the principal's account (arn:aws:iam::ACCOUNT:root or the id)
	grantRole          // the role of an assumed-role session
	grantDirect        // the principal itself: user ARN, session ARN, service, or "*"
)

// Evaluate decides r against p as AWS's policy evaluation logic does.
func Evaluate(r *Request, p Policies) Decision {
	var ids *setCandidates
	if p.IdentitySet != nil {
		ids = p.IdentitySet.candidates(r.Action)
		r.action = ids.lower
	} else {
		r.action = strings.ToLower(r.Action)
	}
	vars := variables(r)
	// 1. An explicit deny in any policy decides.
	for _, set := range []struct {
		typ string
		ps  []Named
	}{{TypeResource, p.Resource}, {TypeIdentity, p.Identity}, {TypeBoundary, boundary(p)}, {TypeSession, p.Session}} {
		if set.typ == TypeIdentity && ids != nil {
			if n, s := p.IdentitySet.first(ids.deny, r, vars); s != nil {
				return Decision{Explicit: true, Type: TypeIdentity, Policy: n.Name, Sid: s.Sid}
			}
			continue
		}
		for _, n := range set.ps {
			if s := n.Policy.find(Deny, r, vars, set.typ == TypeResource); s != nil {
				return Decision{Explicit: true, Type: set.typ, Policy: n.Name, Sid: s.Sid}
			}
		}
	}

	// 2. Resource-based policies.
	best := noGrant
	for _, n := range p.Resource {
		if g := n.Policy.grants(r, vars); g > best {
			best = g
		}
	}
	pr := r.Principal
	crossAccount := r.ResourceAccount != "" && r.ResourceAccount != pr.Account
	if pr.ARN == "" { // a service principal or anonymous: only a resource policy grants it
		if best >= grantDirect {
			return Decision{Allowed: true}
		}
		return Decision{Type: TypeResource}
	}
	if (crossAccount || r.RequireResource) && best == noGrant {
		return Decision{Type: TypeResource}
	}
	if pr.Root() {
		// The root user is not limited by identity policies of its own
		// account; in another account it needs the resource policy's grant,
		// which it has here.
		return Decision{Allowed: true}
	}
	sessionUnlimited := false
	if !crossAccount && best == grantDirect {
		// Within an account, a resource policy naming the user or the
		// session itself is enough: an implicit deny in the identity policy,
		// boundary or session policy does not limit it.
		if !strings.Contains(pr.ARN, ":assumed-role/") || p.Session == nil {
			return Decision{Allowed: true}
		}
		sessionUnlimited = true
	}
	// 3. Identity-based policies, unless a same-account resource policy named
	// the role (then boundaries and session policies still apply).
	identityOK := !crossAccount && best >= grantRole
	if !identityOK && ids != nil {
		_, s := p.IdentitySet.first(ids.allow, r, vars)
		identityOK = s != nil
	} else if !identityOK {
		for _, n := range p.Identity {
			if n.Policy.find(Allow, r, vars, false) != nil {
				identityOK = true
				break
			}
		}
	}
	if !identityOK {
		return Decision{Type: TypeIdentity}
	}
	// 4. The permissions boundary.
	if p.Boundary != nil && !sessionUnlimited && p.Boundary.Policy.find(Allow, r, vars, false) == nil {
		return Decision{Type: TypeBoundary, Policy: p.Boundary.Name}
	}
	// 5. Session policies.
	if p.Session != nil && !sessionUnlimited {
		ok := false
		for _, n := range p.Session {
			if n.Policy.find(Allow, r, vars, false) != nil {
				ok = true
				break
			}
		}
		if !ok {
			return Decision{Type: TypeSession}
		}
	}
	return Decision{Allowed: true}
}

func boundary(p Policies) []Named {
	if p.Boundary == nil {
		return nil
	}
	return []Named{*p.Boundary}
}

// variables resolves policy variables from the request context, plus the
// principal's own keys.
func variables(r *Request) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := r.value(strings.ToLower(name)); ok && len(v) == 1 {
			return v[0], true
		}
		return "", false
	}
}

// value returns the condition key lkey (lower-cased) from r's Context, else
// from its Base.
func (r *Request) value(lkey string) ([]string, bool) {
	if v, ok := r.Context[lkey]; ok {
		return v, true
	}
	v, ok := r.Base[lkey]
	return v, ok
}

// find returns the first statement of effect e that applies to r, or nil.
// Principals are checked only in resource policies.
func (pol *Policy) find(e Effect, r *Request, vars func(string) (string, bool), resource bool) *Statement {
	if pol.Version != Version2012 {
		vars = nil // variables are literal text in 2008-10-17 policies
	}
	act := r.action
	if act == "" {
		act = strings.ToLower(r.Action)
	}
	var found *Statement
	pol.candidates(act, func(i int) bool {
		s := &pol.Statements[i]
		if s.Effect != e {
			return true
		}
		if resource && s.principal(r.Principal) == noGrant {
			return true
		}
		if s.applies(r, vars) {
			found = s
			return false
		}
		return true
	})
	return found
}

// grants returns how the strongest applicable Allow statement of a resource
// policy names r's principal.
func (pol *Policy) grants(r *Request, vars func(string) (string, bool)) grant {
	if pol.Version != Version2012 {
		vars = nil
	}
	best := noGrant
	for i := range pol.Statements {
		s := &pol.Statements[i]
		if s.Effect != Allow {
			continue
		}
		if g := s.principal(r.Principal); g > best && s.applies(r, vars) {
			best = g
		}
	}
	return best
}

// applies reports whether s's action, resource and conditions match r.
func (s *Statement) applies(r *Request, vars func(string) (string, bool)) bool {
	matched := false
	act := r.action
	if act == "" {
		act = strings.ToLower(r.Action)
	}
	for _, a := range s.actions {
		if Match(a, act, false) {
			matched = true
			break
		}
	}
	if matched == s.NotAction {
		return false
	}
	if s.Resources != nil {
		matched = false
		for _, pat := range s.Resources {
			pat, ok := substitute(pat, vars, true)
			if ok && Match(pat, r.Resource, false) {
				matched = true
				break
			}
		}
		if matched == s.NotResource {
			return false
		}
	}
	for i := range s.Conditions {
		if !s.Conditions[i].eval(r, vars) {
			return false
		}
	}
	return true
}

// principal returns how s's Principal (or NotPrincipal) names p.
func (s *Statement) principal(p Principal) grant {
	g := s.names(p)
	if s.NotPrincipal {
		if g == noGrant {
			return grantDirect
		}
		return noGrant
	}
	return g
}

func (s *Statement) names(p Principal) grant {
	if !s.HasPrincipal {
		return noGrant
	}
	if s.AnyPrincipal {
		return grantDirect
	}
	best := noGrant
	for _, v := range s.Principals["AWS"] {
		var g grant
		switch {
		case p.Anonymous:
			if v == "*" {
				g = grantDirect
			}
		case p.ARN == "":
		case v == "*":
			g = grantDirect
		case v == p.ARN:
			g = grantDirect
		case v == p.RoleARN && p.RoleARN != "":
			g = grantRole
		case v == p.Account || v == "arn:aws:iam::"+p.Account+":root":
			if p.Root() {
				g = grantDirect
			} else {
				g = grantAccount
			}
		}
		if g > best {
			best = g
		}
	}
	for _, v := range s.Principals["Service"] {
		if p.Service != "" && v == p.Service {
			best = grantDirect
		}
	}
	return best
}
