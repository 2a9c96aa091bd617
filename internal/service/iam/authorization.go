package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wharf-dev/wharf/internal/store"
)

// Document is a policy document with the name decisions report it by (an
// inline policy's name, a managed policy's ARN).
type Document struct {
	Name     string
	Document string
}

// Principal is what authorization needs to know of a caller: who it is and
// every policy document that applies to it. Policies are not evaluated here;
// internal/iampolicy does that.
type Principal struct {
	Found    bool   // the user or role exists
	UserName string // for aws:username; "" for roles
	UserID   string // aws:userid: AIDA… for users, AROA…:session for sessions
	RoleARN  string // for an assumed-role session, its role (with path)
	Tags     map[string]string
	// Identity are inline and attached managed policies, a user's own and
	// its groups'.
	Identity []Document
	// Boundary is the permissions boundary, nil when there is none.
	Boundary *Document
	// Session is the session policy the credentials were issued with.
	Session *Document
}

// Principal returns the policies of the principal arn, calling with
// accessKey (whose STS session may carry a session policy). The root user
// and unknown principals come back with Found false.
func (s *Service) Principal(ctx context.Context, arn, accessKey string) (Principal, error) {
	var p Principal
	err := s.st.View(func(tx store.Tx) error {
		acct, kind, name, ok := parsePrincipalARN(arn)
		if !ok {
			return nil
		}
		var inline map[string]string
		var attached []string
		var bound string
		var tags []tag
		var groups []*group
		var sessionTags map[string]string
		switch kind {
		case "user":
			u, err := loadUser(tx, acct, name)
			if err != nil {
				if asNoSuchEntity(err) {
					return nil
				}
				return err
			}
			p.UserName, p.UserID = u.Name, u.ID
			inline, attached, bound, tags = u.Inline, u.Attached, u.Boundary, u.Tags
			for _, n := range u.Groups {
				g, err := loadGroup(tx, acct, n)
				if err != nil {
					if asNoSuchEntity(err) {
						continue
					}
					return err
				}
				groups = append(groups, g)
			}
		case "role":
			r, err := loadRole(tx, acct, name)
			if err != nil {
				if asNoSuchEntity(err) {
					return nil
				}
				return err
			}
			p.RoleARN = roleARN(acct, r.Path, r.Name)
			p.UserID = r.ID
			inline, attached, bound, tags = r.Inline, r.Attached, r.Boundary, r.Tags
			if accessKey != "" {
				var sess session
				if found, err := get(tx, sessionKey(accessKey), &sess); err != nil {
					return err
				} else if found {
					p.UserID = sess.UserID
					sessionTags = sess.Tags
					if sess.Policy != "" {
						p.Session = &Document{Name: "session policy", Document: sess.Policy}
					}
				}
			}
		}
		p.Found = true
		for _, n := range inlineNames(inline) {
			p.Identity = append(p.Identity, Document{Name: n, Document: inline[n]})
		}
		for _, a := range attached {
			doc, err := s.defaultDocument(tx, acct, a)
			if err != nil {
				return err
			}
			if doc != "" { // "": detached concurrently, it no longer applies
				p.Identity = append(p.Identity, Document{Name: a, Document: doc})
			}
		}
		// A user's groups' policies are identity-based policies of the user
		// ("Policy evaluation logic": identity-based policies).
		for _, g := range groups {
			for _, n := range inlineNames(g.Inline) {
				p.Identity = append(p.Identity, Document{Name: "group " + g.Name + " " + n, Document: g.Inline[n]})
			}
			for _, a := range g.Attached {
				doc, err := s.defaultDocument(tx, acct, a)
				if err != nil {
					return err
				}
				if doc != "" {
					p.Identity = append(p.Identity, Document{Name: a, Document: doc})
				}
			}
		}
		if bound != "" {
			doc, err := s.defaultDocument(tx, acct, bound)
			if err != nil {
				return err
			}
			if doc != "" {
				p.Boundary = &Document{Name: bound, Document: doc}
			}
		}
		if len(tags)+len(sessionTags) > 0 {
			p.Tags = map[string]string{}
			for _, t := range tags {
				p.Tags[t.Key] = t.Value
			}
			// A session tag replaces the role's tag of the same key
			// ("Passing session tags in AWS STS": tag keys are compared
			// case-insensitively).
			for k, v := range sessionTags {
				for rk := range p.Tags {
					if strings.EqualFold(rk, k) {
						delete(p.Tags, rk)
					}
				}
				p.Tags[k] = v
			}
		}
		return nil
	})
	return p, err
}

