// Package authz is wharf's authorization step: for each request, after it is
// decoded and before its operation runs, it finds the IAM actions and
// resources the operation needs (internal/iamaction), the policies that
// apply (the caller's identity policies, boundary and session policy, the
// resource's policy), and decides as AWS would (internal/iampolicy). In
// audit mode a denial is recorded and the request goes on; in enforce mode
// it is refused with the service's AccessDenied error.
package authz

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/iamaction"
	"github.com/wharf-dev/wharf/internal/iampolicy"
	"github.com/wharf-dev/wharf/internal/service/iam"
)

// Principals resolves a caller to its policies (IAM implements it).
type Principals interface {
	Principal(ctx context.Context, arn, accessKey string) (iam.Principal, error)
	// Generation changes whenever what Principal returns may have.
	Generation() uint64
}

// Options configure an Authorizer.
type Options struct {
	Mode       string // config.IAMOff, IAMAudit or IAMEnforce
	Logger     *slog.Logger
	Principals Principals
	// ResourcePolicy returns the resource-based policy of the resource arn
	// (a role's trust policy, a bucket, queue or topic policy), "" when it
	// has none, and the account that owns the resource when the ARN does not
	// say (S3), "" when unknown. Nil means no resource has a policy.
	ResourcePolicy func(ctx context.Context, arn string) (policy, account string, err error)
	// ResourceTags returns the tags of the resource arn (a queue, topic,
	// table, role or user), for aws:ResourceTag/KEY; nil when it has none or
	// its service does not authorize by them. Nil means no resource has tags.
	// It is called only for requests some applicable policy of which reads
	// aws:ResourceTag.
	ResourceTags func(ctx context.Context, arn string) (map[string]string, error)
	// ObjectTags returns the tags of the S3 object arn names (its current
	// version), for s3:ExistingObjectTag/KEY; nil when there is no such
	// object. Nil means objects have no tags.
	ObjectTags func(ctx context.Context, arn string) (map[string]string, error)
	// ObjectExists reports whether the S3 object arn names exists (its
	// current version), for a read of a missing object, which S3 decides by
	// s3:ListBucket (missingObject). Nil means every object exists.
	ObjectExists func(ctx context.Context, arn string) (bool, error)
	// Lookup answers the map's named lookups ({@taskdef-roles}).
	Lookup func(ctx context.Context, name string, input any) []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Keep is how many recent denials are kept for the denials endpoint
	// (default 200).
	Keep int
	// OnDenial, when set, is told of each denial as it is recorded, with the
	// request's context (the timeline records it under its cause).
	OnDenial func(ctx context.Context, d Denial)
}

// Authorizer decides requests. Its zero value is not usable; call New.
type Authorizer struct {
	o Options

	cacheMu sync.Mutex
	cache   [2]map[string]*iampolicy.Policy // parsed documents by kind and text

	times atomic.Pointer[timeValues] // the time keys of the latest second

	pmu        sync.Mutex
	principals map[callerKey]*principalEntry // by caller, valid for one IAM generation

	smu      sync.Mutex
	services map[serviceKey]*serviceEntry // AuthorizeService's decisions

	mu      sync.Mutex
	denials []Denial // ring, oldest overwritten
	next    int
}

// Denial is one request AWS would deny, as GET /_wharf/iam/denials reports it.
type Denial struct {
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
	Action    string    `json:"action"`
	Resource  string    `json:"resource"`
	// Decision is the IAM policy simulator's word: explicitDeny or implicitDeny.
	Decision string `json:"decision"`
	// Reason is AWS's: "because no identity-based policy allows the s3:GetObject action".
	Reason string `json:"reason"`
	// Detail names the statement that denied, when one did.
	Detail    string `json:"detail"`
	Refused   bool   `json:"refused"` // enforce mode refused it; audit let it through
	Service   string `json:"service"`
	Operation string `json:"operation"`
	RequestID string `json:"request_id"`
}

// New returns an authorizer for o.
func New(o Options) *Authorizer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Keep <= 0 {
		o.Keep = 200
	}
	return &Authorizer{o: o, cache: [2]map[string]*iampolicy.Policy{{}, {}}, principals: map[callerKey]*principalEntry{},
		services: map[serviceKey]*serviceEntry{}}
}

