package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/store"
)

// entityTypes are GetAccountAuthorizationDetails' Filter values (the model's
// EntityType enum).
var entityTypes = []string{"User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"}

// detail is one entity of GetAccountAuthorizationDetails' answer: the four
// lists are paged as one, users first, then groups, roles and policies, so
// MaxItems counts entities of every kind and a Marker resumes after the last.
type detail struct {
	key    string
	user   *api.UserDetail
	group  *api.GroupDetail
	role   *api.RoleDetail
	policy *api.ManagedPolicyDetail
}

// GetAccountAuthorizationDetails returns a snapshot of the account's users,
// groups, roles and managed policies with their relationships, each policy
// document URL-encoded as IAM returns them. Filter keeps only the kinds it
// names; AWS managed policies are those the account uses (attached to an
// entity or set as a permissions boundary).
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, in *api.GetAccountAuthorizationDetailsInput) (*api.GetAccountAuthorizationDetailsOutput, error) {
	acct := s.account(ctx)
	want := map[string]bool{}
	for _, f := range in.Filter {
		if !slices.Contains(entityTypes, f) {
			return nil, validationError("filter", "["+strings.Join(in.Filter, ", ")+"]",
				"Member must satisfy constraint: [Member must satisfy enum value set: ["+strings.Join(entityTypes, ", ")+"]]")
		}
		want[f] = true
	}
	if len(in.Filter) == 0 {
		for _, f := range entityTypes {
			want[f] = true
		}
	}
	var items []detail
	err := s.st.View(func(tx store.Tx) (err error) {
		items, err = s.details(tx, acct, want)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, truncated, next, err := page(items, func(d detail) string { return d.key }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.GetAccountAuthorizationDetailsOutput{
		UserDetailList: []api.UserDetail{}, GroupDetailList: []api.GroupDetail{}, RoleDetailList: []api.RoleDetail{},
		Policies: []api.ManagedPolicyDetail{}, IsTruncated: awsapi.Bool(truncated), Marker: next,
	}
	for _, d := range pg {
		switch {
		case d.user != nil:
			out.UserDetailList = append(out.UserDetailList, *d.user)
		case d.group != nil:
			out.GroupDetailList = append(out.GroupDetailList, *d.group)
		case d.role != nil:
			out.RoleDetailList = append(out.RoleDetailList, *d.role)
		case d.policy != nil:
			out.Policies = append(out.Policies, *d.policy)
		}
	}
	return out, nil
}

// details reads every entity of acct of the kinds in want, in page order.
func (s *Service) details(tx store.Tx, acct string, want map[string]bool) ([]detail, error) {
	users, err := scan[user](tx, []byte("iam/"+acct+"/user/"))
	if err != nil {
		return nil, err
	}
	groups, err := scan[group](tx, []byte("iam/"+acct+"/group/"))
	if err != nil {
		return nil, err
	}
	roles, err := scan[role](tx, []byte("iam/"+acct+"/role/"))
	if err != nil {
		return nil, err
	}
	// A policy's use is counted over every entity, whatever the filter.
	attachments, boundaries := map[string]int{}, map[string]int{}
	for _, u := range users {
		for _, a := range u.Attached {
			attachments[a]++
		}
		if u.Boundary != "" {
			boundaries[u.Boundary]++
		}
	}
	for _, g := range groups {
		for _, a := range g.Attached {
			attachments[a]++
		}
	}
	for _, r := range roles {
		for _, a := range r.Attached {
			attachments[a]++
		}
		if r.Boundary != "" {
			boundaries[r.Boundary]++
		}
	}
	var out []detail
	if want["User"] {
		for _, u := range users {
			d, err := userDetail(tx, acct, &u)
			if err != nil {
				return nil, err
			}
			out = append(out, detail{key: "1" + sortKey(u.Name), user: d})
		}
	}
	if want["Group"] {
		for _, g := range groups {
			d, err := groupDetail(tx, acct, &g)
			if err != nil {
				return nil, err
			}
			out = append(out, detail{key: "2" + sortKey(g.Name), group: d})
		}
	}
	if want["Role"] {
		profiles, err := scan[instanceProfile](tx, instanceProfilePrefix(acct))
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			d, err := roleDetail(tx, acct, &r, profiles)
			if err != nil {
				return nil, err
			}
			out = append(out, detail{key: "3" + sortKey(r.Name), role: d})
		}
	}
	var ps []*policy
	if want["LocalManagedPolicy"] {
		local, err := scan[policy](tx, []byte("iam/"+acct+"/policy/"))
		if err != nil {
			return nil, err
		}
		for i := range local {
			ps = append(ps, &local[i])
		}
	}
	if want["AWSManagedPolicy"] {
		for arn, p := range awsManaged() {
			if attachments[arn]+boundaries[arn] > 0 {
				ps = append(ps, p)
			}
		}
	}
	for _, p := range ps {
		out = append(out, detail{key: "4" + p.ARN, policy: p.detail(attachments[p.ARN], boundaries[p.ARN])})
	}
	slices.SortFunc(out, func(a, b detail) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// inlineDetails are a user's, group's or role's inline policies, by name,
// their documents URL-encoded.
func inlineDetails(m map[string]string) []api.PolicyDetail {
	out := []api.PolicyDetail{}
	for _, n := range inlineNames(m) {
		out = append(out, api.PolicyDetail{PolicyName: awsapi.String(n), PolicyDocument: awsapi.String(encodePolicy(m[n]))})
	}
	return out
}

// attachedDetails names the managed policies attached to an entity.
func attachedDetails(tx store.Tx, acct string, arns []string) ([]api.AttachedPolicy, error) {
	out := []api.AttachedPolicy{}
	for _, arn := range arns {
		p, err := findPolicy(tx, acct, arn)
		if err != nil {
			if asNoSuchEntity(err) {
				continue // deleted since; IAM forbids that, but stay robust
			}
			return nil, err
		}
		out = append(out, api.AttachedPolicy{PolicyName: awsapi.String(p.Name), PolicyArn: awsapi.String(p.ARN)})
	}
	return out, nil
}

func userDetail(tx store.Tx, acct string, u *user) (*api.UserDetail, error) {
	attached, err := attachedDetails(tx, acct, u.Attached)
	if err != nil {
		return nil, err
	}
	d := &api.UserDetail{
		Path:                    awsapi.String(u.Path),
		UserName:                awsapi.String(u.Name),
		UserId:                  awsapi.String(u.ID),
		Arn:                     awsapi.String(userARN(acct, u.Path, u.Name)),
		CreateDate:              &u.Created,
		UserPolicyList:          inlineDetails(u.Inline),
		GroupList:               []string{},
		AttachedManagedPolicies: attached,
		Tags:                    apiTags(u.Tags),
	}
	for _, n := range u.Groups {
		// The group's own spelling of its name, as ListGroupsForUser gives it.
		if g, err := loadGroup(tx, acct, n); err == nil {
			d.GroupList = append(d.GroupList, g.Name)
		} else if !asNoSuchEntity(err) {
			return nil, err
		}
	}
	if u.Boundary != "" {
		d.PermissionsBoundary = boundary(u.Boundary)
	}
	return d, nil
}

func groupDetail(tx store.Tx, acct string, g *group) (*api.GroupDetail, error) {
	attached, err := attachedDetails(tx, acct, g.Attached)
	if err != nil {
		return nil, err
	}
	return &api.GroupDetail{
		Path:                    awsapi.String(g.Path),
		GroupName:               awsapi.String(g.Name),
		GroupId:                 awsapi.String(g.ID),
		Arn:                     awsapi.String(groupARN(acct, g.Path, g.Name)),
		CreateDate:              &g.Created,
		GroupPolicyList:         inlineDetails(g.Inline),
		AttachedManagedPolicies: attached,
	}, nil
}

// roleDetail describes r with the instance profiles (of profiles) that hold it.
func roleDetail(tx store.Tx, acct string, r *role, profiles []instanceProfile) (*api.RoleDetail, error) {
	attached, err := attachedDetails(tx, acct, r.Attached)
	if err != nil {
		return nil, err
	}
	d := &api.RoleDetail{
		Path:                     awsapi.String(r.Path),
		RoleName:                 awsapi.String(r.Name),
		RoleId:                   awsapi.String(r.ID),
		Arn:                      awsapi.String(roleARN(acct, r.Path, r.Name)),
		CreateDate:               &r.Created,
		AssumeRolePolicyDocument: awsapi.String(encodePolicy(r.Trust)),
		InstanceProfileList:      []api.InstanceProfile{},
		RolePolicyList:           inlineDetails(r.Inline),
		AttachedManagedPolicies:  attached,
		Tags:                     apiTags(r.Tags),
		// IAM reports no last use for a role it has not seen used: an
		// empty RoleLastUsed, as GetRole answers.
		RoleLastUsed: &api.RoleLastUsed{},
	}
	if r.Boundary != "" {
		d.PermissionsBoundary = boundary(r.Boundary)
	}
	for _, p := range profiles {
		if !slices.ContainsFunc(p.Roles, func(n string) bool { return strings.EqualFold(n, r.Name) }) {
			continue
		}
		ap, err := p.api(tx, acct)
		if err != nil {
			return nil, fmt.Errorf("instance profile %s: %w", p.Name, err)
		}
		d.InstanceProfileList = append(d.InstanceProfileList, *ap)
	}
	return d, nil
}

// detail describes p with every version's document, as
// GetAccountAuthorizationDetails returns managed policies.
func (p *policy) detail(attachments, boundaries int) *api.ManagedPolicyDetail {
	d := &api.ManagedPolicyDetail{
		PolicyName:                    awsapi.String(p.Name),
		PolicyId:                      awsapi.String(p.ID),
		Arn:                           awsapi.String(p.ARN),
		Path:                          awsapi.String(p.Path),
		DefaultVersionId:              awsapi.String(p.Default),
		AttachmentCount:               awsapi.Int32(int32(attachments)),
		PermissionsBoundaryUsageCount: awsapi.Int32(int32(boundaries)),
		IsAttachable:                  awsapi.Bool(true),
		CreateDate:                    &p.Created,
		UpdateDate:                    &p.Updated,
		PolicyVersionList:             []api.PolicyVersion{},
	}
	if p.Description != "" {
		d.Description = awsapi.String(p.Description)
	}
	// Newest version first, as IAM lists them.
	for i := len(p.Versions) - 1; i >= 0; i-- {
		d.PolicyVersionList = append(d.PolicyVersionList, p.apiVersion(&p.Versions[i], true))
	}
	return d
}
