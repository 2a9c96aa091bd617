package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/store"
)

func loadUser(tx store.Tx, acct, name string) (*user, error) {
	var u user
	found, err := get(tx, userKey(acct, name), &u)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	return &u, nil
}

func (u *user) api(acct string) *api.User {
	out := &api.User{
		Path:       awsapi.String(u.Path),
		UserName:   awsapi.String(u.Name),
		UserId:     awsapi.String(u.ID),
		Arn:        awsapi.String(userARN(acct, u.Path, u.Name)),
		CreateDate: &u.Created,
		Tags:       apiTags(u.Tags),
	}
	if u.Boundary != "" {
		out.PermissionsBoundary = boundary(u.Boundary)
	}
	return out
}

func boundary(arn string) *api.AttachedPermissionsBoundary {
	return &api.AttachedPermissionsBoundary{
		PermissionsBoundaryType: awsapi.String("PermissionsBoundaryPolicy"),
		PermissionsBoundaryArn:  awsapi.String(arn),
	}
}

// callerUserName is the IAM user making the request, or "" for root and roles:
// operations whose UserName is optional act on the caller.
func callerUserName(ctx context.Context) string {
	arn := awsapi.CallerFrom(ctx).ARN
	_, rest, ok := strings.Cut(arn, ":user/")
	if !ok || !strings.HasPrefix(arn, "arn:aws:iam::") {
		return ""
	}
	return rest[strings.LastIndex(rest, "/")+1:]
}

