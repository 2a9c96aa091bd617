package iam

import (
	"context"
	"slices"
	"unicode"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/store"
)

// Aggregate inline policy size quotas, in characters excluding whitespace
// ("IAM and AWS STS quotas": user policy size 2,048, role policy size 10,240).
const (
	maxUserInline = 2048
	maxRoleInline = 10240
)

func inlineSize(policies map[string]string) int {
	n := 0
	for _, d := range policies {
		for _, r := range d {
			if !unicode.IsSpace(r) {
				n++
			}
		}
	}
	return n
}

// putInline sets policy name to doc in *m, enforcing the aggregate quota.
func putInline(m *map[string]string, name, doc string, limit int, kind, entity string) error {
	next := map[string]string{}
	for k, v := range *m {
		next[k] = v
	}
	next[name] = doc
	if inlineSize(next) > limit {
		return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", limit, kind, entity)
	}
	*m = next
	return nil
}

func inlineNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func pageNames(names []string, marker *string, maxItems *int32) ([]string, *bool, *string, error) {
	pg, truncated, next, err := page(names, func(n string) string { return n }, marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	if pg == nil {
		pg = []string{}
	}
	return pg, awsapi.Bool(truncated), next, nil
}

func inlineNotFound(kind, name string) error {
	return noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
}

// PutUserPolicy creates or replaces an inline policy of a user.
func (s *Service) PutUserPolicy(ctx context.Context, in *api.PutUserPolicyInput) (*api.PutUserPolicyOutput, error) {
	name, err := checkName("policyName", in.PolicyName, 128)
	if err != nil {
		return nil, err
	}
	doc, err := checkPolicyDocument("policyDocument", in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	err = s.updateUser(ctx, awsapi.ToString(in.UserName), func(_ store.Tx, u *user) error {
		return putInline(&u.Inline, name, doc, maxUserInline, "user", u.Name)
	})
	if err != nil {
		return nil, err
	}
	return &api.PutUserPolicyOutput{}, nil
}

// GetUserPolicy returns an inline policy of a user, URL-encoded as IAM returns it.
func (s *Service) GetUserPolicy(ctx context.Context, in *api.GetUserPolicyInput) (*api.GetUserPolicyOutput, error) {
	u, err := s.viewUser(ctx, awsapi.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.PolicyName)
	doc, ok := u.Inline[name]
	if !ok {
		return nil, inlineNotFound("user", name)
	}
	return &api.GetUserPolicyOutput{UserName: awsapi.String(u.Name), PolicyName: awsapi.String(name), PolicyDocument: awsapi.String(encodePolicy(doc))}, nil
}

// ListUserPolicies lists the names of a user's inline policies.
func (s *Service) ListUserPolicies(ctx context.Context, in *api.ListUserPoliciesInput) (*api.ListUserPoliciesOutput, error) {
	u, err := s.viewUser(ctx, awsapi.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	names, truncated, next, err := pageNames(inlineNames(u.Inline), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListUserPoliciesOutput{PolicyNames: names, IsTruncated: truncated, Marker: next}, nil
}

// DeleteUserPolicy deletes an inline policy of a user.
func (s *Service) DeleteUserPolicy(ctx context.Context, in *api.DeleteUserPolicyInput) (*api.DeleteUserPolicyOutput, error) {
	name := awsapi.ToString(in.PolicyName)
	err := s.updateUser(ctx, awsapi.ToString(in.UserName), func(_ store.Tx, u *user) error {
		if _, ok := u.Inline[name]; !ok {
			return inlineNotFound("user", name)
		}
		delete(u.Inline, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteUserPolicyOutput{}, nil
}

// PutRolePolicy creates or replaces an inline policy of a role.
func (s *Service) PutRolePolicy(ctx context.Context, in *api.PutRolePolicyInput) (*api.PutRolePolicyOutput, error) {
	name, err := checkName("policyName", in.PolicyName, 128)
	if err != nil {
		return nil, err
	}
	doc, err := checkPolicyDocument("policyDocument", in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	err = s.updateRole(ctx, awsapi.ToString(in.RoleName), func(_ store.Tx, r *role) error {
		return putInline(&r.Inline, name, doc, maxRoleInline, "role", r.Name)
	})
	if err != nil {
		return nil, err
	}
	return &api.PutRolePolicyOutput{}, nil
}

// GetRolePolicy returns an inline policy of a role, URL-encoded as IAM returns it.
func (s *Service) GetRolePolicy(ctx context.Context, in *api.GetRolePolicyInput) (*api.GetRolePolicyOutput, error) {
	r, err := s.viewRole(ctx, awsapi.ToString(in.RoleName))
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.PolicyName)
	doc, ok := r.Inline[name]
	if !ok {
		return nil, inlineNotFound("role", name)
	}
	return &api.GetRolePolicyOutput{RoleName: awsapi.String(r.Name), PolicyName: awsapi.String(name), PolicyDocument: awsapi.String(encodePolicy(doc))}, nil
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, in *api.ListRolePoliciesInput) (*api.ListRolePoliciesOutput, error) {
	r, err := s.viewRole(ctx, awsapi.ToString(in.RoleName))
	if err != nil {
		return nil, err
	}
	names, truncated, next, err := pageNames(inlineNames(r.Inline), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListRolePoliciesOutput{PolicyNames: names, IsTruncated: truncated, Marker: next}, nil
}

// DeleteRolePolicy deletes an inline policy of a role.
func (s *Service) DeleteRolePolicy(ctx context.Context, in *api.DeleteRolePolicyInput) (*api.DeleteRolePolicyOutput, error) {
	name := awsapi.ToString(in.PolicyName)
	err := s.updateRole(ctx, awsapi.ToString(in.RoleName), func(_ store.Tx, r *role) error {
		if _, ok := r.Inline[name]; !ok {
			return inlineNotFound("role", name)
		}
		delete(r.Inline, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteRolePolicyOutput{}, nil
}
