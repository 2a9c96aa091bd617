package iam

import (
	"fmt"
	"net/url"
	"regexp"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
)

var policyIDPattern = regexp.MustCompile(`^ANPA[A-Z2-7]{17}$`)

func TestManagedPolicyVersions(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	p := must[*api.CreatePolicyOutput](t)(f.CreatePolicy(ctx, &api.CreatePolicyInput{PolicyName: awsapi.String("p"), Path: awsapi.String("/team/"),
		PolicyDocument: awsapi.String(allowAll), Description: awsapi.String("d")})).Policy
	if *p.Arn != "arn:aws:iam::123456789012:policy/team/p" || !policyIDPattern.MatchString(*p.PolicyId) || *p.DefaultVersionId != "v1" || *p.AttachmentCount != 0 {
		t.Fatalf("policy = %+v", p)
	}
	_, err := f.CreatePolicy(ctx, &api.CreatePolicyInput{PolicyName: awsapi.String("P"), PolicyDocument: awsapi.String(allowAll)})
	wantCode(t, err, "EntityAlreadyExists")
	_, err = f.CreatePolicy(ctx, &api.CreatePolicyInput{PolicyName: awsapi.String("q"), PolicyDocument: awsapi.String("nope")})
	wantCode(t, err, "MalformedPolicyDocument")

	steps := []struct {
		name       string
		do         func() error
		code       string
		wantDef    string
		wantListed string // versions, newest first
	}{
		{"create v2 as default", func() error {
			_, err := f.CreatePolicyVersion(ctx, &api.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: awsapi.String(`{"Statement":[]}`), SetAsDefault: awsapi.Bool(true)})
			return err
		}, "", "v2", "[v2 v1]"},
		{"create v3..v5", func() error {
			for range 3 {
				if _, err := f.CreatePolicyVersion(ctx, &api.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: awsapi.String(allowAll)}); err != nil {
					return err
				}
			}
			return nil
		}, "", "v2", "[v5 v4 v3 v2 v1]"},
		{"a sixth version exceeds the quota", func() error {
			_, err := f.CreatePolicyVersion(ctx, &api.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: awsapi.String(allowAll)})
			return err
		}, "LimitExceeded", "v2", "[v5 v4 v3 v2 v1]"},
		{"the default version cannot be deleted", func() error {
			_, err := f.DeletePolicyVersion(ctx, &api.DeletePolicyVersionInput{PolicyArn: p.Arn, VersionId: awsapi.String("v2")})
			return err
		}, "DeleteConflict", "v2", "[v5 v4 v3 v2 v1]"},
		{"delete v1", func() error {
			_, err := f.DeletePolicyVersion(ctx, &api.DeletePolicyVersionInput{PolicyArn: p.Arn, VersionId: awsapi.String("v1")})
			return err
		}, "", "v2", "[v5 v4 v3 v2]"},
		{"a policy with versions cannot be deleted", func() error {
			_, err := f.DeletePolicy(ctx, &api.DeletePolicyInput{PolicyArn: p.Arn})
			return err
		}, "DeleteConflict", "v2", "[v5 v4 v3 v2]"},
		{"set default to v4", func() error {
			_, err := f.SetDefaultPolicyVersion(ctx, &api.SetDefaultPolicyVersionInput{PolicyArn: p.Arn, VersionId: awsapi.String("v4")})
			return err
		}, "", "v4", "[v5 v4 v3 v2]"},
		{"set default to a missing version", func() error {
			_, err := f.SetDefaultPolicyVersion(ctx, &api.SetDefaultPolicyVersionInput{PolicyArn: p.Arn, VersionId: awsapi.String("v1")})
			return err
		}, "NoSuchEntity", "v4", "[v5 v4 v3 v2]"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			wantCode(t, s.do(), s.code)
			got := must[*api.GetPolicyOutput](t)(f.GetPolicy(ctx, &api.GetPolicyInput{PolicyArn: p.Arn})).Policy
			if *got.DefaultVersionId != s.wantDef {
				t.Fatalf("default = %s, want %s", *got.DefaultVersionId, s.wantDef)
			}
			var ids []string
			var marker *string
			for {
				out := must[*api.ListPolicyVersionsOutput](t)(f.ListPolicyVersions(ctx, &api.ListPolicyVersionsInput{PolicyArn: p.Arn, MaxItems: awsapi.Int32(2), Marker: marker}))
				for _, v := range out.Versions {
					ids = append(ids, *v.VersionId)
					if *v.IsDefaultVersion != (*v.VersionId == s.wantDef) {
						t.Fatalf("%s IsDefaultVersion = %v", *v.VersionId, *v.IsDefaultVersion)
					}
				}
				if !*out.IsTruncated {
					break
				}
				marker = out.Marker
			}
			if fmt.Sprint(ids) != s.wantListed {
				t.Fatalf("versions = %v, want %s", ids, s.wantListed)
			}
		})
	}
	v := must[*api.GetPolicyVersionOutput](t)(f.GetPolicyVersion(ctx, &api.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: awsapi.String("v2")})).PolicyVersion
	if doc, _ := url.PathUnescape(*v.Document); doc != `{"Statement":[]}` {
		t.Fatalf("v2 document = %q", doc)
	}
	for _, id := range []string{"v2", "v3", "v5"} {
		must[*api.DeletePolicyVersionOutput](t)(f.DeletePolicyVersion(ctx, &api.DeletePolicyVersionInput{PolicyArn: p.Arn, VersionId: &id}))
	}
	must[*api.DeletePolicyOutput](t)(f.DeletePolicy(ctx, &api.DeletePolicyInput{PolicyArn: p.Arn}))
	_, err = f.GetPolicy(ctx, &api.GetPolicyInput{PolicyArn: p.Arn})
	wantCode(t, err, "NoSuchEntity")
}

