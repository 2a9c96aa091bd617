package iam

import (
	"context"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/iampolicy"
)

// SimulateCustomPolicy decides each action on each resource against the
// given policies, with the evaluator --iam uses.
func (s *Service) SimulateCustomPolicy(ctx context.Context, in *api.SimulateCustomPolicyInput) (*api.SimulateCustomPolicyOutput, error) {
	if len(in.PolicyInputList) == 0 {
		return nil, validationError("policyInputList", "null", "Member must not be null")
	}
	acct := s.account(ctx)
	caller := awsapi.ToString(in.CallerArn)
	if caller == "" {
		caller = "arn:aws:iam::" + acct + ":user/SimulatedUser"
	}
	var ps iampolicy.Policies
	if err := addPolicies(&ps, in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ResourcePolicy); err != nil {
		return nil, err
	}
	return simulate(iampolicy.Principal{ARN: caller, Account: arnAccountOr(caller, acct)}, ps, in.ActionNames, in.ResourceArns,
		awsapi.ToString(in.ResourceOwner), in.ContextEntries)
}

// SimulatePrincipalPolicy decides each action on each resource for a user
// or role, with its policies (and any given ones), as --iam would.
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, in *api.SimulatePrincipalPolicyInput) (*api.SimulatePrincipalPolicyOutput, error) {
	src := awsapi.ToString(in.PolicySourceArn)
	p, err := s.Principal(ctx, src, "")
	if err != nil {
		return nil, err
	}
	if !p.Found {
		return nil, noSuchEntity("PolicySourceArn %s does not exist.", src)
	}
	var ps iampolicy.Policies
	for _, d := range p.Identity {
		if pol, err := iampolicy.Parse(d.Document, iampolicy.Identity); err == nil {
			ps.Identity = append(ps.Identity, iampolicy.Named{Name: d.Name, Policy: pol})
		}
	}
	if p.Boundary != nil {
		pol, err := iampolicy.Parse(p.Boundary.Document, iampolicy.Identity)
		if err != nil {
			pol = &iampolicy.Policy{}
		}
		ps.Boundary = &iampolicy.Named{Name: p.Boundary.Name, Policy: pol}
	}
	if err := addPolicies(&ps, in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ResourcePolicy); err != nil {
		return nil, err
	}
	caller := awsapi.ToString(in.CallerArn)
	if caller == "" {
		caller = src
	}
	pr := iampolicy.Principal{ARN: caller, Account: arnAccountOr(caller, s.account(ctx)), RoleARN: p.RoleARN}
	return simulate(pr, ps, in.ActionNames, in.ResourceArns, awsapi.ToString(in.ResourceOwner), in.ContextEntries)
}

func addPolicies(ps *iampolicy.Policies, identity, boundaries []string, resource *string) error {
	for i, doc := range identity {
		pol, err := iampolicy.Parse(doc, iampolicy.Identity)
		if err != nil {
			return err
		}
		ps.Identity = append(ps.Identity, iampolicy.Named{Name: "PolicyInputList." + strconv.Itoa(i+1), Policy: pol})
	}
	if len(boundaries) > 0 {
		pol, err := iampolicy.Parse(boundaries[0], iampolicy.Identity)
		if err != nil {
			return err
		}
		ps.Boundary = &iampolicy.Named{Name: "PermissionsBoundaryPolicyInputList.1", Policy: pol}
	}
	if resource != nil {
		pol, err := iampolicy.Parse(*resource, iampolicy.Resource)
		if err != nil {
			return err
		}
		ps.Resource = []iampolicy.Named{{Name: "ResourcePolicy", Policy: pol}}
	}
	return nil
}

func simulate(pr iampolicy.Principal, ps iampolicy.Policies, actions, resources []string, owner string, entries []api.ContextEntry) (*api.SimulatePolicyResponse, error) {
	if len(actions) == 0 {
		return nil, validationError("actionNames", "null", "Member must not be null")
	}
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	ctx := iampolicy.Context{}
	for _, e := range entries {
		if e.ContextKeyName != nil {
			ctx.Set(*e.ContextKeyName, e.ContextKeyValues...)
		}
	}
	out := &api.SimulatePolicyResponse{EvaluationResults: []api.EvaluationResult{}, IsTruncated: awsapi.Bool(false)}
	for _, a := range actions {
		for _, r := range resources {
			req := &iampolicy.Request{Principal: pr, Action: a, Resource: r, ResourceAccount: owner, Context: ctx}
			d := iampolicy.Evaluate(req, ps)
			dec := "allowed"
			switch {
			case d.Explicit:
				dec = "explicitDeny"
			case !d.Allowed:
				dec = "implicitDeny"
			}
			out.EvaluationResults = append(out.EvaluationResults, api.EvaluationResult{
				EvalActionName: awsapi.String(a), EvalResourceName: awsapi.String(r), EvalDecision: awsapi.String(dec)})
		}
	}
	return out, nil
}

// arnAccountOr is the account of arn, or def.
func arnAccountOr(arn, def string) string {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && parts[4] != "" {
		return parts[4]
	}
	return def
}