// Mode is the authorizer's mode.
func (a *Authorizer) Mode() string { return a.o.Mode }

// Authorize decides whether c may run op with input; it is the server's
// authorization hook. It returns an AccessDenied API error only in enforce
// mode.
func (a *Authorizer) Authorize(ctx context.Context, c *awsapi.Caller, op string, input any) error {
	if a.o.Mode == config.IAMOff {
		return nil
	}
	env := iamaction.Env{Region: c.Region, Account: c.Account, Ctx: ctx, Lookup: a.o.Lookup}
	// A root caller's condition keys matter only when a resource policy
	// may read them (rootAllowed): its checks are made without them first.
	rootCaller := !c.Anonymous && (iampolicy.Principal{ARN: c.ARN}).Root()
	forInput := iamaction.For
	if rootCaller {
		forInput = iamaction.Resources
	}
	checks, ok := forInput(c.Service, op, input, env)
	if !ok || len(checks) == 0 {
		if c.Anonymous && a.o.Mode == config.IAMEnforce {
			// Nothing names a resource whose policy could let an
			// unsigned request in.
			code, status := accessDenied(c.Service)
			return apierr.New(code, status, "Access Denied")
		}
		return nil
	}
	pr, pols, ctxKeys, err := a.principal(ctx, c)
	if err != nil {
		return err
	}
	if rootCaller {
		// Most requests are the account root's: with no policy of its own,
		// only a resource policy can decide otherwise, so the request's
		// condition keys are built (and every policy evaluated) only when a
		// resource has one or lies in another account.
		if pols.Empty() {
			allowed, err := a.rootAllowed(ctx, pr, checks)
			if err != nil {
				return err
			}
			if allowed {
				c.ResourcePolicyGrant = false
				return nil
			}
		}
		checks, _ = iamaction.For(c.Service, op, input, env)
	}
	now := a.o.Now()
	// The time keys are the same for every check of the request; Context
	// keys are lower case (Context.Set).
	currentTime, epochTime := a.timeKeys(now)
	sourceIP := []string{c.SourceIP}
	crossGranted, denied := false, false
	missingBucket := "" // a bucket an anonymous check named that does not exist
	for _, ch := range checks {
		// The principal's keys are shared by its requests, read-only: the
		// request's own keys go in a small map of their own.
		req := &iampolicy.Request{Principal: pr, Action: ch.Action, Resource: ch.Resource,
			ResourceAccount: arnAccount(ch.Resource), Context: make(iampolicy.Context, 3+len(ch.Context)), Base: ctxKeys}
		req.Context["aws:currenttime"] = currentTime
		req.Context["aws:epochtime"] = epochTime
		if c.SourceIP != "" {
			req.Context["aws:sourceip"] = sourceIP
		}
		if c.Temporary {
			// Only temporary credentials carry these keys; wharf issues
			// none with MFA ("AWS global condition context keys":
			// aws:MultiFactorAuthPresent, aws:TokenIssueTime).
			req.Context["aws:multifactorauthpresent"] = mfaAbsent
			if !c.TokenIssued.IsZero() {
				req.Context["aws:tokenissuetime"] = []string{c.TokenIssued.UTC().Format(time.RFC3339)}
			}
		}
		for k, v := range ch.Context {
			req.Context.Set(k, v...)
		}
		ps := pols
		// CreateBucket names a bucket that should not exist yet: one of the
		// same name owned by another account is not this request's resource
		// (S3 answers BucketAlreadyExists), so its policy has no say.
		owner := ""
		if a.o.ResourcePolicy != nil && ch.Resource != "*" && ch.Action != "s3:CreateBucket" {
			doc, o, err := a.o.ResourcePolicy(ctx, ch.Resource)
			if err != nil {
				return err
			}
			owner = o
			if owner != "" {
				req.ResourceAccount = owner
			}
			if p := a.parse(doc, iampolicy.Resource); p != nil {
				ps.Resource = []iampolicy.Named{{Name: "resource policy", Policy: p}}
			}
		}
		if ch.Action == "sts:AssumeRole" || ch.Action == "sts:TagSession" {
			// A role is assumed (and a session tagged) only if its trust
			// policy allows it, even within its account (AssumeRole, "How
			// to use trust policies", "Passing session tags in AWS STS").
			req.RequireResource = true
		}
		for _, lk := range ch.Lazy {
			if ps.Reads(lk.Key) {
				if vals := lk.Values(); len(vals) > 0 {
					req.Context.Set(lk.Key, vals...)
				}
			}
		}
		if a.o.ResourceTags != nil && ch.Resource != "*" && ps.NeedsResourceTags() {
			tags, err := a.o.ResourceTags(ctx, ch.Resource)
			if err != nil {
				return err
			}
			svcKey := serviceResourceTag[arnService(ch.Resource)]
			for k, v := range tags {
				req.Context.Set("aws:ResourceTag/"+k, v)
				if svcKey != "" {
					req.Context.Set(svcKey+k, v)
				}
			}
		}
		if a.o.ObjectTags != nil && existingObjectTagActions[ch.Action] && ps.NeedsObjectTags() {
			tags, err := a.o.ObjectTags(ctx, ch.Resource)
			if err != nil {
				return err
			}
			for k, v := range tags {
				req.Context.Set("s3:ExistingObjectTag/"+k, v)
			}
		}
		d := iampolicy.Evaluate(req, ps)
		if ch.Action == "s3:GetObject" && (op == "GetObject" || op == "HeadObject") && !d.Explicit &&
			!(d.Allowed && pr.Root() && req.ResourceAccount == c.Account) {
			lreq, ld, missing, err := a.missingObject(ctx, req, ps)
			if err != nil {
				return err
			}
			if missing && ld.Allowed && a.o.Mode == config.IAMEnforce {
				_, key, _ := strings.Cut(strings.TrimPrefix(req.Resource, "arn:aws:s3:::"), "/")
				return &apierr.Error{Code: "NoSuchKey", Status: 404, Message: "The specified key does not exist.", Fields: map[string]any{"Key": key}}
			}
			if missing {
				req, d = lreq, ld
			}
		}
		if d.Allowed {
			if req.ResourceAccount != "" && req.ResourceAccount != c.Account {
				crossGranted = true
			}
			continue
		}
		if a.s3Missing(c, ch.Action, ch.Resource, owner) {
			// S3 answers NoSuchBucket. Under enforce the answer is given
			// here, once no other check denies, rather than by letting the
			// request through: a bucket created meanwhile would otherwise
			// take an unsigned write or read its policy never allowed.
			if a.o.Mode == config.IAMEnforce && missingBucket == "" {
				missingBucket, _, _ = strings.Cut(strings.TrimPrefix(ch.Resource, "arn:aws:s3:::"), "/")
			}
			continue
		}
		a.record(ctx, c, op, req, d)
		if a.o.Mode == config.IAMEnforce {
			code, status := accessDenied(c.Service)
			if c.Anonymous {
				return apierr.New(code, status, "Access Denied") // S3 explains nothing to anonymous callers
			}
			return apierr.New(code, status, "%s", deniedMessage(c.Service, d, req))
		}
		denied = true // audit: a request with a denied check grants nothing
	}
	if missingBucket != "" {
		return &apierr.Error{Code: "NoSuchBucket", Status: 404, Message: "The specified bucket does not exist",
			Fields: map[string]any{"BucketName": missingBucket}}
	}
	// Services keep other accounts out of their resources; a resource policy
	// that let this caller in opens that door for this request.
	c.ResourcePolicyGrant = crossGranted && !denied
	return nil
}

