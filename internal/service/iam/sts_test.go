package iam

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

var (
	tempKeyPattern = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
	roleIDPattern  = regexp.MustCompile(`^AROA[A-Z2-7]{17}$`)
)

// assume creates role name (unless it exists) and assumes it from ctx.
func (f *fixture) assume(t *testing.T, ctx context.Context, name, session string, d *int32) *stsapi.AssumeRoleOutput {
	t.Helper()
	if _, err := f.GetRole(ctx, &api.GetRoleInput{RoleName: &name}); err != nil {
		must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: awsapi.String(trust), MaxSessionDuration: awsapi.Int32(7200)}))
	}
	return must[*stsapi.AssumeRoleOutput](t)(f.STS().AssumeRole(ctx, &stsapi.AssumeRoleInput{
		RoleArn: awsapi.String(roleARN(testAccount, "/", name)), RoleSessionName: &session, DurationSeconds: d}))
}

func TestGetCallerIdentity(t *testing.T) {
	f := newFixture(t)
	root := f.root(t)
	must[*api.CreateUserOutput](t)(f.CreateUser(root, &api.CreateUserInput{UserName: awsapi.String("alice"), Path: awsapi.String("/dev/")}))
	alice := must[*api.GetUserOutput](t)(f.GetUser(root, &api.GetUserInput{UserName: awsapi.String("alice")})).User
	key := must[*api.CreateAccessKeyOutput](t)(f.CreateAccessKey(root, &api.CreateAccessKeyInput{UserName: awsapi.String("alice")})).AccessKey
	assumed := f.assume(t, root, "worker", "job-1", nil)
	role := must[*api.GetRoleOutput](t)(f.GetRole(root, &api.GetRoleInput{RoleName: awsapi.String("worker")})).Role
	token := must[*stsapi.GetSessionTokenOutput](t)(f.STS().GetSessionToken(f.as(t, *key.AccessKeyId), &stsapi.GetSessionTokenInput{}))

	tests := []struct {
		name                string
		ctx                 context.Context
		account, arn, useID string
	}{
		{"root key", root, testAccount, "arn:aws:iam::123456789012:root", testAccount},
		{"no caller", context.Background(), testAccount, "arn:aws:iam::123456789012:root", testAccount},
		{"a 12-digit key in --auth any", awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "999999999999", AccessKey: "999999999999"}),
			"999999999999", "arn:aws:iam::999999999999:root", "999999999999"},
		{"IAM user key", f.as(t, *key.AccessKeyId), testAccount, "arn:aws:iam::123456789012:user/dev/alice", *alice.UserId},
		{"assumed role", f.as(t, *assumed.Credentials.AccessKeyId), testAccount, "arn:aws:sts::123456789012:assumed-role/worker/job-1", *role.RoleId + ":job-1"},
		{"user session token", f.as(t, *token.Credentials.AccessKeyId), testAccount, "arn:aws:iam::123456789012:user/dev/alice", *alice.UserId},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := must[*stsapi.GetCallerIdentityOutput](t)(f.STS().GetCallerIdentity(tt.ctx, &stsapi.GetCallerIdentityInput{}))
			if *out.Account != tt.account || *out.Arn != tt.arn || *out.UserId != tt.useID {
				t.Fatalf("identity = %s %s %s, want %s %s %s", *out.Account, *out.Arn, *out.UserId, tt.account, tt.arn, tt.useID)
			}
		})
	}
}

