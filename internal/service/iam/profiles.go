package iam

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/store"
)

// Instance profiles hold at most one role ("IAM and AWS STS quotas": roles
// in an instance profile, 1). wharf runs no EC2 instances; it keeps profiles
// so that stacks declaring them apply, and so that DeleteRole refuses a role
// still in a profile, as IAM does.

const prefixInstanceProfile = "AIPA"

type instanceProfile struct {
	Name    string
	Path    string
	ID      string
	Created time.Time
	Roles   []string `json:",omitempty"` // role names
	Tags    []tag    `json:",omitempty"`
}

func instanceProfileKey(acct, name string) []byte {
	return []byte("iam/" + acct + "/instance-profile/" + strings.ToLower(name))
}

func instanceProfilePrefix(acct string) []byte {
	return []byte("iam/" + acct + "/instance-profile/")
}

func instanceProfileARN(acct, path, name string) string {
	return "arn:aws:iam::" + acct + ":instance-profile" + path + name
}

func loadInstanceProfile(tx store.Tx, acct, name string) (*instanceProfile, error) {
	var p instanceProfile
	found, err := get(tx, instanceProfileKey(acct, name), &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return &p, nil
}

// api renders p with its roles as they are now.
func (p *instanceProfile) api(tx store.Tx, acct string) (*api.InstanceProfile, error) {
	out := &api.InstanceProfile{
		Path:                awsapi.String(p.Path),
		InstanceProfileName: awsapi.String(p.Name),
		InstanceProfileId:   awsapi.String(p.ID),
		Arn:                 awsapi.String(instanceProfileARN(acct, p.Path, p.Name)),
		CreateDate:          &p.Created,
		Roles:               []api.Role{},
		Tags:                apiTags(p.Tags),
	}
	for _, name := range p.Roles {
		r, err := loadRole(tx, acct, name)
		if err != nil {
			return nil, err
		}
		out.Roles = append(out.Roles, *r.api(acct))
	}
	return out, nil
}

// profilesOfRole returns the names of the profiles that hold the role.
func profilesOfRole(tx store.Tx, acct, role string) ([]instanceProfile, error) {
	all, err := scan[instanceProfile](tx, instanceProfilePrefix(acct))
	if err != nil {
		return nil, err
	}
	var out []instanceProfile
	for _, p := range all {
		if slices.ContainsFunc(p.Roles, func(r string) bool { return strings.EqualFold(r, role) }) {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreateInstanceProfile creates an empty instance profile.
func (s *Service) CreateInstanceProfile(ctx context.Context, in *api.CreateInstanceProfileInput) (*api.CreateInstanceProfileOutput, error) {
	acct := s.account(ctx)
	name, err := checkName("instanceProfileName", in.InstanceProfileName, 128)
	if err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	id, err := s.ids.id(prefixInstanceProfile)
	if err != nil {
		return nil, err
	}
	p := &instanceProfile{Name: name, Path: path, ID: id, Created: s.clock(), Tags: tags}
	var out *api.InstanceProfile
	err = s.update(func(tx store.Tx) error {
		if b, err := tx.Get(instanceProfileKey(acct, name)); err != nil || b != nil {
			if err != nil {
				return err
			}
			return alreadyExists("Instance Profile %s already exists.", name)
		}
		if err := put(tx, instanceProfileKey(acct, name), p); err != nil {
			return err
		}
		out, err = p.api(tx, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateInstanceProfileOutput{InstanceProfile: out}, nil
}

// GetInstanceProfile returns a profile with its role.
func (s *Service) GetInstanceProfile(ctx context.Context, in *api.GetInstanceProfileInput) (*api.GetInstanceProfileOutput, error) {
	acct := s.account(ctx)
	var out *api.InstanceProfile
	err := s.st.View(func(tx store.Tx) error {
		p, err := loadInstanceProfile(tx, acct, awsapi.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		out, err = p.api(tx, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetInstanceProfileOutput{InstanceProfile: out}, nil
}

// DeleteInstanceProfile deletes a profile that holds no role.
func (s *Service) DeleteInstanceProfile(ctx context.Context, in *api.DeleteInstanceProfileInput) (*api.DeleteInstanceProfileOutput, error) {
	acct := s.account(ctx)
	name := awsapi.ToString(in.InstanceProfileName)
	err := s.update(func(tx store.Tx) error {
		p, err := loadInstanceProfile(tx, acct, name)
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		return tx.Delete(instanceProfileKey(acct, name))
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteInstanceProfileOutput{}, nil
}

// AddRoleToInstanceProfile puts a role in an empty profile.
func (s *Service) AddRoleToInstanceProfile(ctx context.Context, in *api.AddRoleToInstanceProfileInput) (*api.AddRoleToInstanceProfileOutput, error) {
	acct := s.account(ctx)
	err := s.update(func(tx store.Tx) error {
		p, err := loadInstanceProfile(tx, acct, awsapi.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		r, err := loadRole(tx, acct, awsapi.ToString(in.RoleName))
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		p.Roles = []string{r.Name}
		return put(tx, instanceProfileKey(acct, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &api.AddRoleToInstanceProfileOutput{}, nil
}

// RemoveRoleFromInstanceProfile takes the role out of the profile.
func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, in *api.RemoveRoleFromInstanceProfileInput) (*api.RemoveRoleFromInstanceProfileOutput, error) {
	acct := s.account(ctx)
	role := awsapi.ToString(in.RoleName)
	err := s.update(func(tx store.Tx) error {
		p, err := loadInstanceProfile(tx, acct, awsapi.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		if _, err := loadRole(tx, acct, role); err != nil {
			return err
		}
		i := slices.IndexFunc(p.Roles, func(r string) bool { return strings.EqualFold(r, role) })
		if i < 0 {
			return noSuchEntity("The role with name %s cannot be found in instance profile %s.", role, p.Name)
		}
		p.Roles = slices.Delete(p.Roles, i, i+1)
		return put(tx, instanceProfileKey(acct, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveRoleFromInstanceProfileOutput{}, nil
}

func (s *Service) listProfiles(ctx context.Context, keep func(instanceProfile) bool, check func(tx store.Tx) error, marker *string, maxItems *int32) ([]api.InstanceProfile, bool, *string, error) {
	acct := s.account(ctx)
	var out []api.InstanceProfile
	var truncated bool
	var next *string
	err := s.st.View(func(tx store.Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		all, err := scan[instanceProfile](tx, instanceProfilePrefix(acct))
		if err != nil {
			return err
		}
		var ps []instanceProfile
		for _, p := range all {
			if keep(p) {
				ps = append(ps, p)
			}
		}
		ps, truncated, next, err = page(ps, func(p instanceProfile) string { return sortKey(p.Name) }, marker, maxItems)
		if err != nil {
			return err
		}
		out = []api.InstanceProfile{}
		for i := range ps {
			a, err := ps[i].api(tx, acct)
			if err != nil {
				return err
			}
			out = append(out, *a)
		}
		return nil
	})
	return out, truncated, next, err
}

// ListInstanceProfiles lists the profiles whose path starts with PathPrefix.
func (s *Service) ListInstanceProfiles(ctx context.Context, in *api.ListInstanceProfilesInput) (*api.ListInstanceProfilesOutput, error) {
	ps, truncated, next, err := s.listProfiles(ctx, func(p instanceProfile) bool { return hasPathPrefix(p.Path, in.PathPrefix) }, nil, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListInstanceProfilesOutput{InstanceProfiles: ps, IsTruncated: awsapi.Bool(truncated), Marker: next}, nil
}

// ListInstanceProfilesForRole lists the profiles that hold the role (none,
// or one per profile it was added to).
func (s *Service) ListInstanceProfilesForRole(ctx context.Context, in *api.ListInstanceProfilesForRoleInput) (*api.ListInstanceProfilesForRoleOutput, error) {
	role := awsapi.ToString(in.RoleName)
	acct := s.account(ctx)
	has := func(p instanceProfile) bool {
		return slices.ContainsFunc(p.Roles, func(r string) bool { return strings.EqualFold(r, role) })
	}
	check := func(tx store.Tx) error { _, err := loadRole(tx, acct, role); return err }
	ps, truncated, next, err := s.listProfiles(ctx, has, check, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListInstanceProfilesForRoleOutput{InstanceProfiles: ps, IsTruncated: awsapi.Bool(truncated), Marker: next}, nil
}

func (s *Service) updateInstanceProfile(ctx context.Context, name string, fn func(p *instanceProfile) error) error {
	acct := s.account(ctx)
	return s.update(func(tx store.Tx) error {
		p, err := loadInstanceProfile(tx, acct, name)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return put(tx, instanceProfileKey(acct, p.Name), p)
	})
}

// TagInstanceProfile adds or overwrites tags of a profile.
func (s *Service) TagInstanceProfile(ctx context.Context, in *api.TagInstanceProfileInput) (*api.TagInstanceProfileOutput, error) {
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.updateInstanceProfile(ctx, awsapi.ToString(in.InstanceProfileName), func(p *instanceProfile) (err error) {
		p.Tags, err = mergeTags(p.Tags, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.TagInstanceProfileOutput{}, nil
}

// UntagInstanceProfile removes tags of a profile; absent keys are ignored.
func (s *Service) UntagInstanceProfile(ctx context.Context, in *api.UntagInstanceProfileInput) (*api.UntagInstanceProfileOutput, error) {
	err := s.updateInstanceProfile(ctx, awsapi.ToString(in.InstanceProfileName), func(p *instanceProfile) error {
		p.Tags = removeTags(p.Tags, in.TagKeys)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagInstanceProfileOutput{}, nil
}

// ListInstanceProfileTags lists a profile's tags.
func (s *Service) ListInstanceProfileTags(ctx context.Context, in *api.ListInstanceProfileTagsInput) (*api.ListInstanceProfileTagsOutput, error) {
	acct := s.account(ctx)
	var p *instanceProfile
	err := s.st.View(func(tx store.Tx) (err error) {
		p, err = loadInstanceProfile(tx, acct, awsapi.ToString(in.InstanceProfileName))
		return err
	})
	if err != nil {
		return nil, err
	}
	tags, truncated, next, err := pageTags(p.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListInstanceProfileTagsOutput{Tags: tags, IsTruncated: awsapi.Bool(truncated), Marker: next}, nil
}
