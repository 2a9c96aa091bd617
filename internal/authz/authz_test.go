package authz

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
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
