package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/store"
)

// maxAttached is IAM's "Managed policies attached to an IAM role/user" quota.
const maxAttached = 20

// attach adds arn to *list once; attaching an attached policy is a no-op.
func attach(tx store.Tx, acct string, list *[]string, arn string) error {
	p, err := findPolicy(tx, acct, arn)
	if err != nil {
		return err
	}
	if slices.Contains(*list, p.ARN) {
		return nil
	}
	if len(*list) >= maxAttached {
		return limitExceeded("Cannot exceed quota for PoliciesPerUser: %d", maxAttached)
	}
	*list = append(*list, p.ARN)
	return nil
}

func detach(list *[]string, arn string) error {
	if !slices.Contains(*list, arn) {
		return noSuchEntity("Policy %s was not found.", arn)
	}
	*list = slices.DeleteFunc(*list, func(a string) bool { return a == arn })
	return nil
}

// listAttached pages the attached policies whose path starts with prefix.
func listAttached(tx store.Tx, acct string, arns []string, prefix, marker *string, maxItems *int32) ([]api.AttachedPolicy, *bool, *string, error) {
	var ps []*policy
	for _, arn := range arns {
		p, err := findPolicy(tx, acct, arn)
		if err != nil {
			if apiErr := asNoSuchEntity(err); apiErr {
				continue // deleted since; IAM forbids that, but stay robust
			}
			return nil, nil, nil, err
		}
		if hasPathPrefix(p.Path, prefix) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *policy) int {
		if a.ARN < b.ARN {
			return -1
		}
		if a.ARN > b.ARN {
			return 1
		}
		return 0
	})
	pg, truncated, next, err := page(ps, func(p *policy) string { return p.ARN }, marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	out := []api.AttachedPolicy{}
	for _, p := range pg {
		out = append(out, api.AttachedPolicy{PolicyName: awsapi.String(p.Name), PolicyArn: awsapi.String(p.ARN)})
	}
	return out, awsapi.Bool(truncated), next, nil
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Service) AttachUserPolicy(ctx context.Context, in *api.AttachUserPolicyInput) (*api.AttachUserPolicyOutput, error) {
	acct := s.account(ctx)
	err := s.updateUser(ctx, awsapi.ToString(in.UserName), func(tx store.Tx, u *user) error {
		return attach(tx, acct, &u.Attached, awsapi.ToString(in.PolicyArn))
	})
	if err != nil {
		return nil, err
	}
	return &api.AttachUserPolicyOutput{}, nil
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Service) DetachUserPolicy(ctx context.Context, in *api.DetachUserPolicyInput) (*api.DetachUserPolicyOutput, error) {
	err := s.updateUser(ctx, awsapi.ToString(in.UserName), func(_ store.Tx, u *user) error {
		return detach(&u.Attached, awsapi.ToString(in.PolicyArn))
	})
	if err != nil {
		return nil, err
	}
	return &api.DetachUserPolicyOutput{}, nil
}

// ListAttachedUserPolicies lists the managed policies attached to a user.
func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *api.ListAttachedUserPoliciesInput) (*api.ListAttachedUserPoliciesOutput, error) {
	acct := s.account(ctx)
	out := &api.ListAttachedUserPoliciesOutput{}
	err := s.st.View(func(tx store.Tx) error {
		u, err := loadUser(tx, acct, awsapi.ToString(in.UserName))
		if err != nil {
			return err
		}
		out.AttachedPolicies, out.IsTruncated, out.Marker, err = listAttached(tx, acct, u.Attached, in.PathPrefix, in.Marker, in.MaxItems)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Service) AttachRolePolicy(ctx context.Context, in *api.AttachRolePolicyInput) (*api.AttachRolePolicyOutput, error) {
	acct := s.account(ctx)
	err := s.updateRole(ctx, awsapi.ToString(in.RoleName), func(tx store.Tx, r *role) error {
		return attach(tx, acct, &r.Attached, awsapi.ToString(in.PolicyArn))
	})
	if err != nil {
		return nil, err
	}
	return &api.AttachRolePolicyOutput{}, nil
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, in *api.DetachRolePolicyInput) (*api.DetachRolePolicyOutput, error) {
	err := s.updateRole(ctx, awsapi.ToString(in.RoleName), func(_ store.Tx, r *role) error {
		return detach(&r.Attached, awsapi.ToString(in.PolicyArn))
	})
	if err != nil {
		return nil, err
	}
	return &api.DetachRolePolicyOutput{}, nil
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *api.ListAttachedRolePoliciesInput) (*api.ListAttachedRolePoliciesOutput, error) {
	acct := s.account(ctx)
	out := &api.ListAttachedRolePoliciesOutput{}
	err := s.st.View(func(tx store.Tx) error {
		r, err := loadRole(tx, acct, awsapi.ToString(in.RoleName))
		if err != nil {
			return err
		}
		out.AttachedPolicies, out.IsTruncated, out.Marker, err = listAttached(tx, acct, r.Attached, in.PathPrefix, in.Marker, in.MaxItems)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListEntitiesForPolicy lists the users, roles and groups a managed policy
// is attached to.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, in *api.ListEntitiesForPolicyInput) (*api.ListEntitiesForPolicyOutput, error) {
	acct := s.account(ctx)
	filter := awsapi.ToString(in.EntityFilter)
	type entity struct {
		key   string
		user  *api.PolicyUser
		role  *api.PolicyRole
		group *api.PolicyGroup
	}
	var es []entity
	err := s.st.View(func(tx store.Tx) error {
		p, err := findPolicy(tx, acct, awsapi.ToString(in.PolicyArn))
		if err != nil {
			return err
		}
		at, err := attachments(tx, acct, p.ARN)
		if err != nil {
			return err
		}
		if filter == "" || filter == "User" {
			for _, u := range at.users {
				if hasPathPrefix(u.Path, in.PathPrefix) {
					es = append(es, entity{key: "u/" + sortKey(u.Name), user: &api.PolicyUser{UserName: awsapi.String(u.Name), UserId: awsapi.String(u.ID)}})
				}
			}
		}
		if filter == "" || filter == "Role" {
			for _, r := range at.roles {
				if hasPathPrefix(r.Path, in.PathPrefix) {
					es = append(es, entity{key: "r/" + sortKey(r.Name), role: &api.PolicyRole{RoleName: awsapi.String(r.Name), RoleId: awsapi.String(r.ID)}})
				}
			}
		}
		if filter == "" || filter == "Group" {
			for _, g := range at.groups {
				if hasPathPrefix(g.Path, in.PathPrefix) {
					es = append(es, entity{key: "g/" + sortKey(g.Name), group: &api.PolicyGroup{GroupName: awsapi.String(g.Name), GroupId: awsapi.String(g.ID)}})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(es, func(a, b entity) int { return strings.Compare(a.key, b.key) })
	pg, truncated, next, err := page(es, func(e entity) string { return e.key }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListEntitiesForPolicyOutput{PolicyGroups: []api.PolicyGroup{}, PolicyUsers: []api.PolicyUser{}, PolicyRoles: []api.PolicyRole{},
		IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, e := range pg {
		switch {
		case e.user != nil:
			out.PolicyUsers = append(out.PolicyUsers, *e.user)
		case e.role != nil:
			out.PolicyRoles = append(out.PolicyRoles, *e.role)
		default:
			out.PolicyGroups = append(out.PolicyGroups, *e.group)
		}
	}
	return out, nil
}
