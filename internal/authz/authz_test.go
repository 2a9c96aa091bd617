package authz

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	dynamodbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/iampolicy"
	"github.com/wharf-dev/wharf/internal/service/iam"
)

// TestDenialsAreNewestFirstAndBounded: the ring keeps the last Keep denials
// and lists them newest first, also after it wraps.
func TestDenialsAreNewestFirstAndBounded(t *testing.T) {
	for _, total := range []int{2, 3, 7, 8} {
		a := New(Options{Mode: config.IAMAudit, Keep: 3, Now: func() time.Time { return time.Unix(0, 0) }})
		for i := range total {
			req := &iampolicy.Request{Principal: iampolicy.Principal{ARN: "p"}, Action: fmt.Sprint("a:", i), Resource: "*"}
			a.record(context.Background(), &awsapi.Caller{}, "Op", req, iampolicy.Decision{Type: iampolicy.TypeIdentity})
		}
		got := a.Denials()
		want := min(total, 3)
		if len(got) != want {
			t.Fatalf("%d recorded: %d kept, want %d", total, len(got), want)
		}
		for i, d := range got {
			if w := fmt.Sprint("a:", total-1-i); d.Action != w {
				t.Fatalf("%d recorded: denial %d is %s, want %s", total, i, d.Action, w)
			}
		}
	}
}

// TestRootIsAllowedWithoutLookingUpPolicies: the root user of the account is
// decided without IAM (no Principals configured), and an operation the map
// does not authorize (GetCallerIdentity) passes for anyone.
func TestRootIsAllowedWithoutLookingUpPolicies(t *testing.T) {
	a := New(Options{Mode: config.IAMEnforce})
	root := &awsapi.Caller{ARN: "arn:aws:iam::111111111111:root", Account: "111111111111", Region: "us-east-1", Service: "sqs"}
	if err := a.Authorize(t.Context(), root, "ListQueues", &struct{}{}); err != nil {
		t.Fatalf("root: %v", err)
	}
	user := &awsapi.Caller{ARN: "arn:aws:iam::111111111111:user/bob", Account: "111111111111", Region: "us-east-1", Service: "sts"}
	if err := a.Authorize(t.Context(), user, "GetCallerIdentity", nil); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	user.Service = "sqs"
	if err := a.Authorize(t.Context(), user, "ListQueues", &struct{}{}); err == nil {
		t.Fatal("a user with no policies was allowed ListQueues")
	}
}

// benchPrincipals is one user with the bench's 50 policies of 20 statements,
// only the last statement of the last allowing the mix.
type benchPrincipals struct{ p iam.Principal }

func (b benchPrincipals) Principal(context.Context, string, string) (iam.Principal, error) {
	return b.p, nil
}
func (benchPrincipals) Generation() uint64 { return 1 }

func newBenchPrincipals(policies, statements int) benchPrincipals {
	var p iam.Principal
	p.Found, p.UserName, p.UserID = true, "bench", "AIDABENCH"
	for i := range policies {
		var st []string
		for s := range statements {
			if i == policies-1 && s == statements-1 {
				st = append(st, `{"Effect":"Allow","Action":["sqs:SendMessage","dynamodb:PutItem","dynamodb:GetItem","s3:PutObject","s3:GetObject"],"Resource":"*"}`)
				continue
			}
			st = append(st, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"s3:GetBucketTagging","Resource":"arn:aws:s3:::other-%d-%d","Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}`, s, i, s, s))
		}
		p.Identity = append(p.Identity, iam.Document{Name: fmt.Sprint("p", i), Document: `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`})
	}
	return benchPrincipals{p}
}

// BenchmarkAuthorize is the authorizer's own cost for a request of the
// bench/iam mix (an SQS SendMessage) by a user with 50 policies of 20
// statements, resources having no policy.
func BenchmarkAuthorize(b *testing.B) {
	a := New(Options{Mode: config.IAMEnforce, Principals: newBenchPrincipals(50, 20)})
	c := &awsapi.Caller{ARN: "arn:aws:iam::000000000000:user/bench", AccessKey: "AKIABENCH", Account: "000000000000", Region: "us-east-1", Service: "sqs", SourceIP: "127.0.0.1"}
	url := "http://localhost/000000000000/bench"
	in := &sqsapi.SendMessageInput{QueueUrl: &url}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authorize(context.Background(), c, "SendMessage", in); err != nil {
			b.Fatal(err)
		}
	}
}

