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

// Group quotas ("IAM and AWS STS quotas"): groups per account, groups a user
// belongs to, managed policies attached to a group, and the aggregate size of
// a group's inline policies in non-whitespace characters.
const (
	maxGroups         = 300
	maxGroupsPerUser  = 10
	maxGroupAttached  = 10
	maxGroupInline    = 5120
	maxGroupNameRunes = 128
)

// group is an IAM group. Its members are recorded on the users (user.Groups):
// authorization reads a user and then its groups, never the reverse.
type group struct {
	Name     string
	Path     string
	ID       string
	Created  time.Time
	Inline   map[string]string `json:",omitempty"`
	Attached []string          `json:",omitempty"`
}

func groupKey(acct, name string) []byte {
	return []byte("iam/" + acct + "/group/" + strings.ToLower(name))
}

func groupARN(acct, path, name string) string { return "arn:aws:iam::" + acct + ":group" + path + name }

func loadGroup(tx store.Tx, acct, name string) (*group, error) {
	var g group
	found, err := get(tx, groupKey(acct, name), &g)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuchEntity("The group with name %s cannot be found.", name)
	}
	return &g, nil
}

func (g *group) api(acct string) api.Group {
	return api.Group{
		Path:       awsapi.String(g.Path),
		GroupName:  awsapi.String(g.Name),
		GroupId:    awsapi.String(g.ID),
		Arn:        awsapi.String(groupARN(acct, g.Path, g.Name)),
		CreateDate: &g.Created,
	}
}

// members are the users of acct in group name, by name.
func members(tx store.Tx, acct, name string) ([]user, error) {
	users, err := scan[user](tx, []byte("iam/"+acct+"/user/"))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(users, func(u user) bool { return !u.inGroup(name) }), nil
}

func (u *user) inGroup(name string) bool {
	return slices.ContainsFunc(u.Groups, func(g string) bool { return sortKey(g) == sortKey(name) })
}

// CreateGroup creates an IAM group.
func (s *Service) CreateGroup(ctx context.Context, in *api.CreateGroupInput) (*api.CreateGroupOutput, error) {
	acct := s.account(ctx)
	name, err := checkName("groupName", in.GroupName, maxGroupNameRunes)
	if err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	id, err := s.ids.id(prefixGroup)
	if err != nil {
		return nil, err
	}
	g := &group{Name: name, Path: path, ID: id, Created: s.clock()}
	err = s.update(func(tx store.Tx) error {
		if b, err := tx.Get(groupKey(acct, name)); err != nil || b != nil {
			if err != nil {
				return err
			}
			return alreadyExists("Group with name %s already exists.", name)
		}
		n := 0
		if err := tx.Scan([]byte("iam/"+acct+"/group/"), nil, func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
			return err
		}
		if n >= maxGroups {
			return limitExceeded("Cannot exceed quota for GroupsPerAccount: %d", maxGroups)
		}
		return put(tx, groupKey(acct, name), g)
	})
	if err != nil {
		return nil, err
	}
	out := g.api(acct)
	return &api.CreateGroupOutput{Group: &out}, nil
}

