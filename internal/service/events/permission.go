package events

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// A bus's resource-based policy lets other accounts (or anyone) put events
// on it ("Permissions for event buses in Amazon EventBridge"). PutPermission
// adds a statement or replaces the whole policy; RemovePermission takes a
// statement or all of them; DescribeEventBus shows it.

var (
	statementIDRE = lazyregexp.New(`^[a-zA-Z0-9-_]{1,64}$`)
	accountIDRE   = lazyregexp.New(`^[0-9]{12}$`)
)

type busPolicy struct {
	Version   string           `json:"Version"`
	Statement []map[string]any `json:"Statement"`
}

// PutPermission adds a statement to a bus's policy, or sets the policy.
func (s *Service) PutPermission(ctx context.Context, in *eventsapi.PutPermissionInput) (*eventsapi.PutPermissionOutput, error) {
	account, reg, name := s.busName(ctx, in.EventBusName)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, err := s.lookupLocked(account, reg, name)
	if b == nil {
		return nil, err
	}
	if p := awsapi.ToString(in.Policy); p != "" {
		if in.Action != nil || in.Principal != nil || in.StatementId != nil || in.Condition != nil {
			return nil, apierr.Validation("Policy cannot be specified together with Action, Principal, StatementId or Condition.")
		}
		var doc busPolicy
		if err := json.Unmarshal([]byte(p), &doc); err != nil {
			return nil, apierr.Validation("The policy is not valid JSON.")
		}
		return &eventsapi.PutPermissionOutput{}, s.setPolicyLocked(account, reg, b, p)
	}
	action, principal, sid := awsapi.ToString(in.Action), awsapi.ToString(in.Principal), awsapi.ToString(in.StatementId)
	if action != "events:PutEvents" {
		return nil, apierr.Validation("Provided value in parameter 'action' is not supported.")
	}
	if principal != "*" && !accountIDRE.MatchString(principal) {
		return nil, apierr.Validation("Provided value in parameter 'principal' is not supported.")
	}
	if !statementIDRE.MatchString(sid) {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+", sid)
	}
	var doc busPolicy
	if b.rec.Policy != "" {
		if err := json.Unmarshal([]byte(b.rec.Policy), &doc); err != nil {
			doc = busPolicy{}
		}
	}
	for _, st := range doc.Statement {
		if st["Sid"] == sid {
			return nil, eventsapi.ErrResourceAlreadyExistsException("Statement with the provided id already exists.")
		}
	}
	st := map[string]any{"Sid": sid, "Effect": "Allow", "Action": action,
		"Resource": "arn:aws:events:" + reg + ":" + account + ":event-bus/" + name}
	if principal == "*" {
		st["Principal"] = "*"
	} else {
		st["Principal"] = map[string]string{"AWS": "arn:aws:iam::" + principal + ":root"}
	}
	if c := in.Condition; c != nil {
		typ, key, val := awsapi.ToString(c.Type), awsapi.ToString(c.Key), awsapi.ToString(c.Value)
		if typ != "StringEquals" || key != "aws:PrincipalOrgID" || val == "" {
			return nil, apierr.Validation("Provided value in parameter 'condition' is not supported.")
		}
		st["Condition"] = map[string]any{typ: map[string]string{key: val}}
	}
	doc.Version = "2012-10-17"
	doc.Statement = append(doc.Statement, st)
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &eventsapi.PutPermissionOutput{}, s.setPolicyLocked(account, reg, b, string(raw))
}

// RemovePermission removes a statement from a bus's policy, or all of it.
func (s *Service) RemovePermission(ctx context.Context, in *eventsapi.RemovePermissionInput) (*eventsapi.RemovePermissionOutput, error) {
	account, reg, name := s.busName(ctx, in.EventBusName)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, err := s.lookupLocked(account, reg, name)
	if b == nil {
		return nil, err
	}
	if awsapi.ToBool(in.RemoveAllPermissions) {
		if in.StatementId != nil {
			return nil, apierr.Validation("StatementId cannot be specified together with RemoveAllPermissions.")
		}
		return &eventsapi.RemovePermissionOutput{}, s.setPolicyLocked(account, reg, b, "")
	}
	sid := awsapi.ToString(in.StatementId)
	if sid == "" {
		return nil, apierr.Validation("One of StatementId or RemoveAllPermissions must be specified.")
	}
	if b.rec.Policy == "" {
		// A bus without a policy has no statement of that id either, and
		// EventBridge says so in the same words (localstack's AWS-validated
		// snapshot of RemovePermission with and without a policy).
		return nil, notFound("Statement with the provided id does not exist.")
	}
	var doc busPolicy
	_ = json.Unmarshal([]byte(b.rec.Policy), &doc)
	kept := doc.Statement[:0]
	for _, st := range doc.Statement {
		if st["Sid"] != sid {
			kept = append(kept, st)
		}
	}
	if len(kept) == len(doc.Statement) {
		return nil, notFound("Statement with the provided id does not exist.")
	}
	policy := ""
	if len(kept) > 0 {
		doc.Statement = kept
		raw, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		policy = string(raw)
	}
	return &eventsapi.RemovePermissionOutput{}, s.setPolicyLocked(account, reg, b, policy)
}

// setPolicyLocked stores policy as b's; s.mu is held.
func (s *Service) setPolicyLocked(account, reg string, b *bus, policy string) error {
	rec := b.rec
	rec.Policy, rec.Persisted, rec.Modified = policy, true, s.now().UTC()
	if err := s.st.Update(func(tx store.Tx) error { return putJSON(tx, busKey(account, reg, rec.Name), rec) }); err != nil {
		return err
	}
	b.rec = rec
	return nil
}

// BusPolicy returns the resource-based policy of the bus arn names, "" when
// it has none or does not exist.
func (s *Service) BusPolicy(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "event-bus/") {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, b, _ := s.lookupLocked(parts[4], parts[3], strings.TrimPrefix(parts[5], "event-bus/"))
	if b == nil {
		return "", nil
	}
	return b.rec.Policy, nil
}

// ResourceTags returns the tags of the event bus or rule arn names, for the
// authorizer's aws:ResourceTag keys; nil when there is no such resource.
func (s *Service) ResourceTags(arn string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, _, err := s.resourceLocked(arn)
	if apierr.As(err) != nil {
		return nil, nil // not found: the operation says so itself
	}
	if err != nil || tags == nil || len(*tags) == 0 {
		return nil, err
	}
	out := make(map[string]string, len(*tags)) // TagResource changes the rule's own map
	for k, v := range *tags {
		out[k] = v
	}
	return out, nil
}
