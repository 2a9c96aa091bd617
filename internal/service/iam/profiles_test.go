package iam

import (
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
)

// An instance profile holds one role; while it does, the role cannot be
// deleted, and ListInstanceProfilesForRole (what Terraform calls before
// every role deletion) names it.
func TestInstanceProfileHoldsOneRoleAndBlocksItsDeletion(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	role, other, prof := awsapi.String("app"), awsapi.String("other"), awsapi.String("app-profile")
	for _, r := range []*string{role, other} {
		must[*api.CreateRoleOutput](t)(f.CreateRole(ctx, &api.CreateRoleInput{RoleName: r, AssumeRolePolicyDocument: awsapi.String(trust)}))
	}
	none := must[*api.ListInstanceProfilesForRoleOutput](t)(f.ListInstanceProfilesForRole(ctx, &api.ListInstanceProfilesForRoleInput{RoleName: role}))
	if len(none.InstanceProfiles) != 0 || none.InstanceProfiles == nil {
		t.Fatalf("profiles of a new role = %+v", none.InstanceProfiles)
	}
	_, err := f.ListInstanceProfilesForRole(ctx, &api.ListInstanceProfilesForRoleInput{RoleName: awsapi.String("missing")})
	wantCode(t, err, "NoSuchEntity")

	created := must[*api.CreateInstanceProfileOutput](t)(f.CreateInstanceProfile(ctx, &api.CreateInstanceProfileInput{InstanceProfileName: prof, Path: awsapi.String("/ec2/")}))
	if p := created.InstanceProfile; *p.Arn != "arn:aws:iam::"+testAccount+":instance-profile/ec2/app-profile" || len(*p.InstanceProfileId) != 21 || len(p.Roles) != 0 {
		t.Fatalf("created profile = %+v", p)
	}
	_, err = f.CreateInstanceProfile(ctx, &api.CreateInstanceProfileInput{InstanceProfileName: prof})
	wantCode(t, err, "EntityAlreadyExists")

	must[*api.AddRoleToInstanceProfileOutput](t)(f.AddRoleToInstanceProfile(ctx, &api.AddRoleToInstanceProfileInput{InstanceProfileName: prof, RoleName: role}))
	_, err = f.AddRoleToInstanceProfile(ctx, &api.AddRoleToInstanceProfileInput{InstanceProfileName: prof, RoleName: other})
	wantCode(t, err, "LimitExceeded")
	got := must[*api.GetInstanceProfileOutput](t)(f.GetInstanceProfile(ctx, &api.GetInstanceProfileInput{InstanceProfileName: prof}))
	if len(got.InstanceProfile.Roles) != 1 || *got.InstanceProfile.Roles[0].RoleName != "app" {
		t.Fatalf("profile roles = %+v", got.InstanceProfile.Roles)
	}
	forRole := must[*api.ListInstanceProfilesForRoleOutput](t)(f.ListInstanceProfilesForRole(ctx, &api.ListInstanceProfilesForRoleInput{RoleName: role}))
	if len(forRole.InstanceProfiles) != 1 || *forRole.InstanceProfiles[0].InstanceProfileName != "app-profile" {
		t.Fatalf("profiles of the role = %+v", forRole.InstanceProfiles)
	}
	_, err = f.DeleteRole(ctx, &api.DeleteRoleInput{RoleName: role})
	wantCode(t, err, "DeleteConflict")
	_, err = f.DeleteInstanceProfile(ctx, &api.DeleteInstanceProfileInput{InstanceProfileName: prof})
	wantCode(t, err, "DeleteConflict")

	_, err = f.RemoveRoleFromInstanceProfile(ctx, &api.RemoveRoleFromInstanceProfileInput{InstanceProfileName: prof, RoleName: other})
	wantCode(t, err, "NoSuchEntity")
	must[*api.RemoveRoleFromInstanceProfileOutput](t)(f.RemoveRoleFromInstanceProfile(ctx, &api.RemoveRoleFromInstanceProfileInput{InstanceProfileName: prof, RoleName: role}))
	must[*api.DeleteInstanceProfileOutput](t)(f.DeleteInstanceProfile(ctx, &api.DeleteInstanceProfileInput{InstanceProfileName: prof}))
	must[*api.DeleteRoleOutput](t)(f.DeleteRole(ctx, &api.DeleteRoleInput{RoleName: role}))
	_, err = f.GetInstanceProfile(ctx, &api.GetInstanceProfileInput{InstanceProfileName: prof})
	wantCode(t, err, "NoSuchEntity")
}
