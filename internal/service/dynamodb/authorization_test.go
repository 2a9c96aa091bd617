package dynamodb

import (
	"context"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/store"
)

// TestTablePolicyFindsEveryPolicy: the authorizer's TablePolicy skips the
// store only while no table can have a policy. A policy put after the
// service found none is found, and so is one already in the store when a
// service starts over it (a restart).
func TestTablePolicyFindsEveryPolicy(t *testing.T) {
	ctx := context.Background()
	st := store.OpenMemory()
	s := New(Options{Store: st})
	createTable(t, s, "orders", "id", "S", "", "")
	createTable(t, s, "other", "id", "S", "", "")
	arn := func(name string) string {
		out, err := s.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &name})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Table.TableArn
	}
	orders, other := arn("orders"), arn("other")
	if doc, err := s.TablePolicy(orders); doc != "" || err != nil {
		t.Fatalf("TablePolicy with no policy anywhere = %q, %v", doc, err)
	}

	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"dynamodb:DeleteItem","Resource":"*"}]}`
	if _, err := s.PutResourcePolicy(ctx, &ddb.PutResourcePolicyInput{ResourceArn: &orders, Policy: awsapi.String(doc)}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TablePolicy(orders); got != doc || err != nil {
		t.Errorf("TablePolicy after PutResourcePolicy = %q, %v", got, err)
	}
	if got, err := s.TablePolicy(other); got != "" || err != nil {
		t.Errorf("TablePolicy of a table without one = %q, %v", got, err)
	}

	restarted := New(Options{Store: st})
	if got, err := restarted.TablePolicy(orders); got != doc || err != nil {
		t.Errorf("TablePolicy of a service started over a store holding the policy = %q, %v", got, err)
	}
	// What its search found is remembered, as a search that finds none is.
	if p := restarted.policies.Load(); p != policiesMaybe {
		t.Errorf("after a search that found a policy, policies = %d, want policiesMaybe (%d)", p, policiesMaybe)
	}
}