// GetGroup returns a group and its users, by name.
func (s *Service) GetGroup(ctx context.Context, in *api.GetGroupInput) (*api.GetGroupOutput, error) {
	acct := s.account(ctx)
	var g *group
	var users []user
	err := s.st.View(func(tx store.Tx) (err error) {
		if g, err = loadGroup(tx, acct, awsapi.ToString(in.GroupName)); err != nil {
			return err
		}
		users, err = members(tx, acct, g.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, truncated, next, err := page(users, func(u user) string { return sortKey(u.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	ga := g.api(acct)
	out := &api.GetGroupOutput{Group: &ga, Users: []api.User{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, u := range pg {
		a := u.api(acct)
		a.Tags = nil
		out.Users = append(out.Users, *a)
	}
	return out, nil
}

// ListGroups lists groups whose path starts with PathPrefix, by name.
func (s *Service) ListGroups(ctx context.Context, in *api.ListGroupsInput) (*api.ListGroupsOutput, error) {
	acct := s.account(ctx)
	var groups []group
	err := s.st.View(func(tx store.Tx) (err error) {
		groups, err = scan[group](tx, []byte("iam/"+acct+"/group/"))
		return err
	})
	if err != nil {
		return nil, err
	}
	groups = slices.DeleteFunc(groups, func(g group) bool { return !hasPathPrefix(g.Path, in.PathPrefix) })
	pg, truncated, next, err := page(groups, func(g group) string { return sortKey(g.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListGroupsOutput{Groups: []api.Group{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, g := range pg {
		out.Groups = append(out.Groups, g.api(acct))
	}
	return out, nil
}

// UpdateGroup renames a group or changes its path; its members follow.
func (s *Service) UpdateGroup(ctx context.Context, in *api.UpdateGroupInput) (*api.UpdateGroupOutput, error) {
	acct := s.account(ctx)
	name := awsapi.ToString(in.GroupName)
	newName := name
	if in.NewGroupName != nil {
		n, err := checkName("newGroupName", in.NewGroupName, maxGroupNameRunes)
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
		g, err := loadGroup(tx, acct, name)
		if err != nil {
			return err
		}
		if sortKey(newName) != sortKey(name) {
			if b, err := tx.Get(groupKey(acct, newName)); err != nil || b != nil {
				if err != nil {
					return err
				}
				return alreadyExists("Group with name %s already exists.", newName)
			}
			if err := tx.Delete(groupKey(acct, name)); err != nil {
				return err
			}
		}
		users, err := members(tx, acct, g.Name)
		if err != nil {
			return err
		}
		for i := range users {
			u := &users[i]
			u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return sortKey(n) == sortKey(g.Name) })
			u.Groups = append(u.Groups, newName)
			if err := put(tx, userKey(acct, u.Name), u); err != nil {
				return err
			}
		}
		g.Name = newName
		if newPath != nil {
			g.Path = *newPath
		}
		return put(tx, groupKey(acct, newName), g)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateGroupOutput{}, nil
}

// DeleteGroup deletes a group that has no members and no policies.
func (s *Service) DeleteGroup(ctx context.Context, in *api.DeleteGroupInput) (*api.DeleteGroupOutput, error) {
	acct := s.account(ctx)
	err := s.update(func(tx store.Tx) error {
		g, err := loadGroup(tx, acct, awsapi.ToString(in.GroupName))
		if err != nil {
			return err
		}
		users, err := members(tx, acct, g.Name)
		if err != nil {
			return err
		}
		switch {
		case len(users) > 0:
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		case len(g.Inline) > 0:
			return deleteConflict("Cannot delete entity, must delete policies first.")
		case len(g.Attached) > 0:
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		}
		return tx.Delete(groupKey(acct, g.Name))
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteGroupOutput{}, nil
}

// AddUserToGroup makes a user a member of a group; adding a member again
// changes nothing.
func (s *Service) AddUserToGroup(ctx context.Context, in *api.AddUserToGroupInput) (*api.AddUserToGroupOutput, error) {
	acct := s.account(ctx)
	err := s.update(func(tx store.Tx) error {
		g, err := loadGroup(tx, acct, awsapi.ToString(in.GroupName))
		if err != nil {
			return err
		}
		u, err := loadUser(tx, acct, awsapi.ToString(in.UserName))
		if err != nil {
			return err
		}
		if u.inGroup(g.Name) {
			return nil
		}
		if len(u.Groups) >= maxGroupsPerUser {
			return limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		u.Groups = append(u.Groups, g.Name)
		return put(tx, userKey(acct, u.Name), u)
	})
	if err != nil {
		return nil, err
	}
	return &api.AddUserToGroupOutput{}, nil
}

// RemoveUserFromGroup removes a user from a group it is a member of.
func (s *Service) RemoveUserFromGroup(ctx context.Context, in *api.RemoveUserFromGroupInput) (*api.RemoveUserFromGroupOutput, error) {
	acct := s.account(ctx)
	err := s.update(func(tx store.Tx) error {
		g, err := loadGroup(tx, acct, awsapi.ToString(in.GroupName))
		if err != nil {
			return err
		}
		u, err := loadUser(tx, acct, awsapi.ToString(in.UserName))
		if err != nil {
			return err
		}
		if !u.inGroup(g.Name) {
			return noSuchEntity("The user with name %s cannot be found.", u.Name)
		}
		u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return sortKey(n) == sortKey(g.Name) })
		return put(tx, userKey(acct, u.Name), u)
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveUserFromGroupOutput{}, nil
}

// ListGroupsForUser lists the groups a user belongs to, by name.
func (s *Service) ListGroupsForUser(ctx context.Context, in *api.ListGroupsForUserInput) (*api.ListGroupsForUserOutput, error) {
	acct := s.account(ctx)
	var groups []group
	err := s.st.View(func(tx store.Tx) error {
		u, err := loadUser(tx, acct, awsapi.ToString(in.UserName))
		if err != nil {
			return err
		}
		for _, n := range u.Groups {
			g, err := loadGroup(tx, acct, n)
			if err != nil {
				if asNoSuchEntity(err) {
					continue
				}
				return err
			}
			groups = append(groups, *g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(groups, func(a, b group) int { return strings.Compare(sortKey(a.Name), sortKey(b.Name)) })
	pg, truncated, next, err := page(groups, func(g group) string { return sortKey(g.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListGroupsForUserOutput{Groups: []api.Group{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, g := range pg {
		out.Groups = append(out.Groups, g.api(acct))
	}
	return out, nil
}

// updateGroup loads a group, lets fn change it, and stores it.
func (s *Service) updateGroup(ctx context.Context, name string, fn func(tx store.Tx, g *group) error) error {
	acct := s.account(ctx)
	return s.update(func(tx store.Tx) error {
		g, err := loadGroup(tx, acct, name)
		if err != nil {
			return err
		}
		if err := fn(tx, g); err != nil {
			return err
		}
		return put(tx, groupKey(acct, g.Name), g)
	})
}

func (s *Service) viewGroup(ctx context.Context, name string) (*group, error) {
	var g *group
	err := s.st.View(func(tx store.Tx) (err error) {
		g, err = loadGroup(tx, s.account(ctx), name)
		return err
	})
	return g, err
}

// PutGroupPolicy creates or replaces an inline policy of a group.
func (s *Service) PutGroupPolicy(ctx context.Context, in *api.PutGroupPolicyInput) (*api.PutGroupPolicyOutput, error) {
	name, err := checkName("policyName", in.PolicyName, 128)
	if err != nil {
		return nil, err
	}
	doc, err := checkPolicyDocument("policyDocument", in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	err = s.updateGroup(ctx, awsapi.ToString(in.GroupName), func(_ store.Tx, g *group) error {
		return putInline(&g.Inline, name, doc, maxGroupInline, "group", g.Name)
	})
	if err != nil {
		return nil, err
	}
	return &api.PutGroupPolicyOutput{}, nil
}

// GetGroupPolicy returns an inline policy of a group, URL-encoded as IAM returns it.
func (s *Service) GetGroupPolicy(ctx context.Context, in *api.GetGroupPolicyInput) (*api.GetGroupPolicyOutput, error) {
	g, err := s.viewGroup(ctx, awsapi.ToString(in.GroupName))
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.PolicyName)
	doc, ok := g.Inline[name]
	if !ok {
		return nil, inlineNotFound("group", name)
	}
	return &api.GetGroupPolicyOutput{GroupName: awsapi.String(g.Name), PolicyName: awsapi.String(name), PolicyDocument: awsapi.String(encodePolicy(doc))}, nil
}

// ListGroupPolicies lists the names of a group's inline policies.
func (s *Service) ListGroupPolicies(ctx context.Context, in *api.ListGroupPoliciesInput) (*api.ListGroupPoliciesOutput, error) {
	g, err := s.viewGroup(ctx, awsapi.ToString(in.GroupName))
	if err != nil {
		return nil, err
	}
	names, truncated, next, err := pageNames(inlineNames(g.Inline), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListGroupPoliciesOutput{PolicyNames: names, IsTruncated: truncated, Marker: next}, nil
}

// DeleteGroupPolicy deletes an inline policy of a group.
func (s *Service) DeleteGroupPolicy(ctx context.Context, in *api.DeleteGroupPolicyInput) (*api.DeleteGroupPolicyOutput, error) {
	name := awsapi.ToString(in.PolicyName)
	err := s.updateGroup(ctx, awsapi.ToString(in.GroupName), func(_ store.Tx, g *group) error {
		if _, ok := g.Inline[name]; !ok {
			return inlineNotFound("group", name)
		}
		delete(g.Inline, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteGroupPolicyOutput{}, nil
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Service) AttachGroupPolicy(ctx context.Context, in *api.AttachGroupPolicyInput) (*api.AttachGroupPolicyOutput, error) {
	acct := s.account(ctx)
	err := s.updateGroup(ctx, awsapi.ToString(in.GroupName), func(tx store.Tx, g *group) error {
		if !slices.Contains(g.Attached, awsapi.ToString(in.PolicyArn)) && len(g.Attached) >= maxGroupAttached {
			if _, err := findPolicy(tx, acct, awsapi.ToString(in.PolicyArn)); err != nil {
				return err
			}
			return limitExceeded("Cannot exceed quota for PoliciesPerGroup: %d", maxGroupAttached)
		}
		return attach(tx, acct, &g.Attached, awsapi.ToString(in.PolicyArn))
	})
	if err != nil {
		return nil, err
	}
	return &api.AttachGroupPolicyOutput{}, nil
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Service) DetachGroupPolicy(ctx context.Context, in *api.DetachGroupPolicyInput) (*api.DetachGroupPolicyOutput, error) {
	err := s.updateGroup(ctx, awsapi.ToString(in.GroupName), func(_ store.Tx, g *group) error {
		return detach(&g.Attached, awsapi.ToString(in.PolicyArn))
	})
	if err != nil {
		return nil, err
	}
	return &api.DetachGroupPolicyOutput{}, nil
}

// ListAttachedGroupPolicies lists the managed policies attached to a group.
func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *api.ListAttachedGroupPoliciesInput) (*api.ListAttachedGroupPoliciesOutput, error) {
	acct := s.account(ctx)
	out := &api.ListAttachedGroupPoliciesOutput{}
	err := s.st.View(func(tx store.Tx) error {
		g, err := loadGroup(tx, acct, awsapi.ToString(in.GroupName))
		if err != nil {
			return err
		}
		out.AttachedPolicies, out.IsTruncated, out.Marker, err = listAttached(tx, acct, g.Attached, in.PathPrefix, in.Marker, in.MaxItems)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