// mfaAbsent is aws:MultiFactorAuthPresent for temporary credentials issued
// without MFA; policies only read it.
var mfaAbsent = []string{"false"}

// rootAllowed reports whether pr, the root user of its account with no
// policies of its own, is allowed every check without evaluating a policy:
// true when no check names a resource with a resource-based policy, in
// another account, or that needs its policy's grant (AssumeRole). false
// means the full evaluation decides (and records a denial).
func (a *Authorizer) rootAllowed(ctx context.Context, pr iampolicy.Principal, checks []iamaction.Check) (bool, error) {
	for _, ch := range checks {
		if ch.Action == "sts:AssumeRole" || ch.Action == "sts:TagSession" {
			return false, nil
		}
		account := arnAccount(ch.Resource)
		if a.o.ResourcePolicy != nil && ch.Resource != "*" && ch.Action != "s3:CreateBucket" {
			doc, owner, err := a.o.ResourcePolicy(ctx, ch.Resource)
			if err != nil {
				return false, err
			}
			if doc != "" {
				return false, nil
			}
			if owner != "" {
				account = owner
			}
		}
		if account != "" && account != pr.Account {
			return false, nil
		}
	}
	return true, nil
}

// timeKeys returns aws:CurrentTime and aws:EpochTime at now. Both have a
// resolution of a second, so the values are kept for the second they were
// made in rather than formatted for every request; policies only read them.
func (a *Authorizer) timeKeys(now time.Time) (currentTime, epochTime []string) {
	sec := now.Unix()
	if t := a.times.Load(); t != nil && t.sec == sec {
		return t.current, t.epoch
	}
	t := &timeValues{sec: sec, current: []string{now.UTC().Format(time.RFC3339)}, epoch: []string{strconv.FormatInt(sec, 10)}}
	a.times.Store(t)
	return t.current, t.epoch
}