// CreateUser creates an IAM user.
func (s *Service) CreateUser(ctx context.Context, in *api.CreateUserInput) (*api.CreateUserOutput, error) {
	acct := s.account(ctx)
	name, err := checkName("userName", in.UserName, 64)
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
	id, err := s.ids.id(prefixUser)
	if err != nil {
		return nil, err
	}
	u := &user{Name: name, Path: path, ID: id, Created: s.clock(), Tags: tags, Boundary: awsapi.ToString(in.PermissionsBoundary)}
	err = s.update(func(tx store.Tx) error {
		if b, err := tx.Get(userKey(acct, name)); err != nil || b != nil {
			if err != nil {
				return err
			}
			return alreadyExists("User with name %s already exists.", name)
		}
		return put(tx, userKey(acct, name), u)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateUserOutput{User: u.api(acct)}, nil
}

// GetUser returns a user; without a name, the calling user (or, for root
// credentials, the account's root user).
func (s *Service) GetUser(ctx context.Context, in *api.GetUserInput) (*api.GetUserOutput, error) {
	acct := s.account(ctx)
	name := awsapi.ToString(in.UserName)
	if name == "" {
		name = callerUserName(ctx)
	}
	if name == "" {
		// GetUser with root credentials describes the root user: its id is the
		// account, and AWS returns no name or path for it.
		return &api.GetUserOutput{User: &api.User{UserId: awsapi.String(acct), Arn: awsapi.String(rootARN(acct))}}, nil
	}
	var u *user
	err := s.st.View(func(tx store.Tx) (err error) {
		u, err = loadUser(tx, acct, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetUserOutput{User: u.api(acct)}, nil
}

// ListUsers lists users whose path starts with PathPrefix, by name.
func (s *Service) ListUsers(ctx context.Context, in *api.ListUsersInput) (*api.ListUsersOutput, error) {
	acct := s.account(ctx)
	var users []user
	err := s.st.View(func(tx store.Tx) (err error) {
		users, err = scan[user](tx, []byte("iam/"+acct+"/user/"))
		return err
	})
	if err != nil {
		return nil, err
	}
	users = slices.DeleteFunc(users, func(u user) bool { return !hasPathPrefix(u.Path, in.PathPrefix) })
	pg, truncated, next, err := page(users, func(u user) string { return sortKey(u.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListUsersOutput{Users: []api.User{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, u := range pg {
		a := u.api(acct)
		a.Tags = nil // ListUsers does not return tags (ListUsers docs)
		out.Users = append(out.Users, *a)
	}
	return out, nil
}

// UpdateUser renames a user or changes its path.
func (s *Service) UpdateUser(ctx context.Context, in *api.UpdateUserInput) (*api.UpdateUserOutput, error) {
	acct := s.account(ctx)
	name := awsapi.ToString(in.UserName)
	newName := name
	if in.NewUserName != nil {
		n, err := checkName("newUserName", in.NewUserName, 64)
		if err != nil {
			return nil, err
		}
		newName = n
	}
	var newPath *string
	if in.NewPath != nil {
		p, err := checkPath(in.NewPath)
		if err != nil {
			return nil, err
		}
		newPath = &p
	}
	err := s.update(func(tx store.Tx) error {
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return err
		}
		if sortKey(newName) != sortKey(name) {
			if b, err := tx.Get(userKey(acct, newName)); err != nil || b != nil {
				if err != nil {
					return err
				}
				return alreadyExists("User with name %s already exists.", newName)
			}
			if err := tx.Delete(userKey(acct, name)); err != nil {
				return err
			}
		}
		u.Name = newName
		if newPath != nil {
			u.Path = *newPath
		}
		// Access keys name their user: keep them pointing at it.
		for _, id := range u.Keys {
			var k accessKey
			if found, err := get(tx, accessKeyKey(id), &k); err != nil || !found {
				return err
			}
			k.User = newName
			if err := put(tx, accessKeyKey(id), &k); err != nil {
				return err
			}
		}
		return put(tx, userKey(acct, newName), u)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateUserOutput{}, nil
}

// DeleteUser deletes a user that no longer has access keys, policies or
// groups.
func (s *Service) DeleteUser(ctx context.Context, in *api.DeleteUserInput) (*api.DeleteUserOutput, error) {
	acct := s.account(ctx)
	name := awsapi.ToString(in.UserName)
	err := s.update(func(tx store.Tx) error {
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return err
		}
		switch {
		case len(u.Keys) > 0:
			return deleteConflict("Cannot delete entity, must delete access keys first.")
		case len(u.Inline) > 0:
			return deleteConflict("Cannot delete entity, must delete policies first.")
		case len(u.Attached) > 0:
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		case len(u.Groups) > 0:
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		}
		return tx.Delete(userKey(acct, name))
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteUserOutput{}, nil
}

// updateUser loads a user, lets fn change it, and stores it.
func (s *Service) updateUser(ctx context.Context, name string, fn func(tx store.Tx, u *user) error) error {
	acct := s.account(ctx)
	return s.update(func(tx store.Tx) error {
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return err
		}
		if err := fn(tx, u); err != nil {
			return err
		}
		return put(tx, userKey(acct, u.Name), u)
	})
}

func (s *Service) viewUser(ctx context.Context, name string) (*user, error) {
	var u *user
	err := s.st.View(func(tx store.Tx) (err error) {
		u, err = loadUser(tx, s.account(ctx), name)
		return err
	})
	return u, err
}

// TagUser adds or overwrites tags of a user.
func (s *Service) TagUser(ctx context.Context, in *api.TagUserInput) (*api.TagUserOutput, error) {
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.updateUser(ctx, awsapi.ToString(in.UserName), func(_ store.Tx, u *user) (err error) {
		u.Tags, err = mergeTags(u.Tags, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.TagUserOutput{}, nil
}

// UntagUser removes tags of a user; absent keys are ignored.
func (s *Service) UntagUser(ctx context.Context, in *api.UntagUserInput) (*api.UntagUserOutput, error) {
	err := s.updateUser(ctx, awsapi.ToString(in.UserName), func(_ store.Tx, u *user) error {
		u.Tags = removeTags(u.Tags, in.TagKeys)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagUserOutput{}, nil
}

// ListUserTags lists a user's tags.
func (s *Service) ListUserTags(ctx context.Context, in *api.ListUserTagsInput) (*api.ListUserTagsOutput, error) {
	u, err := s.viewUser(ctx, awsapi.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	tags, truncated, next, err := pageTags(u.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListUserTagsOutput{Tags: tags, IsTruncated: awsapi.Bool(truncated), Marker: next}, nil
}
