package iam

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/store"
)

// Role session limits ("IAM and AWS STS quotas"; CreateRole's MaxSessionDuration).
const (
	defaultMaxSession = 3600
	minMaxSession     = 3600
	maxMaxSession     = 43200
)

func loadRole(tx store.Tx, acct, name string) (*role, error) {
	var r role
	found, err := get(tx, roleKey(acct, name), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return &r, nil
}

func (r *role) api(acct string) *api.Role {
	out := &api.Role{
		Path:                     awsapi.String(r.Path),
		RoleName:                 awsapi.String(r.Name),
		RoleId:                   awsapi.String(r.ID),
		Arn:                      awsapi.String(roleARN(acct, r.Path, r.Name)),
		CreateDate:               &r.Created,
		AssumeRolePolicyDocument: awsapi.String(encodePolicy(r.Trust)),
		MaxSessionDuration:       awsapi.Int32(r.MaxSession),
		Tags:                     apiTags(r.Tags),
	}
	if r.Description != "" {
		out.Description = awsapi.String(r.Description)
	}
	if r.Boundary != "" {
		out.PermissionsBoundary = boundary(r.Boundary)
	}
	return out
}

func checkMaxSession(v *int32) (int32, error) {
	if v == nil {
		return defaultMaxSession, nil
	}
	switch {
	case *v < minMaxSession:
		return 0, validationError("maxSessionDuration", fmt.Sprint(*v), fmt.Sprintf("Member must have value greater than or equal to %d", minMaxSession))
	case *v > maxMaxSession:
		return 0, validationError("maxSessionDuration", fmt.Sprint(*v), fmt.Sprintf("Member must have value less than or equal to %d", maxMaxSession))
	}
	return *v, nil
}

func checkDescription(v *string) (string, error) {
	d := awsapi.ToString(v)
	if utf8.RuneCountInString(d) > 1000 {
		return "", validationError("description", d, "Member must have length less than or equal to 1000")
	}
	return d, nil
}

// CreateRole creates a role with its trust policy (AssumeRolePolicyDocument).
func (s *Service) CreateRole(ctx context.Context, in *api.CreateRoleInput) (*api.CreateRoleOutput, error) {
	acct := s.account(ctx)
	name, err := checkName("roleName", in.RoleName, 64)
	if err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	trust, err := checkPolicyDocument("assumeRolePolicyDocument", in.AssumeRolePolicyDocument)
	if err != nil {
		return nil, err
	}
	maxSession, err := checkMaxSession(in.MaxSessionDuration)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	id, err := s.ids.id(prefixRole)
	if err != nil {
		return nil, err
	}
	r := &role{Name: name, Path: path, ID: id, Created: s.clock(), Trust: trust, Description: desc,
		MaxSession: maxSession, Tags: tags, Boundary: awsapi.ToString(in.PermissionsBoundary)}
	err = s.update(func(tx store.Tx) error {
		if b, err := tx.Get(roleKey(acct, name)); err != nil || b != nil {
			if err != nil {
				return err
			}
			return alreadyExists("Role with name %s already exists.", name)
		}
		return put(tx, roleKey(acct, name), r)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateRoleOutput{Role: r.api(acct)}, nil
}

func (s *Service) viewRole(ctx context.Context, name string) (*role, error) {
	var r *role
	err := s.st.View(func(tx store.Tx) (err error) {
		r, err = loadRole(tx, s.account(ctx), name)
		return err
	})
	return r, err
}

func (s *Service) updateRole(ctx context.Context, name string, fn func(tx store.Tx, r *role) error) error {
	acct := s.account(ctx)
	return s.update(func(tx store.Tx) error {
		r, err := loadRole(tx, acct, name)
		if err != nil {
			return err
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		return put(tx, roleKey(acct, r.Name), r)
	})
}

// GetRole returns a role, its trust policy URL-encoded as IAM returns it.
func (s *Service) GetRole(ctx context.Context, in *api.GetRoleInput) (*api.GetRoleOutput, error) {
	r, err := s.viewRole(ctx, awsapi.ToString(in.RoleName))
	if err != nil {
		return nil, err
	}
	out := r.api(s.account(ctx))
	out.RoleLastUsed = &api.RoleLastUsed{}
	return &api.GetRoleOutput{Role: out}, nil
}

// ListRoles lists roles whose path starts with PathPrefix, by name.
func (s *Service) ListRoles(ctx context.Context, in *api.ListRolesInput) (*api.ListRolesOutput, error) {
	acct := s.account(ctx)
	var roles []role
	err := s.st.View(func(tx store.Tx) (err error) {
		roles, err = scan[role](tx, []byte("iam/"+acct+"/role/"))
		return err
	})
	if err != nil {
		return nil, err
	}
	roles = slices.DeleteFunc(roles, func(r role) bool { return !hasPathPrefix(r.Path, in.PathPrefix) })
	pg, truncated, next, err := page(roles, func(r role) string { return sortKey(r.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListRolesOutput{Roles: []api.Role{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, r := range pg {
		a := r.api(acct)
		// ListRoles does not return tags or the permissions boundary (ListRoles docs).
		a.Tags, a.PermissionsBoundary = nil, nil
		out.Roles = append(out.Roles, *a)
	}
	return out, nil
}

// UpdateRole changes a role's description and maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in *api.UpdateRoleInput) (*api.UpdateRoleOutput, error) {
	var maxSession int32
	if in.MaxSessionDuration != nil {
		v, err := checkMaxSession(in.MaxSessionDuration)
		if err != nil {
			return nil, err
		}
		maxSession = v
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, err
	}
	err = s.updateRole(ctx, awsapi.ToString(in.RoleName), func(_ store.Tx, r *role) error {
		if in.Description != nil {
			r.Description = desc
		}
		if maxSession != 0 {
			r.MaxSession = maxSession
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateRoleOutput{}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, in *api.UpdateAssumeRolePolicyInput) (*api.UpdateAssumeRolePolicyOutput, error) {
	doc, err := checkPolicyDocument("policyDocument", in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	err = s.updateRole(ctx, awsapi.ToString(in.RoleName), func(_ store.Tx, r *role) error {
		r.Trust = doc
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateAssumeRolePolicyOutput{}, nil
}

// DeleteRole deletes a role that no longer has policies.
func (s *Service) DeleteRole(ctx context.Context, in *api.DeleteRoleInput) (*api.DeleteRoleOutput, error) {
	acct := s.account(ctx)
	name := awsapi.ToString(in.RoleName)
	err := s.update(func(tx store.Tx) error {
		r, err := loadRole(tx, acct, name)
		if err != nil {
			return err
		}
		switch {
		case len(r.Inline) > 0:
			return deleteConflict("Cannot delete entity, must delete policies first.")
		case len(r.Attached) > 0:
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		}
		if ps, err := profilesOfRole(tx, acct, name); err != nil {
			return err
		} else if len(ps) > 0 {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		return tx.Delete(roleKey(acct, name))
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteRoleOutput{}, nil
}

// TagRole adds or overwrites tags of a role.
func (s *Service) TagRole(ctx context.Context, in *api.TagRoleInput) (*api.TagRoleOutput, error) {
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.updateRole(ctx, awsapi.ToString(in.RoleName), func(_ store.Tx, r *role) (err error) {
		r.Tags, err = mergeTags(r.Tags, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.TagRoleOutput{}, nil
}

// UntagRole removes tags of a role; absent keys are ignored.
func (s *Service) UntagRole(ctx context.Context, in *api.UntagRoleInput) (*api.UntagRoleOutput, error) {
	err := s.updateRole(ctx, awsapi.ToString(in.RoleName), func(_ store.Tx, r *role) error {
		r.Tags = removeTags(r.Tags, in.TagKeys)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagRoleOutput{}, nil
}

// ListRoleTags lists a role's tags.
func (s *Service) ListRoleTags(ctx context.Context, in *api.ListRoleTagsInput) (*api.ListRoleTagsOutput, error) {
	r, err := s.viewRole(ctx, awsapi.ToString(in.RoleName))
	if err != nil {
		return nil, err
	}
	tags, truncated, next, err := pageTags(r.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListRoleTagsOutput{Tags: tags, IsTruncated: awsapi.Bool(truncated), Marker: next}, nil
}
