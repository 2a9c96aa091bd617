package iam

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// STS serves the Security Token Service: who is calling, and temporary
// credentials for roles and sessions. It shares the IAM service's state.
type STS struct{ s *Service }

// Session duration limits ("AssumeRole" and "GetSessionToken" API references).
const (
	minSession         = 900
	defaultRoleSession = 3600
	chainedMaxSession  = 3600
	maxTokenSession    = 129600
	defaultTokenSess   = 43200
	rootTokenSession   = 3600
)

// identity is a principal as GetCallerIdentity reports it.
type identity struct {
	Account string
	ARN     string
	UserID  string
	Session bool // temporary credentials
	Role    bool // an assumed role
	// PrincipalID is the user's or role's unique id, "" for root.
	PrincipalID string
}

// whoami resolves the request's principal from its access key: an STS
// session, an IAM user's key, or else the account's root.
func (s *Service) whoami(ctx context.Context) (identity, error) {
	c := awsapi.CallerFrom(ctx)
	acct := s.account(ctx)
	id := identity{Account: acct, ARN: rootARN(acct), UserID: acct}
	// The configured root key is the account's root, as LookupKey has
	// answered before reading the store: no session or access key record
	// has its id (theirs are generated), so there is nothing to read.
	if c.AccessKey == "" || c.AccessKey == s.ak {
		return id, nil
	}
	err := s.st.View(func(tx store.Tx) error {
		// Records are decoded only when present: most keys a caller
		// signs with are neither a session nor an access key.
		b, err := tx.Get(sessionKey(c.AccessKey))
		if err != nil {
			return err
		}
		if b != nil {
			var sess session
			if err := jsonUnmarshal(b, &sess); err != nil {
				return fmt.Errorf("decode session: %w", err)
			}
			id = identity{Account: sess.Account, ARN: sess.ARN, UserID: sess.UserID, Session: true, Role: sess.RoleChain}
			return nil
		}
		if b, err = tx.Get(accessKeyKey(c.AccessKey)); err != nil || b == nil {
			return err
		}
		var k accessKey
		if err := jsonUnmarshal(b, &k); err != nil {
			return fmt.Errorf("decode access key: %w", err)
		}
		if k.User == "" {
			id = identity{Account: k.Account, ARN: rootARN(k.Account), UserID: k.Account}
			return nil
		}
		u, err := loadUser(tx, k.Account, k.User)
		if err != nil {
			return err
		}
		id = identity{Account: k.Account, ARN: userARN(k.Account, u.Path, u.Name), UserID: u.ID, PrincipalID: u.ID}
		return nil
	})
	return id, err
}

// GetCallerIdentity returns the account, ARN and unique id of the caller.
func (t *STS) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityInput) (*stsapi.GetCallerIdentityOutput, error) {
	id, err := t.s.whoami(ctx)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetCallerIdentityOutput{Account: awsapi.String(id.Account), Arn: awsapi.String(id.ARN), UserId: awsapi.String(id.UserID)}, nil
}

var (
	roleARNPattern     = lazyregexp.New(`^arn:aws:iam::(\d{12}):role(/|/[\x21-\x7E]*/)([\w+=,.@-]+)$`)
	sessionNamePattern = lazyregexp.New(`^[\w+=,.@-]*$`)
)

func stsValidation(format string, args ...any) error {
	return apierr.New("ValidationError", 400, format, args...)
}