// timeValues are the time condition keys of one second.
type timeValues struct {
	sec            int64
	current, epoch []string
}

// serviceResourceTag is the service's own form of aws:ResourceTag, for the
// services whose resource types list one beside it ("Actions, resources, and
// condition keys for Amazon Elastic Container Service": ecs:ResourceTag/KEY;
// "... for AWS Identity and Access Management": iam:ResourceTag/KEY), by the
// service field of the resource's ARN. Both carry the same tags.
var serviceResourceTag = map[string]string{"ecs": "ecs:ResourceTag/", "iam": "iam:ResourceTag/"}

// existingObjectTagActions are the S3 actions whose requests carry
// s3:ExistingObjectTag/KEY ("Actions, resources, and condition keys for
// Amazon S3").
var existingObjectTagActions = map[string]bool{
	"s3:GetObject": true, "s3:GetObjectVersion": true, "s3:GetObjectTagging": true, "s3:GetObjectVersionTagging": true,
	"s3:PutObjectTagging": true, "s3:PutObjectVersionTagging": true, "s3:DeleteObjectTagging": true,
	"s3:DeleteObjectVersionTagging": true, "s3:GetObjectAcl": true, "s3:GetObjectVersionAcl": true,
	"s3:PutObjectAcl": true, "s3:PutObjectVersionAcl": true, "s3:GetObjectAttributes": true,
}

// AuthorizeService decides whether the AWS service principal svc (acting for
// sourceArn of sourceAccount: a rule, a topic) may perform action on
// resource, which only the resource's policy can allow. Like Authorize it
// records a denial and refuses only in enforce mode.
//
// Every delivery between services (each of a topic's subscribers, each
// target of a rule) is decided here, and the decision depends only on its
// arguments, the resource's policy document and owner, and the time: it is
// kept (serviceEntry) and used again while the resource's policy reads the
// same and does not read the time. The policy is looked up for every call,
// so a changed one is decided anew by the next delivery.
func (a *Authorizer) AuthorizeService(ctx context.Context, svc, action, resource, sourceArn, sourceAccount string) error {
	if a.o.Mode == config.IAMOff {
		return nil
	}
	var doc, owner string
	if a.o.ResourcePolicy != nil {
		var err error
		if doc, owner, err = a.o.ResourcePolicy(ctx, resource); err != nil {
			return err
		}
	}
	key := serviceKey{svc: svc, action: action, resource: resource, sourceArn: sourceArn, sourceAccount: sourceAccount}
	a.smu.Lock()
	e := a.services[key]
	a.smu.Unlock()
	if e == nil || e.doc != doc || e.owner != owner {
		e = a.decideService(key, doc, owner)
	}
	if e.allowed {
		return nil
	}
	den := e.denial
	den.Time = a.o.Now().UTC()
	a.keep(ctx, den)
	if a.o.Mode == config.IAMEnforce {
		return apierr.New(e.code, e.status, "%s", e.message)
	}
	return nil
}

// serviceKey is what a service principal's request is kept by.
type serviceKey struct {
	svc, action, resource, sourceArn, sourceAccount string
}

// serviceEntry is AuthorizeService's decision of one serviceKey under the
// resource policy doc (and owner), with the denial it records and the
// error it refuses with, made once.
type serviceEntry struct {
	doc, owner string
	allowed    bool
	denial     Denial // all but the time
	code       string
	status     int
	message    string
}

