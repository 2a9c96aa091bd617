package iam

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
)

var groupIDPattern = regexp.MustCompile(`^AGPA[A-Z2-7]{17}$`)

func groupNames(gs []api.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, *g.GroupName)
	}
	return out
}

func TestGroupsHoldUsersAndTheirMembershipsFollowRenames(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	s := awsapi.String
	g := must[*api.CreateGroupOutput](t)(f.CreateGroup(ctx, &api.CreateGroupInput{GroupName: s("devs"), Path: s("/eng/")})).Group
	if *g.Arn != "arn:aws:iam::123456789012:group/eng/devs" || !groupIDPattern.MatchString(*g.GroupId) || !g.CreateDate.Equal(t0) {
		t.Fatalf("group = %s %s %v", *g.Arn, *g.GroupId, g.CreateDate)
	}
	_, err := f.CreateGroup(ctx, &api.CreateGroupInput{GroupName: s("DEVS")})
	wantCode(t, err, "EntityAlreadyExists")
	must[*api.CreateGroupOutput](t)(f.CreateGroup(ctx, &api.CreateGroupInput{GroupName: s("ops")}))
	for _, u := range []string{"bob", "alice"} {
		must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: s(u)}))
		must[*api.AddUserToGroupOutput](t)(f.AddUserToGroup(ctx, &api.AddUserToGroupInput{GroupName: s("devs"), UserName: s(u)}))
	}
	// Adding a member again changes nothing.
	must[*api.AddUserToGroupOutput](t)(f.AddUserToGroup(ctx, &api.AddUserToGroupInput{GroupName: s("devs"), UserName: s("bob")}))
	must[*api.AddUserToGroupOutput](t)(f.AddUserToGroup(ctx, &api.AddUserToGroupInput{GroupName: s("ops"), UserName: s("bob")}))
	_, err = f.AddUserToGroup(ctx, &api.AddUserToGroupInput{GroupName: s("ghosts"), UserName: s("bob")})
	wantCode(t, err, "NoSuchEntity")
	_, err = f.AddUserToGroup(ctx, &api.AddUserToGroupInput{GroupName: s("ops"), UserName: s("ghost")})
	wantCode(t, err, "NoSuchEntity")

	got := must[*api.GetGroupOutput](t)(f.GetGroup(ctx, &api.GetGroupInput{GroupName: s("devs")}))
	var users []string
	for _, u := range got.Users {
		users = append(users, *u.UserName)
	}
	if !slices.Equal(users, []string{"alice", "bob"}) || *got.Group.GroupId != *g.GroupId {
		t.Fatalf("GetGroup users = %v", users)
	}
	if n := groupNames(must[*api.ListGroupsForUserOutput](t)(f.ListGroupsForUser(ctx, &api.ListGroupsForUserInput{UserName: s("bob")})).Groups); !slices.Equal(n, []string{"devs", "ops"}) {
		t.Fatalf("ListGroupsForUser(bob) = %v", n)
	}
	if n := groupNames(must[*api.ListGroupsOutput](t)(f.ListGroups(ctx, &api.ListGroupsInput{PathPrefix: s("/eng/")})).Groups); !slices.Equal(n, []string{"devs"}) {
		t.Fatalf("ListGroups(/eng/) = %v", n)
	}

	// A member cannot be deleted, nor a group with members.
	_, err = f.DeleteUser(ctx, &api.DeleteUserInput{UserName: s("alice")})
	wantCode(t, err, "DeleteConflict")
	_, err = f.DeleteGroup(ctx, &api.DeleteGroupInput{GroupName: s("devs")})
	wantCode(t, err, "DeleteConflict")

	must[*api.UpdateGroupOutput](t)(f.UpdateGroup(ctx, &api.UpdateGroupInput{GroupName: s("devs"), NewGroupName: s("builders")}))
	if n := groupNames(must[*api.ListGroupsForUserOutput](t)(f.ListGroupsForUser(ctx, &api.ListGroupsForUserInput{UserName: s("alice")})).Groups); !slices.Equal(n, []string{"builders"}) {
		t.Fatalf("after the rename ListGroupsForUser(alice) = %v", n)
	}
	_, err = f.GetGroup(ctx, &api.GetGroupInput{GroupName: s("devs")})
	wantCode(t, err, "NoSuchEntity")

	must[*api.RemoveUserFromGroupOutput](t)(f.RemoveUserFromGroup(ctx, &api.RemoveUserFromGroupInput{GroupName: s("builders"), UserName: s("alice")}))
	_, err = f.RemoveUserFromGroup(ctx, &api.RemoveUserFromGroupInput{GroupName: s("builders"), UserName: s("alice")})
	wantCode(t, err, "NoSuchEntity")
	must[*api.DeleteUserOutput](t)(f.DeleteUser(ctx, &api.DeleteUserInput{UserName: s("alice")}))
	must[*api.RemoveUserFromGroupOutput](t)(f.RemoveUserFromGroup(ctx, &api.RemoveUserFromGroupInput{GroupName: s("builders"), UserName: s("bob")}))
	must[*api.DeleteGroupOutput](t)(f.DeleteGroup(ctx, &api.DeleteGroupInput{GroupName: s("builders")}))
}

