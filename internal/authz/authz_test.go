package authz

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/iampolicy"
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
