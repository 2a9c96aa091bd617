package iampolicy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// evalCase is one data-driven case of testdata/eval/*.json: the policies, the
// request, and the decision AWS documents for them.
type evalCase struct {
	Name     string            `json:"name"`
	Identity []json.RawMessage `json:"identity"`
	Resource []json.RawMessage `json:"resource"`
	Boundary json.RawMessage   `json:"boundary"`
	Session  []json.RawMessage `json:"session"`
	Request  struct {
		Principal       string              `json:"principal"`
		Role            string              `json:"role"`
		Service         string              `json:"service"`
		Anonymous       bool                `json:"anonymous"`
		Action          string              `json:"action"`
		Resource        string              `json:"resource"`
		ResourceAccount string              `json:"resourceAccount"`
		RequireResource bool                `json:"requireResource"`
		Context         map[string][]string `json:"context"`
	} `json:"request"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
}

func mustParse(t *testing.T, raw json.RawMessage, k Kind) *Policy {
	t.Helper()
	p, err := Parse(string(raw), k)
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return p
}

func named(t *testing.T, docs []json.RawMessage, k Kind) []Named {
	var out []Named
	for i, d := range docs {
		out = append(out, Named{Name: "p" + string(rune('0'+i)), Policy: mustParse(t, d, k)})
	}
	return out
}

func TestEvaluateAsAWSDocuments(t *testing.T) {
	files, _ := filepath.Glob("testdata/eval/*.json")
	if len(files) == 0 {
		t.Fatal("no testdata/eval cases")
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []evalCase
		if err := json.Unmarshal(b, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cases {
			n++
			t.Run(strings.TrimSuffix(filepath.Base(f), ".json")+"/"+c.Name, func(t *testing.T) {
				ps := Policies{Identity: named(t, c.Identity, Identity), Resource: named(t, c.Resource, Resource)}
				if c.Boundary != nil {
					ps.Boundary = &Named{Name: "boundary", Policy: mustParse(t, c.Boundary, Identity)}
				}
				if c.Session != nil {
					ps.Session = named(t, c.Session, Identity)
				}
				rq := c.Request
				ctx := Context{}
				for k, v := range rq.Context {
					ctx.Set(k, v...)
				}
				acct := ""
				if rq.Principal != "" {
					acct = strings.Split(rq.Principal, ":")[4]
				}
				req := &Request{
					Principal: Principal{ARN: rq.Principal, Account: acct, RoleARN: rq.Role, Service: rq.Service, Anonymous: rq.Anonymous},
					Action:    rq.Action, Resource: rq.Resource, ResourceAccount: rq.ResourceAccount,
					RequireResource: rq.RequireResource, Context: ctx,
				}
				// Each case is decided with the identity policies as a
				// list and compiled as a Set (as the authorizer keeps a
				// principal's), which must decide alike.
				for _, compiled := range []bool{false, true} {
					ps := ps
					if compiled {
						ps.IdentitySet = NewSet(ps.Identity)
						for range 2 { // the second time from the Set's memo
							if d := Evaluate(req, ps); d != Evaluate(req, Policies{Identity: ps.Identity, Resource: ps.Resource, Boundary: ps.Boundary, Session: ps.Session}) {
								t.Fatalf("compiled Set decides %+v", d)
							}
						}
						list := Policies{Identity: ps.Identity, Resource: ps.Resource, Boundary: ps.Boundary, Session: ps.Session}
						if ps.NeedsResourceTags() != list.NeedsResourceTags() || ps.NeedsObjectTags() != list.NeedsObjectTags() {
							t.Fatal("the Set's NeedsResourceTags or NeedsObjectTags differs from its policies'")
						}
						for k := range rq.Context {
							if ps.Reads(k) != list.Reads(k) {
								t.Fatalf("the Set's Reads(%q) differs from its policies'", k)
							}
						}
					}
					d := Evaluate(req, ps)
					if d.Allowed != c.Allowed {
						t.Fatalf("compiled %v: allowed = %v (%s), want %v", compiled, d.Allowed, d.Detail(), c.Allowed)
					}
					if got := d.Reason(req.Action); got != c.Reason {
						t.Errorf("compiled %v: reason = %q, want %q", compiled, got, c.Reason)
					}
					if c.Detail != "" && d.Detail() != c.Detail {
						t.Errorf("compiled %v: detail = %q, want %q", compiled, d.Detail(), c.Detail)
					}
				}
			})
		}
	}
	t.Logf("%d cases", n)
}

func TestParseRefusesMalformedDocumentsAsIAM(t *testing.T) {
	b, err := os.ReadFile("testdata/parse.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Doc, Kind, Error string
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			k := Identity
			if c.Kind == "resource" {
				k = Resource
			}
			_, err := Parse(c.Doc, k)
			if c.Error == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			e := apierr.As(err)
			if e == nil || e.Code != "MalformedPolicyDocument" || e.Message != c.Error {
				t.Fatalf("Parse error = %v, want MalformedPolicyDocument %q", err, c.Error)
			}
		})
	}
}

func TestMessageIsAWSAccessDeniedText(t *testing.T) {
	req := &Request{Principal: Principal{ARN: "arn:aws:iam::111111111111:user/bob", Account: "111111111111"},
		Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:111111111111:table/t"}
	d := Evaluate(req, Policies{})
	want := "User: arn:aws:iam::111111111111:user/bob is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:111111111111:table/t because no identity-based policy allows the dynamodb:PutItem action"
	if got := d.Message(req); got != want {
		t.Fatalf("message\n got %s\nwant %s", got, want)
	}
}

func TestMatchWildcards(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*a*a*a*b", strings.Repeat("a", 200), false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", true}, {"日?", "日本", true},
	} {
		if got := Match(c.pattern, c.s, false); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestPolicyReadsTheKeysOfItsConditionsAndVariables(t *testing.T) {
	p, err := Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",
		"Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:PrincipalTag/team, 'none'}"]}}}}`, Identity)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"dynamodb:LeadingKeys": true, "DYNAMODB:leadingkeys": true, "aws:PrincipalTag/team": true,
		"aws:ResourceTag/team": false, "s3:prefix": false} {
		if got := p.Reads(key); got != want {
			t.Errorf("Reads(%q) = %v, want %v", key, got, want)
		}
	}
	if p.NeedsResourceTags() {
		t.Error("NeedsResourceTags of a policy without aws:ResourceTag")
	}
	q, _ := Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*",
		"Condition":{"StringEquals":{"aws:ResourceTag/Team":"blue"}}}}`, Identity)
	if !q.NeedsResourceTags() {
		t.Error("NeedsResourceTags of a policy with aws:ResourceTag/Team is false")
	}
	e, _ := Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*",
		"Condition":{"StringEquals":{"ecs:ResourceTag/Team":"blue"}}}}`, Identity)
	if !e.NeedsResourceTags() {
		t.Error("NeedsResourceTags of a policy with ECS's own ecs:ResourceTag/Team is false")
	}
}