func checkDuration(v *int32, def, max int32) (int32, error) {
	if v == nil {
		return def, nil
	}
	switch {
	case *v < minSession:
		return 0, validationError("durationSeconds", fmt.Sprint(*v), fmt.Sprintf("Member must have value greater than or equal to %d", minSession))
	case *v > max:
		return 0, validationError("durationSeconds", fmt.Sprint(*v), fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
	return *v, nil
}

// issue creates and stores temporary credentials for principal, valid for d.
// policy is the session policy, if any; tags the session tags.
func (s *Service) issue(principal identity, d time.Duration, policy string, tags map[string]string) (*session, error) {
	akid, err := s.ids.accessKeyID(prefixTempKey)
	if err != nil {
		return nil, err
	}
	secret, err := s.ids.secret()
	if err != nil {
		return nil, err
	}
	token, err := s.ids.sessionToken()
	if err != nil {
		return nil, err
	}
	now := s.clock()
	sess := &session{ID: akid, Secret: secret, Token: token, Account: principal.Account, ARN: principal.ARN,
		UserID: principal.UserID, Expires: now.Add(d), Issued: now, RoleChain: principal.Role, Policy: policy, Tags: tags,
		PrincipalID: principal.PrincipalID}
	err = s.update(func(tx store.Tx) error {
		if err := s.pruneSessions(tx, now, sess.Expires.Add(keepExpired)); err != nil {
			return err
		}
		return put(tx, sessionKey(akid), sess)
	})
	if err != nil {
		// What pruneSessions learned may not have been written.
		s.prune.Lock()
		s.prune.at = time.Time{}
		s.prune.Unlock()
		return nil, err
	}
	return sess, nil
}

// keepExpired is how long an expired session is kept, so that its key is
// answered ExpiredToken rather than taken for an unknown key (which --auth
// any accepts as the default account's).
const keepExpired = 24 * time.Hour

// pruneSessions deletes sessions expired for more than keepExpired, so that
// the store holds about as many sessions as were live in the last day. due
// is when the session being issued in tx will be. The sessions are read
// only when one is due (s.prune.at), not on every issue: reading them all
// made each AssumeRole cost as much as the sessions of the last day.
func (s *Service) pruneSessions(tx store.Tx, now, due time.Time) error {
	s.prune.Lock()
	defer s.prune.Unlock()
	if !s.prune.at.IsZero() && now.Before(s.prune.at) {
		if due.Before(s.prune.at) {
			s.prune.at = due
		}
		return nil
	}
	next := due
	var expired [][]byte
	err := tx.Scan([]byte("sts/session/"), nil, func(k, v []byte) (bool, error) {
		var sess struct{ Expires time.Time }
		if err := jsonUnmarshal(v, &sess); err != nil {
			return true, nil
		}
		switch at := sess.Expires.Add(keepExpired); {
		case !now.Before(at):
			expired = append(expired, append([]byte(nil), k...))
		case at.Before(next):
			next = at
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	s.prune.at = next
	for _, k := range expired {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (sess *session) credentials() *stsapi.Credentials {
	exp := sess.Expires
	return &stsapi.Credentials{
		AccessKeyId:     awsapi.String(sess.ID),
		SecretAccessKey: awsapi.String(sess.Secret),
		SessionToken:    awsapi.String(sess.Token),
		Expiration:      &exp,
	}
}

// AssumeRole issues temporary credentials that act as a role. The role's trust
// policy is evaluated by the authorizer before this runs (--iam audit|enforce).
func (t *STS) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleInput) (*stsapi.AssumeRoleOutput, error) {
	s := t.s
	caller, err := s.whoami(ctx)
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.RoleSessionName)
	switch {
	case len(name) < 2:
		return nil, validationError("roleSessionName", name, "Member must have length greater than or equal to 2")
	case len(name) > 64:
		return nil, validationError("roleSessionName", name, "Member must have length less than or equal to 64")
	case !sessionNamePattern.MatchString(name):
		return nil, validationError("roleSessionName", name, `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	arn := awsapi.ToString(in.RoleArn)
	m := roleARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return nil, stsValidation("%s is invalid", arn)
	}
	if in.Policy != nil {
		if _, err := checkPolicyDocument("policy", in.Policy); err != nil {
			return nil, err
		}
	}
	if len(in.Tags) > maxTags {
		return nil, validationError("tags", fmt.Sprint(len(in.Tags)), "Member must have length less than or equal to 50")
	}
	var tags map[string]string
	for _, t := range in.Tags {
		k, v := awsapi.ToString(t.Key), awsapi.ToString(t.Value)
		switch {
		case len(k) < 1 || len(k) > 128:
			return nil, validationError("tags.member.key", k, "Member must have length less than or equal to 128")
		case len(v) > 256:
			return nil, validationError("tags.member.value", v, "Member must have length less than or equal to 256")
		}
		if tags == nil {
			tags = map[string]string{}
		}
		for have := range tags {
			if strings.EqualFold(have, k) {
				return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
		tags[k] = v
	}
	d, err := checkDuration(in.DurationSeconds, defaultRoleSession, maxMaxSession)
	if err != nil {
		return nil, err
	}
	acct := m[1]
	var r *role
	err = s.st.View(func(tx store.Tx) (err error) {
		r, err = loadRole(tx, acct, m[3])
		return err
	})
	if err != nil || r.Path != m[2] {
		if err == nil || asNoSuchEntity(err) {
			// STS does not say whether the role exists (AssumeRole docs, errors).
			return nil, apierr.New("AccessDenied", 403, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, arn)
		}
		return nil, err
	}
	if d > r.MaxSession {
		return nil, stsValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if caller.Role && d > chainedMaxSession {
		return nil, stsValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	principal := identity{
		Account: acct,
		ARN:     "arn:aws:sts::" + acct + ":assumed-role/" + r.Name + "/" + name,
		UserID:  r.ID + ":" + name,
		Role:    true,

		PrincipalID: r.ID,
	}
	sess, err := s.issue(principal, time.Duration(d)*time.Second, awsapi.ToString(in.Policy), tags)
	if err != nil {
		return nil, err
	}
	return &stsapi.AssumeRoleOutput{
		Credentials:     sess.credentials(),
		AssumedRoleUser: &stsapi.AssumedRoleUser{AssumedRoleId: awsapi.String(principal.UserID), Arn: awsapi.String(principal.ARN)},
		SourceIdentity:  in.SourceIdentity,
	}, nil
}

// GetSessionToken issues temporary credentials that act as the calling user
// (or root).
func (t *STS) GetSessionToken(ctx context.Context, in *stsapi.GetSessionTokenInput) (*stsapi.GetSessionTokenOutput, error) {
	s := t.s
	caller, err := s.whoami(ctx)
	if err != nil {
		return nil, err
	}
	if caller.Session {
		return nil, apierr.New("AccessDenied", 403, "Cannot call GetSessionToken with session credentials")
	}
	root := strings.HasSuffix(caller.ARN, ":root")
	def := int32(defaultTokenSess)
	if root {
		def = rootTokenSession
	}
	d, err := checkDuration(in.DurationSeconds, def, maxTokenSession)
	if err != nil {
		return nil, err
	}
	// Sessions of the root user last at most an hour (GetSessionToken docs).
	if root && d > rootTokenSession {
		d = rootTokenSession
	}
	sess, err := s.issue(caller, time.Duration(d)*time.Second, "", nil)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetSessionTokenOutput{Credentials: sess.credentials()}, nil
}

// LookupKey resolves an access key for the server's authentication: the
// default account's root key, an active IAM access key, or unexpired STS
// credentials whose user or role still exists. A key that was issued but no
// longer authenticates comes back not ok with Key.Refused set: temporary
// credentials past their expiry (awsapi.KeyExpired); an inactive or deleted
// access key, or temporary credentials whose user or role was deleted
// (awsapi.KeyInvalid). Temporary credentials outlive the access key they
// were issued with, as AWS's do: deactivating or deleting it does not
// revoke them ("Disabling permissions for temporary security credentials").
func (s *Service) LookupKey(ctx context.Context, akid string) (awsapi.Key, bool) {
	if akid == "" {
		return awsapi.Key{}, false
	}
	if akid == s.ak {
		return s.rootKey, true
	}
	gen := s.Generation() // before reading, so a write meanwhile invalidates
	if v, hit := s.keys.Load(akid); hit {
		if c := v.(*cachedKey); c.gen == gen {
			return c.resolve(s.now())
		}
	}
	c := &cachedKey{gen: gen}
	err := s.st.View(func(tx store.Tx) error {
		var sess session
		found, err := get(tx, sessionKey(akid), &sess)
		if err != nil {
			return err
		}
		if found {
			alive, err := sessionPrincipalExists(tx, &sess)
			if err != nil {
				return err
			}
			if !alive {
				c.refused = awsapi.KeyInvalid
				return nil
			}
			c.key, c.ok, c.session, c.expires = awsapi.Key{Secret: sess.Secret, Account: sess.Account, ARN: sess.ARN, SessionToken: sess.Token, Issued: sess.Issued}, true, true, sess.Expires
			return nil
		}
		var k accessKey
		found, err = get(tx, accessKeyKey(akid), &k)
		if err != nil {
			return err
		}
		if !found {
			if b, err := tx.Get(deletedKeyKey(akid)); err != nil || b != nil {
				c.refused = awsapi.KeyInvalid
				return err
			}
			return nil
		}
		if k.Status != "Active" {
			c.refused = awsapi.KeyInvalid
			return nil
		}
		arn := rootARN(k.Account)
		if k.User != "" {
			u, err := loadUser(tx, k.Account, k.User)
			if err != nil {
				return err
			}
			arn = userARN(k.Account, u.Path, u.Name)
		}
		c.key, c.ok = awsapi.Key{Secret: k.Secret, Account: k.Account, ARN: arn}, true
		return nil
	})
	if err != nil {
		return awsapi.Key{}, false
	}
	if s.keyCount.Add(1) > maxCachedKeys {
		s.keys.Clear() // bounded: start over
		s.keyCount.Store(0)
	}
	s.keys.Store(akid, c)
	return c.resolve(s.now())
}

// maxCachedKeys bounds the access keys LookupKey remembers.
const maxCachedKeys = 4096

// cachedKey is what LookupKey read of one access key at one IAM generation:
// every request of a client resolves its key, and reading and decoding the
// key and its user from the store each time was a tenth of a small
// request's cost. A write to IAM (a key made inactive, a user or role
// deleted) changes the generation, so a stale entry is never used.
type cachedKey struct {
	gen     uint64
	key     awsapi.Key
	ok      bool
	refused string    // why a known key is refused (awsapi.Key.Refused)
	session bool      // STS credentials, which expire
	expires time.Time // the session's expiry
}

// resolve answers for the key at now: a session's credentials stop working
// when they expire, whatever the cache holds.
func (c *cachedKey) resolve(now time.Time) (awsapi.Key, bool) {
	if !c.ok {
		return awsapi.Key{Refused: c.refused}, false
	}
	if c.session && !now.Before(c.expires) {
		return awsapi.Key{Refused: awsapi.KeyExpired}, false
	}
	return c.key, true
}

// sessionPrincipalExists reports whether the user or role sess acts as still
// exists: the same one, by unique id, not one made again with its name.
func sessionPrincipalExists(tx store.Tx, sess *session) (bool, error) {
	if sess.PrincipalID == "" {
		return true, nil // the root user, or a session stored before ids were kept
	}
	acct, kind, name, ok := parsePrincipalARN(sess.ARN)
	if !ok {
		return true, nil
	}
	var id string
	switch kind {
	case "user":
		u, err := loadUser(tx, acct, name)
		if err != nil {
			if asNoSuchEntity(err) {
				return false, nil
			}
			return false, err
		}
		id = u.ID
	case "role":
		r, err := loadRole(tx, acct, name)
		if err != nil {
			if asNoSuchEntity(err) {
				return false, nil
			}
			return false, err
		}
		id = r.ID
	}
	return id == sess.PrincipalID, nil
}
