package iam

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
)

func TestCreateRole(t *testing.T) {
	tests := []struct {
		name    string
		in      api.CreateRoleInput
		want    string
		maxSess int32
	}{
		{"defaults", api.CreateRoleInput{RoleName: awsapi.String("r1"), AssumeRolePolicyDocument: awsapi.String(trust)}, "", 3600},
		{"max session and description", api.CreateRoleInput{RoleName: awsapi.String("r2"), AssumeRolePolicyDocument: awsapi.String(trust),
			MaxSessionDuration: awsapi.Int32(43200), Description: awsapi.String("d"), Path: awsapi.String("/svc/")}, "", 43200},
		{"duplicate", api.CreateRoleInput{RoleName: awsapi.String("R1"), AssumeRolePolicyDocument: awsapi.String(trust)}, "EntityAlreadyExists", 0},
		{"trust policy not JSON", api.CreateRoleInput{RoleName: awsapi.String("r3"), AssumeRolePolicyDocument: awsapi.String("{nope")}, "MalformedPolicyDocument", 0},
		{"trust policy without statement", api.CreateRoleInput{RoleName: awsapi.String("r3"), AssumeRolePolicyDocument: awsapi.String(`{"Version":"2012-10-17"}`)}, "MalformedPolicyDocument", 0},
		{"session too short", api.CreateRoleInput{RoleName: awsapi.String("r3"), AssumeRolePolicyDocument: awsapi.String(trust), MaxSessionDuration: awsapi.Int32(900)}, "ValidationError", 0},
		{"session too long", api.CreateRoleInput{RoleName: awsapi.String("r3"), AssumeRolePolicyDocument: awsapi.String(trust), MaxSessionDuration: awsapi.Int32(43201)}, "ValidationError", 0},
	}
	f := newFixture(t)
	ctx := f.root(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.CreateRole(ctx, &tt.in)
			wantCode(t, err, tt.want)
			if tt.want != "" {
				return
			}
			got := must[*api.GetRoleOutput](t)(f.GetRole(ctx, &api.GetRoleInput{RoleName: tt.in.RoleName})).Role
			doc, err := url.PathUnescape(*got.AssumeRolePolicyDocument)
			if err != nil || doc != trust {
				t.Fatalf("trust policy decodes to %q, %v", doc, err)
			}
			if *got.AssumeRolePolicyDocument == trust {
				t.Fatal("trust policy returned without URL encoding")
			}
			if *got.MaxSessionDuration != tt.maxSess || *got.RoleId != *out.Role.RoleId || *got.Arn != roleARN(testAccount, *got.Path, *tt.in.RoleName) {
				t.Fatalf("role = %+v", got)
			}
		})
	}
}

func TestUpdateRoleAndTrustPolicy(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	name := awsapi.String("r")
	must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: awsapi.String(trust)}))
	must[*api.UpdateRoleOutput](t)(f.UpdateRole(ctx, &api.UpdateRoleInput{RoleName: name, Description: awsapi.String("new"), MaxSessionDuration: awsapi.Int32(7200)}))
	_, err := f.UpdateAssumeRolePolicy(ctx, &api.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: awsapi.String("[]")})
	wantCode(t, err, "MalformedPolicyDocument")
	must[*api.UpdateAssumeRolePolicyOutput](t)(f.UpdateAssumeRolePolicy(ctx, &api.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: awsapi.String(allowAll)}))
	r := must[*api.GetRoleOutput](t)(f.GetRole(ctx, &api.GetRoleInput{RoleName: name})).Role
	if *r.Description != "new" || *r.MaxSessionDuration != 7200 || *r.AssumeRolePolicyDocument != encodePolicy(allowAll) {
		t.Fatalf("role = %+v", r)
	}
	_, err = f.UpdateRole(ctx, &api.UpdateRoleInput{RoleName: awsapi.String("ghost")})
	wantCode(t, err, "NoSuchEntity")
}

func TestListRolesPaginates(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	for i := range 7 {
		must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: awsapi.String(fmt.Sprintf("role-%d", 6-i)), AssumeRolePolicyDocument: awsapi.String(trust)}))
	}
	var got []string
	var marker *string
	for {
		out := must[*api.ListRolesOutput](t)(f.ListRoles(ctx, &api.ListRolesInput{MaxItems: awsapi.Int32(3), Marker: marker}))
		if len(out.Roles) > 3 {
			t.Fatalf("page of %d roles", len(out.Roles))
		}
		for _, r := range out.Roles {
			got = append(got, *r.RoleName)
		}
		if !*out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if want := "[role-0 role-1 role-2 role-3 role-4 role-5 role-6]"; fmt.Sprint(got) != want {
		t.Fatalf("roles = %v, want %s", got, want)
	}
}