// rootSend authorizes the root user of account 111111111111 sending to
// queue q of account owner, whose policy is doc.
func rootSend(t testing.TB, mode, owner, doc string) (*Authorizer, error) {
	a := New(Options{Mode: mode, ResourcePolicy: func(_ context.Context, arn string) (string, string, error) {
		if arn != "arn:aws:sqs:us-east-1:"+owner+":q" {
			t.Errorf("resource policy asked for %s", arn)
		}
		return doc, "", nil
	}})
	root := &awsapi.Caller{ARN: "arn:aws:iam::111111111111:root", Account: "111111111111", Region: "us-east-1", Service: "sqs"}
	in := &sqsapi.SendMessageInput{QueueUrl: awsapi.String("http://localhost:4566/" + owner + "/q"), MessageBody: awsapi.String("m")}
	return a, a.Authorize(context.Background(), root, "SendMessage", in)
}

// TestRootIsDecidedByTheResourcePolicyAlone: the account root, which has no
// policy of its own, is allowed its own resources unless their policy denies
// it explicitly, and another account's only when their policy grants it.
func TestRootIsDecidedByTheResourcePolicyAlone(t *testing.T) {
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sqs:*","Resource":"*"}]}`
	denyOther := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sqs:DeleteQueue","Resource":"*"}]}`
	for _, c := range []struct {
		name, owner, doc string
		allowed          bool
	}{
		{"own queue without a policy", "111111111111", "", true},
		{"own queue whose policy denies others", "111111111111", denyOther, true},
		{"own queue whose policy denies everyone", "111111111111", deny, false},
		{"another account's queue without a policy", "222222222222", "", false},
		{"another account's queue granting it", "222222222222", grant, true},
	} {
		_, err := rootSend(t, config.IAMEnforce, c.owner, c.doc)
		if (err == nil) != c.allowed {
			t.Errorf("%s: enforce answered %v, want allowed=%v", c.name, err, c.allowed)
		}
		a, err := rootSend(t, config.IAMAudit, c.owner, c.doc)
		if err != nil {
			t.Errorf("%s: audit refused: %v", c.name, err)
		}
		if got := len(a.Denials()); (got == 0) != c.allowed {
			t.Errorf("%s: audit recorded %d denials, want allowed=%v", c.name, got, c.allowed)
		}
	}
}

