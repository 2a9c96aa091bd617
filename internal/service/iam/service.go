// Package iam implements IAM and STS: users, access keys, roles, inline and
// managed policies, and the temporary credentials STS issues for roles. The two
// share their state (STS reads roles, the server authenticates with both IAM
// access keys and STS sessions), so one package owns it; Service serves IAM's
// operations, STS serves STS's, and LookupKey resolves access keys for the
// server.
//
// IAM is global: entities are keyed by account only. Policies are stored and
// returned here; Principal and RoleTrust hand them to the authorizer, which
// evaluates them (internal/iampolicy).
package iam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	// Account, AccessKey and SecretKey are the default account and its root
	// credentials.
	Account   string
	AccessKey string
	SecretKey string
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Rand is the source of ids and secrets; nil means crypto/rand.
	Rand io.Reader
}

// Service serves IAM's operations and owns the state STS shares.
type Service struct {
	st   store.Store
	acct string
	ak   string
	sk   string
	// rootKey is LookupKey's answer for ak, made once: the root ARN it
	// names was a string built on every request signed with it.
	rootKey awsapi.Key
	now     func() time.Time
	ids     *ids
	// policies caches managed policies' decoded default documents for
	// authorization (see defaultDocument).
	policies sync.Map
	// gen counts committed writes, so the authorizer can keep what it
	// learned of a principal until IAM changes (Generation).
	gen atomic.Uint64
	// keys caches LookupKey's answers by access key id (*cachedKey), each
	// valid for one generation; keyCount bounds it.
	keys     sync.Map
	keyCount atomic.Int64
	// prune.at is when the first stored session is due to be pruned (its
	// expiry plus keepExpired); zero when unknown (at start, after a failed
	// issue), when the next issue reads every session to find out.
	prune struct {
		sync.Mutex
		at time.Time
	}
}

// update runs fn in a write transaction, then counts the write.
func (s *Service) update(fn func(tx store.Tx) error) error {
	err := s.st.Update(fn)
	s.gen.Add(1)
	return err
}

// Generation changes after every write to IAM's state (users, roles,
// policies, keys, sessions): what was read of a principal at one generation
// holds as long as the generation is the same. Read it before reading.
func (s *Service) Generation() uint64 { return s.gen.Load() }

// New returns the IAM service for o.
func New(o Options) *Service {
	s := &Service{st: o.Store, acct: o.Account, ak: o.AccessKey, sk: o.SecretKey, now: clock.Or(o.Clock).Now, ids: &ids{src: o.Rand}}
	if s.ids.src == nil {
		s.ids.src = rand.Reader
	}
	s.rootKey = awsapi.Key{Secret: s.sk, Account: s.acct, ARN: rootARN(s.acct)}
	return s
}

// STS returns the STS service sharing s's state.
func (s *Service) STS() *STS { return &STS{s: s} }

// clock returns the current time at the second precision IAM reports.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

type tag struct{ Key, Value string }

type user struct {
	Name     string
	Path     string
	ID       string
	Created  time.Time
	Tags     []tag             `json:",omitempty"`
	Boundary string            `json:",omitempty"`
	Inline   map[string]string `json:",omitempty"` // inline policy name → document
	Attached []string          `json:",omitempty"` // managed policy ARNs
	Keys     []string          `json:",omitempty"` // access key ids
	Groups   []string          `json:",omitempty"` // names of the groups it belongs to
}

type role struct {
	Name        string
	Path        string
	ID          string
	Created     time.Time
	Trust       string // AssumeRolePolicyDocument, verbatim
	Description string `json:",omitempty"`
	MaxSession  int32
	Tags        []tag             `json:",omitempty"`
	Boundary    string            `json:",omitempty"`
	Inline      map[string]string `json:",omitempty"`
	Attached    []string          `json:",omitempty"`
}

type policyVersion struct {
	ID       string
	Document string
	Created  time.Time
}

type policy struct {
	Name        string
	Path        string
	ID          string
	ARN         string
	Description string `json:",omitempty"`
	Created     time.Time
	Updated     time.Time
	Default     string
	Versions    []policyVersion // oldest first
	Next        int             // number of the next version (v<Next>)
	Tags        []tag           `json:",omitempty"`
}

// accessKey is an IAM access key, indexed globally by id so that the server
// can authenticate a request from the key alone.
type accessKey struct {
	ID      string
	Secret  string
	Account string
	User    string // user name; "" for a root access key
	Status  string // Active | Inactive
	Created time.Time
}