func TestAttachedPoliciesAndEntities(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: awsapi.String("u")}))
	must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: awsapi.String("r"), AssumeRolePolicyDocument: awsapi.String(trust)}))
	local := must[*api.CreatePolicyOutput](t)(f.CreatePolicy(ctx, &api.CreatePolicyInput{PolicyName: awsapi.String("mine"), PolicyDocument: awsapi.String(allowAll)})).Policy.Arn
	exec := awsapi.String("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")

	attachTests := []struct {
		name string
		do   func() error
		code string
	}{
		{"local policy to role", func() error {
			_, err := f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: local})
			return err
		}, ""},
		{"again is a no-op", func() error {
			_, err := f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: local})
			return err
		}, ""},
		{"AWS managed policy to role", func() error {
			_, err := f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: exec})
			return err
		}, ""},
		{"local policy to user", func() error {
			_, err := f.AttachUserPolicy(ctx, &api.AttachUserPolicyInput{UserName: awsapi.String("u"), PolicyArn: local})
			return err
		}, ""},
		{"unknown policy", func() error {
			_, err := f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: awsapi.String("arn:aws:iam::123456789012:policy/ghost")})
			return err
		}, "NoSuchEntity"},
		{"malformed ARN", func() error {
			_, err := f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: awsapi.String("policy/ghost")})
			return err
		}, "InvalidInput"},
		{"unknown role", func() error {
			_, err := f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("ghost"), PolicyArn: local})
			return err
		}, "NoSuchEntity"},
	}
	for _, tt := range attachTests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.do(), tt.code) })
	}

	attached := must[*api.ListAttachedRolePoliciesOutput](t)(f.ListAttachedRolePolicies(ctx, &api.ListAttachedRolePoliciesInput{RoleName: awsapi.String("r")}))
	if len(attached.AttachedPolicies) != 2 || *attached.AttachedPolicies[0].PolicyName != "mine" || *attached.AttachedPolicies[1].PolicyName != "AmazonECSTaskExecutionRolePolicy" {
		t.Fatalf("attached = %+v", attached.AttachedPolicies)
	}
	filtered := must[*api.ListAttachedRolePoliciesOutput](t)(f.ListAttachedRolePolicies(ctx, &api.ListAttachedRolePoliciesInput{RoleName: awsapi.String("r"), PathPrefix: awsapi.String("/service-role/")}))
	if len(filtered.AttachedPolicies) != 1 {
		t.Fatalf("attached under /service-role/ = %+v", filtered.AttachedPolicies)
	}
	if got := *must[*api.GetPolicyOutput](t)(f.GetPolicy(ctx, &api.GetPolicyInput{PolicyArn: local})).Policy.AttachmentCount; got != 2 {
		t.Fatalf("AttachmentCount = %d, want 2", got)
	}
	ents := must[*api.ListEntitiesForPolicyOutput](t)(f.ListEntitiesForPolicy(ctx, &api.ListEntitiesForPolicyInput{PolicyArn: local}))
	if len(ents.PolicyUsers) != 1 || len(ents.PolicyRoles) != 1 || *ents.PolicyRoles[0].RoleName != "r" {
		t.Fatalf("entities = %+v", ents)
	}
	onlyRoles := must[*api.ListEntitiesForPolicyOutput](t)(f.ListEntitiesForPolicy(ctx, &api.ListEntitiesForPolicyInput{PolicyArn: local, EntityFilter: awsapi.String("Role")}))
	if len(onlyRoles.PolicyUsers) != 0 || len(onlyRoles.PolicyRoles) != 1 {
		t.Fatalf("role entities = %+v", onlyRoles)
	}

	_, err := f.DeletePolicy(ctx, &api.DeletePolicyInput{PolicyArn: local})
	wantCode(t, err, "DeleteConflict")
	_, err = f.DetachUserPolicy(ctx, &api.DetachUserPolicyInput{UserName: awsapi.String("u"), PolicyArn: exec})
	wantCode(t, err, "NoSuchEntity")
	must[*api.DetachUserPolicyOutput](t)(f.DetachUserPolicy(ctx, &api.DetachUserPolicyInput{UserName: awsapi.String("u"), PolicyArn: local}))
	must[*api.DetachRolePolicyOutput](t)(f.DetachRolePolicy(ctx, &api.DetachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: local}))
	must[*api.DeletePolicyOutput](t)(f.DeletePolicy(ctx, &api.DeletePolicyInput{PolicyArn: local}))
}