// decideService evaluates k under the resource policy doc of owner and
// keeps the decision unless the policy reads the time, which changes it.
func (a *Authorizer) decideService(k serviceKey, doc, owner string) *serviceEntry {
	current, epoch := a.timeKeys(a.o.Now())
	// The keys as Context.Set lowers them, in one literal.
	req := &iampolicy.Request{Principal: iampolicy.Principal{Service: k.svc}, Action: k.action, Resource: k.resource,
		ResourceAccount: arnAccount(k.resource), Context: iampolicy.Context{
			"aws:sourcearn": {k.sourceArn}, "aws:sourceaccount": {k.sourceAccount},
			"aws:currenttime": current, "aws:epochtime": epoch,
		}}
	if owner != "" {
		req.ResourceAccount = owner
	}
	var ps iampolicy.Policies
	p := a.parse(doc, iampolicy.Resource)
	if p != nil {
		ps.Resource = []iampolicy.Named{{Name: "resource policy", Policy: p}}
	}
	d := iampolicy.Evaluate(req, ps)
	e := &serviceEntry{doc: doc, owner: owner, allowed: d.Allowed}
	if !d.Allowed {
		e.denial = a.denial(&awsapi.Caller{Service: strings.TrimSuffix(k.svc, ".amazonaws.com")}, "deliver", req, d)
		service := arnService(k.resource)
		e.code, e.status = accessDenied(service)
		e.message = deniedMessage(service, d, req)
	}
	if p.Reads("aws:CurrentTime") || p.Reads("aws:EpochTime") {
		return e
	}
	a.smu.Lock()
	if len(a.services) >= 4096 {
		a.services = map[serviceKey]*serviceEntry{} // bounded: start over
	}
	a.services[k] = e
	a.smu.Unlock()
	return e
}

// arnService is the service field of an ARN.
func arnService(arn string) string {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		return parts[2]
	}
	return ""
}

// callerKey is what a principalEntry is kept by: a struct, so looking one
// up builds no string.
type callerKey struct {
	root                            bool
	arn, accessKey, account, region string
}

// principalEntry is what principal learned of one caller at one IAM
// generation.
type principalEntry struct {
	gen  uint64
	root bool // a root user's, kept whatever the generation
	pr   iampolicy.Principal
	ps   iampolicy.Policies
	keys iampolicy.Context
}

// principal returns the request's principal, its policies and the condition
// keys it contributes (all but the time, which the caller adds). What IAM
// said is kept until IAM's state changes: reading and parsing a principal's
// policies on every request was most of what authorization cost.
func (a *Authorizer) principal(ctx context.Context, c *awsapi.Caller) (iampolicy.Principal, iampolicy.Policies, iampolicy.Context, error) {
	if c.Anonymous {
		keys := iampolicy.Context{}
		keys.Set("aws:PrincipalType", "Anonymous")
		keys.Set("aws:SecureTransport", "false")
		keys.Set("aws:RequestedRegion", c.Region)
		return iampolicy.Principal{Anonymous: true}, iampolicy.Policies{}, keys, nil
	}
	if a.o.Principals == nil || (iampolicy.Principal{ARN: c.ARN}).Root() {
		// A root user's entry depends on nothing IAM stores: keep it for
		// good (bounded as the others), not rebuild it on every request.
		key := callerKey{root: true, arn: c.ARN, account: c.Account, region: c.Region}
		a.pmu.Lock()
		e := a.principals[key]
		a.pmu.Unlock()
		if e == nil {
			e = a.load(c, iam.Principal{})
			e.root = true
			a.pmu.Lock()
			if len(a.principals) >= 4096 {
				a.principals = map[callerKey]*principalEntry{}
			}
			a.principals[key] = e
			a.pmu.Unlock()
		}
		return e.pr, e.ps, e.keys, nil
	}
	key := callerKey{arn: c.ARN, accessKey: c.AccessKey, account: c.Account, region: c.Region}
	gen := a.o.Principals.Generation() // before reading, so a write meanwhile invalidates
	a.pmu.Lock()
	e := a.principals[key]
	a.pmu.Unlock()
	if e != nil && e.gen == gen && !e.root {
		return e.pr, e.ps, e.keys, nil
	}
	p, err := a.o.Principals.Principal(ctx, c.ARN, c.AccessKey)
	if err != nil {
		return iampolicy.Principal{}, iampolicy.Policies{}, nil, err
	}
	e = a.load(c, p)
	e.gen = gen
	a.pmu.Lock()
	if len(a.principals) >= 4096 {
		a.principals = map[callerKey]*principalEntry{} // bounded: start over
	}
	a.principals[key] = e
	a.pmu.Unlock()
	return e.pr, e.ps, e.keys, nil
}

