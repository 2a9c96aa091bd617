package iam

import (
	"testing"

	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/store"
)

// TestBindRegistersEveryImplementedOperation guards against a method whose
// signature drifts from the generated one: Bind would silently skip it.
func TestBindRegistersEveryImplementedOperation(t *testing.T) {
	s := New(Options{Store: store.OpenMemory(), Account: "123456789012"})
	iamOps := []string{
		"CreateUser", "GetUser", "ListUsers", "UpdateUser", "DeleteUser", "TagUser", "UntagUser", "ListUserTags",
		"CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
		"CreateRole", "GetRole", "ListRoles", "UpdateRole", "UpdateAssumeRolePolicy", "DeleteRole", "TagRole", "UntagRole", "ListRoleTags",
		"PutUserPolicy", "GetUserPolicy", "ListUserPolicies", "DeleteUserPolicy",
		"PutRolePolicy", "GetRolePolicy", "ListRolePolicies", "DeleteRolePolicy",
		"CreatePolicy", "GetPolicy", "ListPolicies", "DeletePolicy",
		"CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions", "DeletePolicyVersion", "SetDefaultPolicyVersion",
		"AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserPolicies", "ListGroupsForUser",
		"AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies", "ListEntitiesForPolicy",
		"CreateInstanceProfile", "GetInstanceProfile", "DeleteInstanceProfile", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile",
		"ListInstanceProfiles", "ListInstanceProfilesForRole", "TagInstanceProfile", "UntagInstanceProfile", "ListInstanceProfileTags",
		"SimulateCustomPolicy", "SimulatePrincipalPolicy", "GetAccountAuthorizationDetails",
		"CreateGroup", "GetGroup", "ListGroups", "UpdateGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
		"PutGroupPolicy", "GetGroupPolicy", "ListGroupPolicies", "DeleteGroupPolicy",
		"AttachGroupPolicy", "DetachGroupPolicy", "ListAttachedGroupPolicies",
	}
	h := api.Bind(s)
	for _, op := range iamOps {
		if h[op] == nil {
			t.Errorf("iam.Bind did not bind %s", op)
		}
	}
	if len(h) != len(iamOps) {
		t.Errorf("iam.Bind bound %d operations, want %d", len(h), len(iamOps))
	}
	sh := stsapi.Bind(s.STS())
	for _, op := range []string{"GetCallerIdentity", "AssumeRole", "GetSessionToken"} {
		if sh[op] == nil {
			t.Errorf("sts.Bind did not bind %s", op)
		}
	}
}