func TestAssumeRoleIssuesCredentialsThatAuthenticateUntilTheyExpire(t *testing.T) {
	f := newFixture(t)
	root := f.root(t)
	out := f.assume(t, root, "worker", "s1", awsapi.Int32(900))
	c := out.Credentials
	if !tempKeyPattern.MatchString(*c.AccessKeyId) || !secretPattern.MatchString(*c.SecretAccessKey) || len(*c.SessionToken) < 100 {
		t.Fatalf("credentials = %+v", c)
	}
	if !c.Expiration.Equal(t0.Add(900 * time.Second)) {
		t.Fatalf("expiration = %v", c.Expiration)
	}
	if id := *out.AssumedRoleUser.AssumedRoleId; !roleIDPattern.MatchString(id[:len(id)-3]) || id[len(id)-3:] != ":s1" {
		t.Fatalf("AssumedRoleId = %s", id)
	}
	key, ok := f.LookupKey(root, *c.AccessKeyId)
	if !ok || key.Secret != *c.SecretAccessKey || key.SessionToken != *c.SessionToken || key.ARN != *out.AssumedRoleUser.Arn {
		t.Fatalf("LookupKey = %+v, %v", key, ok)
	}
	f.now = t0.Add(899 * time.Second)
	if _, ok := f.LookupKey(root, *c.AccessKeyId); !ok {
		t.Fatal("credentials rejected before expiry")
	}
	f.now = t0.Add(900 * time.Second)
	if key, ok := f.LookupKey(root, *c.AccessKeyId); ok || key.Refused != awsapi.KeyExpired {
		t.Fatalf("credentials at expiry: ok %v, refused %q", ok, key.Refused)
	}
	// Issuing new credentials keeps sessions expired less than a day ago (to
	// answer ExpiredToken for them) and prunes older ones from the store.
	f.now = t0.Add(900*time.Second + keepExpired - time.Second)
	f.assume(t, root, "worker", "s2", nil)
	if key, _ := f.LookupKey(root, *c.AccessKeyId); key.Refused != awsapi.KeyExpired {
		t.Fatalf("a session expired less than a day ago: refused %q", key.Refused)
	}
	f.now = t0.Add(900*time.Second + keepExpired)
	f.assume(t, root, "worker", "s3", nil)
	err := f.st.View(func(tx store.Tx) error {
		b, err := tx.Get(sessionKey(*c.AccessKeyId))
		if b != nil {
			t.Error("expired session still stored")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAssumeRoleErrors(t *testing.T) {
	f := newFixture(t)
	root := f.root(t)
	f.assume(t, root, "worker", "setup", nil) // MaxSessionDuration 7200
	chained := f.as(t, *f.assume(t, root, "worker", "first", nil).Credentials.AccessKeyId)
	arn := awsapi.String(roleARN(testAccount, "/", "worker"))
	tests := []struct {
		name string
		ctx  context.Context
		in   stsapi.AssumeRoleInput
		code string
	}{
		{"missing role", root, stsapi.AssumeRoleInput{RoleArn: awsapi.String(roleARN(testAccount, "/", "ghost")), RoleSessionName: awsapi.String("ss")}, "AccessDenied"},
		{"wrong path", root, stsapi.AssumeRoleInput{RoleArn: awsapi.String(roleARN(testAccount, "/x/", "worker")), RoleSessionName: awsapi.String("ss")}, "AccessDenied"},
		{"other account", root, stsapi.AssumeRoleInput{RoleArn: awsapi.String(roleARN("210987654321", "/", "worker")), RoleSessionName: awsapi.String("ss")}, "AccessDenied"},
		{"malformed ARN", root, stsapi.AssumeRoleInput{RoleArn: awsapi.String("arn:aws:iam::role/worker"), RoleSessionName: awsapi.String("ss")}, "ValidationError"},
		{"session name too short", root, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("s")}, "ValidationError"},
		{"session name with a space", root, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("my session")}, "ValidationError"},
		{"duration below 900", root, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("ss"), DurationSeconds: awsapi.Int32(899)}, "ValidationError"},
		{"duration above the role's maximum", root, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("ss"), DurationSeconds: awsapi.Int32(7201)}, "ValidationError"},
		{"duration at the role's maximum", root, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("ss"), DurationSeconds: awsapi.Int32(7200)}, ""},
		{"role chaining beyond one hour", chained, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("ss"), DurationSeconds: awsapi.Int32(3601)}, "ValidationError"},
		{"role chaining for one hour", chained, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("ss")}, ""},
		{"malformed session policy", root, stsapi.AssumeRoleInput{RoleArn: arn, RoleSessionName: awsapi.String("ss"), Policy: awsapi.String("{")}, "MalformedPolicyDocument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.STS().AssumeRole(tt.ctx, &tt.in)
			wantCode(t, err, tt.code)
		})
	}
}

func TestGetSessionToken(t *testing.T) {
	f := newFixture(t)
	root := f.root(t)
	must[*api.CreateUserOutput](t)(f.CreateUser(root, &api.CreateUserInput{UserName: awsapi.String("u")}))
	key := must[*api.CreateAccessKeyOutput](t)(f.CreateAccessKey(root, &api.CreateAccessKeyInput{UserName: awsapi.String("u")})).AccessKey
	user := f.as(t, *key.AccessKeyId)
	session := f.as(t, *f.assume(t, root, "r", "ss", nil).Credentials.AccessKeyId)
	tests := []struct {
		name    string
		ctx     context.Context
		d       *int32
		code    string
		expires time.Duration
	}{
		{"user default is 12 hours", user, nil, "", 12 * time.Hour},
		{"user asks for 36 hours", user, awsapi.Int32(129600), "", 36 * time.Hour},
		{"beyond 36 hours", user, awsapi.Int32(129601), "ValidationError", 0},
		{"root is capped at one hour", root, awsapi.Int32(7200), "", time.Hour},
		{"not with session credentials", session, nil, "AccessDenied", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.STS().GetSessionToken(tt.ctx, &stsapi.GetSessionTokenInput{DurationSeconds: tt.d})
			wantCode(t, err, tt.code)
			if tt.code == "" && !out.Credentials.Expiration.Equal(t0.Add(tt.expires)) {
				t.Fatalf("expiration = %v, want %v", out.Credentials.Expiration, t0.Add(tt.expires))
			}
		})
	}
}