// load builds c's principal, policies and condition keys from what IAM said
// of it (nothing, for the root user).
func (a *Authorizer) load(c *awsapi.Caller, p iam.Principal) *principalEntry {
	pr := iampolicy.Principal{ARN: c.ARN, Account: c.Account, RoleARN: p.RoleARN}
	keys := iampolicy.Context{}
	keys.Set("aws:PrincipalArn", c.ARN)
	keys.Set("aws:PrincipalAccount", c.Account)
	keys.Set("aws:SecureTransport", "false")
	keys.Set("aws:RequestedRegion", c.Region)
	var ps iampolicy.Policies
	if pr.Root() || a.o.Principals == nil {
		keys.Set("aws:PrincipalType", "Account")
		keys.Set("aws:userid", c.Account)
		return &principalEntry{pr: pr, ps: ps, keys: keys}
	}
	if p.RoleARN != "" {
		keys.Set("aws:PrincipalType", "AssumedRole")
		keys.Set("aws:PrincipalArn", p.RoleARN) // a session's aws:PrincipalArn is its role
	} else {
		keys.Set("aws:PrincipalType", "User")
	}
	if p.UserName != "" {
		keys.Set("aws:username", p.UserName)
	}
	if p.UserID != "" {
		keys.Set("aws:userid", p.UserID)
	}
	for k, v := range p.Tags {
		keys.Set("aws:PrincipalTag/"+k, v)
	}
	for _, d := range p.Identity {
		if pol := a.parse(d.Document, iampolicy.Identity); pol != nil {
			ps.Identity = append(ps.Identity, iampolicy.Named{Name: d.Name, Policy: pol})
		}
	}
	if p.Boundary != nil {
		pol := a.parse(p.Boundary.Document, iampolicy.Identity)
		if pol == nil {
			pol = &iampolicy.Policy{} // an unreadable boundary allows nothing
		}
		ps.Boundary = &iampolicy.Named{Name: p.Boundary.Name, Policy: pol}
	}
	ps.IdentitySet = iampolicy.NewSet(ps.Identity)
	if p.Session != nil {
		pol := a.parse(p.Session.Document, iampolicy.Identity)
		if pol == nil {
			pol = &iampolicy.Policy{}
		}
		ps.Session = []iampolicy.Named{{Name: p.Session.Name, Policy: pol}}
	}
	return &principalEntry{pr: pr, ps: ps, keys: keys}
}

// parse returns doc parsed, from a cache: the same few documents are
// evaluated on every request. A document IAM stored but that does not parse
// as a policy (IAM checks less when storing) grants nothing.
func (a *Authorizer) parse(doc string, k iampolicy.Kind) *iampolicy.Policy {
	if doc == "" {
		return nil
	}
	a.cacheMu.Lock()
	p, ok := a.cache[k][doc]
	a.cacheMu.Unlock()
	if ok {
		return p
	}
	p, err := iampolicy.Parse(doc, k)
	if err != nil {
		p = nil
	}
	a.cacheMu.Lock()
	if len(a.cache[k]) >= 4096 {
		a.cache[k] = map[string]*iampolicy.Policy{} // bounded: start over
	}
	a.cache[k][doc] = p
	a.cacheMu.Unlock()
	return p
}

func (a *Authorizer) record(ctx context.Context, c *awsapi.Caller, op string, req *iampolicy.Request, d iampolicy.Decision) {
	den := a.denial(c, op, req, d)
	den.Time = a.o.Now().UTC()
	a.keep(ctx, den)
}