// session is a set of temporary credentials issued by STS.
type session struct {
	ID      string
	Secret  string
	Token   string
	Account string
	ARN     string // the principal the credentials act as
	UserID  string // GetCallerIdentity's UserId: AROA…:session, AIDA…, or the account
	Expires time.Time
	// Issued is when the credentials were issued (aws:TokenIssueTime);
	// zero for sessions stored before it was kept.
	Issued    time.Time
	RoleChain bool   `json:",omitempty"` // issued by AssumeRole: chaining limits the duration
	Policy    string `json:",omitempty"` // the session policy AssumeRole was given
	// PrincipalID is the unique id of the user or role the credentials act
	// as (AIDA…, AROA…), "" for the root user: they stop authenticating
	// when it is deleted, even if one of the same name is made again.
	PrincipalID string `json:",omitempty"`
	// Tags are the session tags AssumeRole was given: they are the
	// session's aws:PrincipalTag keys, over the role's tags of the same key.
	Tags map[string]string `json:",omitempty"`
}

func userKey(acct, name string) []byte {
	return []byte("iam/" + acct + "/user/" + strings.ToLower(name))
}

func roleKey(acct, name string) []byte {
	return []byte("iam/" + acct + "/role/" + strings.ToLower(name))
}

func policyKey(acct, name string) []byte {
	return []byte("iam/" + acct + "/policy/" + strings.ToLower(name))
}

func accessKeyKey(id string) []byte { return []byte("iam/key/" + id) }

func sessionKey(id string) []byte { return []byte("sts/session/" + id) }

// deletedKeyKey marks a deleted access key, which then answers as an
// invalid key rather than an unknown one (which --auth any accepts).
func deletedKeyKey(id string) []byte { return []byte("iam/deleted-key/" + id) }

// get reads the JSON record at key into v; found is false when it is absent.
func get(tx store.Tx, key []byte, v any) (found bool, err error) {
	b, err := tx.Get(key)
	if err != nil || b == nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

func put(tx store.Tx, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return tx.Put(key, b)
}

// scan decodes every record under prefix, in key order.
func scan[T any](tx store.Tx, prefix []byte) ([]T, error) {
	var out []T
	err := tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
		var t T
		if err := json.Unmarshal(v, &t); err != nil {
			return false, fmt.Errorf("decode %s: %w", k, err)
		}
		out = append(out, t)
		return true, nil
	})
	return out, err
}

// account is the account the request acts in: IAM is global, so the region
// does not matter.
func (s *Service) account(ctx context.Context) string {
	if a := awsapi.CallerFrom(ctx).Account; a != "" {
		return a
	}
	return s.acct
}

func userARN(acct, path, name string) string { return "arn:aws:iam::" + acct + ":user" + path + name }
func roleARN(acct, path, name string) string { return "arn:aws:iam::" + acct + ":role" + path + name }
func policyARN(acct, path, name string) string {
	return "arn:aws:iam::" + acct + ":policy" + path + name
}
func rootARN(acct string) string { return "arn:aws:iam::" + acct + ":root" }

// page returns the window of items (sorted by key) that starts at marker and
// holds at most maxItems (default 100), as IAM's Marker/MaxItems pagination.
// The marker is opaque to clients: the next item's key, base64-encoded.
func page[T any](items []T, key func(T) string, marker *string, maxItems *int32) (out []T, truncated bool, next *string, err error) {
	n := int32(100)
	if maxItems != nil {
		if *maxItems < 1 || *maxItems > 1000 {
			return nil, false, nil, validationError("maxItems", fmt.Sprint(*maxItems), "Member must have value between 1 and 1000")
		}
		n = *maxItems
	}
	start := 0
	if marker != nil && *marker != "" {
		b, derr := base64.RawURLEncoding.DecodeString(*marker)
		if derr != nil {
			return nil, false, nil, invalidInput("Invalid Marker.")
		}
		for start < len(items) && key(items[start]) < string(b) {
			start++
		}
	}
	end := start + int(n)
	if end >= len(items) {
		return items[start:], false, nil, nil
	}
	m := base64.RawURLEncoding.EncodeToString([]byte(key(items[end])))
	return items[start:end], true, &m, nil
}

// hasPathPrefix filters by IAM's PathPrefix; nil or empty matches all.
func hasPathPrefix(path string, prefix *string) bool {
	return prefix == nil || strings.HasPrefix(path, *prefix)
}

func sortKey(name string) string { return strings.ToLower(name) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// The server authenticates requests with IAM users' keys and STS sessions.
var _ awsapi.Keys = (*Service)(nil)
