package iam

import (
	"context"
	"crypto/sha256"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// maxPolicyVersions is IAM's "Versions per managed policy" quota.
const maxPolicyVersions = 5

// awsManaged are the AWS managed policies wharf knows, so that templates
// attaching them (the ECS task execution role's policy above all) work.
// Their documents are simplified to one statement each (--iam enforce
// evaluates them as written here, not as AWS's full documents). The table
// is made on first use, not at startup: most runs never name one.
var awsManaged = sync.OnceValue(func() map[string]*policy {
	created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	all := map[string]string{
		"/AdministratorAccess":                                 "*",
		"/PowerUserAccess":                                     "*",
		"/ReadOnlyAccess":                                      "*:Get*",
		"/AmazonS3FullAccess":                                  "s3:*",
		"/AmazonS3ReadOnlyAccess":                              "s3:Get*",
		"/AmazonSQSFullAccess":                                 "sqs:*",
		"/AmazonSNSFullAccess":                                 "sns:*",
		"/AmazonDynamoDBFullAccess":                            "dynamodb:*",
		"/AmazonEventBridgeFullAccess":                         "events:*",
		"/AmazonECS_FullAccess":                                "ecs:*",
		"/CloudWatchFullAccess":                                "cloudwatch:*",
		"/CloudWatchLogsFullAccess":                            "logs:*",
		"/service-role/AmazonECSTaskExecutionRolePolicy":       "logs:*",
		"/service-role/AmazonEC2ContainerServiceEventsRole":    "ecs:RunTask",
		"/service-role/AmazonEC2ContainerServiceAutoscaleRole": "ecs:UpdateService",
		"/service-role/AWSLambdaBasicExecutionRole":            "logs:*",
	}
	out := map[string]*policy{}
	for full, action := range all {
		i := strings.LastIndex(full, "/")
		path, name := full[:i+1], full[i+1:]
		sum := sha256.Sum256([]byte(full))
		var id strings.Builder
		for _, b := range sum[:17] {
			id.WriteByte(base32Alphabet[b%32])
		}
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%q,"Resource":"*"}]}`, action)
		arn := "arn:aws:iam::aws:policy" + full
		out[arn] = &policy{Name: name, Path: path, ID: prefixPolicy + id.String(), ARN: arn, Created: created, Updated: created,
			Default: "v1", Next: 2, Versions: []policyVersion{{ID: "v1", Document: doc, Created: created}}}
	}
	return out
})

var policyARNPattern = lazyregexp.New(`^arn:aws:iam::(\d{12}|aws):policy(/|/[\x21-\x7E]*/)([\w+=,.@-]+)$`)

// findPolicy resolves a managed policy ARN in acct: a customer managed policy
// of acct or an AWS managed one.
func findPolicy(tx store.Tx, acct, arn string) (*policy, error) {
	m := policyARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return nil, invalidInput("ARN %s is not valid.", arn)
	}
	if m[1] == "aws" {
		if p, ok := awsManaged()[arn]; ok {
			c := *p
			return &c, nil
		}
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	var p policy
	found, err := get(tx, policyKey(m[1], m[3]), &p)
	if err != nil {
		return nil, err
	}
	if !found || m[1] != acct || p.ARN != arn {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return &p, nil
}

func checkPolicyPath(v *string) (string, error) {
	if v == nil {
		return "/", nil
	}
	if ok, _ := regexp.MatchString(`^((/[A-Za-z0-9.,+@=_-]+)*)/$`, *v); !ok || len(*v) > 512 {
		return "", validationError("path", *v, `Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	return *v, nil
}

// attached are the account's users, roles and groups that have arn attached.
type attached struct {
	users  []user
	roles  []role
	groups []group
}

func (a attached) count() int { return len(a.users) + len(a.roles) + len(a.groups) }