// denial is what record records of c's request req denied by d, but the
// time.
func (a *Authorizer) denial(c *awsapi.Caller, op string, req *iampolicy.Request, d iampolicy.Decision) Denial {
	dec := "implicitDeny"
	if d.Explicit {
		dec = "explicitDeny"
	}
	return Denial{Principal: req.Principal.Name(), Action: req.Action, Resource: req.Resource, Decision: dec,
		Reason: d.Reason(req.Action), Detail: d.Detail(), Refused: a.o.Mode == config.IAMEnforce,
		Service: c.Service, Operation: op, RequestID: c.RequestID}
}

// keep logs den, tells OnDenial of it and keeps it for Denials.
func (a *Authorizer) keep(ctx context.Context, den Denial) {
	// Audit mode records a denial for every delivery to a queue without a
	// policy: the line's arguments are not built for a logger that drops it.
	if a.o.Logger.Enabled(ctx, slog.LevelInfo) {
		a.o.Logger.Info("iam denied", "mode", a.o.Mode, "principal", den.Principal, "action", den.Action, "resource", den.Resource,
			"decision", den.Decision, "reason", den.Detail, "op", den.Operation, "request_id", den.RequestID)
	}
	if a.o.OnDenial != nil {
		a.o.OnDenial(ctx, den)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.denials) < a.o.Keep {
		a.denials = append(a.denials, den)
		return
	}
	a.denials[a.next] = den
	a.next = (a.next + 1) % a.o.Keep
}

// Denials returns the recent denials, newest first.
func (a *Authorizer) Denials() []Denial {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Denial, 0, len(a.denials))
	n := len(a.denials)
	for i := range n {
		// The newest is just before next (or last while filling).
		j := (a.next - 1 - i + 2*n) % n
		if n < a.o.Keep {
			j = n - 1 - i
		}
		out = append(out, a.denials[j])
	}
	return out
}

// Handler serves GET /_wharf/iam/denials: the mode and the recent denials,
// newest first.
func (a *Authorizer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"mode": a.o.Mode, "denials": a.Denials()})
	})
}

// arnAccount is the account field of an ARN, "" when it has none (S3).
func arnAccount(arn string) string {
	// The fifth field, found without splitting: every check asks.
	rest := arn
	for range 4 {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			return ""
		}
		rest = rest[i+1:]
	}
	if i := strings.IndexByte(rest, ':'); i == 12 {
		return rest[:12]
	}
	return ""
}

// accessDenied is the error each service sends for a denied request: S3 and
// the query-protocol services (and the JSON services that keep their query
// codes) AccessDenied with 403, but SNS its own AuthorizationError (its
// model's AuthorizationErrorException, what SDKs report from SNS); the JSON
// services AccessDeniedException, a client error (400) in the awsJson
// protocols and 403 in Scheduler's REST one.
func accessDenied(service string) (code string, status int) {
	switch service {
	case "sns":
		return "AuthorizationError", 403
	case "s3", "s3control", "iam", "sts", "sqs", "cloudwatch":
		return "AccessDenied", 403
	case "scheduler":
		return "AccessDeniedException", 403
	}
	return "AccessDeniedException", 400
}

// deniedMessage is the text of a denial. SNS names its actions with an
// upper-case prefix there ("not authorized to perform: SNS:Publish ...
// because no identity-based policy allows the SNS:Publish action"), as its
// answers quoted by SDK users show; the others as the action is written.
func deniedMessage(service string, d iampolicy.Decision, req *iampolicy.Request) string {
	if service == "sns" && strings.HasPrefix(req.Action, "sns:") {
		shown := *req
		shown.Action = "SNS:" + req.Action[len("sns:"):]
		return d.Message(&shown)
	}
	return d.Message(req)
}

// s3Missing reports whether S3 answers a denied request with "not found"
// rather than AccessDenied, so that the service says which: S3 tells anyone
// that a bucket does not exist, an unsigned request too (NoSuchBucket). The
// S3 ResourcePolicy names no owner for a bucket that does not exist. (A
// missing object is decided by s3:ListBucket: missingObject.)
func (a *Authorizer) s3Missing(c *awsapi.Caller, action, resource, owner string) bool {
	return c.Anonymous && owner == "" && a.o.ResourcePolicy != nil && action != "s3:CreateBucket" &&
		strings.HasPrefix(resource, "arn:aws:s3:::")
}