// cachedPolicy is a managed policy's default document with the stored
// record it came from.
type cachedPolicy struct {
	raw []byte
	doc string
}

// defaultDocument returns the default version's document of the managed
// policy arn, "" when there is none. Every request of a principal reads its
// managed policies, so the decoded document is kept while the stored record
// is byte-for-byte the same: decoding 20 policy records per request was most
// of what authorization cost.
func (s *Service) defaultDocument(tx store.Tx, acct, arn string) (string, error) {
	if p, ok := awsManaged()[arn]; ok {
		return p.Versions[0].Document, nil
	}
	// arn:aws:iam::ACCOUNT:policy/PATH/NAME, split by hand: a regular
	// expression per policy per request showed in profiles.
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[4] != acct || !strings.HasPrefix(parts[5], "policy/") {
		return "", nil
	}
	key := policyKey(acct, parts[5][strings.LastIndexByte(parts[5], '/')+1:])
	raw, err := tx.Get(key)
	if err != nil || raw == nil {
		return "", err
	}
	if c, ok := s.policies.Load(string(key)); ok && bytes.Equal(c.(*cachedPolicy).raw, raw) {
		return c.(*cachedPolicy).doc, nil
	}
	var p policy
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("decode %s: %w", key, err)
	}
	doc := ""
	if p.ARN == arn {
		if v := p.version(p.Default); v != nil {
			doc = v.Document
		}
	}
	s.policies.Store(string(key), &cachedPolicy{raw: bytes.Clone(raw), doc: doc})
	return doc, nil
}

// EntityTags returns the tags of the IAM user or role arn, for the
// authorizer's aws:ResourceTag keys (iam:PassRole and sts:AssumeRole on a
// role, IAM's own operations on a user or role); nil when there is none.
func (s *Service) EntityTags(ctx context.Context, arn string) (map[string]string, error) {
	if !strings.HasPrefix(arn, "arn:aws:iam::") {
		return nil, nil
	}
	acct, kind, name, ok := parsePrincipalARN(arn)
	if !ok {
		return nil, nil
	}
	var out map[string]string
	err := s.st.View(func(tx store.Tx) error {
		var tags []tag
		switch kind {
		case "user":
			u, err := loadUser(tx, acct, name)
			if err != nil {
				if asNoSuchEntity(err) {
					return nil
				}
				return err
			}
			tags = u.Tags
		case "role":
			r, err := loadRole(tx, acct, name)
			if err != nil {
				if asNoSuchEntity(err) {
					return nil
				}
				return err
			}
			tags = r.Tags
		}
		if len(tags) > 0 {
			out = map[string]string{}
			for _, t := range tags {
				out[t.Key] = t.Value
			}
		}
		return nil
	})
	return out, err
}

// RoleTrust returns the trust policy of the role arn; found is false when
// the role does not exist (under that path).
func (s *Service) RoleTrust(ctx context.Context, arn string) (doc string, found bool, err error) {
	m := roleARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return "", false, nil
	}
	err = s.st.View(func(tx store.Tx) error {
		r, err := loadRole(tx, m[1], m[3])
		if err != nil {
			if asNoSuchEntity(err) {
				return nil
			}
			return err
		}
		if r.Path == m[2] {
			doc, found = r.Trust, true
		}
		return nil
	})
	return doc, found, err
}

// parsePrincipalARN splits arn:aws:iam::ACCT:user/path/NAME,
// arn:aws:iam::ACCT:role/path/NAME and arn:aws:sts::ACCT:assumed-role/ROLE/SESSION
// into account, kind (user or role) and name.
func parsePrincipalARN(arn string) (acct, kind, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", "", false
	}
	acct, res := parts[4], parts[5]
	switch {
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		return acct, "user", res[strings.LastIndexByte(res, '/')+1:], true
	case parts[2] == "iam" && strings.HasPrefix(res, "role/"):
		return acct, "role", res[strings.LastIndexByte(res, '/')+1:], true
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		role, _, found := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
		return acct, "role", role, found
	}
	return "", "", "", false
}