func TestLookupKey(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		key  string
		ok   bool
		want string
	}{
		{"test", true, "arn:aws:iam::123456789012:root"},
		{"AKIAUNKNOWNUNKNOWN00", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		k, ok := f.LookupKey(context.Background(), tt.key)
		if ok != tt.ok || k.ARN != tt.want {
			t.Errorf("LookupKey(%q) = %+v, %v", tt.key, k, ok)
		}
	}
}

func TestIDsAreDeterministicForASeed(t *testing.T) {
	gen := func() string {
		g := &ids{src: rand.NewChaCha8([32]byte{7})}
		a, _ := g.id(prefixUser)
		b, _ := g.accessKeyID(prefixAccessKey)
		return a + b
	}
	if a, b := gen(), gen(); a != b {
		t.Fatalf("ids differ for one seed: %s, %s", a, b)
	}
}

// TestIssueReadsTheSessionsOnlyWhenOneIsDue: issuing credentials prunes old
// sessions, but reads the stored sessions only when one is due to go, not on
// every AssumeRole (which made each cost as much as a day's sessions).
func TestIssueReadsTheSessionsOnlyWhenOneIsDue(t *testing.T) {
	st := &scanCounter{Store: store.OpenMemory()}
	t.Cleanup(func() { st.Close() })
	f := &fixture{now: t0}
	f.Service = New(Options{Store: st, Account: testAccount, AccessKey: "test", SecretKey: "test",
		Clock: clock.Func(func() time.Time { return f.now }), Rand: rand.NewChaCha8([32]byte{1})})
	root := f.root(t)
	first := f.assume(t, root, "worker", "s0", nil)
	for i := 1; i < 5; i++ {
		f.now = t0.Add(time.Duration(i) * time.Minute)
		f.assume(t, root, "worker", "s"+strconv.Itoa(i), nil)
	}
	if st.scans != 1 {
		t.Fatalf("5 sessions issued, none due: the sessions were read %d times, want 1", st.scans)
	}
	// The first session is due a day after it expired: the next issue reads
	// the sessions and deletes it, and only it.
	f.now = first.Credentials.Expiration.Add(keepExpired)
	f.assume(t, root, "worker", "s5", nil)
	if st.scans != 2 {
		t.Fatalf("the first session due: the sessions were read %d times in all, want 2", st.scans)
	}
	var left int
	err := st.View(func(tx store.Tx) error {
		if b, err := tx.Get(sessionKey(*first.Credentials.AccessKeyId)); err != nil || b != nil {
			t.Error("the session due is still stored")
			return err
		}
		return tx.Scan([]byte("sts/session/"), nil, func(k, v []byte) (bool, error) { left++; return true, nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if left != 5 {
		t.Fatalf("%d sessions left, want 5", left)
	}
}

// scanCounter counts the scans of the sessions' records in its Updates.
type scanCounter struct {
	store.Store
	scans int
}

func (c *scanCounter) Update(fn func(store.Tx) error) error {
	return c.Store.Update(func(tx store.Tx) error { return fn(scanCountingTx{tx, c}) })
}

type scanCountingTx struct {
	store.Tx
	c *scanCounter
}

func (t scanCountingTx) Scan(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	if string(prefix) == "sts/session/" {
		t.c.scans++
	}
	return t.Tx.Scan(prefix, start, fn)
}

// BenchmarkAssumeRoleWith1000Sessions is AssumeRole with a thousand
// sessions issued in the last day still stored.
func BenchmarkAssumeRoleWith1000Sessions(b *testing.B) {
	st := store.OpenMemory()
	b.Cleanup(func() { st.Close() })
	f := &fixture{now: t0}
	f.Service = New(Options{Store: st, Account: testAccount, AccessKey: "test", SecretKey: "test",
		Clock: clock.Func(func() time.Time { return f.now }), Rand: rand.NewChaCha8([32]byte{1})})
	root := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: testAccount, ARN: rootARN(testAccount), AccessKey: "test", Region: "us-east-1"})
	name := "worker"
	if _, err := f.CreateRole(root, &api.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: awsapi.String(trust)}); err != nil {
		b.Fatal(err)
	}
	in := &stsapi.AssumeRoleInput{RoleArn: awsapi.String(roleARN(testAccount, "/", name)), RoleSessionName: awsapi.String("bench")}
	for range 1000 {
		if _, err := f.STS().AssumeRole(root, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.STS().AssumeRole(root, in); err != nil {
			b.Fatal(err)
		}
	}
}
