package iam

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

const testAccount = "123456789012"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a service with a controllable clock and seeded ids.
type fixture struct {
	*Service
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	f := &fixture{now: t0}
	f.Service = New(Options{
		Store: st, Account: testAccount, AccessKey: "test", SecretKey: "test",
		Clock: clock.Func(func() time.Time { return f.now }),
		Rand:  rand.NewChaCha8([32]byte{1}),
	})
	return f
}

// as returns a context whose caller signed with accessKey, resolved as the
// server would.
func (f *fixture) as(t *testing.T, accessKey string) context.Context {
	t.Helper()
	k, ok := f.LookupKey(context.Background(), accessKey)
	if !ok {
		t.Fatalf("LookupKey(%q): unknown", accessKey)
	}
	return awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: k.Account, ARN: k.ARN, AccessKey: accessKey, Region: "us-east-1"})
}

func (f *fixture) root(t *testing.T) context.Context { return f.as(t, "test") }

// wantCode fails unless err is an API error with code (or nil when code is "").
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e := apierr.As(err)
	if e == nil {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("error code = %s (%s), want %s", e.Code, e.Message, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func asAPI(err error) *apierr.Error { return apierr.As(err) }