// attachments are the account's users, roles and groups that have arn attached.
func attachments(tx store.Tx, acct, arn string) (attached, error) {
	var out attached
	allUsers, err := scan[user](tx, []byte("iam/"+acct+"/user/"))
	if err != nil {
		return out, err
	}
	allRoles, err := scan[role](tx, []byte("iam/"+acct+"/role/"))
	if err != nil {
		return out, err
	}
	allGroups, err := scan[group](tx, []byte("iam/"+acct+"/group/"))
	if err != nil {
		return out, err
	}
	for _, u := range allUsers {
		if slices.Contains(u.Attached, arn) {
			out.users = append(out.users, u)
		}
	}
	for _, r := range allRoles {
		if slices.Contains(r.Attached, arn) {
			out.roles = append(out.roles, r)
		}
	}
	for _, g := range allGroups {
		if slices.Contains(g.Attached, arn) {
			out.groups = append(out.groups, g)
		}
	}
	return out, nil
}

func (p *policy) api(attached int) *api.Policy {
	out := &api.Policy{
		PolicyName:                    awsapi.String(p.Name),
		PolicyId:                      awsapi.String(p.ID),
		Arn:                           awsapi.String(p.ARN),
		Path:                          awsapi.String(p.Path),
		DefaultVersionId:              awsapi.String(p.Default),
		AttachmentCount:               awsapi.Int32(int32(attached)),
		PermissionsBoundaryUsageCount: awsapi.Int32(0),
		IsAttachable:                  awsapi.Bool(true),
		CreateDate:                    &p.Created,
		UpdateDate:                    &p.Updated,
		Tags:                          apiTags(p.Tags),
	}
	if p.Description != "" {
		out.Description = awsapi.String(p.Description)
	}
	return out
}