// BenchmarkAuthorizeRoot is the authorization of every request the account
// root sends to a resource without a policy (SQS SendMessage), under audit.
func BenchmarkAuthorizeRoot(b *testing.B) {
	a := New(Options{Mode: config.IAMAudit, ResourcePolicy: func(context.Context, string) (string, string, error) { return "", "", nil }})
	in := &sqsapi.SendMessageInput{QueueUrl: awsapi.String("http://localhost:4566/111111111111/q"), MessageBody: awsapi.String("m")}
	b.ReportAllocs()
	for b.Loop() {
		root := &awsapi.Caller{ARN: "arn:aws:iam::111111111111:root", Account: "111111111111", Region: "us-east-1", Service: "sqs"}
		if err := a.Authorize(context.Background(), root, "SendMessage", in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAnonymousRequestForAMissingBucketIsAnsweredHere: under enforce an
// unsigned request naming a bucket that does not exist is answered
// NoSuchBucket by the authorizer itself, not let through for S3 to say so,
// since the bucket may be created (private) before the operation runs; a
// check it is denied still answers AccessDenied. Under audit it goes on.
func TestAnonymousRequestForAMissingBucketIsAnsweredHere(t *testing.T) {
	missing := func(_ context.Context, arn string) (string, string, error) {
		if strings.HasPrefix(arn, "arn:aws:s3:::present") {
			return "", "111111111111", nil
		}
		return "", "", nil // no such bucket: no owner
	}
	anon := func() *awsapi.Caller {
		return &awsapi.Caller{Anonymous: true, Region: "us-east-1", Service: "s3"}
	}
	a := New(Options{Mode: config.IAMEnforce, ResourcePolicy: missing})
	for _, op := range []struct {
		name string
		in   any
	}{
		{"PutObject", &s3api.PutObjectInput{Bucket: awsapi.String("gone"), Key: awsapi.String("k")}},
		{"GetObject", &s3api.GetObjectInput{Bucket: awsapi.String("gone"), Key: awsapi.String("k")}},
		{"ListObjectsV2", &s3api.ListObjectsV2Input{Bucket: awsapi.String("gone")}},
	} {
		err := a.Authorize(context.Background(), anon(), op.name, op.in)
		e := apierr.As(err)
		if e == nil || e.Code != "NoSuchBucket" || e.Status != 404 || e.Fields["BucketName"] != "gone" {
			t.Errorf("%s of a missing bucket, unsigned: %v, want NoSuchBucket for gone", op.name, err)
		}
	}
	// Copying from a missing bucket into one that exists: the write is
	// denied, and that is the answer.
	in := &s3api.CopyObjectInput{Bucket: awsapi.String("present"), Key: awsapi.String("k"), CopySource: awsapi.String("gone/k")}
	if e := apierr.As(a.Authorize(context.Background(), anon(), "CopyObject", in)); e == nil || e.Code != "AccessDenied" {
		t.Errorf("unsigned CopyObject from a missing bucket into a private one: %v, want AccessDenied", e)
	}
	audit := New(Options{Mode: config.IAMAudit, ResourcePolicy: missing})
	if err := audit.Authorize(context.Background(), anon(), "PutObject", &s3api.PutObjectInput{Bucket: awsapi.String("gone"), Key: awsapi.String("k")}); err != nil {
		t.Errorf("audit answered %v", err)
	}
}

// TestServiceDecisionsFollowTheResourcePolicy: AuthorizeService keeps its
// decisions, but a changed resource policy decides the very next delivery,
// whichever way it changed, and a policy reading the time is decided at
// each delivery's time.
func TestServiceDecisionsFollowTheResourcePolicy(t *testing.T) {
	const queue = "arn:aws:sqs:us-east-1:111111111111:q"
	const topic = "arn:aws:sns:us-east-1:111111111111:t"
	allow := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` +
			queue + `","Condition":{` + cond + `}}]}`
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := ""
	a := New(Options{Mode: config.IAMEnforce, Now: func() time.Time { return now },
		ResourcePolicy: func(context.Context, string) (string, string, error) { return doc, "", nil }})
	send := func() error {
		return a.AuthorizeService(t.Context(), "sns.amazonaws.com", "sqs:SendMessage", queue, topic, "111111111111")
	}
	steps := []struct {
		doc     string
		allowed bool
	}{
		{"", false},
		{allow(`"ArnEquals":{"aws:SourceArn":"` + topic + `"}`), true},
		{allow(`"ArnEquals":{"aws:SourceArn":"` + topic + `"}`), true},
		{allow(`"ArnEquals":{"aws:SourceArn":"` + topic + `-other"}`), false},
		{allow(`"ArnEquals":{"aws:SourceArn":"` + topic + `"}`), true},
		{"", false},
	}
	for i, st := range steps {
		doc = st.doc
		for range 2 { // the second is decided from what the first kept
			err := send()
			if (err == nil) != st.allowed {
				t.Fatalf("step %d: allowed %v, want %v (err %v)", i, err == nil, st.allowed, err)
			}
			if err != nil && apierr.As(err).Code != "AccessDenied" {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	}
	if got := len(a.Denials()); got != 6 {
		t.Fatalf("%d denials recorded, want one per refused delivery, 6", got)
	}

	doc = allow(`"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:10Z"}`)
	if err := send(); err != nil {
		t.Fatalf("before the policy's time: %v", err)
	}
	now = now.Add(time.Minute)
	if err := send(); err == nil {
		t.Fatal("after the policy's time: allowed")
	}
}

// lookupCtxKey carries, in a test request's context, what its Lookup answers.
type lookupCtxKey struct{}

// TestLookupGetsItsRequestsContext: a named lookup ({@leading-keys}) is
// answered with the context of the request it is made for, also when many
// requests are authorized at once: a policy allowing only the leading key
// "ok" allows exactly the requests whose context says "ok".
func TestLookupGetsItsRequestsContext(t *testing.T) {
	var p iam.Principal
	p.Found, p.UserName, p.UserID = true, "u", "AIDAU"
	p.Identity = []iam.Document{{Name: "p", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"StringEquals":{"dynamodb:LeadingKeys":"ok"}}}]}`}}
	a := New(Options{Mode: config.IAMEnforce, Principals: benchPrincipals{p},
		Lookup: func(ctx context.Context, name string, _ any) []string {
			if name != "leading-keys" {
				return nil
			}
			v, _ := ctx.Value(lookupCtxKey{}).(string)
			return []string{v}
		}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := "bad"
				if (g+i)%2 == 0 {
					key = "ok"
				}
				ctx := context.WithValue(context.Background(), lookupCtxKey{}, key)
				c := &awsapi.Caller{ARN: "arn:aws:iam::111111111111:user/u", AccessKey: "AKIAU", Account: "111111111111", Region: "us-east-1", Service: "dynamodb"}
				err := a.Authorize(ctx, c, "GetItem", &dynamodbapi.GetItemInput{TableName: awsapi.String("t")})
				if (err == nil) != (key == "ok") {
					t.Errorf("leading key %s: Authorize answered %v", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