func TestListPoliciesScopes(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: awsapi.String("r"), AssumeRolePolicyDocument: awsapi.String(trust)}))
	a := must[*api.CreatePolicyOutput](t)(f.CreatePolicy(ctx, &api.CreatePolicyInput{PolicyName: awsapi.String("a"), PolicyDocument: awsapi.String(allowAll)})).Policy.Arn
	must[*api.CreatePolicyOutput](t)(f.CreatePolicy(ctx, &api.CreatePolicyInput{PolicyName: awsapi.String("b"), Path: awsapi.String("/x/"), PolicyDocument: awsapi.String(allowAll)}))
	must[*api.AttachRolePolicyOutput](t)(f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: a}))
	must[*api.AttachRolePolicyOutput](t)(f.AttachRolePolicy(ctx, &api.AttachRolePolicyInput{RoleName: awsapi.String("r"), PolicyArn: awsapi.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))

	tests := []struct {
		name string
		in   api.ListPoliciesInput
		want int
		code string
	}{
		{"local", api.ListPoliciesInput{Scope: awsapi.String("Local")}, 2, ""},
		{"local under a path", api.ListPoliciesInput{Scope: awsapi.String("Local"), PathPrefix: awsapi.String("/x/")}, 1, ""},
		{"only attached, all scopes", api.ListPoliciesInput{OnlyAttached: awsapi.Bool(true)}, 2, ""},
		{"only attached, AWS", api.ListPoliciesInput{Scope: awsapi.String("AWS"), OnlyAttached: awsapi.Bool(true)}, 1, ""},
		{"all", api.ListPoliciesInput{}, 2 + len(awsManaged()), ""},
		{"bad scope", api.ListPoliciesInput{Scope: awsapi.String("Mine")}, 0, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.ListPolicies(ctx, &tt.in)
			wantCode(t, err, tt.code)
			if tt.code == "" && len(out.Policies) != tt.want {
				t.Fatalf("%d policies, want %d", len(out.Policies), tt.want)
			}
		})
	}
}