func (p *policy) version(id string) *policyVersion {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

func (p *policy) apiVersion(v *policyVersion, withDocument bool) api.PolicyVersion {
	out := api.PolicyVersion{VersionId: awsapi.String(v.ID), IsDefaultVersion: awsapi.Bool(v.ID == p.Default), CreateDate: &v.Created}
	if withDocument {
		out.Document = awsapi.String(encodePolicy(v.Document))
	}
	return out
}

// CreatePolicy creates a customer managed policy with version v1.
func (s *Service) CreatePolicy(ctx context.Context, in *api.CreatePolicyInput) (*api.CreatePolicyOutput, error) {
	acct := s.account(ctx)
	name, err := checkName("policyName", in.PolicyName, 128)
	if err != nil {
		return nil, err
	}
	path, err := checkPolicyPath(in.Path)
	if err != nil {
		return nil, err
	}
	doc, err := checkPolicyDocument("policyDocument", in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	id, err := s.ids.id(prefixPolicy)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	p := &policy{Name: name, Path: path, ID: id, ARN: policyARN(acct, path, name), Description: awsapi.ToString(in.Description),
		Created: now, Updated: now, Default: "v1", Next: 2, Tags: tags,
		Versions: []policyVersion{{ID: "v1", Document: doc, Created: now}}}
	err = s.update(func(tx store.Tx) error {
		if b, err := tx.Get(policyKey(acct, name)); err != nil || b != nil {
			if err != nil {
				return err
			}
			return alreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		return put(tx, policyKey(acct, name), p)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePolicyOutput{Policy: p.api(0)}, nil
}

// GetPolicy describes a managed policy, with how many entities it is attached to.
func (s *Service) GetPolicy(ctx context.Context, in *api.GetPolicyInput) (*api.GetPolicyOutput, error) {
	acct := s.account(ctx)
	var out *api.Policy
	err := s.st.View(func(tx store.Tx) error {
		p, err := findPolicy(tx, acct, awsapi.ToString(in.PolicyArn))
		if err != nil {
			return err
		}
		at, err := attachments(tx, acct, p.ARN)
		if err != nil {
			return err
		}
		out = p.api(at.count())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.GetPolicyOutput{Policy: out}, nil
}

// ListPolicies lists managed policies: AWS managed, local (the account's), or
// both; optionally only attached ones, or those under a path.
func (s *Service) ListPolicies(ctx context.Context, in *api.ListPoliciesInput) (*api.ListPoliciesOutput, error) {
	acct := s.account(ctx)
	scope := awsapi.ToString(in.Scope)
	if scope == "" {
		scope = "All"
	}
	if scope != "All" && scope != "AWS" && scope != "Local" {
		return nil, validationError("scope", scope, "Member must satisfy enum value set: [All, AWS, Local]")
	}
	type item struct {
		key string
		p   *api.Policy
	}
	var items []item
	err := s.st.View(func(tx store.Tx) error {
		var ps []*policy
		if scope != "Local" {
			for _, p := range awsManaged() {
				ps = append(ps, p)
			}
		}
		if scope != "AWS" {
			local, err := scan[policy](tx, []byte("iam/"+acct+"/policy/"))
			if err != nil {
				return err
			}
			for i := range local {
				ps = append(ps, &local[i])
			}
		}
		allUsers, err := scan[user](tx, []byte("iam/"+acct+"/user/"))
		if err != nil {
			return err
		}
		allRoles, err := scan[role](tx, []byte("iam/"+acct+"/role/"))
		if err != nil {
			return err
		}
		allGroups, err := scan[group](tx, []byte("iam/"+acct+"/group/"))
		if err != nil {
			return err
		}
		count := map[string]int{}
		for _, g := range allGroups {
			for _, a := range g.Attached {
				count[a]++
			}
		}
		for _, u := range allUsers {
			for _, a := range u.Attached {
				count[a]++
			}
		}
		for _, r := range allRoles {
			for _, a := range r.Attached {
				count[a]++
			}
		}
		for _, p := range ps {
			if !hasPathPrefix(p.Path, in.PathPrefix) || (awsapi.ToBool(in.OnlyAttached) && count[p.ARN] == 0) {
				continue
			}
			a := p.api(count[p.ARN])
			a.Tags = nil // ListPolicies does not return tags (ListPolicies docs)
			items = append(items, item{key: p.ARN, p: a})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.key, b.key) })
	pg, truncated, next, err := page(items, func(i item) string { return i.key }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListPoliciesOutput{Policies: []api.Policy{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, i := range pg {
		out.Policies = append(out.Policies, *i.p)
	}
	return out, nil
}

// loadLocalPolicy resolves arn to a customer managed policy of acct: AWS
// managed policies cannot be changed.
func loadLocalPolicy(tx store.Tx, acct, arn string) (*policy, error) {
	p, err := findPolicy(tx, acct, arn)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(arn, "arn:aws:iam::aws:") {
		return nil, invalidInput("ARN %s is not valid.", arn)
	}
	return p, nil
}

// DeletePolicy deletes a customer managed policy that is attached to nothing
// and has no versions besides its default.
func (s *Service) DeletePolicy(ctx context.Context, in *api.DeletePolicyInput) (*api.DeletePolicyOutput, error) {
	acct := s.account(ctx)
	err := s.update(func(tx store.Tx) error {
		p, err := loadLocalPolicy(tx, acct, awsapi.ToString(in.PolicyArn))
		if err != nil {
			return err
		}
		at, err := attachments(tx, acct, p.ARN)
		if err != nil {
			return err
		}
		if at.count() > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
		if len(p.Versions) > 1 {
			return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return tx.Delete(policyKey(acct, p.Name))
	})
	if err != nil {
		return nil, err
	}
	return &api.DeletePolicyOutput{}, nil
}

// CreatePolicyVersion adds a version to a customer managed policy, optionally
// making it the default.
func (s *Service) CreatePolicyVersion(ctx context.Context, in *api.CreatePolicyVersionInput) (*api.CreatePolicyVersionOutput, error) {
	acct := s.account(ctx)
	doc, err := checkPolicyDocument("policyDocument", in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	var out api.PolicyVersion
	err = s.update(func(tx store.Tx) error {
		p, err := loadLocalPolicy(tx, acct, awsapi.ToString(in.PolicyArn))
		if err != nil {
			return err
		}
		if len(p.Versions) >= maxPolicyVersions {
			return limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := s.clock()
		v := policyVersion{ID: "v" + strconv.Itoa(p.Next), Document: doc, Created: now}
		p.Next++
		p.Versions = append(p.Versions, v)
		if awsapi.ToBool(in.SetAsDefault) {
			p.Default = v.ID
			p.Updated = now
		}
		out = p.apiVersion(&v, false)
		return put(tx, policyKey(acct, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePolicyVersionOutput{PolicyVersion: &out}, nil
}

func versionNotFound(arn, id string) error {
	return noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
}

// GetPolicyVersion returns one version of a managed policy with its document.
func (s *Service) GetPolicyVersion(ctx context.Context, in *api.GetPolicyVersionInput) (*api.GetPolicyVersionOutput, error) {
	acct := s.account(ctx)
	arn, id := awsapi.ToString(in.PolicyArn), awsapi.ToString(in.VersionId)
	var out api.PolicyVersion
	err := s.st.View(func(tx store.Tx) error {
		p, err := findPolicy(tx, acct, arn)
		if err != nil {
			return err
		}
		v := p.version(id)
		if v == nil {
			return versionNotFound(arn, id)
		}
		out = p.apiVersion(v, true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.GetPolicyVersionOutput{PolicyVersion: &out}, nil
}

// ListPolicyVersions lists a managed policy's versions, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, in *api.ListPolicyVersionsInput) (*api.ListPolicyVersionsOutput, error) {
	acct := s.account(ctx)
	var p *policy
	err := s.st.View(func(tx store.Tx) (err error) {
		p, err = findPolicy(tx, acct, awsapi.ToString(in.PolicyArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	vs := slices.Clone(p.Versions)
	slices.Reverse(vs)
	// Keys sort newest first: zero-padded complement of the version number.
	key := func(v policyVersion) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(v.ID, "v"))
		return fmt.Sprintf("%010d", 1<<30-n)
	}
	pg, truncated, next, err := page(vs, key, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListPolicyVersionsOutput{Versions: []api.PolicyVersion{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for i := range pg {
		out.Versions = append(out.Versions, p.apiVersion(&pg[i], false))
	}
	return out, nil
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, in *api.DeletePolicyVersionInput) (*api.DeletePolicyVersionOutput, error) {
	acct := s.account(ctx)
	arn, id := awsapi.ToString(in.PolicyArn), awsapi.ToString(in.VersionId)
	err := s.update(func(tx store.Tx) error {
		p, err := loadLocalPolicy(tx, acct, arn)
		if err != nil {
			return err
		}
		if p.version(id) == nil {
			return versionNotFound(arn, id)
		}
		if id == p.Default {
			return deleteConflict("Cannot delete the default version of a policy.")
		}
		p.Versions = slices.DeleteFunc(p.Versions, func(v policyVersion) bool { return v.ID == id })
		return put(tx, policyKey(acct, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeletePolicyVersionOutput{}, nil
}

// SetDefaultPolicyVersion makes a version the policy's default (effective) one.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *api.SetDefaultPolicyVersionInput) (*api.SetDefaultPolicyVersionOutput, error) {
	acct := s.account(ctx)
	arn, id := awsapi.ToString(in.PolicyArn), awsapi.ToString(in.VersionId)
	err := s.update(func(tx store.Tx) error {
		p, err := loadLocalPolicy(tx, acct, arn)
		if err != nil {
			return err
		}
		if p.version(id) == nil {
			return versionNotFound(arn, id)
		}
		p.Default = id
		p.Updated = s.clock()
		return put(tx, policyKey(acct, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &api.SetDefaultPolicyVersionOutput{}, nil
}