func TestGroupPoliciesApplyToTheGroupsUsers(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	s := awsapi.String
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: s("bob")}))
	must[*api.CreateGroupOutput](t)(f.CreateGroup(ctx, &api.CreateGroupInput{GroupName: s("readers")}))
	must[*api.PutGroupPolicyOutput](t)(f.PutGroupPolicy(ctx, &api.PutGroupPolicyInput{GroupName: s("readers"), PolicyName: s("read"), PolicyDocument: s(allowAll)}))
	pol := must[*api.CreatePolicyOutput](t)(f.CreatePolicy(ctx, &api.CreatePolicyInput{PolicyName: s("p"), PolicyDocument: s(allowAll)})).Policy
	must[*api.AttachGroupPolicyOutput](t)(f.AttachGroupPolicy(ctx, &api.AttachGroupPolicyInput{GroupName: s("readers"), PolicyArn: pol.Arn}))

	identity := func() []string {
		t.Helper()
		p, err := f.Principal(context.Background(), "arn:aws:iam::123456789012:user/bob", "")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range p.Identity {
			names = append(names, d.Name)
		}
		return names
	}
	if got := identity(); len(got) != 0 {
		t.Fatalf("before joining, bob's policies = %v", got)
	}
	must[*api.AddUserToGroupOutput](t)(f.AddUserToGroup(ctx, &api.AddUserToGroupInput{GroupName: s("readers"), UserName: s("bob")}))
	if got, want := identity(), []string{"group readers read", *pol.Arn}; !slices.Equal(got, want) {
		t.Fatalf("bob's policies = %v, want %v", got, want)
	}

	if n := must[*api.ListGroupPoliciesOutput](t)(f.ListGroupPolicies(ctx, &api.ListGroupPoliciesInput{GroupName: s("readers")})).PolicyNames; !slices.Equal(n, []string{"read"}) {
		t.Fatalf("ListGroupPolicies = %v", n)
	}
	gp := must[*api.GetGroupPolicyOutput](t)(f.GetGroupPolicy(ctx, &api.GetGroupPolicyInput{GroupName: s("readers"), PolicyName: s("read")}))
	if *gp.PolicyDocument != encodePolicy(allowAll) {
		t.Fatalf("GetGroupPolicy = %s", *gp.PolicyDocument)
	}
	att := must[*api.ListAttachedGroupPoliciesOutput](t)(f.ListAttachedGroupPolicies(ctx, &api.ListAttachedGroupPoliciesInput{GroupName: s("readers")}))
	if len(att.AttachedPolicies) != 1 || *att.AttachedPolicies[0].PolicyArn != *pol.Arn {
		t.Fatalf("ListAttachedGroupPolicies = %+v", att.AttachedPolicies)
	}
	ents := must[*api.ListEntitiesForPolicyOutput](t)(f.ListEntitiesForPolicy(ctx, &api.ListEntitiesForPolicyInput{PolicyArn: pol.Arn}))
	if len(ents.PolicyGroups) != 1 || *ents.PolicyGroups[0].GroupName != "readers" || len(ents.PolicyUsers) != 0 {
		t.Fatalf("ListEntitiesForPolicy = %+v", ents)
	}
	if c := must[*api.GetPolicyOutput](t)(f.GetPolicy(ctx, &api.GetPolicyInput{PolicyArn: pol.Arn})).Policy.AttachmentCount; *c != 1 {
		t.Fatalf("AttachmentCount = %d", *c)
	}
	_, err := f.DeletePolicy(ctx, &api.DeletePolicyInput{PolicyArn: pol.Arn})
	wantCode(t, err, "DeleteConflict")
	_, err = f.DeleteGroup(ctx, &api.DeleteGroupInput{GroupName: s("readers")})
	wantCode(t, err, "DeleteConflict")

	must[*api.DetachGroupPolicyOutput](t)(f.DetachGroupPolicy(ctx, &api.DetachGroupPolicyInput{GroupName: s("readers"), PolicyArn: pol.Arn}))
	must[*api.DeleteGroupPolicyOutput](t)(f.DeleteGroupPolicy(ctx, &api.DeleteGroupPolicyInput{GroupName: s("readers"), PolicyName: s("read")}))
	_, err = f.DeleteGroupPolicy(ctx, &api.DeleteGroupPolicyInput{GroupName: s("readers"), PolicyName: s("read")})
	wantCode(t, err, "NoSuchEntity")
	if got := identity(); len(got) != 0 {
		t.Fatalf("after the group's policies went, bob's policies = %v", got)
	}
}

func TestGroupQuotas(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	s := awsapi.String
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: s("bob")}))
	for i := range maxGroupsPerUser + 1 {
		name := s("g" + string(rune('a'+i)))
		must[*api.CreateGroupOutput](t)(f.CreateGroup(ctx, &api.CreateGroupInput{GroupName: name}))
		_, err := f.AddUserToGroup(ctx, &api.AddUserToGroupInput{GroupName: name, UserName: s("bob")})
		if i < maxGroupsPerUser {
			wantCode(t, err, "")
		} else {
			wantCode(t, err, "LimitExceeded")
		}
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` +
		strings.Repeat("x", maxGroupInline) + `"}]}`
	_, err := f.PutGroupPolicy(ctx, &api.PutGroupPolicyInput{GroupName: s("ga"), PolicyName: s("big"), PolicyDocument: s(big)})
	wantCode(t, err, "LimitExceeded")
}