func TestRoleTags(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	name := awsapi.String("r")
	must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: awsapi.String(trust),
		Tags: []api.Tag{{Key: awsapi.String("team"), Value: awsapi.String("a")}}}))
	tests := []struct {
		name string
		do   func() error
		want string // tags after, as key=value
		code string
	}{
		{"add and overwrite", func() error {
			_, err := f.TagRole(ctx, &api.TagRoleInput{RoleName: name, Tags: []api.Tag{
				{Key: awsapi.String("env"), Value: awsapi.String("dev")}, {Key: awsapi.String("team"), Value: awsapi.String("b")}}})
			return err
		}, "[team=b env=dev]", ""},
		{"untag", func() error {
			_, err := f.UntagRole(ctx, &api.UntagRoleInput{RoleName: name, TagKeys: []string{"team"}})
			return err
		}, "[env=dev]", ""},
		{"invalid key", func() error {
			_, err := f.TagRole(ctx, &api.TagRoleInput{RoleName: name, Tags: []api.Tag{{Key: awsapi.String("bad*key"), Value: awsapi.String("")}}})
			return err
		}, "[env=dev]", "ValidationError"},
		{"missing role", func() error {
			_, err := f.TagRole(ctx, &api.TagRoleInput{RoleName: awsapi.String("ghost"), Tags: []api.Tag{{Key: awsapi.String("k"), Value: awsapi.String("")}}})
			return err
		}, "[env=dev]", "NoSuchEntity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.do(), tt.code)
			out := must[*api.ListRoleTagsOutput](t)(f.ListRoleTags(ctx, &api.ListRoleTagsInput{RoleName: name}))
			var got []string
			for _, tg := range out.Tags {
				got = append(got, *tg.Key+"="+*tg.Value)
			}
			if fmt.Sprint(got) != tt.want {
				t.Fatalf("tags = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestInlineRolePolicies(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	name := awsapi.String("r")
	must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: awsapi.String(trust)}))
	tests := []struct {
		name, policy, doc, code string
	}{
		{"put", "b", allowAll, ""},
		{"put another", "a", allowAll, ""},
		{"replace", "b", `{"Statement":[]}`, ""},
		{"malformed", "c", `{"Statement":`, "MalformedPolicyDocument"},
		{"bad name", "c d", allowAll, "ValidationError"},
	}
	for _, tt := range tests {
		_, err := f.PutRolePolicy(ctx, &api.PutRolePolicyInput{RoleName: name, PolicyName: &tt.policy, PolicyDocument: &tt.doc})
		t.Run(tt.name, func(t *testing.T) { wantCode(t, err, tt.code) })
	}
	list := must[*api.ListRolePoliciesOutput](t)(f.ListRolePolicies(ctx, &api.ListRolePoliciesInput{RoleName: name}))
	if fmt.Sprint(list.PolicyNames) != "[a b]" {
		t.Fatalf("names = %v", list.PolicyNames)
	}
	got := must[*api.GetRolePolicyOutput](t)(f.GetRolePolicy(ctx, &api.GetRolePolicyInput{RoleName: name, PolicyName: awsapi.String("b")}))
	if doc, _ := url.PathUnescape(*got.PolicyDocument); doc != `{"Statement":[]}` {
		t.Fatalf("document = %q", doc)
	}
	_, err := f.DeleteRole(ctx, &api.DeleteRoleInput{RoleName: name})
	wantCode(t, err, "DeleteConflict")
	for _, p := range []string{"a", "b"} {
		must[*api.DeleteRolePolicyOutput](t)(f.DeleteRolePolicy(ctx, &api.DeleteRolePolicyInput{RoleName: name, PolicyName: &p}))
	}
	_, err = f.GetRolePolicy(ctx, &api.GetRolePolicyInput{RoleName: name, PolicyName: awsapi.String("a")})
	wantCode(t, err, "NoSuchEntity")
	must[*api.DeleteRoleOutput](t)(f.DeleteRole(ctx, &api.DeleteRoleInput{RoleName: name}))
}

func TestInlinePolicySizeQuota(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	name := awsapi.String("u")
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: name}))
	big := fmt.Sprintf(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"%0*d"}]}`, 1900, 0)
	must[*api.PutUserPolicyOutput](t)(f.PutUserPolicy(ctx, &api.PutUserPolicyInput{UserName: name, PolicyName: awsapi.String("a"), PolicyDocument: &big}))
	_, err := f.PutUserPolicy(ctx, &api.PutUserPolicyInput{UserName: name, PolicyName: awsapi.String("b"), PolicyDocument: &big})
	wantCode(t, err, "LimitExceeded")
}
